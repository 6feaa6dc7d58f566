"""ISO weeks in the people's time zone: what "the week of the digest" means.

A week runs from Monday 00:00 to the next Monday 00:00 *local time* (Africa/Casablanca). Each
bound is built from the local calendar date, never by adding 7 × 24 h, because Morocco moves its
clock around Ramadan: a week may last 167 or 169 hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sada.errors import ConfigError

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")


@dataclass(frozen=True)
class IsoWeek:
    """One ISO week (``2026-W47``) and its bounds in a time zone."""

    year: int
    week: int
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> IsoWeek:
        """``2026-W47`` (or ``2026W47``) → IsoWeek; ConfigError for anything else."""
        match = _WEEK.match(text or "")
        if not match:
            raise ConfigError(f"not an ISO week: {text!r}", hint="write it like 2026-W47")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise ConfigError(f"{year} has no ISO week {week}", hint="ISO years have 52 or 53 weeks") from exc
        return cls(year, week, tz)

    @classmethod
    def containing(cls, when: datetime, tz: ZoneInfo) -> IsoWeek:
        """The week ``when`` falls in, in local time."""
        if when.tzinfo is None:
            raise ValueError("naive datetime: every time in Sada carries a time zone")
        year, week, _ = when.astimezone(tz).isocalendar()
        return cls(year, week, tz)

    @classmethod
    def before(cls, when: datetime, tz: ZoneInfo) -> IsoWeek:
        """The last complete week before ``when``: what a Monday-morning digest covers."""
        return cls.containing(when, tz).previous()

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """Monday 00:00, local time (inclusive)."""
        return datetime.combine(self.monday, time(0), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00, local time (exclusive)."""
        return datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=self.tz)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def previous(self) -> IsoWeek:
        year, week, _ = (self.monday - timedelta(days=7)).isocalendar()
        return IsoWeek(year, week, self.tz)

    def next(self) -> IsoWeek:
        year, week, _ = (self.monday + timedelta(days=7)).isocalendar()
        return IsoWeek(year, week, self.tz)

    def span_fr(self) -> str:
        """``du lundi 16 au dimanche 22 novembre 2026`` (months and years only where they change)."""
        a, b = self.monday, self.sunday
        if a.year != b.year:
            first = f"{a.day} {_MONTHS[a.month - 1]} {a.year}"
        elif a.month != b.month:
            first = f"{a.day} {_MONTHS[a.month - 1]}"
        else:
            first = f"{a.day}"
        return f"du lundi {first} au dimanche {b.day} {_MONTHS[b.month - 1]} {b.year}"

    def __str__(self) -> str:
        return self.label
