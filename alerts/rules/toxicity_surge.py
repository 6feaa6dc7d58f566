"""``toxicity_surge``: a wave of hate, threats or defamation.

Counts mentions whose ``toxicity`` is one of ``labels`` against a seasonal baseline; threats are
critical from a small absolute count, whatever the baseline. The alert never quotes these posts:
their snippets are masked (DOMAIN.md: never amplify incitement), the links lead to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from alerts.rules.base import (
    Context,
    Finding,
    Observation,
    RuleType,
    SurgeOptions,
    ratio_of,
    relaxed,
    surge,
    usual_count,
    window_len,
)
from alerts.series import BUCKET, DAY, HOUR, Keyed, Series
from sada.model import Mention

LABEL_FR = {"hate": "haine", "threat": "menace", "defamation": "diffamation", "insult": "insulte"}


class ToxicitySurgeOptions(SurgeOptions):
    labels: list[Literal["insult", "hate", "threat", "defamation"]] = Field(["hate", "threat", "defamation"])
    min_count: int = 8
    baseline_floor: float = 1.0
    cold_start_count: int = 25
    critical_count: int = Field(25, ge=1, description="critical from this many in the window")
    threat_count: int = Field(3, ge=1, description="this many threats alert (critical) whatever the baseline")


class ToxicitySurge(RuleType):
    type_name = "toxicity_surge.v1"
    Options = ToxicitySurgeOptions
    rank = 1
    windowed = True
    explains = True
    options: ToxicitySurgeOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.total = Series()
        self.by_label = Keyed()

    def accepts(self, m: Mention) -> bool:
        return m.toxicity in self.options.labels and super().accepts(m)

    def tags(self, m: Mention) -> list[str]:
        return [self.tag("all")] if self.accepts(m) else []

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        self.total.add(obs.ts, fine_from=obs.fine_from, ref=obs.ref, keep_refs=self.keep_refs)
        self.by_label.get(m.toxicity or "none").add(obs.ts, fine_from=obs.fine_from, keep_refs=0)
        return ("all",)

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        b0, b1 = self.window_buckets(o.window, ctx.now)
        count = self.total.count(b0, b1)
        threat = self.by_label.peek("threat")
        threats = threat.count(b0, b1) if threat is not None and "threat" in o.labels else 0
        min_count, ratio_needed, z, threat_count = o.min_count, o.ratio, o.z, o.threat_count
        if ctx.is_open(self.name, "all"):
            min_count, ratio_needed, z = relaxed(min_count, ratio_needed, z)
            threat_count = max(threat_count // 2, 1)
        if count < min(min_count, threat_count):
            return {}
        base, kind, weeks = self.baseline("all", self.total, b0, b1, ctx, weeks=o.weeks)
        wave = surge(count, base, min_count=min_count, ratio=ratio_needed, z=z, floor=o.baseline_floor,
                     cold_start=o.cold_start_count)
        if not wave and threats < threat_count:
            return {}
        by_label = {lab: s.count(b0, b1) for lab, s in self.by_label.series.items()}
        by_label = {lab: n for lab, n in sorted(by_label.items()) if n}
        parts = ", ".join(f"{LABEL_FR.get(lab, lab)} {n}" for lab, n in by_label.items())
        usual = f", contre {usual_count(base)}" if base is not None else ""
        critical = count >= o.critical_count or threats >= o.threat_count
        kinds = " ou ".join(LABEL_FR.get(lab, lab) for lab in o.labels)
        ratio = ratio_of(count, base, o.baseline_floor)
        top = self.total.top(b0, b1, 100)
        return {"all": Finding(
            key="all",
            severity="critical" if critical else self.spec.severity,
            count=count,
            baseline=round(base, 2) if base is not None else None,
            window_start=b0 * BUCKET,
            window_end=ctx.now,
            sentence=(f"Vague de contenus toxiques : {count} publications ({parts}) en {window_len(o.window)}"
                      f"{usual}."),
            action=("Modérer sans attendre : masquer ou supprimer les commentaires visés, ne pas répondre aux "
                    "attaques ni les reprendre. Signaler les menaces aux plateformes et prévenir immédiatement "
                    "le responsable de la campagne." if threats else
                    "Modérer sans attendre : masquer ou supprimer les commentaires visés, ne pas répondre aux "
                    "attaques ni les reprendre ; publier si besoin un rappel des règles de la page."),
            mention_ids=[rid for _, rid in top],
            kql=self.filter_kql(f"toxicity:({' or '.join(o.labels)})"),
            details={"by_label": by_label, "threats": threats, "ratio": round(ratio, 2) if ratio else None,
                     "baseline_kind": kind, "baseline_weeks": weeks, "window": window_len(o.window),
                     "labels": kinds, "masked": True},
        )}

    def compact(self, now: float) -> None:
        o = self.options
        keep = (o.weeks * 7 + 1) * DAY + o.window.total_seconds()
        self.total.compact(now, fine_keep=2 * DAY, keep=keep, refs_keep=o.window.total_seconds() + HOUR)
        self.by_label.compact(now, fine_keep=2 * DAY, keep=keep, refs_keep=0)
        self.forget_baselines()

    def ref_ids(self) -> set[str]:
        return self.total.ref_ids()

    def dump(self) -> dict[str, Any]:
        return {"total": self.total.dump(), "by_label": self.by_label.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.total = Series.load(data.get("total", {}))
        self.by_label = Keyed.load(data.get("by_label", {}))

