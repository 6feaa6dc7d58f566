"""What the engine emits: alerts (to the ``alerts`` topic and Elasticsearch) and resolutions.

An alert's id is derived from its rule, key, episode and sequence — never from the wall clock —
so re-emitting it after a restart or a redelivery yields the same id, the same Elasticsearch
document and no second notification.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
Status = Literal["new", "acknowledged", "resolved"]
Kind = Literal["fired", "escalated", "reminder", "summary"]
# page: sent to the channels now; summary: held for the daily summary; grouped: explained by an
# open alert of a more specific rule (kept, listed, in the summary — never paged twice).
Delivery = Literal["page", "summary", "grouped"]

SEVERITY_LABEL_FR = {"info": "Info", "warning": "Alerte", "critical": "CRITIQUE"}
KIND_LABEL_FR = {"fired": "", "escalated": "Aggravation", "reminder": "Toujours en cours", "summary": "Résumé"}

# Top-level fields of the Elasticsearch alert document (the alerts index template); everything
# else travels in ``details``.
DOC_FIELDS = ("alert_id", "rule", "severity", "key", "status", "fired_at", "count", "baseline",
              "mention_ids", "summary")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def bump(severity: str) -> Severity:
    """One level up, capped at critical."""
    return SEVERITIES[min(severity_rank(severity) + 1, len(SEVERITIES) - 1)]  # type: ignore[return-value]


def stable_id(prefix: str, *parts: object) -> str:
    basis = "\x1f".join(str(p) for p in parts)
    return f"{prefix}-{hashlib.blake2b(basis.encode(), digest_size=10).hexdigest()}"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone")
    return value


class Alert(BaseModel):
    """One alert as the notify consumer, Elasticsearch and ``sada alerts replay`` see it."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str
    rule: str
    rule_type: str
    severity: Severity
    key: str
    status: Status = "new"
    kind: Kind = "fired"
    delivery: Delivery = "page"
    episode_id: str
    sequence: int = 0
    fired_at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    count: int = 0
    baseline: float | None = None
    mention_ids: list[str] = Field(default_factory=list)
    summary: str
    channels: list[str] | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("fired_at", "window_start", "window_end")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    def to_document(self) -> dict[str, Any]:
        """The Elasticsearch document: the template's fields at top level, the rest in ``details``."""
        data = self.model_dump(mode="json")
        doc = {k: data.pop(k) for k in DOC_FIELDS}
        details = data.pop("details")
        doc["details"] = {**details, **data}
        doc["deliveries"] = {}
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Alert:
        details = dict(doc.get("details") or {})
        top = {k: details.pop(k) for k in list(details) if k in cls.model_fields and k != "details"}
        for extra in ("acknowledged_at", "acknowledged_by", "resolved_at", "resolution"):
            details.pop(extra, None)
        return cls.model_validate({**{k: doc.get(k) for k in DOC_FIELDS}, **top, "details": details})

    def replay_line(self) -> str:
        """One JSON line for ``sada alerts replay``."""
        data = self.model_dump(mode="json")
        keep = {k: data[k] for k in ("rule", "rule_type", "severity", "key", "kind", "delivery", "fired_at",
                                     "count", "baseline", "mention_ids", "alert_id", "episode_id", "summary",
                                     "window_start", "window_end")}
        keep["discover_url"] = self.details.get("discover_url")
        return json.dumps(keep, ensure_ascii=False)


@dataclass(frozen=True)
class Resolution:
    """An episode ended: its alerts become ``resolved`` in Elasticsearch (nobody is paged)."""

    rule: str
    key: str
    episode_id: str
    alert_ids: tuple[str, ...]
    resolved_at: datetime
    reason: str = "condition cleared"
    extra: dict[str, Any] = field(default_factory=dict)
