"""Indexing throughput through the index consumer, against a bare bulk load of the same documents.

    .venv/bin/python bench/index_throughput.py [--docs 20000] [--rounds 2]

Needs the local Kafka and Elasticsearch (``sada up``). Each round:

1. *bare*: the documents the consumer would write, built beforehand, sent with ``es.bulk`` in
   chunks of the consumer's size — what Elasticsearch itself can take on this machine;
2. *consumer*: the same mentions, produced beforehand to ``mentions.enriched``, read by the run
   loop with the ``IndexHandler`` (decode, validate, build documents with their spelling
   variants, bulk, dead letters, flush, commit). Its throughput is measured from the first
   batch handed to the handler to the last commit (the consumer group's join, a few seconds
   once per process, is reported apart).

Both write to fresh indices made from the real template, on their own index prefixes, removed
afterwards. Prints the figures and writes them as JSON to ``bench/results/``. Target: the
consumer at 0.8 or more of the bare load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kafka.record.util as kafka_record_util  # noqa: E402

from consumers.index import _BULK_FILTER, CHUNK_DOCS, IndexHandler, _decode, document_json, to_document  # noqa: E402
from consumers.runloop import RunLoop  # noqa: E402
from sada import es as sada_es  # noqa: E402
from sada import kafka as sada_kafka  # noqa: E402
from sada.model import Mention  # noqa: E402
from sada.search import spelling_variants  # noqa: E402
from sada.settings import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SAMPLE = ROOT / "data" / "sample" / "mentions.jsonl"
LABELS = {"lang": "fr", "script": "latn", "relevant": True, "topics": ["day_fine"], "myths": ["impunity"],
          "stance": "oppose", "toxicity": "none", "entities": [], "cluster_id": "c-1"}


def mentions(n: int) -> list[Mention]:
    """``n`` enriched mentions with the sample's real texts (French, Arabic, Darija), cycled."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        out.append(Mention.new(platform=row["platform"], source=row["source"], native_id=f"bench-{i}",
                               url=f"https://bench.test/{i}", text=row["text"], title=row.get("title"),
                               author=row.get("author") or {}, metrics=row.get("metrics") or {},
                               published_at=start + timedelta(seconds=97 * i % (27 * 86400)),
                               collected_at=start + timedelta(days=28), **LABELS))
    return out


def _count(es, settings: Settings) -> int:
    alias = sada_es.mentions_alias(settings)
    es.indices.refresh(index=alias)
    return es.count(index=alias)["count"]


def bare_load(settings: Settings, batch: list[Mention]) -> float:
    """Seconds to bulk-load the prebuilt documents of ``batch``."""
    es = sada_es.client(settings)
    sada_es.ensure_templates(settings, es)
    now = datetime.now(UTC)
    chunks = []
    for i in range(0, len(batch), CHUNK_DOCS):
        ops = []
        for m in batch[i:i + CHUNK_DOCS]:
            ops += [{"index": {"_index": sada_es.mentions_index_for(settings, m.published_at), "_id": m.id}},
                    to_document(m, now)]
        chunks.append(ops)
    started = time.perf_counter()
    for ops in chunks:
        resp = es.bulk(operations=ops, filter_path=_BULK_FILTER)
        assert not resp["errors"], "the bare load had errors"
    seconds = time.perf_counter() - started
    assert _count(es, settings) == len(batch)
    es.close()
    return seconds


class TimedHandler(IndexHandler):
    first_batch_at: float | None = None

    def handle(self, records):
        if self.first_batch_at is None:
            self.first_batch_at = time.perf_counter()
        return super().handle(records)


def consumer_load(settings: Settings, batch: list[Mention]) -> tuple[float, float]:
    """(seconds from the first batch to the last commit, seconds from start to the first batch)."""
    sada_kafka.ensure_topics(settings)
    producer = sada_kafka.producer(settings)
    topic = settings.topic("mentions.enriched")
    futures = [producer.send(topic, key=m.id.encode(), value=m.to_json_bytes()) for m in batch]
    producer.flush()
    for f in futures:
        f.get(timeout=60)
    producer.close()

    handler = TimedHandler(settings)
    loop = RunLoop(settings, handler, poll_ms=100, stats_every=3600)
    done_at: list[float] = []

    def until(lp: RunLoop) -> bool:
        if lp.stats.processed >= len(batch):
            done_at.append(time.perf_counter())
            return True
        return False

    started = time.perf_counter()
    thread = threading.Thread(target=loop.run, kwargs={"until": until}, daemon=True)
    thread.start()
    thread.join(300)
    if thread.is_alive():
        loop.stop.set()
        thread.join(30)
        raise SystemExit(f"the consumer did not finish ({loop.stats.processed} of {len(batch)})")
    assert loop.stats.dead == 0 and loop.stats.retries == 0
    es = sada_es.client(settings)
    assert _count(es, settings) == len(batch)
    es.close()
    return done_at[0] - handler.first_batch_at, handler.first_batch_at - started


