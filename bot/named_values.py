"""The store's named values (`kv_values`) by prefix: listed, forgotten, purged when stale.

`Store.get_value`/`set_value` read and write one name; the owners of a family of names
(`matrix.dm:…`, `matrix.choices:…`) use these to find or drop several at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from bot.schema import values
from bot.store import Store


@dataclass(frozen=True)
class NamedValue:
    name: str
    value: str
    updated_at: datetime


def with_prefix(store: Store, prefix: str) -> list[NamedValue]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(values.c.name, values.c.value, values.c.updated_at)
            .where(values.c.name.startswith(prefix, autoescape=True))
            .order_by(values.c.name)
        ).all()
    return [NamedValue(str(name), str(value), stamp) for name, value, stamp in rows]


def forget(store: Store, names: Iterable[str]) -> int:
    """Delete these names; how many existed."""
    wanted = list(names)
    if not wanted:
        return 0
    with store.engine.begin() as connection:
        result = connection.execute(delete(values).where(values.c.name.in_(wanted)))
    return int(result.rowcount or 0)


def forget_before(store: Store, prefix: str, cutoff: datetime) -> int:
    """Delete the names under `prefix` last written before `cutoff`; how many."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(values).where(
                values.c.name.startswith(prefix, autoescape=True), values.c.updated_at < cutoff
            )
        )
    return int(result.rowcount or 0)
