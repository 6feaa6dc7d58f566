"""The weekly digest end to end: Elasticsearch → the ``weekly_digest`` DAG → a real SMTP server.

The test indexes two known weeks of mentions (2026-W46 and 2026-W47, with off-topic posts, posts
on the week's local-time edges and hostile posts), alerts and rumor clusters under its own index
prefix, runs the DAG with ``dag.test()`` in a child process (Airflow configures global state on
import; see test_dags.py) against an aiosmtpd server on loopback, and parses what arrived: every
figure of the HTML part is compared with one the test computes from the documents it indexed.
"""

from __future__ import annotations

import email
import math
import random
import re
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller
from elasticsearch import helpers

from alerts.model import Alert
from alerts.store import AlertStore
from consumers.index import to_document
from digest.config import DigestSettings
from digest.deliver import send_week
from digest.week import IsoWeek
from sada import es as sada_es
from sada.cli_digest import run as digest_cli
from sada.indices import ensure_indices, template_names
from sada.model import Mention, mention_id
from sada.settings import Settings, get_settings
from tests.integration.conftest import DagRunner

PYTHON = sys.executable
CASA = ZoneInfo("Africa/Casablanca")
WEEK = IsoWeek.parse("2026-W47", CASA)
PREVIOUS = WEEK.previous()
MONDAY_RUN = datetime(2026, 11, 23, 8, 0, tzinfo=CASA)  # the scheduled run that covers 2026-W47
TEAM = ["campagne@ncsc.example", "experts@justice.example", "veille@dgapr.example"]
OPS = "ops@sada.example"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
LONG_POST = "<script>alert('digest')</script> \u202eevil\u202c " + "A" * 10_000


# -- the two weeks ----------------------------------------------------------------------------------

def _mention(n: int, when: datetime, *, platform: str = "x", text: str = "Les peines alternatives…",
             relevant: bool = True, lang: str = "fr", stance: str | None = "neutral", topics=(), myths=(),
             toxicity: str = "none", followers: int = 100, handle: str | None = None, name: str | None = None,
             likes: int = 0, shares: int = 0, comments: int = 0, cluster: str | None = None) -> Mention:
    return Mention(
        id=mention_id(platform, f"d{n}"), platform=platform, source=f"{platform}:digest-test", native_id=f"d{n}",
        url=f"https://example.test/{platform}/{n}", text=text, published_at=when, collected_at=when,
        author={"handle": handle or f"user{n}", "name": name, "followers": followers},
        metrics={"likes": likes, "shares": shares, "comments": comments},
        lang=lang, script="arab" if lang in ("ar", "ary") else "latn", relevant=relevant, stance=stance,
        topics=list(topics), myths=list(myths), toxicity=toxicity, cluster_id=cluster,
    )


PLATFORMS = ("x", "facebook", "instagram", "telegram", "reddit", "news")
LANGS = ("fr", "ar", "ary", "en")
STANCES = ("support", "oppose", "neutral", "question")
TOPIC_IDS = ("community_service", "electronic_monitoring", "day_fine", "implementation", "victims")
RANDOM_MYTHS = ("rich_buy_freedom", "crime_will_rise", "bracelet_fears")


def _at(week: IsoWeek, rng: random.Random) -> datetime:
    """A moment inside ``week``, drawn in local time."""
    day = week.monday + timedelta(days=rng.randrange(7))
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=CASA)


