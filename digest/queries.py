"""What happened in a week, read from Elasticsearch: aggregations only, no scripting.

Only mentions labelled ``relevant: true`` count; the number of off-topic ones set aside is kept
so the digest can say so. Days are local days (``date_histogram`` with the people's time zone),
so a post at 23:30 UTC on Sunday belongs to Monday in Casablanca. Ties are broken the same way
every time (count, then key; reach, then engagement, then id), so a digest rebuilt from the
same data is the same digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from digest.week import IsoWeek
from sada import es as sada_es
from sada.errors import ServiceError, TransientError
from sada.settings import Settings

log = logging.getLogger(__name__)

TOXIC = ("insult", "hate", "threat", "defamation")
UNLABELLED = "unlabelled"
MENTION_FIELDS = ["id", "platform", "source", "url", "author", "text", "title", "lang", "published_at", "reach",
                  "engagement", "metrics", "stance", "toxicity", "topics", "myths", "cluster_id"]
T = TypeVar("T")


def _call(settings: Settings, what: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except (ESConnectionError, ConnectionTimeout) as exc:
        raise TransientError(f"cannot reach Elasticsearch at {settings.es_url} while reading {what}",
                             hint="start it with `sada up` or set SADA_ES_URL; the digest can be run again") from exc
    except NotFoundError:
        raise
    except ApiError as exc:
        if exc.meta.status == 429 or exc.meta.status >= 500:
            raise TransientError(f"Elasticsearch answered {exc.meta.status} while reading {what}") from exc
        raise ServiceError(f"Elasticsearch refused the query for {what}: {exc}") from exc


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


@dataclass
class ClusterWeek:
    """A rumor cluster as seen in one week's relevant mentions."""

    cluster_id: str
    mentions: int
    reach: int
    languages: dict[str, int]
    platforms: dict[str, int]
    myths: dict[str, int]
    stances: dict[str, int] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    doc: dict[str, Any] | None = None  # the clusters index document, when there is one

    @property
    def myth(self) -> str | None:
        return next(iter(self.myths), None)


@dataclass
class WeekFigures:
    """The aggregates of one week (only relevant mentions, except ``irrelevant``)."""

    week: IsoWeek
    volume: int = 0
    reach: int = 0
    engagement: int = 0
    irrelevant: int = 0
    toxic: int = 0
    toxic_kinds: dict[str, int] = field(default_factory=dict)
    toxic_platforms: dict[str, int] = field(default_factory=dict)
    platforms: dict[str, int] = field(default_factory=dict)
    platform_reach: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    stances: dict[str, int] = field(default_factory=dict)
    daily: dict[date, int] = field(default_factory=dict)
    daily_stances: dict[date, dict[str, int]] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    myths: dict[str, int] = field(default_factory=dict)
    myth_platforms: dict[str, dict[str, int]] = field(default_factory=dict)
    question_topics: dict[str, int] = field(default_factory=dict)
    clusters: list[ClusterWeek] = field(default_factory=list)


def _buckets(agg: dict[str, Any]) -> dict[str, int]:
    return {str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in agg.get("buckets", [])}


