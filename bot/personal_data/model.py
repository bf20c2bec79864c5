"""Who a person is in the store, and what a feature's keeper of personal data does.

A person is named on the command line by a Mattermost user id, a Mattermost username or a
Matrix id (MXID). No platform is asked: the store itself links a username to its ids (an
invitation records both, so does a referent's pin), and each keeper then looks for every id
and username it knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

# Matrix: @localpart:server. Mattermost: a 26-character lowercase id, or a username.
MXID = re.compile(r"^@[^:\s]+:\S+$")
MATTERMOST_ID = re.compile(r"^[a-z0-9]{26}$")
USERNAME = re.compile(r"^@?[A-Za-z0-9._-]{1,64}$")

Rows = list[dict[str, Any]]


class BadPerson(ValueError):
    """The argument names nobody the store can find; the message says what to give instead."""


@dataclass(frozen=True)
class Person:
    """Everything a person is known by in the store.

    `refs` are the ids of records about them that other tables point to (their
    invitations' ids, which the outbox's rows about those requests carry)."""

    given: str
    ids: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    refs: frozenset[str] = field(default=frozenset())

    def knowing(
        self, ids: Iterable[str] = (), usernames: Iterable[str] = (), refs: Iterable[str] = ()
    ) -> Person:
        return replace(
            self,
            ids=self.ids | {i for i in ids if i},
            usernames=self.usernames | {u for u in usernames if u},
            refs=self.refs | {r for r in refs if r},
        )

    def summary(self) -> dict[str, Any]:
        return {
            "given": self.given,
            "ids": sorted(self.ids),
            "usernames": sorted(self.usernames),
        }


def parse_person(text: str) -> Person:
    """The person named by `text`: an MXID, a Mattermost id or a Mattermost username."""
    given = text.strip()
    if MXID.match(given):  # on Matrix the username is the id
        return Person(given, frozenset({given}), frozenset({given}))
    if MATTERMOST_ID.match(given):  # never a username: Mattermost's are 22 characters at most
        return Person(given, frozenset({given}))
    if USERNAME.match(given):
        return Person(given, usernames=frozenset({given.lstrip("@")}))
    raise BadPerson(
        f"'{text}' is neither a Mattermost user id (26 lowercase letters and digits), "
        "a Mattermost username, nor a Matrix id (@name:server)"
    )


@dataclass(frozen=True)
class Outcome:
    """What `forget` did to one table: `count` rows, `what` happened to them."""

    table: str
    count: int
    what: str

    def line(self) -> str:
        return f"{self.table}: {self.count} {self.what}"


class Keeper(Protocol):
    """A feature's view of one person's data in the tables it owns."""

    name: str  # the heading of its part of an export

    async def known_as(self, person: Person) -> Person:
        """`person` with the other ids, usernames and refs this feature's tables link to it."""
        ...

    async def export(self, person: Person) -> dict[str, Rows]:
        """Table name -> the person's rows, as plain JSON-ready values."""
        ...

    async def forget(self, person: Person) -> list[Outcome]:
        """Erase or anonymise the person's rows; what was done, per table."""
        ...


def plain(data: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as JSON takes it: dates in ISO 8601."""
    return {
        str(key): value.isoformat() if isinstance(value, datetime) else value
        for key, value in data.items()
    }


async def resolve(text: str, keepers: Sequence[Keeper]) -> Person:
    """The person `text` names, with everything the keepers link to them (two rounds:
    a username found with an id, then what that id leads to)."""
    person = parse_person(text)
    for _round in range(2):
        for keeper in keepers:
            person = await keeper.known_as(person)
    if not person.ids:
        raise BadPerson(
            f"no user id is known for the username '{person.given}' in the store (only an "
            "invitation request or decision, or a referent's pin, links one to an id): give "
            "the person's Mattermost user id instead (System Console > Users, or `mmctl user search`)"
        )
    return person


async def export_all(person: Person, keepers: Sequence[Keeper]) -> dict[str, Any]:
    records: dict[str, Rows] = {}
    for keeper in keepers:
        for table, rows in (await keeper.export(person)).items():
            records.setdefault(table, []).extend(rows)
    return {"person": person.summary(), "records": records}


async def forget_all(person: Person, keepers: Sequence[Keeper]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for keeper in keepers:
        outcomes.extend(await keeper.forget(person))
    return outcomes