def two_weeks() -> list[Mention]:
    rng = random.Random(4722)
    out: list[Mention] = []
    n = 0

    def add(**kw) -> None:
        nonlocal n
        n += 1
        out.append(_mention(n, **kw))

    for week, count in ((PREVIOUS, 70), (WEEK, 110)):
        for _ in range(count):
            add(when=_at(week, rng), platform=rng.choice(PLATFORMS), lang=rng.choice(LANGS),
                stance=rng.choice((*STANCES, None)), topics=rng.sample(TOPIC_IDS, rng.randrange(3)),
                myths=[rng.choice(RANDOM_MYTHS)] if rng.random() < 0.2 else [],
                toxicity="insult" if rng.random() < 0.05 else "none", followers=rng.randrange(0, 60_000),
                likes=rng.randrange(50), shares=rng.randrange(10), comments=rng.randrange(20),
                cluster=f"cl-r{rng.randrange(12)}" if rng.random() < 0.3 else None)
        for _ in range(6):  # keyword noise: counted apart, never in the figures
            add(when=_at(week, rng), relevant=False, platform="news", followers=5_000_000)
    # the myth that triples on YouTube (3 → 9)
    for week, count in ((PREVIOUS, 3), (WEEK, 9)):
        for _ in range(count):
            add(when=_at(week, rng), platform="youtube", myths=["impunity"], stance="oppose", lang="ary",
                text="hadchi bla 3o9oba, li sre9 yrje3 l darou", followers=rng.randrange(100, 2_000),
                likes=rng.randrange(30))
    # a rumor in three languages, pushed by its opponents (cluster document below)
    for i, lang in enumerate(("ary", "ary", "ary", "fr", "fr", "ar", "ar", "ary")):
        add(when=_at(WEEK, rng), platform=("telegram", "facebook", "x")[i % 3], lang=lang, stance="oppose",
            myths=["mass_release"], cluster="cl-rumor", text="غادي يطلقو كاع الحباسة", followers=300 + i)
    # the local-time edges of the week (Casablanca is UTC+1 in November 2026)
    add(when=datetime(2026, 11, 15, 23, 30, tzinfo=UTC), text="lundi 00:30 à Casablanca : dans la semaine")
    add(when=datetime(2026, 11, 22, 22, 59, tzinfo=UTC), text="dimanche 23:59 à Casablanca : dans la semaine")
    add(when=datetime(2026, 11, 22, 23, 30, tzinfo=UTC), text="lundi suivant 00:30 : hors de la semaine")
    add(when=datetime(2026, 11, 8, 23, 30, tzinfo=UTC), text="lundi 9 00:30 : première heure de W46")
    # hostile, public, private and hateful authors
    add(when=_at(WEEK, rng), platform="facebook", text=LONG_POST, followers=9_000_000, handle="big.page",
        name=HOSTILE_NAME, stance="oppose", likes=3)
    add(when=_at(WEEK, rng), platform="x", text="Qui contrôle les heures de TIG effectuées ?", followers=800,
        handle="Journaliste_Connu", name="Nadia Journaliste", stance="question", likes=500, comments=100)
    add(when=_at(WEEK, rng), platform="news", text="Peines alternatives : qui peut en bénéficier ?", followers=0,
        handle=None, name="Hespress", stance="question", likes=650, shares=50)
    add(when=_at(WEEK, rng), platform="x", text="هادو خاصهم يتحرقو كاملين", toxicity="hate", followers=8_000_000,
        handle="hater_account", stance="oppose")
    add(when=_at(WEEK, rng), platform="instagram", lang="ary", stance="question", topics=["day_fine"],
        text="شحال كتخلص فالنهار؟ <script>x()</script> واش بصح؟ @voisin_prive", handle="karima_private",
        name="Karima Bennani", followers=150, likes=900, shares=40, comments=300)
    return out


def _alerts() -> list[Alert]:
    def alert(i: int, when: datetime, severity: str = "warning") -> Alert:
        return Alert(alert_id=f"al-digest-{i}", rule="myth-surge", rule_type="myth_surge.v1", severity=severity,
                     key="impunity", episode_id=f"ep-{i}", fired_at=when, count=10 + i,
                     summary=f"Mythe « impunité » en hausse <b>#{i}</b>")
    return [alert(1, datetime(2026, 11, 17, 10, tzinfo=CASA), "critical"),
            alert(2, datetime(2026, 11, 19, 15, tzinfo=CASA)),
            alert(3, datetime(2026, 11, 21, 9, tzinfo=CASA)),
            alert(4, datetime(2026, 11, 12, 9, tzinfo=CASA))]  # the week before: not in this digest


# -- what the test expects, computed from its own documents -----------------------------------------

def _pct(part: int, total: int) -> int:
    return int(math.floor(part * 100 / total + 0.5)) if total else 0


