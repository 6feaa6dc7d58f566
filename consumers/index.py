"""Consumer ``index``: mentions.enriched → Elasticsearch, document id = mention id.

Each batch is written in chunks (at most ``CHUNK_DOCS`` documents or ``CHUNK_BYTES`` bytes per
bulk request), one request at a time, by a sender thread: while Elasticsearch indexes a chunk,
the run loop polls and decodes the next batch (the batch is committed only once its chunks are
written, see ``BatchResult.pending``). Documents are serialized once, by pydantic
(``document_json``), so the sender thread holds the GIL for little more than the socket.
Documents Elasticsearch refuses *for now* (429, 5xx on an item) are re-sent alone
a few times with a short backoff; if some are still refused, or Elasticsearch is unreachable or
answers 429/5xx/401/403 to the whole request, a TransientError makes the run loop rewind and
retry the batch later with its own capped backoff, committing nothing. Re-sending is safe: every
write indexes by mention id. Documents Elasticsearch rejects *for good* (mapping conflicts,
immense terms) become dead letters carrying Elasticsearch's reason.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from consumers.runloop import BatchResult, DeadLetter, decode_mention
from sada import es as sada_es
from sada.errors import PoisonMessage, TransientError
from sada.model import Mention
from sada.search import spelling_variants
from sada.settings import Settings

log = logging.getLogger(__name__)

CHUNK_DOCS = 500
CHUNK_BYTES = 8 * 1024 * 1024
ITEM_RETRIES = 3
ITEM_BACKOFF_S = 0.2
# Only what the outcome needs: parsing the full bulk answer costs as much as building the request.
_BULK_FILTER = "took,errors,items.*.status,items.*.error"


def _extras(mention: Mention, now: datetime) -> dict[str, Any]:
    m = mention.metrics
    extras: dict[str, Any] = {"reach": mention.author.followers or 0,
                              "engagement": m.likes + m.shares + m.comments,
                              "indexed_at": now.isoformat()}
    variants = spelling_variants(mention.title, mention.text)
    if variants:
        extras["text_variants"] = variants
    return extras


def to_document(mention: Mention, now: datetime) -> dict[str, Any]:
    """The Elasticsearch document: the mention plus the derived figures dashboards sort by.

    ``text_variants`` (extra spellings for search, see ``sada.search``) is indexed but not
    kept in ``_source``.
    """
    doc = mention.model_dump(mode="json")
    doc.update(_extras(mention, now))
    return doc


_MENTION_JSON = Mention.__pydantic_serializer__


def document_json(mention: Mention, now: datetime) -> bytes:
    """``to_document`` already serialized, as the bulk request carries it.

    pydantic's serializer writes the mention in Rust; only the few derived fields go through
    ``json``. This halves the consumer's CPU per document compared with building a dict that
    the client then serializes again (bench/index_throughput.py).
    """
    body = _MENTION_JSON.to_json(mention)
    extras = json.dumps(_extras(mention, now), ensure_ascii=False, separators=(",", ":")).encode()
    # Both are JSON objects: splice the extras into the mention's braces.
    return body[:-1] + b"," + extras[1:]


@dataclass(frozen=True)
class BulkItem:
    index: str
    id: str
    doc: dict[str, Any] | bytes  # bytes: already serialized (``document_json``)


def _reason(status: int, error: dict[str, Any]) -> str:
    text = f"{status} {error.get('type', '?')}: {error.get('reason', '')}"
    cause = error.get("caused_by") or {}
    if cause.get("reason"):
        text += f" (caused by {cause.get('type', '?')}: {cause['reason']})"
    return text[:1000]


def _send(es, items: Sequence[BulkItem]) -> list[dict[str, Any]]:
    """One bulk request; returns one outcome per item. A request too large is split in two."""
    ops: list[dict[str, Any] | bytes] = []
    for item in items:
        ops.append(json.dumps({"index": {"_index": item.index, "_id": item.id}}).encode())
        ops.append(item.doc)
    try:
        resp = es.bulk(operations=ops, filter_path=_BULK_FILTER)
    except (ESConnectionError, ConnectionTimeout) as exc:
        raise TransientError(f"Elasticsearch unreachable: {exc}") from exc
    except ApiError as exc:
        status = exc.meta.status
        if status == 413 and len(items) > 1:
            half = len(items) // 2
            return _send(es, items[:half]) + _send(es, items[half:])
        if status == 429 or status >= 500:
            raise TransientError(f"Elasticsearch answered {status} to a bulk request") from exc
        if status in (401, 403):
            # A credentials or privileges problem: dead-lettering the stream would lose nothing
            # less than everything, so wait for the operator instead.
            raise TransientError(f"Elasticsearch refused the bulk request ({status})",
                                 hint="check SADA_ES_USERNAME/SADA_ES_PASSWORD or SADA_ES_API_KEY "
                                      "and the writer role") from exc
        raise
    outcomes = [next(iter(entry.values())) for entry in resp.get("items", [])]
    if len(outcomes) != len(items):
        raise TransientError(f"bulk answer has {len(outcomes)} items for {len(items)} documents")
    return outcomes


def bulk_index(es, items: Sequence[BulkItem], *, retries: int = ITEM_RETRIES,
               sleep: Callable[[float], None] = time.sleep) -> dict[int, str]:
    """Index ``items``; return ``{position: reason}`` for the documents rejected for good.

    Items refused for now (429/5xx) are re-sent alone, up to ``retries`` times with a doubling
    backoff; raises TransientError if some are still refused, or if Elasticsearch cannot take
    the request at all.
    """
    rejected: dict[int, str] = {}
    pending = list(range(len(items)))
    delay = ITEM_BACKOFF_S
    for attempt in range(retries + 1):
        outcomes = _send(es, [items[i] for i in pending])
        refused = []
        for pos, outcome in zip(pending, outcomes, strict=True):
            status = outcome.get("status", 500)
            if status < 300:
                continue
            if status == 429 or status >= 500:
                refused.append(pos)
            else:
                rejected[pos] = _reason(status, outcome.get("error") or {})
        if not refused:
            return rejected
        pending = refused
        if attempt < retries:
            sleep(delay)
            delay *= 2
    raise TransientError(f"{len(pending)} documents still refused for now (429/5xx) after {retries} retries")


def _wait_all(writes: list[Future[list[DeadLetter]]]) -> list[DeadLetter]:
    """Every chunk's dead letters, after every chunk ended; the first failure is raised then."""
    dead: list[DeadLetter] = []
    failure: BaseException | None = None
    for fut in writes:
        try:
            dead.extend(fut.result())
        except BaseException as exc:  # noqa: BLE001 - re-raised below, once all have ended
            failure = failure or exc
    if failure is not None:
        raise failure
    return dead


