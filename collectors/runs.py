"""One record per collection run, so alerts can tell a broken collector from a calm day.

A calm day is ``status: ok`` with ``fetched: 0``; a broken collector is ``failed`` (or
``partial``: some channels failed) with the error; a source nobody configured is ``skipped``
with the reason (query ``*``); ``not_due`` means its interval has not elapsed (quota).
``EsRunRecorder`` writes the records to ``<prefix>sada-collector-runs``, one per task run:
``source`` (the collector), ``platform`` and ``mention_sources`` (the ``source`` values of the
mentions it produced, e.g. ``x:recent_search``, ``hespress.com``: what alert rules key on),
``query``, ``run_id``, ``status``, ``started_at``/``finished_at``/``duration_s``, the counts
``fetched``/``matched``/``produced``/``skipped``/``errors``/``requests`` and ``messages``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exc

from sada import es as sada_es
from sada.settings import Settings

log = logging.getLogger(__name__)

STATUSES = ("ok", "partial", "failed", "skipped", "not_due")


@dataclass
class RunSummary:
    """What one (source, query) run did."""

    source: str
    query: str
    started_at: datetime
    finished_at: datetime | None = None
    run_id: str | None = None
    platform: str | None = None
    #: the ``source`` fields of the mentions produced (what alert rules key on), at most 50
    mention_sources: list[str] = field(default_factory=list)
    status: str = "ok"
    fetched: int = 0
    matched: int = 0
    produced: int = 0
    skipped: int = 0
    errors: int = 0
    requests: int = 0
    messages: list[str] = field(default_factory=list)
    cursor_before: Any = None
    cursor_after: Any = None

    def note(self, message: str) -> None:
        if len(self.messages) < 20:
            self.messages.append(message[:500])

    def line(self) -> str:
        """The per-run summary line of the task log."""
        text = (f"{self.source} / {self.query}: {self.status} — fetched {self.fetched}, matched {self.matched}, "
                f"produced {self.produced}, skipped {self.skipped}, errors {self.errors}")
        return f"{text} ({self.messages[0]})" if self.messages and self.status != "ok" else text

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        for key in ("started_at", "finished_at"):
            doc[key] = doc[key].isoformat() if doc[key] else None
        doc.pop("cursor_before")
        doc.pop("cursor_after")
        doc["duration_s"] = ((self.finished_at - self.started_at).total_seconds()
                             if self.finished_at else None)
        return doc

    def doc_id(self) -> str:
        return f"{self.source}:{self.query}:{self.started_at.isoformat()}"


class RunRecorder(Protocol):
    def record(self, summary: RunSummary) -> None: ...


class MemoryRunRecorder:
    def __init__(self) -> None:
        self.runs: list[RunSummary] = []

    def record(self, summary: RunSummary) -> None:
        self.runs.append(summary)


_RUNS_MAPPING = {
    "dynamic": False,
    "properties": {
        "source": {"type": "keyword"},
        "query": {"type": "keyword"},
        "run_id": {"type": "keyword"},
        "platform": {"type": "keyword"},
        "mention_sources": {"type": "keyword"},
        "status": {"type": "keyword"},
        "started_at": {"type": "date"},
        "finished_at": {"type": "date"},
        "duration_s": {"type": "float"},
        "fetched": {"type": "integer"},
        "matched": {"type": "integer"},
        "produced": {"type": "integer"},
        "skipped": {"type": "integer"},
        "errors": {"type": "integer"},
        "requests": {"type": "integer"},
        "messages": {"type": "text"},
    },
}


class EsRunRecorder:
    """Run records in ``<prefix>sada-collector-runs``; a failure to record never fails a run."""

    def __init__(self, settings: Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or sada_es.client(settings)
        self.index = settings.index("sada-collector-runs")

    def _ensure(self) -> None:
        if self.es.indices.exists(index=self.index):
            return
        try:
            self.es.indices.create(index=self.index, mappings=_RUNS_MAPPING,
                                   settings={"number_of_shards": 1,
                                             "number_of_replicas": self.settings.es_replicas})
        except es_exc.BadRequestError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise
        self.es.cluster.health(index=self.index, wait_for_status="yellow", wait_for_active_shards="1",
                                  timeout="30s")

    def record(self, summary: RunSummary) -> None:
        try:
            self._ensure()
            self.es.index(index=self.index, id=summary.doc_id(), document=summary.to_doc())
        except (es_exc.ApiError, es_exc.TransportError) as exc:
            # The mentions and the cursor are what matter; the record is for monitoring.
            log.error("could not record the run of %s/%s in %s: %s", summary.source, summary.query,
                      self.index, type(exc).__name__)
