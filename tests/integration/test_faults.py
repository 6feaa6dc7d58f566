"""Faults on the live pipeline (enrich → cluster → index, real Kafka and Elasticsearch): nothing lost,
nothing counted twice.

* the Kafka broker stopped and restarted while the three consumers run;
* ten thousand copies of one viral post;
* every mention delivered three times, interleaved;
* poison messages at every stage (raw, labelled, enriched).

The consumers are the real run loops and handlers, in threads of this process. The broker
restarted is a broker of this test's own — the same Kafka 4.1.1 distribution, run by the same
``LocalServices`` code (``stop("kafka")`` then ``start_kafka()``), on a free port with its data in
a temporary folder — so the outage hits this test's consumers and nobody else's work on the
shared broker. Other faults are covered elsewhere: a consumer SIGKILLed mid-batch
(test_flow.py), Elasticsearch unavailable for 30 s (test_index_consumer.py), a collector failing
halfway (test_dags.py).
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from consumers.alert import AlertHandler
from consumers.cluster import ClusterHandler
from consumers.enrich import EnrichHandler
from consumers.index import IndexHandler
from consumers.runloop import RunLoop
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.cluster_store import clusters_index
from sada.model import Mention
from sada.replay import produce_mentions
from sada.services import LocalServices
from sada.settings import Settings
from tests.builders import mention
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
VIRAL = ("URGENT : à partir du 1er décembre, plus de 30.000 détenus vont être libérés avec un bracelet "
         "électronique. Le ministère de la Justice a validé la liste.")
PLATFORMS = ("x", "facebook", "telegram", "youtube", "instagram")


# -- the pipeline in threads ---------------------------------------------------------------------


class Pipeline:
    """The three live stages as run loops in threads, running until ``stop()``."""

    def __init__(self, settings: Settings, index: IndexHandler | None = None, alert: bool = False) -> None:
        self.settings = settings
        self.enrich = EnrichHandler(settings)
        self.handlers = [self.enrich, ClusterHandler(settings), index or IndexHandler(settings)]
        self.alert = AlertHandler(settings, start_ticker=False) if alert else None
        if self.alert is not None:
            self.handlers.append(self.alert)
        self.loops = {h.name: RunLoop(settings, h, poll_ms=200, stats_every=5) for h in self.handlers}
        self.errors: dict[str, BaseException] = {}
        self.threads: dict[str, threading.Thread] = {}

    def _run(self, name: str) -> None:
        try:
            self.loops[name].run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.errors[name] = exc

    def __enter__(self) -> Pipeline:
        # Consumers subscribing to topics created a moment ago can get no partitions and keep none
        # until their next metadata refresh (5 min by default): start once every partition has a leader.
        wait_topics_ready(self.settings)
        for name in self.loops:
            self.threads[name] = threading.Thread(target=self._run, args=(name,), daemon=True, name=f"stage-{name}")
            self.threads[name].start()
        return self

    def __exit__(self, *exc_info) -> None:
        for loop in self.loops.values():
            loop.stop.set()
        for thread in self.threads.values():
            thread.join(60)

    def processed(self) -> dict[str, int]:
        return {name: loop.stats.processed for name, loop in self.loops.items()}

    def alive(self) -> dict[str, bool]:
        return {name: t.is_alive() for name, t in self.threads.items()}

    def describe(self) -> str:
        """Partitions each stage holds, for a failure message."""
        out = []
        for name, loop in self.loops.items():
            consumer = loop._consumer  # noqa: SLF001 - diagnostics only
            try:
                parts = sorted(tp.partition for tp in consumer.assignment()) if consumer is not None else None
            except Exception as exc:  # noqa: BLE001
                parts = repr(exc)
            out.append(f"{name}: partitions {parts}, retries {loop.stats.retries}")
        return "; ".join(out)

    def check(self) -> None:
        """Fail at once, with the cause and where in our code it was raised, if a stage died."""
        where = {}
        for name, exc in self.errors.items():
            ours = [f for f in traceback.extract_tb(exc.__traceback__) if "/consumers/" in f.filename]
            where[name] = [f"{Path(f.filename).name}:{f.lineno} {f.line}" for f in ours]
        assert not self.errors, f"a stage died: {self.errors!r} raised at {where}"


class GatedIndexHandler(IndexHandler):
    """The real index handler, which can be held in the middle of a batch: ``arm()``, and the next
    batch waits at its start until ``release()``, then writes to Elasticsearch as usual."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._armed = threading.Event()
        self.entered = threading.Event()
        self._released = threading.Event()

    def arm(self) -> None:
        self._armed.set()

    def release(self) -> None:
        self._released.set()

    def handle(self, records):
        if self._armed.is_set() and not self.entered.is_set():
            self.entered.set()
            self._released.wait(120)
        return super().handle(records)


