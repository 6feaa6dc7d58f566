"""The digest as the campaign team reads it: French HTML (mail-client safe) and plain text.

``view`` turns the figures into display values once — user text cleaned of bidi controls,
private data masked, trimmed, its direction found; numbers formatted — and both renderings read
that view, so the HTML and the text part always say the same thing.

HTML: a Jinja2 template with autoescaping on (every value is escaped where it is printed),
tables for layout and inline styles only (mail clients drop ``<style>`` and flexbox), images by
``cid:`` (attached to the message) or, for a browser and the archive, as ``data:`` URIs.
Arabic text sits in elements with ``dir="rtl" lang="ar"``. Cells holding a figure carry
``data-figure="<name>"`` so a test (or a reader's tool) can find each number.

Plain text: user text wrapped in Unicode isolates (``alerts.safetext.isolate``), so Arabic reads
right to left without reordering the French around it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alerts.render import safe_url
from alerts.safetext import clean, direction, isolate, one_line, trim
from alerts.timefmt import format_datetime, format_short
from digest import privacy
from digest.config import RecipientsBook
from digest.fmt import fmt_delta, fmt_int, fmt_share
from digest.labels import (
    SEVERITY_FR,
    STANCE_ORDER,
    STATUS_FR,
    lang_fr,
    myth_fr,
    platform_fr,
    stance_fr,
    topic_fr,
)
from digest.queries import WeekFigures
from sada.kibana import ALERTS_DATA_VIEW, discover_url, kql_quote
from sada.settings import Settings

if TYPE_CHECKING:
    from digest.build import Digest

TEMPLATES = Path(__file__).resolve().parent / "templates"
RELEVANT = "relevant:true"
TOXIC_KQL = "toxicity:(insult or hate or threat or defamation)"
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
SNIPPET_TOP, SNIPPET_QUESTION, SNIPPET_CLUSTER, SUMMARY_ALERT = 280, 240, 240, 200


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def _ordered(current: dict[str, int], previous: dict[str, int], order: tuple[str, ...] = ()) -> list[str]:
    keys = set(current) | set(previous)
    if order:
        return [k for k in order if k in keys] + sorted(keys - set(order))
    return sorted(keys, key=lambda k: (-current.get(k, 0), -previous.get(k, 0), k))


def _rows(prefix: str, current: dict[str, int], previous: dict[str, int], label, *,
          total: int | None = None, previous_total: int | None = None,
          order: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows = []
    for key in _ordered(current, previous, order):
        cur, prev = current.get(key, 0), previous.get(key, 0)
        row = {"key": f"{prefix}.{key}", "id": key, "label": label(key), "cur": fmt_int(cur), "prev": fmt_int(prev),
               "delta": fmt_delta(cur, prev)}
        if total is not None:
            row["share"] = fmt_share(cur, total)
            row["prev_share"] = fmt_share(prev, previous_total or 0)
        rows.append(row)
    return rows


class _Links:
    """Discover deep links over the digest's week, one per section."""

    def __init__(self, settings: Settings, digest: Digest) -> None:
        self.settings = settings
        self.start, self.end = digest.week.start, digest.week.end

    def mentions(self, kql: str = "", *, sort: tuple[tuple[str, str], ...] = (("published_at", "desc"),)) -> str:
        query = f"{RELEVANT} and {kql}" if kql else RELEVANT
        return discover_url(self.settings.kibana_url, query, self.start, self.end,
                            data_view_id=self.settings.kibana_data_view, sort=sort,
                            columns=("platform", "lang", "stance", "text", "reach", "engagement"))

    def alerts(self) -> str:
        return discover_url(self.settings.kibana_url, "", self.start, self.end, data_view_id=ALERTS_DATA_VIEW,
                            sort=(("fired_at", "desc"),), columns=("severity", "rule", "status", "summary"))


def _local(value: Any, settings: Settings) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else None