def expected_figures(docs: list[Mention]) -> dict[str, int]:
    def in_week(m: Mention, week: IsoWeek) -> bool:
        return week.start <= m.published_at < week.end

    cur = [m for m in docs if m.relevant and in_week(m, WEEK)]
    prev = [m for m in docs if m.relevant and in_week(m, PREVIOUS)]
    reach = lambda m: m.author.followers or 0  # noqa: E731
    engagement = lambda m: m.metrics.likes + m.metrics.shares + m.metrics.comments  # noqa: E731
    toxic = lambda ms: sum(1 for m in ms if m.toxicity in ("insult", "hate", "threat", "defamation"))  # noqa: E731
    f: dict[str, int] = {
        "volume.scope": len(cur), "volume.cur": len(cur), "volume.prev": len(prev),
        "irrelevant.cur": sum(1 for m in docs if not m.relevant and in_week(m, WEEK)),
        "reach.cur": sum(map(reach, cur)), "reach.prev": sum(map(reach, prev)),
        "engagement.cur": sum(map(engagement, cur)), "engagement.prev": sum(map(engagement, prev)),
        "toxic.cur": toxic(cur), "toxic.prev": toxic(prev),
    }
    for prefix, key in (("platform", lambda m: m.platform.value), ("lang", lambda m: m.lang),
                        ("stance", lambda m: m.stance or "unlabelled")):
        now, before = Counter(map(key, cur)), Counter(map(key, prev))
        for k in set(now) | set(before):
            f[f"{prefix}.{k}.cur"], f[f"{prefix}.{k}.prev"] = now[k], before[k]
            f[f"{prefix}.{k}.share"] = _pct(now[k], len(cur))
            if prefix == "stance":
                f[f"{prefix}.{k}.prev_share"] = _pct(before[k], len(prev))
    for prefix, key in (("topic", lambda m: m.topics), ("myth", lambda m: m.myths)):
        now = Counter(x for m in cur for x in key(m) or [])
        before = Counter(x for m in prev for x in key(m) or [])
        for k in set(now) | set(before):
            f[f"{prefix}.{k}.cur"], f[f"{prefix}.{k}.prev"] = now[k], before[k]
    days = Counter(m.published_at.astimezone(CASA).date() for m in cur)
    for day in WEEK.days():
        f[f"daily.{day.isoformat()}"] = days[day]
    clusters = Counter(m.cluster_id for m in cur if m.cluster_id)
    for cid, n in sorted((kv for kv in clusters.items() if kv[1] >= 2), key=lambda kv: (-kv[1], kv[0]))[:5]:
        f[f"cluster.{cid}.week"] = n
    top = sorted(cur, key=lambda m: (-reach(m), -engagement(m), m.id))[:10]
    for i, m in enumerate(top, 1):
        f[f"top.{i}.reach"] = reach(m)
    questions = sorted((m for m in cur if m.stance == "question"), key=lambda m: (-engagement(m), -reach(m), m.id))
    f["questions.total"] = len(questions)
    for i, m in enumerate(questions[:5], 1):
        f[f"question.{i}.engagement"] = engagement(m)
    statuses = {"al-digest-1": "new", "al-digest-2": "acknowledged", "al-digest-3": "resolved"}
    f["alerts.total"] = len(statuses)
    for status in ("new", "acknowledged", "resolved"):
        f[f"alerts.status.{status}"] = sum(1 for s in statuses.values() if s == status)
    return f


class Figures(HTMLParser):
    """Every ``data-figure`` element of the HTML and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.images: list[str] = []
        self._open: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-figure"):
            self._open.append((tag, a["data-figure"] or ""))
            self.figures[a["data-figure"] or ""] = ""
        if tag == "img":
            self.images.append(a.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            self.figures[key] += data


def _number(text: str) -> int:
    digits = re.sub(r"[^\d-]", "", text)
    assert digits, f"no number in {text!r}"
    return int(digits)


# -- servers and the DAG runner -------------------------------------------------------------------

class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook
        self.messages.append({"from": envelope.mail_from, "to": sorted(envelope.rcpt_tos),
                              "raw": envelope.original_content})
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


def wait_for(sink: SmtpSink, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return sink.messages


DAG_RUNNER = r"""
import json, os, sys
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder=sys.argv[1]).dags["weekly_digest"]
for task in dag.tasks:  # no 5-minute retry delays in a test
    task.retries = 0
for line in sys.stdin:
    command = json.loads(line)
    if command.get("cmd") != "run":
        break
    for key in [k for k in os.environ if k.startswith("SADA_")]:
        del os.environ[key]
    os.environ.update(command["env"])  # the tasks read their settings from here, at run time
    run = dag.test(logical_date=datetime.fromisoformat(command["logical_date"]), run_conf=command.get("conf"))
    tis = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps({"state": str(run.state), "tis": tis}), flush=True)
