"""``high_reach_hostile``: a hostile post by a big account or a news outlet — alerts at once.

No window and no baseline: one post is enough. Key = the author (or the outlet), so a second
hostile post of the same account within the cooldown joins the same alert episode (and escalates
it if it is worse) instead of paging again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import Duration, kql_value
from alerts.rules.base import Context, Finding, Observation, RuleType
from alerts.safetext import one_line
from alerts.timefmt import format_number
from sada.model import Mention

Tox = Literal["insult", "hate", "threat", "defamation"]
TOX_FR = {"insult": "insultant", "hate": "haineux", "threat": "menaçant", "defamation": "diffamatoire"}


class HighReachOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_followers: int = Field(50_000, ge=1, description="an account with at least this many followers is 'big'")
    critical_followers: int = Field(500_000, ge=1)
    news_platforms: list[str] = Field(["news"], description="platforms whose sources are media outlets")
    outlets: list[str] = Field(default_factory=list, description="other sources treated as outlets (e.g. a TV page)")
    hostile_stances: list[Literal["oppose", "question", "neutral", "support"]] = Field(["oppose"])
    hostile_toxicity: list[Tox] = Field(["insult", "hate", "threat", "defamation"])
    critical_toxicity: list[Tox] = Field(["hate", "threat", "defamation"])
    max_age: Duration = Field(timedelta(hours=24), description="older posts (collected late) do not alert")
    memory: Duration = Field(timedelta(hours=24), description="how long an author's hostile posts are counted")


class HighReachHostile(RuleType):
    type_name = "high_reach_hostile.v1"
    Options = HighReachOptions
    rank = 1
    explains = True
    default_resolve_after = timedelta(hours=6)
    options: HighReachOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hits: dict[str, list[list[Any]]] = {}   # key -> [[ts, reach, id, critical, text], ...]
        self.pending: set[str] = set()

    def _outlet(self, m: Mention) -> bool:
        return m.platform.value in self.options.news_platforms or m.source in self.options.outlets

    def _hostile(self, m: Mention) -> bool:
        o = self.options
        return m.stance in o.hostile_stances or m.toxicity in o.hostile_toxicity

    def accepts(self, m: Mention) -> bool:
        big = (m.author.followers or 0) >= self.options.min_followers
        return (big or self._outlet(m)) and self._hostile(m) and super().accepts(m)

    def _key(self, m: Mention) -> str:
        if self._outlet(m) and not m.author.handle:
            return m.source
        return m.author.id or m.author.handle or m.source

    def tags(self, m: Mention) -> list[str]:
        return [self.tag(self._key(m))] if self.accepts(m) else []

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        o = self.options
        if obs.ts < obs.now - o.max_age.total_seconds():
            return ()
        key = self._key(m)
        critical = (m.author.followers or 0) >= o.critical_followers or m.toxicity in o.critical_toxicity
        who = self._who(m)
        how = self._how(m)
        myth = (m.myths or [None])[0]
        self.hits.setdefault(key, []).append([obs.ts, obs.ref[0], m.id, critical, f"{who}|{how}", myth])
        self.pending.add(key)
        return (key,)

    def _who(self, m: Mention) -> str:
        if self._outlet(m) and not m.author.handle:
            return f"le média {one_line(m.source, 80)}"
        name = one_line(m.author.handle or m.author.name or m.source, 80)
        handle = name if name.startswith("@") or m.author.handle is None else f"@{name}"
        followers = format_number(m.author.followers or 0)
        kind = "média" if self._outlet(m) else f"{followers} abonnés"
        return f"{handle} ({kind}, {m.platform.value})"

    def _how(self, m: Mention) -> str:
        if m.toxicity in TOX_FR:
            return f"publie un contenu {TOX_FR[m.toxicity]} sur la réforme"
        if m.myths:
            return "s'oppose à la réforme et relaie une idée reçue"
        return "s'oppose à la réforme"

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        out: dict[str, Finding] = {}
        wanted = self.pending if keys is None else self.pending & set(keys)
        for key in sorted(wanted):
            hits = self.hits.get(key, [])
            if not hits:
                continue
            latest = hits[-1]
            who, how = str(latest[4]).split("|", 1)
            n = len(hits)
            more = f" ({n} publications hostiles en 24 h)" if n > 1 else ""
            ids = [h[2] for h in sorted(hits, key=lambda h: (-h[1], h[2]))]
            out[key] = Finding(
                key=key,
                severity="critical" if any(h[3] for h in hits) else self.spec.severity,
                count=n,
                baseline=None,
                window_start=min(h[0] for h in hits),
                window_end=ctx.now,
                sentence=f"Publication hostile à forte audience : {who} {how}{more}.",
                action=("Évaluer une réponse factuelle et courtoise sous la publication, avec les chiffres validés ; "
                        "ne pas entrer en polémique. Si le contenu est diffamatoire ou menaçant, le signaler à la "
                        "plateforme et prévenir le responsable."),
                mention_ids=ids,
                kql="id:(" + " or ".join(kql_value(i) for i in ids) + ")",
                ids_exact=True,
                details={"reach": max(h[1] for h in hits)},
                myth=next((h[5] for h in reversed(hits) if len(h) > 5 and h[5]), None),
            )
        self.pending -= wanted
        return out

    def compact(self, now: float) -> None:
        oldest = now - self.options.memory.total_seconds()
        for key in list(self.hits):
            kept = [h for h in self.hits[key] if h[0] >= oldest]
            if kept:
                self.hits[key] = kept
            else:
                del self.hits[key]

    def ref_ids(self) -> set[str]:
        return {h[2] for hits in self.hits.values() for h in hits}

    def dump(self) -> dict[str, Any]:
        return {"hits": self.hits, "pending": sorted(self.pending)}

    def load(self, data: dict[str, Any]) -> None:
        self.hits = {k: [list(h) for h in v] for k, v in data.get("hits", {}).items()}
        self.pending = set(data.get("pending", []))
