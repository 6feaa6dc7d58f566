"""Reddit search through its OAuth API, in r/Morocco and related subreddits.

An application-only token (client-credentials grant with ``SADA_REDDIT_CLIENT_ID`` /
``SADA_REDDIT_CLIENT_SECRET``) is fetched at the start of each run from ``auth_url``
(``SADA_REDDIT_AUTH_URL`` overrides it). Then
``GET /r/Morocco+Maroc+.../search?q=...&restrict_sr=1&sort=new`` lists matching posts newest
first; a run follows ``after`` back to its cursor (the (time, fullname) of the last post
produced), then yields oldest first. Reddit asks for a descriptive User-Agent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from collectors.base import Event, Fetched, Mark, Source, after
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.errors import BadResponse
from collectors.keywords import Query
from sada.model import Kind, Metrics, Platform

log = logging.getLogger(__name__)

API = "https://oauth.reddit.com"
AUTH = "https://www.reddit.com/api/v1/access_token"


class RedditOptions(SourceOptions):
    subreddits: list[str] = Field(default_factory=lambda: ["Morocco", "Maroc"], min_length=1)
    auth_url: str = AUTH
    user_agent: str = "linux:sada-collector:0.1 (social listening for the Law 43.22 campaign)"
    max_pages: int = 5


class RedditSource(Source):
    name = "reddit"
    platform = Platform.REDDIT
    mode = "search"
    Options = RedditOptions
    credentials = ("reddit_client_id", "reddit_client_secret")
    default_base_url = API

    def _token(self) -> str:
        auth_url = os.environ.get("SADA_REDDIT_AUTH_URL") or self.options.auth_url
        body = self.http.post_json(auth_url, data={"grant_type": "client_credentials"},
                                   auth=(self.ctx.config.secret("reddit_client_id") or "",
                                         self.ctx.config.secret("reddit_client_secret") or ""),
                                   headers={"User-Agent": self.options.user_agent}, what="reddit token")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise BadResponse("reddit token: no access_token in the response")
        return token

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        assert query is not None
        mark = Mark.of(cursor, self.start(cursor))
        headers = {"Authorization": f"bearer {self._token()}", "User-Agent": self.options.user_agent}
        path = f"r/{'+'.join(self.options.subreddits)}/search"
        params: dict[str, Any] = {"q": query.search_or(), "restrict_sr": 1, "sort": "new", "t": "week",
                                  "limit": 100, "raw_json": 1, "type": "link"}
        posts = []
        for _ in range(self.options.max_pages):
            body = self.http.get_json(self.url(path), params=params, headers=headers, what=f"reddit search {query.id}")
            data = body.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("children"), list):
                raise BadResponse("reddit search: not a listing")
            reached = False
            for child in data["children"]:
                post = child.get("data") or {}
                if not post.get("name") or post.get("created_utc") is None:
                    continue
                when = datetime.fromtimestamp(float(post["created_utc"]), UTC)
                posts.append((when, post))
                if not mark.is_new(when, post["name"]):
                    reached = True
            if reached or not data.get("after"):
                break
            params["after"] = data["after"]
        for (when, post), position in after(posts, mark, key=lambda p: (p[0], p[1]["name"])):
            yield Fetched(self._mention(when, post), position.cursor())

    def _mention(self, when: datetime, post: dict[str, Any]):
        return self.mention(
            source=f"reddit:r/{post.get('subreddit', 'unknown')}", native_id=post["name"],
            url=f"https://www.reddit.com{post.get('permalink', '')}" if post.get("permalink") else post.get("url"),
            title=post.get("title") or None, text=post.get("selftext") or "", kind=Kind.POST, published_at=when,
            author=self.author(post.get("author_fullname")),
            metrics=Metrics(likes=max(0, int(post.get("score") or 0)), comments=int(post.get("num_comments") or 0)))
