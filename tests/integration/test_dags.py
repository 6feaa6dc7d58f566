"""The Airflow DAGs: they import cleanly without I/O, and collect_mentions runs end to end.

Airflow runs in its own processes (it configures logging and global state on import, which
must not leak into the other tests): a session fixture gives it a temporary AIRFLOW_HOME with
SQLite and runs ``airflow db migrate`` once; ``dag.test()`` runs in a child process that takes
"run" commands on stdin, so one Airflow start-up serves every DAG run of this module while the
tests change what the loopback server answers between runs. The tasks build their settings
from the environment at run time: each command carries the test's topic and index prefix, the
loopback base URLs and fake tokens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from collectors.cursors import EsCursorStore
from sada.settings import REPO_ROOT
from tests.fixtures.sources.server import HERE, RecordedServer, Reply, fixture, json_reply
from tests.integration.conftest import DAGS, DagRunner, read_topic

PYTHON = sys.executable

# The DAG test runs three of the keyword sets (fewer mapped tasks: a faster test; every set is
# exercised by test_collect_sources.py and test_collect_keywords.py).
DAG_QUERIES = ("fr:peines_alternatives", "ar:uqubat_badila", "law_number")

# What one clean run of collect_mentions yields from the recorded responses below: per source,
# the mentions its keyword sets keep (see test_collect_sources.py for each connector's reasons).
EXPECTED = {
    "news_feeds": 6,  # hespress 3 (windows-1256), lematin 2 (ISO-8859-1), telquel 1 (Atom)
    "news_search": 1,  # the Médias24 article; the Belgian one has no Moroccan anchor
    "telegram": 5,  # messages 201, 202, 204, 205, 207 of t.me/s/qanoun_ma, over two pages
    "youtube_search": 4,  # three videos for the French set, one of them again for the law number
    "youtube_comments": 4,  # every comment on the campaign's video, keywords or not
    "meta": 3,  # the comments on the campaign's Page post (two pages)
    "x": 4,  # five posts, the smartwatch promo dropped
    "reddit": 3,  # two posts for the French set, one of them again for the law number
    "mastodon": 3,  # the boost dropped
    "replay": 2,  # line 2 is football, line 3 is invalid
}
# An item matched by two keyword sets is produced by both tasks (same id: one document).
TOTAL = sum(EXPECTED.values())
UNIQUE = TOTAL - 2


IMPORT_CHECK = r"""
import builtins, json, socket, sys
from pathlib import Path

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:120])
    raise OSError("network I/O at DAG import")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

data = str(Path(sys.argv[2]) / "data")
opened = []
real_open = builtins.open
def watching_open(file, *args, **kwargs):
    if str(file).startswith(data):
        opened.append(str(file))
    return real_open(file, *args, **kwargs)
builtins.open = watching_open
Path.read_text = lambda self, *a, **k: (opened.append(str(self)) if str(self).startswith(data) else None) or real_open(self, *a, **k).read()

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {"tags": sorted(dag.tags), "catchup": dag.catchup,
                    "start_tz": str(dag.start_date.tzinfo) if dag.start_date else None,
                    "doc": bool(dag.doc_md), "tasks": sorted(dag.task_ids),
                    "max_active_runs": dag.max_active_runs}
print("RESULT " + json.dumps({"errors": {k: v[-500:] for k, v in bag.import_errors.items()},
                              "dags": dags, "sockets": attempts, "opened": opened}))
