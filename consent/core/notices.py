"""Notices of a material change: an owner publishes a version that changes what visitors were told (Quadient's
statement: "a notice ... for 30 days") and returning visitors are told so, in their language, for that long."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import language as lang

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ChangeNotice:
    message: dict[str, str]  # language tag -> the owner's words
    days: int = DEFAULT_DAYS
    published_at: datetime | None = field(default=None, compare=False)

    def until(self) -> datetime:
        assert self.published_at is not None, "a notice runs from its publication"
        return self.published_at + timedelta(days=self.days)

    def active(self, now: datetime) -> bool:
        return self.published_at is not None and self.published_at <= now < self.until()

    def shown(self, language: str, default: str) -> dict[str, str]:
        """What the banner carries while the notice runs."""
        return {
            "message": lang.pick(self.message, language, default) or "",
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "until": self.until().isoformat(timespec="seconds"),
        }
