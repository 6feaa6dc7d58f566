"""The source connector contract: fetch since a cursor → a stream of events.

A connector is one subclass of ``Source`` in its own module plus one line in
``collectors.registry.SOURCES``. ``fetch(query, cursor)`` yields, in order:

* ``Fetched(mention, cursor)`` — a mention, and the cursor that resumes right *after* it;
* ``Skip(reason, cursor)`` — an item that is not for us (a boost, a private post): the cursor
  moves past it, the run counts it as skipped;
* ``Unusable(reason, cursor)`` — an item that can never become a mention (no date, invalid
  line): the cursor moves past it, the run counts it as an error;
* ``ChannelFailed(channel, error)`` — one feed/channel/stream failed: its part of the cursor
  does not move, the other channels go on, and the run ends ``partial``.

The cursor of an event must cover everything yielded before it. Sources whose APIs list newest
first (X, YouTube, Reddit, Telegram) therefore read back to the cursor before yielding
anything, then yield oldest first: a failure halfway yields nothing rather than a gap.

Three modes decide how the DAG maps tasks (``Source.queries``):

* ``search`` — the platform searches for us: one task per keyword set (query);
* ``stream`` — we read everything (RSS feeds, Telegram channels, a replay file) and keep what
  any keyword set matches: one task, ``query = "all"``;
* ``own`` — content addressed to the campaign's own accounts (comments on its videos and
  posts): everything is kept, one task, ``query = "own"``.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from collectors.config import CollectorSettings, SourceOptions, base_url_override, env_name
from collectors.cursors import Cursor, MemoryQuotaLedger, QuotaLedger
from collectors.http import HttpClient, RetryPolicy
from collectors.keywords import Keywords, Query
from sada.errors import SadaError
from sada.model import Author, Mention, Platform, hash_author_id

Mode = Literal["search", "stream", "own"]
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched:
    mention: Mention
    cursor: Cursor


@dataclass(frozen=True)
class Unusable:
    reason: str
    cursor: Cursor


@dataclass(frozen=True)
class Skip:
    reason: str
    cursor: Cursor


@dataclass(frozen=True)
class ChannelFailed:
    channel: str
    error: SadaError


Event = Fetched | Skip | Unusable | ChannelFailed


@dataclass
class SourceContext:
    """What a source needs from outside: configuration, the salt, a clock, a quota ledger."""

    config: CollectorSettings
    keywords: Keywords
    salt: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    quota: QuotaLedger = field(default_factory=MemoryQuotaLedger)
    sleep: Callable[[float], None] | None = None

    def policy(self) -> RetryPolicy:
        options: dict[str, Any] = dict(max_attempts=self.config.collect_max_attempts,
                                       backoff=self.config.collect_backoff_seconds,
                                       max_retry_after=self.config.collect_max_retry_after)
        if self.sleep is not None:
            options["sleep"] = self.sleep
        return RetryPolicy(**options)


class Source(ABC):
    """A connector. Subclasses set the class attributes and implement ``fetch``."""

    name: ClassVar[str]
    platform: ClassVar[Platform]
    mode: ClassVar[Mode]
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    #: CollectorSettings fields that must be set (their env vars are SADA_<FIELD>).
    credentials: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = None

    def __init__(self, options: SourceOptions, ctx: SourceContext) -> None:
        self.options = options
        self.ctx = ctx
        self.base_url = (base_url_override(self.name) or options.base_url or self.default_base_url or "").rstrip("/")
        self.http = HttpClient(timeout=options.timeout_seconds, policy=ctx.policy())

    # -- what the planner and the runner ask -------------------------------------------------

    def missing(self) -> list[str]:
        """Why this source cannot run (env vars or options to set); empty when it can."""
        return [env_name(f) for f in self.credentials if not self.ctx.config.secret(f)]

    def supports(self, query: Query) -> bool:
        """Can this (search) source search for this keyword set?"""
        return bool(query.search)

    def queries(self) -> list[str]:
        """The query ids the DAG maps this source over."""
        if self.mode == "stream":
            return ["all"]
        if self.mode == "own":
            return ["own"]
        wanted = self.options.queries
        return [q.id for q in self.ctx.keywords.queries.values()
                if self.supports(q) and (wanted is None or q.id in wanted)]

    def moroccan(self, mention: Mention) -> bool:
        """Is the item Moroccan by where it comes from (a keyword rule may require it)?"""
        if self.mode == "own":
            return True
        hosts = [urlsplit(mention.url).hostname if mention.url else None, mention.source.split(":")[-1]]
        return any(self.ctx.keywords.is_moroccan_host(h) for h in hosts)

    @abstractmethod
    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        """Events since ``cursor`` (None: the first run, which looks ``lookback_hours`` back)."""

    # -- helpers for subclasses ----------------------------------------------------------------

    def now(self) -> datetime:
        return self.ctx.clock()

    def author(self, native_id: str | None, *, platform: Platform | None = None, **public: Any) -> Author:
        """The author with a pseudonymous id (Law 09-08); ``public`` only for organisations."""
        plat = (platform or self.platform).value
        hashed = hash_author_id(plat, str(native_id), self.ctx.salt) if native_id else None
        return Author(id=hashed, **public)

    def mention(self, *, platform: Platform | None = None, **fields: Any) -> Mention:
        return Mention.new(platform=(platform or self.platform).value, collected_at=self.now(), **fields)

    def start(self, cursor: Cursor | None) -> datetime:
        """Where a first run starts: the cursor's ``since`` (CLI ``--since``) or the lookback."""
        if cursor and cursor.get("since"):
            return aware(cursor["since"])
        return self.now() - timedelta(hours=self.options.lookback_hours)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


