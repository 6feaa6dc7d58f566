"""Registered enrichers, looked up by versioned name, and the pipelines built from them.

The labels are computed by a stateless pipeline that any number of ``enrich`` processes can
run side by side; rumor clustering is stateful (it must see every mention, in order), so the
live pipeline runs it as its own single-partition stage (``consumers/cluster.py``). Offline
commands run both stages in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from enrichers.base import Enricher, Pipeline


def _language() -> Enricher:
    from enrichers.language import LanguageEnricher

    return LanguageEnricher()


def _relevance() -> Enricher:
    from enrichers.relevance import RelevanceEnricher

    return RelevanceEnricher()


def _entities() -> Enricher:
    from enrichers.entities import EntityEnricher

    return EntityEnricher()


def _topics() -> Enricher:
    from enrichers.topics import TopicEnricher

    return TopicEnricher()


def _myths() -> Enricher:
    from enrichers.myths import MythEnricher

    return MythEnricher()


def _toxicity() -> Enricher:
    from enrichers.toxicity import ToxicityEnricher

    return ToxicityEnricher()


def _stance() -> Enricher:
    from enrichers.stance import StanceEnricher

    return StanceEnricher()


def _claim_signature() -> Enricher:
    from enrichers.clusters import SignatureEnricher

    return SignatureEnricher()


def _rumor_cluster() -> Enricher:
    from enrichers.clusters import ClusterEnricher

    return ClusterEnricher()


# One line per enricher: adding one is a module plus a line here.
REGISTRY: dict[str, Callable[[], Enricher]] = {
    "language.v1": _language,
    "relevance.v1": _relevance,
    "entities.v1": _entities,
    "topics.v1": _topics,
    "myths.v1": _myths,
    "toxicity.v1": _toxicity,
    "stance.v1": _stance,
    "claim_signature.v1": _claim_signature,
    "rumor_cluster.v1": _rumor_cluster,
}

# claim_signature.v1 precomputes, where it scales, what the clustering stage compares.
LABELS = ("language.v1", "relevance.v1", "entities.v1", "topics.v1", "myths.v1", "toxicity.v1", "stance.v1",
          "claim_signature.v1")
CLUSTERS = ("rumor_cluster.v1",)
# What the labelling stage hands to the clustering stage.
LABEL_FIELDS = ("lang", "script", "relevant", "entities", "topics", "myths", "toxicity", "stance")


def build_pipeline(names: Sequence[str], provided: Sequence[str] = ()) -> Pipeline:
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown enricher(s) {unknown}; registered: {sorted(REGISTRY)}")
    return Pipeline((REGISTRY[n]() for n in names), provided=provided)


def labelling_pipeline() -> Pipeline:
    """The stateless labels: safe to run in several processes at once."""
    return build_pipeline(LABELS)


def default_pipeline() -> Pipeline:
    """Labels then rumor clusters, in one process (offline commands, benchmarks)."""
    return build_pipeline(LABELS + CLUSTERS)