"""


class DigestRunner(DagRunner):
    """``weekly_digest.test()`` for a given logical date, in one child process."""

    def run(self, env: dict[str, str], logical_date: datetime, conf: dict | None = None,  # type: ignore[override]
            timeout: float = 120.0) -> dict:
        return super().run(env, timeout, logical_date=logical_date.isoformat(), conf=conf)


@pytest.fixture(scope="module")
def dag_runner(airflow_env, tmp_path_factory):
    runner = DigestRunner(DAG_RUNNER, airflow_env, tmp_path_factory.mktemp("digest-runs") / "airflow.log")
    yield runner
    runner.close()


@pytest.fixture
def indexed(settings: Settings):
    """The two weeks, the alerts and the clusters in Elasticsearch under the test's prefix."""
    es = sada_es.client(settings)
    ensure_indices(settings, es)  # the clusters and alerts indices, as `sada setup` makes them
    docs = two_weeks()
    now = datetime.now(UTC)
    helpers.bulk(es, ({"_index": sada_es.mentions_index_for(settings, m.published_at), "_id": m.id,
                       "_source": to_document(m, now)} for m in docs), refresh="wait_for")
    store = AlertStore(es, settings)
    store.ensure_indices()
    store.write(_alerts())
    store.set_status("al-digest-2", "acknowledged", by="cm")
    store.set_status("al-digest-3", "resolved", by="cm")
    es.index(index=settings.index("clusters"), id="cl-rumor", refresh="wait_for", document={
        "cluster_id": "cl-rumor", "size": 40, "first_seen": "2026-11-14T08:00:00+00:00",
        "last_seen": "2026-11-21T08:00:00+00:00", "languages": ["ary", "fr", "ar"], "growth_per_hour": 3,
        "representative": "<script>steal()</script> غادي يطلقو كاع الحباسة"})
    yield docs
    for name in template_names(settings):
        es.options(ignore_status=404).indices.delete_index_template(name=name)
    es.close()


def _digest_env(settings: Settings, smtp: SmtpSink, tmp_path: Path) -> dict[str, str]:
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(yaml.safe_dump({
        "version": 1, "subject_prefix": "[Sada test]",
        "recipients": [{"name": "Équipe NCSC", "email": TEAM[0]}, {"email": TEAM[1]}, {"name": "DGAPR", "email": TEAM[2]}],
        "ops": [{"name": "Ops", "email": OPS}],
        "privacy": {"public_followers": 10_000, "public_accounts": ["journaliste_connu"]},
    }, allow_unicode=True), encoding="utf-8")
    return {"SADA_INDEX_PREFIX": settings.index_prefix, "SADA_TOPIC_PREFIX": settings.topic_prefix,
            "SADA_ES_URL": settings.es_url, "SADA_SMTP_HOST": "127.0.0.1", "SADA_SMTP_PORT": str(smtp.port),
            "SADA_SMTP_FROM": "Sada <veille@sada.example>", "SADA_KIBANA_URL": "https://kibana.sada.example",
            "SADA_DIGEST_RECIPIENTS_FILE": str(recipients), "SADA_DIGEST_ARCHIVE_DIR": str(tmp_path / "archive")}


# -- the test ---------------------------------------------------------------------------------------