"""


def test_every_dag_imports_without_error_and_without_io(airflow_env):
    done = subprocess.run([PYTHON, "-c", IMPORT_CHECK, str(DAGS), str(REPO_ROOT)], env=airflow_env,
                          capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    result = json.loads(lines[-1][7:])
    assert result["errors"] == {}
    assert result["sockets"] == [] and result["opened"] == []  # no network, no data file at import
    assert {"collect_mentions", "purge_raw_text"} <= set(result["dags"])
    for dag_id, info in result["dags"].items():
        if dag_id in ("collect_mentions", "purge_raw_text"):
            assert info["catchup"] is False and info["start_tz"] == "UTC" and info["doc"], dag_id
            assert "sada" in info["tags"] and info["max_active_runs"] == 1, dag_id
    assert result["dags"]["collect_mentions"]["tasks"] == ["collect", "plan_collection", "report"]


# -- collect_mentions end to end ---------------------------------------------------------------


def _serve_everything(server: RecordedServer, *, broken: bool = False) -> None:
    """Recorded responses for every source, the same at every run (the world did not change);
    ``broken`` makes one feed fail, and X's second page."""
    server.routes.clear()
    add = server.add
    # RSS/Atom feeds, under /<host>/<path> (SADA_NEWS_FEEDS_BASE_URL)
    add("/feeds/hespress.com/feed", Reply(body=fixture("feeds/hespress.rss"), content_type="application/rss+xml"))
    add("/feeds/lematin.ma/rss", Reply(503) if broken else Reply(body=fixture("feeds/lematin.rss"), content_type="text/xml"))
    add("/feeds/telquel.ma/feed", Reply(body=fixture("feeds/telquel.atom"), content_type="application/atom+xml"))
    add("/gnews/rss/search", Reply(body=fixture("news_search/google_news_fr.rss"), content_type="application/xml"))
    # Telegram, through snscrape
    add("/tg/s/qanoun_ma", Reply(body=fixture("telegram/qanoun_ma_page1.html"), content_type="text/html; charset=utf-8"))
    add("/tg/s/qanoun_ma", Reply(body=fixture("telegram/qanoun_ma_page2.html"), content_type="text/html; charset=utf-8"),
        params={"before": "205"})
    # YouTube
    add("/yt/search", json_reply("youtube/search_page1.json"))
    add("/yt/search", json_reply("youtube/search_page2.json"), params={"pageToken": "CDIQAA"})
    add("/yt/commentThreads", json_reply("youtube/comments_page1.json"))
    add("/yt/commentThreads", json_reply("youtube/comments_page2.json"), params={"pageToken": "QURTSl9pMk"})
    # Meta Graph
    page, post1 = "104512345678901", "104512345678901_2023331143112571"
    add(f"/graph/{page}/posts", json_reply("meta/page_posts.json"))
    add(f"/graph/{post1}/comments", json_reply("meta/post1_comments_page1.json"))
    add(f"/graph/{post1}/comments", json_reply("meta/post1_comments_page2.json"), params={"after": "MgZDZD"})
    add(f"/graph/{page}_2023331143112000/comments", json_reply("meta/post2_comments.json"))
    # X: the second page fails when broken (the task retries, then the run fails)
    add("/x/tweets/search/recent", json_reply("x/search_page1.json"))
    add("/x/tweets/search/recent", Reply(500) if broken else json_reply("x/search_page2.json"),
        params={"next_token": "b26v89c19zqg8o3fo7gesq314yb9l2l4ptqy"})
    add("/x/tweets/search/recent", json_reply("x/search_empty.json"), params={"since_id": "1991000000000000105"})
    # Reddit
    add("/reddit-auth", json_reply("reddit/token.json"), method="POST")
    add("/reddit/r/Morocco+Maroc/search", json_reply("reddit/search_page1.json"))
    add("/reddit/r/Morocco+Maroc/search", json_reply("reddit/search_page2.json"), params={"after": "t3_1gx0003"})
    # Mastodon (its forward paging and a failure on page 2 are in test_collect_sources.py)
    tag = "/mastodon/api/v1/timelines/tag/PeinesAlternatives"
    add(tag, json_reply("mastodon/tag_latest.json"))
    add(tag, json_reply("mastodon/empty.json"), params={"min_id": "113500000000000030"})
    for other in ("Loi4322", "العقوبات_البديلة", "قانون_العقوبات_البديلة", "السوار_الإلكتروني", "الغرامة_اليومية"):
        add(f"/mastodon/api/v1/timelines/tag/{other}", json_reply("mastodon/empty.json"))  # quiet hashtags


