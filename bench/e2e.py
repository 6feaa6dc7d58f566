"""End to end through the live pipeline: produced to Kafka → searchable in Elasticsearch.

    .venv/bin/python bench/e2e.py [--mentions 20000] [--rate 100] [--fresh-seconds 60]

Needs the local Kafka and Elasticsearch (``sada up``). Not a test: it prints figures and writes
them to ``bench/results/e2e-<timestamp>.json``. Every phase runs the real consumers as processes
(``sada consume enrich|cluster|index``, as in production) on topics and indices of its own, under
one ``bench<hex>-`` prefix that is removed at the end (nothing else is touched). Phases:

1. **throughput, one enrich**: ``--mentions`` realistic mentions (``bench.generate``: mixed
   languages, viral copies) produced as fast as Kafka takes them while ``enrich`` ×1,
   ``cluster`` and ``index`` run; the figure is mentions / (last one searchable − first
   produced). Each consumer's CPU seconds and peak resident memory are read with psutil (CPU
   over the measured window, peak RSS = the kernel's high-water mark ``VmHWM``).
2. **throughput, two enrich**: the same with two ``enrich`` processes in the group. ``cluster``
   stays single by design: ``mentions.labelled`` has one partition, because the rumor clusterer
   must see every mention in order.
3. **bare**: the same documents through a Kafka → Elasticsearch path with no enrichment (a
   consumer of ``mentions.raw`` that bulk-indexes the raw JSON with the same template, batch
   size and commit-after-write), for the ratio full / bare.
4. **freshness**: a steady ``--rate`` mentions/s for ``--fresh-seconds`` through enrich ×1,
   cluster, index. Each mention carries its produce time as ``collected_at``; a poller searches
   Elasticsearch every 0.2 s, so *produced → searchable* includes the 1 s refresh interval.
   ``indexed_at − collected_at`` (produced → handed to the bulk request) is reported too.

Before each measured window the consumers have joined their groups and a warm-up batch has gone
all the way through (process start, model loading and the group join are not billed). The
machine is shared: the load average and the CPU that other work used during each window are
printed with the figures. Alert latency has its own benchmark: ``bench/alert_latency.py``.

Targets (2 cores): ≥ 400 mentions/s end to end with full enrichment; freshness p99 ≤ 5 s;
enrich process ≤ 1 GB resident.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402
from kafka.structs import TopicPartition  # noqa: E402

from bench.generate import generate  # noqa: E402
from sada import es as sada_es  # noqa: E402
from sada import kafka as sada_kafka  # noqa: E402
from sada.bootstrap import setup_all  # noqa: E402
from sada.model import Mention  # noqa: E402
from sada.services import LocalServices  # noqa: E402
from sada.settings import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGETS = {"mentions_per_second": 400.0, "freshness_p99_s": 5.0, "enrich_peak_rss_mb": 1024.0}
WARMUP = 300


def percentile(values: list[float], q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- consumer processes --------------------------------------------------------------------------


@dataclass
class Proc:
    """One consumer process and what it cost."""

    name: str
    popen: subprocess.Popen
    log: Path
    ps: psutil.Process = field(init=False)
    peak_rss: int = 0
    cpu_mark: float = 0.0

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.popen.pid)

    def cpu(self) -> float:
        try:
            t = self.ps.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    def sample(self) -> None:
        try:
            self.peak_rss = max(self.peak_rss, self.ps.memory_info().rss)
        except psutil.Error:
            pass

    def hwm(self) -> int:
        """The kernel's own peak RSS of the process (VmHWM), or the sampled peak."""
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return max(int(line.split()[1]) * 1024, self.peak_rss)
        except OSError:
            pass
        return self.peak_rss


