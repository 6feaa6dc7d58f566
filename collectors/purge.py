"""Retention of raw text (Law 09-08): after N days only the labels stay.

``purge_raw_text`` empties ``text`` and ``title`` and drops the author's ``handle`` and
``name`` of every mention published more than ``older_than_days`` ago, in every index behind
the ``mentions`` alias. Ids, URLs, dates, metrics, the hashed author id and every enrichment
label (language, topics, myths, stance, toxicity, entities, cluster) are kept, so counts,
trends and the weekly digest still work on old periods.

The default retention is ``SADA_TEXT_RETENTION_DAYS`` (180 days: "about 6 months", our
proposal in DOMAIN.md §6, not a legal figure). The DAG ``purge_raw_text`` runs it daily;
``sada collect purge --older-than-days N`` runs it by hand.

No script and no ingest pipeline (the local Elasticsearch has no scripting module): old
mentions are scrolled, and those still holding text get a partial update guarded by their
sequence number, so a document re-indexed meanwhile is not clobbered (it is purged on the
next run). Already purged mentions are left alone: running it twice changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch import exceptions as es_exc

from sada import es as sada_es
from sada.errors import ServiceError
from sada.settings import Settings

log = logging.getLogger(__name__)

FIELDS = ["text", "title", "author.handle", "author.name"]


def _holds_text(source: dict[str, Any]) -> bool:
    author = source.get("author") or {}
    return bool(source.get("text") or source.get("title") or author.get("handle") or author.get("name"))


def purge_raw_text(settings: Settings, *, older_than_days: int, now: datetime | None = None,
                   es: Elasticsearch | None = None, dry_run: bool = False, chunk: int = 500) -> dict[str, Any]:
    """Empty the raw text of mentions published before ``now - older_than_days``."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=older_than_days)
    own = es is None
    es = es or sada_es.client(settings)
    alias = sada_es.mentions_alias(settings)
    report: dict[str, Any] = {"index": alias, "cutoff": cutoff.isoformat(), "matched": 0, "purged": 0,
                              "unchanged": 0, "conflicts": 0}
    query = {"range": {"published_at": {"lt": cutoff.isoformat()}}}
    try:
        if not es.indices.exists(index=alias):
            return report
        actions = []
        for hit in helpers.scan(es, index=alias, query={"query": query, "_source": FIELDS,
                                                          "seq_no_primary_term": True}, size=chunk):
            report["matched"] += 1
            if not _holds_text(hit.get("_source") or {}):
                report["unchanged"] += 1
                continue
            actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"],
                            "if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"],
                            "doc": {"text": "", "title": None, "author": {"handle": None, "name": None},
                                    "text_purged_at": now.isoformat()}})
        if dry_run:
            report.update(dry_run=True, would_purge=len(actions))
            return report
        for ok, item in helpers.streaming_bulk(es, actions, chunk_size=chunk, raise_on_error=False,
                                               raise_on_exception=False, refresh="wait_for"):
            if ok:
                report["purged"] += 1
            elif (item.get("update") or {}).get("status") == 409:
                report["conflicts"] += 1  # re-indexed meanwhile: purged on the next run
            else:
                report.setdefault("failures", 0)
                report["failures"] += 1
                log.error("purge: could not update %s: %s", (item.get("update") or {}).get("_id"),
                          (item.get("update") or {}).get("error"))
    except es_exc.ConnectionError as exc:
        raise ServiceError(f"cannot reach Elasticsearch at {settings.es_url}",
                           hint="start it with `sada up`; nothing more was purged") from exc
    finally:
        if own:
            es.close()
    log.info("purge: raw text of %d mentions published before %s removed (%d already purged, %d conflicts)",
             report["purged"], cutoff.date(), report["unchanged"], report["conflicts"])
    return report
