"""What to do this week: rules over the week's figures, each citing the numbers that justify it.

Every rule is a small function ``(context) -> list[Recommendation]`` registered in ``RULES``;
adding one is one function and one line. Thresholds are deliberately conservative (a minimum
count and a ratio): a recommendation the team acts on must not come from two posts.

A recommendation carries ``evidence``: the figures behind it, as the digest prints them, so
the reader can check them against the tables of the same e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from digest.fmt import fmt_int, fmt_ratio, fmt_share, pct_change, share
from digest.labels import FORMAT_FR, STATUS_FR, lang_fr, myth_fr, platform_fr, topic_fr
from digest.queries import WeekFigures

MIN_MYTH = 5             # mentions of a myth (on one platform) before it can trigger anything
MYTH_RATIO = 2.0         # ... and at least this many times last week's (last week counted as ≥ 1)
MIN_QUESTIONS = 3
MIN_OPPOSE = 20          # mentions with a stance before the opposition share means something
OPPOSE_SHARE = 35        # % of stanced mentions
OPPOSE_RISE = 10         # percentage points over last week
MIN_TOXIC = 5
TOXIC_RATIO = 1.5
MIN_LANG = 10
LANG_RATIO = 2.0
MIN_CLUSTER = 5
MIN_VOLUME_PREVIOUS = 20
VOLUME_RISE = 50         # %
MAX_RECOMMENDATIONS = 7


@dataclass
class Recommendation:
    key: str
    title: str
    action: str
    evidence: list[str]
    priority: int                # lower first
    weight: float = 0.0          # within a priority, larger first
    myth: str | None = None


@dataclass
class Context:
    current: WeekFigures
    previous: WeekFigures
    alerts: list[dict[str, Any]] = field(default_factory=list)
    myth_titles: dict[str, str] = field(default_factory=dict)


def _growth_word(current: int, previous: int) -> str:
    if previous == 0:
        return "apparaît"
    ratio = current / previous
    if ratio >= 4:
        return f"est multiplié par {int(ratio)}"
    if ratio >= 3:
        return "a triplé"
    if ratio >= 2:
        return "a doublé"
    return f"progresse de {pct_change(current, previous)} %"


def _where(platform: str) -> str:
    return "dans la presse" if platform == "news" else f"sur {platform_fr(platform)}"


def myth_surges(ctx: Context) -> list[Recommendation]:
    """A myth that at least doubled on some platforms: answer it there, in each platform's format.

    One recommendation per myth, naming the platforms where it surged, largest surge first.
    """
    out = []
    for myth, platforms in ctx.current.myth_platforms.items():
        before = ctx.previous.myth_platforms.get(myth, {})
        surging = sorted(((n * n / max(before.get(pf, 0), 1), pf, n, before.get(pf, 0))
                          for pf, n in platforms.items() if n >= MIN_MYTH and n >= MYTH_RATIO * max(before.get(pf, 0), 1)),
                         key=lambda s: (-s[0], s[1]))
        if not surging:
            continue
        _, top, n, p = surging[0]
        title = ctx.myth_titles.get(myth) or myth_fr(myth)
        also = [_where(pf) for _, pf, _, _ in surging[1:3]]
        action = f"Publier le contre-argument validé : {FORMAT_FR.get(top, 'une publication')}"
        action += f" ; l'adapter aussi {' et '.join(also)}." if also else "."
        evidence = [f"{myth_fr(myth)} {_where(pf)} : {fmt_int(b)} → {fmt_int(c)} mentions ({fmt_ratio(c, b)})"
                    for _, pf, c, b in surging[:3]]
        evidence.append(f"{myth_fr(myth)}, toutes plateformes : {fmt_int(ctx.previous.myths.get(myth, 0))} → "
                        f"{fmt_int(ctx.current.myths.get(myth, 0))}")
        out.append(Recommendation(
            key=f"myth_surge:{myth}:{top}", title=f"Le mythe {title} {_growth_word(n, p)} {_where(top)}",
            action=action, evidence=evidence, priority=2, weight=sum(s[0] for s in surging), myth=myth))
    return out


def myth_growth(ctx: Context) -> list[Recommendation]:
    """A myth growing overall (no single platform to blame)."""
    out = []
    for myth, n in ctx.current.myths.items():
        p = ctx.previous.myths.get(myth, 0)
        if n >= MIN_MYTH and n >= 1.5 * max(p, 1):
            title = ctx.myth_titles.get(myth) or myth_fr(myth)
            out.append(Recommendation(
                key=f"myth_growth:{myth}", title=f"Le mythe {title} progresse",
                action="Reprendre les contre-arguments validés (ci-dessous) dans les réponses de la semaine.",
                evidence=[f"{myth_fr(myth)} : {fmt_int(p)} → {fmt_int(n)} mentions ({fmt_ratio(n, p)})"],
                priority=4, weight=n, myth=myth))
    return out


def questions(ctx: Context) -> list[Recommendation]:
    n = ctx.current.stances.get("question", 0)
    if n < MIN_QUESTIONS:
        return []
    evidence = [f"{fmt_int(n)} questions cette semaine (semaine précédente : "
                f"{fmt_int(ctx.previous.stances.get('question', 0))})"]
    topic = next(iter(ctx.current.question_topics), None)
    target = "sur les points les plus demandés"
    if topic:
        k = ctx.current.question_topics[topic]
        evidence.append(f"dont {fmt_int(k)} sur « {topic_fr(topic)} »")
        target = f"sur « {topic_fr(topic)} »"
    return [Recommendation(key="questions", title="Le public pose des questions qui méritent une réponse",
                           action=f"Publier une FAQ courte {target} et répondre d'abord aux questions les plus "
                                  "engagées (section Questions).",
                           evidence=evidence, priority=3, weight=n)]


def opposition(ctx: Context) -> list[Recommendation]:
    def stanced(f: WeekFigures) -> int:
        return sum(v for k, v in f.stances.items() if k != "unlabelled")

    total, before = stanced(ctx.current), stanced(ctx.previous)
    now = share(ctx.current.stances.get("oppose", 0), total)
    then = share(ctx.previous.stances.get("oppose", 0), before)
    if total < MIN_OPPOSE or now < OPPOSE_SHARE or now - then < OPPOSE_RISE:
        return []
    return [Recommendation(
        key="oppose_share", title="L'opposition à la réforme progresse",
        action="Mettre en avant des témoignages de terrain et les chiffres officiels validés, là où le débat se tient.",
        evidence=[f"part « opposé » : {fmt_share(ctx.previous.stances.get('oppose', 0), before)} → "
                  f"{fmt_share(ctx.current.stances.get('oppose', 0), total)} "
                  f"({fmt_int(ctx.current.stances.get('oppose', 0))} sur {fmt_int(total)} mentions avec une position)"],
        priority=3, weight=now - then)]


def toxicity(ctx: Context) -> list[Recommendation]:
    out = []
    n, p = ctx.current.toxic, ctx.previous.toxic
    severe = sum(ctx.current.toxic_kinds.get(k, 0) for k in ("hate", "threat"))
    if severe:
        out.append(Recommendation(
            key="escalate", title="Contenus haineux ou menaçants à signaler",
            action="Les transmettre à un responsable pour signalement ; ne pas y répondre publiquement ni les relayer.",
            evidence=[" et ".join(f"{fmt_int(ctx.current.toxic_kinds[k])} {word}" for k, word in
                                  (("hate", "contenu(s) haineux"), ("threat", "menace(s)"))
                                  if ctx.current.toxic_kinds.get(k)) + " cette semaine"],
            priority=1, weight=severe))
    if n >= MIN_TOXIC and n >= TOXIC_RATIO * max(p, 1):
        platform = next(iter(ctx.current.toxic_platforms), None)
        where = f" {_where(platform)}" if platform else ""
        out.append(Recommendation(
            key="toxic_rise", title=f"La toxicité augmente{where}",
            action=f"Renforcer la modération{where} (masquer les insultes, rappeler la charte de la page).",
            evidence=[f"contenus toxiques : {fmt_int(p)} → {fmt_int(n)} ({fmt_ratio(n, p)})"]
            + ([f"dont {fmt_int(ctx.current.toxic_platforms[platform])}{where}"] if platform else []),
            priority=2, weight=n))
    return out


def clusters(ctx: Context) -> list[Recommendation]:
    out = []
    for c in ctx.current.clusters:
        langs = [lang for lang in c.languages if lang not in ("und",)]
        pushing = c.stances.get("oppose", 0) + c.stances.get("question", 0)
        if c.mentions < MIN_CLUSTER or len(langs) < 2 or pushing * 2 < c.mentions:
            continue
        names = ", ".join(lang_fr(lang) for lang in langs)
        about = f" ({ctx.myth_titles.get(c.myth) or myth_fr(c.myth)})" if c.myth else ""
        out.append(Recommendation(
            key=f"cluster:{c.cluster_id}", title=f"Une rumeur circule en plusieurs langues{about}",
            action=f"Répondre dans chacune de ces langues : {names} (contre-arguments FR/AR en section Rumeurs).",
            evidence=[f"rumeur {c.cluster_id} : {fmt_int(c.mentions)} mentions cette semaine, "
                      + ", ".join(f"{lang_fr(k)} {fmt_int(v)}" for k, v in c.languages.items())],
            priority=2, weight=c.mentions, myth=c.myth))
    return out[:2]


def languages(ctx: Context) -> list[Recommendation]:
    out = []
    for lang, n in ctx.current.languages.items():
        p = ctx.previous.languages.get(lang, 0)
        if lang in ("und", "unlabelled") or n < MIN_LANG or n < LANG_RATIO * max(p, 1):
            continue
        out.append(Recommendation(
            key=f"lang:{lang}", title=f"Le débat {_growth_word(n, p)} en {lang_fr(lang).lower()}",
            action=f"Produire ou adapter les contenus de la semaine en {lang_fr(lang).lower()}.",
            evidence=[f"mentions en {lang_fr(lang).lower()} : {fmt_int(p)} → {fmt_int(n)} ({fmt_ratio(n, p)})"],
            priority=5, weight=n))
    return out


def pending_alerts(ctx: Context) -> list[Recommendation]:
    pending = [a for a in ctx.alerts if a.get("status") == "new"]
    if not pending:
        return []
    return [Recommendation(
        key="alerts_pending", title="Des alertes de la semaine n'ont pas été traitées",
        action="Les prendre en compte ou les résoudre (`sada alerts ack ID` / `sada alerts resolve ID`).",
        evidence=[f"{fmt_int(len(pending))} alerte(s) au statut « {STATUS_FR['new']} » sur {fmt_int(len(ctx.alerts))}"],
        priority=6, weight=len(pending))]


def volume(ctx: Context) -> list[Recommendation]:
    n, p = ctx.current.volume, ctx.previous.volume
    change = pct_change(n, p)
    if p < MIN_VOLUME_PREVIOUS or change is None or change < VOLUME_RISE:
        return []
    return [Recommendation(
        key="volume", title="Le débat s'intensifie",
        action="Prévoir plus de temps de modération et de réponse cette semaine.",
        evidence=[f"mentions pertinentes : {fmt_int(p)} → {fmt_int(n)} (+{change} %)"],
        priority=5, weight=change)]


RULES: dict[str, Callable[[Context], list[Recommendation]]] = {
    "myth_surge.v1": myth_surges,
    "myth_growth.v1": myth_growth,
    "questions.v1": questions,
    "opposition.v1": opposition,
    "toxicity.v1": toxicity,
    "clusters.v1": clusters,
    "languages.v1": languages,
    "pending_alerts.v1": pending_alerts,
    "volume.v1": volume,
}


def recommend(ctx: Context, limit: int = MAX_RECOMMENDATIONS) -> list[Recommendation]:
    """Every rule's recommendations, most urgent first; a myth answered per platform is not
    repeated as a general myth recommendation."""
    found: list[Recommendation] = []
    for rule in RULES.values():
        found.extend(rule(ctx))
    per_platform = {r.myth for r in found if r.key.startswith("myth_surge:")}
    found = [r for r in found if not (r.key.startswith("myth_growth:") and r.myth in per_platform)]
    found.sort(key=lambda r: (r.priority, -r.weight, r.key))
    return found[:limit]
