"""Registered enrichers, looked up by versioned name, and the default pipeline."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from enrichers.base import Enricher, Pipeline


def _language() -> Enricher:
    from enrichers.language import LanguageEnricher

    return LanguageEnricher()


# One line per enricher: adding one is a module plus a line here.
REGISTRY: dict[str, Callable[[], Enricher]] = {
    "language.v1": _language,
}

DEFAULT = ("language.v1",)


def build_pipeline(names: Sequence[str]) -> Pipeline:
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown enricher(s) {unknown}; registered: {sorted(REGISTRY)}")
    return Pipeline(REGISTRY[n]() for n in names)


def default_pipeline() -> Pipeline:
    return build_pipeline(DEFAULT)
