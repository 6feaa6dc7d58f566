"""Local Kafka and Elasticsearch: fetched through Maven, started on loopback, health-waited.

Both are real servers at pinned versions. Downloads are cached under ``Settings.home/dist``
(and Maven's own ``~/.m2``), data under ``Settings.home/data``: nothing goes into git, and data
survives ``sada down`` / ``sada up``. Elasticsearch refuses to run as root, so when Sada runs as
root it starts Elasticsearch as the dedicated system user ``sada-es``.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from sada.errors import ServiceError
from sada.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.1"
ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "sada-es"
INFRA = REPO_ROOT / "infra" / "local"
PLUGIN_SRC = INFRA / "es-analysis-plugin" / "src"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def local(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")


def kafka_endpoint(settings: Settings) -> Endpoint:
    first = settings.kafka_bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return Endpoint(host or "127.0.0.1", int(port or 9092))


def es_endpoint(settings: Settings) -> Endpoint:
    parts = urlsplit(settings.es_url)
    return Endpoint(parts.hostname or "127.0.0.1", parts.port or 9200)


def _port_open(ep: Endpoint, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((ep.host, ep.port), timeout=timeout):
            return True
    except OSError:
        return False


def _java_home() -> Path:
    env = os.environ.get("JAVA_HOME")
    if env and (Path(env) / "bin" / "java").exists():
        return Path(env)
    java = shutil.which("java")
    if not java:
        raise ServiceError("no Java runtime found", hint="install OpenJDK 17 or newer (apt-get install openjdk-17-jdk-headless)")
    return Path(os.path.realpath(java)).parents[1]


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    log.debug("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise ServiceError(f"{what} failed (exit {proc.returncode}):\n  " + "\n  ".join(tail))
    return proc


def _mvn() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("Maven (mvn) is not installed", hint="apt-get install maven")
    return mvn


def plugin_components() -> dict[str, dict[str, str]]:
    """The plugin's ``named_components.json``: component name → class, per stable-API interface.

    Elasticsearch's Gradle plugin would generate it; we read the ``@NamedComponent`` names
    from our own sources instead, so adding a filter is adding one Java file.
    """
    components: dict[str, dict[str, str]] = {}
    for src in sorted(PLUGIN_SRC.rglob("*.java")):
        text = src.read_text()
        name = text.split('@NamedComponent("', 1)[1].split('"', 1)[0]
        api = ("org.elasticsearch.plugin.analysis.CharFilterFactory" if "implements CharFilterFactory" in text
               else "org.elasticsearch.plugin.analysis.TokenFilterFactory")
        components.setdefault(api, {})[name] = f"ma.sada.analysis.{src.stem}"
    return components


class LocalServices:
    """Fetch, configure, start, stop and inspect the local Kafka broker and Elasticsearch node."""

    def __init__(self, settings: Settings, echo=print) -> None:
        self.settings = settings
        self.echo = echo
        self.home = settings.home
        self.dist = self.home / "dist"
        self.kafka_home = self.dist / f"kafka-{KAFKA_VERSION}"
        self.es_home = self.dist / f"elasticsearch-{ES_VERSION}"
        self.kafka_data = self.home / "data" / "kafka"
        self.es_data = self.home / "data" / "elasticsearch"
        self.logs = self.home / "logs"
        self.run_dir = self.home / "run"

    # -- fetching ---------------------------------------------------------------------------

    def fetch_kafka(self) -> None:
        marker = self.kafka_home / ".complete"
        if marker.exists():
            return
        self.echo(f"Fetching Apache Kafka {KAFKA_VERSION} from Maven Central (first run only)...")
        libs = self.kafka_home / "libs"
        shutil.rmtree(self.kafka_home, ignore_errors=True)
        libs.mkdir(parents=True)
        _run(
            [_mvn(), "-q", "-B", "-f", str(INFRA / "kafka" / "pom.xml"), "dependency:copy-dependencies",
             f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
            "resolving Kafka through Maven",
        )
        marker.write_text(KAFKA_VERSION)

    def fetch_elasticsearch(self) -> None:
        marker = self.es_home / ".complete"
        if not marker.exists():
            self.echo(f"Fetching Elasticsearch {ES_VERSION} (integ-test-zip) from Maven Central (first run only)...")
            self.dist.mkdir(parents=True, exist_ok=True)
            _run([_mvn(), "-q", "-B", "dependency:copy", f"-Dartifact={ES_ARTIFACT}",
                  f"-DoutputDirectory={self.dist}"], "downloading Elasticsearch through Maven")
            archive = self.dist / f"elasticsearch-{ES_VERSION}.zip"
            shutil.rmtree(self.es_home, ignore_errors=True)
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(self.dist)
                # zipfile drops permission bits; restore them so bin/ scripts run.
                for info in zf.infolist():
                    mode = (info.external_attr >> 16) & 0o777
                    if mode:
                        os.chmod(self.dist / info.filename, mode)
            archive.unlink()
            marker.write_text(ES_VERSION)
        self._build_plugin()

    def _build_plugin(self) -> None:
        """Compile Sada's analysis plugin against this very distribution's jars."""
        sources = sorted(PLUGIN_SRC.rglob("*.java"))
        digest = str(sum(p.stat().st_mtime_ns for p in sources)) + str(len(sources))
        target = self.es_home / "plugins" / "sada-analysis"
        stamp = self.home / "dist" / "sada-analysis.stamp"
        if target.exists() and stamp.exists() and stamp.read_text() == digest:
            return
        self.echo("Building the sada-analysis Elasticsearch plugin...")
        build = self.home / "build" / "sada-analysis"
        shutil.rmtree(build, ignore_errors=True)
        (build / "classes").mkdir(parents=True)
        javac = _java_home() / "bin" / "javac"
        if not javac.exists():
            raise ServiceError("javac not found: a JDK (not only a JRE) is needed to build the analysis plugin",
                               hint="apt-get install openjdk-17-jdk-headless")
        _run([str(javac), "--release", "17", "-cp", str(self.es_home / "lib" / "*"), "-d", str(build / "classes"),
              *map(str, sources)], "compiling the sada-analysis plugin")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        _run([str(_java_home() / "bin" / "jar"), "cf", str(target / "sada-analysis.jar"), "-C",
              str(build / "classes"), "."], "packaging the sada-analysis plugin")
        (target / "stable-plugin-descriptor.properties").write_text(
            "description=Sada Arabic and French analysis filters\nversion=1.0.0\nname=sada-analysis\n"
            f"java.version=17\nelasticsearch.version={ES_VERSION}\n"
        )
        (target / "named_components.json").write_text(json.dumps(plugin_components(), indent=2, sort_keys=True))
        stamp.write_text(digest)

    # -- Kafka ------------------------------------------------------------------------------

    def _pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def _pid(self, name: str) -> int | None:
        path = self._pidfile(name)
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        except PermissionError:
            return int(path.read_text().strip())

    def start_kafka(self, timeout: float = 90) -> str:
        ep = kafka_endpoint(self.settings)
        if _port_open(ep):
            return f"Kafka already running on {ep.host}:{ep.port}"
        if not ep.local:
            raise ServiceError(f"Kafka at {self.settings.kafka_bootstrap} is not reachable",
                               hint="check SADA_KAFKA_BOOTSTRAP; `sada up` only starts local services")
        self.fetch_kafka()
        for d in (self.kafka_data, self.logs, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        config = self.home / "config" / "kafka-server.properties"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(Template((INFRA / "kafka" / "server.properties.tmpl").read_text()).substitute(
            port=ep.port, controller_port=ep.port + 1, data_dir=self.kafka_data))
        java = str(_java_home() / "bin" / "java")
        cp = str(self.kafka_home / "libs" / "*")
        if not (self.kafka_data / "meta.properties").exists():
            _run([java, "-cp", cp, "kafka.tools.StorageTool", "format", "-t", uuid.uuid4().hex[:22],
                  "-c", str(config), "--ignore-formatted"], "formatting Kafka storage")
        heap = self.settings.kafka_heap
        cmd = [java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
               f"-Dkafka.logs.dir={self.logs / 'kafka'}",
               f"-Dlog4j2.configurationFile={INFRA / 'kafka' / 'log4j2.yaml'}",
               "-cp", cp, "kafka.Kafka", str(config)]
        out = open(self.logs / "kafka.out", "ab")  # noqa: SIM115 - handed to the child process
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self._pidfile("kafka").write_text(str(proc.pid))
        self._wait(lambda: _port_open(ep) and self._kafka_ready(), timeout, "Kafka",
                   lambda: proc.poll() is not None, self.logs / "kafka" / "server.log")
        return f"Kafka {KAFKA_VERSION} started on {ep.host}:{ep.port} (pid {proc.pid})"

    def _kafka_ready(self) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=3000,
                                     client_id="sada-health")
        except (KafkaError, OSError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    # -- Elasticsearch ----------------------------------------------------------------------

    def _es_user(self) -> str | None:
        """The user Elasticsearch runs as: ``sada-es`` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(ES_USER)
        except KeyError:
            _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                 f"creating the system user {ES_USER}")
        return ES_USER

    def start_elasticsearch(self, timeout: float = 180) -> str:
        ep = es_endpoint(self.settings)
        if _port_open(ep) and self._es_health() is not None:
            return f"Elasticsearch already running on {self.settings.es_url}"
        if not ep.local:
            raise ServiceError(f"Elasticsearch at {self.settings.es_url} is not reachable",
                               hint="check SADA_ES_URL; `sada up` only starts local services")
        self.fetch_elasticsearch()
        for d in (self.es_data, self.logs / "elasticsearch", self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        (self.es_home / "config" / "elasticsearch.yml").write_text(
            Template((INFRA / "elasticsearch" / "elasticsearch.yml.tmpl").read_text()).substitute(
                port=ep.port, transport_port=ep.port + 100, data_dir=self.es_data,
                logs_dir=self.logs / "elasticsearch"))
        user = self._es_user()
        pidfile = self._pidfile("elasticsearch")
        pidfile.unlink(missing_ok=True)
        if user:
            os.chmod(self.home, 0o755)
            for path in (self.home / "dist", self.home / "data", self.logs):
                os.chmod(path, 0o755)
            _run(["chown", "-R", user, str(self.es_home), str(self.es_data), str(self.logs / "elasticsearch"),
                  str(self.run_dir)], "giving Elasticsearch its folders")
        env = {**os.environ, "ES_JAVA_HOME": str(_java_home()),
               "ES_JAVA_OPTS": f"-Xms{self.settings.es_heap} -Xmx{self.settings.es_heap}"}
        env.pop("JAVA_HOME", None)
        cmd = [str(self.es_home / "bin" / "elasticsearch"), "-d", "-p", str(pidfile)]
        if user:
            cmd = ["runuser", "-u", user, "--", "env", f"ES_JAVA_HOME={env['ES_JAVA_HOME']}",
                   f"ES_JAVA_OPTS={env['ES_JAVA_OPTS']}", *cmd]
        with open(self.logs / "elasticsearch.out", "ab") as out:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                  cwd=self.es_home)
        if proc.returncode != 0:
            raise ServiceError(f"Elasticsearch failed to start (exit {proc.returncode})",
                               hint=f"see {self.logs / 'elasticsearch.out'} and {self.logs / 'elasticsearch'}")
        self._wait(lambda: self._es_health() in ("green", "yellow"), timeout, "Elasticsearch",
                   lambda: self._pid("elasticsearch") is None and pidfile.exists(),
                   self.logs / "elasticsearch" / "sada-local.log")
        return f"Elasticsearch {ES_VERSION} started on {self.settings.es_url} (pid {self._pid('elasticsearch')})"

    def _es_health(self) -> str | None:
        try:
            with urllib.request.urlopen(f"{self.settings.es_url.rstrip('/')}/_cluster/health", timeout=2) as resp:
                return json.load(resp).get("status")
        except (urllib.error.URLError, OSError, ValueError):
            return None

    # -- lifecycle --------------------------------------------------------------------------

    def _wait(self, ready, timeout: float, name: str, died, logfile: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if died():
                raise ServiceError(f"{name} exited during start-up", hint=f"see {logfile}")
            time.sleep(1)
        raise ServiceError(f"{name} did not become ready within {timeout:.0f}s", hint=f"see {logfile}")

    def up(self) -> list[str]:
        return [self.start_kafka(), self.start_elasticsearch()]

    def stop(self, name: str, timeout: float = 60) -> str:
        pid = self._pid(name)
        if pid is None:
            return f"{name}: not running (no pid file from `sada up`)"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                self._pidfile(name).unlink(missing_ok=True)
                return f"{name}: stopped"
            time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        self._pidfile(name).unlink(missing_ok=True)
        return f"{name}: killed after {timeout:.0f}s"

    def down(self) -> list[str]:
        # Elasticsearch first: consumers may still flush to it while Kafka drains.
        return [self.stop("elasticsearch"), self.stop("kafka")]

    def status(self) -> dict[str, dict[str, object]]:
        kafka = kafka_endpoint(self.settings)
        return {
            "kafka": {"address": self.settings.kafka_bootstrap, "up": _port_open(kafka),
                      "pid": self._pid("kafka"), "version": KAFKA_VERSION},
            "elasticsearch": {"address": self.settings.es_url, "health": self._es_health(),
                              "pid": self._pid("elasticsearch"), "version": ES_VERSION},
            "home": {"path": str(self.home)},
        }
