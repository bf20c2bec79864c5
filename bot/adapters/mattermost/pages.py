"""Reading a channel's posts back from the newest, a page at a time, down to a moment.

Not `GET /channels/{id}/posts?since=`: for that one the server reads at most 1000 posts
*updated* since the moment, in no order (`SqlPostStore.GetPostsSince`: `LIMIT 1000`
without `ORDER BY`), so in a busy channel it returns the oldest and leaves out the
newest, the very posts a catch-up must answer and a retry looks for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

JSON = dict[str, Any]

PAGE_SIZE = 200  # the most posts Mattermost gives in one page
# The most posts read back in one channel (25 pages): a catch-up after a day away in a
# very busy channel, or a retry's look for its earlier copy, stays a bounded read.
LIMIT = 5000


async def read_back(
    fetch: Callable[[JSON], Awaitable[JSON]], since_ms: int, limit: int = LIMIT
) -> list[JSON]:
    """The posts created at `since_ms` or later, newest first, at most `limit`.

    `fetch(params)` answers `GET /channels/{id}/posts` with those query parameters. The
    next page is asked `before` the oldest post seen, not by page number, so posts made
    meanwhile do not shift the pages under the reader. Deleted posts are not listed.
    """
    posts: list[JSON] = []
    params: JSON = {"per_page": PAGE_SIZE, "skipFetchThreads": "true"}
    while True:
        data = await fetch(dict(params))
        order = [str(post_id) for post_id in data.get("order") or []]
        found = data.get("posts") or {}
        # `posts` may also hold the roots of the page's threads: only its own are listed.
        page = sorted(
            (found[post_id] for post_id in order if post_id in found),
            key=lambda post: int(post.get("create_at") or 0),
            reverse=True,
        )
        for post in page:
            if int(post.get("create_at") or 0) < since_ms:
                return posts
            if len(posts) == limit:
                log.warning("event=posts_read_back_capped since=%d limit=%d", since_ms, limit)
                return posts
            posts.append(post)
        if len(order) < PAGE_SIZE or not page:
            return posts
        params["before"] = str(page[-1]["id"])