# -- cursors made of (time, id) ----------------------------------------------------------------


def aware(value: str | datetime) -> datetime:
    """A timezone-aware datetime from ISO 8601 (a trailing Z is UTC); naive input is refused."""
    if isinstance(value, datetime):
        when = value
    else:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return when


@dataclass(frozen=True)
class Mark:
    """A position in a time-ordered stream: the last time produced and the ids produced at it.

    An item is new when it is later than ``t``, or at ``t`` exactly with an id not yet seen:
    items sharing a timestamp (RSS dates to the minute) are neither lost nor repeated, in
    whatever order they arrive.
    """

    t: datetime
    ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, part: Cursor | None, since: datetime) -> Mark:
        """The mark saved in a cursor (part), or ``since`` for a first run."""
        if part and part.get("t"):
            ids = part.get("ids") or ([part["id"]] if part.get("id") else [])
            return cls(aware(part["t"]), frozenset(str(i) for i in ids))
        return cls(since)

    def is_new(self, t: datetime, item_id: str) -> bool:
        return t > self.t or (t == self.t and item_id not in self.ids)

    def then(self, t: datetime, item_id: str) -> Mark:
        """The mark right after an item (which must be new)."""
        return Mark(t, self.ids | {item_id}) if t == self.t else Mark(t, frozenset({item_id}))

    def cursor(self) -> Cursor:
        return {"t": self.t.astimezone(UTC).isoformat(), "ids": sorted(self.ids)}


def after(items: Iterable[T], mark: Mark, key: Callable[[T], tuple[datetime, str]]) -> list[tuple[T, Mark]]:
    """The items that are new after ``mark``, oldest first, each with the mark right after it."""
    out = []
    for item in sorted(items, key=key):
        t, item_id = key(item)
        if mark.is_new(t, item_id):
            mark = mark.then(t, item_id)
            out.append((item, mark))
    return out


def channel_part(cursor: Cursor | None, channel: str) -> Cursor | None:
    return ((cursor or {}).get("channels") or {}).get(channel)


def with_channel(cursor: Cursor | None, channel: str, part: Cursor) -> Cursor:
    """A copy of a multi-channel cursor with one channel moved."""
    out = copy.deepcopy(cursor) if cursor else {}
    out.setdefault("channels", {})[channel] = part
    return out


def html_to_text(html: str | None) -> str:
    """Visible text of an HTML fragment, paragraphs on their own lines."""
    if not html:
        return ""
    if "<" not in html:  # plain text (bs4 would also warn when it looks like a URL)
        return "\n".join(" ".join(line.split()) for line in unescape(html).splitlines() if line.strip())
    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li"]):
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)
