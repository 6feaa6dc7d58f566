"""Event-time counters: 5-minute buckets for recent data, hourly buckets for the baseline history.

A ``Series`` counts mentions by publication time. Recent buckets also keep the top mentions by
reach (to show and link) and, for rules whose surges another alert may explain, how many of
their mentions carry each combination of *tags* ("rumor|cluster-42", "toxicity|all"): the engine
can then ask "would this surge still be a surge without the mentions of that open alert?".

Everything serialises to plain JSON lists, so the engine snapshot is portable and compact.
"""

from __future__ import annotations

import bisect
from typing import Any

BUCKET = 300
HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
PER_HOUR = HOUR // BUCKET


def bucket_of(ts: float) -> int:
    return int(ts // BUCKET)


class Series:
    """Counts by 5-minute bucket (recent) and by hour (older), plus top refs and tag counts."""

    __slots__ = ("fine", "coarse", "refs", "tags", "fine_hours")

    def __init__(self) -> None:
        self.fine: dict[int, int] = {}
        self.coarse: dict[int, int] = {}
        self.refs: dict[int, list[tuple[int, str]]] = {}  # ascending by (reach, id); capped
        self.tags: dict[int, dict[str, int]] = {}
        self.fine_hours: dict[int, int] = {}  # per hour, the sum of its fine buckets (derived)

    # -- writing --------------------------------------------------------------------------

    def add(self, ts: float, *, fine_from: float, ref: tuple[int, str] | None = None, tagset: str = "",
            keep_refs: int = 10, track_tags: bool = False) -> None:
        """Count one mention at event time ``ts``; older than ``fine_from`` goes to the hourly history."""
        if ts < fine_from:
            h = int(ts // HOUR)
            self.coarse[h] = self.coarse.get(h, 0) + 1
            return
        b = bucket_of(ts)
        self.fine[b] = self.fine.get(b, 0) + 1
        h = b // PER_HOUR
        self.fine_hours[h] = self.fine_hours.get(h, 0) + 1
        if ref is not None and keep_refs:
            top = self.refs.setdefault(b, [])
            if len(top) < keep_refs or ref > top[0]:
                bisect.insort(top, ref)
                if len(top) > keep_refs:
                    del top[0]
        if track_tags:
            counts = self.tags.setdefault(b, {})
            counts[tagset] = counts.get(tagset, 0) + 1

    def compact(self, now: float, *, fine_keep: float, keep: float, refs_keep: float) -> None:
        """Fold buckets older than ``fine_keep`` into hours; forget what is older than ``keep``."""
        cutoff_hour = int((now - fine_keep) // HOUR)
        cutoff_bucket = cutoff_hour * PER_HOUR
        for b in [b for b in self.fine if b < cutoff_bucket]:
            h = b // PER_HOUR
            n = self.fine.pop(b)
            self.coarse[h] = self.coarse.get(h, 0) + n
            left = self.fine_hours.get(h, 0) - n
            if left > 0:
                self.fine_hours[h] = left
            else:
                self.fine_hours.pop(h, None)
        oldest_hour = int((now - keep) // HOUR)
        for h in [h for h in self.coarse if h < oldest_hour]:
            del self.coarse[h]
        refs_from = bucket_of(now - refs_keep)
        for store in (self.refs, self.tags):
            for b in [b for b in store if b < refs_from]:
                del store[b]

    # -- reading --------------------------------------------------------------------------

    def count(self, b0: int, b1: int) -> int:
        """Exact count over fine buckets ``b0..b1`` inclusive (the current window)."""
        fine = self.fine
        return sum(fine.get(b, 0) for b in range(b0, b1 + 1))

    def tagged(self, b0: int, b1: int, open_tags: frozenset[str]) -> tuple[int, dict[str, int]]:
        """Mentions in ``b0..b1`` that carry any of ``open_tags``, and the count per tag."""
        if not open_tags:
            return 0, {}
        total, per_tag = 0, {}
        for b in range(b0, b1 + 1):
            for tagset, n in self.tags.get(b, {}).items():
                if not tagset:
                    continue
                hit = [t for t in tagset.split(",") if t in open_tags]
                if hit:
                    total += n
                    for t in hit:
                        per_tag[t] = per_tag.get(t, 0) + n
        return total, per_tag

    def approx(self, start: float, end: float) -> float:
        """Count over ``[start, end)`` from history, pro rata for partly covered buckets."""
        if end <= start:
            return 0.0
        total = 0.0
        coarse, fine, fine_hours = self.coarse, self.fine, self.fine_hours
        h0, h1 = int(start // HOUR), int((end - 1e-9) // HOUR)
        for h in range(h0, h1 + 1):
            lo, hi = h * HOUR, (h + 1) * HOUR
            whole = start <= lo and hi <= end
            n = coarse.get(h)
            if n:
                total += n if whole else n * (min(end, hi) - max(start, lo)) / HOUR
            if h not in fine_hours:
                continue
            if whole:
                total += fine_hours[h]
                continue
            for b in range(max(bucket_of(start), h * PER_HOUR), min(bucket_of(end - 1e-9), (h + 1) * PER_HOUR - 1) + 1):
                c = fine.get(b)
                if c:
                    total += c * (min(end, (b + 1) * BUCKET) - max(start, b * BUCKET)) / BUCKET
        return total

    def top(self, b0: int, b1: int, k: int) -> list[tuple[int, str]]:
        """The ``k`` refs with the highest reach over ``b0..b1``, highest first."""
        merged: list[tuple[int, str]] = []
        for b in range(b0, b1 + 1):
            merged.extend(self.refs.get(b, ()))
        merged.sort(reverse=True)
        seen: set[str] = set()
        out = []
        for ref in merged:
            if ref[1] not in seen:
                seen.add(ref[1])
                out.append(ref)
            if len(out) >= k:
                break
        return out

    def ref_ids(self) -> set[str]:
        return {rid for top in self.refs.values() for _, rid in top}

    def empty(self) -> bool:
        return not (self.fine or self.coarse)

    # -- state ----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"f": sorted(self.fine.items()), "c": sorted(self.coarse.items())}
        if self.refs:
            out["r"] = [[b, [list(r) for r in top]] for b, top in sorted(self.refs.items())]
        if self.tags:
            out["t"] = [[b, counts] for b, counts in sorted(self.tags.items())]
        return out

    @classmethod
    def load(cls, data: dict[str, Any]) -> Series:
        s = cls()
        s.fine = {int(b): int(n) for b, n in data.get("f", [])}
        for b, n in s.fine.items():
            s.fine_hours[b // PER_HOUR] = s.fine_hours.get(b // PER_HOUR, 0) + n
        s.coarse = {int(h): int(n) for h, n in data.get("c", [])}
        s.refs = {int(b): [(int(r), str(i)) for r, i in top] for b, top in data.get("r", [])}
        s.tags = {int(b): {str(k): int(v) for k, v in counts.items()} for b, counts in data.get("t", [])}
        return s


class Keyed:
    """A Series per key (per myth, per source, per keyword...)."""

    __slots__ = ("series",)

    def __init__(self) -> None:
        self.series: dict[str, Series] = {}

    def get(self, key: str) -> Series:
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = Series()
        return s

    def peek(self, key: str) -> Series | None:
        return self.series.get(key)

    def compact(self, now: float, **kw: float) -> None:
        for key in list(self.series):
            s = self.series[key]
            s.compact(now, **kw)
            if s.empty():
                del self.series[key]

    def ref_ids(self) -> set[str]:
        return set().union(*(s.ref_ids() for s in self.series.values())) if self.series else set()

    def dump(self) -> dict[str, Any]:
        return {k: s.dump() for k, s in sorted(self.series.items())}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Keyed:
        k = cls()
        k.series = {key: Series.load(v) for key, v in data.items()}
        return k