def test_weekly_digest_dag_sends_the_week_once_with_every_figure_right(dag_runner, settings, indexed, smtp,
                                                                     tmp_path, monkeypatch, request):
    env = _digest_env(settings, smtp, tmp_path)
    first = dag_runner.run(env, MONDAY_RUN)
    assert first["state"] == "success", first
    assert first["tis"] == {"pick_week": "success", "send_digest": "success"}
    [sent] = wait_for(smtp, 1)
    assert sent["to"] == sorted(TEAM) and sent["from"] == "veille@sada.example"
    msg = email.message_from_bytes(sent["raw"], policy=policy.default)
    assert "2026-W47" in msg["Subject"] and msg["Subject"].startswith("[Sada test]")
    assert sorted(a.addr_spec for a in msg["To"].addresses) == sorted(TEAM)
    assert msg["Message-ID"] == "<digest.2026-W47.1@sada.digest>"

    # structure: alternative(text, related(html, png…)); every inline image referenced by cid
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    images = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get_content_type() == "image/png"}
    assert len(images) == 2 and all(p.get_content().startswith(b"\x89PNG") for p in images.values())
    assert all(p.get_content_disposition() == "inline" for p in images.values())
    parser = Figures()
    parser.feed(html)
    assert sorted(src.removeprefix("cid:") for src in parser.images) == sorted(images)

    # every figure of the e-mail equals the one computed here from the indexed documents
    expected = expected_figures(indexed)
    shown = {k: _number(v) for k, v in parser.figures.items()}
    assert set(shown) <= set(expected), sorted(set(shown) - set(expected))
    assert {k: expected[k] for k in shown} == shown
    must = {"volume.cur", "volume.prev", "reach.cur", "engagement.cur", "toxic.cur", "irrelevant.cur",
            "platform.youtube.cur", "lang.ary.cur", "stance.question.share", "myth.impunity.cur",
            "cluster.cl-rumor.week", "alerts.status.acknowledged", "top.1.reach", "question.1.engagement",
            *(k for k in expected if k.startswith("daily."))}
    assert must <= set(shown), sorted(must - set(shown))
    assert expected["daily.2026-11-16"] >= 1 and expected["irrelevant.cur"] == 6
    assert f"Mentions pertinentes : {expected['volume.cur']} / {expected['volume.prev']}" in text
    assert "relevant: true" in text and "relevant: true" in html

    # recommendations, with the figures that justify them
    assert "Le mythe « C'est l'impunité » a triplé sur YouTube" in text
    assert "Impunité sur YouTube : 3 → 9 mentions (×3)" in text
    assert "Contenus haineux ou menaçants à signaler" in text
    # counter-arguments of the rumor, French and Arabic (right to left)
    assert "Chaque cas est décidé par un juge" in html
    assert re.search(r'<ul dir="rtl" lang="ar"[^>]*><li>كل حالة يقررها القاضي', html)
    # the week's alerts, not the week before's
    assert "#1" in text and "#4" not in text
    # Kibana links for the sections, over the week in UTC
    assert html.count("https://kibana.sada.example/app/discover#/") >= 8
    assert "time:(from:'2026-11-15T23:00:00.000Z',to:'2026-11-22T23:00:00.000Z')" in text

    # hostile content arrives escaped and trimmed; private persons masked, public ones named
    both = html + text
    assert "<script" not in html.lower() and "<img src=x" not in html and "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<b>#1</b>" not in html
    assert not any(c in both for c in "\u202a\u202b\u202c\u202d\u202e")
    assert "A" * 400 not in both and "AAAA…" in html
    assert "karima_private" not in both and "Karima" not in both and "voisin_prive" not in both
    assert "@k***" in html and "@k***" in text
    assert "@Journaliste_Connu (Nadia Journaliste)" in html and "Hespress" in html and "@big.page" in html
    assert "هادو خاصهم يتحرقو" not in both and "contenu masqué (haine)" in html
    assert re.search(r'<p dir="rtl" lang="ar"[^>]*>شحال كتخلص فالنهار', html)
    assert "\u2067شحال كتخلص فالنهار" in text  # RLI isolate in the text part

    # archived: the HTML file (charts embedded) and the digests document
    archived = Path(env["SADA_DIGEST_ARCHIVE_DIR"]) / "2026-W47.html"
    assert archived.exists() and "data:image/png;base64," in archived.read_text(encoding="utf-8")
    es = sada_es.client(settings)
    doc = es.get(index=settings.index("digests"), id="2026-W47")["_source"]
    assert doc["status"] == "sent" and doc["sends_count"] == 1 and sorted(doc["recipients"]) == sorted(TEAM)
    assert doc["summary"]["volume"] == expected["volume.cur"] and doc["html"].startswith("<!doctype html>")

    # the preview command writes the same digest and sends nothing
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()  # the command reads the process-wide settings: this test's prefix
    request.addfinalizer(get_settings.cache_clear)
    preview = tmp_path / "preview.html"
    assert digest_cli(["digest", "--week", "2026-W47", "--preview", str(preview)]) == 0
    shown_again = Figures()
    shown_again.feed(preview.read_text(encoding="utf-8"))
    assert shown_again.figures == parser.figures and len(smtp.messages) == 1

    # a second run of the DAG sends nothing
    second = dag_runner.run(env, MONDAY_RUN)
    assert second["state"] == "success", second
    time.sleep(0.5)
    assert len(smtp.messages) == 1
    assert es.get(index=settings.index("digests"), id="2026-W47")["_source"]["attempts"] == 1

    # forced, it is sent again (a new Message-ID) and recorded as a second send
    outcome = send_week(Settings(), WEEK, force=True, digest_settings=DigestSettings())
    assert outcome.status == "sent" and outcome.message_id == "<digest.2026-W47.2@sada.digest>"
    assert len(wait_for(smtp, 2)) == 2
    doc = es.get(index=settings.index("digests"), id="2026-W47")["_source"]
    assert doc["sends_count"] == 2 and [s["forced"] for s in doc["sends"]] == [False, True]

    # a failing run (Elasticsearch unreachable) tells the ops recipients
    broken = dag_runner.run({**env, "SADA_ES_URL": f"http://127.0.0.1:{_free_port()}"}, MONDAY_RUN + timedelta(days=7))
    assert broken["state"] == "failed" and broken["tis"]["send_digest"] == "failed", broken
    failure = wait_for(smtp, 3)[-1]
    assert failure["to"] == [OPS]
    warning = email.message_from_bytes(failure["raw"], policy=policy.default)
    assert "ÉCHEC" in warning["Subject"] and "2026-W48" in warning["Subject"]
    assert "sada digest --week 2026-W48 --send" in warning.get_content()
    es.close()
