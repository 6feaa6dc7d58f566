"""YouTube Data API v3: videos matching the keyword sets, comments on the campaign's videos.

* ``youtube_search`` — ``search.list`` (type=video, order=date, publishedAfter=the cursor's
  time), one task per keyword set. Each call costs **100 quota units**: by default a keyword set
  is searched every 2 hours (``interval_minutes``), at most ``max_pages`` pages.
* ``youtube_comments`` — ``commentThreads.list`` (order=time) on the campaign's own videos
  (``video_ids``), 1 unit per call. Replies come with their thread (up to the five the API
  includes); a reply added later to an old thread is not read back.

Both count units against one daily budget (``daily_quota``, shared through the quota ledger,
reset at midnight Pacific time like Google's). When the budget is spent the run is ``skipped``
and resumes from its cursor the next day. The key travels in the ``X-Goog-Api-Key`` header,
never in a URL. Listings are newest first: each run reads back to its cursor, then yields
oldest first.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from pydantic import Field

from collectors.base import (
    ChannelFailed,
    Event,
    Fetched,
    Mark,
    Source,
    after,
    aware,
    channel_part,
    with_channel,
)
from collectors.config import SourceOptions
from collectors.cursors import Cursor, quota_day
from collectors.errors import QuotaExhausted
from collectors.keywords import Query
from sada.errors import SadaError
from sada.model import Kind, Metrics, Platform

log = logging.getLogger(__name__)

API = "https://www.googleapis.com/youtube/v3"
SEARCH_COST = 100
LIST_COST = 1


class YouTubeOptions(SourceOptions):
    daily_quota: int = Field(10_000, ge=1, description="units per day for every YouTube source together")


class YouTubeSearchOptions(YouTubeOptions):
    interval_minutes: int = 120
    max_pages: int = 2
    region_code: str = "MA"


class YouTubeCommentsOptions(YouTubeOptions):
    video_ids: list[str] = Field(default_factory=list, description="the campaign's own videos")


class _YouTube(Source):
    platform = Platform.YOUTUBE
    credentials = ("youtube_api_key",)
    default_base_url = API

    def _get(self, path: str, params: dict[str, Any], units: int, what: str) -> dict[str, Any]:
        day = quota_day(self.now())
        if not self.ctx.quota.spend("youtube", day, units, self.options.daily_quota):
            raise QuotaExhausted(f"YouTube daily quota of {self.options.daily_quota} units is spent ({day}, Pacific)",
                                 hint="the run resumes from its cursor when the quota resets")
        key = self.ctx.config.secret("youtube_api_key") or ""
        return self.http.get_json(self.url(path), params=params, headers={"X-Goog-Api-Key": key}, what=what)


class YouTubeSearchSource(_YouTube):
    name = "youtube_search"
    mode = "search"
    Options = YouTubeSearchOptions

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        assert query is not None
        mark = Mark.of(cursor, self.start(cursor))
        params: dict[str, Any] = {
            "part": "snippet", "type": "video", "order": "date", "maxResults": 50,
            "q": query.search_or(sep="|"),
            "publishedAfter": mark.t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "regionCode": self.options.region_code,
        }
        if query.lang in ("fr", "ar", "en"):
            params["relevanceLanguage"] = query.lang
        videos = []
        for page in range(self.options.max_pages):
            body = self._get("search", params, SEARCH_COST, f"youtube search {query.id}")
            for item in body.get("items", []):
                video_id = (item.get("id") or {}).get("videoId")
                snippet = item.get("snippet") or {}
                if video_id and snippet.get("publishedAt"):
                    videos.append((video_id, snippet))
            token = body.get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
            if page + 1 == self.options.max_pages:
                log.warning("youtube search %s: more than %d pages since the cursor; older videos are skipped",
                            query.id, self.options.max_pages)
        for (video_id, s), position in after(videos, mark, key=lambda v: (aware(v[1]["publishedAt"]), v[0])):
            published = aware(s["publishedAt"])
            yield Fetched(self.mention(
                source="youtube:search", native_id=video_id, url=f"https://www.youtube.com/watch?v={video_id}",
                title=html.unescape(s.get("title") or "") or None, text=html.unescape(s.get("description") or ""),
                kind=Kind.POST, published_at=published, author=self.author(s.get("channelId")),
            ), position.cursor())


class YouTubeCommentsSource(_YouTube):
    name = "youtube_comments"
    mode = "own"
    Options = YouTubeCommentsOptions

    def missing(self) -> list[str]:
        return super().missing() + ([] if self.options.video_ids else ["video_ids (data/sources/sources.yaml)"])

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        start = self.start(cursor)
        for video_id in self.options.video_ids:
            mark = Mark.of(channel_part(cursor, video_id), start)
            try:
                comments = self._read_back(video_id, mark)
            except QuotaExhausted:
                raise
            except SadaError as exc:
                yield ChannelFailed(video_id, exc)
                continue
            for c, position in after(comments, mark, key=lambda c: (c["published_at"], c["id"])):
                cursor = with_channel(cursor, video_id, position.cursor())
                yield Fetched(self._mention(video_id, c), cursor)

    def _read_back(self, video_id: str, mark: Mark) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"part": "snippet,replies", "videoId": video_id, "maxResults": 100,
                                  "order": "time", "textFormat": "plainText"}
        comments: list[dict[str, Any]] = []
        for _ in range(self.options.max_pages):
            body = self._get("commentThreads", params, LIST_COST, f"youtube comments {video_id}")
            reached = False
            for thread in body.get("items", []):
                top = (thread.get("snippet") or {}).get("topLevelComment") or {}
                parsed = _comment(top, Kind.COMMENT)
                if parsed is None:
                    continue
                comments.append(parsed)
                comments.extend(r for r in (_comment(c, Kind.REPLY) for c in (thread.get("replies") or {})
                                            .get("comments", [])) if r is not None)
                if not mark.is_new(parsed["published_at"], parsed["id"]):
                    reached = True
            token = body.get("nextPageToken")
            if reached or not token:
                break
            params["pageToken"] = token
        return comments

    def _mention(self, video_id: str, c: dict[str, Any]):
        return self.mention(
            source="youtube:comments", native_id=c["id"],
            url=f"https://www.youtube.com/watch?v={video_id}&lc={c['id']}", text=c["text"], kind=c["kind"],
            published_at=c["published_at"], author=self.author(c["author"]),
            metrics=Metrics(likes=max(0, c["likes"])))


def _comment(item: dict[str, Any], kind: Kind) -> dict[str, Any] | None:
    s = item.get("snippet") or {}
    if not item.get("id") or not s.get("publishedAt"):
        return None
    return {"id": item["id"], "kind": kind, "published_at": aware(s["publishedAt"]),
            "text": s.get("textOriginal") or s.get("textDisplay") or "",
            "author": (s.get("authorChannelId") or {}).get("value"), "likes": int(s.get("likeCount") or 0)}
