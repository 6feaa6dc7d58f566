"""The Mention: one public post, comment, article or message about the reform.

A mention's id is derived from what identifies the item on its platform (native id, else its
canonical URL), never from when it was collected, so collecting a post twice yields one id and
one Elasticsearch document.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

# Label ids: the contract of ../shared/TAXONOMY.md. Never rename or reuse one.
LANGS = ("fr", "ar", "ary", "en", "es", "und")
SCRIPTS = ("arab", "latn", "und")
TOPICS = (
    "community_service", "electronic_monitoring", "day_fine", "rights_restriction",
    "prison_overcrowding", "recidivism_reintegration", "victims", "implementation", "eligibility",
)
MYTHS = (
    "impunity", "rich_buy_freedom", "crime_will_rise", "dangerous_criminals_freed",
    "mass_release", "foreign_agenda", "bracelet_fears", "victims_forgotten",
)
STANCES = ("support", "oppose", "neutral", "question")
TOXICITY = ("none", "insult", "hate", "threat", "defamation")
ENTITY_IDS = (
    "law_43_22", "ministry_of_justice", "dgapr", "public_prosecution", "cspj", "cndh",
    "parliament", "ncsc", "omp",
)
ENTITY_LABELS = ("ORG", "PER", "LOC", "LAW", "MISC")

Lang = Literal["fr", "ar", "ary", "en", "es", "und"]
Script = Literal["arab", "latn", "und"]
Stance = Literal["support", "oppose", "neutral", "question"]
Toxicity = Literal["none", "insult", "hate", "threat", "defamation"]


class Platform(StrEnum):
    NEWS = "news"
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"
    TELEGRAM = "telegram"
    REDDIT = "reddit"
    MASTODON = "mastodon"
    REPLAY = "replay"


class Kind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    ARTICLE = "article"
    MESSAGE = "message"


_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref_src", "s", "si")


def canonical_url(url: str) -> str:
    """A URL reduced to what identifies the page: scheme https, host without www, no tracking.

    >>> canonical_url("HTTP://www.Hespress.com/a/?utm_source=fb&id=2#top")
    'https://hespress.com/a?id=2'
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=False)
        if not any(k == p or (p.endswith("_") and k.startswith(p)) for p in _TRACKING_PARAMS)
    )
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("https", host, path, urlencode(query), ""))


def mention_id(platform: str, native_id: str | None = None, url: str | None = None) -> str:
    """Stable id: platform + native id, else platform + canonical URL.

    Hashed so it is short, safe as an Elasticsearch id and a Kafka key whatever the platform's
    id alphabet, while the platform prefix keeps it readable.
    """
    if native_id:
        basis = f"{platform}\x1fid\x1f{native_id.strip()}"
    elif url:
        basis = f"{platform}\x1furl\x1f{canonical_url(url)}"
    else:
        raise ValueError("a mention needs a native id or a URL to get a stable id")
    return f"{platform}-{hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()}"


def hash_author_id(platform: str, author_id: str, salt: str) -> str:
    """Pseudonymous author id (Law 09-08): stable per platform, not reversible without the salt."""
    digest = hmac.new(salt.encode(), f"{platform}:{author_id}".encode(), hashlib.sha256)
    return f"h:{digest.hexdigest()[:24]}"


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="platform id, hashed before it leaves the collector")
    handle: str | None = None
    name: str | None = None
    followers: int | None = Field(None, ge=0)


class Metrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    likes: int = Field(0, ge=0)
    shares: int = Field(0, ge=0)
    comments: int = Field(0, ge=0)
    views: int | None = Field(None, ge=0)

    @field_validator("likes", "shares", "comments", mode="before")
    @classmethod
    def _unreported_is_zero(cls, value: Any) -> Any:
        # News feeds and some APIs report no engagement at all (null): none counted, as 0, so
        # engagement sums in alert rules and the digest stay numbers.
        return 0 if value is None else value


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str
    label: Literal["ORG", "PER", "LOC", "LAW", "MISC"]


class Provenance(BaseModel):
    """Which enricher, at which version, produced a label, and how sure it was."""

    model_config = ConfigDict(extra="forbid")

    enricher: str
    version: str
    confidence: float | None = Field(None, ge=0.0, le=1.0)


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{field} must carry a time zone (e.g. 2026-11-18T09:30:00+01:00)")
    return value


class Mention(BaseModel):
    """A public mention of the reform, raw or enriched (enrichment fields stay None until set)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False, validate_assignment=False)

    schema_version: int = SCHEMA_VERSION
    id: str
    platform: Platform
    source: str = Field(..., min_length=1, description="collector and channel, e.g. 'hespress.com'")
    native_id: str | None = None
    url: str | None = None
    author: Author = Field(default_factory=Author)
    text: str
    title: str | None = None
    kind: Kind = Kind.POST
    published_at: datetime
    collected_at: datetime
    metrics: Metrics = Field(default_factory=Metrics)
    query: str | None = Field(None, description="the keyword set that matched")

    # Enrichment (TAXONOMY.md)
    lang: Lang | None = None
    script: Script | None = None
    relevant: bool | None = None
    topics: list[str] | None = None
    myths: list[str] | None = None
    stance: Stance | None = None
    toxicity: Toxicity | None = None
    entities: list[Entity] | None = None
    cluster_id: str | None = None
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    enriched_at: datetime | None = None

    @field_validator("published_at", "collected_at", "enriched_at")
    @classmethod
    def _tz_aware(cls, value: datetime | None, info: Any) -> datetime | None:
        return _aware(value, info.field_name)

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: list[str] | None) -> list[str] | None:
        return _check_ids(value, TOPICS, "topic")

    @field_validator("myths")
    @classmethod
    def _known_myths(cls, value: list[str] | None) -> list[str] | None:
        return _check_ids(value, MYTHS, "myth")

    @model_validator(mode="after")
    def _schema_supported(self) -> Mention:
        if self.schema_version > SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is newer than this Sada ({SCHEMA_VERSION}): upgrade"
            )
        return self

    @classmethod
    def new(
        cls,
        *,
        platform: str,
        source: str,
        text: str,
        published_at: datetime,
        native_id: str | None = None,
        url: str | None = None,
        collected_at: datetime | None = None,
        **fields: Any,
    ) -> Mention:
        """Build a raw mention, deriving its stable id."""
        return cls(
            id=mention_id(platform, native_id, url),
            platform=platform,
            source=source,
            native_id=native_id,
            url=url,
            text=text,
            published_at=published_at,
            collected_at=collected_at or datetime.now(UTC),
            **fields,
        )

    def event_time(self) -> datetime:
        """The time windows and monthly indices follow: when the item was published."""
        return self.published_at

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode("utf-8")


def _check_ids(value: list[str] | None, allowed: tuple[str, ...], what: str) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} id(s) {unknown}; allowed: {', '.join(allowed)}")
    return sorted(set(value))
