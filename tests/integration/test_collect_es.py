"""Cursors, quota and run records in the real Elasticsearch; the Law 09-08 purge of raw text."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from collectors.cursors import EsCursorStore
from collectors.purge import purge_raw_text
from collectors.runs import EsRunRecorder, RunSummary
from sada import es as sada_es
from tests.builders import mention

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def test_cursors_survive_a_new_store_and_a_checked_write_keeps_them(settings):
    store = EsCursorStore(settings)
    assert store.get("x", "fr:peines_alternatives").cursor is None
    store.put("x", "fr:peines_alternatives", {"since_id": "1991000000000000105"}, at=NOW)
    store.put("x", "fr:peines_alternatives", None, at=NOW + timedelta(minutes=15), advanced=False)

    fresh = EsCursorStore(settings)  # another process: what is durable, not what is cached
    state = fresh.get("x", "fr:peines_alternatives")
    assert state.cursor == {"since_id": "1991000000000000105"}
    assert state.updated_at == NOW and state.checked_at == NOW + timedelta(minutes=15)
    assert fresh.get("x", "ar:uqubat_badila").cursor is None  # one cursor per (source, query)
    doc = fresh.es.get(index=settings.index("sada-cursors"), id="x:fr:peines_alternatives")
    assert doc["_source"]["source"] == "x"
    store.es.close()
    fresh.es.close()


def test_the_quota_ledger_never_goes_over_budget_even_concurrently(settings):
    store = EsCursorStore(settings)
    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = list(pool.map(lambda _: store.spend("youtube", "2026-11-18", 100, 1000), range(15)))
    assert sum(granted) == 10
    assert store.spent("youtube", "2026-11-18") == 1000
    assert store.spent("youtube", "2026-11-19") == 0  # a new day, a new budget
    assert not store.spend("youtube", "2026-11-18", 1, 1000)
    store.es.close()


def test_run_records_tell_a_calm_day_from_a_broken_collector(settings):
    recorder = EsRunRecorder(settings)
    calm = RunSummary("news_feeds", "all", NOW, NOW + timedelta(seconds=3), platform="news")
    broken = RunSummary("x", "fr:peines_alternatives", NOW, NOW + timedelta(seconds=1), platform="x",
                        status="failed", errors=1)
    broken.note("x search to https://api.x.com/2/tweets/search/recent: HTTP 503 after 4 attempts")
    recorder.record(calm)
    recorder.record(broken)
    es = recorder.es
    es.indices.refresh(index=settings.index("sada-collector-runs"))
    hits = es.search(index=settings.index("sada-collector-runs"), query={"term": {"status": "failed"}})["hits"]
    assert [h["_source"]["source"] for h in hits["hits"]] == ["x"]
    doc = es.get(index=settings.index("sada-collector-runs"), id=calm.doc_id())["_source"]
    assert doc["status"] == "ok" and doc["fetched"] == 0 and doc["duration_s"] == 3.0 and doc["platform"] == "news"
    es.close()


def _index(settings, mentions):
    es = sada_es.client(settings)
    for m in mentions:
        es.index(index=sada_es.mentions_index_for(settings, m.published_at), id=m.id,
                 document=m.model_dump(mode="json"))
    es.indices.refresh(index=sada_es.mentions_alias(settings))
    return es


def test_purge_removes_old_raw_text_and_keeps_the_labels(settings):
    old = mention(1, lang="fr", topics=["day_fine"], stance="oppose", title="Un titre",
                  author={"id": "h:abc", "handle": "someone", "name": "Some One"})
    old = old.model_copy(update={"published_at": NOW - timedelta(days=200)})
    recent = mention(2, lang="ar", topics=["community_service"])
    recent = recent.model_copy(update={"published_at": NOW - timedelta(days=10)})
    es = _index(settings, [old, recent])

    dry = purge_raw_text(settings, older_than_days=180, now=NOW, dry_run=True)
    assert dry["matched"] == 1 and dry["would_purge"] == 1 and dry["purged"] == 0

    report = purge_raw_text(settings, older_than_days=180, now=NOW)
    assert report["purged"] == 1
    alias = sada_es.mentions_alias(settings)
    purged = es.search(index=alias, query={"ids": {"values": [old.id]}})["hits"]["hits"][0]["_source"]
    assert purged["text"] == "" and purged["title"] is None
    assert purged["author"] == {"id": "h:abc", "handle": None, "name": None, "followers": None}
    assert purged["topics"] == ["day_fine"] and purged["stance"] == "oppose" and purged["lang"] == "fr"
    assert purged["url"] == old.url and purged["text_purged_at"] == NOW.isoformat()
    kept = es.search(index=alias, query={"ids": {"values": [recent.id]}})["hits"]["hits"][0]["_source"]
    assert kept["text"] == recent.text
    # searching the old words finds nothing any more; the labels still count
    assert es.count(index=alias, query={"match": {"text": old.text.split()[1]}})["count"] == 0
    assert es.count(index=alias, query={"term": {"topics": "day_fine"}})["count"] == 1

    again = purge_raw_text(settings, older_than_days=180, now=NOW)
    assert again["purged"] == 0 and again["unchanged"] == 1  # idempotent: no rewrite
    es.close()


def test_the_plan_leaves_out_unconfigured_sources_with_a_skipped_record(settings, monkeypatch):
    import os

    from collectors.task import plan_jobs

    for name in [n for n in os.environ if n.startswith("SADA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SADA_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("SADA_ES_URL", settings.es_url)  # the services this run uses, whatever their address
    monkeypatch.setenv("SADA_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    monkeypatch.setenv("SADA_X_BEARER_TOKEN", "AAAA-test")
    jobs = plan_jobs()
    assert {j["source"] for j in jobs} == {"news_feeds", "news_search", "x"}
    es = sada_es.client(settings)
    index = settings.index("sada-collector-runs")
    es.indices.refresh(index=index)
    skipped = {h["_source"]["source"]: h["_source"] for h in es.search(index=index, size=50)["hits"]["hits"]}
    assert set(skipped) == {"telegram", "youtube_search", "youtube_comments", "meta", "reddit", "mastodon", "replay"}
    assert skipped["reddit"]["status"] == "skipped" and skipped["reddit"]["query"] == "*"
    assert "SADA_REDDIT_CLIENT_ID" in skipped["reddit"]["messages"][0]
    es.close()
