"""Mentions flow Kafka → enrich → index → Elasticsearch, exactly once in the index."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from consumers.cluster import ClusterHandler
from consumers.enrich import EnrichHandler
from consumers.index import IndexHandler
from consumers.runloop import RunLoop
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.replay import produce_mentions
from tests.builders import mention
from tests.integration.conftest import read_topic, run_until


def _drain(settings, handler, expected):
    loop = RunLoop(settings, handler, poll_ms=200, stats_every=2)
    return run_until(loop, lambda loop: loop.stats.processed >= expected)


def _count(settings, ids):
    es = sada_es.client(settings)
    alias = sada_es.mentions_alias(settings)
    es.indices.refresh(index=alias)
    total = es.count(index=alias)["count"]
    per_id = es.search(index=alias, size=0, query={"ids": {"values": ids}},
                       aggs={"ids": {"terms": {"field": "id", "size": len(ids) + 10}}})
    es.close()
    return total, {b["key"]: b["doc_count"] for b in per_id["aggregations"]["ids"]["buckets"]}


def test_each_mention_exactly_once_even_when_produced_twice(settings):
    mentions = [mention(i) for i in range(120)]
    ids = [m.id for m in mentions]
    produce_mentions(settings, mentions)
    produce_mentions(settings, mentions)  # the same posts collected again

    _drain(settings, EnrichHandler(settings), 240)
    labelled = [json.loads(r.value) for r in read_topic(settings, "mentions.labelled", 240)]
    assert len(labelled) == 240
    assert {"fr", "ar", "ary", "en"} <= {m["lang"] for m in labelled}  # every mention labelled
    assert all(m["relevant"] is not None and m["stance"] and m["toxicity"] for m in labelled)
    assert all(m["cluster_id"] is None for m in labelled)  # clusters are the next stage's

    _drain(settings, ClusterHandler(settings), 240)
    enriched = [json.loads(r.value) for r in read_topic(settings, "mentions.enriched", 240)]
    assert all(m["cluster_id"] for m in enriched)
    by_id = {m["id"]: m["cluster_id"] for m in enriched}
    assert len(set(by_id.values())) < len(by_id)  # the builders repeat claims: clusters formed

    _drain(settings, IndexHandler(settings), 240)
    total, per_id = _count(settings, ids)
    assert total == 120
    assert per_id == {i: 1 for i in ids}


def test_poison_messages_go_to_the_dlq_and_the_consumer_goes_on(settings):
    good = [mention(i) for i in range(5)]
    producer = sada_kafka.producer(settings)
    topic = settings.topic("mentions.raw")
    bad = {
        "not_json": b"{this is not json",
        "schema": json.dumps({"id": "x-1", "text": "no platform nor dates"}).encode(),
        "invalid_utf8": b'{"text": "\xff\xfe"}',
        "too_large": mention(99, text="ع" * (5 * 1024 * 1024 // 2)).to_json_bytes(),  # ~5 MB of text
    }
    producer.send(topic, key=good[0].id.encode(), value=good[0].to_json_bytes())
    for reason, value in bad.items():
        producer.send(topic, key=reason.encode(), value=value)
    for m in good[1:]:
        producer.send(topic, key=m.id.encode(), value=m.to_json_bytes())
    producer.flush()
    producer.close()

    loop = _drain(settings, EnrichHandler(settings), 9)
    assert loop.stats.dead == 4 and loop.stats.produced == 5

    dead = [json.loads(r.value) for r in read_topic(settings, "mentions.dlq", 4)]
    assert sorted(d["reason"] for d in dead) == sorted(bad)
    for d in dead:
        assert d["topic"] == topic and d["offset"] >= 0 and d["detail"]
        assert d["original_size"] == len(bad[d["reason"]])
    assert {json.loads(r.value)["id"] for r in read_topic(settings, "mentions.labelled", 5)} == {m.id for m in good}


def test_consumer_killed_mid_batch_loses_and_duplicates_nothing(settings, env_for):
    mentions = [mention(i) for i in range(3000)]
    ids = [m.id for m in mentions]
    produce_mentions(settings, mentions)

    cmd = [sys.executable, "-m", "sada.cli", "consume", "enrich", "--stats-every", "1"]
    proc = subprocess.Popen(cmd, env={**env_for, "SADA_BATCH_SIZE": "50"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Wait until part of the work is done, then kill without any chance to clean up.
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and seen < 300:
        seen = _topic_size(settings, "mentions.labelled")
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert 0 < seen < 3000, f"the kill did not land mid-stream ({seen} enriched)"

    restarted = subprocess.Popen(cmd, env=env_for, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _committed_lag(settings, "enrich", "mentions.raw") != 0:
            time.sleep(0.5)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(30) == 0  # graceful stop on SIGTERM

    produced = _topic_size(settings, "mentions.labelled")
    assert produced >= 3000  # at least once: redelivery after the kill is allowed here...
    _drain(settings, ClusterHandler(settings), produced)
    _drain(settings, IndexHandler(settings), produced)
    total, per_id = _count(settings, ids)
    assert total == 3000  # ...and idempotent writes make it exactly once in the index
    assert set(per_id.values()) == {1} and len(per_id) == 3000


def _topic_size(settings, name):
    admin_consumer = sada_kafka.consumer(settings, settings.topic(name), group="size-probe")
    try:
        from kafka.structs import TopicPartition

        parts = [TopicPartition(settings.topic(name), p)
                 for p in admin_consumer.partitions_for_topic(settings.topic(name))]
        return sum(admin_consumer.end_offsets(parts).values())
    finally:
        admin_consumer.close(autocommit=False)


def _committed_lag(settings, group, topic):
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    c = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=settings.topic(group),
                      enable_auto_commit=False)
    try:
        parts = [TopicPartition(settings.topic(topic), p) for p in c.partitions_for_topic(settings.topic(topic))]
        ends = c.end_offsets(parts)
        return sum(ends[tp] - (c.committed(tp) or 0) for tp in parts)
    finally:
        c.close(autocommit=False)


def test_cluster_stage_restart_keeps_clusters_and_ignores_redelivery(settings):
    from sada.model import Mention

    def labelled(i, text):
        m = mention(i, text=text)
        return m.model_copy(update={"lang": "fr", "script": "latn", "relevant": True, "topics": [], "myths": [],
                                    "toxicity": "none", "stance": "oppose", "entities": []})

    rumor = "URGENT : 30 000 détenus libérés le 1er décembre avec un bracelet électronique, partagez !"
    first = [labelled(i, rumor + " " + "!" * i) for i in range(4)]
    producer = sada_kafka.producer(settings)
    for m in first:
        producer.send(settings.topic("mentions.labelled"), key=m.id.encode(), value=m.to_json_bytes())
    producer.flush()
    _drain(settings, ClusterHandler(settings), 4)  # then the process "stops": its memory is gone

    later = [labelled(10, "Partagez : le 1er décembre, 30 000 détenus seront libérés avec bracelet électronique"),
             first[0]]  # a paraphrase, and a redelivery of an already clustered mention
    for m in later:
        producer.send(settings.topic("mentions.labelled"), key=m.id.encode(), value=m.to_json_bytes())
    producer.flush()
    producer.close()
    _drain(settings, ClusterHandler(settings), 2)  # a new process, state from Elasticsearch

    out = [Mention.model_validate_json(r.value) for r in read_topic(settings, "mentions.enriched", 6)]
    assert len({m.cluster_id for m in out}) == 1
    es = sada_es.client(settings)
    es.indices.refresh(index=settings.index("clusters"))
    doc = es.get(index=settings.index("clusters"), id=out[0].cluster_id)["_source"]
    es.close()
    assert doc["size"] == 5  # 4 + the paraphrase; the redelivery counted once
