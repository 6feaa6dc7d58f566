"""Enricher contract and pipeline.

An enricher is a pure component: a mention in, labels out; no Kafka, no Elasticsearch. Each one
declares the fields it reads and the fields it sets, with a versioned registered name
(``language.v1``), so a misordered pipeline fails when it is built, not on the hundredth post.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import OrderedDict
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
    # True when the labels depend only on the post's wording (title, text and labels derived
    # from it), so identical texts — viral copies — are labelled once. Stateful enrichers
    # (rumor clusters) set False.
    cacheable: ClassVar[bool] = True
    # Fields an earlier stage attached for this enricher only (the rumor clusterer's signature):
    # optional to read, and removed from the mentions the pipeline hands on.
    consumes: ClassVar[frozenset[str]] = frozenset()

    @property
    def registered_name(self) -> str:
        return f"{self.name}.v{self.version.split('.')[0]}"

    @abstractmethod
    def label(self, mention: Mention) -> Labels:
        """Return the labels for ``mention`` without mutating it."""

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        """Labels for a batch; override when batching is faster (spaCy's ``nlp.pipe``)."""
        return [self.label(m) for m in mentions]


class Pipeline:
    """An ordered list of enrichers whose reads are checked against earlier sets.

    Identical posts are labelled once: the values of cacheable enrichers are kept in an LRU
    cache keyed on the normalized wording (plus any other raw field they read), and only the
    stateful enrichers (rumor clusters) run again on a viral copy.
    """

    def __init__(self, enrichers: Iterable[Enricher], cache_size: int = 50_000,
                 provided: Iterable[str] = ()) -> None:
        """``provided``: label fields the input already carries (a later stage of the pipeline)."""
        self.enrichers = list(enrichers)
        available = set(RAW_FIELDS) | set(provided)
        stateful_sets: set[str] = set()
        for position, enricher in enumerate(self.enrichers):
            missing = set(enricher.reads) - available
            if missing:
                raise PipelineError(
                    f"enricher #{position} {enricher.registered_name} reads {sorted(missing)} "
                    f"which no earlier enricher sets",
                    hint="reorder the pipeline so that the enrichers setting these fields come first",
                )
            if enricher.cacheable and set(enricher.reads) & stateful_sets:
                raise PipelineError(
                    f"{enricher.registered_name} is cacheable but reads {sorted(set(enricher.reads) & stateful_sets)} "
                    "set by a stateful enricher", hint="mark it cacheable = False or move it earlier")
            available |= enricher.sets
            if not enricher.cacheable:
                stateful_sets |= enricher.sets
        self._consumed = set().union(*(e.consumes for e in self.enrichers))
        self._cached = [e for e in self.enrichers if e.cacheable]
        self._stateful = [e for e in self.enrichers if not e.cacheable]
        self._key_fields = sorted(
            (set().union(*(e.reads for e in self._cached)) & RAW_FIELDS) - {"text", "title"}
        ) if self._cached else []
        self._cache: OrderedDict[str, tuple[dict[str, Any], dict[str, Provenance]]] = OrderedDict()
        self._cache_size = cache_size
        self.cache_hits = self.cache_misses = 0

    @property
    def sets(self) -> frozenset[str]:
        return frozenset().union(*(e.sets for e in self.enrichers)) if self.enrichers else frozenset()

    def _key(self, mention: Mention) -> str:
        parts = [" ".join((mention.title or "").split()), " ".join(mention.text.split())]
        parts += [str(getattr(mention, f, None)) for f in self._key_fields]
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()

    def run(self, mention: Mention, now: datetime | None = None) -> Mention:
        """Enrich one mention; returns a new Mention."""
        return self.run_many([mention], now)[0]

    def run_many(self, mentions: list[Mention], now: datetime | None = None) -> list[Mention]:
        """Enrich a batch in order, recording provenance; returns new Mentions."""
        stamp = now or datetime.now(UTC)
        results: list[tuple[dict[str, Any], dict[str, Provenance]] | None] = [None] * len(mentions)
        keys = [self._key(m) for m in mentions]
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                results[i] = hit
            else:
                todo.setdefault(key, []).append(i)
        if todo:
            firsts = [idx[0] for idx in todo.values()]
            computed = self._apply(self._cached, [mentions[i] for i in firsts])
            for (key, idx), value in zip(todo.items(), computed, strict=True):
                self.cache_misses += 1
                self._cache[key] = value
                for i in idx:
                    results[i] = value
                self.cache_hits += len(idx) - 1
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        out = [_merge(m, r) for m, r in zip(mentions, results, strict=True)]  # type: ignore[arg-type]
        for enricher in self._stateful:
            # Stateful enrichers see the mentions one by one, in arrival order.
            out = [_merge(m, self._apply([enricher], [m])[0]) for m in out]
        # One validation per mention: an enricher emitting an id outside TAXONOMY.md fails here,
        # loudly, instead of reaching Elasticsearch.
        return [Mention.model_validate({**self._dump(m), "enriched_at": stamp}) for m in out]

    def _dump(self, mention: Mention) -> dict[str, Any]:
        if not self._consumed:
            return mention.model_dump()
        data = mention.model_dump(exclude=self._consumed)
        data["provenance"] = {k: v for k, v in data["provenance"].items() if k not in self._consumed}
        return data

    @staticmethod
    def _apply(enrichers: list[Enricher], mentions: list[Mention]) -> list[tuple[dict[str, Any], dict[str, Provenance]]]:
        values: list[dict[str, Any]] = [{} for _ in mentions]
        provs: list[dict[str, Provenance]] = [{} for _ in mentions]
        current = list(mentions)
        for enricher in enrichers:
            labels = enricher.label_many(current)
            for i, lab in enumerate(labels):
                unexpected = set(lab.values) - set(enricher.sets)
                if unexpected:
                    raise PipelineError(f"{enricher.registered_name} set undeclared fields {sorted(unexpected)}")
                values[i].update(lab.values)
                for fname in lab.values:
                    provs[i][fname] = Provenance(enricher=enricher.registered_name, version=enricher.version,
                                                 confidence=lab.confidence)
                current[i] = current[i].model_copy(update=lab.values)
        return list(zip(values, provs, strict=True))

    def describe(self) -> list[Mapping[str, Any]]:
        return [{"name": e.registered_name, "reads": sorted(e.reads), "sets": sorted(e.sets),
                 "cacheable": e.cacheable} for e in self.enrichers]


def _merge(mention: Mention, result: tuple[dict[str, Any], dict[str, Provenance]]) -> Mention:
    values, prov = result
    return mention.model_copy(update={**values, "provenance": {**mention.provenance, **prov}})
