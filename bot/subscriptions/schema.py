"""The subscriptions' table: one row per person, platform and kind, kept only while active.

A row is an active subscription: `/intra club stop` deletes it. `token` names the
person's calendar links (`/abonnements/<token>/…ics`): random, so that nobody finds
another person's link, and gone with the subscription. `kind` "newcomer" is the pending
follow-up of someone welcomed, dropped once sent.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, PrimaryKeyConstraint, String, Table

from bot.schema import UtcDateTime, metadata

CLUB, CERTIFICATION, NEWCOMER = "club", "certification", "newcomer"
# The kinds people subscribe to themselves (`/intra mes-abonnements` lists them).
CHOSEN_KINDS = (CLUB, CERTIFICATION)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("platform", "user_id", "kind"),
)
Index("subscriptions_by_kind", subscriptions.c.kind)

# What each club subscriber was told of an occurrence: its start, or that it was cancelled
# (`start` null). A later move or cancellation is then told to them once. Deleted with the
# subscription, and once the occurrence is past.
club_told = Table(
    "subscription_club_told",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("user_id", String(255), nullable=False),
    Column("occurrence", String(200), nullable=False),
    Column("start", UtcDateTime(), nullable=True),
    Column("told_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("platform", "user_id", "occurrence"),
)
