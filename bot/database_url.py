"""A database URL is a secret: it may carry a password (`user:pass@`, `?password=`)."""

from __future__ import annotations

import re

_SECRET_QUERY = re.compile(r"([?&][^=&]*(?:pass|secret|token|key)[^=&]*=)[^&]*", re.IGNORECASE)


def masked(url: str) -> str:
    """The URL without its password, for logs and errors: `user:***@` and every secret
    query parameter (`?password=…`, libpq's `sslpassword`, a token) masked."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        url = f"{scheme}://{user}:***@{host}"
    return _SECRET_QUERY.sub(r"\1***", url)


class DatabaseUrl(str):
    """A `str` wherever it is used (SQLAlchemy, mautrix, comparisons), but its repr, which a
    printed settings object, an error or a traceback's locals would show, is masked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(masked(self))
