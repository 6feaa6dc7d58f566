"""Offline replay: a timeline of mentions through the engine, the clock following each mention.

``sada alerts replay`` and ``sada alerts dry-run`` use this; so do the scenario tests. The clock
of each mention is its ``collected_at`` (else its ``published_at``): what the live consumer
would have seen, in the order it would have seen it. Mentions that carry no labels at all are
enriched first with the default enrichment pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from alerts.engine import Engine, Output
from alerts.model import Alert
from sada.model import Mention, mention_id

LABEL_FIELDS = ("lang", "relevant", "topics", "myths", "stance", "toxicity", "entities", "cluster_id")


@dataclass
class Timeline:
    mentions: list[Mention] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    enriched: int = 0


def _mention(obj: dict[str, Any]) -> Mention:
    data = dict(obj)
    data.setdefault("platform", "replay")
    data.setdefault("source", data["platform"])
    if not data.get("id"):
        data["id"] = mention_id(data["platform"], data.get("native_id"), data.get("url"))
    if not data.get("published_at"):
        raise ValueError("missing 'published_at'")
    if not data.get("collected_at"):
        data["collected_at"] = data["published_at"]
    return Mention.model_validate(data)


def unlabelled(obj: dict[str, Any]) -> bool:
    return all(obj.get(f) is None for f in LABEL_FIELDS)


def read_timeline(lines: Iterable[str], pipeline_factory: Callable[[], Any] | None = None) -> Timeline:
    """Parse JSONL mentions (bad lines reported, not fatal), enrich unlabelled ones, sort by clock."""
    timeline = Timeline()
    todo: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            m = _mention(obj)
        except (ValueError, ValidationError, KeyError) as exc:
            timeline.errors.append({"line": number, "error": str(exc).splitlines()[0]})
            continue
        if unlabelled(obj):
            todo.append(len(timeline.mentions))
        timeline.mentions.append(m)
    if todo:
        if pipeline_factory is None:
            from enrichers.registry import default_pipeline

            pipeline_factory = default_pipeline
        pipeline = pipeline_factory()
        for start in range(0, len(todo), 256):
            chunk = todo[start:start + 256]
            for i, enriched in zip(chunk, pipeline.run_many([timeline.mentions[i] for i in chunk]), strict=True):
                timeline.mentions[i] = enriched
        timeline.enriched = len(todo)
    timeline.mentions.sort(key=clock_of)
    return timeline


def read_timeline_file(path: Path, pipeline_factory: Callable[[], Any] | None = None) -> Timeline:
    with Path(path).open(encoding="utf-8") as fh:
        return read_timeline(fh, pipeline_factory)


def clock_of(m: Mention) -> datetime:
    return m.collected_at or m.published_at


def replay(engine: Engine, mentions: Iterable[Mention], *, until: datetime | None = None) -> Iterator[Output]:
    """Run mentions through the engine in order; then let the clock run to ``until`` if given."""
    for m in mentions:
        yield from engine.process(m, clock_of(m))
    if until is not None and engine.now is not None:
        # Time passes without mentions (a silent source is only noticed as the clock runs).
        t = engine.now
        while t < until.timestamp():
            t = min(t + 300.0, until.timestamp())
            yield from engine._advance(t)


def alerts_only(outputs: Iterable[Output]) -> Iterator[Alert]:
    return (o for o in outputs if isinstance(o, Alert))
