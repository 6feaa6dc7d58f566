"""What the CM reads: French, escaped, right to left where Arabic, Casablanca time, signed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts import render
from alerts.channels.webhook import sign, verify
from alerts.links import fallback_discover_url
from alerts.model import Alert
from alerts.safetext import BIDI_CONTROLS, clean, isolate, mask_private, snippet

TZ = ZoneInfo("Africa/Casablanca")
EVIL = '<img src=x onerror=alert(1)> "prix" & \u202etxet\u202c ' + "abus " * 200
ARABIC = "الغني يشتري حريته بالعقوبات البديلة"


def alert(**over) -> Alert:
    details = {
        "sentence": "Rumeur en propagation : 18 publications.",
        "action": "Publier un rectificatif <b>factuel</b>.",
        "rule_description": "Une même affirmation reprise",
        "timezone": "Africa/Casablanca",
        "discover_url": fallback_discover_url("https://kibana.example", 'cluster_id:"c-1"',
                                              datetime(2026, 11, 10, 19, 0, tzinfo=UTC),
                                              datetime(2026, 11, 10, 20, 6, tzinfo=UTC)),
        "top_mentions": [
            {"id": "m1", "url": "javascript:alert(1)", "platform": "x", "author": "@grand <compte>",
             "followers": 900_000, "published_at": "2026-11-10T19:40:00+00:00", "text": snippet(EVIL), "masked": False,
             "dir": "ltr"},
            {"id": "m2", "url": "https://facebook.com/p/2", "platform": "facebook", "author": "compte privé",
             "followers": 120, "published_at": "2026-11-10T19:45:00+00:00", "text": ARABIC, "masked": False,
             "dir": "rtl"},
        ],
        "myth": {"id": "rich_buy_freedom", "title_fr": "« Les riches achètent leur liberté »",
                 "title_ar": "«الغني يشتري حريته»", "claim_fr": "x", "claim_ar": "x",
                 "counter_fr": ["Le montant est fixé selon les moyens."], "counter_ar": ["يُحدَّد المبلغ حسب الإمكانيات."],
                 "caution_fr": "Reconnaître l'inquiétude."},
        "cluster": {"id": "c-1", "posts": 18, "languages": {"fr": 12, "ar": 6}, "platforms": {"x": 10, "facebook": 8}},
    }
    base = dict(alert_id="al-1", rule="rumor-cluster", rule_type="rumor_cluster.v1", severity="critical", key="c-1",
                episode_id="ep-1", fired_at=datetime(2026, 11, 10, 20, 5, tzinfo=UTC), count=18,
                window_start=datetime(2026, 11, 10, 19, 0, tzinfo=UTC), window_end=datetime(2026, 11, 10, 20, 5, tzinfo=UTC),
                summary="Rumeur en propagation : 18 publications <script>x</script>", details=details)
    base.update(over)
    return Alert(**base)


def test_html_escapes_user_text_drops_unsafe_links_and_marks_arabic_right_to_left():
    html = render.html_body(alert())
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;factuel" in html
    assert "javascript:" not in html                        # the post's link is not rendered
    assert '<a href="https://facebook.com/p/2">' in html
    assert f'<p dir="rtl" lang="ar" style="text-align:right;margin:4px 0;">{ARABIC}</p>' in html
    assert '<ul dir="rtl" lang="ar"' in html and "يُحدَّد المبلغ" in html
    assert not set(html) & BIDI_CONTROLS
    assert "mardi 10 novembre 2026 à 21 h 05 (heure de Casablanca)" in html  # UTC+1, never UTC


def test_text_part_isolates_arabic_and_trims_long_posts():
    text = render.text_body(alert())
    assert f"\u2067{ARABIC}\u2069" in text                  # RLI … PDI around the Arabic snippet
    assert "\u202e" not in text and "txet" in text          # the override is gone, the letters stay
    assert "abus " * 100 not in text and "…" in text
    assert "21 h 05" in text and "sada alerts ack al-1" in text


def test_subject_is_one_line_even_when_the_summary_is_hostile():
    subject = render.subject(alert(summary="Alerte\r\nBcc: victime@example.com\u202e" + "x" * 400))
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 180
    assert subject.startswith("[Sada] CRITIQUE · Alerte Bcc")


def test_slack_and_telegram_escape_and_stay_within_limits():
    slack = json.dumps(render.slack_payload(alert()), ensure_ascii=False)
    assert "<img" not in slack and "&lt;img" in slack and "javascript:" not in slack
    long = alert(details={**alert().details, "top_mentions": alert().details["top_mentions"] * 50})
    tg = render.telegram_text(long)
    assert len(tg) <= 4000 and "<img" not in tg and "&lt;script&gt;" in tg


def test_discover_fallback_link_is_rison_and_url_encoded():
    url = alert().details["discover_url"]
    assert url.startswith("https://kibana.example/app/discover#/?_g=(")
    assert "time:(from:'2026-11-10T19:00:00.000Z',to:'2026-11-10T20:06:00.000Z')" in url
    assert "query:'cluster_id:%22c-1%22'" in url


def test_safe_text_helpers():
    assert clean("a\u202eb\u2066c\x00d\n\te") == "abc d e"
    assert mask_private("écrivez à ali@mail.ma ou au 06 12 34 56 78, @ali_b") == \
        "écrivez à [e-mail masqué] ou au [numéro masqué], @…"
    assert isolate("bonjour") == "\u2068bonjour\u2069" and isolate(ARABIC).startswith("\u2067")
    assert len(snippet("mot " * 500, 100)) <= 100


def test_webhook_signature_covers_timestamp_and_body():
    body, ts = b'{"a":1}', str(int(datetime.now(UTC).timestamp()))
    sig = sign(b"secret", ts, body)
    assert verify(b"secret", ts, body, sig)
    assert not verify(b"secret", ts, b'{"a":2}', sig)
    old = str(int((datetime.now(UTC) - timedelta(hours=1)).timestamp()))
    assert not verify(b"secret", old, body, sign(b"secret", old, body))  # a replayed old request


def test_alert_documents_round_trip_through_elasticsearch_shape():
    a = alert()
    doc = a.to_document()
    assert set(doc) == {"alert_id", "rule", "severity", "key", "status", "fired_at", "count", "baseline",
                        "mention_ids", "summary", "details", "deliveries"}
    doc["details"]["acknowledged_at"] = "2026-11-10T21:00:00+00:00"
    assert Alert.from_document(doc) == a
