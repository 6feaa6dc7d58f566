"""One typed settings object for every component.

Precedence: explicit argument > environment (``SADA_*``) > ``.env`` file > default.
Secrets are ``SecretStr`` so they never appear in logs, reprs or error messages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
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
    max_text_chars: int = Field(50_000, ge=100, description="longer texts are dead-lettered")

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