def _wait(condition: Callable[[], bool], timeout: float, what: str, pipeline: Pipeline | None = None) -> float:
    """Wait for ``condition``; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if pipeline is not None:
            pipeline.check()
        assert time.monotonic() - started < timeout, (
            f"timed out after {timeout:.0f}s waiting for {what}"
            + (f" (processed {pipeline.processed()}, {pipeline.describe()})" if pipeline else ""))
        time.sleep(0.25)
    return time.monotonic() - started


class Index:
    """What Elasticsearch holds for a test's prefix."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.es = sada_es.client(settings)
        self.alias = sada_es.mentions_alias(settings)

    def count(self) -> int:
        self.es.indices.refresh(index=self.alias)
        return self.es.count(index=self.alias)["count"]

    def per_id(self, ids: list[str]) -> dict[str, int]:
        self.es.indices.refresh(index=self.alias)
        resp = self.es.search(index=self.alias, size=0, query={"match_all": {}},
                              aggs={"ids": {"terms": {"field": "id", "size": len(ids) + 100}}})
        return {b["key"]: b["doc_count"] for b in resp["aggregations"]["ids"]["buckets"]}

    def per_cluster(self) -> dict[str, int]:
        """Indexed mentions per cluster id."""
        resp = self.es.search(index=self.alias, size=0,
                              aggs={"c": {"terms": {"field": "cluster_id", "size": 20_000}}})
        return {b["key"]: b["doc_count"] for b in resp["aggregations"]["c"]["buckets"]}

    def cluster_sizes(self, cluster_ids: list[str]) -> dict[str, int]:
        index = clusters_index(self.settings)
        self.es.indices.refresh(index=index)
        docs = self.es.mget(index=index, ids=cluster_ids)["docs"]
        return {d["_id"]: d["_source"]["size"] for d in docs if d.get("found")}

    def close(self) -> None:
        self.es.close()


def assert_exactly_once(index: Index, ids: list[str]) -> None:
    assert len(set(ids)) == len(ids)
    total = index.count()
    per_id = index.per_id(ids)
    missing = [i for i in ids if i not in per_id]
    assert not missing, f"{len(missing)} of {len(ids)} mentions missing from the index, e.g. {missing[:3]}"
    assert total == len(ids), f"{total} documents for {len(ids)} mentions"
    assert set(per_id.values()) == {1}


# -- a Kafka broker of this test's own -------------------------------------------------------------


