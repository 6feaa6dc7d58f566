"""The weekly digest without servers: weeks, numbers, the recipients file, privacy, recommendations,
rendering (escaping, right-to-left, cid images) and the command line."""

from __future__ import annotations

import email
import re
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest import render
from digest.build import Digest
from digest.charts import daily_chart, myths_chart
from digest.config import RECIPIENTS_FILE, Privacy, load_recipients
from digest.fmt import fmt_delta, fmt_int, fmt_ratio, fmt_share
from digest.mail import digest_message
from digest.privacy import author_of, quote
from digest.queries import ClusterWeek, WeekFigures
from digest.recommend import Context, recommend
from digest.week import IsoWeek
from sada.cli_digest import run as digest_cli
from sada.errors import ConfigError, DataFileError
from sada.settings import Settings

CASA = ZoneInfo("Africa/Casablanca")


# -- weeks ----------------------------------------------------------------------------------------

def test_a_week_runs_from_monday_to_monday_in_casablanca_time():
    week = IsoWeek.parse("2026-W47", CASA)
    assert (week.monday, week.sunday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.start.astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert week.end.astimezone(UTC) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert week.span_fr() == "du lundi 16 au dimanche 22 novembre 2026"
    assert IsoWeek.parse("2026W05", CASA).span_fr() == "du lundi 26 janvier au dimanche 1 février 2026"
    assert str(week.previous()) == "2026-W46" and str(week.next()) == "2026-W48"


def test_the_monday_run_covers_the_previous_week_whatever_the_utc_date():
    monday_8am = datetime(2026, 11, 23, 8, 0, tzinfo=CASA)
    assert IsoWeek.before(monday_8am, CASA).label == "2026-W47"
    # Sunday 23:30 UTC is already Monday 00:30 in Casablanca: the week just ended is W47
    assert IsoWeek.before(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), CASA).label == "2026-W47"
    assert IsoWeek.before(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), CASA).label == "2026-W46"
    assert IsoWeek.parse("2027-W01", CASA).previous().label == "2026-W53"
    with pytest.raises(ValueError):
        IsoWeek.before(datetime(2026, 11, 23, 8, 0), CASA)  # noqa: DTZ001 - naive on purpose


@pytest.mark.parametrize("text", ["2026-47", "W47", "2025-W53", "2026-W00", ""])
def test_a_bad_week_is_refused(text):
    with pytest.raises(ConfigError):
        IsoWeek.parse(text, CASA)


def test_weeks_follow_the_local_calendar_when_morocco_changes_its_clock():
    lengths = {}
    for n in range(1, 54):
        w = IsoWeek.parse(f"2026-W{n:02d}", CASA)
        lengths[w.label] = w.end.timestamp() - w.start.timestamp()
    changed = {k: v for k, v in lengths.items() if v != 7 * 86400}
    assert changed and all(abs(v - 7 * 86400) == 3600 for v in changed.values())  # Ramadan: 167 h / 169 h


# -- numbers ----------------------------------------------------------------------------------------

def test_numbers_are_exact_and_changes_round_half_away_from_zero():
    assert fmt_int(3_260_231) == "3\u00a0260\u00a0231"
    assert fmt_delta(9, 3) == "+200\u00a0%" and fmt_delta(1, 8) == "-88\u00a0%" and fmt_delta(5, 5) == "="
    assert fmt_delta(3, 0) == "nouveau" and fmt_delta(0, 0) == "="
    assert fmt_share(1, 8) == "13\u00a0%" and fmt_share(0, 0) == "0\u00a0%"
    assert fmt_ratio(9, 3) == "×3" and fmt_ratio(13, 3) == "×4,3" and fmt_ratio(7, 0) == "×7"


# -- the recipients file ----------------------------------------------------------------------------

def test_the_shipped_recipients_file_is_valid():
    book = load_recipients(RECIPIENTS_FILE)
    assert book.recipients and book.ops and book.privacy.public_followers == 10_000


@pytest.mark.parametrize(("content", "field"), [
    ("version: 1\nrecipients:\n  - {email: a@b.example}\n  - {email: not-an-address}\n", "recipients.1.email"),
    ("version: 1\nrecipients: []\n", "recipients"),
    ("version: 1\nrecipients:\n  - {email: a@b.example}\nprivacy: {public_followers: -1}\n",
     "privacy.public_followers"),
    ("version: 1\nrecipients:\n  - {email: a@b.example}\nprivacy: {public_accounts: ['a b']}\n",
     "privacy.public_accounts"),
    ("version: 1\nrecipients:\n  - {email: a@b.example, role: boss}\n", "recipients.0.role"),
    ("version: 2\nrecipients:\n  - {email: a@b.example}\n", "version"),
    ("recipients: [\n", "(file)"),
    ("- just\n- a list\n", "(root)"),
])
def test_a_bad_recipients_file_names_the_file_and_the_field(tmp_path, content, field):
    path = tmp_path / "recipients.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_recipients(path)
    assert err.value.path == str(path) and err.value.field == field
    assert str(path) in str(err.value)


