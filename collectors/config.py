"""Configuration of the collectors: credentials from the environment, sources from a data file.

Credentials and knobs are environment variables (``SADA_*``, also read from ``.env``), kept
apart from ``sada.settings.Settings`` because only the collectors need them. Tokens are
``SecretStr``: they never appear in logs, reprs or error messages.

| variable | used by |
|---|---|
| ``SADA_YOUTUBE_API_KEY`` | youtube_search, youtube_comments (YouTube Data API v3 key) |
| ``SADA_META_PAGE_TOKEN`` | meta (page access token of the campaign's Facebook Page) |
| ``SADA_META_PAGE_ID`` / ``SADA_META_IG_USER_ID`` | meta (the campaign's Page and Instagram business account) |
| ``SADA_X_BEARER_TOKEN`` | x (app bearer token, API v2 recent search) |
| ``SADA_REDDIT_CLIENT_ID`` / ``SADA_REDDIT_CLIENT_SECRET`` | reddit (script app, client-credentials grant) |
| ``SADA_MASTODON_BASE_URL`` (+ optional ``SADA_MASTODON_TOKEN``) | mastodon (the instance whose hashtag timelines we read) |
| ``SADA_REPLAY_FILE`` | replay (a JSONL file of mentions) |
| ``SADA_<SOURCE>_BASE_URL`` | any source: overrides its API base URL (tests, proxies) |
| ``SADA_KEYWORDS_FILE`` / ``SADA_SOURCES_FILE`` | other keyword sets / source lists |
| ``SADA_COLLECT_SOURCES`` | comma-separated subset of sources to run (default: every enabled one) |
| ``SADA_COLLECT_MAX_ATTEMPTS`` / ``SADA_COLLECT_BACKOFF_SECONDS`` / ``SADA_COLLECT_MAX_RETRY_AFTER`` | HTTP retry policy |
| ``SADA_TEXT_RETENTION_DAYS`` | days raw text is kept in Elasticsearch (Law 09-08; default 180) |
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from sada import yamlfile
from sada.errors import DataFileError
from sada.settings import REPO_ROOT

SOURCES_FILE = REPO_ROOT / "data" / "sources" / "sources.yaml"
KEYWORDS_FILE = REPO_ROOT / "data" / "keywords.yaml"


class CollectorSettings(BaseSettings):
    """What the collectors read from ``SADA_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SADA_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    keywords_file: Path = Field(KEYWORDS_FILE, description="keyword sets (data/keywords.yaml)")
    sources_file: Path = Field(SOURCES_FILE, description="sources and their options")
    collect_sources: str | None = Field(None, description="comma-separated subset of sources to run")
    collect_max_attempts: int = Field(4, ge=1, le=10)
    collect_backoff_seconds: float = Field(2.0, ge=0.0, le=300.0)
    collect_max_retry_after: float = Field(300.0, ge=0.0)
    collect_batch_size: int = Field(500, ge=1, le=10_000, description="mentions produced per checkpoint")
    text_retention_days: int = Field(180, ge=1, description="raw text kept this many days (Law 09-08)")

    youtube_api_key: SecretStr | None = None
    meta_page_token: SecretStr | None = None
    meta_page_id: str | None = None
    meta_ig_user_id: str | None = None
    x_bearer_token: SecretStr | None = None
    reddit_client_id: SecretStr | None = None
    reddit_client_secret: SecretStr | None = None
    mastodon_base_url: str | None = None
    mastodon_token: SecretStr | None = None
    replay_file: Path | None = None

    def secret(self, field: str) -> str | None:
        """A credential's value (for the request only, never for a log line), or None."""
        value = getattr(self, field)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return str(value) if value not in (None, "") else None

    def only_sources(self) -> set[str] | None:
        if not self.collect_sources:
            return None
        return {s.strip() for s in self.collect_sources.split(",") if s.strip()}


def env_name(field: str) -> str:
    """The environment variable of a CollectorSettings field."""
    return f"SADA_{field.upper()}"


def base_url_override(source: str) -> str | None:
    """``SADA_<SOURCE>_BASE_URL``, e.g. SADA_TELEGRAM_BASE_URL, SADA_NEWS_FEEDS_BASE_URL."""
    return os.environ.get(f"SADA_{source.upper()}_BASE_URL") or None


class SourceOptions(BaseModel):
    """Options every source accepts in ``data/sources/sources.yaml``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str | None = Field(None, description="API base URL; SADA_<SOURCE>_BASE_URL overrides it")
    interval_minutes: int = Field(0, ge=0, description="collect at most this often (quota-hungry APIs)")
    lookback_hours: float = Field(24.0, gt=0, description="how far back the very first run looks")
    max_pages: int = Field(10, ge=1, le=1000, description="pages per run and channel, a safety net")
    timeout_seconds: float = Field(20.0, gt=0, le=300, description="read timeout of each request")
    queries: list[str] | None = Field(None, description="search sources: only these keyword sets")


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    return yamlfile.read(path, display(path))


def validate(model: type[BaseModel], data: Any, path: Path, prefix: str) -> Any:
    """``model.model_validate(data)`` with errors naming the file and the dotted field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _location((*prefix.split("."), *err["loc"])) if prefix else _location(err["loc"])
        raise DataFileError(display(path), field or "(root)", err["msg"]) from exc


def load_source_table(path: Path) -> dict[str, dict[str, Any]]:
    """The ``sources:`` mapping of the sources file (each source's options still unvalidated)."""
    data = read_yaml(path)
    where = display(path)
    if not isinstance(data, dict):
        raise DataFileError(where, "(root)", "expected a mapping with 'version' and 'sources'")
    if data.get("version") != 1:
        raise DataFileError(where, "version", "expected 1")
    table = data.get("sources")
    if not isinstance(table, dict) or not table:
        raise DataFileError(where, "sources", "expected a mapping of source name → options")
    for name, options in table.items():
        if options is not None and not isinstance(options, dict):
            raise DataFileError(where, f"sources.{name}", "expected a mapping of options")
    return {name: dict(options or {}) for name, options in table.items()}
