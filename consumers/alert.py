"""Consumer ``alert``: mentions.enriched → rule engine → ``alerts`` topic + Elasticsearch.

Restart safety, without duplicates or misses:

- The engine is deterministic in its input: its clock follows the mentions' ``collected_at``
  (capped by the wall clock), and alert ids derive from rule, key and episode start. Processing
  the same mentions again re-creates the same alerts with the same ids.
- For each batch: the mentions go through the engine; the alerts are written to Elasticsearch
  (``create``, so a re-emitted alert never overwrites an acknowledgement) and produced to the
  ``alerts`` topic and flushed; only then does the handler return and the run loop commit.
- The engine state is saved to Elasticsearch (compressed snapshot + the offset of every
  partition it has applied) after every batch that produced alerts, and at least every
  ``snapshot_every`` seconds. On start the handler loads it and reads from Kafka whatever the
  group committed beyond it (the gap since the last snapshot): the windows are rebuilt, and
  alerts of the gap are produced again with their same ids — downstream drops them (the notify
  consumer delivers once per alert id and channel). Records the snapshot already covers are
  skipped when Kafka redelivers them.
- With no snapshot at all but committed offsets (state lost), the retained history is replayed
  without emitting, to rebuild the windows instead of starting blind.
- If Elasticsearch or Kafka fails mid-batch, the engine is rolled back to the last snapshot plus
  the events applied since, and the batch is retried (TransientError): nothing is counted twice.
- Time also passes without mentions: a ticker advances the engine to the wall clock when the
  input is idle (flatline checks, resolutions, the daily summary) through the same path, reads
  collector runs as heartbeats and picks up acknowledgements.

Run one process (the windows are global); a second one of the group only takes over partitions
after a rebalance, and the snapshot's optimistic concurrency stops two writers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from alerts.config import load_rules
from alerts.engine import Engine, EngineConfig, Output
from alerts.links import Links
from alerts.model import Alert
from alerts.settings import AlertSettings
from alerts.store import AlertStore, StateConflict, pack, unpack
from consumers.runloop import BatchResult, DeadLetter, decode_mention
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.errors import PoisonMessage, TransientError
from sada.model import Mention
from sada.settings import Settings

log = logging.getLogger(__name__)

COLLECTOR_RUNS = "sada-collector-runs"
_RUN_TIME_FIELDS = ("finished_at", "ended_at", "run_at", "started_at", "@timestamp", "time")
_OK_STATUSES = {"ok", "success", "succeeded", "partial", "done"}


class AlertHandler:
    name = "alert"
    input_topic = "mentions.enriched"
    output_topic = "alerts"
    group = "alert"

    def __init__(self, settings: Settings, *, env: AlertSettings | None = None, es: Any = None,
                 wall: Callable[[], float] = time.time, start_ticker: bool = True,
                 snapshot_every: float | None = None) -> None:
        self.settings = settings
        self.env = env or settings
        self.es = es
        self.wall = wall
        self.start_ticker = start_ticker
        self.snapshot_every = self.env.alert_snapshot_every if snapshot_every is None else snapshot_every
        self.state_id = settings.topic(self.group)
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.engine: Engine | None = None
        self.store: AlertStore | None = None
        self.producer: Any = None
        self.applied: dict[str, int] = {}     # "topic:partition" -> next offset to apply
        self._durable: tuple[str, dict[str, int]] | None = None
        self._version: tuple[int, int] | None = None
        self._since: list[tuple[str, Any]] = []  # events applied after the durable snapshot
        self._last_save = 0.0
        self._last_activity = 0.0
        self._last_runs: datetime | None = None
        self._next_heartbeats = 0.0
        self._ticker: threading.Thread | None = None
        self.emitted = 0

    # -- lifecycle ------------------------------------------------------------------------

    def _new_engine(self, snapshot: dict[str, Any] | None) -> Engine:
        return Engine.restore(load_rules(self.env.alert_rules_dir), snapshot,
                              config=EngineConfig(tz=self.settings.tz),
                              links=Links(self.env.kibana_url, self.env.kibana_data_view))

    def setup(self) -> None:
        if self.es is None:
            self.es = sada_es.client(self.settings, max_retries=1)
        self.store = AlertStore(self.es, self.settings)
        self.store.ensure_indices()
        if self.producer is None:
            self.producer = sada_kafka.producer(self.settings, client_id="sada-alert-engine")
        self._load()
        self._catch_up()
        if self.start_ticker:
            self._ticker = threading.Thread(target=self._tick_loop, name="alert-ticker", daemon=True)
            self._ticker.start()

    def _load(self) -> None:
        assert self.store is not None
        saved = self.store.load_state(self.state_id)
        if saved is None:
            self.engine, self.applied, self._version = self._new_engine(None), {}, None
            self._durable = None
        else:
            doc, self._version = saved
            self.engine = self._new_engine(unpack(doc["engine"]))
            self.applied = dict(doc.get("offsets", {}))
            self._durable = (doc["engine"], dict(self.applied))
        self._since = []
        log.info("alert engine loaded", extra={"snapshot": saved is not None, "partitions": len(self.applied),
                                               "rules": len(self.engine.rules)})

    def close(self) -> None:
        self.stop.set()
        if self._ticker is not None:
            self._ticker.join(10)
        with self.lock:
            if self.engine is not None and self._since:
                try:
                    self._save(force=True)
                except Exception as exc:  # noqa: BLE001 - the gap is replayed from Kafka at next start
                    log.warning("final snapshot not saved", extra={"error": str(exc)[:200]})
        if self.producer is not None:
            self.producer.close(timeout=10)
        if self.es is not None:
            self.es.close()

    # -- the batch --------------------------------------------------------------------------

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        result = BatchResult()
        with self.lock:
            self._last_activity = self.wall()
            events: list[tuple[str, Any]] = []
            for record in records:
                tp = f"{record.topic}:{record.partition}"
                if record.offset < self.applied.get(tp, 0):
                    continue  # already in the engine state (redelivered after a restart or a retry)
                try:
                    mention = decode_mention(record, self.settings.max_text_chars)
                except PoisonMessage as exc:
                    result.dead.append(DeadLetter(record, exc.reason, str(exc)))
                    events.append(("offset", (tp, record.offset + 1)))
                    continue
                events.append(("mention", (tp, record.offset + 1, mention, self._clock_for(mention))))
            # In clock order across partitions, as the catch-up replays them: the same mentions
            # in the same order give the same alerts.
            events.sort(key=lambda e: (e[1][3], e[1][2].id) if e[0] == "mention" else (datetime.min.replace(tzinfo=UTC), ""))
            self._run(events)
        return result

    def _clock_for(self, mention: Mention) -> datetime:
        collected = mention.collected_at or mention.published_at
        wall = datetime.fromtimestamp(self.wall(), UTC)
        return min(collected, wall)

    def _apply(self, event: tuple[str, Any]) -> list[Output]:
        """One event into the engine (the same path live, on rollback and on catch-up)."""
        assert self.engine is not None
        kind, data = event
        if kind == "mention":
            tp, next_offset, mention, now = data
            self.applied[tp] = max(self.applied.get(tp, 0), next_offset)
            return self.engine.process(mention, now)
        if kind == "offset":
            tp, next_offset = data
            self.applied[tp] = max(self.applied.get(tp, 0), next_offset)
            return []
        if kind == "advance":
            return self.engine.advance(data)
        if kind == "heartbeat":
            source, at, ok, produced = data
            self.engine.heartbeat(source, at, ok, produced)
            return []
        if kind == "ack":
            self.engine.acknowledge(data)
            return []
        raise ValueError(f"unknown engine event {kind!r}")

    def _run(self, events: list[tuple[str, Any]], *, emit: bool = True) -> None:
        """Apply events, make their alerts durable and delivered, then maybe snapshot; atomic."""
        if not events:
            return
        mark = len(self._since)
        outputs: list[Output] = []
        try:
            for event in events:
                outputs += self._apply(event)
                self._since.append(event)
            if emit and outputs:
                self._deliver(outputs)
            if outputs or self.wall() - self._last_save >= self.snapshot_every:
                self._save()
        except StateConflict:
            log.error("engine state written by another process: reloading it")
            self._load()
            raise TransientError("engine state reloaded after a concurrent write") from None
        except (TransientError, KafkaError, OSError) as exc:
            self._rollback(mark)
            raise TransientError(f"alerts not made durable, batch will be retried: {exc}") from exc
        except Exception:
            self._rollback(mark)  # a bug on one mention: the run loop retries record by record
            raise

    def _deliver(self, outputs: list[Output]) -> None:
        assert self.store is not None
        self.store.write(outputs)
        alerts = [o for o in outputs if isinstance(o, Alert)]
        futures = [self.producer.send(self.settings.topic(self.output_topic), key=a.alert_id.encode(),
                                      value=a.to_json_bytes()) for a in alerts]
        self.producer.flush(timeout=30)
        for fut in futures:
            fut.get(timeout=30)
        self.emitted += len(alerts)
        for a in alerts:
            log.info("alert", extra={"alert_id": a.alert_id, "rule": a.rule, "key": a.key[:80], "severity": a.severity,
                                     "kind": a.kind, "delivery": a.delivery})

    def _save(self, force: bool = False) -> None:
        assert self.engine is not None and self.store is not None
        blob = pack(self.engine.snapshot())
        doc = {"saved_at": datetime.now(UTC).isoformat(), "engine": blob, "size": len(blob),
               "offsets": dict(self.applied)}
        self._version = self.store.save_state(self.state_id, doc, self._version)
        log.debug("engine snapshot saved", extra={"bytes": len(blob), "events": len(self._since)})
        self._durable = (blob, dict(self.applied))
        self._since = []
        self._last_save = self.wall()

    def _rollback(self, mark: int) -> None:
        """Back to the last snapshot plus the events applied since, without the failed ones."""
        keep = self._since[:mark]
        blob, offsets = self._durable if self._durable else (None, {})
        self.engine = self._new_engine(unpack(blob) if blob else None)
        self.applied = dict(offsets)
        for event in keep:
            self._apply(event)  # their alerts were already delivered
        self._since = list(keep)

    # -- the gap since the last snapshot ----------------------------------------------------

    def _catch_up(self) -> None:
        """Replay from Kafka what the group committed beyond the snapshot (or rebuild history)."""
        topic = self.settings.topic(self.input_topic)
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.settings.topic(self.group),
                                 enable_auto_commit=False, consumer_timeout_ms=2000,
                                 max_partition_fetch_bytes=sada_kafka.MAX_MESSAGE_BYTES + 1024 * 1024)
        try:
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            committed = {tp: consumer.committed(tp) for tp in tps}
            starts = consumer.beginning_offsets(tps) if tps else {}
            ranges = {}
            rebuild = self._durable is None
            for tp in tps:
                end = committed.get(tp)
                if end is None:
                    continue
                # A partition the snapshot does not mention was never applied: from its start.
                begin = self.applied.get(f"{tp.topic}:{tp.partition}", starts[tp])
                if begin < end:
                    ranges[tp] = (max(begin, starts[tp]), end)
            if not ranges:
                return
            log.info("replaying from Kafka what the snapshot does not cover",
                     extra={"records": sum(e - b for b, e in ranges.values()), "rebuild": rebuild})
            consumer.assign(list(ranges))
            for tp, (begin, _) in ranges.items():
                consumer.seek(tp, begin)
            events: list[tuple[datetime, int, tuple[str, Any]]] = []
            done: set[TopicPartition] = set()
            while len(done) < len(ranges):
                polled = consumer.poll(timeout_ms=1000)
                if not polled:
                    break
                for tp, recs in polled.items():
                    for r in recs:
                        if r.offset >= ranges[tp][1]:
                            done.add(tp)
                            continue
                        key = f"{r.topic}:{r.partition}"
                        try:
                            m = decode_mention(r, self.settings.max_text_chars)
                        except PoisonMessage:
                            events.append((datetime.min.replace(tzinfo=UTC), r.offset, ("offset", (key, r.offset + 1))))
                            continue
                        now = self._clock_for(m)
                        events.append((now, r.offset, ("mention", (key, r.offset + 1, m, now))))
                        if r.offset + 1 >= ranges[tp][1]:
                            done.add(tp)
            events.sort(key=lambda e: (e[0], e[2][1][2].id if e[2][0] == "mention" else ""))
            with self.lock:
                self._run([e for _, _, e in events], emit=not rebuild)
                self._save(force=True)
        finally:
            consumer.close(autocommit=False)

    # -- time passing without mentions ------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self.stop.wait(self.env.alert_tick):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the ticker must outlive a failed tick
                log.warning("alert tick failed (will retry)", extra={"error": str(exc)[:300]})

    def tick(self) -> None:
        """Advance the engine to the wall clock if the input is idle; heartbeats; acknowledgements."""
        now = self.wall()
        events: list[tuple[str, Any]] = []
        if now >= self._next_heartbeats:
            self._next_heartbeats = now + self.env.alert_heartbeat_every
            events += self._heartbeats() + self._acks()
        with self.lock:
            if now - self._last_activity >= self.env.alert_tick:
                events.append(("advance", datetime.fromtimestamp(now, UTC)))
            self._run(events)

    def _acks(self) -> list[tuple[str, Any]]:
        assert self.engine is not None and self.store is not None
        with self.lock:
            ids = [ep.alert_ids[-1] for ep in self.engine.episodes.values() if ep.open and not ep.acked and ep.alert_ids]
        statuses = self.store.statuses(ids[:500])
        return [("ack", i) for i, s in statuses.items() if s == "acknowledged"]

    def _heartbeats(self) -> list[tuple[str, Any]]:
        """Collector runs recorded by the collectors (if that index exists) as heartbeats."""
        index = self.settings.index(COLLECTOR_RUNS)
        try:
            if not self.es.indices.exists(index=index):
                return []
            mapping = self.es.indices.get_mapping(index=index)
            props: dict[str, Any] = {}
            for m in mapping.values():
                props.update(m.get("mappings", {}).get("properties", {}))
            field = next((f for f in _RUN_TIME_FIELDS if props.get(f, {}).get("type") == "date"), None)
            if field is None:
                return []
            since = self._last_runs or datetime.fromtimestamp(self.wall() - 6 * 3600, UTC)
            resp = self.es.search(index=index, size=500, sort=[{field: "asc"}],
                                  query={"range": {field: {"gt": since.isoformat()}}})
        except Exception as exc:  # noqa: BLE001 - heartbeats are a bonus; the mention stream still counts
            log.debug("collector runs not readable", extra={"error": str(exc)[:200]})
            return []
        events = []
        for hit in resp["hits"]["hits"]:
            run = hit["_source"]
            try:
                at = datetime.fromisoformat(str(run[field]).replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            if at.tzinfo is None or not run.get("source"):
                continue
            status = str(run.get("status", "")).lower()
            ok = status in _OK_STATUSES if status else not run.get("errors")
            events.append(("heartbeat", (str(run["source"]), at, ok, run.get("produced"))))
            self._last_runs = max(self._last_runs or at, at)
        return events


def make_handler(settings: Settings) -> AlertHandler:
    """The handler ``sada consume alert`` runs."""
    return AlertHandler(settings)
