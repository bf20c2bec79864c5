"""The certification topic's model: its sections, and the next session when one is published.

Apart from the other topics because only the certification has sessions. Validation
messages are in French, like the rest of `bot.content.models`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from bot.content.models import Strict, Text, Topic, Url


class CertificationSession(Strict):
    """A session open for sign-up: its subscribers are told once, then before the deadline."""

    title: Text = Field(description="« Session de mai 2027 »")
    starts: dt.date = Field(description="the session's first day")
    ends: dt.date | None = Field(None, description="its last day, if known")
    signup_url: Url
    deadline: dt.date = Field(description="the last day to sign up")

    @model_validator(mode="after")
    def _ordered(self) -> CertificationSession:
        if self.ends is not None and self.ends < self.starts:
            raise ValueError("la fin de la session (ends) doit être après son début (starts)")
        if self.deadline > (self.ends or self.starts):
            raise ValueError(
                "la date limite d'inscription (deadline) doit être au plus tard le dernier "
                "jour de la session"
            )
        return self

    @property
    def key(self) -> str:
        """Its identity: a session published again with another start is another session."""
        return self.starts.isoformat()


class CertificationTopic(Topic):
    session: CertificationSession | None = None
