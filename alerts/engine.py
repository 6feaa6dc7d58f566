"""The rule engine: mentions in, alerts out — the same code for the live consumer and the replay.

Time is injected: ``process(mention, now)`` moves the engine clock to ``now`` (the live consumer
passes the wall clock capped by the mention's collection time, the replay the mention's own
``collected_at``), and ``advance(now)`` lets time pass without mentions (flatline, resolutions,
the daily summary). The clock never goes back.

Episodes. Each rule reports which keys are in alert; the engine turns that into episodes, the
same way for every rule type:
- the first finding for a rule + key opens an episode and fires one alert;
- while the episode is open nothing is re-sent (dedup), except: a higher severity escalates at
  once; a condition still true (and not decaying) after the cooldown escalates one level — a
  sustained surge does not fall silent; a critical episode reminds every ``remind_every``
  unless acknowledged;
- an episode resolves after ``resolve_after`` without finding — never while a source is in
  outage, since its silence is not calm; a flapping condition within the cooldown reopens the
  same episode silently;
- a surge that an open alert of a more specific rule explains (the hate wave behind a volume
  spike, the rumor behind a myth surge) is recorded as ``grouped`` under it, not paged again;
- ``info`` alerts are held for the daily summary.

Alert ids derive from rule, key, episode start and sequence (engine time), so replaying the same
input after a restart re-creates the same ids: downstream deduplicates on them.

``snapshot()`` returns the whole state as JSON-ready data and ``Engine.restore`` rebuilds it:
a restored engine continues exactly as the original would have.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from alerts.links import Links
from alerts.model import Alert, Resolution, bump, severity_rank, stable_id
from alerts.rules.base import Finding, Observation, RuleType
from alerts.safetext import clean, direction, one_line, snippet, trim
from alerts.series import DAY, HOUR
from alerts.timefmt import format_time, to_dt
from sada.model import Mention

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
FINE_KEEP = 2 * DAY
EPISODE_ANCHOR = 300.0
# An alert explains later surges while its mentions may still sit in their windows.
EXPLAIN_MEMORY = DAY
MASKED_TOXICITY = ("hate", "threat", "defamation")
TOX_FR = {"insult": "insulte", "hate": "haine", "threat": "menace", "defamation": "diffamation"}
Output = Alert | Resolution


@dataclass
class EngineConfig:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Africa/Casablanca"))
    step: float = 60.0                 # time-driven checks every minute of engine time
    compact_every: float = HOUR
    summary_at: time = time(8, 0)      # local time of the daily summary of held alerts
    max_mention_ids: int = 100
    top_mentions: int = 5
    snippet_chars: int = 280
    public_followers: int = 10_000     # below: a private person, whose name is masked (Law 09-08)
    myth_hint_share: float = 0.3       # a myth carried by this share of the top mentions is quoted
    ungroup_after: float = 900.0       # a grouped surge is paged once unexplained for this long
    outlet_reach: int = 100_000        # ranking reach of a news article (no follower count)
    # A mention id counted within this span is not counted again. The pipeline delivers at least
    # once: a stage that retries a batch re-produces mentions already sent downstream, and a
    # redelivered batch must not look like a volume spike.
    dedup_keep: float = 3 * DAY


@dataclass
class Episode:
    rule: str
    key: str
    episode_id: str
    started: float
    last_active: float
    last_sent: float
    severity: str
    open: bool = True
    grouped: bool = False
    acked: bool = False
    level_at_last_sent: float = 0.0
    unexplained_since: float | None = None
    alert_ids: list[str] = field(default_factory=list)


def _ek(rule: str, key: str) -> str:
    return f"{rule}\x1f{key}"


class Engine:
    """Windows, episodes and alerts over a stream of enriched mentions."""

    def __init__(self, rules: Iterable[RuleType], *, config: EngineConfig | None = None, myths: Any = None,
                 links: Links | None = None) -> None:
        self.rules = sorted(rules, key=lambda r: (r.rank, r.name))
        self.by_name = {r.name: r for r in self.rules}
        if len(self.by_name) != len(self.rules):
            raise ValueError("two rules share a name")
        self.config = config or EngineConfig()
        self.tz = self.config.tz
        self._myths = myths
        self.links = links or Links()
        self.now: float | None = None
        self.history_start: float | None = None
        self.next_step = 0.0
        self.next_compact = 0.0
        self.episodes: dict[str, Episode] = {}
        self.last_sent: dict[str, float] = {}
        self.refs: dict[str, dict[str, Any]] = {}
        self.held: list[dict[str, Any]] = []
        self.last_summary: str | None = None
        self.outages: dict[str, float] = {}
        self.outage_history: list[list[Any]] = []
        self.stats: Counter[str] = Counter()
        self.seen: dict[str, float] = {}  # mention id -> engine time it was counted

    # -- the clock --------------------------------------------------------------------------

    def advance(self, now: datetime) -> list[Output]:
        """Let time pass (no mention): flatline checks, resolutions, reminders, daily summary."""
        return self._advance(now.timestamp())

    def _advance(self, t: float) -> list[Output]:
        if self.now is None:
            self.now = self.history_start = t
            self.next_step = (math.floor(t / self.config.step) + 1) * self.config.step
            self.next_compact = t + self.config.compact_every
            return []
        if t <= self.now:
            return []
        self.now = t
        if t < self.next_step:
            return []
        self.next_step = (math.floor(t / self.config.step) + 1) * self.config.step
        return self._step()

    # -- mentions ---------------------------------------------------------------------------

    def process(self, mention: Mention, now: datetime | None = None) -> list[Output]:
        """Count one mention at clock time ``now`` (default: its collection time) and evaluate."""
        clock = now or mention.collected_at or mention.published_at
        out = self._advance(clock.timestamp())
        assert self.now is not None
        if mention.id in self.seen:
            self.stats["duplicates"] += 1
            return out
        self.seen[mention.id] = self.now
        self.stats["mentions"] += 1
        accepted = [r for r in self.rules if r.accepts(mention)]
        if not accepted:
            return out
        ts = min(mention.published_at.timestamp(), self.now)
        tags = sorted({t for r in accepted if r.explains for t in r.tags(mention)})
        # News outlets carry no follower count; rank them as a large audience so the article
        # that started a wave shows among the top mentions.
        reach = mention.author.followers or (self.config.outlet_reach if mention.platform.value == "news" else 0)
        obs = Observation(ts=ts, now=self.now, fine_from=math.floor((self.now - FINE_KEEP) / HOUR) * HOUR,
                          ref=(reach, mention.id), tagset=",".join(tags))
        if any(not r.time_driven for r in accepted):
            self.refs[mention.id] = _ref_record(mention)
        for rule in accepted:
            keys = list(rule.observe(mention, obs))
            if keys and not rule.time_driven:
                out += self._apply(rule, rule.evaluate(keys, self), keys, full=False)
        return out

    def heartbeat(self, source: str, at: datetime, ok: bool, produced: int | None = None) -> None:
        """A collector run (from ``sada-collector-runs``): alive-but-quiet is not an outage."""
        for rule in self.rules:
            rule.heartbeat(source, at.timestamp(), ok, produced)

    def acknowledge(self, alert_id: str) -> bool:
        """A person acknowledged the alert: no more reminders for its episode."""
        for ep in self.episodes.values():
            if alert_id in ep.alert_ids:
                ep.acked = True
                return True
        return False

    # -- Context (what rules may ask) -------------------------------------------------------

    def outage_overlaps(self, start: float, end: float) -> bool:
        for _, since, until in self.outage_history:
            if since < end and until > start:
                return True
        return any(since < end for since in self.outages.values())

    def open_tags(self, below_rank: int) -> frozenset[str]:
        assert self.now is not None
        tags = set()
        for ep in self.episodes.values():
            rule = self.by_name.get(ep.rule)
            recent = ep.open or self.now - ep.last_active <= EXPLAIN_MEMORY
            if recent and rule is not None and rule.explains and rule.rank < below_rank:
                tags.add(rule.tag(ep.key))
        return frozenset(tags)

    def is_open(self, rule: str, key: str) -> bool:
        ep = self.episodes.get(_ek(rule, key))
        return ep is not None and ep.open

    def myth_title(self, myth: str) -> str:
        entry = self._myth_entry(myth)
        return entry.title.fr if entry is not None else f"« {myth} »"

    def _myth_entry(self, myth: str) -> Any:
        if self._myths is None:
            from sada.knowledge import myths

            self._myths = myths()
        return self._myths.myths.get(myth)

    # -- episodes ---------------------------------------------------------------------------

    def _apply(self, rule: RuleType, findings: dict[str, Finding], keys: Iterable[str] | None,
               *, full: bool) -> list[Output]:
        out: list[Output] = []
        for key in sorted(findings):
            out += self._on_finding(rule, findings[key])
        if full:
            checked = set(keys) if keys is not None else None
            for ep in sorted(self.episodes.values(), key=lambda e: e.key):
                if ep.rule == rule.name and ep.open and ep.key not in findings and (
                        checked is None or ep.key in checked):
                    out += self._maybe_resolve(rule, ep)
        return out

    def _on_finding(self, rule: RuleType, f: Finding) -> list[Output]:
        assert self.now is not None
        now = self.now
        ek = _ek(rule.name, f.key)
        ep = self.episodes.get(ek)
        cooldown = rule.spec.cooldown.total_seconds()
        if ep is not None and ep.open:
            ep.last_active = now
            if ep.grouped:
                # Paged only once the surge has stood on its own for a while: a count hovering at
                # the threshold must not flip between grouped and paged.
                if f.explained_by is not None:
                    ep.unexplained_since = None
                    return []
                if ep.unexplained_since is None:
                    ep.unexplained_since = now
                if now - ep.unexplained_since < self.config.ungroup_after:
                    return []
                ep.grouped = False
                return [self._emit(rule, ep, f, "fired", reason="ne s'explique plus par l'alerte déjà envoyée")]
            if severity_rank(f.severity) > severity_rank(ep.severity):
                return [self._emit(rule, ep, f, "escalated", reason="gravité en hausse")]
            growing = f.momentum() >= ep.level_at_last_sent and (
                not rule.windowed or (f.window_start or now) >= ep.last_sent)
            if (rule.spec.escalate_sustained and ep.severity != "critical" and growing
                    and now - ep.last_sent >= cooldown):
                return [self._emit(rule, ep, f, "escalated", severity=bump(ep.severity),
                                   reason="toujours en cours après le délai de silence")]
            remind = rule.spec.remind_every
            if (ep.severity == "critical" and remind is not None and not ep.acked and growing
                    and now - ep.last_sent >= remind.total_seconds()):
                return [self._emit(rule, ep, f, "reminder", severity=ep.severity, reason="toujours critique")]
            return []
        last = self.last_sent.get(ek)
        if ep is not None and last is not None and now - last < cooldown:
            ep.open, ep.last_active = True, now   # flapping within the cooldown: same episode, silent
            if rule.time_driven:
                self.outages[f.key] = f.window_start or now
            self.stats["reopened"] += 1
            return []
        # Anchored to the 5-minute bucket of its start (cooldowns are at least that long), not to
        # the second: mentions re-read in a slightly different order after a restart re-create
        # the same episode id, hence the same alert ids.
        anchor = math.floor(now / EPISODE_ANCHOR) * EPISODE_ANCHOR
        ep = Episode(rule=rule.name, key=f.key, episode_id=stable_id("ep", rule.name, f.key, anchor),
                     started=now, last_active=now, last_sent=now, severity=f.severity,
                     grouped=f.explained_by is not None)
        self.episodes[ek] = ep
        if rule.time_driven and f.details.get("outage"):
            self.outages[f.key] = f.window_start or now
        return [self._emit(rule, ep, f, "fired")]

    def _maybe_resolve(self, rule: RuleType, ep: Episode) -> list[Output]:
        assert self.now is not None
        if self.now - ep.last_active < rule.resolve_after.total_seconds():
            return []
        if self.outages and not rule.time_driven:
            self.stats["resolution_held_by_outage"] += 1
            return []
        ep.open = False
        if rule.time_driven and ep.key in self.outages:
            self.outage_history.append([ep.key, self.outages.pop(ep.key), self.now])
            self.outage_history = self.outage_history[-200:]
        self.stats["resolved"] += 1
        return [Resolution(rule=ep.rule, key=ep.key, episode_id=ep.episode_id, alert_ids=tuple(ep.alert_ids),
                           resolved_at=to_dt(self.now))]

    def _emit(self, rule: RuleType, ep: Episode, f: Finding, kind: str, *, severity: str | None = None,
              reason: str | None = None) -> Alert:
        assert self.now is not None
        severity = severity or f.severity
        seq = len(ep.alert_ids)
        alert_id = stable_id("al", rule.name, f.key, ep.episode_id, seq)
        delivery = "grouped" if ep.grouped else rule.spec.delivery_for(severity)
        ep.severity = severity
        ep.last_sent = self.now
        ep.level_at_last_sent = f.momentum()
        ep.alert_ids.append(alert_id)
        self.last_sent[_ek(rule.name, f.key)] = self.now
        prefix = {"escalated": "Aggravation — ", "reminder": "Toujours en cours — "}.get(kind, "")
        details = self._details(rule, f, ep, reason)
        alert = Alert(
            alert_id=alert_id, rule=rule.name, rule_type=rule.type_name, severity=severity, key=f.key,
            kind=kind, delivery=delivery, episode_id=ep.episode_id, sequence=seq, fired_at=to_dt(self.now),
            window_start=to_dt(f.window_start) if f.window_start is not None else None,
            window_end=to_dt(f.window_end), count=f.count, baseline=f.baseline,
            mention_ids=f.mention_ids[: self.config.max_mention_ids], summary=prefix + f.sentence,
            channels=rule.spec.channels, details=details,
        )
        self.stats[f"alerts_{delivery}"] += 1
        if delivery != "page":
            self.held.append({"alert_id": alert_id, "rule": rule.name, "key": f.key, "severity": severity,
                              "delivery": delivery, "fired_at": alert.fired_at.isoformat(), "count": f.count,
                              "summary": alert.summary, "grouped_into": details.get("grouped_into")})
        return alert

    # -- alert content ----------------------------------------------------------------------

    def _details(self, rule: RuleType, f: Finding, ep: Episode, reason: str | None) -> dict[str, Any]:
        cfg = self.config
        refs = [self.refs[i] for i in f.mention_ids if i in self.refs]
        masked_rule = bool(f.details.get("masked"))
        top = [self._public_ref(r, masked_rule) for r in refs[: cfg.top_mentions]]
        myth_id = f.myth or self._myth_hint(refs)
        details: dict[str, Any] = {
            **f.details,
            "sentence": f.sentence,
            "action": f.action,
            "rule_description": rule.spec.description,
            "top_mentions": top,
            "kql": f.kql,
            "ids_exact": f.ids_exact,
            "timezone": self.tz.key,
            "reason": reason,
        }
        start = to_dt(f.window_start if f.window_start is not None else f.window_end - HOUR)
        end = to_dt(f.window_end + 60)
        details["discover_url"] = self.links.discover(f.kql, start, end)
        if myth_id:
            entry = self._myth_entry(myth_id)
            if entry is not None:
                details["myth"] = {
                    "id": myth_id, "title_fr": entry.title.fr, "title_ar": entry.title.ar,
                    "claim_fr": entry.claim.fr, "claim_ar": entry.claim.ar,
                    "counter_fr": list(entry.counter.fr), "counter_ar": list(entry.counter.ar),
                    "caution_fr": entry.caution.fr if entry.caution else None,
                }
        degraded = {k: v for k, v in self.outages.items() if not (rule.time_driven and k == f.key)}
        if degraded:
            details["degraded_sources"] = [
                {"source": one_line(k, 80), "since": to_dt(v).isoformat(), "since_local": format_time(to_dt(v), self.tz)}
                for k, v in sorted(degraded.items())]
        if f.explained_by:
            rule_name, _, key = f.explained_by.partition("|")
            explaining = self.episodes.get(_ek(rule_name, key))
            if explaining is not None and explaining.alert_ids:
                details["grouped_into"] = explaining.alert_ids[0]
                details["grouped_rule"] = rule_name
        details["episode_started"] = to_dt(ep.started).isoformat()
        return details

    def _myth_hint(self, refs: list[dict[str, Any]]) -> str | None:
        counts = Counter(m for r in refs for m in r.get("myths") or ())
        if not counts:
            return None
        myth, n = counts.most_common(1)[0]
        return myth if n >= 3 and n >= self.config.myth_hint_share * len(refs) else None

    def _public_ref(self, r: dict[str, Any], masked_rule: bool) -> dict[str, Any]:
        """What an alert may show of a mention: private persons and hateful content masked."""
        cfg = self.config
        followers = r.get("followers") or 0
        outlet = r.get("platform") == "news"
        public = outlet or followers >= cfg.public_followers
        if public:
            who = one_line(r.get("handle") or r.get("name") or r.get("source"), 80)
            if r.get("handle") and not who.startswith("@") and not outlet:
                who = "@" + who
        else:
            who = "compte privé"
        tox = r.get("toxicity")
        masked = tox in MASKED_TOXICITY or (masked_rule and tox not in (None, "none"))
        text = r.get("text") or ""
        title = r.get("title")
        if masked:
            shown = f"[contenu masqué ({TOX_FR.get(tox, tox)}) — ouvrir le lien pour modérer]"
        else:
            shown = snippet((f"{title} — " if title else "") + text, cfg.snippet_chars)
        return {
            "id": r["id"], "url": r.get("url"), "platform": r.get("platform"), "source": one_line(r.get("source"), 80),
            "published_at": to_dt(r["published_at"]).isoformat(), "lang": r.get("lang"),
            "dir": "ltr" if masked else direction(shown), "text": shown, "masked": masked, "author": who,
            "followers": followers, "public_author": public, "stance": r.get("stance"), "toxicity": tox,
        }

    # -- time-driven work -------------------------------------------------------------------

    def _step(self) -> list[Output]:
        assert self.now is not None
        out: list[Output] = []
        if self.now >= self.next_compact:
            self._compact()
        for rule in self.rules:
            if rule.time_driven:
                out += self._apply(rule, rule.evaluate(None, self), None, full=True)
                continue
            open_keys = sorted(ep.key for ep in self.episodes.values() if ep.rule == rule.name and ep.open)
            if open_keys:
                out += self._apply(rule, rule.evaluate(open_keys, self), open_keys, full=True)
        out += self._maybe_summary()
        return out

    def _compact(self) -> None:
        assert self.now is not None
        self.next_compact = self.now + self.config.compact_every
        for rule in self.rules:
            rule.compact(self.now)
        keep: set[str] = set()
        for rule in self.rules:
            keep |= rule.ref_ids()
        self.refs = {k: v for k, v in self.refs.items() if k in keep}
        forget = self.now - 30 * DAY
        self.episodes = {k: e for k, e in self.episodes.items() if e.open or e.last_sent >= forget}
        self.last_sent = {k: t for k, t in self.last_sent.items() if t >= forget}
        seen_from = self.now - self.config.dedup_keep
        self.seen = {k: t for k, t in self.seen.items() if t >= seen_from}

    def _maybe_summary(self) -> list[Output]:
        assert self.now is not None
        local = to_dt(self.now).astimezone(self.tz)
        today = local.date().isoformat()
        if local.time() < self.config.summary_at or self.last_summary == today:
            return []
        self.last_summary = today
        if not self.held:
            return []
        held, self.held = self.held, []
        counts = Counter(h["delivery"] for h in held)
        parts = []
        if counts.get("summary"):
            parts.append(f"{counts['summary']} de faible gravité")
        if counts.get("grouped"):
            parts.append(f"{counts['grouped']} regroupée{'s' if counts['grouped'] > 1 else ''} sous une alerte déjà envoyée")
        episode = stable_id("ep", "daily-summary", today)
        alert_id = stable_id("al", "daily-summary", today, episode, 0)
        self.stats["alerts_summary_sent"] += 1
        return [Alert(
            alert_id=alert_id, rule="daily-summary", rule_type="summary", severity="info", key=today,
            kind="summary", delivery="page", episode_id=episode, fired_at=to_dt(self.now),
            window_start=datetime.fromisoformat(held[0]["fired_at"]), window_end=to_dt(self.now), count=len(held),
            summary=f"Résumé quotidien : {len(held)} alerte{'s' if len(held) > 1 else ''} non envoyée"
                    f"{'s' if len(held) > 1 else ''} sur le moment ({', '.join(parts)}).",
            details={"items": held, "sentence": "Alertes mises en attente depuis le dernier résumé.",
                     "action": "Parcourir la liste ; aucune n'exigeait une action immédiate.",
                     "timezone": self.tz.key, "top_mentions": []},
        )]

    # -- state ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole engine state as JSON-ready data."""
        return {
            "version": SNAPSHOT_VERSION,
            "now": self.now, "history_start": self.history_start,
            "next_step": self.next_step, "next_compact": self.next_compact,
            "episodes": [asdict(e) for e in self.episodes.values()],
            "last_sent": self.last_sent, "refs": self.refs, "held": self.held,
            "last_summary": self.last_summary, "outages": self.outages, "outage_history": self.outage_history,
            "rules": {r.name: {"type": r.type_name, "fingerprint": r.fingerprint(), "state": r.dump()}
                      for r in self.rules},
            "stats": dict(self.stats),
            "seen": self.seen,
        }

    @classmethod
    def restore(cls, rules: Iterable[RuleType], snapshot: dict[str, Any] | None, **kw: Any) -> Engine:
        """An engine from a snapshot; rules whose counting changed (or new rules) start empty."""
        engine = cls(rules, **kw)
        if not snapshot:
            return engine
        if snapshot.get("version") != SNAPSHOT_VERSION:
            log.warning("engine snapshot of another version ignored", extra={"version": snapshot.get("version")})
            return engine
        engine.now, engine.history_start = snapshot["now"], snapshot["history_start"]
        engine.next_step, engine.next_compact = snapshot["next_step"], snapshot["next_compact"]
        engine.episodes = {_ek(e["rule"], e["key"]): Episode(**e) for e in snapshot["episodes"]
                           if e["rule"] in engine.by_name}
        engine.last_sent = dict(snapshot["last_sent"])
        engine.refs = dict(snapshot["refs"])
        engine.held = list(snapshot["held"])
        engine.last_summary = snapshot["last_summary"]
        engine.outages = dict(snapshot["outages"])
        engine.outage_history = [list(x) for x in snapshot["outage_history"]]
        engine.stats = Counter(snapshot.get("stats", {}))
        engine.seen = dict(snapshot.get("seen", {}))
        saved = snapshot.get("rules", {})
        for rule in engine.rules:
            entry = saved.get(rule.name)
            if entry and entry.get("type") == rule.type_name and entry.get("fingerprint") == rule.fingerprint():
                rule.load(entry["state"])
            elif entry:
                log.warning("rule changed what it counts: its windows start empty", extra={"rule": rule.name})
        return engine


def _ref_record(m: Mention) -> dict[str, Any]:
    """The part of a mention an alert may need later (kept while a window points to it)."""
    metrics = m.metrics
    return {
        "id": m.id, "url": m.url, "platform": m.platform.value, "source": m.source,
        "published_at": m.published_at.timestamp(), "lang": m.lang,
        "text": trim(clean(m.text), 600), "title": trim(clean(m.title), 200) if m.title else None,
        "handle": m.author.handle, "name": m.author.name, "followers": m.author.followers,
        "engagement": metrics.likes + metrics.shares + metrics.comments,
        "stance": m.stance, "toxicity": m.toxicity, "myths": m.myths or [], "cluster_id": m.cluster_id,
    }