# -- privacy ----------------------------------------------------------------------------------------

def _m(**kw):
    base = {"platform": "x", "author": {"handle": "karima_private", "name": "Karima B.", "followers": 150},
            "text": "Bonjour", "toxicity": "none"}
    return {**base, **kw}


def test_private_persons_are_masked_public_ones_and_outlets_named():
    privacy = Privacy(public_followers=10_000, public_accounts=["@Journaliste_Connu"])
    assert author_of(_m(), privacy).label == "@k***"
    assert author_of(_m(author={"name": "زينب", "followers": 3}), privacy).label == "@ز***"
    assert author_of(_m(author={}), privacy).label == "compte privé"
    assert author_of(_m(author={"handle": "big", "name": "Big Page", "followers": 10_000}), privacy).label \
        == "@big (Big Page)"
    assert author_of(_m(author={"handle": "journaliste_connu", "followers": 12}), privacy).public
    assert author_of(_m(platform="news", source="hespress.com", author={}), privacy).label == "hespress.com"


def test_quotes_are_cleaned_masked_and_trimmed_and_hate_is_never_quoted():
    text = "\u202eA <b>B</b> @voisin_prive 0612345678 " + "mot " * 200
    shown = quote(_m(text=text), 100)
    assert "\u202e" not in shown and "voisin_prive" not in shown and "0612345678" not in shown
    assert len(shown) <= 100 and shown.endswith("…") and "<b>B</b>" in shown  # escaping is the renderer's job
    assert quote(_m(text="appel à la violence", toxicity="threat"), 100).startswith("[contenu masqué (menace)")


# -- recommendations -----------------------------------------------------------------------------------

def _week(label: str, **kw) -> WeekFigures:
    return WeekFigures(week=IsoWeek.parse(label, CASA), **kw)


def test_a_myth_tripling_on_youtube_recommends_the_counter_argument_video_there():
    cur = _week("2026-W47", volume=60, myths={"impunity": 9}, myth_platforms={"impunity": {"youtube": 9}})
    prev = _week("2026-W46", volume=50, myths={"impunity": 3}, myth_platforms={"impunity": {"youtube": 3}})
    [r] = recommend(Context(cur, prev, myth_titles={"impunity": "« C'est l'impunité »"}))
    assert r.title == "Le mythe « C'est l'impunité » a triplé sur YouTube"
    assert "vidéo" in r.action and "YouTube" in r.action
    assert r.evidence[0] == "Impunité sur YouTube : 3 → 9 mentions (×3)"


def test_small_numbers_recommend_nothing():
    cur = _week("2026-W47", volume=8, myths={"impunity": 4}, myth_platforms={"impunity": {"youtube": 4}},
                stances={"question": 2, "oppose": 6}, toxic=2, toxic_kinds={"insult": 2})
    prev = _week("2026-W46", volume=5, myths={"impunity": 1}, myth_platforms={"impunity": {"youtube": 1}})
    assert recommend(Context(cur, prev)) == []


def test_recommendations_cite_their_numbers_and_come_most_urgent_first():
    cur = _week("2026-W47", volume=100, stances={"oppose": 50, "support": 30, "question": 20},
                question_topics={"day_fine": 7}, toxic=12, toxic_kinds={"hate": 2, "insult": 10},
                toxic_platforms={"facebook": 8}, languages={"ary": 40, "fr": 60},
                clusters=[ClusterWeek("cl-1", 12, 0, {"ary": 6, "fr": 6}, {"x": 12}, {"mass_release": 12},
                                      {"oppose": 10, "support": 2})],
                myths={"mass_release": 12})
    prev = _week("2026-W46", volume=60, stances={"oppose": 10, "support": 30, "question": 20},
                 toxic=4, languages={"ary": 10, "fr": 50}, myths={"mass_release": 10})
    alerts = [{"status": "new"}, {"status": "resolved"}]
    keys = [r.key for r in recommend(Context(cur, prev, alerts))]
    assert keys == ["escalate", "cluster:cl-1", "toxic_rise", "oppose_share", "questions", "volume", "lang:ary"]
    everything = recommend(Context(cur, prev, alerts), limit=20)
    by_key = {r.key: r for r in everything}
    assert by_key["oppose_share"].evidence == ["part « opposé » : 17\u00a0% → 50\u00a0% (50 sur 100 mentions avec "
                                               "une position)"]
    assert by_key["questions"].evidence == ["20 questions cette semaine (semaine précédente : 20)",
                                            "dont 7 sur « Amende journalière »"]
    assert "alerts_pending" in by_key and "myth_growth:mass_release" not in by_key  # 12 < 1.5 × 10


# -- rendering --------------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>\u202e" + "x" * 10_000


