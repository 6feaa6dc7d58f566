"""``collector_flatline``: a source that goes silent raises an outage alert.

A source is silent when nothing arrived from it for a while *although something was expected*:
the expectation is the source's usual arrivals for those hours of the day over the past week,
so a quiet night is not an outage while a dead API at 11:00 is. Collector runs recorded in
Elasticsearch (``sada-collector-runs``) act as heartbeats when present: a successful run that
found nothing means calm, not outage; failing runs mean outage even for a sparse source.

While a source is in outage the engine treats its silence as missing data, not calm: other
rules' episodes are not resolved, and those weeks are left out of seasonal baselines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import Duration, kql_value
from alerts.rules.base import Context, Finding, Observation, RuleType
from alerts.safetext import one_line
from alerts.series import DAY, HOUR, Keyed
from alerts.timefmt import format_duration, format_number, format_time, to_dt
from sada.model import Mention


class FlatlineOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_silence: Duration = Field(timedelta(hours=1), description="never an outage before this much silence")
    max_silence: Duration = Field(timedelta(hours=48), description="an established source silent this long is down")
    expected_min: float = Field(10.0, gt=0.0, description="mentions that should have arrived during the silence")
    min_history: Duration = Field(timedelta(hours=24), description="a source is watched after this much history")
    min_mentions: int = Field(30, ge=1, description="...and this many mentions over the profile period")
    profile_days: int = Field(7, ge=1, le=28, description="days used for the hour-of-day profile")
    profile_quantile: float = Field(0.3, ge=0.0, le=0.5, description="quantile of past hourly arrivals taken "
                                                                      "as the expected rate (conservative)")
    heartbeat_timeout: Duration = Field(timedelta(hours=2), description="no successful run for this long = outage")
    heartbeat_failures: int = Field(3, ge=1, description="this many failed runs in a row = outage")
    critical_share: float = Field(0.3, gt=0.0, le=1.0, description="critical if the source brings this share")
    group_platforms: list[str] = Field(["news"], description="platforms watched as one source (one RSS collector)")
    ignore_sources: list[str] = Field(default_factory=list)


class CollectorFlatline(RuleType):
    type_name = "collector_flatline.v1"
    Options = FlatlineOptions
    rank = 0
    time_driven = True
    default_resolve_after = timedelta(0)
    options: FlatlineOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.arrivals = Keyed()              # per source, by arrival time (the clock)
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        # source -> [last run, last ok run, consecutive failures]
        self.runs: dict[str, list[float]] = {}
        self._profile: dict[tuple[str, int], float] = {}

    def source_key(self, m: Mention) -> str:
        if m.platform.value in self.options.group_platforms:
            return f"platform:{m.platform.value}"
        return m.source

    def accepts(self, m: Mention) -> bool:
        return self.source_key(m) not in self.options.ignore_sources and super().accepts(m)

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        key = self.source_key(m)
        self.arrivals.get(key).add(obs.now, fine_from=obs.now - DAY, keep_refs=0)
        self.first.setdefault(key, obs.now)
        self.last[key] = obs.now
        return (key,)

    def heartbeat(self, source: str, at: float, ok: bool, produced: int | None) -> None:
        platform = source.split(":", 1)[0]
        key = f"platform:{platform}" if platform in self.options.group_platforms else source
        if key in self.options.ignore_sources:
            return
        run = self.runs.setdefault(key, [0.0, 0.0, 0.0])
        run[0] = max(run[0], at)
        if ok:
            run[1] = max(run[1], at)
            run[2] = 0
        else:
            run[2] += 1

    def _profile_rate(self, key: str, hour_of_day: int, now: float) -> float:
        """Usual arrivals in this hour of the day: a low quantile over the profile period."""
        day_index = int(now // DAY)
        cached = self._profile.get((key, hour_of_day * 100_000 + day_index))
        if cached is not None:
            return cached
        s = self.arrivals.get(key)
        days = self.options.profile_days
        start = max(self.first.get(key, now), now - days * DAY)
        values = []
        for d in range(1, days + 1):
            for h in (hour_of_day - 1, hour_of_day, hour_of_day + 1):
                lo = (day_index - d) * DAY + h * HOUR
                if lo >= start and lo + HOUR <= now:
                    values.append(s.approx(lo, lo + HOUR))
        # A low quantile of the neighbouring hours over the past days, not the mean: one crisis day
        # or a lucky busy hour must not make an ordinary quiet spell look like an outage.
        values.sort()
        rate = values[int(self.options.profile_quantile * (len(values) - 1))] if values else 0.0
        if len(self._profile) > 10_000:
            self._profile.clear()
        self._profile[(key, hour_of_day * 100_000 + day_index)] = rate
        return rate

    def expected(self, key: str, since: float, now: float) -> float:
        total, t = 0.0, since
        while t < now:
            end = min((int(t // HOUR) + 1) * HOUR, now)
            total += self._profile_rate(key, int(t % DAY // HOUR), now) * (end - t) / HOUR
            t = end
        return total

    def _volume(self, key: str, now: float) -> float:
        """Arrivals over the profile period, recomputed once per hour."""
        hour = int(now // HOUR)
        cached = self._profile.get((key, -hour))
        if cached is None:
            s = self.arrivals.peek(key)
            cached = s.approx(now - self.options.profile_days * DAY, now) if s is not None else 0.0
            self._profile[(key, -hour)] = cached
        return cached

    def _share(self, key: str, now: float) -> float:
        every = sum(self._volume(k, now) for k in self.arrivals.series)
        return self._volume(key, now) / every if every else 0.0

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        now = ctx.now
        out: dict[str, Finding] = {}
        candidates = set(self.last) | set(self.runs) if keys is None else set(keys)
        for key in sorted(candidates):
            last = self.last.get(key)
            run = self.runs.get(key)
            reason = None
            expected = None
            if run is not None and run[0] > 0:
                # Heartbeats decide: ok runs mean the source is alive, even if quiet.
                if run[2] >= o.heartbeat_failures:
                    reason = f"{int(run[2])} exécutions du collecteur en échec d'affilée"
                elif now - run[1] >= o.heartbeat_timeout.total_seconds():
                    reason = "aucune exécution réussie du collecteur"
                silent_since = max(run[1], last or 0.0) or run[0]
            elif last is not None:
                silent_since = last
                established = (now - self.first[key] >= o.min_history.total_seconds()
                               and self._volume(key, now) >= o.min_mentions)
                silence = now - last
                if established and silence >= o.min_silence.total_seconds():
                    expected = self.expected(key, last, now)
                    if expected >= o.expected_min or silence >= o.max_silence.total_seconds():
                        reason = "plus aucune mention reçue"
            else:
                continue
            if reason is None:
                continue
            silence = now - silent_since
            share = self._share(key, now)
            exp_txt = (f", alors qu'environ {format_number(expected, 0)} étaient attendues sur cette période"
                       if expected is not None else "")
            source = one_line(key, 80)
            out[key] = Finding(
                key=key,
                severity="critical" if share >= o.critical_share else self.spec.severity,
                count=0,
                baseline=round(expected, 1) if expected is not None else None,
                window_start=silent_since,
                window_end=now,
                sentence=(f"Source muette : {source} — {reason} depuis {format_time(to_dt(silent_since), ctx.tz)} "
                          f"({format_duration(silence)}){exp_txt}. Les chiffres des autres alertes sont partiels."),
                action=(f"Vérifier le collecteur de {source} (journaux, quotas et jetons d'API, flux RSS) et le "
                        "relancer. Tant que la source est muette, son silence n'est pas un signe de calme."),
                mention_ids=[],
                kql=(f"source:{kql_value(key)}" if not key.startswith("platform:")
                     else f"platform:{kql_value(key.split(':', 1)[1])}"),
                details={"source": key, "silent_since": to_dt(silent_since).isoformat(), "reason": reason,
                         "share": round(share, 3), "outage": True},
            )
        return out

    def compact(self, now: float) -> None:
        self.arrivals.compact(now, fine_keep=DAY, keep=(self.options.profile_days + 1) * DAY, refs_keep=0)
        self._profile.clear()
        forget = now - 30 * DAY
        for key in [k for k, t in self.last.items() if t < forget]:
            self.last.pop(key, None)
            self.first.pop(key, None)

    def dump(self) -> dict[str, Any]:
        return {"arrivals": self.arrivals.dump(), "first": self.first, "last": self.last, "runs": self.runs}

    def load(self, data: dict[str, Any]) -> None:
        self.arrivals = Keyed.load(data.get("arrivals", {}))
        self.first = {k: float(v) for k, v in data.get("first", {}).items()}
        self.last = {k: float(v) for k, v in data.get("last", {}).items()}
        self.runs = {k: [float(x) for x in v] for k, v in data.get("runs", {}).items()}

    def counting_options(self) -> set[str]:
        return {"group_platforms", "ignore_sources"}