class Processes:
    """Start consumers, sample their memory, stop them gracefully."""

    def __init__(self, settings: Settings, logdir: Path, phase: str) -> None:
        self.settings = settings
        self.logdir = logdir
        self.phase = phase
        self.procs: list[Proc] = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def env(self) -> dict[str, str]:
        return {**os.environ, "SADA_TOPIC_PREFIX": self.settings.topic_prefix,
                "SADA_INDEX_PREFIX": self.settings.index_prefix, "PYTHONPATH": str(ROOT)}

    def start(self, name: str, cmd: list[str]) -> None:
        n = sum(1 for p in self.procs if p.name.split("#")[0] == name) + 1
        log = self.logdir / f"{self.phase}-{name}-{n}.log"
        out = open(log, "w")  # noqa: SIM115 - handed to the child
        popen = subprocess.Popen(cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                 stdin=subprocess.DEVNULL)
        out.close()
        self.procs.append(Proc(f"{name}#{n}", popen, log))
        if not self._sampler.is_alive():
            self._sampler.start()

    def consumer(self, name: str) -> None:
        self.start(name, [sys.executable, "-m", "sada.cli", "consume", name, "--stats-every", "5"])

    def _sample(self) -> None:
        while not self._stop.is_set():
            for p in self.procs:
                p.sample()
            self._stop.wait(0.25)

    def check_alive(self) -> None:
        for p in self.procs:
            if p.popen.poll() is not None:
                tail = p.log.read_text(errors="replace").splitlines()[-15:]
                raise SystemExit(f"consumer {p.name} exited ({p.popen.returncode}); log {p.log}:\n  "
                                 + "\n  ".join(tail))

    def mark(self) -> None:
        for p in self.procs:
            p.cpu_mark = p.cpu()

    def report(self, mentions: int) -> dict[str, dict[str, float]]:
        out = {}
        for p in self.procs:
            cpu = p.cpu() - p.cpu_mark
            out[p.name] = {"cpu_s": round(cpu, 2), "cpu_ms_per_mention": round(1000 * cpu / max(mentions, 1), 2),
                           "cpu_total_s": round(p.cpu(), 2), "peak_rss_mb": round(p.hwm() / 2**20, 1)}
        return out

    def stop(self) -> None:
        for p in self.procs:
            p.sample()
            p.peak_rss = p.hwm()  # read before the process goes
        for p in self.procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.popen.wait(60)
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait(10)
        self._stop.set()


class Machine:
    """CPU used on the whole machine, by the services, and by everything else, over a window."""

    def __init__(self) -> None:
        status = LocalServices(Settings(), echo=lambda *_: None).status()
        self.services = {}
        for name in ("kafka", "elasticsearch"):
            pid = status[name]["pid"]
            try:
                self.services[name] = psutil.Process(pid) if pid else None
            except psutil.Error:
                self.services[name] = None

    def _svc_cpu(self) -> dict[str, float]:
        out = {}
        for name, ps in self.services.items():
            try:
                t = ps.cpu_times() if ps else None
                out[name] = (t.user + t.system) if t else 0.0
            except psutil.Error:
                out[name] = 0.0
        return out

    def mark(self) -> None:
        self.t0 = time.monotonic()
        self.total0 = psutil.cpu_times()
        self.svc0 = self._svc_cpu()

    def report(self, ours: float) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        t1 = psutil.cpu_times()
        busy = sum(getattr(t1, f) - getattr(self.total0, f) for f in ("user", "system", "nice", "irq", "softirq", "steal"))
        svc = {k: v - self.svc0[k] for k, v in self._svc_cpu().items()}
        others = busy - ours - sum(svc.values())
        return {"wall_s": round(wall, 1), "machine_cpu_s": round(busy, 1),
                "capacity_cpu_s": round(wall * psutil.cpu_count(), 1),
                "kafka_cpu_s": round(svc.get("kafka", 0.0), 1), "elasticsearch_cpu_s": round(svc.get("elasticsearch", 0.0), 1),
                "bench_driver_and_other_work_cpu_s": round(max(others, 0.0), 1)}


# -- Kafka and Elasticsearch helpers -------------------------------------------------------------


