"""Numbers as the digest prints them: exact integers (no "1,2 M": every figure can be checked),
French separators, week-on-week changes rounded half away from zero."""

from __future__ import annotations

import math

NBSP = "\u00a0"  # a plain no-break space: the narrow one is missing from some mail clients' fonts


def fmt_int(value: int | float | None) -> str:
    """``1234567`` → ``"1 234 567"`` (no-break spaces)."""
    if value is None:
        return "—"
    return f"{round(value):,}".replace(",", NBSP)


def round_half_away(value: float) -> int:
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def pct_change(current: int, previous: int) -> int | None:
    """Week-on-week change in whole percent; None when there was nothing before."""
    if previous == 0:
        return None
    return round_half_away((current - previous) * 100 / previous)


def fmt_delta(current: int, previous: int) -> str:
    """``"+25 %"``, ``"-40 %"``, ``"="``, or ``"nouveau"`` when the previous week had none."""
    if previous == 0:
        return "nouveau" if current else "="
    change = pct_change(current, previous)
    if change == 0:
        return "="
    return f"{change:+d}{NBSP}%"


def share(part: int, total: int) -> int:
    """``part`` of ``total`` in whole percent (0 when total is 0)."""
    return round_half_away(part * 100 / total) if total else 0


def fmt_share(part: int, total: int) -> str:
    return f"{share(part, total)}{NBSP}%"


def fmt_ratio(current: int, previous: int) -> str:
    """``×3`` or ``×2,5`` (previous counted as at least 1)."""
    ratio = current / max(previous, 1)
    text = f"{ratio:.1f}".replace(".", ",").removesuffix(",0")
    return f"×{text}"
