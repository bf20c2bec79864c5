"""The club service: the agenda (feed or rule), `/intra club`, and reminders posted exactly once.

Exactly once, across restarts and replicas, on each platform: a reminder occurrence is
claimed in the store with a lease before it is posted, one ledger row per target (the
content's channel on Mattermost under the reminder's own key, as before; the Matrix room
under a `matrix:` key). A crashed holder's lease runs out and another process takes
over; before posting again it looks for the marked post in that target's channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.answers.render import club_markdown
from bot.chat import ChatPlatform, Message, PlatformUnavailable, Reply
from bot.clock import Clock, utc_now
from bot.club import agenda, reminders
from bot.club.agenda import FeedError, Occurrence
from bot.club.feed import feed_failure, without_query
from bot.club.targets import ReminderTarget
from bot.content.loader import ContentSource
from bot.content.schedule import ClubTopic

if TYPE_CHECKING:  # SQLAlchemy costs 0.3 s to import: `intra-bot ask` has no store
    from bot.club.claims import Claim
    from bot.store import Store

log = logging.getLogger(__name__)

Fetcher = Callable[[str], Awaitable[bytes]]

LOOKBACK = dt.timedelta(days=8)  # reminders older than this are not even considered
POST_ATTEMPTS = 5


@dataclass
class FeedStatus:
    configured: bool = False
    ok: bool = True
    last_success: str | None = None
    last_error: str = ""
    using: str = "rule"


@dataclass
class ClubService:
    content: ContentSource
    store: Store | None
    owner: str
    # The content's channels, under the legacy keys (Mattermost); further platforms below.
    channel: ChatPlatform | None = None
    targets: list[ReminderTarget] = field(default_factory=list)
    clock: Clock = utc_now
    grace: dt.timedelta = dt.timedelta(hours=6)
    lease: dt.timedelta = dt.timedelta(minutes=2)
    subscribe_url: str = ""
    fetch: Fetcher | None = None
    retry_delay: float = 2.0
    feed_status: FeedStatus = field(default_factory=FeedStatus)
    last_posted: str = ""
    _inflight: set[asyncio.Task[bool]] = field(default_factory=set, repr=False)

    @property
    def club(self) -> ClubTopic:
        return self.content.current.club

    # -- the agenda -----------------------------------------------------------------

    def occurrences(self, now: dt.datetime) -> list[Occurrence]:
        """Club dates around `now`: the feed's when one is configured and usable, else the rule."""
        schedule = self.club.schedule
        start, end = now - LOOKBACK - dt.timedelta(days=1), now + agenda.HORIZON
        self.feed_status.configured = schedule.feed is not None
        if schedule.feed is not None and self.store is not None:
            cached = self.store.get_value(_feed_key(schedule.feed.url))
            if cached is not None:
                try:
                    found = agenda.from_feed(json.loads(cached)["ics"], schedule, start, end)
                    self.feed_status.using = "feed"
                    return found
                except (FeedError, ValueError, KeyError) as error:
                    self.feed_status.ok = False
                    self.feed_status.last_error = str(error)
                    log.error("event=club_feed_unusable error=%r fallback=rule", str(error))
        self.feed_status.using = "rule"
        return agenda.from_rule(schedule, start, end)

    async def refresh_feed(self) -> None:
        """Fetch the feed; keep it only if it parses. On failure the last good copy stays."""
        feed = self.club.schedule.feed
        if feed is None or self.fetch is None or self.store is None:
            return
        now = self.clock()
        try:
            ics = await self.fetch(feed.url)
            agenda.from_feed(ics, self.club.schedule, now - LOOKBACK, now + agenda.HORIZON)
        except Exception as error:  # network errors and invalid feeds alike: keep the last copy
            self.feed_status.ok = False
            # /healthz is unauthenticated: a reason, never the URL (a private feed's carries
            # its token) nor the raw error text; those go to the log, the URL without query.
            self.feed_status.last_error = feed_failure(error)
            log.error(
                "event=club_feed_refresh_failed url=%s reason=%r error=%r",
                without_query(feed.url),
                self.feed_status.last_error,
                f"{error.__class__.__name__}: {error}"[:300].replace(
                    feed.url, without_query(feed.url)
                ),
            )
            return
        text = ics.decode("utf-8", errors="replace")
        await asyncio.to_thread(
            self.store.set_value,
            _feed_key(feed.url),
            json.dumps({"ics": text, "fetched_at": now.isoformat()}),
        )
        self.feed_status.ok = True
        self.feed_status.last_error = ""
        self.feed_status.last_success = now.isoformat()
        log.info("event=club_feed_refreshed url=%s bytes=%d", without_query(feed.url), len(ics))

    def ics(self) -> bytes:
        now = self.clock()
        upcoming = agenda.upcoming(self.occurrences(now), now, count=24)
        return agenda.to_ics(upcoming, name="Club intras", url=self.club.agenda_url)

    async def reply(self, _message: Message, _rest: str) -> Reply:
        """`/intra club`: the next club, the two after it, the agenda, the subscription link."""
        now = self.clock()
        occurrences = await asyncio.to_thread(self.occurrences, now)
        today = now.astimezone(ZoneInfo(self.club.schedule.timezone)).date()
        upcoming = agenda.upcoming(occurrences, now, 3)
        return Reply(club_markdown(self.club, upcoming, self.subscribe_url, today))

    # -- reminders ------------------------------------------------------------------

    def planned(self, now: dt.datetime) -> list[reminders.PlannedReminder]:
        return reminders.plan(self.club, self.occurrences(now))

    def destinations(self) -> list[ReminderTarget]:
        legacy = [ReminderTarget(self.channel)] if self.channel is not None else []
        return legacy + self.targets

    async def sweep(self) -> None:
        """Post what is due (late by less than the grace period); skip, and log, what is older."""
        if self.store is None:
            return
        now = self.clock()
        planned = await asyncio.to_thread(self.planned, now)
        decision = reminders.due(planned, now, self.grace)
        targets = self.destinations()
        states = await asyncio.to_thread(
            self.store.reminder_states,
            [t.key(item) for item in decision.post + decision.skip for t in targets],
        )
        store = self.store
        for item in decision.skip:
            for target in targets:
                key = target.key(item)
                if key not in states and await asyncio.to_thread(
                    store.mark_reminder_skipped, key, self.owner, now
                ):
                    log.warning(
                        "event=reminder_skipped key=%s scheduled=%s late_by=%s grace=%s",
                        key,
                        item.at.isoformat(),
                        now - item.at,
                        self.grace,
                    )
        for item in decision.post:
            waiting = [t for t in targets if states.get(t.key(item)) not in ("posted", "skipped")]
            if waiting:
                await self.fire(item, waiting)

    async def fire_key(self, key: str) -> None:
        """The scheduler's entry point: post the reminder `key` if it is due now."""
        now = self.clock()
        planned = await asyncio.to_thread(self.planned, now)
        for item in reminders.due(planned, now, self.grace).post:
            if item.key == key:
                await self.fire(item)
                return
        log.info("event=reminder_not_due key=%s", key)

    async def fire(
        self, item: reminders.PlannedReminder, targets: list[ReminderTarget] | None = None
    ) -> bool:
        """Claim, then post with retries, on each target at once. True if this call posted
        it somewhere.

        Targets are independent (one may be down while the other posts). Shielded: a
        shutdown that cancels the scheduler's job lets the posts and their records finish
        (`drain`), instead of leaving a posted reminder merely "claimed".
        """
        chosen = self.destinations() if targets is None else targets
        tasks = [asyncio.create_task(self._fire(item, target)) for target in chosen]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        posted = await asyncio.shield(asyncio.gather(*tasks))
        return any(posted)

    async def drain(self) -> None:
        """Wait for the reminders being posted (graceful stop)."""
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _fire(self, item: reminders.PlannedReminder, target: ReminderTarget) -> bool:
        store, channel = self.store, target.platform
        if store is None:
            return False
        key, room = target.key(item), target.channel(item)
        if not channel.ready:
            # Not claimed: the sweep that runs when the platform connects posts it.
            log.info("event=reminder_waiting_platform key=%s", key)
            return False
        now = self.clock()
        claim = await asyncio.to_thread(store.claim_reminder, key, self.owner, now, self.lease)
        if claim is None:  # posted, skipped, or another replica's lease still runs
            log.info("event=reminder_held_elsewhere key=%s owner=%s", key, self.owner)
            return False
        log.info(
            "event=reminder_claimed key=%s owner=%s takeover=%s platform=%s",
            key,
            self.owner,
            claim.takeover,
            channel.name,
        )
        marker = f"reminder:{key}"
        if claim.takeover:
            since = claim.claimed_at - dt.timedelta(minutes=1)
            for attempt in range(1, POST_ATTEMPTS + 1):
                try:
                    existing = await channel.find_marked(room, marker, since)
                    break
                except PlatformUnavailable as error:
                    # Not connected yet (a replica just started): it will be, soon.
                    if not await self._wait_to_retry(claim, attempt, "check", error):
                        return False
                except Exception as error:
                    # Cannot tell whether it went out: a later sweep retries once the lease ends.
                    log.error("event=reminder_check_failed key=%s error=%r", key, str(error)[:200])
                    return False
            else:
                return False
            if existing:
                await asyncio.to_thread(store.mark_reminder_posted, claim, existing, self.clock())
                log.info("event=reminder_found_already_posted key=%s post_id=%s", key, existing)
                return False
        text = reminders.render(item, self.club, subscribe_url=self.subscribe_url)
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                post_id = await channel.post_marked(room, text, marker)
            except Exception as error:  # any chat failure: retry, then leave it to a takeover
                if not await self._wait_to_retry(claim, attempt, "post", error):
                    return False
                continue
            await asyncio.to_thread(store.mark_reminder_posted, claim, post_id, self.clock())
            self.last_posted = key
            log.info(
                "event=reminder_posted key=%s post_id=%s platform=%s channel=%s late_s=%.3f",
                key,
                post_id,
                channel.name,
                room,
                (self.clock() - item.at).total_seconds(),
            )
            return True
        return False

    async def _wait_to_retry(self, claim: Claim, attempt: int, what: str, error: Exception) -> bool:
        """Keep the claim a while longer and wait before attempt `attempt + 1`.

        False when there is none left, or when our lease ran out and another replica took
        over (it posts, not us); the claim then stays for a later sweep's takeover.
        """
        delay = self.retry_delay * 2 ** (attempt - 1)
        log.warning(
            "event=reminder_%s_failed key=%s attempt=%d error=%r retry_in=%.0f",
            what,
            claim.key,
            attempt,
            str(error)[:200],
            delay,
        )
        if attempt == POST_ATTEMPTS or self.store is None:
            return False
        until = self.clock() + self.lease + dt.timedelta(seconds=delay)
        if not await asyncio.to_thread(self.store.extend_reminder_lease, claim, until):
            log.warning("event=reminder_claim_lost key=%s owner=%s", claim.key, self.owner)
            return False
        await asyncio.sleep(delay)
        return True


def _feed_key(url: str) -> str:
    return f"club_feed:{url}"