def _collect_env(settings, server, tmp_path) -> dict[str, str]:
    """The SADA_* environment of the DAG's tasks: this test's prefixes, loopback URLs, fake tokens."""
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes((HERE / "replay" / "mentions.jsonl").read_bytes())
    shipped = yaml.safe_load((REPO_ROOT / "data" / "keywords.yaml").read_text(encoding="utf-8"))
    shipped["queries"] = {q: v for q, v in shipped["queries"].items() if q in DAG_QUERIES}
    keywords = tmp_path / "keywords.yaml"
    keywords.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    env = {}
    env.update({
        "SADA_TOPIC_PREFIX": settings.topic_prefix, "SADA_INDEX_PREFIX": settings.index_prefix,
        "SADA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "SADA_ES_URL": settings.es_url,
        "SADA_AUTHOR_SALT": "dag-test-salt",
        "SADA_SOURCES_FILE": str(HERE / "dag_sources.yaml"), "SADA_KEYWORDS_FILE": str(keywords),
        "SADA_COLLECT_BACKOFF_SECONDS": "0.01", "SADA_COLLECT_MAX_ATTEMPTS": "2",
        "SADA_NEWS_FEEDS_BASE_URL": f"{server.url}/feeds", "SADA_NEWS_SEARCH_BASE_URL": f"{server.url}/gnews",
        "SADA_TELEGRAM_BASE_URL": f"{server.url}/tg",
        "SADA_YOUTUBE_SEARCH_BASE_URL": f"{server.url}/yt", "SADA_YOUTUBE_COMMENTS_BASE_URL": f"{server.url}/yt",
        "SADA_YOUTUBE_API_KEY": "AIza-dag-test",
        "SADA_META_BASE_URL": f"{server.url}/graph", "SADA_META_PAGE_TOKEN": "EAAB-dag-test",
        "SADA_X_BASE_URL": f"{server.url}/x", "SADA_X_BEARER_TOKEN": "AAAA-dag-test",
        "SADA_REDDIT_BASE_URL": f"{server.url}/reddit", "SADA_REDDIT_AUTH_URL": f"{server.url}/reddit-auth",
        "SADA_REDDIT_CLIENT_ID": "id", "SADA_REDDIT_CLIENT_SECRET": "secret",
        "SADA_MASTODON_BASE_URL": f"{server.url}/mastodon",
        "SADA_REPLAY_FILE": str(replay),
    })
    return env


DAG_RUNNER = r"""
import json, os, sys
from datetime import timedelta
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder=sys.argv[1]).dags["collect_mentions"]
for task in dag.tasks:  # the DAG's retry policy, shortened for a test
    if task.retries:
        task.retries, task.retry_delay, task.retry_exponential_backoff = 1, timedelta(seconds=1), 0
for line in sys.stdin:
    command = json.loads(line)
    if command.get("cmd") != "run":
        break
    for key in [k for k in os.environ if k.startswith("SADA_")]:
        del os.environ[key]
    os.environ.update(command["env"])  # the tasks read their settings from here, at run time
    run = dag.test()
    tis = [{"task": ti.task_id, "label": ti.rendered_map_index, "state": str(ti.state), "try": ti.try_number}
           for ti in run.get_task_instances()]
    print("RESULT " + json.dumps({"state": str(run.state), "tis": tis}), flush=True)
"""


@pytest.fixture(scope="module")
def dag_runner(airflow_env, tmp_path_factory):
    """One Airflow start-up (about 10 s) for every DAG run of this module."""
    runner = DagRunner(DAG_RUNNER, airflow_env, tmp_path_factory.mktemp("dag-runs") / "airflow.log")
    yield runner
    runner.close()


def _messages(settings, at_least: int):
    """Every record of mentions.raw (waiting for ``at_least``, then 2 s more for strays)."""
    records = read_topic(settings, "mentions.raw", at_least, timeout=20)
    more = read_topic(settings, "mentions.raw", at_least + 1, timeout=2)
    return more if len(more) > len(records) else records


def _states(result: dict) -> Counter:
    return Counter((ti["task"], ti["state"]) for ti in result["tis"])


