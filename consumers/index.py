"""Consumer ``index``: mentions.enriched → Elasticsearch, document id = mention id.

Transient failures (connection refused, 429, 5xx) raise TransientError so the run loop
rewinds and retries the batch without committing; documents Elasticsearch rejects for good
(mapping errors) become dead letters carrying Elasticsearch's reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError
from kafka.consumer.fetcher import ConsumerRecord

from consumers.runloop import BatchResult, DeadLetter, decode_mention
from sada import es as sada_es
from sada.errors import PoisonMessage, TransientError
from sada.model import Mention
from sada.settings import Settings

log = logging.getLogger(__name__)

CHUNK_DOCS = 500
CHUNK_BYTES = 8 * 1024 * 1024


def to_document(mention: Mention, now: datetime) -> dict[str, Any]:
    """The Elasticsearch document: the mention plus the derived figures dashboards sort by."""
    doc = mention.model_dump(mode="json")
    m = mention.metrics
    doc["reach"] = mention.author.followers or 0
    doc["engagement"] = m.likes + m.shares + m.comments
    doc["indexed_at"] = now.isoformat()
    return doc


class IndexHandler:
    name = "index"
    input_topic = "mentions.enriched"
    group = "index"

    def __init__(self, settings: Settings, es=None) -> None:
        self.settings = settings
        self.es = es

    def setup(self) -> None:
        if self.es is None:
            self.es = sada_es.client(self.settings, max_retries=0)
        try:
            sada_es.ensure_templates(self.settings, self.es)
        except Exception as exc:  # noqa: BLE001 - ES may be down at start; writes will retry
            log.warning("could not install index templates yet", extra={"error": str(exc)[:200]})

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        result = BatchResult()
        pending: list[tuple[ConsumerRecord, Mention]] = []
        for record in records:
            try:
                pending.append((record, decode_mention(record, self.settings.max_text_chars)))
            except PoisonMessage as exc:
                result.dead.append(DeadLetter(record, exc.reason, str(exc)))
        now = datetime.now(UTC)
        chunk: list[tuple[ConsumerRecord, Mention, dict]] = []
        size = 0
        for record, mention in pending:
            doc = to_document(mention, now)
            chunk.append((record, mention, doc))
            size += len(record.value or b"")
            if len(chunk) >= CHUNK_DOCS or size >= CHUNK_BYTES:
                result.dead.extend(self._bulk(chunk))
                chunk, size = [], 0
        if chunk:
            result.dead.extend(self._bulk(chunk))
        return result

    def _bulk(self, chunk: list[tuple[ConsumerRecord, Mention, dict]]) -> list[DeadLetter]:
        ops: list[dict[str, Any]] = []
        for _, mention, doc in chunk:
            ops.append({"index": {"_index": sada_es.mentions_index_for(self.settings, mention.event_time()),
                                  "_id": mention.id}})
            ops.append(doc)
        try:
            resp = self.es.bulk(operations=ops)
        except (ESConnectionError, ConnectionTimeout) as exc:
            raise TransientError(f"Elasticsearch unreachable: {exc}") from exc
        except ApiError as exc:
            if exc.meta.status == 429 or exc.meta.status >= 500:
                raise TransientError(f"Elasticsearch answered {exc.meta.status}") from exc
            raise
        dead: list[DeadLetter] = []
        retry = 0
        for (record, _, _), item in zip(chunk, resp["items"], strict=True):
            outcome = item.get("index", {})
            status = outcome.get("status", 500)
            if status < 300:
                continue
            if status == 429 or status >= 500:
                retry += 1
                continue
            err = outcome.get("error", {})
            dead.append(DeadLetter(record, "es_rejected",
                                   f"{status} {err.get('type', '?')}: {err.get('reason', '')}"[:1000]))
        if retry:
            # Re-sending the whole chunk is safe: every write is an idempotent index by id.
            raise TransientError(f"{retry} documents refused for now (429/5xx)")
        log.debug("bulk indexed", extra={"docs": len(chunk), "rejected": len(dead), "took_ms": resp.get("took")})
        return dead

    def close(self) -> None:
        if self.es is not None:
            self.es.close()


def make_handler(settings: Settings) -> IndexHandler:
    return IndexHandler(settings)
