"""Integration fixtures: the real Kafka and Elasticsearch started by `sada up`.

Each test gets its own topic and index prefix (so its own topics, consumer groups, indices and
alias) and removes them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from consumers.runloop import RunLoop
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.bootstrap import setup_all
from sada.services import LocalServices
from sada.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.integration

DAGS = REPO_ROOT / "dags"
PYTHON = sys.executable


@pytest.fixture(scope="session")
def services() -> LocalServices:
    svc = LocalServices(Settings())
    svc.up()  # idempotent: finds the services `make test` started, or starts them
    return svc


@pytest.fixture
def settings(services: LocalServices) -> Iterator[Settings]:
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    s = Settings(topic_prefix=prefix, index_prefix=prefix, batch_size=200)
    setup_all(s)
    yield s
    admin = sada_kafka.admin(s)
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(prefix)])
    finally:
        admin.close()
    es = sada_es.client(s)
    es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, allow_no_indices=True)
    for template in es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*").get("index_templates", []):
        es.indices.delete_index_template(name=template["name"])
    es.close()


@pytest.fixture
def env_for(settings: Settings) -> dict[str, str]:
    """Environment for a `sada` subprocess that works on this test's topics and indices."""
    return {**os.environ, "SADA_TOPIC_PREFIX": settings.topic_prefix, "SADA_INDEX_PREFIX": settings.index_prefix}


def run_until(loop: RunLoop, done: Callable[[RunLoop], bool], timeout: float = 90.0) -> RunLoop:
    """Run a consumer loop in a thread until ``done`` or the timeout (then fail)."""
    finished = threading.Event()

    def target() -> None:
        try:
            loop.run(until=done)
        finally:
            finished.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    if not finished.wait(timeout):
        loop.stop.set()
        thread.join(30)
        pytest.fail(f"consumer {loop.handler.name} did not finish within {timeout}s "
                    f"(processed {loop.stats.processed})")
    thread.join(30)
    return loop


def read_topic(settings: Settings, name: str, expected: int, timeout: float = 30.0) -> list:
    """Every record of a topic (from the beginning), waiting until ``expected`` have arrived."""
    consumer = KafkaConsumer(settings.topic(name), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=int(timeout * 1000), max_partition_fetch_bytes=20 * 1024 * 1024)
    records = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """A throwaway Airflow: AIRFLOW_HOME in a temp dir, SQLite, no examples, the repo's dags/."""
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    migrate = subprocess.run([str(Path(PYTHON).with_name("airflow")), "db", "migrate"], env=env,
                             capture_output=True, text=True, timeout=240)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env
