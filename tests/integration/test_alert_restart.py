"""The alert consumer killed mid-stream (SIGKILL) and restarted: no alert missed, none paged twice.

The same mentions run through the pure engine give the reference: the alerts the live consumer
must produce, with the same ids. Kafka may carry an alert twice after the kill (at least once);
Elasticsearch holds each once, and the notify consumer e-mails each paged alert once.
"""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from alerts.config import load_rules
from alerts.engine import Engine
from alerts.model import Alert
from alerts.replay import alerts_only, replay
from alerts.store import AlertStore
from sada import es as sada_es
from sada import kafka as sada_kafka
from tests.integration.test_alert_notify import (  # noqa: F401 - fixtures
    alert_env,
    cleanup_alert_template,
    http,
    run_notify,
    smtp,
    write_recipients,
)
from tests.scenarios.timeline import SOURCES, Builder


def timeline() -> list:
    """A day of traffic with a rumor, a hate wave with threats, a big account and an escape rumor."""
    start = (datetime.now(UTC) - timedelta(hours=26)).replace(minute=0, second=0, microsecond=0)
    b = Builder(seed=7)
    b.calm(start, 1)
    b.rumor(start + timedelta(hours=9))
    b.hate_wave(start + timedelta(hours=15))
    b.big_account(start + timedelta(hours=18))
    for i in range(3):
        b.add(source=SOURCES[0], published=start + timedelta(hours=20, minutes=7 * i), lang="fr", stance="neutral",
              text=f"Un condamné sous bracelet en fuite ? Des témoins parlent d'une évasion à Salé ({i})")
    return b.mentions()


@pytest.fixture
def env_for_subprocess(settings) -> dict[str, str]:
    """A `sada` subprocess on this test's topics and indices, its idle ticker out of the way."""
    return {**os.environ, "SADA_TOPIC_PREFIX": settings.topic_prefix, "SADA_INDEX_PREFIX": settings.index_prefix,
            "SADA_ALERT_TICK": "600"}


class Committed:
    """How far a consumer group has committed (one client, polled often)."""

    def __init__(self, settings, group: str, topic: str) -> None:
        self.c = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=settings.topic(group),
                               enable_auto_commit=False)
        self.parts = [TopicPartition(settings.topic(topic), p)
                      for p in self.c.partitions_for_topic(settings.topic(topic)) or ()]

    def __call__(self) -> int:
        return sum(self.c.committed(tp) or 0 for tp in self.parts)

    def close(self) -> None:
        self.c.close(autocommit=False)


def all_records(settings, topic: str) -> list:
    c = KafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                      auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        return list(c)
    finally:
        c.close()


def test_killed_alert_consumer_restarts_without_missing_or_duplicating_an_alert(
        settings, env_for_subprocess, smtp, http, tmp_path, cleanup_alert_template):  # noqa: F811
    mentions = timeline()
    reference = list(alerts_only(replay(Engine(load_rules()), mentions)))
    paged = {a.alert_id for a in reference if a.delivery == "page"}
    assert {a.rule for a in reference} >= {"rumor-cluster", "toxicity-surge", "high-reach-hostile", "keyword-watch"}

    # One partition, so that the live order is the reference's (across partitions it may differ by
    # seconds; ids hold through that, see test_alert_ids_survive_a_different_reading_order).
    producer = sada_kafka.producer(settings)
    for m in mentions:
        producer.send(settings.topic("mentions.enriched"), key=m.id.encode(), value=m.to_json_bytes(), partition=0)
    producer.flush()
    producer.close()

    cmd = [sys.executable, "-m", "sada.cli_alerts", "consume", "alert", "--stats-every", "1"]
    committed = Committed(settings, "alert", "mentions.enriched")
    first = subprocess.Popen(cmd, env={**env_for_subprocess, "SADA_BATCH_SIZE": "10"}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    done = 0
    while time.monotonic() < deadline and done < len(mentions) * 0.35:
        done = committed()
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert 0 < done < len(mentions), f"the kill did not land mid-stream ({done} of {len(mentions)})"

    second = subprocess.Popen(cmd, env=env_for_subprocess, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and committed() < len(mentions):
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        committed.close()

    produced = [Alert.model_validate_json(r.value) for r in all_records(settings, "alerts")]
    assert {a.alert_id for a in produced} == {a.alert_id for a in reference}  # none missed, none invented
    by_id = {a.alert_id: a for a in produced}
    for ref in reference:                                                      # the same alerts, not just ids
        got = by_id[ref.alert_id]
        assert (got.rule, got.key, got.severity, got.fired_at, got.count) == (
            ref.rule, ref.key, ref.severity, ref.fired_at, ref.count)
    store = AlertStore(sada_es.client(settings), settings)
    store.es.indices.refresh(index=store.alerts)
    assert store.es.count(index=store.alerts)["count"] == len(reference)
    store.es.close()

    # Duplicates on the topic (at least once) never reach a person twice.
    recipients = write_recipients(tmp_path / "recipients.yaml", {
        "email-cm": {"type": "email", "min_severity": "info", "options": {"to": [{"email": "cm@campagne.test"}]}}})
    env = alert_env(smtp, http, recipients)
    run_notify(settings, env, lambda h, lp: lp.stats.processed >= len(produced), timeout=90)
    time.sleep(0.5)
    mailed = [email.message_from_bytes(m["raw"], policy=policy.default)["X-Sada-Alert-Id"] for m in smtp.messages]
    assert sorted(mailed) == sorted(paged)
    print(json.dumps({"mentions": len(mentions), "alerts": len(reference), "on_topic": len(produced),
                      "killed_after": done}))
