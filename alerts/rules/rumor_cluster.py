"""``rumor_cluster``: the same claim repeated — a new cluster reaching N posts, or growing fast.

Clusters come from the rumor-cluster enricher (``cluster_id``), in any language. A rumor that
crosses into a second language (French to Arabic or Darija) is critical: it is spreading beyond
one community. The alert quotes the validated counter-arguments of the cluster's main myth.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import Duration, kql_value
from alerts.rules.base import Context, Finding, Observation, RuleType
from alerts.series import DAY, HOUR, bucket_of
from alerts.timefmt import format_time, to_dt
from sada.model import Mention


class RumorClusterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_posts: int = Field(15, ge=2, description="a new cluster alerts when it reaches this many posts")
    new_within: Duration = Field(timedelta(hours=48), description="'new': first post at most this old")
    growth_per_hour: int = Field(10, ge=1, description="any cluster growing by this many posts in an hour alerts")
    growth_min_posts: int = Field(8, ge=2, description="...once it has at least this many posts")
    critical_posts: int = Field(40, ge=2)
    critical_growth: int = Field(30, ge=1, description="posts in the last hour that make it critical")
    critical_languages: int = Field(2, ge=2, description="languages (with min_lang_posts each) that make it critical")
    min_lang_posts: int = Field(3, ge=1)
    active_within: Duration = Field(timedelta(hours=2), description="a cluster with no post for this long "
                                                                      "is no longer in alert")
    forget_after: Duration = Field(timedelta(days=7), description="clusters silent this long are forgotten")
    max_clusters: int = Field(20_000, ge=100)


class _Cluster:
    __slots__ = ("first", "last", "count", "langs", "platforms", "myths", "refs", "recent")

    def __init__(self, ts: float) -> None:
        self.first = self.last = ts
        self.count = 0
        self.langs: Counter[str] = Counter()
        self.platforms: Counter[str] = Counter()
        self.myths: Counter[str] = Counter()
        self.refs: list[tuple[int, str]] = []
        self.recent: dict[int, int] = {}

    def dump(self) -> list[Any]:
        return [self.first, self.last, self.count, dict(self.langs), dict(self.platforms), dict(self.myths),
                [list(r) for r in self.refs], sorted(self.recent.items())]

    @classmethod
    def load(cls, data: list[Any]) -> _Cluster:
        c = cls(float(data[0]))
        c.last, c.count = float(data[1]), int(data[2])
        c.langs, c.platforms, c.myths = Counter(data[3]), Counter(data[4]), Counter(data[5])
        c.refs = [(int(r), str(i)) for r, i in data[6]]
        c.recent = {int(b): int(n) for b, n in data[7]}
        return c


class RumorCluster(RuleType):
    type_name = "rumor_cluster.v1"
    Options = RumorClusterOptions
    rank = 1
    explains = True
    keep_refs = 12
    options: RumorClusterOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.clusters: dict[str, _Cluster] = {}

    def accepts(self, m: Mention) -> bool:
        return bool(m.cluster_id) and super().accepts(m)

    def tags(self, m: Mention) -> list[str]:
        return [self.tag(m.cluster_id)] if self.accepts(m) else []  # type: ignore[arg-type]

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        cid = m.cluster_id or ""
        c = self.clusters.get(cid)
        if c is None:
            c = self.clusters[cid] = _Cluster(obs.ts)
        c.first, c.last = min(c.first, obs.ts), max(c.last, obs.ts)
        c.count += 1
        c.langs[m.lang or "und"] += 1
        c.platforms[m.platform.value] += 1
        for myth in m.myths or ():
            c.myths[myth] += 1
        if len(c.refs) < self.keep_refs or obs.ref > c.refs[0]:
            bisect.insort(c.refs, obs.ref)
            del c.refs[: max(len(c.refs) - self.keep_refs, 0)]
        b = bucket_of(obs.ts)
        c.recent[b] = c.recent.get(b, 0) + 1
        return (cid,)

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        out: dict[str, Finding] = {}
        hour_from = bucket_of(ctx.now - HOUR) + 1
        for cid in (self.clusters if keys is None else keys):
            c = self.clusters.get(cid)
            if c is None or c.count < min(o.min_posts, o.growth_min_posts):
                continue
            if ctx.now - c.last > o.active_within.total_seconds():
                continue
            growth = sum(n for b, n in c.recent.items() if b >= hour_from)
            new = ctx.now - c.first <= o.new_within.total_seconds()
            if not ((c.count >= o.min_posts and new) or (growth >= o.growth_per_hour and c.count >= o.growth_min_posts)):
                continue
            langs = [lang for lang, n in c.langs.most_common() if n >= o.min_lang_posts]
            critical = (c.count >= o.critical_posts or growth >= o.critical_growth
                        or (len(langs) >= o.critical_languages and c.count >= o.min_posts))
            myth = c.myths.most_common(1)[0][0] if c.myths else None
            by_lang = ", ".join(f"{lang} {n}" for lang, n in c.langs.most_common())
            platforms = ", ".join(p for p, _ in c.platforms.most_common(4))
            since = format_time(to_dt(c.first), ctx.tz)
            cross = (f" La rumeur circule désormais en {len(langs)} langues." if len(langs) >= o.critical_languages
                     else "")
            top = sorted(c.refs, reverse=True)
            out[cid] = Finding(
                key=cid,
                severity="critical" if critical else self.spec.severity,
                count=c.count,
                baseline=None,
                window_start=c.first,
                window_end=ctx.now,
                sentence=(f"Rumeur en propagation : {c.count} publications reprennent la même affirmation depuis "
                          f"{since} ({by_lang} ; {platforms}), dont {growth} dans la dernière heure.{cross}"),
                action=("Publier un rectificatif factuel avec les contre-arguments ci-dessous, dans chacune des "
                        "langues où la rumeur circule, sans reprendre la formulation de la rumeur ; répondre "
                        "sous les publications les plus vues."),
                mention_ids=[rid for _, rid in top],
                kql=self.filter_kql(f"cluster_id:{kql_value(cid)}"),
                details={"cluster": {"id": cid, "posts": c.count, "first_post": to_dt(c.first).isoformat(),
                                     "last_hour": growth, "languages": dict(c.langs.most_common()),
                                     "platforms": dict(c.platforms.most_common()),
                                     "myths": dict(c.myths.most_common())}},
                myth=myth,
                level=growth,
            )
        return out

    def compact(self, now: float) -> None:
        o = self.options
        forget = now - o.forget_after.total_seconds()
        recent_from = bucket_of(now - 2 * HOUR) - 1
        for cid in list(self.clusters):
            c = self.clusters[cid]
            if c.last < forget or (c.count <= 2 and c.last < now - 2 * DAY):
                del self.clusters[cid]
                continue
            c.recent = {b: n for b, n in c.recent.items() if b >= recent_from}
        if len(self.clusters) > o.max_clusters:
            for cid in sorted(self.clusters, key=lambda k: self.clusters[k].last)[: len(self.clusters) - o.max_clusters]:
                del self.clusters[cid]

    def ref_ids(self) -> set[str]:
        return {rid for c in self.clusters.values() for _, rid in c.refs}

    def dump(self) -> dict[str, Any]:
        return {"clusters": {cid: c.dump() for cid, c in self.clusters.items()}}

    def load(self, data: dict[str, Any]) -> None:
        self.clusters = {cid: _Cluster.load(v) for cid, v in data.get("clusters", {}).items()}

