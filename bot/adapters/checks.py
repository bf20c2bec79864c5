"""One line of `intra-bot setup`'s report, whatever the platform: what was checked, the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""

    def __str__(self) -> str:
        return f"ok    {self.what}" if self.ok else f"FAIL  {self.what}\n      fix: {self.fix}"
