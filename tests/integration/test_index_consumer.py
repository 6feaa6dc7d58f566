"""The index consumer and ``sada index`` against the real Kafka and Elasticsearch.

Elasticsearch is made unavailable without touching the shared node: the consumer talks to it
through a loopback TCP proxy that the test stops (connections refused, open ones cut) and
restarts.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from consumers.index import IndexHandler
from consumers.runloop import RunLoop
from sada import es as sada_es
from sada import kafka as sada_kafka
from tests.builders import mention
from tests.integration.conftest import read_topic, run_until


class TcpProxy:
    """Forwards 127.0.0.1:<port> to Elasticsearch; ``stop()`` refuses and cuts every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted = 0

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self.accepted += 1
            with self._lock:
                self._conns |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _produce_enriched(settings, mentions) -> None:
    producer = sada_kafka.producer(settings)
    futures = [producer.send(settings.topic("mentions.enriched"), key=m.id.encode(), value=m.to_json_bytes())
               for m in mentions]
    producer.flush()
    for f in futures:
        f.get(timeout=30)
    producer.close()


def _counts(settings, ids):
    es = sada_es.client(settings)
    alias = sada_es.mentions_alias(settings)
    es.indices.refresh(index=alias)
    total = es.count(index=alias)["count"]
    resp = es.search(index=alias, size=0, query={"ids": {"values": ids}},
                     aggs={"ids": {"terms": {"field": "id", "size": len(ids) + 10}}})
    es.close()
    return total, {b["key"]: b["doc_count"] for b in resp["aggregations"]["ids"]["buckets"]}


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_elasticsearch_down_for_30s_loses_and_duplicates_nothing(settings):
    host, port = settings.es_url.removeprefix("http://").split(":")
    proxy = TcpProxy((host, int(port)))
    proxy.start()
    through_proxy = settings.model_copy(update={"es_url": f"http://127.0.0.1:{proxy.port}"})
    handler = IndexHandler(through_proxy, es=sada_es.client(through_proxy, max_retries=0, request_timeout=10))
    loop = RunLoop(settings, handler, poll_ms=200, stats_every=5)
    mentions = [mention(i) for i in range(1000)]
    ids = [m.id for m in mentions]
    _produce_enriched(settings, mentions[:400])

    thread = threading.Thread(target=loop.run, kwargs={"until": lambda lp: lp.stats.processed >= 1000},
                              daemon=True)
    thread.start()
    try:
        _wait(lambda: loop.stats.processed >= 400, 60, "the first 400 mentions")
        assert loop.stats.processed == 400 and loop.stats.retries == 0

        proxy.stop()
        down_at = time.monotonic()
        _produce_enriched(settings, mentions[400:])
        while time.monotonic() - down_at < 30:
            # Nothing is committed while Elasticsearch is away: the batch is rewound and retried.
            assert loop.stats.processed == 400
            time.sleep(0.5)
        retries_while_down = loop.stats.retries
        assert retries_while_down >= 3, f"only {retries_while_down} retries during the outage"

        proxy.start()
        _wait(lambda: not thread.is_alive(), 90, "the backlog after Elasticsearch came back")
    finally:
        loop.stop.set()
        thread.join(30)
        proxy.stop()
    assert loop.stats.processed == 1000 and loop.stats.dead == 0
    total, per_id = _counts(settings, ids)
    assert total == 1000
    assert per_id == {i: 1 for i in ids}


def test_rejected_documents_reach_the_dlq_with_elasticsearch_reason(settings):
    es = sada_es.client(settings)
    # A month index created by hand with a wrong mapping: documents landing there conflict.
    es.indices.create(index=settings.index("mentions-2020.01"), mappings={"properties": {"platform": {"type": "long"}}})
    es.close()
    good = [mention(i) for i in range(5)]
    conflicting = mention(100).model_copy(update={"published_at": datetime(2020, 1, 15, 12, tzinfo=UTC)})
    immense = mention(101).model_copy(update={"source": "s" * 40_000})  # a keyword over Lucene's term limit
    produced = [good[0], conflicting, *good[1:3], immense, *good[3:]]
    _produce_enriched(settings, produced)

    loop = run_until(RunLoop(settings, IndexHandler(settings), poll_ms=200), lambda lp: lp.stats.processed >= 7)
    assert loop.stats.dead == 2 and loop.stats.retries == 0

    dead = {json.loads(r.value)["key"]: json.loads(r.value) for r in read_topic(settings, "mentions.dlq", 2)}
    assert set(dead) == {conflicting.id, immense.id}
    conflict = dead[conflicting.id]
    assert conflict["reason"] == "es_rejected" and conflict["topic"] == settings.topic("mentions.enriched")
    assert "400 document_parsing_exception" in conflict["detail"]
    assert "failed to parse field [platform] of type [long]" in conflict["detail"]
    assert base64.b64decode(conflict["original_b64"]) == conflicting.to_json_bytes()
    assert "[source]" in dead[immense.id]["detail"] and dead[immense.id]["consumer_group"] == settings.topic("index")
    total, per_id = _counts(settings, [m.id for m in good])
    assert total == 5 and set(per_id.values()) == {1}