def _two_free_ports() -> int:
    """A port P with P+1 free too (the broker's controller listens on P+1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two consecutive free ports")


def stop_broker(svc: LocalServices) -> str:
    """``LocalServices.stop("kafka")``, reaping the broker: it is a child of this process, and a
    child that has exited but is not reaped still answers ``kill(pid, 0)``, so ``stop`` would wait
    its whole timeout and then SIGKILL a zombie."""
    pid = svc.status()["kafka"]["pid"]
    if pid is None:
        return "kafka: not running"

    def reap() -> None:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # not our child (or already reaped): stop() sees it go by itself

    reaper = threading.Thread(target=reap, daemon=True)
    reaper.start()
    return svc.stop("kafka", timeout=45)


def wait_topics_ready(settings: Settings, timeout: float = 60) -> None:
    """Wait until every topic of the pipeline has its partitions led on the (new) broker."""
    names = [settings.topic(t) for t in sada_kafka.load_topics()]
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    try:
        def ready() -> bool:
            try:
                for name in names:
                    parts = consumer.partitions_for_topic(name)
                    if not parts:
                        return False
                    consumer.end_offsets([TopicPartition(name, p) for p in parts])  # needs every leader
            except KafkaError:
                return False
            return True

        _wait(ready, timeout, "the topics on the new broker")
    finally:
        consumer.close()


@pytest.fixture
def own_broker(services: LocalServices) -> Iterator[LocalServices]:
    """A single-node Kafka for this test only, from the distribution `sada up` fetched."""
    services.fetch_kafka()
    home = Path(tempfile.mkdtemp(prefix="sada-faults-kafka-"))
    (home / "dist").mkdir()
    (home / "dist" / services.kafka_home.name).symlink_to(services.kafka_home)
    svc = None
    try:
        for attempt in range(3):  # the free port may be taken between the check and the bind
            svc = LocalServices(Settings(kafka_bootstrap=f"127.0.0.1:{_two_free_ports()}", home=home,
                                         kafka_heap="256m"), echo=lambda *_: None)
            try:
                svc.start_kafka(timeout=120)
                break
            except Exception:
                stop_broker(svc)
                shutil.rmtree(home / "data", ignore_errors=True)
                if attempt == 2:
                    raise
        yield svc
    finally:
        if svc is not None:
            stop_broker(svc)
        shutil.rmtree(home, ignore_errors=True)


# -- the tests ---------------------------------------------------------------------------------------


def test_kafka_broker_restarted_mid_stream_every_mention_exactly_once(settings, own_broker):
    kafka = settings.model_copy(update={"kafka_bootstrap": own_broker.settings.kafka_bootstrap})
    sada_kafka.ensure_topics(kafka)
    before = [mention(i) for i in range(2000)]
    after = [mention(i) for i in range(2000, 2500)]
    ids = [m.id for m in before + after]
    index = Index(kafka)
    gate = GatedIndexHandler(kafka)
    produce_mentions(kafka, before)
    restarted = False
    try:
        with Pipeline(kafka, index=gate) as pipeline:
            _wait(lambda: gate.entered.is_set() or pipeline.loops["index"].stats.processed >= 100, 120,
                  "the first mentions indexed", pipeline)
            # Stop the broker while the index stage is in the middle of a batch: its documents reach
            # Elasticsearch while Kafka is away, so the offsets cannot be committed until it is back.
            gate.arm()
            _wait(gate.entered.is_set, 60, "the index stage inside a batch", pipeline)
            stopped_at = time.monotonic()
            try:
                message = stop_broker(own_broker)
                gate.release()
                assert not own_broker.status()["kafka"]["up"], message
                indexed_when_stopped = index.count()
                assert indexed_when_stopped < len(before), "the broker stopped after the stream, not mid-stream"
                time.sleep(1)
                frozen = pipeline.processed()
                time.sleep(5)
                # Nothing can be committed while the broker is away, and no stage gives up.
                assert pipeline.processed() == frozen
                assert all(pipeline.alive().values()), f"a stage died while Kafka was away: {pipeline.errors!r}"
            finally:
                gate.release()
                own_broker.start_kafka(timeout=120)
                restarted = True
            outage = time.monotonic() - stopped_at
            print(f"\nbroker {message} and restarted: {outage:.1f}s without Kafka, "
                  f"{indexed_when_stopped} of {len(before)} indexed when it stopped, processed {frozen}")

            produce_mentions(kafka, after)  # the same consumers go on with new mentions
            took = _wait(lambda: index.count() >= len(ids), 180, "every mention indexed after the restart", pipeline)
            print(f"all {len(ids)} searchable {took:.1f}s after the restart; "
                  f"retries {({n: lp.stats.retries for n, lp in pipeline.loops.items()})}")
            assert all(pipeline.alive().values()), pipeline.errors
        pipeline.check()
        assert_exactly_once(index, ids)
        assert sum(lp.stats.dead for lp in pipeline.loops.values()) == 0
    finally:
        if not restarted:
            own_broker.start_kafka(timeout=120)
        index.close()


def test_ten_thousand_copies_of_a_viral_post_one_cluster_each_once(settings):
    n = 10_000
    copies = []
    for i in range(n):
        text = VIRAL + (" Partagez !" if i % 200 == 7 else " انشروا" if i % 200 == 11 else "")
        copies.append(Mention.new(platform=PLATFORMS[i % len(PLATFORMS)], source="viral:test",
                                  native_id=f"viral-{i}", url=f"https://example.test/viral/{i}", text=text,
                                  published_at=T0 + timedelta(seconds=i), collected_at=T0 + timedelta(seconds=i + 5)))
    ids = [m.id for m in copies]
    index = Index(settings)
    try:
        with Pipeline(settings) as pipeline:
            _wait(lambda: pipeline.enrich.pipeline is not None, 60, "the enrichers loaded", pipeline)
            started = time.monotonic()
            produce_mentions(settings, copies)
            took = _wait(lambda: index.count() >= n, 170, f"{n} copies indexed", pipeline)
            total = time.monotonic() - started
            hits, misses = pipeline.enrich.pipeline.cache_hits, pipeline.enrich.pipeline.cache_misses
            print(f"\n{n} copies of one post produced → searchable in {total:.1f}s ({n / total:.0f} mentions/s; "
                  f"{took:.1f}s after the last was produced); enrichment cache {hits} hits, {misses} misses; "
                  f"load average {os.getloadavg()[0]:.2f}")
        pipeline.check()
        assert_exactly_once(index, ids)
        # Three distinct wordings: each labelled once, every other copy from the cache.
        assert misses == 3 and hits >= n - 3
        per_cluster = index.per_cluster()
        assert list(per_cluster.values()) == [n], f"the copies are split: {Counter(per_cluster.values())}"
        assert index.cluster_sizes(list(per_cluster)) == {next(iter(per_cluster)): n}
        assert total < 170
    finally:
        index.close()


def test_each_mention_delivered_three_times_interleaved_counts_once(settings):
    rumors = ["Les riches vont acheter leur liberté : 1500 dirhams par jour de prison, c'est officiel",
              "عاجل: غادي يطلقو 30 ألف حباس فاتح دجنبر، انشروا",
              "Le bracelet électronique ne marche pas à Béni Mellal, les condamnés se promènent"]
    mentions = [mention(i, text=f"{rumors[i % 3]} {'!' * (i % 4)}") for i in range(90)]
    mentions += [mention(i) for i in range(90, 300)]  # tests.builders texts, five claims repeated
    ids = [m.id for m in mentions]
    deliveries = mentions * 3
    random.Random(43_22).shuffle(deliveries)  # copies of a mention far apart, in no set order
    assert len({m.id for m in deliveries[:300]}) < 300  # ...and some close together
    index = Index(settings)
    try:
        produce_mentions(settings, deliveries)
        with Pipeline(settings, alert=True) as pipeline:
            _wait(lambda: pipeline.loops["index"].stats.processed >= len(deliveries)
                  and pipeline.loops["alert"].stats.processed >= len(deliveries), 120,
                  "every delivery through the four stages", pipeline)
        pipeline.check()
        # Redelivered at each stage...
        assert pipeline.processed() == {"enrich": 900, "cluster": 900, "index": 900, "alert": 900}
        assert_exactly_once(index, ids)
        # ...and the alert rules counted each mention once, so no alert was raised or sized by copies.
        engine = pipeline.alert.engine
        assert (engine.stats["mentions"], engine.stats["duplicates"]) == (300, 600)
        raised = [json.loads(r.value) for r in read_topic(settings, "alerts", 1, timeout=3)]
        assert len({a["alert_id"] for a in raised}) == len(raised), "an alert was produced twice"

        enriched = [json.loads(r.value) for r in read_topic(settings, "mentions.enriched", 900)]
        given: dict[str, set[str | None]] = defaultdict(set)
        for m in enriched:
            given[m["id"]].add(m["cluster_id"])
        assert all(len(c) == 1 for c in given.values()), "a redelivered mention changed cluster"

        per_cluster = index.per_cluster()
        assert max(per_cluster.values()) >= 30  # the repeated claims did form clusters
        sizes = index.cluster_sizes(list(per_cluster))
        # Each cluster counts its distinct mentions: three deliveries do not make three members.
        assert sizes == per_cluster
        assert sum(sizes.values()) == sum(1 for c in given.values() if next(iter(c)) is not None)
    finally:
        index.close()


def test_poison_messages_at_every_stage_are_dead_lettered_and_the_stream_goes_on(settings):
    good = [mention(i) for i in range(60)]
    long_text = mention(99, text="ع" * (settings.max_text_chars + 10))
    poison = {
        "mentions.raw": [("not_json", b"{broken"), ("invalid_utf8", b'{"text": "\xff\xfe"}'),
                         ("schema", json.dumps({"id": "r-1", "text": "no platform, no dates"}).encode()),
                         ("empty", None)],
        "mentions.labelled": [("not_json_object", b"[1, 2, 3]"), ("invalid_utf8", b"\xc3\x28"),
                              ("schema", json.dumps({"id": "l-1", "platform": "fax", "text": "x"}).encode())],
        "mentions.enriched": [("not_json", b"<html>oops</html>"), ("too_large", long_text.to_json_bytes()),
                              ("schema", json.dumps({"id": "e-1", "published_at": "yesterday"}).encode())],
    }
    stage_of = {"mentions.raw": "enrich", "mentions.labelled": "cluster", "mentions.enriched": "index"}
    producer = sada_kafka.producer(settings)
    expected: dict[tuple[str, int, int], tuple[str, str, bytes | None]] = {}
    try:
        for k in range(0, len(good), 10):  # good mentions before, between and after the poison
            for m in good[k:k + 10]:
                producer.send(settings.topic("mentions.raw"), key=m.id.encode(), value=m.to_json_bytes())
            for topic, items in poison.items():
                if k // 10 < len(items):
                    reason, value = items[k // 10]
                    meta = producer.send(settings.topic(topic), key=f"{reason}-{k}".encode(),
                                         value=value).get(timeout=30)
                    expected[(meta.topic, meta.partition, meta.offset)] = (reason, stage_of[topic], value)
        producer.flush()
    finally:
        producer.close()
    n_poison = sum(len(v) for v in poison.values())
    assert len(expected) == n_poison

    index = Index(settings)
    try:
        with Pipeline(settings) as pipeline:
            _wait(lambda: index.count() >= len(good)
                  and sum(lp.stats.dead for lp in pipeline.loops.values()) >= n_poison,
                  120, "the good mentions indexed and the poison dead-lettered", pipeline)
            assert all(pipeline.alive().values())
        pipeline.check()
        assert {n: lp.stats.dead for n, lp in pipeline.loops.items()} == {
            "enrich": len(poison["mentions.raw"]), "cluster": len(poison["mentions.labelled"]),
            "index": len(poison["mentions.enriched"])}
        assert_exactly_once(index, [m.id for m in good])
    finally:
        index.close()

    dead = [json.loads(r.value) for r in read_topic(settings, "mentions.dlq", n_poison)]
    assert len(dead) == n_poison
    seen = set()
    for d in dead:
        where = (d["topic"], d["partition"], d["offset"])
        assert where in expected, f"a dead letter for a record that was not poison: {where} {d['reason']}"
        reason, stage, value = expected[where]
        assert d["reason"] == reason, (where, d["reason"], d["detail"])
        assert d["consumer_group"] == settings.topic(stage)
        assert d["detail"] and d["failed_at"]
        assert base64.b64decode(d["original_b64"]) == (value or b"")
        assert d["original_size"] == len(value or b"")
        seen.add(where)
    assert seen == set(expected)  # each poison record dead-lettered once
