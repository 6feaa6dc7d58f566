"""Mastodon hashtag timelines of one instance (``SADA_MASTODON_BASE_URL``).

``GET /api/v1/timelines/tag/<hashtag>?min_id=<cursor>`` returns the statuses *immediately
after* ``min_id``, so a run pages forward, oldest page first, each page yielded oldest first:
a failure on page 3 keeps pages 1 and 2, and the next run resumes exactly after them. Each
hashtag of a keyword set is a channel with its own cursor (the last status id). Boosts and
non-public statuses are left out; a status found under two hashtags is produced once per run
(same id). ``SADA_MASTODON_TOKEN`` is sent when the instance requires one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from collectors.base import (
    ChannelFailed,
    Event,
    Fetched,
    Skip,
    Source,
    aware,
    channel_part,
    html_to_text,
    with_channel,
)
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.errors import BadResponse
from collectors.keywords import Query
from sada.errors import SadaError
from sada.model import Kind, Metrics, Platform

log = logging.getLogger(__name__)

PAGE = 40


class MastodonOptions(SourceOptions):
    max_pages: int = 10


class MastodonSource(Source):
    name = "mastodon"
    platform = Platform.MASTODON
    mode = "search"
    Options = MastodonOptions
    credentials = ("mastodon_base_url",)  # SADA_MASTODON_BASE_URL is also the base URL override

    def __init__(self, options: MastodonOptions, ctx) -> None:
        super().__init__(options, ctx)
        # SADA_MASTODON_BASE_URL is both this source's credential and its base URL.
        self.base_url = (ctx.config.mastodon_base_url or self.base_url).rstrip("/")

    def supports(self, query: Query) -> bool:
        return bool(query.hashtags)

    @property
    def instance(self) -> str:
        return urlsplit(self.base_url).hostname or "mastodon"

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        assert query is not None
        start = self.start(cursor)
        headers = {}
        token = self.ctx.config.secret("mastodon_token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for tag in query.hashtags:
            part = channel_part(cursor, tag)
            min_id = part.get("min_id") if part else None
            try:
                for page in range(self.options.max_pages):
                    params: dict[str, Any] = {"limit": PAGE}
                    if min_id:
                        params["min_id"] = min_id
                    statuses = self.http.get_json(self.url(f"api/v1/timelines/tag/{quote(tag, safe='')}"),
                                                  params=params, headers=headers, what=f"mastodon #{tag}",
                                                  expect=list)
                    batch = sorted((s for s in statuses if isinstance(s, dict) and s.get("id")),
                                   key=lambda s: int(s["id"]))
                    if min_id is None:  # first run: the newest page, within the lookback
                        batch = [s for s in batch if aware(s["created_at"]) >= start]
                    else:  # the API's min_id is exclusive; an instance that ignores it repeats nothing
                        batch = [s for s in batch if int(s["id"]) > int(min_id)]
                    for status in batch:
                        min_id = status["id"]
                        cursor = with_channel(cursor, tag, {"min_id": min_id})
                        if status.get("reblog") or status.get("visibility") not in ("public", None):
                            yield Skip("boost or not public", cursor)
                        else:
                            yield Fetched(self._mention(status), cursor)
                    if len(statuses) < PAGE or not batch or part is None and page == 0:
                        break
            except SadaError as exc:
                yield ChannelFailed(f"#{tag}", exc)
            except (KeyError, TypeError, ValueError) as exc:
                yield ChannelFailed(f"#{tag}", BadResponse(f"mastodon #{tag}: unexpected status ({exc!r})"))

    def _mention(self, status: dict[str, Any]):
        account = status.get("account") or {}
        acct = account.get("acct")
        if acct and "@" not in acct:
            acct = f"{acct}@{self.instance}"
        return self.mention(
            source=f"mastodon:{self.instance}", native_id=status.get("uri") or status["id"],
            url=status.get("url") or status.get("uri"), text=html_to_text(status.get("content")),
            kind=Kind.REPLY if status.get("in_reply_to_id") else Kind.POST,
            published_at=aware(status["created_at"]), author=self.author(acct),
            metrics=Metrics(likes=int(status.get("favourites_count") or 0),
                            shares=int(status.get("reblogs_count") or 0),
                            comments=int(status.get("replies_count") or 0)))
