"""``negative_share``: the share of mentions opposing the reform jumps over a window.

Needs a minimum volume (a share of 3 posts means nothing) and a rise over the usual share of the
previous days, not only an absolute level: some weeks the debate is simply polarised.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import Duration, kql_value
from alerts.rules.base import WINDOW_DOC, Context, Finding, Observation, RuleType, best_tag, window_len
from alerts.series import BUCKET, DAY, HOUR, Keyed
from sada.model import STANCES, Mention


class NegativeShareOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: Duration = Field(timedelta(hours=6), description=WINDOW_DOC)
    min_volume: int = Field(40, ge=5, description="mentions with a stance needed in the window")
    threshold: float = Field(0.6, gt=0.0, le=1.0, description="share of 'oppose' that alerts")
    min_delta: float = Field(0.2, ge=0.0, le=1.0, description="and at least this much above the usual share")
    baseline_window: Duration = Field(timedelta(days=7), description="the usual share is measured over this period")
    critical_threshold: float = Field(0.75, gt=0.0, le=1.0)
    stances: list[Literal["support", "oppose", "neutral", "question"]] = Field(
        list(STANCES), description="stances in the denominator")
    group_by: Literal["lang", "platform"] | None = None


class NegativeShare(RuleType):
    type_name = "negative_share.v1"
    Options = NegativeShareOptions
    rank = 4
    windowed = True
    explainable = True
    options: NegativeShareOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.labelled = Keyed()
        self.oppose = Keyed()

    def accepts(self, m: Mention) -> bool:
        return m.stance is not None and m.stance in self.options.stances and super().accepts(m)

    def _key(self, m: Mention) -> str:
        if self.options.group_by == "lang":
            return m.lang or "und"
        if self.options.group_by == "platform":
            return m.platform.value
        return "all"

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        key = self._key(m)
        self.labelled.get(key).add(obs.ts, fine_from=obs.fine_from, tagset=obs.tagset, keep_refs=0, track_tags=True)
        if m.stance == "oppose":
            self.oppose.get(key).add(obs.ts, fine_from=obs.fine_from, ref=obs.ref, tagset=obs.tagset,
                                     keep_refs=self.keep_refs, track_tags=True)
        return (key,)

    def _usual(self, key: str, b0: int, ctx: Context) -> float | None:
        cached = self._baselines.get((key, b0))
        if cached is not None:
            return cached[0]
        span = self.options.baseline_window.total_seconds()
        start = b0 * BUCKET
        share = None
        if ctx.history_start is not None and start - min(span, DAY) >= ctx.history_start:
            lab = self.labelled.get(key).approx(start - span, start)
            opp = self.oppose.get(key).approx(start - span, start)
            if lab >= self.options.min_volume:
                share = opp / lab
        self._baselines[(key, b0)] = (share, "trailing", 0)
        return share

    def _alerting(self, labelled: float, oppose: float, usual: float | None, is_open: bool = False) -> bool:
        o = self.options
        # Hysteresis: an open episode stays in alert down to a lower bar.
        threshold, delta = (o.threshold - 0.1, o.min_delta / 2) if is_open else (o.threshold, o.min_delta)
        if labelled < (o.min_volume // 2 if is_open else o.min_volume):
            return False
        share = oppose / labelled
        return share >= threshold and (usual is None or share - usual >= delta)

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        out: dict[str, Finding] = {}
        b0, b1 = self.window_buckets(o.window, ctx.now)
        for key in (self.labelled.series if keys is None else keys):
            lab_s, opp_s = self.labelled.peek(key), self.oppose.peek(key)
            if lab_s is None or opp_s is None:
                continue
            labelled, oppose = lab_s.count(b0, b1), opp_s.count(b0, b1)
            usual = self._usual(key, b0, ctx)
            is_open = ctx.is_open(self.name, key)
            if not self._alerting(labelled, oppose, usual, is_open):
                continue
            open_tags = ctx.open_tags(self.rank)
            explained_by = None
            ex_lab, _ = lab_s.tagged(b0, b1, open_tags)
            ex_opp, per_tag = opp_s.tagged(b0, b1, open_tags)
            if ex_lab and not self._alerting(labelled - ex_lab, oppose - ex_opp, usual, False):
                explained_by = best_tag(per_tag)
            share = oppose / labelled
            usual_txt = f", contre {round(usual * 100)} % d'habitude" if usual is not None else ""
            scope = "" if key == "all" else f" ({o.group_by} {key})"
            top = opp_s.top(b0, b1, 100)
            extra = f" and {o.group_by}:{kql_value(key)}" if o.group_by else ""
            out[key] = Finding(
                key=key,
                severity="critical" if share >= o.critical_threshold else self.spec.severity,
                count=oppose,
                baseline=round(usual * labelled, 2) if usual is not None else None,
                window_start=b0 * BUCKET,
                window_end=ctx.now,
                sentence=(f"Tonalité négative{scope} : {round(share * 100)} % des {labelled} mentions publiées "
                          f"en {window_len(o.window)} s'opposent à la réforme{usual_txt}."),
                action=("Repérer l'argument qui revient le plus dans les publications ci-dessous et y répondre "
                        "avec les contre-arguments validés ; privilégier l'explication au démenti."),
                mention_ids=[rid for _, rid in top],
                kql=self.filter_kql("stance:oppose") + extra,
                details={"share": round(share, 3), "usual_share": round(usual, 3) if usual is not None else None,
                         "labelled": labelled, "window": window_len(o.window)},
                explained_by=explained_by,
            )
        return out

    def compact(self, now: float) -> None:
        o = self.options
        keep = o.baseline_window.total_seconds() + o.window.total_seconds() + DAY
        for k in (self.labelled, self.oppose):
            k.compact(now, fine_keep=2 * DAY, keep=keep, refs_keep=o.window.total_seconds() + HOUR)
        self.forget_baselines()

    def ref_ids(self) -> set[str]:
        return self.oppose.ref_ids()

    def counting_options(self) -> set[str]:
        return {"group_by", "stances"}

    def dump(self) -> dict[str, Any]:
        return {"labelled": self.labelled.dump(), "oppose": self.oppose.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.labelled = Keyed.load(data.get("labelled", {}))
        self.oppose = Keyed.load(data.get("oppose", {}))