@pytest.fixture
def digest() -> Digest:
    week = IsoWeek.parse("2026-W47", CASA)
    cur = WeekFigures(week=week, volume=3, reach=9_000_150, engagement=40, irrelevant=2,
                      platforms={"facebook": 2, "instagram": 1}, languages={"ary": 2, "fr": 1},
                      stances={"question": 1, "oppose": 2}, topics={"day_fine": 1}, myths={"mass_release": 2},
                      daily={d: (1 if i < 3 else 0) for i, d in enumerate(week.days())},
                      daily_stances={d: ({"oppose": 1} if i < 3 else {}) for i, d in enumerate(week.days())},
                      clusters=[ClusterWeek("cl-<x>", 2, 10, {"ary": 2}, {"facebook": 2}, {"mass_release": 2},
                                            {"oppose": 2}, sample={"text": "غادي يطلقو كاع الحباسة"})])
    prev = WeekFigures(week=week.previous(), volume=0, daily={d: 0 for d in week.previous().days()})
    top = [{"id": "a", "platform": "facebook", "author": {"handle": "big", "name": "<i>Big</i>", "followers": 9_000_000},
            "text": HOSTILE, "reach": 9_000_000, "engagement": 3, "published_at": "2026-11-17T10:00:00+00:00",
            "url": "javascript:alert(1)"},
           {"id": "b", "platform": "instagram", "author": {"handle": "karima_private", "followers": 150},
            "text": "شحال كتخلص فالنهار؟", "stance": "question", "reach": 150, "engagement": 37,
            "published_at": "2026-11-18T10:00:00+00:00", "url": "https://instagram.example/p/1"}]
    alerts = [{"alert_id": "al-1", "rule": "toxicity-surge", "severity": "critical", "status": "new",
               "fired_at": "2026-11-18T10:00:00+00:00", "summary": "Vague <b>haineuse</b>", "count": 9}]
    d = Digest(week, cur, prev, top, [top[1]], alerts, recommend(Context(cur, prev, alerts)),
               [daily_chart(cur, prev), myths_chart(cur, prev)], datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    book = load_recipients(RECIPIENTS_FILE)
    d.view = render.view(d, Settings(kibana_url="https://kb.example"), book)
    d.subject, d.html, d.text = d.view["subject"], render.html(d.view), render.text(d.view)
    return d


def test_the_html_escapes_every_user_value_and_marks_arabic_right_to_left(digest):
    h = digest.html
    assert "<script" not in h and "&lt;script&gt;" in h and "&lt;i&gt;Big&lt;/i&gt;" in h
    assert "\u202e" not in h and "x" * 300 not in h and "javascript:" not in h
    assert "Vague &lt;b&gt;haineuse&lt;/b&gt;" in h and "cl-&lt;x&gt;" in h
    assert re.search(r'<p dir="rtl" lang="ar" style="[^"]*text-align:right;[^"]*">شحال كتخلص فالنهار؟</p>', h)
    assert "@k***" in h and "karima_private" not in h
    assert '<style' not in h and 'class=' not in h  # inline styles only
    assert re.findall(r'src="cid:([^"]+)"', h) == [c.cid for c in digest.charts]
    assert 'data-figure="volume.cur"' in h and 'data-figure="irrelevant.cur">2<' in h
    assert "3 cette semaine ; <span" in h.replace("<strong data-figure=\"volume.scope\">3</strong>", "3")


def test_the_text_part_isolates_user_text_and_says_only_relevant_mentions_count(digest):
    t = digest.text
    assert "relevant: true" in t and "2 publications hors sujet" in t
    assert "\u2067شحال كتخلص فالنهار؟\u2069" in t
    assert "\u202e" not in t and "x" * 300 not in t
    assert "Mentions pertinentes : 3 / 0 / nouveau" in t


def test_the_standalone_html_embeds_the_charts(digest):
    standalone = digest.html_standalone()
    assert "cid:" not in standalone and standalone.count('src="data:image/png;base64,') == 2


def test_the_message_has_text_html_and_inline_charts_by_content_id(digest):
    book = load_recipients(RECIPIENTS_FILE)
    msg = digest_message(digest, book.recipients, Settings(smtp_from="Sada <veille@sada.example>"), send_number=3)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<digest.2026-W47.3@sada.digest>"
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png", "image/png"]
    cids = [p["Content-ID"] for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert cids == [f"<{c.cid}>" for c in digest.charts]
    assert parsed.get_body(("html",)).get_content().rstrip("\n") == digest.html.rstrip("\n")


# -- the command line -------------------------------------------------------------------------------

def test_the_command_checks_the_recipients_file(tmp_path, capsys):
    assert digest_cli(["digest", "--check"]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nrecipients:\n  - {email: nope}\n", encoding="utf-8")
    assert digest_cli(["digest", "--check", "--recipients", str(bad)]) == 2
    assert f"{bad}: recipients.0.email" in capsys.readouterr().err


def test_the_command_refuses_a_bad_week_and_force_without_send(capsys):
    assert digest_cli(["digest", "--week", "2026-W99", "--preview", str(Path("/nonexistent/x.html"))]) == 2
    assert "no ISO week 99" in capsys.readouterr().err
    assert digest_cli(["digest", "--force", "--preview", "x.html"]) == 2
    assert digest_cli(["digest"]) == 2
