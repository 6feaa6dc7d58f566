"""The rule-type contract and the helpers every threshold rule shares.

A rule type is a small class: it declares its options (a pydantic model: fields without a
default are required), counts the mentions it accepts in event-time series (``observe``), and
says which keys are in alert right now (``evaluate``). Everything about episodes — cooldowns,
deduplication, escalation, resolution, grouping, what is paged — is the engine's job, the same
for every type.

Times inside rules are epoch seconds (UTC floats): the engine converts at its edges.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import Duration, RuleSpec
from alerts.series import BUCKET, DAY, HOUR, WEEK, Series, bucket_of
from sada.model import Mention

# Options shared by the rules that compare a window with a baseline.
WINDOW_DOC = "length of the sliding window (event time)"


class Context(Protocol):
    """What the engine lets a rule see."""

    now: float
    history_start: float | None
    tz: ZoneInfo

    def outage_overlaps(self, start: float, end: float) -> bool: ...

    def open_tags(self, below_rank: int) -> frozenset[str]: ...

    def is_open(self, rule: str, key: str) -> bool: ...

    def myth_title(self, myth: str) -> str: ...


@dataclass
class Observation:
    """One accepted mention as the rules see it."""

    ts: float            # event time (publication, clamped to the clock)
    now: float           # the engine clock
    fine_from: float     # older than this goes to hourly history
    ref: tuple[int, str]  # (reach, mention id)
    tagset: str          # sorted, comma-joined tags of explaining rules this mention counts for


@dataclass
class Finding:
    """A key in alert now, with the figures and mentions that show it."""

    key: str
    severity: str
    count: int
    baseline: float | None
    window_start: float | None
    window_end: float
    sentence: str
    action: str
    mention_ids: list[str]
    kql: str
    details: dict[str, Any] = field(default_factory=dict)
    ids_exact: bool = False          # mention_ids are all the mentions (Discover link by ids)
    explained_by: str | None = None  # tag of an open alert that explains this surge
    myth: str | None = None          # myth whose counter-arguments the alert quotes
    level: float | None = None       # how strong it is now (default: count); a decaying
                                     # episode is neither escalated nor reminded

    def momentum(self) -> float:
        return float(self.count if self.level is None else self.level)


class RuleType(ABC):
    """Base class of rule types; subclasses are registered in ``alerts.registry``."""

    type_name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    # Lower rank = more specific. A surge of an *explainable* rule that an open alert of a more
    # specific, *explaining* rule accounts for is grouped under it instead of paging again.
    rank: ClassVar[int] = 9
    explains: ClassVar[bool] = False
    explainable: ClassVar[bool] = False
    time_driven: ClassVar[bool] = False       # evaluated on every clock step, not only on mentions
    # Counts over a sliding window: "still true after the cooldown" only means sustained once
    # the window holds nothing but mentions posted after the last alert (not the same surge
    # still inside the window).
    windowed: ClassVar[bool] = False
    default_resolve_after: ClassVar[timedelta | None] = None
    keep_refs: ClassVar[int] = 10

    def __init__(self, spec: RuleSpec, options: BaseModel, path: Path | None = None) -> None:
        self.spec = spec
        self.options = options
        self.name = spec.name
        self.path = path
        self._baselines: dict[tuple[str, int], tuple[float | None, str, int]] = {}

    # -- what the engine calls ------------------------------------------------------------

    def accepts(self, m: Mention) -> bool:
        return self.spec.filter.accepts(m)

    def tags(self, m: Mention) -> list[str]:
        """Keys this mention counts for, as ``rule|key`` tags (explaining rules only)."""
        return []

    @abstractmethod
    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        """Count the mention; return the keys whose condition may have changed."""

    @abstractmethod
    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        """Findings for the keys in alert now, among ``keys`` (None: every key)."""

    def heartbeat(self, source: str, at: float, ok: bool, produced: int | None) -> None:  # noqa: B027 - optional hook
        """A collector run was recorded (only the flatline rule cares)."""

    def compact(self, now: float) -> None:  # noqa: B027 - optional hook
        """Forget what no window or baseline needs any more."""

    def ref_ids(self) -> set[str]:
        """Mention ids this rule still points to (so the engine keeps their details)."""
        return set()

    @abstractmethod
    def dump(self) -> dict[str, Any]: ...

    @abstractmethod
    def load(self, data: dict[str, Any]) -> None: ...

    # -- shared helpers -------------------------------------------------------------------

    @property
    def resolve_after(self) -> timedelta:
        if self.spec.resolve_after is not None:
            return self.spec.resolve_after
        if self.default_resolve_after is not None:
            return self.default_resolve_after
        return self.spec.cooldown

    def fingerprint(self) -> str:
        """What the counts depend on: a changed filter or window drops the saved state."""
        counting = {k: v for k, v in self.options.model_dump(mode="json").items() if k in self.counting_options()}
        basis = json.dumps([self.type_name, self.spec.filter.model_dump(mode="json"), counting], sort_keys=True)
        return hashlib.blake2b(basis.encode(), digest_size=8).hexdigest()

    def counting_options(self) -> set[str]:
        return {"group_by", "labels", "watchlist"}

    def tag(self, key: str) -> str:
        return f"{self.name}|{key}"

    def filter_kql(self, *extra: str) -> str:
        parts = [p for p in (self.spec.filter.kql(), *extra) if p]
        return " and ".join(parts)

    def window_buckets(self, window: timedelta, now: float) -> tuple[int, int]:
        n = max(int(window.total_seconds() // BUCKET), 1)
        b1 = bucket_of(now)
        return b1 - n + 1, b1

    def baseline(self, key: str, series: Series, b0: int, b1: int, ctx: Context, *,
                 weeks: int) -> tuple[float | None, str, int]:
        """Mean count of the same window on the same weekday and hour over past weeks.

        Periods the engine did not watch, or when a source was silent (an outage is not calm),
        are left out. Until two such weeks exist, the same hours of the previous days are added
        (a single past week is a noisy reference); with no full day of history, None (cold
        start). Cached per window position: history does not change while the window stays in
        the same bucket.
        """
        cache_key = (key, b0)
        hit = self._baselines.get(cache_key)
        if hit is not None:
            return hit
        start, end = b0 * BUCKET, (b1 + 1) * BUCKET
        history = ctx.history_start

        def past(shift: float) -> float | None:
            s, e = start - shift, end - shift
            if history is None or s < history or ctx.outage_overlaps(s, e):
                return None
            return series.approx(s, e)

        seasonal = [v for k in range(1, weeks + 1) if (v := past(k * WEEK)) is not None]
        values = list(seasonal)
        if len(seasonal) < 2:
            values += [v for d in range(1, 7) if (v := past(d * DAY)) is not None]
        if seasonal and len(seasonal) >= 2:
            result: tuple[float | None, str, int] = (sum(values) / len(values), "seasonal", len(seasonal))
        elif values:
            result = (sum(values) / len(values), "seasonal+daily" if seasonal else "daily", len(seasonal))
        else:
            result = (None, "none", 0)
        if len(self._baselines) > 4096:
            self._baselines.clear()
        self._baselines[cache_key] = result
        return result

    def forget_baselines(self) -> None:
        self._baselines.clear()


def surge(count: float, baseline: float | None, *, min_count: int, ratio: float, z: float, floor: float,
          cold_start: int) -> bool:
    """A surge needs a minimum count, a ratio over the baseline and a Poisson z-score.

    The floor keeps "3 against 0" from being a surge; with no baseline at all (cold start) only
    a large absolute count is.
    """
    if count < min_count:
        return False
    if baseline is None:
        return count >= cold_start
    b = max(baseline, floor)
    return count >= ratio * b and (count - b) / math.sqrt(b) >= z


def relaxed(min_count: int, ratio: float, z: float) -> tuple[int, float, float]:
    """Hysteresis: an open episode stays in alert down to half the thresholds, so a surge that
    dips under its trigger for a while is one episode, not two pages."""
    return max(min_count // 2, 1), 1.0 + (ratio - 1.0) / 2, z / 2


def ratio_of(count: float, baseline: float | None, floor: float) -> float | None:
    if baseline is None:
        return None
    return count / max(baseline, floor)


def usual_count(base: float) -> str:
    """``"9,5 habituellement"``; under one, say so rather than print "0"."""
    from alerts.timefmt import format_number

    if base < 0.95:
        return "moins d'une habituellement"
    return f"{format_number(base)} habituellement"


def best_tag(per_tag: dict[str, int]) -> str | None:
    return max(sorted(per_tag), key=lambda t: per_tag[t]) if per_tag else None


def window_len(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % DAY == 0:
        return f"{seconds // DAY} j"
    if seconds % HOUR == 0:
        return f"{seconds // HOUR} h"
    return f"{seconds // 60} min"


class SurgeOptions(BaseModel):
    """Options shared by window-versus-baseline rules."""

    model_config = ConfigDict(extra="forbid")

    window: Duration = Field(timedelta(hours=1), description=WINDOW_DOC)
    weeks: int = Field(4, ge=1, le=8, description="past weeks in the seasonal baseline")
    min_count: int = Field(20, ge=1, description="never a surge below this count")
    ratio: float = Field(3.0, gt=1.0, description="count / baseline needed")
    z: float = Field(3.0, ge=0.0, description="Poisson z-score needed: (count - baseline) / sqrt(baseline)")
    baseline_floor: float = Field(2.0, gt=0.0, description="the baseline is never taken below this")
    cold_start_count: int = Field(150, ge=1, description="with no history at all, only this count alerts")