def test_reindexing_the_same_mentions_changes_no_count(settings, env_for, tmp_path):
    mentions = [mention(i, lang="fr", relevant=True, topics=["day_fine"]) for i in range(60)]
    ids = [m.id for m in mentions]
    for _ in range(2):  # the consumer twice, as after a redelivery
        _produce_enriched(settings, mentions)
    run_until(RunLoop(settings, IndexHandler(settings), poll_ms=200), lambda lp: lp.stats.processed >= 120)
    assert _counts(settings, ids) == (60, {i: 1 for i in ids})

    path = tmp_path / "backfill.jsonl"
    path.write_text("".join(m.to_json_bytes().decode() + "\n" for m in mentions), encoding="utf-8")
    for _ in range(2):  # and the same file loaded twice with `sada index`
        out = subprocess.run([sys.executable, "-m", "sada.cli_search", "index", "--input", str(path), "--json",
                              "--quiet"], env=env_for, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout)["indexed"] == 60
    assert _counts(settings, ids) == (60, {i: 1 for i in ids})


def test_sada_index_enriches_unlabelled_lines_and_reports_bad_ones(settings, env_for, tmp_path):
    labelled = mention(1, text="Les peines alternatives entrent en vigueur", lang="es", relevant=True)
    raw = [mention(i, text=t) for i, t in ((2, "Les peines alternatives entrent en vigueur demain au Maroc"),
                                           (3, "العقوبات البديلة دخلت حيز التنفيذ في المغرب اليوم"))]
    bare = {k: v for k, v in json.loads(mention(4).to_json_bytes()).items() if k not in ("id", "collected_at")}
    conflicting = mention(5).model_copy(update={"published_at": datetime(2020, 1, 15, tzinfo=UTC)})
    es = sada_es.client(settings)
    es.indices.create(index=settings.index("mentions-2020.01"), mappings={"properties": {"platform": {"type": "long"}}})
    lines = [labelled.to_json_bytes().decode(), "", raw[0].to_json_bytes().decode(), "{not json",
             json.dumps({"platform": "x", "native_id": "9", "text": "no dates"}), raw[1].to_json_bytes().decode(),
             json.dumps(bare, ensure_ascii=False), conflicting.to_json_bytes().decode()]
    path = tmp_path / "import.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    out = subprocess.run([sys.executable, "-m", "sada.cli_search", "index", "--input", str(path)], env=env_for,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr[-2000:]
    assert "4 of 7 mentions indexed (4 enriched offline), 2 invalid, 1 rejected" in out.stdout
    assert "line 4: invalid" in out.stderr and "line 5: invalid: source: Field required" in out.stderr
    assert "line 8: rejected: 400 document_parsing_exception" in out.stderr
    assert "index" in out.stderr and "mention" in out.stderr  # the progress bar, on stderr

    alias = sada_es.mentions_alias(settings)
    docs = {h["_source"]["id"]: h["_source"]
            for h in es.search(index=alias, size=10, query={"match_all": {}})["hits"]["hits"]}
    es.close()
    assert set(docs) == {labelled.id, raw[0].id, raw[1].id, mention(4).id}  # the id derived like a collector
    assert docs[labelled.id]["lang"] == "es"  # labels already there are kept, not re-enriched
    assert docs[raw[0].id]["lang"] == "fr" and docs[raw[1].id]["lang"] == "ar"
    assert docs[raw[0].id]["provenance"]["lang"]["enricher"] == "language.v1"  # who labelled it is recorded
    assert docs[raw[0].id]["enriched_at"] is not None and docs[labelled.id]["enriched_at"] is None
