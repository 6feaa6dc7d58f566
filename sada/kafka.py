"""Kafka clients with Sada's defaults, and idempotent topic creation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from sada import yamlfile
from sada.errors import DataFileError, ServiceError
from sada.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

TOPICS_FILE = REPO_ROOT / "infra" / "kafka" / "topics.yaml"
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def load_topics(path: Path = TOPICS_FILE) -> dict[str, dict[str, Any]]:
    """Read and validate the topic definitions."""
    data = yamlfile.read(path)
    topics = (data or {}).get("topics")
    if not isinstance(topics, dict) or not topics:
        raise DataFileError(path, "topics", "expected a mapping of topic name to its definition")
    for name, spec in topics.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("partitions"), int) or spec["partitions"] < 1:
            raise DataFileError(path, f"topics.{name}.partitions", "expected a positive integer")
        config = spec.get("config", {})
        if not isinstance(config, dict) or not all(isinstance(v, str) for v in config.values()):
            raise DataFileError(path, f"topics.{name}.config", "expected a mapping of strings")
    return topics


def admin(settings: Settings) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="sada-admin",
                                request_timeout_ms=15000)
    except KafkaError as exc:
        raise ServiceError(f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
                           hint="start it with `sada up` or set SADA_KAFKA_BOOTSTRAP") from exc


def ensure_topics(settings: Settings, path: Path = TOPICS_FILE) -> list[str]:
    """Create missing topics with their partitions and config; align config of existing ones."""
    specs = load_topics(path)
    client = admin(settings)
    created = []
    try:
        existing = set(client.list_topics())
        for name, spec in specs.items():
            full = settings.topic(name)
            config = dict(spec.get("config", {}))
            if full in existing:
                client.alter_configs([ConfigResource(ConfigResourceType.TOPIC, full, configs=config)])
                continue
            try:
                client.create_topics([NewTopic(full, spec["partitions"], 1, topic_configs=config)])
                created.append(full)
            except TopicAlreadyExistsError:
                pass  # another process created it between list and create
    finally:
        client.close()
    return created


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer that waits for the broker's acknowledgement of every record."""
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=5,
        retries=5,
        max_in_flight_requests_per_connection=1,  # keeps per-key order through retries
        max_request_size=MAX_MESSAGE_BYTES,
        compression_type=None if settings.kafka_compression == "none" else settings.kafka_compression,
        # A batch per partition up to this size: fewer, larger produce requests when a stage
        # hands on a batch of hundreds of mentions at once (the default, 16 KB, is ~8 mentions).
        batch_size=512 * 1024,
        client_id="sada",
    )
    options.update(overrides)
    try:
        return KafkaProducer(**options)
    except KafkaError as exc:
        raise ServiceError(f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
                           hint="start it with `sada up` or set SADA_KAFKA_BOOTSTRAP") from exc


def consumer(settings: Settings, topic: str, group: str, **overrides: Any) -> KafkaConsumer:
    """A consumer that never commits by itself: the run loop commits after durable output."""
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_size,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES + 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        fetch_min_bytes=settings.fetch_min_bytes,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        client_id=f"sada-{group}",
    )
    options.update(overrides)
    try:
        c = KafkaConsumer(**options)
    except KafkaError as exc:
        raise ServiceError(f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
                           hint="start it with `sada up` or set SADA_KAFKA_BOOTSTRAP") from exc
    c.subscribe([topic])
    # Learn the topic's partitions after subscribing and before joining the group: the metadata
    # then reaches the group coordinator, whose first assignment covers them. Otherwise the
    # first assignment is empty and the re-join that follows is one more rebalance, which
    # kafka-python 3.0 can lose (see recover_lost_join).
    try:
        c.partitions_for_topic(topic)
    except KafkaError as exc:
        log.warning("no metadata for the topic yet", extra={"topic": topic, "error": str(exc)[:200]})
    return c


def recover_lost_join(consumer: KafkaConsumer) -> bool:
    """Re-join the group if kafka-python lost the end of a join; True when it did.

    kafka-python 3.0 runs a group join as a task that outlives a ``poll()`` whose timeout ends
    first; the next ``poll()`` only waits for that task while the coordinator still reports that
    it needs to re-join. When the join was triggered by new metadata, the leader's own assignment
    clears that condition, so the finished join is never applied: no partitions, no heartbeats,
    every commit refused with RebalanceInProgress — for good. Asking for a re-join starts a new
    round, which the caller's next, longer, poll completes.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    task = getattr(coordinator, "_join_task", None)
    if task is None or not getattr(task, "is_done", False) or coordinator.need_rejoin():
        return False
    log.warning("group join finished unseen by kafka-python; joining again",
                extra={"group": consumer.config.get("group_id")})
    coordinator.request_rejoin()
    return True
