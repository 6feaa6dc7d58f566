"""Meta Graph API: what is addressed to the campaign's own Facebook Page and Instagram account.

Only content addressed to the campaign (Law 09-08: no crawling of people's profiles):

* ``facebook`` — comments (and replies) on the Page's posts of the last ``post_window_days``;
* ``instagram:comments`` — comments on the Instagram business account's media of that window;
* ``instagram:tags`` — public media in which the account is tagged (mentions).

A page access token (``SADA_META_PAGE_TOKEN``, sent in the Authorization header) and the ids
(``SADA_META_PAGE_ID`` / ``SADA_META_IG_USER_ID``, or ``page_id`` / ``ig_user_id`` in
sources.yaml) are needed; without an id, that part is skipped. Each part is a channel with its
own (time, id) cursor. Pages are followed with ``paging.cursors.after``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
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
from collectors.cursors import Cursor
from collectors.errors import BadResponse
from collectors.keywords import Query
from sada.errors import SadaError
from sada.model import Kind, Mention, Metrics, Platform

log = logging.getLogger(__name__)

GRAPH = "https://graph.facebook.com/v21.0"


class MetaOptions(SourceOptions):
    page_id: str | None = Field(None, description="the campaign's Facebook Page id (or SADA_META_PAGE_ID)")
    ig_user_id: str | None = Field(None, description="its Instagram business account id (or SADA_META_IG_USER_ID)")
    post_window_days: int = Field(14, ge=1, le=90, description="posts whose comments are read")


class MetaSource(Source):
    name = "meta"
    platform = Platform.FACEBOOK
    mode = "own"
    Options = MetaOptions
    credentials = ("meta_page_token",)
    default_base_url = GRAPH

    @property
    def page_id(self) -> str | None:
        return self.ctx.config.meta_page_id or self.options.page_id

    @property
    def ig_user_id(self) -> str | None:
        return self.ctx.config.meta_ig_user_id or self.options.ig_user_id

    def missing(self) -> list[str]:
        ids = [] if (self.page_id or self.ig_user_id) else ["SADA_META_PAGE_ID or SADA_META_IG_USER_ID"]
        return super().missing() + ids

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        start = self.start(cursor)
        streams = []
        if self.page_id:
            streams.append(("facebook", self._facebook_comments))
        if self.ig_user_id:
            streams += [("instagram:comments", self._instagram_comments), ("instagram:tags", self._instagram_tags)]
        for channel, read in streams:
            mark = Mark.of(channel_part(cursor, channel), start)
            try:
                items = read(mark)
            except SadaError as exc:
                yield ChannelFailed(channel, exc)
                continue
            except (KeyError, TypeError, ValueError) as exc:  # a field the API documents is missing
                yield ChannelFailed(channel, BadResponse(f"{channel}: unexpected Graph response ({exc!r})"))
                continue
            for item, position in after(items, mark, key=lambda m: (m.published_at, m.native_id or "")):
                cursor = with_channel(cursor, channel, position.cursor())
                yield Fetched(item, cursor)

    # -- Graph helpers -----------------------------------------------------------------------

    def _pages(self, path: str, params: dict[str, Any], what: str, stop=None) -> Iterator[dict[str, Any]]:
        """Every object of a Graph edge, page after page (``stop(obj)`` true ends the walk)."""
        params = dict(params)
        token = self.ctx.config.secret("meta_page_token") or ""
        for _ in range(self.options.max_pages):
            body = self.http.get_json(self.url(path), params=params, what=what,
                                      headers={"Authorization": f"Bearer {token}"})
            done = False
            for obj in body.get("data", []):
                yield obj
                if stop is not None and stop(obj):
                    done = True
            paging = body.get("paging") or {}
            after_token = (paging.get("cursors") or {}).get("after")
            if done or not paging.get("next") or not after_token:
                return
            params["after"] = after_token

    def _window_start(self) -> datetime:
        return self.now() - timedelta(days=self.options.post_window_days)

    def _facebook_comments(self, mark: Mark) -> list[Mention]:
        window = self._window_start()
        posts = list(self._pages(f"{self.page_id}/posts",
                                 {"fields": "id,created_time,permalink_url", "since": int(window.timestamp()),
                                  "limit": 100}, "facebook page posts"))
        fields = "id,message,created_time,permalink_url,from{id},like_count,comment_count,parent{id}"
        out = []
        for post in posts:
            for c in self._pages(f"{post['id']}/comments",
                                 {"fields": fields, "filter": "stream", "order": "reverse_chronological",
                                  "limit": 100}, "facebook comments",
                                 stop=lambda c: not mark.is_new(aware(c["created_time"]), c["id"])):
                out.append(self.mention(
                    source="facebook:page:campaign", native_id=c["id"],
                    url=c.get("permalink_url") or post.get("permalink_url"), text=c.get("message") or "",
                    kind=Kind.REPLY if c.get("parent") else Kind.COMMENT, published_at=aware(c["created_time"]),
                    author=self.author((c.get("from") or {}).get("id")),
                    metrics=Metrics(likes=int(c.get("like_count") or 0), comments=int(c.get("comment_count") or 0))))
        return out

    def _instagram_comments(self, mark: Mark) -> list[Mention]:
        window = self._window_start()
        media = [m for m in self._pages(f"{self.ig_user_id}/media", {"fields": "id,timestamp,permalink", "limit": 50},
                                        "instagram media", stop=lambda m: aware(m["timestamp"]) < window)
                 if aware(m["timestamp"]) >= window]
        out = []
        for m in media:
            for c in self._pages(f"{m['id']}/comments",
                                 {"fields": "id,text,timestamp,like_count,from{id},parent_id", "limit": 50},
                                 "instagram comments"):
                out.append(self.mention(
                    platform=Platform.INSTAGRAM, source="instagram:comments:campaign", native_id=c["id"],
                    url=m.get("permalink"), text=c.get("text") or "",
                    kind=Kind.REPLY if c.get("parent_id") else Kind.COMMENT, published_at=aware(c["timestamp"]),
                    author=self.author((c.get("from") or {}).get("id"), platform=Platform.INSTAGRAM),
                    metrics=Metrics(likes=int(c.get("like_count") or 0))))
        return out

    def _instagram_tags(self, mark: Mark) -> list[Mention]:
        fields = "id,caption,timestamp,permalink,username,like_count,comments_count"
        return [self.mention(
                    platform=Platform.INSTAGRAM, source="instagram:tags:campaign", native_id=m["id"],
                    url=m.get("permalink"), text=m.get("caption") or "", kind=Kind.POST,
                    published_at=aware(m["timestamp"]),
                    author=self.author(m.get("username"), platform=Platform.INSTAGRAM),
                    metrics=Metrics(likes=int(m.get("like_count") or 0), comments=int(m.get("comments_count") or 0)))
                for m in self._pages(f"{self.ig_user_id}/tags", {"fields": fields, "limit": 50}, "instagram tags",
                                     stop=lambda m: not mark.is_new(aware(m["timestamp"]), m["id"]))]
