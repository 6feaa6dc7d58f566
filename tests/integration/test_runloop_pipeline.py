"""The run loop with a handler that leaves work pending (as the index consumer does: its bulk
requests run in a thread while the next batch is polled and decoded), on the real Kafka.

The contract: a batch's offsets are committed only once its pending work has ended, batches are
finished in order, and a failure of pending work makes the loop read again every batch not
committed — the one that failed and the one handed over after it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from kafka.structs import TopicPartition

from consumers.runloop import BatchResult, DeadLetter, RunLoop
from sada import kafka as sada_kafka
from sada.errors import TransientError
from sada.settings import Settings
from tests.integration.conftest import run_until

pytestmark = pytest.mark.integration

TOPIC = "mentions.enriched"


class PendingHandler:
    """Hands back every batch with pending work the test controls."""

    name = "pipeline-test"
    input_topic = TOPIC
    group = "pipeline-test"

    def __init__(self, *, gate: threading.Event | None = None, fail_first: bool = False) -> None:
        self.gate = gate
        self.fail_first = fail_first
        self.handled: list[list[int]] = []
        self.resolved: list[list[int]] = []
        self.lock = threading.Lock()

    def setup(self) -> None:
        pass

    def handle(self, records) -> BatchResult:
        offsets = [r.offset for r in records]
        with self.lock:
            self.handled.append(offsets)
            first = len(self.handled) == 1

        def pending() -> list[DeadLetter]:
            if self.gate is not None and first:
                assert self.gate.wait(30), "the test never opened the gate"
            with self.lock:
                self.resolved.append(offsets)
            if self.fail_first and first:
                raise TransientError("bulk failed (scripted)")
            return [DeadLetter(r, "scripted", "every 50th offset") for r in records if r.offset % 50 == 0]

        return BatchResult(pending=pending)

    def close(self) -> None:
        pass


def _produce(settings: Settings, n: int) -> None:
    producer = sada_kafka.producer(settings)
    # One partition's worth of ordering: every record on partition 0.
    for i in range(n):
        producer.send(settings.topic(TOPIC), key=b"k", value=f"v{i}".encode(), partition=0)
    producer.flush()
    producer.close()


def _committed(settings: Settings, handler: PendingHandler) -> int | None:
    """The group's committed offset of partition 0, read through the admin API: a consumer with
    the group's id would take part in the group's rebalances."""
    admin = sada_kafka.admin(settings)
    try:
        group = settings.topic(handler.group)
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    meta = offsets.get(TopicPartition(settings.topic(TOPIC), 0))
    return None if meta is None or meta.offset < 0 else meta.offset


def _start(settings: Settings, *, fail_first: bool):
    """300 records in batches of 100; the loop runs until the second batch is handed over while
    the first one's pending work waits behind a gate the test opens."""
    s = settings.model_copy(update={"batch_size": 100})
    _produce(s, 300)
    gate = threading.Event()
    handler = PendingHandler(gate=gate, fail_first=fail_first)
    loop = RunLoop(s, handler, poll_ms=100)
    thread = threading.Thread(target=run_until, args=(loop, lambda lp: lp.stats.processed >= 300), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while len(handler.handled) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return s, gate, handler, loop, thread


def test_a_batch_is_committed_only_after_its_pending_work_ends(settings):
    s, gate, handler, loop, thread = _start(settings, fail_first=False)
    # The next batch was handed over while the first one's work is still pending...
    assert len(handler.handled) >= 2
    time.sleep(0.5)
    # ...but nothing is committed until that work ends.
    assert _committed(s, handler) is None
    assert handler.resolved == []

    gate.set()
    thread.join(60)
    assert loop.stats.processed == 300
    assert _committed(s, handler) == 300
    # Every record finished, and counted once (a group rebalance may make the loop read a batch
    # again, but only batches whose offsets were committed count).
    assert sorted({o for batch in handler.resolved for o in batch}) == list(range(300))
    # The dead letters found by pending work reach the DLQ.
    assert loop.stats.dead == 6


def test_failed_pending_work_rereads_every_uncommitted_batch(settings):
    s, gate, handler, loop, thread = _start(settings, fail_first=True)
    second = handler.handled[1]
    gate.set()
    thread.join(60)

    assert loop.stats.retries >= 1
    assert loop.stats.processed == 300
    assert _committed(s, handler) == 300
    seen = Counter(o for batch in handler.handled for o in batch)
    # The failed batch and the one handed over after it were both read again.
    assert all(seen[o] >= 2 for o in handler.handled[0] + second)
    assert all(seen[o] >= 1 for o in range(300))
    # The abandoned batch's work was let finish before the re-read, and counted only once.
    assert handler.resolved[1] == second
    assert loop.stats.dead == 6
