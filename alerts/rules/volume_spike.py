"""``volume_spike``: many more mentions than usual at this hour of this weekday.

The baseline is seasonal — the same window on the same weekday and hour over past weeks — so a
Monday-morning peak is not a crisis, and a floor plus a minimum count keep "3 against 0" from
firing. A surge still true after the cooldown escalates (engine) instead of falling silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from alerts.config import kql_value
from alerts.rules.base import (
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
from alerts.series import BUCKET, DAY, HOUR, Keyed
from alerts.timefmt import format_number, to_dt, weekday_fr
from sada.model import Mention


class VolumeSpikeOptions(SurgeOptions):
    critical_ratio: float = Field(6.0, gt=1.0, description="critical from this ratio...")
    critical_min_count: int = Field(60, ge=1, description="...and this count")
    group_by: Literal["lang", "platform"] | None = Field(None, description="one key per language or platform")


def _group(m: Mention, group_by: str | None) -> str:
    if group_by == "lang":
        return m.lang or "und"
    if group_by == "platform":
        return m.platform.value
    return "all"


class VolumeSpike(RuleType):
    type_name = "volume_spike.v1"
    Options = VolumeSpikeOptions
    rank = 5
    windowed = True
    explainable = True
    options: VolumeSpikeOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.series = Keyed()

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        key = _group(m, self.options.group_by)
        self.series.get(key).add(obs.ts, fine_from=obs.fine_from, ref=obs.ref, tagset=obs.tagset,
                                 keep_refs=self.keep_refs, track_tags=True)
        return (key,)

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        out: dict[str, Finding] = {}
        b0, b1 = self.window_buckets(o.window, ctx.now)
        for key in (self.series.series if keys is None else keys):
            s = self.series.peek(key)
            if s is None:
                continue
            count = s.count(b0, b1)
            min_count, ratio_needed, z = o.min_count, o.ratio, o.z
            if ctx.is_open(self.name, key):
                min_count, ratio_needed, z = relaxed(min_count, ratio_needed, z)
            if count < min_count:
                continue
            base, kind, weeks = self.baseline(key, s, b0, b1, ctx, weeks=o.weeks)
            params = dict(min_count=min_count, ratio=ratio_needed, z=z, floor=o.baseline_floor,
                          cold_start=o.cold_start_count)
            if not surge(count, base, **params):
                continue
            # Explained when what the open alerts do not account for is no surge by the full bar.
            explained_by = None
            excluded, per_tag = s.tagged(b0, b1, ctx.open_tags(self.rank))
            if excluded and not surge(count - excluded, base, min_count=o.min_count, ratio=o.ratio, z=o.z,
                                      floor=o.baseline_floor, cold_start=o.cold_start_count):
                explained_by = best_tag(per_tag)
            ratio = ratio_of(count, base, o.baseline_floor)
            critical = count >= o.critical_min_count and (ratio is None or ratio >= o.critical_ratio)
            top = s.top(b0, b1, 100)
            start = b0 * BUCKET
            scope = "" if key == "all" else f" ({self.options.group_by} {key})"
            if kind == "seasonal":
                usual = f"contre {usual_count(base)} le {weekday_fr(to_dt(ctx.now), ctx.tz)} à cette heure"
            elif kind == "seasonal+daily":
                usual = f"contre {usual_count(base)} à cette heure (semaine passée et jours précédents)"
            elif base is not None:
                usual = f"contre {usual_count(base)} à cette heure les jours précédents"
            else:
                usual = "sans historique pour comparer (démarrage)"
            times = f" (×{format_number(ratio)})" if ratio is not None else ""
            extra = f" and {o.group_by}:{kql_value(key)}" if o.group_by else ""
            out[key] = Finding(
                key=key,
                severity="critical" if critical else self.spec.severity,
                count=count,
                baseline=round(base, 2) if base is not None else None,
                window_start=start,
                window_end=ctx.now,
                sentence=f"Pic de volume{scope} : {count} mentions en {window_len(o.window)}, {usual}{times}.",
                action=("Identifier l'événement déclencheur dans les publications ci-dessous. S'il s'agit d'un "
                        "fait divers, répondre sur les faits (ce que prévoit la loi, chiffres validés) sans "
                        "commenter l'affaire, puis suivre l'évolution."),
                mention_ids=[rid for _, rid in top],
                kql=self.filter_kql() + extra,
                details={"ratio": round(ratio, 2) if ratio is not None else None, "baseline_kind": kind,
                         "baseline_weeks": weeks, "window": window_len(o.window)},
                explained_by=explained_by,
            )
        return out

    def compact(self, now: float) -> None:
        o = self.options
        self.series.compact(now, fine_keep=2 * DAY, keep=(o.weeks * 7 + 1) * DAY + o.window.total_seconds(),
                            refs_keep=o.window.total_seconds() + HOUR)
        self.forget_baselines()

    def ref_ids(self) -> set[str]:
        return self.series.ref_ids()

    def dump(self) -> dict[str, Any]:
        return {"series": self.series.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.series = Keyed.load(data.get("series", {}))

