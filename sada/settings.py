"""One typed settings object for every component.

Precedence: explicit argument > environment (``SADA_*``) > ``.env`` file > default.
Secrets are ``SecretStr`` so they never appear in logs, reprs or error messages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_home() -> Path:
    # Elasticsearch runs as a dedicated unprivileged user, which cannot traverse /root:
    # as root, keep state under /var/lib where that user can be given its own folder.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/sada")
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "sada"


class Settings(BaseSettings):
    """Configuration of Sada; every field is read from ``SADA_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="SADA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated")
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL")
    es_username: str | None = Field(None, description="Elasticsearch user (production)")
    es_password: SecretStr | None = Field(None, description="Elasticsearch password (production)")
    es_api_key: SecretStr | None = Field(None, description="Elasticsearch API key (production)")
    es_ca_certs: str | None = Field(None, description="CA bundle for Elasticsearch over TLS")
    es_replicas: int = Field(0, ge=0, le=5, description="replicas per index (0 on a single local node)")
    index_prefix: str = Field("", description="prefix for every index and alias, e.g. 'camp2-'")
    topic_prefix: str = Field("", description="prefix for every Kafka topic")
    home: Path = Field(default_factory=_default_home, description="local state: downloads, data, logs")
    timezone: str = Field("Africa/Casablanca", description="time zone people see")
    kafka_heap: str = Field("512m", description="JVM heap of the local Kafka broker")
    es_heap: str = Field("1g", description="JVM heap of the local Elasticsearch node")
    author_salt: SecretStr = Field(
        SecretStr(""), description="salt for hashing author ids (Law 09-08); set it in production"
    )
    log_format: str = Field("text", description="'text' or 'json' log lines")
    batch_size: int = Field(500, ge=1, le=10_000, description="records per consumer batch")
    # A stage fed by a slower one would otherwise wake for every few records: per-batch work
    # (a bulk request, the cluster state saved, a commit) then costs more CPU than the records,
    # on a machine where every stage shares the same cores. The broker holds a fetch until this
    # much is waiting or the wait ends: bigger batches under load, at most the wait when calm.
    # lz4: gzip cost ~90 µs of CPU per mention and per hop (measured in kafka-python), lz4 ~8 µs,
    # for a ratio of 3.5 instead of 6 on these JSON mentions.
    kafka_compression: Literal["none", "gzip", "lz4"] = Field("lz4", description="compression of produced records")
    fetch_min_bytes: int = Field(256 * 1024, ge=1, description="bytes a consumer fetch waits for")
    fetch_max_wait_ms: int = Field(200, ge=0, le=5000, description="longest a fetch waits for them")
    max_text_chars: int = Field(50_000, ge=100, description="longer texts are dead-lettered")

    # -- alerts and notifications (alerts/, consumers/alert.py, consumers/notify.py) ------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server for alert and digest emails")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = Field(False, description="upgrade with STARTTLS (required before AUTH)")
    smtp_ssl: bool = Field(False, description="implicit TLS (port 465) instead of STARTTLS")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: str | None = Field(None, description="CA bundle to verify the SMTP server")
    smtp_from: str = "Sada <alertes@sada.invalid>"
    smtp_timeout: float = Field(20.0, gt=0)
    kibana_url: str = Field("http://127.0.0.1:5601", description="Kibana base URL for Discover links")
    kibana_data_view: str = Field("sada-mentions", description="data view id used in Discover links")
    telegram_api_url: str = "https://api.telegram.org"
    http_timeout: float = Field(10.0, gt=0, description="timeout of webhook and bot calls")
    alert_rules_dir: Path = Field(REPO_ROOT / "data" / "alerts" / "rules", description="alert rule files")
    alert_recipients: Path = Field(REPO_ROOT / "data" / "alerts" / "recipients.yaml", description="who gets what")
    alert_tick: float = Field(15.0, gt=0, description="seconds between idle clock ticks of the alert consumer")
    alert_heartbeat_every: float = Field(60.0, gt=0, description="seconds between reads of collector runs")
    alert_snapshot_every: float = Field(2.0, ge=0, description="seconds between engine snapshots (0: every batch)")
    notify_attempts: int = Field(3, ge=1, le=10, description="attempts in a row before a delivery waits")
    notify_max_attempts: int = Field(8, ge=1, le=50, description="attempts in all before a delivery fails")
    notify_backoff: float = Field(1.0, ge=0.0, description="first backoff in seconds, doubled each attempt")
    notify_max_backoff: float = Field(900.0, gt=0)
    notify_duplicate_window: float = Field(1800.0, ge=0, description="seconds within which an alert of the same "
                                                                       "rule, key, kind and severity is a duplicate")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name like Africa/Casablanca)") from exc
        return value

    @field_validator("index_prefix", "topic_prefix")
    @classmethod
    def _lowercase_prefix(cls, value: str) -> str:
        if value != value.lower() or any(c in value for c in ' "*\\<|,>/?#:'):
            raise ValueError("must be lowercase, without spaces or any of \" * \\ < | , > / ? # :")
        return value

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failed delivery attempt (1-based)."""
        return min(self.notify_backoff * 2 ** (attempt - 1), self.notify_max_backoff)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def index(self, name: str) -> str:
        return f"{self.index_prefix}{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