def week_query(settings: Settings, week: IsoWeek, *, relevant: bool | None = True,
               extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Mentions published in ``week`` (local time), relevant ones by default."""
    filters: list[dict[str, Any]] = [{"range": {"published_at": {"gte": _iso(week.start), "lt": _iso(week.end)}}}]
    if relevant is not None:
        filters.append({"term": {"relevant": relevant}})
    return {"bool": {"filter": filters + list(extra or [])}}


def _week_aggs(settings: Settings, week: IsoWeek, cluster_count: int) -> dict[str, Any]:
    start_ms = int(week.start.timestamp() * 1000)
    end_ms = int(week.end.timestamp() * 1000) - 1
    return {
        "reach": {"sum": {"field": "reach"}},
        "engagement": {"sum": {"field": "engagement"}},
        "platforms": {"terms": {"field": "platform", "size": 20},
                      "aggs": {"reach": {"sum": {"field": "reach"}}}},
        "languages": {"terms": {"field": "lang", "size": 20, "missing": UNLABELLED}},
        "stances": {"terms": {"field": "stance", "size": 10, "missing": UNLABELLED}},
        "toxic": {"filter": {"terms": {"toxicity": list(TOXIC)}},
                  "aggs": {"kinds": {"terms": {"field": "toxicity", "size": 10}},
                           "platforms": {"terms": {"field": "platform", "size": 20}}}},
        "daily": {"date_histogram": {"field": "published_at", "calendar_interval": "1d",
                                     "time_zone": settings.timezone, "format": "yyyy-MM-dd", "min_doc_count": 0,
                                     "extended_bounds": {"min": start_ms, "max": end_ms}},
                  "aggs": {"stances": {"terms": {"field": "stance", "size": 10, "missing": UNLABELLED}}}},
        "topics": {"terms": {"field": "topics", "size": 50}},
        "myths": {"terms": {"field": "myths", "size": 50},
                  "aggs": {"platforms": {"terms": {"field": "platform", "size": 20}}}},
        "questions": {"filter": {"term": {"stance": "question"}},
                      "aggs": {"topics": {"terms": {"field": "topics", "size": 50}}}},
        "clusters": {"terms": {"field": "cluster_id", "size": cluster_count, "min_doc_count": 2},
                     "aggs": {"reach": {"sum": {"field": "reach"}},
                              "languages": {"terms": {"field": "lang", "size": 10}},
                              "platforms": {"terms": {"field": "platform", "size": 20}},
                              "myths": {"terms": {"field": "myths", "size": 10}},
                              "stances": {"terms": {"field": "stance", "size": 10}},
                              "sample": {"top_hits": {"size": 1, "_source": MENTION_FIELDS,
                                                      "sort": [{"reach": "desc"}, {"engagement": "desc"},
                                                               {"id": "asc"}]}}}},
    }


def week_figures(settings: Settings, es: Elasticsearch, week: IsoWeek, *, clusters: int = 5) -> WeekFigures:
    """Every aggregate the digest shows for ``week``, in two requests."""
    alias = sada_es.mentions_alias(settings)
    resp = _call(settings, f"the mentions of {week}", lambda: es.search(
        index=alias, size=0, track_total_hits=True, query=week_query(settings, week),
        aggs=_week_aggs(settings, week, clusters), ignore_unavailable=True, allow_no_indices=True))
    other = _call(settings, f"the off-topic mentions of {week}", lambda: es.count(
        index=alias, query=week_query(settings, week, relevant=False), ignore_unavailable=True,
        allow_no_indices=True))
    aggs = resp.get("aggregations") or {}
    f = WeekFigures(week=week, volume=int(resp["hits"]["total"]["value"]), irrelevant=int(other["count"]))
    if not aggs:
        f.daily = {d: 0 for d in week.days()}
        return f
    f.reach = int(aggs["reach"]["value"] or 0)
    f.engagement = int(aggs["engagement"]["value"] or 0)
    f.platforms = _buckets(aggs["platforms"])
    f.platform_reach = {b["key"]: int(b["reach"]["value"] or 0) for b in aggs["platforms"]["buckets"]}
    f.languages = _buckets(aggs["languages"])
    f.stances = _buckets(aggs["stances"])
    f.toxic = int(aggs["toxic"]["doc_count"])
    f.toxic_kinds = _buckets(aggs["toxic"]["kinds"])
    f.toxic_platforms = _buckets(aggs["toxic"]["platforms"])
    days = set(week.days())
    for b in aggs["daily"]["buckets"]:
        day = date.fromisoformat(b["key_as_string"])
        if day in days:
            f.daily[day] = int(b["doc_count"])
            f.daily_stances[day] = _buckets(b["stances"])
    for day in week.days():
        f.daily.setdefault(day, 0)
        f.daily_stances.setdefault(day, {})
    f.daily = dict(sorted(f.daily.items()))
    f.topics = _buckets(aggs["topics"])
    f.myths = _buckets(aggs["myths"])
    f.myth_platforms = {b["key"]: _buckets(b["platforms"]) for b in aggs["myths"]["buckets"]}
    f.question_topics = _buckets(aggs["questions"]["topics"])
    for b in aggs["clusters"]["buckets"]:
        hits = b["sample"]["hits"]["hits"]
        f.clusters.append(ClusterWeek(
            cluster_id=str(b["key"]), mentions=int(b["doc_count"]), reach=int(b["reach"]["value"] or 0),
            languages=_buckets(b["languages"]), platforms=_buckets(b["platforms"]), myths=_buckets(b["myths"]),
            stances=_buckets(b["stances"]), sample=hits[0]["_source"] if hits else None))
    return f


def attach_cluster_docs(settings: Settings, es: Elasticsearch, clusters: list[ClusterWeek]) -> None:
    """Add the clusters index document (representative text, first seen, size) where there is one."""
    if not clusters:
        return
    index = settings.index("clusters")
    try:
        resp = _call(settings, "the rumor clusters", lambda: es.mget(
            index=index, ids=[c.cluster_id for c in clusters], source_excludes=["signature"]))
    except NotFoundError:  # no clusters index yet: the week's own figures still tell the story
        return
    docs = {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}
    for c in clusters:
        c.doc = docs.get(c.cluster_id)


def _hits(settings: Settings, es: Elasticsearch, what: str, query: dict[str, Any], sort: list[dict[str, str]],
          size: int) -> list[dict[str, Any]]:
    resp = _call(settings, what, lambda: es.search(
        index=sada_es.mentions_alias(settings), query=query, sort=sort, size=size, source=MENTION_FIELDS,
        ignore_unavailable=True, allow_no_indices=True, track_total_hits=False))
    return [h["_source"] for h in resp["hits"]["hits"]]


def top_mentions(settings: Settings, es: Elasticsearch, week: IsoWeek, size: int) -> list[dict[str, Any]]:
    """The relevant mentions of the week with the largest reach."""
    return _hits(settings, es, "the top mentions", week_query(settings, week),
                 [{"reach": "desc"}, {"engagement": "desc"}, {"id": "asc"}], size)


def top_questions(settings: Settings, es: Elasticsearch, week: IsoWeek, size: int) -> list[dict[str, Any]]:
    """The public's questions of the week (stance ``question``), most engaged first."""
    query = week_query(settings, week, extra=[{"term": {"stance": "question"}}])
    return _hits(settings, es, "the public's questions", query,
                 [{"engagement": "desc"}, {"reach": "desc"}, {"id": "asc"}], size)


def week_alerts(settings: Settings, es: Elasticsearch, week: IsoWeek, size: int = 200) -> list[dict[str, Any]]:
    """The alerts fired during the week, oldest first, with their current status."""
    index = settings.index("alerts")
    try:
        resp = _call(settings, "the alerts", lambda: es.search(
            index=index, size=size, sort=[{"fired_at": "asc"}, {"alert_id": "asc"}],
            query={"range": {"fired_at": {"gte": _iso(week.start), "lt": _iso(week.end)}}},
            source_excludes=["details.top_mentions", "details.signature", "deliveries"],
            ignore_unavailable=True, allow_no_indices=True))
    except NotFoundError:
        return []
    return [h["_source"] for h in resp["hits"]["hits"]]
