"""News sites' RSS/Atom feeds: the outlets of ``data/sources/feeds.yaml``.

Every feed is read whole and each entry newer than the feed's cursor is matched against every
keyword set (``stream`` mode). Bytes go to feedparser untouched, so a declared
``windows-1256`` or ``ISO-8859-1`` is honoured; a feed that does not parse (truncated, an HTML
error page) fails on its own — the other feeds go on.

The mention id comes from the article's canonical URL (tracking parameters and ``www.``
dropped), so the same article reached twice is one mention. A feed's cursor is the (published
time, URL) of its last entry produced.

``SADA_NEWS_FEEDS_BASE_URL`` (tests, a caching proxy) fetches ``https://host/path`` from
``<base>/host/path`` instead.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import feedparser
import requests
from pydantic import BaseModel, ConfigDict, Field

from collectors.base import (
    ChannelFailed,
    Event,
    Fetched,
    Mark,
    Source,
    after,
    channel_part,
    html_to_text,
    with_channel,
)
from collectors.config import SourceOptions, display, read_yaml, validate
from collectors.cursors import Cursor
from collectors.errors import BadResponse
from collectors.keywords import Query
from sada.errors import DataFileError, SadaError
from sada.model import Kind, Mention, Platform, canonical_url
from sada.settings import REPO_ROOT

log = logging.getLogger(__name__)

FEEDS_FILE = REPO_ROOT / "data" / "sources" / "feeds.yaml"
# feedparser flags these, yet the entries are fine: an HTTP charset that the XML prolog
# corrects (text/xml defaults to us-ascii), a feed served as text/html.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"


class FeedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outlet: str = Field(min_length=1, description="the outlet's host, e.g. hespress.com")
    url: str = Field(pattern=r"^https?://")
    lang: Literal["ar", "fr", "en", "es"]
    country: str = Field("MA", min_length=2, max_length=2)
    enabled: bool = True


class FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    feeds: list[FeedSpec] = Field(min_length=1)


def load_feeds(path: Path = FEEDS_FILE) -> list[FeedSpec]:
    """The enabled feeds of a feeds file, validated (errors name the file and the field)."""
    spec = validate(FeedsFile, read_yaml(path), path, "")
    seen: set[str] = set()
    for n, feed in enumerate(spec.feeds):
        if feed.url in seen:
            raise DataFileError(display(path), f"feeds[{n}].url", f"listed twice: {feed.url}")
        seen.add(feed.url)
    return [f for f in spec.feeds if f.enabled]


@dataclass(frozen=True)
class Entry:
    url: str
    title: str | None
    text: str
    published_at: datetime
    outlet: str | None = None  # an aggregator's <source url="...">: the outlet's host


def parse_feed(response: requests.Response) -> list[Entry]:
    """The entries of an RSS/Atom body; ``BadResponse`` if it is not a well-formed feed."""
    headers = {"content-type": response.headers.get("Content-Type", "application/xml")}
    parsed = feedparser.parse(response.content, response_headers=headers)
    if parsed.bozo and not isinstance(parsed.get("bozo_exception"), _BENIGN):
        raise BadResponse(f"malformed feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version"):
        raise BadResponse("not an RSS or Atom feed")
    entries = []
    for e in parsed.entries:
        when = e.get("published_parsed") or e.get("updated_parsed")
        link = e.get("link")
        if not when or not link:
            continue  # no date or no link: nothing to order or identify it by
        body = e.get("summary") or ""
        if e.get("content"):
            body = max((c.get("value", "") for c in e["content"]), key=len) or body
        outlet = urlsplit((e.get("source") or {}).get("href", "")).hostname
        entries.append(Entry(url=link.strip(), title=html.unescape(e.get("title", "")).strip() or None,
                             text=html_to_text(body), published_at=datetime(*when[:6], tzinfo=UTC),
                             outlet=outlet.removeprefix("www.") if outlet else None))
    return entries


def not_future(entries: list[Entry], now: datetime) -> list[Entry]:
    """Entries dated more than a few minutes ahead wait for their time (scheduled posts, a wrong
    time zone): produced now, they would carry the cursor into the future and hide the rest."""
    limit = now + timedelta(minutes=10)
    return [e for e in entries if e.published_at <= limit]


class NewsFeedsOptions(SourceOptions):
    feeds_file: str = Field("data/sources/feeds.yaml", description="the outlets' feeds, relative to the repo")


class NewsFeedsSource(Source):
    """RSS/Atom feeds of Moroccan outlets."""

    name = "news_feeds"
    platform = Platform.NEWS
    mode = "stream"
    Options = NewsFeedsOptions

    def __init__(self, options: NewsFeedsOptions, ctx) -> None:
        super().__init__(options, ctx)
        path = Path(options.feeds_file)
        self.feeds = load_feeds(path if path.is_absolute() else REPO_ROOT / path)
        self._moroccan_outlets = {f.outlet for f in self.feeds if f.country == "MA"}

    def missing(self) -> list[str]:
        return [] if self.feeds else ["an enabled feed in the feeds file"]

    def feed_url(self, url: str) -> str:
        if not self.base_url:
            return url
        parts = urlsplit(url)
        return f"{self.base_url}/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def moroccan(self, mention: Mention) -> bool:
        return mention.source in self._moroccan_outlets or super().moroccan(mention)

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        start = self.start(cursor)
        for feed in self.feeds:
            try:
                _, entries = self.http.get_bytes(self.feed_url(feed.url), headers={"Accept": ACCEPT},
                                                 what=f"feed {feed.outlet}", check=parse_feed)
            except SadaError as exc:
                yield ChannelFailed(feed.outlet, exc)
                continue
            mark = Mark.of(channel_part(cursor, feed.url), start)
            for entry, position in after(not_future(entries, self.now()), mark,
                                         key=lambda e: (e.published_at, canonical_url(e.url))):
                cursor = with_channel(cursor, feed.url, position.cursor())
                yield Fetched(self._mention(feed, entry), cursor)

    def _mention(self, feed: FeedSpec, entry: Entry) -> Mention:
        return self.mention(source=feed.outlet, url=entry.url, title=entry.title, text=entry.text,
                            kind=Kind.ARTICLE, published_at=entry.published_at)
