"""One person's invitation requests and decisions, and a referent's pinned account,
exported or erased (`intra-bot forget`).

As a requester: an open request is deleted (withdrawn, as if never made); a decided one
is anonymised (no id, name, message, reason or notice left) so that the figures of
`/intra stats` still count it. As a referent: their name and id are removed from the
decisions they took. The outbox rows about their requests carry the requests' ids: they
are given to the outbox's keeper as the person's `refs`. A referent's pin (their username
and user id, bot/invitations/referents.py) is deleted: remove them from
content/referents.yaml too, or the next `intra-bot setup` pins them again.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update

from bot.invitations.referents import referent_accounts
from bot.invitations.schema import ACCEPTED, DECLINED, ensure_schema, invitations
from bot.personal_data.model import Outcome, Person, Rows, plain
from bot.schema import create_tables
from bot.store import Store

# What an anonymised request keeps as its requester: no one, and never an open request's id.
FORGOTTEN = "forgotten:"

_DECIDER_FIELDS = ("id", "number", "platform", "state", "decided_at", "decided_by", "decided_by_id")


class InvitationsKeeper:
    name = "invitations"

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        ensure_schema(self._engine)

    async def known_as(self, person: Person) -> Person:
        c = invitations.c
        with self._engine.connect() as connection:
            asked = connection.execute(
                select(c.id, c.requester_id, c.requester_username).where(
                    or_(c.requester_id.in_(person.ids), c.requester_username.in_(person.usernames))
                )
            ).all()
            decided = connection.execute(
                select(c.decided_by_id, c.decided_by).where(
                    or_(c.decided_by_id.in_(person.ids), c.decided_by.in_(person.usernames)),
                    c.decided_by_id != "",
                )
            ).all()
        return person.knowing(
            ids=[str(r[1]) for r in asked] + [str(r[0]) for r in decided],
            usernames=[str(r[2]) for r in asked] + [str(r[1]) for r in decided],
            refs=[str(r[0]) for r in asked],
        )

    async def export(self, person: Person) -> dict[str, Rows]:
        c = invitations.c
        with self._engine.connect() as connection:
            asked = connection.execute(
                select(invitations).where(c.requester_id.in_(person.ids)).order_by(c.created_at)
            ).all()
            decided = connection.execute(
                select(*(c[name] for name in _DECIDER_FIELDS))
                .where(c.decided_by_id.in_(person.ids), c.requester_id.not_in(person.ids))
                .order_by(c.decided_at)
            ).all()
        # A decision by them on someone else's request: only what is theirs, not the request.
        return {
            "invitations": [plain(row._mapping) for row in asked],
            "invitation_decisions": [plain(row._mapping) for row in decided],
        }

    async def forget(self, person: Person) -> list[Outcome]:
        c = invitations.c
        mine = c.requester_id.in_(person.ids)
        with self._engine.begin() as connection:
            withdrawn = connection.execute(
                invitations.delete().where(mine, c.state.not_in([ACCEPTED, DECLINED]))
            ).rowcount
            anonymised = connection.execute(
                update(invitations)
                .where(mine)
                .values(
                    requester_id=FORGOTTEN + c.id,
                    requester_username="",
                    message="",
                    reason="",
                    notices="[]",
                )
            ).rowcount
            # Only finished decisions: an "accepting" one is still held by its referent's id.
            unsigned = connection.execute(
                update(invitations)
                .where(c.decided_by_id.in_(person.ids), c.state.in_([ACCEPTED, DECLINED]))
                .values(decided_by="", decided_by_id="")
            ).rowcount
        return [
            Outcome("invitations", int(withdrawn or 0), "open requests deleted"),
            Outcome(
                "invitations", int(anonymised or 0), "decided requests anonymised (kept for counts)"
            ),
            Outcome("invitations", int(unsigned or 0), "decisions taken by them unsigned"),
        ]


class ReferentPinsKeeper:
    """The account -> user id pins of the deciding referents (table referent_accounts)."""

    name = "referent_accounts"

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        create_tables(self._engine, [referent_accounts])

    async def known_as(self, person: Person) -> Person:
        c = referent_accounts.c
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(c.account, c.user_id).where(
                    or_(
                        c.user_id.in_(person.ids),
                        c.account.in_(person.usernames | {f"@{u}" for u in person.usernames}),
                    )
                )
            ).all()
        return person.knowing(
            ids=[str(r[1]) for r in rows], usernames=[str(r[0]).lstrip("@") for r in rows]
        )

    async def export(self, person: Person) -> dict[str, Rows]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(referent_accounts).where(referent_accounts.c.user_id.in_(person.ids))
            ).all()
        return {"referent_accounts": [plain(row._mapping) for row in rows]}

    async def forget(self, person: Person) -> list[Outcome]:
        with self._engine.begin() as connection:
            deleted = connection.execute(
                referent_accounts.delete().where(referent_accounts.c.user_id.in_(person.ids))
            ).rowcount
        return [
            Outcome(
                "referent_accounts",
                int(deleted or 0),
                "referent pins deleted (take them out of content/referents.yaml too)",
            )
        ]
