"""``myth_surge``: a misconception comes back — its count or its share against its baseline.

Key = myth id (TAXONOMY.md). The alert quotes the myth's validated counter-arguments. When one
open rumor cluster accounts for the surge, the myth alert is grouped under the rumor alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field

from alerts.config import Duration, kql_value
from alerts.rules.base import (
    WINDOW_DOC,
    Context,
    Finding,
    Observation,
    RuleType,
    SurgeOptions,
    best_tag,
    ratio_of,
    relaxed,
    surge,
    usual_count,
    window_len,
)
from alerts.series import BUCKET, DAY, HOUR, Keyed, Series
from alerts.timefmt import format_number
from sada.model import Mention

MythId = Literal["impunity", "rich_buy_freedom", "crime_will_rise", "dangerous_criminals_freed", "mass_release",
                 "foreign_agenda", "bracelet_fears", "victims_forgotten"]


class MythSurgeOptions(SurgeOptions):
    window: Duration = Field(timedelta(hours=6), description=WINDOW_DOC)
    share_period: Duration = Field(timedelta(days=3), description="period of the usual share of mentions")
    min_count: int = 10
    baseline_floor: float = 1.5
    cold_start_count: int = 40
    share_delta: float = Field(0.15, gt=0.0, le=1.0, description="or: share of mentions this much above usual")
    critical_ratio: float = Field(6.0, gt=1.0)
    critical_min_count: int = Field(30, ge=1)
    myths: list[MythId] | None = Field(None, description="watch only these myths (default: all)")


class MythSurge(RuleType):
    type_name = "myth_surge.v1"
    Options = MythSurgeOptions
    rank = 3
    windowed = True
    explains = True
    explainable = True
    options: MythSurgeOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.total = Series()
        self.by_myth = Keyed()

    def _myths(self, m: Mention) -> list[str]:
        watched = self.options.myths
        return [x for x in (m.myths or ()) if watched is None or x in watched]

    def tags(self, m: Mention) -> list[str]:
        return [self.tag(x) for x in self._myths(m)] if super().accepts(m) else []

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        self.total.add(obs.ts, fine_from=obs.fine_from, keep_refs=0)
        myths = self._myths(m)
        for myth in myths:
            self.by_myth.get(myth).add(obs.ts, fine_from=obs.fine_from, ref=obs.ref, tagset=obs.tagset,
                                       keep_refs=self.keep_refs, track_tags=True)
        return myths

    def _usual_share(self, myth: str, s: Series, b0: int, ctx: Context) -> float | None:
        span = self.options.share_period.total_seconds()
        start = b0 * BUCKET
        if ctx.history_start is None or start - span < ctx.history_start:
            return None
        total = self.total.approx(start - span, start)
        return s.approx(start - span, start) / total if total >= 20 else None

    def _alerting(self, count: float, total: float, base: float | None, usual: float | None, is_open: bool) -> bool:
        o = self.options
        min_count, ratio, z = relaxed(o.min_count, o.ratio, o.z) if is_open else (o.min_count, o.ratio, o.z)
        delta = o.share_delta / 2 if is_open else o.share_delta
        if count < min_count:
            return False
        if surge(count, base, min_count=min_count, ratio=ratio, z=z, floor=o.baseline_floor,
                 cold_start=o.cold_start_count):
            return True
        return usual is not None and total > 0 and count / total - usual >= delta and (
            base is None or count >= ratio * max(base, o.baseline_floor) / 2)

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        out: dict[str, Finding] = {}
        b0, b1 = self.window_buckets(o.window, ctx.now)
        total = self.total.count(b0, b1)
        for myth in (self.by_myth.series if keys is None else keys):
            s = self.by_myth.peek(myth)
            if s is None:
                continue
            count = s.count(b0, b1)
            is_open = ctx.is_open(self.name, myth)
            if count < (o.min_count // 2 if is_open else o.min_count):
                continue
            base, kind, weeks = self.baseline(myth, s, b0, b1, ctx, weeks=o.weeks)
            usual = self._usual_share(myth, s, b0, ctx)
            if not self._alerting(count, total, base, usual, is_open):
                continue
            explained_by = None
            excluded, per_tag = s.tagged(b0, b1, ctx.open_tags(self.rank))
            if excluded and not self._alerting(count - excluded, total - excluded, base, usual, False):
                explained_by = best_tag(per_tag)
            ratio = ratio_of(count, base, o.baseline_floor)
            critical = count >= o.critical_min_count and (ratio is None or ratio >= o.critical_ratio)
            usual_txt = f" contre {usual_count(base)}" if base is not None else ""
            times = f" (×{format_number(ratio)})" if ratio is not None else ""
            share = count / total if total else None
            top = s.top(b0, b1, 100)
            out[myth] = Finding(
                key=myth,
                severity="critical" if critical else self.spec.severity,
                count=count,
                baseline=round(base, 2) if base is not None else None,
                window_start=b0 * BUCKET,
                window_end=ctx.now,
                sentence=(f"Le mythe {ctx.myth_title(myth)} revient : {count} mentions en {window_len(o.window)}"
                          f"{usual_txt}{times}, soit {round((share or 0) * 100)} % des mentions."),
                action=("Répondre avec les contre-arguments validés ci-dessous (en français et en arabe), sous les "
                        "publications les plus vues et dans un contenu pédagogique ; reconnaître l'inquiétude "
                        "plutôt que la nier."),
                mention_ids=[rid for _, rid in top],
                kql=self.filter_kql(f"myths:{kql_value(myth)}"),
                details={"ratio": round(ratio, 2) if ratio is not None else None, "share": round(share, 3) if share else None,
                         "usual_share": round(usual, 3) if usual is not None else None, "baseline_kind": kind,
                         "baseline_weeks": weeks, "window": window_len(o.window)},
                explained_by=explained_by,
                myth=myth,
            )
        return out

    def compact(self, now: float) -> None:
        o = self.options
        keep = max((o.weeks * 7 + 1) * DAY, o.share_period.total_seconds() + DAY) + o.window.total_seconds()
        refs_keep = o.window.total_seconds() + HOUR
        self.total.compact(now, fine_keep=2 * DAY, keep=keep, refs_keep=0)
        self.by_myth.compact(now, fine_keep=2 * DAY, keep=keep, refs_keep=refs_keep)
        self.forget_baselines()

    def counting_options(self) -> set[str]:
        return {"myths"}

    def ref_ids(self) -> set[str]:
        return self.by_myth.ref_ids()

    def dump(self) -> dict[str, Any]:
        return {"total": self.total.dump(), "by_myth": self.by_myth.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.total = Series.load(data.get("total", {}))
        self.by_myth = Keyed.load(data.get("by_myth", {}))
