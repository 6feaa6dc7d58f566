"""Where each (source, query) stopped, and how much of a daily API quota is spent.

A cursor is a small JSON object only its source understands (a last id, a time and id, one
per channel...). The runner writes it **after** Kafka acknowledged every mention up to it, so
a crash between the two repeats some mentions (same ids: harmless downstream) but never skips
one.

``EsCursorStore`` keeps cursors in the Elasticsearch index ``<prefix>sada-cursors`` (doc id
``source:query``); ``MemoryCursorStore`` is the same contract for unit tests.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exc

from sada import es as sada_es
from sada.errors import ServiceError
from sada.settings import Settings

log = logging.getLogger(__name__)

Cursor = dict[str, Any]


@dataclass(frozen=True)
class CursorState:
    cursor: Cursor | None
    updated_at: datetime | None = None
    checked_at: datetime | None = None


class CursorStore(Protocol):
    """Durable cursors, one per (source, query)."""

    def get(self, source: str, query: str) -> CursorState: ...

    def put(self, source: str, query: str, cursor: Cursor | None, *, at: datetime,
            advanced: bool = True) -> None:
        """Save ``cursor``; ``advanced=False`` only records that the pair was checked at ``at``."""
        ...


class QuotaLedger(Protocol):
    """Units spent per (key, day); ``spend`` refuses what would go over the budget."""

    def spend(self, key: str, day: str, units: int, budget: int) -> bool: ...

    def spent(self, key: str, day: str) -> int: ...


class MemoryCursorStore:
    def __init__(self) -> None:
        self.data: dict[str, CursorState] = {}
        self.writes = 0

    def get(self, source: str, query: str) -> CursorState:
        return self.data.get(f"{source}:{query}", CursorState(None))

    def put(self, source: str, query: str, cursor: Cursor | None, *, at: datetime,
            advanced: bool = True) -> None:
        old = self.get(source, query)
        # A JSON round trip: what a durable store would give back, and no shared mutable dict.
        saved = json.loads(json.dumps(cursor)) if cursor is not None else None
        self.data[f"{source}:{query}"] = CursorState(saved if advanced else old.cursor,
                                                     at if advanced else old.updated_at, at)
        self.writes += 1


class MemoryQuotaLedger:
    def __init__(self) -> None:
        self.used: dict[tuple[str, str], int] = {}

    def spend(self, key: str, day: str, units: int, budget: int) -> bool:
        now = self.used.get((key, day), 0)
        if now + units > budget:
            return False
        self.used[(key, day)] = now + units
        return True

    def spent(self, key: str, day: str) -> int:
        return self.used.get((key, day), 0)


_CURSOR_MAPPING = {
    "dynamic": False,
    "properties": {
        "kind": {"type": "keyword"},
        "source": {"type": "keyword"},
        "query": {"type": "keyword"},
        "cursor_json": {"type": "keyword", "index": False, "doc_values": False},
        "updated_at": {"type": "date"},
        "checked_at": {"type": "date"},
        "day": {"type": "keyword"},
        "used": {"type": "long"},
    },
}


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class EsCursorStore:
    """Cursors (and quota counters) as documents of ``<prefix>sada-cursors``."""

    def __init__(self, settings: Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or sada_es.client(settings)
        self.index = settings.index("sada-cursors")
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        try:
            if not self.es.indices.exists(index=self.index):
                try:
                    self.es.indices.create(index=self.index, mappings=_CURSOR_MAPPING,
                                           settings={"number_of_shards": 1,
                                                     "number_of_replicas": self.settings.es_replicas})
                except es_exc.BadRequestError as exc:
                    if "resource_already_exists_exception" not in str(exc):
                        raise
            # a just-created index answers 503 until its shard is allocated
            self.es.cluster.health(index=self.index, wait_for_status="yellow", wait_for_active_shards="1",
                                  timeout="30s")
        except es_exc.ConnectionError as exc:
            raise ServiceError(f"cannot reach Elasticsearch at {self.settings.es_url} for cursors",
                               hint="start it with `sada up`; no cursor moved") from exc
        self._ready = True

    def get(self, source: str, query: str) -> CursorState:
        self._ensure()
        try:
            doc = self.es.options(ignore_status=404).get(index=self.index, id=f"{source}:{query}")
        except es_exc.ConnectionError as exc:
            raise ServiceError("cannot read the cursor from Elasticsearch", hint="start it with `sada up`") from exc
        if not doc.get("found"):
            return CursorState(None)
        body = doc["_source"]
        raw = body.get("cursor_json")
        return CursorState(json.loads(raw) if raw else None, _parse(body.get("updated_at")),
                           _parse(body.get("checked_at")))

    def put(self, source: str, query: str, cursor: Cursor | None, *, at: datetime,
            advanced: bool = True) -> None:
        self._ensure()
        doc: dict[str, Any] = {"kind": "cursor", "source": source, "query": query,
                               "checked_at": at.isoformat()}
        if advanced:
            doc["cursor_json"] = json.dumps(cursor, ensure_ascii=False) if cursor is not None else None
            doc["updated_at"] = at.isoformat()
        try:
            # Partial update: a "checked" write keeps the saved cursor as it is.
            self.es.update(index=self.index, id=f"{source}:{query}", doc=doc, doc_as_upsert=True,
                           refresh=False, retry_on_conflict=3)
        except es_exc.ConnectionError as exc:
            raise ServiceError("cannot save the cursor to Elasticsearch",
                               hint="the mentions were delivered; the next run repeats them (same ids)") from exc

    # -- the quota ledger --------------------------------------------------------------------

    def spend(self, key: str, day: str, units: int, budget: int) -> bool:
        """Add ``units`` to the day's counter unless that would exceed ``budget``; atomic.

        Optimistic concurrency (``if_seq_no``/``if_primary_term``) rather than a script:
        parallel tasks of the DAG never spend the same units twice, and Elasticsearch needs no
        scripting module (the local distribution has none).
        """
        self._ensure()
        if units > budget:
            return False
        doc_id = f"quota:{key}:{day}"
        for _ in range(50):
            current = self.es.options(ignore_status=404).get(index=self.index, id=doc_id)
            try:
                if not current.get("found"):
                    self.es.create(index=self.index, id=doc_id,
                                   document={"kind": "quota", "source": key, "day": day, "used": units})
                    return True
                used = int(current["_source"].get("used", 0))
                if used + units > budget:
                    return False
                self.es.index(index=self.index, id=doc_id, if_seq_no=current["_seq_no"],
                              if_primary_term=current["_primary_term"],
                              document={**current["_source"], "used": used + units})
                return True
            except es_exc.ConflictError:
                continue  # another task spent in between: read again
        raise ServiceError(f"could not update the {key} quota counter (too much contention)",
                           hint="nothing was spent; the run can be retried")

    def spent(self, key: str, day: str) -> int:
        self._ensure()
        doc = self.es.options(ignore_status=404).get(index=self.index, id=f"quota:{key}:{day}")
        return int(doc["_source"]["used"]) if doc.get("found") else 0


def quota_day(now: datetime, tz: str = "America/Los_Angeles") -> str:
    """The quota day of ``now``: Google resets YouTube quotas at midnight Pacific time."""
    return now.astimezone(ZoneInfo(tz)).date().isoformat()


def due(state: CursorState, interval_minutes: int, now: datetime) -> bool:
    """Has ``interval_minutes`` passed since this pair was last checked?"""
    if interval_minutes <= 0 or state.checked_at is None:
        return True
    return now - state.checked_at >= timedelta(minutes=interval_minutes) - timedelta(seconds=30)


def utc_now() -> datetime:
    return datetime.now(UTC)
