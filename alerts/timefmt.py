"""Durations in rule files, and times and numbers as a French-speaking person reads them.

Every datetime here is timezone-aware; the engine computes in UTC and people see
Africa/Casablanca (``Settings.timezone``), never UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"`` or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m', '2h' or '7d'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise ValueError(f"expected a duration like '15m', '2h' or '7d', got {value!r}")


def format_duration(delta: timedelta | float) -> str:
    """``timedelta(hours=3, minutes=5)`` → ``"3 h 05"``; under an hour → ``"42 min"``."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    if seconds >= 2 * 86400:
        days, rest = divmod(seconds, 86400)
        return f"{days} j {rest // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"
    return f"{max(seconds // 60, 1)} min"


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: every time in Sada carries a time zone")
    return dt.astimezone(tz)


def format_time(dt: datetime, tz: ZoneInfo) -> str:
    """``"14 h 05"`` in the people's time zone."""
    t = local(dt, tz)
    return f"{t.hour} h {t.minute:02d}"


def format_datetime(dt: datetime, tz: ZoneInfo, *, with_zone: bool = True) -> str:
    """``"mardi 10 novembre 2026 à 14 h 05 (heure de Casablanca)"``."""
    t = local(dt, tz)
    text = f"{_DAYS[t.weekday()]} {t.day} {_MONTHS[t.month - 1]} {t.year} à {t.hour} h {t.minute:02d}"
    if with_zone:
        city = tz.key.split("/")[-1].replace("_", " ")
        text += f" (heure de {city})"
    return text


def format_short(dt: datetime, tz: ZoneInfo) -> str:
    """``"10/11 14:05"`` for tables."""
    t = local(dt, tz)
    return f"{t.day:02d}/{t.month:02d} {t.hour:02d}:{t.minute:02d}"


def weekday_fr(dt: datetime, tz: ZoneInfo) -> str:
    return _DAYS[local(dt, tz).weekday()]


def format_number(value: float | int | None, digits: int = 1) -> str:
    """French notation: ``9.5`` → ``"9,5"``; ``12000`` → ``"12 000"``; ``1.2e6`` → ``"1,2 M"``."""
    if value is None:
        return "—"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}".replace(".", ",") + " M"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{round(value):,}".replace(",", "\u202f")
    return f"{value:.{digits}f}".replace(".", ",")
