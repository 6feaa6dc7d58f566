"""The run loop every consumer shares.

Lifecycle: ``setup()`` once, then for each polled batch ``handle(records)`` returns the records
to produce and the dead letters; the loop produces them, flushes, checks every delivery, and
only then commits the batch's offsets. Anything transient (Kafka or Elasticsearch down) rewinds
the batch and retries it with capped backoff: nothing is committed that is not durable
downstream, and idempotent writes make the redelivery harmless.
"""

from __future__ import annotations

import base64
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from pydantic import ValidationError

from sada import kafka as sada_kafka
from sada.errors import PoisonMessage, TransientError
from sada.model import Mention
from sada.runtime import tune_gc
from sada.settings import Settings

log = logging.getLogger(__name__)

DLQ_TOPIC = "mentions.dlq"
JOIN_POLL_MS = 5000


@dataclass(frozen=True)
class Output:
    """A record to produce: ``topic`` is the logical name (the prefix is added by the loop)."""

    topic: str
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord
    reason: str
    detail: str


@dataclass
class BatchResult:
    outputs: list[Output] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # Work the handler started but has not finished (the index consumer's bulk requests, sent by
    # a thread while the loop polls and decodes the next batch). Called once by the loop before
    # the batch is committed: returns the dead letters it found, or raises (TransientError...).
    pending: Callable[[], list[DeadLetter]] | None = None

    def resolve(self) -> BatchResult:
        """Wait for the pending work and merge its dead letters (idempotent)."""
        if self.pending is not None:
            wait, self.pending = self.pending, None
            self.dead.extend(wait())
        return self


class Handler(Protocol):
    """What a consumer implements; the loop does the Kafka work around it."""

    name: str
    input_topic: str
    group: str

    def setup(self) -> None: ...

    def handle(self, records: list[ConsumerRecord]) -> BatchResult: ...

    def close(self) -> None: ...