class Watch:
    """End offsets of the pipeline's topics and the searchable count, for one prefix."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                      enable_auto_commit=False)
        self.parts: dict[str, list[TopicPartition]] = {}
        self.es = sada_es.client(settings)
        self.alias = sada_es.mentions_alias(settings)

    def size(self, name: str) -> int:
        topic = self.settings.topic(name)
        if name not in self.parts:
            self.parts[name] = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]
        return sum(self.consumer.end_offsets(self.parts[name]).values())

    def searchable(self) -> int:
        return self.es.count(index=self.alias)["count"]

    def close(self) -> None:
        self.consumer.close()
        self.es.close()


def wait_groups(settings: Settings, members: dict[str, int], procs: Processes, timeout: float = 240) -> float:
    """Wait until each consumer group is Stable with the expected number of members."""
    admin = sada_kafka.admin(settings)
    started = time.monotonic()
    try:
        while True:
            procs.check_alive()
            groups = admin.describe_groups([settings.topic(g) for g in members])
            ok = all(groups.get(settings.topic(g), {}).get("group_state") == "Stable"
                     and len(groups[settings.topic(g)].get("members") or []) == n for g, n in members.items())
            if ok:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise SystemExit(f"consumer groups not ready after {timeout:.0f}s: "
                                 f"{ {g: (d.get('group_state'), len(d.get('members') or [])) for g, d in groups.items()} }")
            time.sleep(0.5)
    finally:
        admin.close()


def encode(mentions: list[Mention]) -> list[tuple[bytes, bytes]]:
    return [(m.id.encode(), m.to_json_bytes()) for m in mentions]


def produce(settings: Settings, records: list[tuple[bytes, bytes]]) -> float:
    """Send pre-encoded records as fast as the broker takes them; seconds until all acknowledged."""
    producer = sada_kafka.producer(settings, linger_ms=20, batch_size=256 * 1024)
    topic = settings.topic("mentions.raw")
    started = time.monotonic()
    futures = [producer.send(topic, key=k, value=v) for k, v in records]
    producer.flush(timeout=120)
    for f in futures:
        f.get(timeout=60)
    seconds = time.monotonic() - started
    producer.close()
    return seconds


def wait_searchable(watch: Watch, expected: int, procs: Processes, timeout: float,
                    stages: dict[str, float] | None = None, t0: float = 0.0) -> float:
    """Poll until ``expected`` documents are searchable; note when each topic got them all."""
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        count = watch.searchable()
        if stages is not None:
            for topic in ("mentions.labelled", "mentions.enriched"):
                if topic not in stages and watch.size(topic) >= expected:
                    stages[topic] = now - t0
        if count >= expected:
            return now
        if now > deadline:
            raise SystemExit(f"only {count} of {expected} mentions searchable after {timeout:.0f}s")
        procs.check_alive()
        time.sleep(0.2)


# -- the bare path -----------------------------------------------------------------------------------


def bare_worker() -> int:
    """Kafka mentions.raw → Elasticsearch with no enrichment: the floor the pipeline is compared to.

    The same consumer settings (batch size, manual commit after the write), the same index
    template and monthly index, bulk requests of one batch; no validation, no labels, no
    spelling variants, no extra Kafka hop.
    """
    settings = Settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    es = sada_es.client(settings, max_retries=0)
    sada_es.ensure_templates(settings, es)
    consumer = sada_kafka.consumer(settings, settings.topic("mentions.raw"), settings.topic("bare"))
    try:
        while not stop.is_set():
            polled = consumer.poll(timeout_ms=500)
            records = [r for rs in polled.values() for r in rs]
            if not records:
                continue
            now = datetime.now(UTC).isoformat()
            ops: list[dict[str, Any]] = []
            for r in records:
                doc = json.loads(r.value)
                doc["indexed_at"] = now
                when = datetime.fromisoformat(doc["published_at"])
                ops += [{"index": {"_index": sada_es.mentions_index_for(settings, when), "_id": doc["id"]}}, doc]
            resp = es.bulk(operations=ops, filter_path="errors,items.*.error")
            if resp.get("errors"):
                raise SystemExit(f"bare bulk errors: {json.dumps(resp)[:500]}")
            consumer.commit()
    finally:
        consumer.close(autocommit=False)
        es.close()
    return 0


# -- phases ---------------------------------------------------------------------------------------------


def throughput_phase(name: str, settings: Settings, layout: dict[str, int], mentions: list[Mention],
                     warmup: list[Mention], logdir: Path) -> dict[str, Any]:
    setup_all(settings)
    procs = Processes(settings, logdir, name)
    watch = Watch(settings)
    machine = Machine()
    try:
        for consumer, n in layout.items():
            for _ in range(n):
                if consumer == "bare":
                    procs.start("bare", [sys.executable, str(Path(__file__).resolve()), "--bare-worker"])
                else:
                    procs.consumer(consumer)
        join_s = wait_groups(settings, layout, procs)
        produce(settings, encode(warmup))
        wait_searchable(watch, len(warmup), procs, 300)
        records = encode(mentions)
        load_before = load()
        procs.mark()
        machine.mark()
        t0 = time.monotonic()
        stages: dict[str, float] = {}
        produce_s = produce(settings, records)
        done = wait_searchable(watch, len(warmup) + len(mentions), procs, 1800,
                               stages if "bare" not in layout else None, t0)
        seconds = done - t0
        per_proc = procs.report(len(mentions))
        window = machine.report(sum(p["cpu_s"] for p in per_proc.values()))
        load_after = load()
        time.sleep(1.5)
        total = watch.searchable()
        dlq = watch.size("mentions.dlq") if "bare" not in layout else 0
    finally:
        procs.stop()
        watch.close()
    per_proc = {k: {**v, "peak_rss_mb": round(p.peak_rss / 2**20, 1)}
                for (k, v), p in zip(per_proc.items(), procs.procs, strict=True)}
    consumers_ms = 1000 * sum(p["cpu_s"] for p in per_proc.values()) / len(mentions)
    services_ms = 1000 * (window["kafka_cpu_s"] + window["elasticsearch_cpu_s"]) / len(mentions)
    result = {
        "layout": layout, "mentions": len(mentions), "warmup_mentions": len(warmup),
        "cpu_ms_per_mention": {"consumers": round(consumers_ms, 2), "kafka_and_elasticsearch": round(services_ms, 2)},
        # What the window's CPU cost would allow if the whole machine ran only this pipeline: an
        # estimate, not a measurement (Kafka and Elasticsearch also served other people's tests).
        "cpu_bound_estimate_mentions_per_second": round(psutil.cpu_count() * 1000 / (consumers_ms + services_ms), 0),
        "seconds": round(seconds, 2), "mentions_per_second": round(len(mentions) / seconds, 1),
        "produce_seconds": round(produce_s, 2),
        "stage_done_s": {k.removeprefix("mentions."): round(v, 2) for k, v in stages.items()},
        "searchable_total": total, "exactly_once": total == len(mentions) + len(warmup), "dead_letters": dlq,
        "group_join_s": round(join_s, 1), "processes": per_proc, "machine": window,
        "load_average_before": load_before, "load_average_after": load_after,
    }
    print(f"\n[{name}] {' + '.join(f'{k}×{v}' for k, v in layout.items())}: {len(mentions)} mentions "
          f"produced → searchable in {seconds:.1f}s = {result['mentions_per_second']:.0f} mentions/s "
          f"(producing took {produce_s:.1f}s; load average {load_before[0]} → {load_after[0]})")
    if stages:
        print("  all through: " + ", ".join(f"{k} at {v:.1f}s" for k, v in result["stage_done_s"].items())
              + f", searchable at {seconds:.1f}s")
    print(f"  searchable {total} (= {len(warmup)} warm-up + {len(mentions)}: "
          f"{'exactly once' if result['exactly_once'] else 'MISMATCH'}), dead letters {dlq}")
    for pname, p in per_proc.items():
        print(f"  {pname:10} CPU {p['cpu_s']:6.1f}s ({p['cpu_ms_per_mention']:.2f} ms/mention)   "
              f"peak RSS {p['peak_rss_mb']:7.1f} MB")
    print(f"  CPU per mention: consumers {consumers_ms:.2f} ms + Kafka/Elasticsearch {services_ms:.2f} ms → "
          f"≈ {result['cpu_bound_estimate_mentions_per_second']:.0f} mentions/s if the {psutil.cpu_count()} cores "
          "ran nothing else (an estimate from CPU time, not a measurement)")
    print(f"  machine over the window: {window['machine_cpu_s']}s CPU of {window['capacity_cpu_s']}s available; "
          f"Elasticsearch {window['elasticsearch_cpu_s']}s, Kafka {window['kafka_cpu_s']}s, "
          f"this driver and other people's work {window['bench_driver_and_other_work_cpu_s']}s")
    return result


def freshness_phase(settings: Settings, pool: list[Mention], rate: float, duration: float, enrich: int,
                    logdir: Path, warmup: list[Mention]) -> dict[str, Any]:
    setup_all(settings)
    layout = {"enrich": enrich, "cluster": 1, "index": 1}
    procs = Processes(settings, logdir, "freshness")
    watch = Watch(settings)
    machine = Machine()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop_poll = threading.Event()

    def poller() -> None:
        es = sada_es.client(settings)
        horizon = datetime.now(UTC).timestamp() - 30
        while not stop_poll.is_set():
            now = time.time()
            try:
                resp = es.search(index=watch.alias, size=10_000, source=False, track_total_hits=False,
                                 query={"range": {"indexed_at": {"gte": datetime.fromtimestamp(horizon, UTC).isoformat()}}},
                                 filter_path="hits.hits._id")
            except Exception as exc:  # noqa: BLE001 - a slow answer must not end the measure
                print(f"  (poll failed: {exc})")
                time.sleep(0.2)
                continue
            for hit in resp.get("hits", {}).get("hits", []):
                seen.setdefault(hit["_id"], now)
            # look back far enough to catch what becomes visible late (refresh, bulk order)
            horizon = max(horizon, now - 10)
            time.sleep(0.2)
        es.close()

    try:
        for consumer, n in layout.items():
            for _ in range(n):
                procs.consumer(consumer)
        wait_groups(settings, layout, procs)
        produce(settings, encode(warmup))
        wait_searchable(watch, len(warmup), procs, 300)
        poll = threading.Thread(target=poller, daemon=True)
        poll.start()
        producer = sada_kafka.producer(settings, linger_ms=5)
        topic = settings.topic("mentions.raw")
        load_before = load()
        procs.mark()
        machine.mark()
        start = time.time()
        i = 0
        while time.time() - start < duration:
            due = int((time.time() - start) * rate) - i
            for _ in range(max(due, 0)):
                now = time.time()
                m = pool[i % len(pool)].model_copy(update={"collected_at": datetime.fromtimestamp(now, UTC)})
                producer.send(topic, key=m.id.encode(), value=m.to_json_bytes())
                sent[m.id] = now
                i += 1
            procs.check_alive()
            time.sleep(0.005)
        producer.flush(timeout=60)
        producer.close()
        achieved = i / (time.time() - start)
        deadline = time.time() + 60
        while time.time() < deadline and len(set(sent) & set(seen)) < len(sent):
            time.sleep(0.2)
        stop_poll.set()
        poll.join(10)
        per_proc = procs.report(len(sent))
        window = machine.report(sum(p["cpu_s"] for p in per_proc.values()))
        load_after = load()
        # produced → handed to the bulk request, from the documents themselves
        watch.es.indices.refresh(index=watch.alias)
        docs = watch.es.search(index=watch.alias, size=10_000, source=["id", "collected_at", "indexed_at"],
                               query={"ids": {"values": list(sent)}})["hits"]["hits"]
    finally:
        stop_poll.set()
        procs.stop()
        watch.close()
    searchable = [seen[k] - t for k, t in sent.items() if k in seen]
    to_bulk = [(datetime.fromisoformat(d["_source"]["indexed_at"]) - datetime.fromisoformat(d["_source"]["collected_at"]))
               .total_seconds() for d in docs]

    def stats(values: list[float]) -> dict[str, float | None]:
        return {k: (round(v, 2) if v is not None else None) for k, v in
                (("p50", percentile(values, 0.5)), ("p90", percentile(values, 0.9)), ("p99", percentile(values, 0.99)),
                 ("max", max(values) if values else None))}

    per_proc = {k: {**v, "peak_rss_mb": round(p.peak_rss / 2**20, 1)}
                for (k, v), p in zip(per_proc.items(), procs.procs, strict=True)}
    result = {"layout": layout, "rate_target": rate, "rate_achieved": round(achieved, 1), "duration_s": duration,
              "produced": len(sent), "searchable": len(searchable), "missing": len(sent) - len(searchable),
              "produced_to_searchable_s": stats(searchable), "produced_to_bulk_s": stats(to_bulk),
              "poll_interval_s": 0.2, "processes": per_proc, "machine": window,
              "load_average_before": load_before, "load_average_after": load_after}
    s, b = result["produced_to_searchable_s"], result["produced_to_bulk_s"]
    print(f"\n[freshness] {achieved:.1f} mentions/s for {duration:.0f}s through enrich×{enrich} + cluster + index "
          f"(load average {load_before[0]} → {load_after[0]})")
    print(f"  produced → searchable: p50 {s['p50']}s  p90 {s['p90']}s  p99 {s['p99']}s  max {s['max']}s "
          f"({len(searchable)} of {len(sent)} seen; polled every 0.2 s, refresh interval 1 s)")
    print(f"  produced → bulk request (indexed_at − collected_at): p50 {b['p50']}s  p99 {b['p99']}s  max {b['max']}s")
    for pname, p in per_proc.items():
        print(f"  {pname:10} CPU {p['cpu_s']:6.1f}s ({p['cpu_ms_per_mention']:.2f} ms/mention)   "
              f"peak RSS {p['peak_rss_mb']:7.1f} MB")
    return result


def cleanup(prefix: str) -> None:
    """Remove every topic, consumer group, index and template under this run's own prefix."""
    if not (prefix.startswith("bench") and len(prefix) >= 12 and prefix.endswith("-")):
        raise ValueError(f"refusing to clean up under {prefix!r}: only a bench run's own prefix")
    settings = Settings(topic_prefix=prefix, index_prefix=prefix)
    admin = sada_kafka.admin(settings)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(prefix)]
        if topics:
            admin.delete_topics(topics)
        groups = [g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix)]
        if groups:
            admin.delete_groups(groups)
    finally:
        admin.close()
    es = sada_es.client(settings)
    es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, allow_no_indices=True)
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*")
    for t in templates.get("index_templates", []):
        es.indices.delete_index_template(name=t["name"])
    es.close()