def cpu_breakdown(settings: Settings, batch: list[Mention]) -> dict[str, float]:
    """CPU microseconds per document of each stage of the consumer, in this process.

    CPU time, unlike wall time, is not inflated by other work on the machine: it shows where
    the consumer spends its own effort whatever the load.
    """
    sada_kafka.ensure_topics(settings)
    producer = sada_kafka.producer(settings)
    topic = settings.topic("mentions.enriched")
    for m in batch:
        producer.send(topic, key=m.id.encode(), value=m.to_json_bytes())
    producer.flush()
    producer.close()
    consumer = sada_kafka.consumer(settings, topic, settings.topic("bench-cpu"))
    records = []
    cpu = time.process_time()
    deadline = time.monotonic() + 120
    while len(records) < len(batch) and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            records.extend(recs)
    kafka_cpu = time.process_time() - cpu
    consumer.close(autocommit=False)
    now = datetime.now(UTC)
    cpu = time.process_time()
    mentions_ = [_decode(r, settings.max_text_chars) for r in records]
    decode_cpu = time.process_time() - cpu
    cpu = time.process_time()
    for m in mentions_:
        spelling_variants(m.title, m.text)
    variants_cpu = time.process_time() - cpu
    cpu = time.process_time()
    for m in mentions_:
        document_json(m, now)
    doc_cpu = time.process_time() - cpu
    n = len(records) or 1
    return {"kafka_poll_us": round(1e6 * kafka_cpu / n, 1), "decode_validate_us": round(1e6 * decode_cpu / n, 1),
            "document_and_json_us": round(1e6 * doc_cpu / n, 1),
            "of_which_spelling_variants_us": round(1e6 * variants_cpu / n, 1)}


def cleanup(settings: Settings) -> None:
    """Remove this run's indices and topics: only names under its own, non-empty, bench prefix."""
    for prefix in (settings.index_prefix, settings.topic_prefix):
        if not prefix.startswith("bench") or len(prefix) < 8:
            raise ValueError(f"refusing to clean up under prefix {prefix!r}: only a bench run's own prefix")
    es = sada_es.client(settings)
    es.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True, allow_no_indices=True)
    es.options(ignore_status=404).indices.delete_index_template(name=settings.index("sada-mentions"))
    es.close()
    admin = sada_kafka.admin(settings)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(settings.topic_prefix)]
        if mine:
            admin.delete_topics(mine)
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000, help="mentions per load (default 10000)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, alternating which load goes first")
    args = parser.parse_args(argv)

    batch = mentions(args.docs)
    base = Settings()
    es = sada_es.client(base)
    nodes = es.nodes.info(filter_path="nodes.*.version")["nodes"]
    es_version = sorted({n["version"] for n in nodes.values()})
    es.close()
    tag = uuid.uuid4().hex[:6]
    warm = Settings(index_prefix=f"benchw{tag}-", topic_prefix=f"benchw{tag}-")
    try:
        bare_load(warm, batch[:2000])  # JIT, caches, the analyzers' first use
    finally:
        cleanup(warm)

    rounds = []
    for r in range(args.rounds):
        tag = uuid.uuid4().hex[:6]
        bare_settings = Settings(index_prefix=f"benchb{tag}-", topic_prefix=f"benchb{tag}-")
        cons_settings = Settings(index_prefix=f"benchc{tag}-", topic_prefix=f"benchc{tag}-")
        try:
            if r % 2 == 0:
                bare_s = bare_load(bare_settings, batch)
                cons_s, join_s = consumer_load(cons_settings, batch)
            else:  # the other order too: a machine shared with other work drifts
                cons_s, join_s = consumer_load(cons_settings, batch)
                bare_s = bare_load(bare_settings, batch)
        finally:
            cleanup(bare_settings)
            cleanup(cons_settings)
        row = {"round": r + 1, "bare_docs_per_s": round(len(batch) / bare_s, 1),
               "consumer_docs_per_s": round(len(batch) / cons_s, 1), "consumer_group_join_s": round(join_s, 2),
               "ratio": round(bare_s / cons_s, 3)}
        rounds.append(row)
        print(f"round {r + 1}: bare bulk {row['bare_docs_per_s']:>8.0f} docs/s   index consumer "
              f"{row['consumer_docs_per_s']:>8.0f} docs/s   ratio {row['ratio']:.2f}   "
              f"(group join {join_s:.1f}s, not counted)", flush=True)

    median = round(statistics.median(r["ratio"] for r in rounds), 3)
    tag = uuid.uuid4().hex[:6]
    cpu_settings = Settings(index_prefix=f"benchp{tag}-", topic_prefix=f"benchp{tag}-")
    try:
        breakdown = cpu_breakdown(cpu_settings, batch)
    finally:
        cleanup(cpu_settings)
    print("consumer CPU per document: " + ", ".join(f"{k.removesuffix('_us')} {v:.0f} µs" for k, v in breakdown.items()))
    crc_in_c = kafka_record_util.crc32c_c is not None
    result = {
        "benchmark": "index_throughput",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "docs": len(batch),
        "chunk_docs": CHUNK_DOCS,
        "batch_size": base.batch_size,
        "elasticsearch": es_version,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
                    "load_average": os.getloadavg()},
        "kafka_crc32c_in_c": crc_in_c,
        "rounds": rounds,
        "cpu_per_doc": breakdown,
        "median_ratio": median,
        "target_ratio": 0.8,
        "meets_target": median >= 0.8,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"index_throughput-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not crc_in_c:
        print("note: kafka-python checks CRC32C in pure Python here (no `crc32c` package): ~75 µs per record")
    print(f"\n{len(batch)} mentions; consumer / bare bulk ratio (median of {len(rounds)}): {median:.2f} "
          f"(target ≥ 0.80: {'met' if median >= 0.8 else 'NOT met'})\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
