"""What the Community Manager reads: the alert in French, as HTML, plain text, Slack or Telegram.

Every value that comes from a post or a data file is escaped where it is rendered
(``html.escape`` for HTML and Telegram, Slack's three characters for Slack) after
``safetext.clean`` removed bidi controls. Arabic snippets are marked ``dir="rtl"`` in HTML and
wrapped in Unicode isolates in plain text, so they read right to left without reordering the
French around them. Times are shown in the people's time zone (Africa/Casablanca).
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.model import KIND_LABEL_FR, SEVERITY_LABEL_FR, Alert
from alerts.safetext import clean, direction, is_rtl, isolate, one_line, slack_escape, trim
from alerts.timefmt import format_datetime, format_number, format_short, format_time

COLORS = {"info": "#1565c0", "warning": "#ef6c00", "critical": "#c62828"}
PLATFORM_FR = {"news": "presse", "x": "X", "facebook": "Facebook", "instagram": "Instagram", "youtube": "YouTube",
               "telegram": "Telegram", "reddit": "Reddit", "mastodon": "Mastodon", "replay": "rejeu"}


def _e(value: Any) -> str:
    return html.escape(clean(str(value)) if value is not None else "", quote=True)


def safe_url(url: Any) -> str | None:
    """Only http(s) links are rendered; anything else (javascript:, data:) is dropped."""
    if not isinstance(url, str):
        return None
    url = clean(url)
    return url if url.lower().startswith(("https://", "http://")) and " " not in url else None


def _dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _tz(alert: Alert, tz: ZoneInfo | None) -> ZoneInfo:
    return tz or ZoneInfo(alert.details.get("timezone") or "Africa/Casablanca")


def title_line(alert: Alert) -> str:
    label = SEVERITY_LABEL_FR[alert.severity]
    kind = KIND_LABEL_FR.get(alert.kind, "")
    return f"{label}{' · ' + kind if kind and alert.kind != 'summary' else ''}"


def subject(alert: Alert, tz: ZoneInfo | None = None) -> str:
    """One line, no user-controlled line breaks: ``[Sada] CRITIQUE · Rumeur en propagation : …``."""
    return one_line(f"[Sada] {title_line(alert)} · {alert.summary}", 180)


def figures(alert: Alert, tz: ZoneInfo) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    d = alert.details
    if alert.rule_type == "summary":
        return [("Alertes", str(alert.count))]
    if alert.rule_type.startswith("collector_flatline"):
        rows.append(("Silencieuse depuis", format_datetime(alert.window_start, tz) if alert.window_start else "—"))
        if alert.baseline is not None:
            rows.append(("Mentions attendues", format_number(alert.baseline)))
        return rows
    rows.append(("Mentions", format_number(alert.count)))
    if alert.baseline is not None:
        usual = format_number(alert.baseline)
        kind = d.get("baseline_kind")
        if kind == "seasonal":
            usual += f" (même heure, moyenne de {d.get('baseline_weeks')} semaine(s))"
        elif kind == "trailing":
            usual += " (moyenne des jours précédents)"
        rows.append(("Habituellement", usual))
    if d.get("ratio"):
        rows.append(("Rapport", f"×{format_number(d['ratio'])}"))
    if d.get("share") is not None:
        share = f"{round(d['share'] * 100)} %"
        if d.get("usual_share") is not None:
            share += f" (d'habitude {round(d['usual_share'] * 100)} %)"
        rows.append(("Part", share))
    if alert.window_start and alert.window_end:
        rows.append(("Période", f"{format_short(alert.window_start, tz)} → {format_time(alert.window_end, tz)}"))
    return rows


def _author_line(m: dict[str, Any], tz: ZoneInfo) -> str:
    parts = [clean(m.get("author")) or "compte privé", PLATFORM_FR.get(m.get("platform"), clean(m.get("platform")))]
    if m.get("followers"):
        parts.append(f"{format_number(m['followers'])} abonnés")
    published = _dt(m.get("published_at"))
    if published:
        parts.append(format_short(published, tz))
    return " · ".join(p for p in parts if p)


# -- plain text -------------------------------------------------------------------------------

def text_body(alert: Alert, tz: ZoneInfo | None = None) -> str:
    """The text/plain part: isolates around user text so Arabic reads right to left in place."""
    tz = _tz(alert, tz)
    d = alert.details
    out = [f"{title_line(alert)} — {format_datetime(alert.fired_at, tz)}", "", clean(alert.summary), ""]
    for label, value in figures(alert, tz):
        out.append(f"  {label} : {value}")
    if d.get("action"):
        out += ["", "Que faire :", f"  {clean(d['action'])}"]
    out += _notes(alert)
    if alert.rule_type == "summary":
        out += ["", "Alertes en attente :"]
        for item in d.get("items", []):
            when = _dt(item.get("fired_at"))
            out.append(f"  - {format_short(when, tz) if when else ''} [{item.get('severity')}] "
                       f"{isolate(trim(clean(item.get('summary')), 300))}")
    tops = d.get("top_mentions") or []
    if tops:
        out += ["", f"Les {len(tops)} publications les plus vues :"]
        for i, m in enumerate(tops, 1):
            out.append(f"  {i}. {isolate(clean(m.get('text')))}")
            out.append(f"     {_author_line(m, tz)}")
            url = safe_url(m.get("url"))
            if url:
                out.append(f"     {url}")
    myth = d.get("myth")
    if myth:
        out += ["", f"Contre-arguments validés — {clean(myth['title_fr'])} {isolate(clean(myth['title_ar']))}"]
        out += [f"  • {clean(c)}" for c in myth["counter_fr"]]
        out += [f"  • {isolate(clean(c))}" for c in myth["counter_ar"]]
        if myth.get("caution_fr"):
            out.append(f"  Attention : {clean(myth['caution_fr'])}")
    cluster = d.get("cluster")
    if cluster:
        langs = ", ".join(f"{clean(k)} {v}" for k, v in cluster.get("languages", {}).items())
        out += ["", f"Rumeur (cluster {clean(cluster['id'])}) : {cluster['posts']} publications ; langues : {langs}."]
    if d.get("discover_url"):
        out += ["", "Voir exactement ces mentions dans Kibana :", f"  {d['discover_url']}"]
    out += ["", f"Alerte {alert.alert_id} — pour en accuser réception : sada alerts ack {alert.alert_id}",
            f"Heures : {tz.key.split('/')[-1]} (heure locale). Les auteurs privés sont masqués (loi 09-08)."]
    return "\n".join(out) + "\n"


def _notes(alert: Alert) -> list[str]:
    d = alert.details
    out = []
    if alert.kind in ("escalated", "reminder") and d.get("reason"):
        out += ["", f"Pourquoi ce nouveau message : {clean(d['reason'])}."]
    if d.get("degraded_sources"):
        names = ", ".join(f"{clean(s['source'])} (depuis {s['since_local']})" for s in d["degraded_sources"])
        out += ["", f"Données partielles : source(s) muette(s) : {names}."]
    if d.get("grouped_into"):
        out += ["", f"Regroupée sous l'alerte {clean(d['grouped_into'])} ({clean(d.get('grouped_rule'))})."]
    return out


# -- HTML -------------------------------------------------------------------------------------

def _p_user(text: Any, *, extra_style: str = "") -> str:
    """A paragraph of user text with its own direction (Arabic right to left)."""
    value = clean(str(text or ""))
    rtl = is_rtl(value)
    attrs = ' dir="rtl" lang="ar" style="text-align:right;' if rtl else ' dir="ltr" style="'
    return f"<p{attrs}margin:4px 0;{extra_style}\">{html.escape(value, quote=True)}</p>"


def html_body(alert: Alert, tz: ZoneInfo | None = None) -> str:
    """The text/html part: inline styles only (mail clients drop <style>), everything escaped."""
    tz = _tz(alert, tz)
    d = alert.details
    color = COLORS[alert.severity]
    h: list[str] = [
        '<!doctype html><html lang="fr" dir="ltr"><head><meta charset="utf-8">',
        f"<title>{_e(subject(alert, tz))}</title></head>",
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#222;max-width:720px;margin:0 auto;padding:12px">',
        f'<div style="border-left:6px solid {color};padding:8px 12px;background:#fafafa">',
        f'<p style="margin:0;color:{color};font-weight:bold;font-size:13px">{_e(title_line(alert))} · '
        f"{_e(format_datetime(alert.fired_at, tz))}</p>",
        f'<h1 style="font-size:18px;margin:6px 0">{_e(alert.summary)}</h1>',
    ]
    if d.get("rule_description"):
        h.append(f'<p style="margin:0;color:#666;font-size:12px">{_e(d["rule_description"])}</p>')
    h.append("</div>")
    rows = figures(alert, tz)
    if rows:
        h.append('<table style="border-collapse:collapse;margin:12px 0;font-size:14px">')
        for label, value in rows:
            h.append(f'<tr><td style="padding:2px 12px 2px 0;color:#666">{_e(label)}</td>'
                     f"<td><strong>{_e(value)}</strong></td></tr>")
        h.append("</table>")
    if d.get("action"):
        h.append(f'<h2 style="font-size:15px">Que faire</h2><p>{_e(d["action"])}</p>')
    for note in _notes(alert):
        if note:
            h.append(f'<p style="color:#8a4b00">{_e(note)}</p>')
    if alert.rule_type == "summary":
        h.append('<h2 style="font-size:15px">Alertes en attente</h2><ul>')
        for item in d.get("items", []):
            when = _dt(item.get("fired_at"))
            h.append(f"<li>{_e(format_short(when, tz) if when else '')} [{_e(item.get('severity'))}] "
                     f"<span dir=\"auto\">{_e(trim(clean(item.get('summary')), 300))}</span></li>")
        h.append("</ul>")
    tops = d.get("top_mentions") or []
    if tops:
        h.append(f'<h2 style="font-size:15px">Les {len(tops)} publications les plus vues</h2><ol>')
        for m in tops:
            style = "color:#777;font-style:italic;" if m.get("masked") else ""
            h.append("<li style=\"margin-bottom:10px\">" + _p_user(m.get("text"), extra_style=style))
            url = safe_url(m.get("url"))
            link = f' · <a href="{html.escape(url, quote=True)}">ouvrir</a>' if url else ""
            h.append(f'<p style="margin:0;color:#666;font-size:12px">{_e(_author_line(m, tz))}{link}</p></li>')
        h.append("</ol>")
    myth = d.get("myth")
    if myth:
        h.append(f'<h2 style="font-size:15px">Contre-arguments validés : {_e(myth["title_fr"])} '
                 f'<span dir="rtl" lang="ar">{_e(myth["title_ar"])}</span></h2>')
        h.append('<ul lang="fr">' + "".join(f"<li>{_e(c)}</li>" for c in myth["counter_fr"]) + "</ul>")
        h.append('<ul dir="rtl" lang="ar" style="text-align:right">'
                 + "".join(f"<li>{_e(c)}</li>" for c in myth["counter_ar"]) + "</ul>")
        if myth.get("caution_fr"):
            h.append(f'<p style="color:#8a4b00"><strong>Attention :</strong> {_e(myth["caution_fr"])}</p>')
    cluster = d.get("cluster")
    if cluster:
        langs = ", ".join(f"{clean(k)} {v}" for k, v in cluster.get("languages", {}).items())
        plats = ", ".join(f"{PLATFORM_FR.get(k, clean(k))} {v}" for k, v in cluster.get("platforms", {}).items())
        h.append(f'<p style="font-size:13px;color:#444">Rumeur <code>{_e(cluster["id"])}</code> : '
                 f"{_e(cluster['posts'])} publications — langues : {_e(langs)} — plateformes : {_e(plats)}.</p>")
    url = safe_url(d.get("discover_url"))
    if url:
        h.append(f'<p style="margin:16px 0"><a href="{html.escape(url, quote=True)}" '
                 f'style="background:{color};color:#fff;padding:8px 14px;text-decoration:none;border-radius:4px">'
                 "Voir exactement ces mentions dans Kibana</a></p>")
    h.append(f'<p style="color:#888;font-size:11px;border-top:1px solid #ddd;padding-top:8px">Alerte '
             f"<code>{_e(alert.alert_id)}</code> — accuser réception : <code>sada alerts ack {_e(alert.alert_id)}</code>. "
             f"Heures de {_e(tz.key.split('/')[-1])}. Auteurs privés masqués (loi 09-08).</p>")
    h.append("</body></html>")
    return "\n".join(h)


# -- webhooks ---------------------------------------------------------------------------------

def webhook_payload(alert: Alert, tz: ZoneInfo | None = None) -> dict[str, Any]:
    """Generic JSON: the alert document plus its local times and the rendered text."""
    tz = _tz(alert, tz)
    doc = alert.model_dump(mode="json")
    doc["fired_at_local"] = format_datetime(alert.fired_at, tz)
    return {"version": 1, "type": "sada.alert", "alert": doc, "subject": subject(alert, tz),
            "text": text_body(alert, tz)}


def slack_payload(alert: Alert, tz: ZoneInfo | None = None) -> dict[str, Any]:
    """Slack-compatible (incoming webhook): ``text`` fallback plus blocks, mrkdwn-escaped."""
    tz = _tz(alert, tz)
    d = alert.details

    def s(value: Any, limit: int = 2900) -> str:
        return slack_escape(trim(clean(str(value or "")), limit))

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": trim(f"{title_line(alert)} — Sada", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{s(alert.summary)}*\n{s(format_datetime(alert.fired_at, tz))}"}},
    ]
    rows = figures(alert, tz)
    if rows:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{s(k)}*\n{s(v)}"} for k, v in rows[:10]]})
    if d.get("action"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Que faire* : {s(d['action'])}"}})
    lines = []
    for m in (d.get("top_mentions") or [])[:5]:
        url = safe_url(m.get("url"))
        text = s(m.get("text"), 280)
        text = isolate(text) if direction(text) == "rtl" else text
        lines.append(f"• {text} — {s(_author_line(m, tz))}" + (f" <{slack_escape(url)}|ouvrir>" if url else ""))
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": trim("\n".join(lines), 2900)}})
    myth = d.get("myth")
    if myth:
        counters = "\n".join(f"• {s(c)}" for c in myth["counter_fr"])
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": trim(f"*Contre-arguments — {s(myth['title_fr'])}*\n{counters}", 2900)}})
    url = safe_url(d.get("discover_url"))
    if url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Voir dans Kibana"}, "url": url}]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"`sada alerts ack {s(alert.alert_id)}`"}]})
    return {"text": subject(alert, tz), "blocks": blocks}


def telegram_text(alert: Alert, tz: ZoneInfo | None = None, limit: int = 4000) -> str:
    """Telegram HTML parse mode: only <b>, <a>, escaped text; under the 4096-character limit."""
    tz = _tz(alert, tz)
    d = alert.details
    parts = [f"<b>{_e(title_line(alert))}</b> — {_e(format_datetime(alert.fired_at, tz))}", _e(alert.summary)]
    rows = figures(alert, tz)
    if rows:
        parts.append("\n".join(f"{_e(k)} : {_e(v)}" for k, v in rows))
    if d.get("action"):
        parts.append(f"<b>Que faire</b> : {_e(d['action'])}")
    for i, m in enumerate((d.get("top_mentions") or [])[:5], 1):
        url = safe_url(m.get("url"))
        link = f' <a href="{html.escape(url, quote=True)}">ouvrir</a>' if url else ""
        parts.append(f"{i}. {isolate(_e(m.get('text')))}\n{_e(_author_line(m, tz))}{link}")
    myth = d.get("myth")
    if myth:
        parts.append(f"<b>Contre-arguments — {_e(myth['title_fr'])}</b>\n"
                     + "\n".join(f"• {_e(c)}" for c in myth["counter_fr"]))
    url = safe_url(d.get("discover_url"))
    if url:
        parts.append(f'<a href="{html.escape(url, quote=True)}">Voir ces mentions dans Kibana</a>')
    parts.append(f"<code>sada alerts ack {_e(alert.alert_id)}</code>")
    text = "\n\n".join(parts)
    while len(text) > limit and len(parts) > 3:
        parts.pop(-3)
        text = "\n\n".join(parts)
    return text


def to_json(payload: dict[str, Any]) -> bytes:
    """Canonical bytes for a webhook body (what the signature covers)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
