"""Alert state in Elasticsearch: alert documents, the engine snapshot, and delivery records.

- ``sada-alerts``: one document per alert, id = alert id (``create``: a re-emitted alert never
  overwrites a status a person changed). Fields of the alerts index template at top level,
  everything else under ``details``; ``deliveries`` summarises each channel's outcome.
- ``sada-alert-state``: the engine snapshot (zlib-compressed JSON) and the input offsets it
  covers, written with optimistic concurrency so two alert consumers can never both advance it.
- ``sada-alert-deliveries``: one document per alert + channel (status, attempts, last error,
  next attempt): what makes notification idempotent and retries durable across restarts.

Connection failures, 429 and 5xx raise TransientError: the consumer retries without committing.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from alerts.model import Alert, Resolution
from sada.errors import SadaError, TransientError
from sada.settings import Settings

log = logging.getLogger(__name__)

# The alerts index and its template are the project's (sada.indices: index "alerts", template
# "sada-alerts"); the two others are this module's own.
ALERTS, STATE, DELIVERIES = "alerts", "sada-alert-state", "sada-alert-deliveries"
T = TypeVar("T")

ALERTS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "alert_id": {"type": "keyword"}, "rule": {"type": "keyword"}, "severity": {"type": "keyword"},
        "key": {"type": "keyword"}, "status": {"type": "keyword"}, "fired_at": {"type": "date"},
        "count": {"type": "long"}, "baseline": {"type": "double"}, "mention_ids": {"type": "keyword"},
        "summary": {"type": "text"}, "details": {"type": "object", "enabled": False},
        "deliveries": {"type": "flattened"},
    },
}
STATE_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {"saved_at": {"type": "date"}, "engine": {"type": "binary"}, "size": {"type": "long"},
                   "offsets": {"type": "object", "enabled": False}},
}
DELIVERIES_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "alert_id": {"type": "keyword"}, "channel": {"type": "keyword"}, "status": {"type": "keyword"},
        "attempts": {"type": "integer"}, "next_attempt_at": {"type": "date"}, "updated_at": {"type": "date"},
        "last_error": {"type": "text"}, "detail": {"type": "text"},
    },
}


class StateConflict(SadaError):
    """Another alert consumer wrote the engine state meanwhile: reload before going on."""

    code = "SADA610"


def _transient(call: Callable[[], T]) -> T:
    try:
        return call()
    except (ESConnectionError, ConnectionTimeout) as exc:
        raise TransientError(f"Elasticsearch unreachable: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status == 429 or exc.meta.status >= 500:
            raise TransientError(f"Elasticsearch answered {exc.meta.status}") from exc
        raise


def pack(snapshot: dict[str, Any]) -> str:
    raw = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def unpack(blob: str) -> dict[str, Any]:
    return json.loads(zlib.decompress(base64.b64decode(blob)).decode("utf-8"))


class AlertStore:
    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.settings = settings
        self.alerts = settings.index(ALERTS)
        self.state = settings.index(STATE)
        self.deliveries_index = settings.index(DELIVERIES)

    # -- setup ------------------------------------------------------------------------------

    def ensure_indices(self) -> None:
        """Create the three indices if missing (idempotent). The alerts index takes the project's
        index template (installed here if ``sada setup`` has not yet); the mapping above only
        stands in when that template is not available."""
        for name, mapping in ((self.alerts, ALERTS_MAPPING), (self.state, STATE_MAPPING),
                              (self.deliveries_index, DELIVERIES_MAPPING)):
            if _transient(lambda n=name: self.es.indices.exists(index=n)):
                continue
            body: dict[str, Any] = {"settings": {"number_of_shards": 1,
                                                 "number_of_replicas": self.settings.es_replicas}}
            if name == self.alerts and (self._template_for(name) or self._install_template()):
                body = {}
            else:
                body["mappings"] = mapping
            try:
                _transient(lambda n=name, b=body: self.es.indices.create(index=n, **b))
            except ApiError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise

    def _install_template(self) -> bool:
        try:
            from sada.indices import index_template
        except ImportError:
            return False
        _transient(lambda: self.es.indices.put_index_template(name=self.settings.index("sada-alerts"),
                                                              **index_template(self.settings, "alerts")))
        return True

    def _template_for(self, name: str) -> bool:
        try:
            simulated = self.es.indices.simulate_index_template(name=name)
        except ApiError:
            return False
        props = (simulated.get("template", {}).get("mappings", {}) or {}).get("properties", {})
        return "alert_id" in props

    # -- alerts -----------------------------------------------------------------------------

    def write(self, outputs: Iterable[Alert | Resolution]) -> None:
        """Create alert documents (never overwriting one) and mark resolved episodes."""
        ops: list[dict[str, Any]] = []
        for o in outputs:
            if isinstance(o, Alert):
                ops.append({"create": {"_index": self.alerts, "_id": o.alert_id}})
                ops.append(o.to_document())
            else:
                for alert_id in o.alert_ids:
                    ops.append({"update": {"_index": self.alerts, "_id": alert_id, "retry_on_conflict": 3}})
                    ops.append({"doc": {"status": "resolved", "details": {
                        "resolved_at": o.resolved_at.isoformat(), "resolution": o.reason}}})
        if not ops:
            return
        resp = _transient(lambda: self.es.bulk(operations=ops))
        retry = 0
        for item in resp["items"]:
            op, outcome = next(iter(item.items()))
            status = outcome.get("status", 500)
            if status < 300 or (op == "create" and status == 409) or (op == "update" and status == 404):
                continue
            if status == 429 or status >= 500:
                retry += 1
                continue
            raise SadaError(f"Elasticsearch refused an alert document: {status} {outcome.get('error')}")
        if retry:
            raise TransientError(f"{retry} alert documents refused for now")

    def get(self, alert_id: str) -> dict[str, Any] | None:
        try:
            return _transient(lambda: self.es.get(index=self.alerts, id=alert_id))["_source"]
        except NotFoundError:
            return None

    def set_status(self, alert_id: str, status: str, *, by: str, now: datetime | None = None) -> dict[str, Any]:
        """``acknowledged`` or ``resolved`` by a person; returns the updated document."""
        doc = self.get(alert_id)
        if doc is None:
            raise SadaError(f"no alert {alert_id!r} in {self.alerts}", hint="see `sada alerts list`")
        when = (now or datetime.now(UTC)).isoformat()
        details = {f"{status}_at": when, f"{status}_by": by}
        _transient(lambda: self.es.update(index=self.alerts, id=alert_id, doc={"status": status, "details": details},
                                          refresh="wait_for", retry_on_conflict=3))
        doc["status"] = status
        doc.setdefault("details", {}).update(details)
        return doc

    def statuses(self, alert_ids: list[str]) -> dict[str, str]:
        if not alert_ids:
            return {}
        resp = _transient(lambda: self.es.mget(index=self.alerts, ids=alert_ids, source_includes=["status"]))
        return {d["_id"]: d["_source"]["status"] for d in resp["docs"] if d.get("found")}

    def search(self, *, status: str | None = None, rule: str | None = None, since: datetime | None = None,
               size: int = 50) -> list[dict[str, Any]]:
        if not _transient(lambda: self.es.indices.exists(index=self.alerts)):
            return []
        filters: list[dict[str, Any]] = []
        if status:
            filters.append({"term": {"status": status}})
        if rule:
            filters.append({"term": {"rule": rule}})
        if since:
            filters.append({"range": {"fired_at": {"gte": since.isoformat()}}})
        resp = _transient(lambda: self.es.search(index=self.alerts, size=size, sort=[{"fired_at": "desc"}],
                                                 query={"bool": {"filter": filters}}))
        return [h["_source"] for h in resp["hits"]["hits"]]

    def similar(self, alert: Alert, window: float, size: int = 20) -> list[dict[str, Any]]:
        """Alerts of the same rule and key fired within ``window`` seconds of this one."""
        start = (alert.fired_at - timedelta(seconds=window)).isoformat()
        end = (alert.fired_at + timedelta(seconds=window)).isoformat()
        resp = _transient(lambda: self.es.search(index=self.alerts, size=size, query={"bool": {"filter": [
            {"term": {"rule": alert.rule}}, {"term": {"key": alert.key}},
            {"range": {"fired_at": {"gte": start, "lte": end}}}]}}))
        return [h["_source"] for h in resp["hits"]["hits"]]

    # -- engine state -----------------------------------------------------------------------

    def load_state(self, name: str) -> tuple[dict[str, Any], tuple[int, int]] | None:
        try:
            resp = _transient(lambda: self.es.get(index=self.state, id=name))
        except NotFoundError:
            return None
        return resp["_source"], (resp["_seq_no"], resp["_primary_term"])

    def save_state(self, name: str, doc: dict[str, Any], version: tuple[int, int] | None) -> tuple[int, int]:
        """Write the snapshot if nobody else did since ``version``; returns the new version."""
        try:
            if version is None:
                resp = _transient(lambda: self.es.index(index=self.state, id=name, document=doc, op_type="create"))
            else:
                resp = _transient(lambda: self.es.index(index=self.state, id=name, document=doc,
                                                        if_seq_no=version[0], if_primary_term=version[1]))
        except ConflictError as exc:
            raise StateConflict(f"the engine state {name!r} was written by another process",
                                hint="run a single alert consumer; this one reloads the state") from exc
        return resp["_seq_no"], resp["_primary_term"]

    # -- deliveries -------------------------------------------------------------------------

    @staticmethod
    def delivery_id(alert_id: str, channel: str) -> str:
        return f"{alert_id}:{channel}"

    def deliveries(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        if not keys:
            return {}
        ids = [self.delivery_id(a, c) for a, c in keys]
        resp = _transient(lambda: self.es.mget(index=self.deliveries_index, ids=ids))
        out = {}
        for key, doc in zip(keys, resp["docs"], strict=True):
            if doc.get("found"):
                out[key] = doc["_source"]
        return out

    def record_delivery(self, alert: Alert, channel: str, record: dict[str, Any]) -> None:
        """The channel's outcome, in the deliveries index and on the alert document."""
        doc = {"alert_id": alert.alert_id, "channel": channel, **record}
        _transient(lambda: self.es.index(index=self.deliveries_index, id=self.delivery_id(alert.alert_id, channel),
                                         document=doc))
        summary = {k: v for k, v in record.items() if k in ("status", "attempts", "last_error", "updated_at", "detail")}
        upsert = alert.to_document()
        upsert["deliveries"] = {channel: summary}
        _transient(lambda: self.es.update(index=self.alerts, id=alert.alert_id, doc={"deliveries": {channel: summary}},
                                          upsert=upsert, retry_on_conflict=3))

    def due_retries(self, now: datetime, size: int = 100) -> list[dict[str, Any]]:
        if not _transient(lambda: self.es.indices.exists(index=self.deliveries_index)):
            return []
        resp = _transient(lambda: self.es.search(
            index=self.deliveries_index, size=size, sort=[{"next_attempt_at": "asc"}],
            query={"bool": {"filter": [{"term": {"status": "retrying"}},
                                       {"range": {"next_attempt_at": {"lte": now.isoformat()}}}]}}))
        return [h["_source"] for h in resp["hits"]["hits"]]