def alert_latency_pointer() -> dict[str, Any] | None:
    latest = sorted(RESULTS.glob("alert_latency-*.json"))
    print("\n[alert latency] measured by bench/alert_latency.py (alert + notify consumers, SMTP on loopback): "
          "`.venv/bin/python bench/alert_latency.py --duration 60`")
    if not latest:
        print("  no result yet in bench/results/")
        return None
    data = json.loads(latest[-1].read_text())
    lat = data.get("latency_s", {})
    print(f"  latest ({latest[-1].name}, {data.get('at')}): produced → e-mail p50 {lat.get('p50')}s, "
          f"p99 {lat.get('p99')}s, {data.get('missing')} missing, at {data.get('background_rate_achieved')} mentions/s")
    return {"file": latest[-1].name, "at": data.get("at"), "latency_s": lat}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=20_000, help="mentions per throughput phase (default 20000)")
    parser.add_argument("--rate", type=float, default=100.0, help="steady rate of the freshness phase (mentions/s)")
    parser.add_argument("--fresh-seconds", type=float, default=60.0, help="length of the freshness phase (s)")
    parser.add_argument("--fresh-enrich", type=int, default=1, help="enrich processes in the freshness phase")
    parser.add_argument("--phases", default="full1,full2,bare,freshness",
                        help="comma-separated subset of full1,full2,bare,freshness")
    parser.add_argument("--keep-logs", action="store_true", help="keep the consumers' logs even on success")
    parser.add_argument("--bare-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_worker:
        return bare_worker()

    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    prefix = f"bench{uuid.uuid4().hex[:8]}-"
    logdir = RESULTS / f".e2e-{prefix.rstrip('-')}"
    logdir.mkdir(parents=True, exist_ok=True)
    mentions = list(generate(args.mentions, seed=4322))
    warmup = list(generate(WARMUP, seed=11))
    fresh_pool = list(generate(int(args.rate * args.fresh_seconds) + 1000, seed=2025))
    distinct = len({m.text for m in mentions})
    print(f"Sada end to end, prefix {prefix}: {len(mentions)} generated mentions ({distinct} distinct texts), "
          f"{psutil.cpu_count()} CPUs, load average {load()} at start")

    result: dict[str, Any] = {
        "benchmark": "e2e", "at": datetime.now(UTC).isoformat(timespec="seconds"), "prefix": prefix,
        "mentions": len(mentions), "distinct_texts": distinct, "batch_size": Settings().batch_size,
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "load_average_start": load(), "targets": TARGETS, "phases": {},
    }
    ok = False
    try:
        if "full1" in phases:
            result["phases"]["full1"] = throughput_phase(
                "full1", Settings(topic_prefix=f"{prefix}f1-", index_prefix=f"{prefix}f1-"),
                {"enrich": 1, "cluster": 1, "index": 1}, mentions, warmup, logdir)
        if "full2" in phases:
            result["phases"]["full2"] = throughput_phase(
                "full2", Settings(topic_prefix=f"{prefix}f2-", index_prefix=f"{prefix}f2-"),
                {"enrich": 2, "cluster": 1, "index": 1}, mentions, warmup, logdir)
        if "bare" in phases:
            result["phases"]["bare"] = throughput_phase(
                "bare", Settings(topic_prefix=f"{prefix}b-", index_prefix=f"{prefix}b-"),
                {"bare": 1}, mentions, warmup, logdir)
        if "freshness" in phases:
            result["phases"]["freshness"] = freshness_phase(
                Settings(topic_prefix=f"{prefix}fr-", index_prefix=f"{prefix}fr-"), fresh_pool, args.rate,
                args.fresh_seconds, args.fresh_enrich, logdir, warmup)
        ok = True
    finally:
        cleanup(prefix)
        if ok and not args.keep_logs:
            for f in logdir.glob("*.log"):
                f.unlink()
            logdir.rmdir()
        elif logdir.exists():
            print(f"consumer logs kept in {logdir.relative_to(ROOT)}")

    ph = result["phases"]
    summary: dict[str, Any] = {}
    full = [ph[k]["mentions_per_second"] for k in ("full1", "full2") if k in ph]
    if full:
        summary["best_full_mentions_per_second"] = max(full)
    if "full1" in ph and "full2" in ph:
        summary["scaling_two_enrich_over_one"] = round(ph["full2"]["mentions_per_second"]
                                                       / ph["full1"]["mentions_per_second"], 2)
    if full and "bare" in ph:
        summary["full_over_bare"] = round(max(full) / ph["bare"]["mentions_per_second"], 3)
    if "freshness" in ph:
        summary["freshness_p99_s"] = ph["freshness"]["produced_to_searchable_s"]["p99"]
    enrich_rss = [p["peak_rss_mb"] for k in ph for n, p in ph[k]["processes"].items() if n.startswith("enrich")]
    if enrich_rss:
        summary["enrich_peak_rss_mb"] = max(enrich_rss)
    met = {}
    if "best_full_mentions_per_second" in summary:
        met["throughput"] = summary["best_full_mentions_per_second"] >= TARGETS["mentions_per_second"]
    if summary.get("freshness_p99_s") is not None:
        met["freshness_p99"] = summary["freshness_p99_s"] <= TARGETS["freshness_p99_s"]
    if enrich_rss:
        met["enrich_memory"] = summary["enrich_peak_rss_mb"] <= TARGETS["enrich_peak_rss_mb"]
    summary["targets_met"] = met
    result["summary"] = summary
    result["alert_latency"] = alert_latency_pointer()
    result["load_average_end"] = load()

    print("\nsummary (2 cores, shared machine; load average at end "
          f"{result['load_average_end']}):")
    if "best_full_mentions_per_second" in summary:
        print(f"  end to end with full enrichment: {summary['best_full_mentions_per_second']:.0f} mentions/s "
              f"(target ≥ {TARGETS['mentions_per_second']:.0f}: {'met' if met['throughput'] else 'NOT met'})")
    if "scaling_two_enrich_over_one" in summary:
        print(f"  two enrich processes / one: ×{summary['scaling_two_enrich_over_one']} "
              "(cluster stays one process by design: mentions.labelled has one partition)")
    if "full_over_bare" in summary:
        print(f"  full pipeline / bare Kafka → Elasticsearch: {summary['full_over_bare']:.2f} "
              f"(bare {ph['bare']['mentions_per_second']:.0f} mentions/s)")
    if summary.get("freshness_p99_s") is not None:
        print(f"  freshness p99 at {args.rate:g}/s: {summary['freshness_p99_s']}s "
              f"(target ≤ {TARGETS['freshness_p99_s']:.0f}s: {'met' if met['freshness_p99'] else 'NOT met'})")
    if enrich_rss:
        print(f"  enrich peak RSS: {summary['enrich_peak_rss_mb']:.0f} MB "
              f"(target ≤ {TARGETS['enrich_peak_rss_mb']:.0f} MB: {'met' if met['enrich_memory'] else 'NOT met'})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"e2e-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