def _mention(m: dict[str, Any], rank: int, book: RecipientsBook, settings: Settings, limit: int) -> dict[str, Any]:
    text = privacy.quote(m, limit)
    author = privacy.author_of(m, book.privacy)
    published = _local(m.get("published_at"), settings)
    return {
        "rank": rank, "text": text, "dir": "ltr" if privacy.masked_reason(m) else direction(text),
        "masked": bool(privacy.masked_reason(m)), "author": author.label, "public": author.public,
        "platform": platform_fr(m.get("platform")), "reach": fmt_int(m.get("reach") or 0),
        "engagement": fmt_int(m.get("engagement") or 0),
        "published": format_short(published, settings.tz) if published else "",
        "url": safe_url(m.get("url")), "topics": ", ".join(topic_fr(t) for t in m.get("topics") or []),
        "stance": stance_fr(m.get("stance") or "unlabelled"),
    }


def _myth_entry(myth: str | None) -> dict[str, Any] | None:
    if not myth:
        return None
    from sada.knowledge import myths

    entry = myths().myths.get(myth)
    if entry is None:
        return None
    return {"id": myth, "title_fr": clean(entry.title.fr), "title_ar": clean(entry.title.ar),
            "counter_fr": [clean(c) for c in entry.counter.fr], "counter_ar": [clean(c) for c in entry.counter.ar],
            "caution_fr": clean(entry.caution.fr) if entry.caution else None}


def _clusters(d: Digest, settings: Settings, links: _Links) -> list[dict[str, Any]]:
    out = []
    shown: set[str] = set()  # a myth's counter-arguments are printed once, under its first cluster
    for c in d.current.clusters:
        sample = c.sample or {}
        doc = c.doc or {}
        rep = doc.get("representative") or sample.get("text") or ""
        text = privacy.quote({"text": rep, "toxicity": sample.get("toxicity")}, SNIPPET_CLUSTER)
        first = _local(doc.get("first_seen"), settings)
        out.append({
            "id": one_line(c.cluster_id, 60), "key": f"cluster.{c.cluster_id}.week", "mentions": fmt_int(c.mentions),
            "size": fmt_int(doc["size"]) if isinstance(doc.get("size"), int) else None,
            "first_seen": format_short(first, settings.tz) if first else None,
            "text": text, "dir": direction(text), "reach": fmt_int(c.reach),
            "languages": ", ".join(f"{lang_fr(k)} {fmt_int(v)}" for k, v in c.languages.items()),
            "platforms": ", ".join(f"{platform_fr(k)} {fmt_int(v)}" for k, v in c.platforms.items()),
            "stances": ", ".join(f"{stance_fr(k).lower()} {fmt_int(v)}" for k, v in c.stances.items()),
            "myth": _myth_entry(c.myth), "myth_repeat": c.myth in shown,
            "link": links.mentions(f"cluster_id:{kql_quote(c.cluster_id)}"),
        })
        if c.myth:
            shown.add(c.myth)
    return out


