"""Integration fixtures: the real Kafka and Elasticsearch started by `sada up`.

Each test gets its own topic and index prefix (so its own topics, consumer groups, indices and
alias) and removes them afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
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


class DagRunner:
    """A child process that runs a DAG's ``test()`` for each command it is sent, so a module pays
    Airflow's start-up (about 10 s) once.

    ``script`` is the child's code (``python -c``, the dags folder as argument): it reads one JSON
    command per line on stdin, ``{"cmd": "run", "env": {...}, ...}`` or ``{"cmd": "exit"}``, and
    prints ``RESULT <json>`` after each run. The child starts without any ``SADA_*`` variable; each
    command brings the environment its tasks read at run time.
    """

    def __init__(self, script: str, env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        child_env = {k: v for k, v in env.items() if not k.startswith("SADA_")}
        self.proc = subprocess.Popen([PYTHON, "-c", script, str(DAGS)], env=child_env, cwd=str(REPO_ROOT),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def run(self, env: dict[str, str], timeout: float = 150.0, **fields) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"cmd": "run", "env": env, **fields}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        for line in self.proc.stdout:
            if line.startswith("RESULT "):
                self.log.flush()
                return json.loads(line[7:])
            self.log.write(line)  # Airflow's task logs go to stdout
            if time.monotonic() > deadline:
                break
        pytest.fail(f"the DAG run did not finish; its log: {self.log.name}")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
