"""News search feeds: Google News RSS search for each keyword set, Moroccan editions.

``<base>/rss/search?q=<query>&hl=fr&gl=MA&ceid=MA:fr`` returns an RSS feed of articles from
every outlet Google News indexes, including those without a feed of their own. Each item names
its outlet (``<source url=...>``), which becomes the mention's ``source``. An edition is a
channel: its cursor is the (published time, URL) of its last item produced.

Links are Google News redirect URLs: the same article read from an outlet's own feed has another
id. Downstream near-duplicate clustering groups them; we do not resolve redirects (one request
per article, to a third party).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from collectors.base import ChannelFailed, Event, Fetched, Mark, Source, after, channel_part, with_channel
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.keywords import Query
from collectors.news_feeds import ACCEPT, not_future, parse_feed
from sada.errors import SadaError
from sada.model import Kind, Platform, canonical_url

log = logging.getLogger(__name__)


class Edition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hl: str
    gl: str = "MA"
    ceid: str
    langs: list[str] = Field(min_length=1, description="keyword-set languages searched in this edition")


class NewsSearchOptions(SourceOptions):
    editions: list[Edition] = Field(default_factory=lambda: [
        Edition(hl="fr", ceid="MA:fr", langs=["fr", "und"]),
        Edition(hl="ar", ceid="MA:ar", langs=["ar", "ary", "arabizi", "und"]),
        Edition(hl="en", ceid="MA:en", langs=["en"]),
    ])
    window: str = Field("2d", pattern=r"^\d+[hd]$", description="Google News 'when:' operator")


class NewsSearchSource(Source):
    """Google News RSS search, one task per keyword set."""

    name = "news_search"
    platform = Platform.NEWS
    mode = "search"
    Options = NewsSearchOptions
    default_base_url = "https://news.google.com"

    def editions(self, query: Query) -> list[Edition]:
        return [e for e in self.options.editions if query.lang in e.langs]

    def supports(self, query: Query) -> bool:
        return bool(query.search) and bool(self.editions(query))

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        assert query is not None
        start = self.start(cursor)
        q = f"{query.search_or()} when:{self.options.window}"
        for edition in self.editions(query):
            params = {"q": q, "hl": edition.hl, "gl": edition.gl, "ceid": edition.ceid}
            try:
                _, entries = self.http.request("GET", self.url("rss/search"), params=params,
                                               headers={"Accept": ACCEPT}, what=f"news search {edition.ceid}",
                                               check=parse_feed)
            except SadaError as exc:
                yield ChannelFailed(edition.ceid, exc)
                continue
            mark = Mark.of(channel_part(cursor, edition.ceid), start)
            for entry, position in after(not_future(entries, self.now()), mark,
                                         key=lambda e: (e.published_at, canonical_url(e.url))):
                cursor = with_channel(cursor, edition.ceid, position.cursor())
                yield Fetched(self.mention(source=entry.outlet or "news.google.com", url=entry.url,
                                           title=entry.title, text=entry.text, kind=Kind.ARTICLE,
                                           published_at=entry.published_at), cursor)
