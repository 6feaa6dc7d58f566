"""Telegram public channels, through snscrape's ``TelegramChannelScraper`` (t.me/s/<channel>).

snscrape does the reading: it fetches the channel's public web preview, parses each message and
follows the "older messages" link. We subclass it for two things only: its requests go to
``base_url`` (``SADA_TELEGRAM_BASE_URL``; https://t.me by default), and they go through Sada's
retry policy (timeouts, backoff, 429 with Retry-After) instead of snscrape's fixed one.

The preview lists newest first, so a channel is read back to its cursor (the last message id
produced) before anything is yielded, then yielded oldest first. A first run reads
``lookback_hours`` back. Channels are public broadcasts: the channel name is kept as the
author's handle (it is also in ``source``); no subscriber data is read.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import Field

# snscrape 0.7 loads its modules with importlib's deprecated find_module(): silence that here,
# once, rather than in every test run and task log.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import snscrape.base
    from snscrape.modules.telegram import TelegramChannelScraper, TelegramPost

from collectors.base import ChannelFailed, Event, Fetched, Source, channel_part, with_channel
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.errors import BadResponse, RateLimited, SourceRejected, SourceUnavailable
from collectors.http import RETRY_STATUSES, RetryPolicy, redact, retry_after_seconds
from collectors.keywords import Query
from sada.errors import SadaError
from sada.model import Kind, Platform

log = logging.getLogger(__name__)

TELEGRAM = "https://t.me"


class SadaTelegramScraper(TelegramChannelScraper):
    """snscrape's scraper, with a configurable base URL and Sada's retry policy."""

    def __init__(self, channel: str, *, base_url: str, timeout: float, policy: RetryPolicy) -> None:
        super().__init__(channel, retries=0)  # retries are ours, below
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = policy
        self.requests_made = 0

    def _rewrite(self, url: str) -> str:
        """t.me URLs go to ``base_url``; so do snscrape's links to older pages, which it joins to
        the page's URL as absolute paths (dropping any path prefix of ``base_url``)."""
        if url.startswith(TELEGRAM):
            return self.base_url + url[len(TELEGRAM):]
        base = urlsplit(self.base_url)
        parts = urlsplit(url)
        if base.path and parts.netloc == base.netloc and not parts.path.startswith(base.path):
            return urlunsplit((parts.scheme, parts.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))
        return url

    def _request(self, method: str, url: str, *args: Any, **kwargs: Any):
        url = self._rewrite(url)
        kwargs["timeout"] = self.timeout
        where = redact(url)
        problem = "no attempt"
        for attempt in range(self.policy.max_attempts):
            wait = None
            try:
                self.requests_made += 1
                response = super()._request(method, url, *args, **kwargs)
            except snscrape.base.ScraperException:
                problem = "connection failed or timed out"
            else:
                if response.status_code not in RETRY_STATUSES:
                    if 400 <= response.status_code:
                        raise SourceRejected(f"telegram {where}: HTTP {response.status_code}",
                                             hint="is the channel name right, and the channel public?")
                    _fix_encoding(response)
                    return response
                problem = f"HTTP {response.status_code}"
                wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self.policy.max_retry_after:
                    raise RateLimited(f"telegram {where}: HTTP {response.status_code}, asked to wait {wait:.0f}s",
                                      retry_after=wait)
            log.warning("telegram %s: %s, attempt %d/%d", where, problem, attempt + 1, self.policy.max_attempts)
            if attempt + 1 < self.policy.max_attempts:
                self.policy.sleep(wait if wait is not None else self.policy.backoff_for(attempt))
        if problem == "HTTP 429":
            raise RateLimited(f"telegram {where}: still rate-limited after {self.policy.max_attempts} attempts")
        raise SourceUnavailable(f"telegram {where}: {problem} after {self.policy.max_attempts} attempts")


def _fix_encoding(response: requests.Response) -> None:
    """text/html without a charset is ISO-8859-1 to requests; t.me pages are UTF-8 (meta charset)."""
    if "charset" in response.headers.get("Content-Type", "").lower():
        return
    try:
        response.content.decode("utf-8")
        response.encoding = "utf-8"
    except UnicodeDecodeError:
        response.encoding = response.apparent_encoding


class TelegramOptions(SourceOptions):
    channels: list[str] = Field(default_factory=list, description="public channel names (t.me/s/<name>)")
    max_messages: int = Field(500, ge=1, description="messages read back per channel and run")


def _message_id(post: TelegramPost) -> int:
    return int(post.url.rstrip("/").rsplit("/", 1)[1])


class TelegramSource(Source):
    name = "telegram"
    platform = Platform.TELEGRAM
    mode = "stream"
    Options = TelegramOptions
    default_base_url = TELEGRAM

    def missing(self) -> list[str]:
        return [] if self.options.channels else ["channels (data/sources/sources.yaml)"]

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        start = self.start(cursor)
        for channel in self.options.channels:
            part = channel_part(cursor, channel)
            last_id = int(part["id"]) if part and part.get("id") is not None else None
            scraper = SadaTelegramScraper(channel, base_url=self.base_url, timeout=self.options.timeout_seconds,
                                          policy=self.ctx.policy())
            try:
                posts = self._read_back(scraper, channel, last_id, start)
            except SadaError as exc:
                yield ChannelFailed(channel, exc)
                continue
            except (snscrape.base.ScraperException, AttributeError, KeyError, TypeError, ValueError) as exc:
                # snscrape could not parse the page: HTML changed or truncated.
                yield ChannelFailed(channel, BadResponse(f"t.me/s/{channel}: unreadable page ({type(exc).__name__})"))
                continue
            finally:
                self.http.requests_made += scraper.requests_made
                scraper._session.close()
            for post in sorted(posts, key=_message_id):
                cursor = with_channel(cursor, channel, {"id": _message_id(post)})
                yield Fetched(self._mention(channel, post), cursor)

    def _read_back(self, scraper: SadaTelegramScraper, channel: str, last_id: int | None, start) -> list[TelegramPost]:
        posts = []
        for post in scraper.get_items():  # newest first, page after page
            if last_id is not None and _message_id(post) <= last_id:
                break
            if last_id is None and post.date < start:
                break
            posts.append(post)
            if len(posts) >= self.options.max_messages:
                log.warning("telegram %s: stopped after %d messages without reaching the cursor; older ones "
                            "are skipped (raise max_messages)", channel, len(posts))
                break
        return posts

    def _mention(self, channel: str, post: TelegramPost):
        mid = _message_id(post)
        preview = post.linkPreview
        return self.mention(
            source=f"telegram:{channel}", native_id=f"{channel}/{mid}", url=f"https://t.me/{channel}/{mid}",
            text=(post.content or "").strip(), title=(preview.title if preview else None),
            kind=Kind.MESSAGE, published_at=post.date, author=self.author(channel, handle=channel))
