"""Enricher contract and pipeline.

An enricher is a pure component: a mention in, labels out; no Kafka, no Elasticsearch. Each one
declares the fields it reads and the fields it sets, with a versioned registered name
(``language.v1``), so a misordered pipeline fails when it is built, not on the hundredth post.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sada.errors import PipelineError
from sada.model import Mention, Provenance

# Fields a raw mention carries before any enrichment.
RAW_FIELDS = frozenset({
    "id", "platform", "source", "native_id", "url", "author", "text", "title", "kind",
    "published_at", "collected_at", "metrics", "query",
})


@dataclass
class Labels:
    """What one enricher decided: field values, and its confidence where it has one."""

    values: dict[str, Any]
    confidence: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Enricher(ABC):
    """Base class: subclasses set ``name``, ``version``, ``reads``, ``sets`` and implement ``label``."""

    name: ClassVar[str]
    version: ClassVar[str]
    reads: ClassVar[frozenset[str]]
    sets: ClassVar[frozenset[str]]

    @property
    def registered_name(self) -> str:
        return f"{self.name}.v{self.version.split('.')[0]}"

    @abstractmethod
    def label(self, mention: Mention) -> Labels:
        """Return the labels for ``mention`` without mutating it."""


class Pipeline:
    """An ordered list of enrichers whose reads are checked against earlier sets."""

    def __init__(self, enrichers: Iterable[Enricher]) -> None:
        self.enrichers = list(enrichers)
        available = set(RAW_FIELDS)
        for position, enricher in enumerate(self.enrichers):
            missing = set(enricher.reads) - available
            if missing:
                raise PipelineError(
                    f"enricher #{position} {enricher.registered_name} reads {sorted(missing)} "
                    f"which no earlier enricher sets",
                    hint="reorder the pipeline so that the enrichers setting these fields come first",
                )
            available |= enricher.sets

    @property
    def sets(self) -> frozenset[str]:
        return frozenset().union(*(e.sets for e in self.enrichers)) if self.enrichers else frozenset()

    def run(self, mention: Mention, now: datetime | None = None) -> Mention:
        """Apply every enricher in order, recording provenance; returns a new Mention."""
        updates: dict[str, Any] = {}
        provenance = dict(mention.provenance)
        current = mention
        for enricher in self.enrichers:
            labels = enricher.label(current)
            unexpected = set(labels.values) - set(enricher.sets)
            if unexpected:
                raise PipelineError(f"{enricher.registered_name} set undeclared fields {sorted(unexpected)}")
            updates.update(labels.values)
            for fname in labels.values:
                provenance[fname] = Provenance(enricher=enricher.registered_name, version=enricher.version,
                                               confidence=labels.confidence)
            current = current.model_copy(update=labels.values)
        updates["provenance"] = provenance
        updates["enriched_at"] = now or datetime.now(UTC)
        return mention.model_copy(update=updates)

    def describe(self) -> list[Mapping[str, Any]]:
        return [{"name": e.registered_name, "reads": sorted(e.reads), "sets": sorted(e.sets)} for e in self.enrichers]
