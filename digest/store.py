"""The digests index: one document per week (id = ``2026-W47``), the archive and the send record.

Sending is guarded by a claim written with optimistic concurrency, so two runs of the DAG (a
retry, a manual run, a second scheduler) cannot both send the same week:

* no document → ``create`` it with status ``sending`` (a 409 means another run got there first);
* ``sent`` → nothing to do, unless forced;
* ``sending`` claimed less than ``claim_minutes`` ago → another run is at it: refuse (DigestBusy);
* ``failed``, a stale ``sending`` (the run died), or ``sent`` + force → take it over with
  ``if_seq_no``/``if_primary_term``.

A run that died between the SMTP server accepting the message and the ``sent`` record would be
sent again after ``claim_minutes``: at least once, never silently lost. That repeat carries the
same Message-ID (``<digest.2026-W47.1@…>``), so a receiving system can drop it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from sada.errors import SadaError, TransientError
from sada.settings import Settings

log = logging.getLogger(__name__)

DIGESTS = "digests"
T = TypeVar("T")

MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "week": {"type": "keyword"},
        "week_start": {"type": "date"},
        "week_end": {"type": "date"},
        "status": {"type": "keyword"},
        "claimed_at": {"type": "date"},
        "sent_at": {"type": "date"},
        "generated_at": {"type": "date"},
        "attempts": {"type": "integer"},
        "sends_count": {"type": "integer"},
        "recipients": {"type": "keyword"},
        "subject": {"type": "text"},
        "message_id": {"type": "keyword"},
        "archive_path": {"type": "keyword"},
        "error": {"type": "text"},
        "summary": {"type": "object", "enabled": False},
        "sends": {"type": "object", "enabled": False},
        # html and text stay in _source only (the archive), never indexed.
    },
}


class DigestBusy(SadaError):
    """Another run is sending this week's digest right now."""

    code = "SADA701"


def _transient(call: Callable[[], T]) -> T:
    try:
        return call()
    except (ESConnectionError, ConnectionTimeout) as exc:
        raise TransientError(f"Elasticsearch unreachable: {exc}",
                             hint="start it with `sada up` or set SADA_ES_URL; the digest can be run again") from exc
    except ApiError as exc:
        if exc.meta.status == 429 or exc.meta.status >= 500:
            raise TransientError(f"Elasticsearch answered {exc.meta.status}") from exc
        raise


@dataclass
class Claim:
    """This run owns the week's send: the document as claimed, and its concurrency tokens."""

    week: str
    doc: dict[str, Any]
    seq_no: int
    primary_term: int

    @property
    def send_number(self) -> int:
        return int(self.doc.get("sends_count") or 0) + 1


class DigestStore:
    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.index = settings.index(DIGESTS)
        self.settings = settings

    def ensure_index(self) -> None:
        if _transient(lambda: self.es.indices.exists(index=self.index)):
            return
        try:
            _transient(lambda: self.es.indices.create(
                index=self.index, mappings=MAPPING,
                settings={"number_of_shards": 1, "number_of_replicas": self.settings.es_replicas}))
        except ApiError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise

    def get(self, week: str) -> tuple[dict[str, Any], int, int] | None:
        try:
            resp = _transient(lambda: self.es.get(index=self.index, id=week))
        except NotFoundError:
            return None
        return resp["_source"], resp["_seq_no"], resp["_primary_term"]

    def is_sent(self, week: str) -> bool:
        found = self.get(week)
        return found is not None and found[0].get("status") == "sent"

    def claim(self, week: str, base: dict[str, Any], *, now: datetime, stale_after: timedelta,
              force: bool = False) -> Claim | None:
        """Own the week's send, or None when it was already sent (and not forced)."""
        for _ in range(3):
            found = self.get(week)
            if found is None:
                doc = {**base, "week": week, "status": "sending", "claimed_at": now.isoformat(), "attempts": 1,
                       "sends_count": 0, "sends": []}
                try:
                    resp = _transient(lambda d=doc: self.es.index(index=self.index, id=week, document=d,
                                                                  op_type="create", refresh="wait_for"))
                except ConflictError:
                    continue  # another run created it meanwhile: look again
                return Claim(week, doc, resp["_seq_no"], resp["_primary_term"])
            doc, seq_no, term = found
            status = doc.get("status")
            if status == "sent" and not force:
                return None
            if status == "sending":
                claimed = datetime.fromisoformat(doc["claimed_at"])
                if now - claimed < stale_after:
                    raise DigestBusy(f"the digest of {week} is being sent by another run (claimed {doc['claimed_at']})",
                                     hint=f"wait {int(stale_after.total_seconds() // 60)} minutes, then run it again")
                log.warning("the previous send of %s never finished; sending again", week)
            doc = {**doc, **base, "status": "sending", "claimed_at": now.isoformat(),
                   "attempts": int(doc.get("attempts") or 0) + 1, "error": None}
            try:
                resp = _transient(lambda d=doc, s=seq_no, t=term: self.es.index(
                    index=self.index, id=week, document=d, if_seq_no=s, if_primary_term=t, refresh="wait_for"))
            except ConflictError:
                continue
            return Claim(week, doc, resp["_seq_no"], resp["_primary_term"])
        raise DigestBusy(f"the digest record of {week} keeps changing under this run", hint="run it again later")

    def _update(self, claim: Claim, doc: dict[str, Any]) -> None:
        try:
            resp = _transient(lambda: self.es.index(index=self.index, id=claim.week, document=doc,
                                                    if_seq_no=claim.seq_no, if_primary_term=claim.primary_term,
                                                    refresh="wait_for"))
        except ConflictError as exc:
            raise DigestBusy(f"another run took over the digest of {claim.week} while this one was sending",
                             hint="check the digests index before sending again") from exc
        claim.doc, claim.seq_no, claim.primary_term = doc, resp["_seq_no"], resp["_primary_term"]

    def mark_sent(self, claim: Claim, record: dict[str, Any], *, now: datetime | None = None) -> None:
        """Record the send (and the archive: HTML, text, headline figures)."""
        now = now or datetime.now(UTC)
        send = {"at": now.isoformat(), "message_id": record.get("message_id"), "recipients": record.get("recipients"),
                "forced": bool(record.get("forced"))}
        doc = {**claim.doc, **record, "status": "sent", "sent_at": now.isoformat(),
               "sends_count": claim.send_number, "sends": [*(claim.doc.get("sends") or []), send]}
        self._update(claim, doc)

    def mark_failed(self, claim: Claim, error: str, *, now: datetime | None = None) -> None:
        """Release the claim so a retry can send; keeps the error for whoever looks."""
        now = now or datetime.now(UTC)
        status = "sent" if claim.doc.get("sends_count") else "failed"  # a failed forced re-send keeps "sent"
        doc = {**claim.doc, "status": status, "error": error[:2000], "failed_at": now.isoformat()}
        try:
            self._update(claim, doc)
        except (DigestBusy, TransientError) as exc:
            log.warning("could not record the failure of the digest of %s: %s", claim.week, exc)