def _counters(d: Digest, clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counter-arguments of the myths the recommendations name and no listed rumor already shows."""
    in_clusters = {c["myth"]["id"] for c in clusters if c["myth"]}
    out, seen = [], set()
    for r in d.recommendations:
        if r.myth and r.myth not in in_clusters and r.myth not in seen:
            entry = _myth_entry(r.myth)
            if entry:
                out.append(entry)
                seen.add(r.myth)
    return out


def _alerts(d: Digest, settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = []
    for a in d.alerts:
        fired = _local(a.get("fired_at"), settings)
        rows.append({"fired": format_short(fired, settings.tz) if fired else "",
                     "severity": SEVERITY_FR.get(a.get("severity"), clean(str(a.get("severity")))),
                     "critical": a.get("severity") == "critical",
                     "rule": one_line(str(a.get("rule") or ""), 60),
                     "summary": trim(clean(str(a.get("summary") or "")), SUMMARY_ALERT),
                     "status": STATUS_FR.get(a.get("status"), clean(str(a.get("status")))),
                     "count": fmt_int(a.get("count") or 0), "id": one_line(str(a.get("alert_id") or ""), 60)})
    statuses = []
    for status in ("new", "acknowledged", "resolved"):
        n = sum(1 for a in d.alerts if a.get("status") == status)
        statuses.append({"key": f"alerts.status.{status}", "label": STATUS_FR[status], "count": fmt_int(n)})
    return rows, statuses


def _stance_rows(c: WeekFigures, p: WeekFigures) -> list[dict[str, Any]]:
    return _rows("stance", c.stances, p.stances, stance_fr, total=c.volume, previous_total=p.volume,
                 order=STANCE_ORDER)


def view(d: Digest, settings: Settings, book: RecipientsBook) -> dict[str, Any]:
    """Every display value of the digest (see the module docstring)."""
    c, p = d.current, d.previous
    tz = settings.tz
    links = _Links(settings, d)
    label = d.week.label
    subject = one_line(f"{book.subject_prefix} Veille hebdomadaire {label} ({d.week.span_fr()}) : "
                       f"{fmt_int(c.volume)} mentions ({fmt_delta(c.volume, p.volume)})", 200)
    myth_rows = _rows("myth", c.myths, p.myths, myth_fr)
    for row in myth_rows:
        entry = _myth_entry(row["id"])
        row["title_ar"] = entry["title_ar"] if entry else ""
        row["link"] = links.mentions(f"myths:{row['id']}")
    topic_rows = _rows("topic", c.topics, p.topics, topic_fr)
    for row in topic_rows:
        row["link"] = links.mentions(f"topics:{row['id']}")
    alerts, statuses = _alerts(d, settings)
    clusters = _clusters(d, settings, links)
    prev_days = list(p.daily.values())
    daily = [{"key": f"daily.{day.isoformat()}", "label": f"{_DAYS[day.weekday()]} {day.day}",
              "count": fmt_int(n), "prev": fmt_int(prev_days[i]) if i < len(prev_days) else "—"}
             for i, (day, n) in enumerate(c.daily.items())]
    return {
        "subject": subject,
        "week": label,
        "span": d.week.span_fr(),
        "previous_week": d.week.previous().label,
        "city": tz.key.split("/")[-1].replace("_", " "),
        "generated": format_datetime(d.generated_at, tz),
        "volume": fmt_int(c.volume),
        "irrelevant": fmt_int(c.irrelevant),
        "public_followers": fmt_int(book.privacy.public_followers),
        "headline": [
            {"key": "volume", "label": "Mentions pertinentes", "cur": fmt_int(c.volume), "prev": fmt_int(p.volume),
             "delta": fmt_delta(c.volume, p.volume), "link": links.mentions()},
            {"key": "reach", "label": "Audience potentielle (abonnés cumulés)", "cur": fmt_int(c.reach),
             "prev": fmt_int(p.reach), "delta": fmt_delta(c.reach, p.reach),
             "link": links.mentions(sort=(("reach", "desc"),))},
            {"key": "engagement", "label": "Engagement (j'aime, partages, commentaires)", "cur": fmt_int(c.engagement),
             "prev": fmt_int(p.engagement), "delta": fmt_delta(c.engagement, p.engagement),
             "link": links.mentions(sort=(("engagement", "desc"),))},
            {"key": "toxic", "label": "Contenus toxiques", "cur": fmt_int(c.toxic), "prev": fmt_int(p.toxic),
             "delta": fmt_delta(c.toxic, p.toxic), "link": links.mentions(TOXIC_KQL)},
        ],
        "toxic_kinds": ", ".join(f"{privacy.TOXICITY_FR.get(k, k)} {fmt_int(v)}" for k, v in c.toxic_kinds.items()),
        "platforms": _rows("platform", c.platforms, p.platforms, platform_fr, total=c.volume, previous_total=p.volume),
        "languages": _rows("lang", c.languages, p.languages, lang_fr, total=c.volume, previous_total=p.volume),
        "stances": _stance_rows(c, p),
        "daily": daily,
        "topics": topic_rows,
        "myths": myth_rows,
        "clusters": clusters,
        "counters": _counters(d, clusters),
        "alerts": alerts,
        "alert_statuses": statuses,
        "alerts_total": fmt_int(len(d.alerts)),
        "top": [_mention(m, i, book, settings, SNIPPET_TOP) for i, m in enumerate(d.top, 1)],
        "questions": [_mention(m, i, book, settings, SNIPPET_QUESTION) for i, m in enumerate(d.questions, 1)],
        "questions_total": fmt_int(c.stances.get("question", 0)),
        "recommendations": [{"title": clean(r.title), "action": clean(r.action),
                             "evidence": [clean(e) for e in r.evidence]} for r in d.recommendations],
        "charts": [{"cid": ch.cid, "alt": ch.alt, "filename": ch.filename,
                    "data": base64.b64encode(ch.png).decode("ascii")} for ch in d.charts],
        "links": {
            "all": links.mentions(), "toxic": links.mentions(TOXIC_KQL), "myths": links.mentions("myths:*"),
            "topics": links.mentions("topics:*"), "clusters": links.mentions("cluster_id:*"),
            "top": links.mentions(sort=(("reach", "desc"),)),
            "questions": links.mentions("stance:question", sort=(("engagement", "desc"),)),
            "alerts": links.alerts(),
        },
    }


def html(v: dict[str, Any], *, images: str = "cid") -> str:
    """The HTML part; ``images`` is ``cid`` (e-mail) or ``data`` (browser, archive)."""
    if images not in ("cid", "data"):
        raise ValueError("images is 'cid' or 'data'")
    charts = [{**ch, "src": f"cid:{ch['cid']}" if images == "cid" else f"data:image/png;base64,{ch['data']}"}
              for ch in v["charts"]]
    return _env().get_template("digest.html").render(v=v, charts=charts)


# -- plain text -----------------------------------------------------------------------------------

def _table(rows: list[dict[str, Any]], share: bool = False) -> list[str]:
    out = []
    for r in rows:
        line = f"  - {r['label']} : {r['cur']} (semaine précédente {r['prev']}, {r['delta']})"
        if share:
            line += f" — {r['share']} des mentions"
        out.append(line)
    return out or ["  (aucune)"]


def _mention_lines(m: dict[str, Any], extra: str) -> list[str]:
    lines = [f"  {m['rank']}. {isolate(m['text'])}",
             f"     {isolate(m['author'])} · {m['platform']} · {extra} · {m['published']}"]
    if m["url"]:
        lines.append(f"     {m['url']}")
    return lines


def _counter_lines(m: dict[str, Any], indent: str) -> list[str]:
    out = [f"{indent}Contre-arguments validés — {m['title_fr']} {isolate(m['title_ar'])}"]
    out += [f"{indent}  • {x}" for x in m["counter_fr"]]
    out += [f"{indent}  • {isolate(x)}" for x in m["counter_ar"]]
    if m["caution_fr"]:
        out.append(f"{indent}  Attention : {m['caution_fr']}")
    return out


def text(v: dict[str, Any]) -> str:
    """The text/plain part (same content as the HTML, user text in isolates)."""
    out = [f"SADA — VEILLE HEBDOMADAIRE {v['week']}", f"Semaine {v['span']} (heure de {v['city']})", "",
           f"Périmètre : seules les mentions pertinentes pour la réforme (relevant: true) sont comptées : "
           f"{v['volume']} cette semaine ; {v['irrelevant']} publications hors sujet ont été écartées.", "",
           "CHIFFRES CLÉS (cette semaine / semaine précédente / évolution)"]
    for r in v["headline"]:
        out.append(f"  - {r['label']} : {r['cur']} / {r['prev']} / {r['delta']}")
    if v["toxic_kinds"]:
        out.append(f"    dont {v['toxic_kinds']}")
    out += ["", "Par plateforme :", *_table(v["platforms"], share=True), "", "Par langue :",
            *_table(v["languages"], share=True), "", "Positions :"]
    for r in v["stances"]:
        out.append(f"  - {r['label']} : {r['cur']} ({r['share']} ; semaine précédente {r['prev']}, {r['prev_share']})")
    out += ["", "QUE FAIRE CETTE SEMAINE"]
    for i, r in enumerate(v["recommendations"], 1):
        out += [f"  {i}. {r['title']}", f"     → {r['action']}"]
        out += [f"     · {e}" for e in r["evidence"]]
    if not v["recommendations"]:
        out.append("  Rien d'inhabituel cette semaine.")
    out += ["", "MENTIONS PAR JOUR (semaine précédente entre parenthèses)"]
    out += [f"  - {r['label']} : {r['count']} ({r['prev']})" for r in v["daily"]]
    out += ["", "SUJETS", *_table(v["topics"]), "", "MYTHES", *_table(v["myths"])]
    for m in v["counters"]:
        out += _counter_lines(m, "  ")
    out += ["", "RUMEURS À SURVEILLER ET CONTRE-ARGUMENTS"]
    for c in v["clusters"]:
        out += [f"  * Rumeur {c['id']} : {c['mentions']} mentions cette semaine"
                + (f" ({c['size']} au total, depuis le {c['first_seen']})" if c["size"] else ""),
                f"    « {isolate(c['text'])} »", f"    Langues : {c['languages']} ; plateformes : {c['platforms']} ; positions : {c['stances']}"]
        if c["myth"] and c["myth_repeat"]:
            out.append(f"    Contre-arguments : {c['myth']['title_fr']}, voir plus haut.")
        elif c["myth"]:
            out += _counter_lines(c["myth"], "    ")
        out.append(f"    Kibana : {c['link']}")
    if not v["clusters"]:
        out.append("  Aucune rumeur répétée cette semaine.")
    out += ["", f"ALERTES DE LA SEMAINE : {v['alerts_total']} ("
            + ", ".join(f"{s['count']} {s['label']}" for s in v["alert_statuses"]) + ")"]
    out += [f"  - {a['fired']} [{a['severity']}] {a['rule']} — {isolate(a['summary'])} — {a['status']}"
            for a in v["alerts"]]
    out += ["", "PUBLICATIONS LES PLUS VUES (par audience potentielle)"]
    for m in v["top"]:
        out += _mention_lines(m, f"audience {m['reach']}, engagement {m['engagement']}")
    out += ["", f"QUESTIONS DU PUBLIC À TRAITER ({v['questions_total']} cette semaine, les plus engagées)"]
    for m in v["questions"]:
        out += _mention_lines(m, f"engagement {m['engagement']}" + (f" · {m['topics']}" if m["topics"] else ""))
    out += ["", "DANS KIBANA"]
    names = {"all": "Toutes les mentions pertinentes", "top": "Par audience", "toxic": "Contenus toxiques",
             "myths": "Mythes", "topics": "Sujets", "clusters": "Rumeurs", "questions": "Questions",
             "alerts": "Alertes"}
    out += [f"  {names[k]} : {url}" for k, url in v["links"].items()]
    out += ["", "Loi 09-08 : les comptes de personnes privées sont masqués (@k***) ; médias, personnalités publiques "
            f"et comptes d'au moins {v['public_followers']} abonnés sont nommés. Les noms de personnes cités dans le texte des "
            "publications ne sont pas détectés : les extraits sont courts, le texte complet est dans Kibana.",
            "Les contenus haineux, menaçants ou diffamatoires ne sont jamais cités.",
            f"Généré le {v['generated']}."]
    return "\n".join(out) + "\n"