def _decode(record: ConsumerRecord, max_text_chars: int) -> Mention:
    """pydantic's own JSON parser on the happy path; anything odd goes through ``decode_mention``
    so a poison message gets the same reason code as in every other consumer."""
    if record.value is not None:
        try:
            mention = Mention.model_validate_json(record.value)
        except (ValidationError, ValueError):
            pass
        else:
            if len(mention.text) <= max_text_chars:
                return mention
    return decode_mention(record, max_text_chars)


class IndexHandler:
    name = "index"
    input_topic = "mentions.enriched"
    group = "index"

    def __init__(self, settings: Settings, es=None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.es = es
        self.sleep = sleep
        self._pool: ThreadPoolExecutor | None = None

    def setup(self) -> None:
        if self.es is None:
            self.es = sada_es.client(self.settings, max_retries=0)
        try:
            sada_es.ensure_templates(self.settings, self.es)
        except Exception as exc:  # noqa: BLE001 - ES may be down at start; writes will retry
            log.warning("could not install index templates yet", extra={"error": str(exc)[:200]})

    def handle(self, records: list[ConsumerRecord]) -> BatchResult:
        """Decode the batch and hand its chunks to the sender thread, which writes them one
        bulk request at a time, in order; ``pending`` waits for them (see ``RunLoop``)."""
        result = BatchResult()
        now = datetime.now(UTC)
        chunk: list[tuple[ConsumerRecord, BulkItem]] = []
        size = 0
        writes: list[Future[list[DeadLetter]]] = []
        sender = self._sender()
        for record in records:
            try:
                mention = _decode(record, self.settings.max_text_chars)
            except PoisonMessage as exc:
                result.dead.append(DeadLetter(record, exc.reason, str(exc)))
                continue
            index = sada_es.mentions_index_for(self.settings, mention.event_time())
            chunk.append((record, BulkItem(index, mention.id, document_json(mention, now))))
            size += len(record.value or b"")
            if len(chunk) >= CHUNK_DOCS or size >= CHUNK_BYTES:
                writes.append(sender.submit(self._write, chunk))
                chunk, size = [], 0
        if chunk:
            writes.append(sender.submit(self._write, chunk))
        if writes:
            result.pending = partial(_wait_all, writes)
        return result

    def _sender(self) -> ThreadPoolExecutor:
        # One thread, so one bulk request at a time and in order: on a single shard more requests
        # in flight gain nothing. What the thread buys is overlap: Elasticsearch indexes one
        # chunk while this process polls and decodes the next (bench/index_throughput.py).
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sada-{self.name}-bulk")
        return self._pool

    def _write(self, chunk: list[tuple[ConsumerRecord, BulkItem]]) -> list[DeadLetter]:
        rejected = bulk_index(self.es, [item for _, item in chunk], sleep=self.sleep)
        return [DeadLetter(chunk[pos][0], "es_rejected", reason) for pos, reason in sorted(rejected.items())]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.es is not None:
            self.es.close()


def make_handler(settings: Settings) -> IndexHandler:
    """The handler ``sada consume index`` runs (see ``sada.cli.CONSUMERS``)."""
    return IndexHandler(settings)
