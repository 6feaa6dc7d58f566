"""Rumor clusters kept in Elasticsearch, so the clusterer survives restarts.

Two indices (names under the settings' ``index_prefix``):

``clusters``
    one document per cluster, document id = ``cluster_id``: size (distinct member mentions),
    first_seen / last_seen (event time), languages and per-language counts, platforms and
    per-platform counts, growth_per_hour (members in the last hour of event time), the
    representative text (the first member's, trimmed), a few member ids, and under
    ``signature`` (stored, not indexed) what the clusterer needs to rebuild its state: the
    exemplar signatures and the per-minute member counts of the last hour. Analysts search and
    chart this index in Kibana.
``cluster-members``
    one document per mention, document id = mention id: the cluster it joined and when (event
    time). A restarted clusterer reads the most recent ones back, so a mention redelivered by
    Kafka after the restart gets the same cluster and does not count twice.

Writes are bulk upserts by document id, so saving the same state twice is harmless; a
connection failure raises :class:`~sada.errors.TransientError` (the consumer retries the batch
without committing), a rejected document a :class:`~sada.errors.ServiceError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch import exceptions as es_exc

from enrichers.clusters import Membership
from sada import es as sada_es
from sada.errors import ServiceError, TransientError
from sada.settings import Settings

log = logging.getLogger(__name__)

PAGE = 1000

CLUSTERS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "cluster_id": {"type": "keyword"},
        "size": {"type": "integer"},
        "first_seen": {"type": "date"},
        "last_seen": {"type": "date"},
        "languages": {"type": "keyword"},
        "lang_counts": {"type": "object", "dynamic": True},
        "platforms": {"type": "keyword"},
        "platform_counts": {"type": "object", "dynamic": True},
        "growth_per_hour": {"type": "integer"},
        "representative": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
        "member_sample": {"type": "keyword"},
        "signature": {"type": "object", "enabled": False},
        "updated_at": {"type": "date"},
    },
}

MEMBERS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "mention_id": {"type": "keyword"},
        "cluster_id": {"type": "keyword"},
        "seen_at": {"type": "date"},
    },
}


def clusters_index(settings: Settings) -> str:
    return settings.index("clusters")


def members_index(settings: Settings) -> str:
    return settings.index("cluster-members")


class ElasticsearchClusterStore:
    """A :class:`enrichers.clusters.ClusterStore` on Elasticsearch (see the module docstring)."""

    def __init__(self, settings: Settings, es: Elasticsearch | None = None, *, create: bool = True,
                 refresh: bool | str = False) -> None:
        self.settings = settings
        self.es = es or sada_es.client(settings)
        self.clusters_index = clusters_index(settings)
        self.members_index = members_index(settings)
        self.refresh = refresh
        if create:
            self.ensure_indices()

    # -- setup ----------------------------------------------------------------------------------

    def ensure_indices(self) -> None:
        """Create both indices with their mappings when missing. Idempotent."""
        body = {"number_of_shards": 1, "number_of_replicas": self.settings.es_replicas}
        for name, mapping in ((self.clusters_index, CLUSTERS_MAPPING), (self.members_index, MEMBERS_MAPPING)):
            try:
                if not self.es.indices.exists(index=name):
                    self.es.indices.create(index=name, settings=body, mappings=mapping)
            except es_exc.BadRequestError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise ServiceError(f"cannot create index {name}: {exc}") from exc
            except (es_exc.ConnectionError, es_exc.ConnectionTimeout) as exc:
                raise TransientError(f"cannot reach Elasticsearch at {self.settings.es_url}",
                                     hint="start it with `sada up` or set SADA_ES_URL") from exc

    # -- ClusterStore ---------------------------------------------------------------------------

    def load_clusters(self, idle_days: float, limit: int) -> list[dict[str, Any]]:
        """Clusters whose last member is within ``idle_days`` of the newest cluster's, newest first."""
        self._refresh(self.clusters_index)
        newest = self._newest(self.clusters_index, "last_seen")
        if newest is None:
            return []
        horizon = newest - timedelta(days=idle_days)
        query = {"range": {"last_seen": {"gte": horizon.isoformat()}}}
        sort = [{"last_seen": "desc"}, {"cluster_id": "asc"}]
        return [hit["_source"] for hit in self._scan(self.clusters_index, query, sort, limit)]

    def load_memberships(self, limit: int) -> list[Membership]:
        """The ``limit`` most recent memberships, newest first."""
        self._refresh(self.members_index)
        sort = [{"seen_at": "desc"}, {"mention_id": "asc"}]
        out = []
        for hit in self._scan(self.members_index, {"match_all": {}}, sort, limit):
            src = hit["_source"]
            out.append(Membership(src["mention_id"], src["cluster_id"], _parse(src["seen_at"])))
        return out

    def save(self, clusters: Sequence[Mapping[str, Any]], memberships: Sequence[Membership]) -> None:
        """Bulk upsert: cluster documents by cluster id, memberships by mention id."""
        if not clusters and not memberships:
            return
        now = datetime.now(UTC).isoformat()
        actions: list[dict[str, Any]] = [
            {"_op_type": "index", "_index": self.clusters_index, "_id": doc["cluster_id"],
             "_source": {**doc, "updated_at": now}}
            for doc in clusters
        ]
        actions.extend(
            {"_op_type": "index", "_index": self.members_index, "_id": m.mention_id,
             "_source": {"mention_id": m.mention_id, "cluster_id": m.cluster_id, "seen_at": m.seen_at.isoformat()}}
            for m in memberships
        )
        try:
            ok, errors = helpers.bulk(self.es, actions, chunk_size=500, max_retries=3, initial_backoff=1,
                                      raise_on_error=False, refresh=self.refresh)
        except (es_exc.ConnectionError, es_exc.ConnectionTimeout) as exc:
            raise TransientError("Elasticsearch unavailable while saving rumor clusters",
                                 hint="the batch will be retried") from exc
        if errors:
            first = errors[0]
            raise ServiceError(f"Elasticsearch rejected {len(errors)} of {len(actions)} cluster documents, "
                               f"first: {first}", hint="check the clusters index mapping")
        log.info("rumor clusters saved: %d clusters, %d memberships", len(clusters), len(memberships))

    # -- helpers ------------------------------------------------------------------------------------

    def _refresh(self, index: str) -> None:
        try:
            self.es.indices.refresh(index=index, ignore_unavailable=True)
        except es_exc.NotFoundError:
            pass
        except (es_exc.ConnectionError, es_exc.ConnectionTimeout) as exc:
            raise TransientError(f"cannot reach Elasticsearch at {self.settings.es_url}") from exc

    def _newest(self, index: str, fieldname: str) -> datetime | None:
        try:
            resp = self.es.search(index=index, size=1, sort=[{fieldname: "desc"}], source=[fieldname],
                                  ignore_unavailable=True)
        except es_exc.NotFoundError:
            return None
        hits = resp["hits"]["hits"]
        return _parse(hits[0]["_source"][fieldname]) if hits else None

    def _scan(self, index: str, query: Mapping[str, Any], sort: list[dict[str, str]], limit: int) -> Iterator[dict]:
        """Hits in ``sort`` order, paged with search_after, at most ``limit``."""
        after: list[Any] | None = None
        seen = 0
        while seen < limit:
            size = min(PAGE, limit - seen)
            try:
                resp = self.es.search(index=index, query=query, sort=sort, size=size, search_after=after,
                                      ignore_unavailable=True, track_total_hits=False)
            except es_exc.NotFoundError:
                return
            except (es_exc.ConnectionError, es_exc.ConnectionTimeout) as exc:
                raise TransientError(f"cannot reach Elasticsearch at {self.settings.es_url}") from exc
            hits = resp["hits"]["hits"]
            if not hits:
                return
            yield from hits
            seen += len(hits)
            after = hits[-1]["sort"]
            if len(hits) < size:
                return

    def delete_indices(self) -> None:
        """Remove both indices (tests, or a reset of the campaign's rumor history)."""
        self.es.indices.delete(index=[self.clusters_index, self.members_index], ignore_unavailable=True)


def _parse(value: str) -> datetime:
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)