@pytest.fixture
def server():
    with RecordedServer() as s:
        yield s


def test_collect_mentions_runs_into_kafka_and_a_second_run_adds_nothing(dag_runner, settings, server, tmp_path):
    _serve_everything(server)
    env = _collect_env(settings, server, tmp_path)
    first = dag_runner.run(env)
    assert first["state"] == "success", first
    labels = sorted(ti["label"] for ti in first["tis"] if ti["task"] == "collect")
    assert "telegram:all" in labels and "meta:own" in labels and "x:fr:peines_alternatives" in labels
    assert _states(first)[("collect", "success")] == len(labels)

    records = _messages(settings, TOTAL)
    values = [json.loads(r.value) for r in records]
    assert len(records) == TOTAL, Counter((v["platform"], v["query"]) for v in values)
    assert all(r.key.decode() == v["id"] for r, v in zip(records, values, strict=True))  # key = mention id
    assert len({v["id"] for v in values}) == UNIQUE
    assert all(v["query"] for v in values)
    assert all(v["author"]["id"] is None or v["author"]["id"].startswith("h:") for v in values)
    assert not any("UCauthorB" in r.value.decode() or "6123456789012346" in r.value.decode() for r in records)

    # cursors and run records are in Elasticsearch, under this test's prefix
    store = EsCursorStore(settings)
    assert store.get("x", "fr:peines_alternatives").cursor == {"since_id": "1991000000000000105"}
    assert store.get("telegram", "all").cursor == {"channels": {"qanoun_ma": {"id": 207}}}
    runs_index = settings.index("sada-collector-runs")
    store.es.indices.refresh(index=runs_index)
    runs = [h["_source"] for h in store.es.search(index=runs_index, size=200)["hits"]["hits"]]
    assert len(runs) == len(labels) and {r["status"] for r in runs} == {"ok"}
    produced = Counter()
    for r in runs:
        produced[r["source"]] += r["produced"]
    assert produced == EXPECTED

    second = dag_runner.run(env)
    assert second["state"] == "success"
    assert len(_messages(settings, TOTAL)) == TOTAL  # nothing new: every cursor resumed after its last item
    store.es.indices.refresh(index=runs_index)
    assert store.es.count(index=runs_index)["count"] == 2 * len(labels)
    store.es.close()


def test_a_run_failing_halfway_loses_nothing_and_duplicates_nothing(dag_runner, settings, server, tmp_path):
    _serve_everything(server, broken=True)
    env = _collect_env(settings, server, tmp_path)
    broken = dag_runner.run(env)
    assert broken["state"] == "failed"  # the report task makes the failures visible
    failed = {ti["label"] for ti in broken["tis"] if ti["task"] == "collect" and ti["state"] == "failed"}
    x_jobs = {ti["label"] for ti in broken["tis"] if ti["label"] and ti["label"].startswith("x:")}
    assert failed == {"news_feeds:all"} | x_jobs and len(x_jobs) == len(DAG_QUERIES)
    assert all(ti["try"] == 2 for ti in broken["tis"] if ti["label"] in failed)  # retried once, then failed
    # delivered despite the failures: hespress and telquel, whose feeds worked; nothing from X,
    # whose second page failed before anything was yielded (it lists newest first)
    partial = _messages(settings, TOTAL - 6)
    assert len(partial) == TOTAL - 2 - 4
    store = EsCursorStore(settings)
    assert set(store.get("news_feeds", "all").cursor["channels"]) == {"https://hespress.com/feed",
                                                                      "https://telquel.ma/feed"}
    assert store.get("x", "fr:peines_alternatives").cursor is None
    store.es.close()

    _serve_everything(server)  # the sources recover
    healed = dag_runner.run(env)
    assert healed["state"] == "success"
    records = _messages(settings, TOTAL)
    pairs = Counter((r.key.decode(), json.loads(r.value)["query"]) for r in records)
    assert len(records) == TOTAL  # exactly what one clean run yields:
    assert set(pairs.values()) == {1}  # no mention produced twice for the same keyword set
    assert len({key for key, _ in pairs}) == UNIQUE
