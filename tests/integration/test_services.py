"""The local services as a person or a stock client sees them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

from consumers.index import IndexHandler
from consumers.runloop import RunLoop
from sada import es as sada_es
from sada.kafka import load_topics
from sada.replay import produce_mentions
from tests.builders import mention
from tests.integration.conftest import run_until


def test_sada_up_is_idempotent_and_finds_the_running_services(services):
    out = subprocess.run([sys.executable, "-m", "sada.cli", "up", "--no-setup"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Kafka already running" in out.stdout
    assert "Elasticsearch already running" in out.stdout
    status = subprocess.run([sys.executable, "-m", "sada.cli", "status", "--json"], capture_output=True, text=True)
    data = json.loads(status.stdout)
    assert data["kafka"]["up"] is True and data["elasticsearch"]["health"] in ("green", "yellow")


def test_kcat_lists_the_topics_with_their_partitions(settings):
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by scripts/system-deps.sh"
    out = subprocess.run([kcat, "-L", "-J", "-b", settings.kafka_bootstrap], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    listed = {t["topic"]: len(t["partitions"]) for t in json.loads(out.stdout)["topics"]}
    for name, spec in load_topics().items():
        assert listed[settings.topic(name)] == spec["partitions"]


def _curl(url: str) -> dict:
    out = subprocess.run(["curl", "-sf", url], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"curl {url} failed: {out.returncode}"
    return json.loads(out.stdout)


def test_curl_shows_template_alias_and_documents(settings):
    mentions = [mention(i) for i in range(3)]
    produce_mentions(settings, [m.model_copy(update={"lang": "fr"}) for m in mentions], progress=False)
    # The index consumer reads mentions.enriched; feed it directly for this check.
    from sada import kafka as sada_kafka

    p = sada_kafka.producer(settings)
    for m in mentions:
        p.send(settings.topic("mentions.enriched"), key=m.id.encode(), value=m.to_json_bytes())
    p.flush()
    p.close()
    run_until(RunLoop(settings, IndexHandler(settings), poll_ms=200), lambda loop: loop.stats.processed >= 3)

    base = settings.es_url.rstrip("/")
    template = _curl(f"{base}/_index_template/{settings.index('sada-mentions')}")
    body = template["index_templates"][0]["index_template"]
    assert body["index_patterns"] == [settings.index("mentions-*")]
    assert body["template"]["mappings"]["properties"]["myths"]["type"] == "keyword"
    aliases = _curl(f"{base}/_alias/{sada_es.mentions_alias(settings)}")
    assert any(name.startswith(settings.index("mentions-")) for name in aliases)
    doc = _curl(f"{base}/{sada_es.mentions_alias(settings)}/_doc/{mentions[0].id}")
    assert doc["found"] and doc["_source"]["text"] == mentions[0].text
    assert doc["_index"] == settings.index("mentions-2026.11")


def test_multilingual_search_finds_prefixed_plural_and_digit_variants(settings):
    es = sada_es.client(settings)
    index = settings.index("mentions-2026.11")
    texts = {
        "a": "والعقوبات البديلة تدخل حيز التنفيذ",
        "b": "نقاش حول بالعقوبات البديلة في البرلمان",
        "c": "Les peines alternatives sont appliquées depuis août",
        "d": "القانون رقم ٤٣٫٢٢ المتعلق بالعقوبات البديلة",
        "e": "La sécurité des victimes est prise en compte",
        "f": "Un bracelet en or pour l'été",
    }
    for key, text in texts.items():
        es.index(index=index, id=key, document={"text": text})
    es.indices.refresh(index=index)

    def find(q: str) -> set[str]:
        resp = es.search(index=sada_es.mentions_alias(settings),
                         query={"multi_match": {"query": q, "fields": ["text", "text.fr", "text.ar"],
                                                "operator": "and"}})
        return {h["_id"] for h in resp["hits"]["hits"]}

    assert {"a", "b", "d"} <= find("العقوبات البديلة")
    assert "c" in find("peine alternative")
    assert "d" in find("43.22")
    assert "e" in find("securite victime")
    assert "f" not in find("bracelet électronique")
    es.close()


def test_demo_twice_changes_no_count(settings, env_for):
    sample_lines = sum(1 for line in open("data/sample/mentions.jsonl", encoding="utf-8") if line.strip())
    es = sada_es.client(settings)
    counts = []
    for _ in range(2):
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "sada.cli", "demo", "--timeout", "240"], env=env_for,
                             capture_output=True, text=True, timeout=400)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
        assert f"{sample_lines} of {sample_lines} sample mentions searchable" in out.stdout
        assert time.monotonic() - started < 300
        es.indices.refresh(index=sada_es.mentions_alias(settings))
        counts.append(es.count(index=sada_es.mentions_alias(settings))["count"])
    assert counts == [sample_lines, sample_lines]
    es.close()