def decode_mention(record: ConsumerRecord, max_text_chars: int) -> Mention:
    """Bytes from Kafka to a valid Mention, or PoisonMessage with a reason code."""
    raw = record.value
    if raw is None:
        raise PoisonMessage("empty", "the record has no value (tombstone)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonMessage("invalid_utf8", f"value is not UTF-8 at byte {exc.start}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoisonMessage("not_json", f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise PoisonMessage("not_json_object", f"value is JSON {type(data).__name__}, expected an object")
    body = data.get("text")
    if isinstance(body, str) and len(body) > max_text_chars:
        raise PoisonMessage("too_large", f"text has {len(body):,} characters, over the limit of {max_text_chars:,}")
    try:
        return Mention.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise PoisonMessage("schema", f"not a valid mention: {problems}") from exc


def dead_letter_value(dl: DeadLetter, group: str) -> bytes:
    r = dl.record
    raw = r.value or b""
    return json.dumps({
        "reason": dl.reason,
        "detail": dl.detail,
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "key": r.key.decode("utf-8", "replace") if r.key else None,
        "consumer_group": group,
        "failed_at": datetime.now(UTC).isoformat(),
        "original_size": len(raw),
        "original_b64": base64.b64encode(raw).decode("ascii"),
    }, ensure_ascii=False).encode("utf-8")


class Stats:
    """Counts for the periodic progress line."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = self.last = clock()
        self.processed = self.produced = self.dead = self.retries = 0
        self._since_last = 0

    def add(self, processed: int, produced: int, dead: int) -> None:
        self.processed += processed
        self.produced += produced
        self.dead += dead
        self._since_last += processed

    def rate(self) -> float:
        now = self.clock()
        rate = self._since_last / max(now - self.last, 1e-9)
        self.last, self._since_last = now, 0
        return rate


class RunLoop:
    """Consume ``handler.input_topic`` as ``handler.group`` until stopped."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        *,
        stop: threading.Event | None = None,
        stats_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        poll_ms: int = 500,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.stop = stop or threading.Event()
        self.stats_every = stats_every
        self.clock = clock
        self.poll_ms = poll_ms
        self.stats = Stats(clock)
        self.group = settings.topic(handler.group)
        self._consumer = None
        self._producer = None

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT finish the current batch, then stop (main thread only)."""
        def _graceful(signum: int, _frame: Any) -> None:
            log.info("stopping after the current batch", extra={"signal": signal.Signals(signum).name})
            self.stop.set()

        signal.signal(signal.SIGTERM, _graceful)
        signal.signal(signal.SIGINT, _graceful)

    def run(self, until: Callable[[RunLoop], bool] | None = None) -> Stats:
        """Process batches until ``stop`` is set or ``until(self)`` returns True after a batch."""
        self.handler.setup()
        tune_gc()  # after the models are loaded (sada/runtime.py)
        self._consumer = sada_kafka.consumer(self.settings, self.settings.topic(self.handler.input_topic), self.group)
        self._producer = sada_kafka.producer(self.settings, client_id=f"sada-{self.handler.name}")
        log.info("consumer started", extra={"consumer": self.handler.name, "group": self.group,
                                            "topic": self.settings.topic(self.handler.input_topic)})
        backoff = 0.5
        next_stats = self.clock() + self.stats_every
        # A handler that returns pending work lets this loop poll and hand over the next batch
        # while the previous one is still being written; batches are still finished (and their
        # offsets committed) one at a time, in order, and only once written.
        inflight: tuple[list[ConsumerRecord], BatchResult] | None = None
        failed = False
        try:
            while not self.stop.is_set():
                polled = self._consumer.poll(timeout_ms=self._poll_timeout(inflight is not None, failed))
                # A re-join to finish: the next poll waits long enough for it (see _poll_timeout).
                failed = sada_kafka.recover_lost_join(self._consumer)
                records = sorted((r for rs in polled.values() for r in rs), key=lambda r: (r.partition, r.offset))
                started: BatchResult | None = None
                try:
                    if records:
                        started = self._start(records)
                    if inflight is not None:
                        self._finish(*inflight)
                        inflight = None
                        backoff = 0.5
                    if started is not None:
                        if started.pending is None:
                            self._finish(records, started)
                            backoff = 0.5
                        else:
                            inflight = (records, started)
                except (TransientError, KafkaError, OSError) as exc:
                    unfinished = (inflight[0] if inflight else []) + records
                    self._settle(inflight[1] if inflight else None, started)
                    inflight = None
                    self.stats.retries += 1
                    log.warning("batch failed, will retry it (offsets not committed): %s", str(exc)[:300],
                                extra={"consumer": self.handler.name, "error": str(exc)[:300],
                                       "records": len(unfinished), "backoff_s": backoff})
                    self._rewind(unfinished)
                    failed = True
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                if self.clock() >= next_stats:
                    self._log_stats()
                    next_stats = self.clock() + self.stats_every
                if until is not None and until(self):
                    break
            if inflight is not None:
                try:
                    self._finish(*inflight)
                except (TransientError, KafkaError, OSError) as exc:
                    # Not committed: the next start reads the batch again.
                    log.warning("last batch not finished, left uncommitted",
                                extra={"consumer": self.handler.name, "error": str(exc)[:300]})
                inflight = None
        finally:
            if inflight is not None:
                self._settle(inflight[1])
            self._log_stats()
            self._close()
        return self.stats

    def _poll_timeout(self, inflight: bool, failed: bool) -> int:
        if inflight:
            return 0  # finish the batch in flight as soon as nothing new comes
        if failed or not self._consumer.assignment():
            # Joining the group, or maybe re-joining it (a commit refused during a rebalance):
            # only poll() completes a join, and a join that outlives one poll's timeout can be
            # lost by kafka-python 3.0 (see sada.kafka.consumer), so give it time to finish in one.
            return max(self.poll_ms, JOIN_POLL_MS)
        return self.poll_ms

    def _start(self, records: list[ConsumerRecord]) -> BatchResult:
        try:
            return self.handler.handle(records)
        except (TransientError, KafkaError, OSError):
            raise
        except Exception:  # noqa: BLE001 - a bug on one record must not block the partition
            log.exception("batch handler failed; retrying record by record", extra={"consumer": self.handler.name})
            return self._one_by_one(records)

    def _finish(self, records: list[ConsumerRecord], result: BatchResult) -> None:
        """Wait for the batch's pending work, produce its outputs and dead letters, commit."""
        result.resolve()
        futures = []
        for out in result.outputs:
            futures.append(self._producer.send(self.settings.topic(out.topic), key=out.key, value=out.value))
        for dl in result.dead:
            log.warning("dead letter", extra={"consumer": self.handler.name, "reason": dl.reason,
                                              "topic": dl.record.topic, "partition": dl.record.partition,
                                              "offset": dl.record.offset, "detail": dl.detail[:200]})
            futures.append(self._producer.send(self.settings.topic(DLQ_TOPIC), key=dl.record.key,
                                               value=dead_letter_value(dl, self.group)))
        self._producer.flush(timeout=60)
        for fut in futures:
            fut.get(timeout=30)  # raises if any delivery failed: the batch is retried
        # A failed commit is retried like a failed batch: the outputs are already durable and
        # idempotent, so processing the batch again is harmless.
        self._commit(records)
        self.stats.add(len(records), len(result.outputs), len(result.dead))

    @staticmethod
    def _settle(*results: BatchResult | None) -> None:
        """Let abandoned pending work end before the batches are read again (its outcome no
        longer matters: nothing of it is committed, and every write is idempotent)."""
        for result in results:
            if result is not None and result.pending is not None:
                try:
                    result.resolve()
                except Exception:  # noqa: BLE001
                    pass

    def _one_by_one(self, records: list[ConsumerRecord]) -> BatchResult:
        merged = BatchResult()
        for record in records:
            try:
                part = self.handler.handle([record]).resolve()
            except (TransientError, KafkaError, OSError):
                raise
            except Exception as exc:  # noqa: BLE001
                merged.dead.append(DeadLetter(record, "handler_error", f"{type(exc).__name__}: {exc}"))
                continue
            merged.outputs.extend(part.outputs)
            merged.dead.extend(part.dead)
        return merged

    def _rewind(self, records: Iterable[ConsumerRecord]) -> None:
        first: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            first[tp] = min(first.get(tp, r.offset), r.offset)
        for tp, offset in first.items():
            try:
                self._consumer.seek(tp, offset)
            except (KafkaError, AssertionError, ValueError):
                # The partition was revoked meanwhile: its new owner starts from the last commit.
                pass

    def _commit(self, records: list[ConsumerRecord]) -> None:
        last: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            last[tp] = max(last.get(tp, r.offset), r.offset)
        offsets = {tp: OffsetAndMetadata(off + 1, "", -1) for tp, off in last.items()}
        self._consumer.commit(offsets)

    def lag(self) -> int | None:
        if self._consumer is None:
            return None
        try:
            parts = list(self._consumer.assignment())
            if not parts:
                return None
            ends = self._consumer.end_offsets(parts)
            return sum(max(ends[tp] - self._consumer.position(tp), 0) for tp in parts)
        except (KafkaError, AssertionError, ValueError):
            return None

    def _log_stats(self) -> None:
        log.info("progress", extra={"consumer": self.handler.name, "rate_per_s": round(self.stats.rate(), 1),
                                    "processed": self.stats.processed, "produced": self.stats.produced,
                                    "dead_letters": self.stats.dead, "retries": self.stats.retries,
                                    "lag": self.lag()})

    def _close(self) -> None:
        if self._producer is not None:
            self._producer.flush(timeout=30)
            self._producer.close(timeout=30)
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
        self.handler.close()
        log.info("consumer stopped", extra={"consumer": self.handler.name, "processed": self.stats.processed})
