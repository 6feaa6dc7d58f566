"""X API v2 recent search (last 7 days), one task per keyword set.

``GET /2/tweets/search/recent`` with the app's bearer token (``SADA_X_BEARER_TOKEN``). The
query is the keyword set's phrases and hashtags joined with OR, without retweets. The cursor
is the newest post id produced, sent back as ``since_id`` (exclusive): the next run starts
right after it. Results come newest first and are paged with ``next_token``; a run reads every
page back to the cursor before yielding, oldest first. A 429 carries ``x-rate-limit-reset``,
which the HTTP layer honours like a Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

from pydantic import Field

from collectors.base import Event, Fetched, Source, aware
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.errors import BadResponse
from collectors.keywords import Query
from sada.model import Kind, Metrics, Platform

log = logging.getLogger(__name__)

API = "https://api.x.com/2"
FIELDS = "created_at,author_id,public_metrics,lang,in_reply_to_user_id,referenced_tweets"


class XOptions(SourceOptions):
    max_query_length: int = Field(512, ge=64, le=4096, description="the API plan's query length limit")
    max_pages: int = 5


class XSource(Source):
    name = "x"
    platform = Platform.X
    mode = "search"
    Options = XOptions
    credentials = ("x_bearer_token",)
    default_base_url = API

    def search_query(self, query: Query) -> str:
        return f"({query.search_or(hashtags=True)}) -is:retweet"

    def supports(self, query: Query) -> bool:
        if not (query.search or query.hashtags):
            return False
        if len(self.search_query(query)) > self.options.max_query_length:
            log.warning("x: keyword set %s is longer than %d characters once joined; it is not searched "
                        "(shorten its `search` list)", query.id, self.options.max_query_length)
            return False
        return True

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        assert query is not None
        params: dict[str, Any] = {"query": self.search_query(query), "max_results": 100, "tweet.fields": FIELDS}
        if cursor and cursor.get("since_id"):
            params["since_id"] = cursor["since_id"]
        else:
            # recent search reaches 7 days back; start_time must be a little in the past
            earliest = self.now() - timedelta(days=7) + timedelta(minutes=1)
            params["start_time"] = max(self.start(cursor), earliest).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        token = self.ctx.config.secret("x_bearer_token") or ""
        posts: dict[str, dict[str, Any]] = {}
        for page in range(self.options.max_pages):
            body = self.http.get_json(self.url("tweets/search/recent"), params=params,
                                      headers={"Authorization": f"Bearer {token}"}, what=f"x search {query.id}")
            for post in body.get("data") or []:
                if not isinstance(post, dict) or not post.get("id") or not post.get("created_at"):
                    raise BadResponse("x search: a post without id or created_at")
                posts[post["id"]] = post
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["next_token"] = next_token
            if page + 1 == self.options.max_pages:
                log.warning("x search %s: more than %d pages since the cursor; older posts are skipped",
                            query.id, self.options.max_pages)
        since_id = int(params.get("since_id") or 0)  # exclusive at the API; checked here too
        for post in sorted((p for p in posts.values() if int(p["id"]) > since_id), key=lambda p: int(p["id"])):
            yield Fetched(self._mention(post), {"since_id": post["id"]})

    def _mention(self, post: dict[str, Any]):
        m = post.get("public_metrics") or {}
        replied = post.get("in_reply_to_user_id") or any(
            r.get("type") == "replied_to" for r in post.get("referenced_tweets") or [])
        return self.mention(
            source="x:recent_search", native_id=post["id"], url=f"https://x.com/i/web/status/{post['id']}",
            text=post.get("text") or "", kind=Kind.REPLY if replied else Kind.POST,
            published_at=aware(post["created_at"]), author=self.author(post.get("author_id")),
            metrics=Metrics(likes=int(m.get("like_count") or 0),
                            shares=int(m.get("retweet_count") or 0) + int(m.get("quote_count") or 0),
                            comments=int(m.get("reply_count") or 0),
                            views=m.get("impression_count")))
