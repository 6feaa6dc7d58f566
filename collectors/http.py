"""HTTP for the connectors: a timeout on every request, retries with backoff, 429 honoured.

One policy for every source:

* connection errors, timeouts, truncated bodies and 5xx are retried with exponential backoff
  (with jitter, capped), ``max_attempts`` in all;
* 429 (and 503) wait what the server asks — ``Retry-After`` in seconds or as an HTTP date, or
  X's ``x-rate-limit-reset`` epoch — unless that is longer than ``max_retry_after``: then the
  run stops with ``RateLimited`` and Airflow retries later, instead of blocking a worker;
* other 4xx raise ``SourceRejected`` at once (a wrong token does not improve with retries);
* a body that is not the JSON it should be is retried (it may be truncated without a
  Content-Length), then raises ``BadResponse``.

Logs name the host and path only: query strings can carry keys, and headers carry tokens.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors.errors import BadResponse, RateLimited, SourceRejected, SourceUnavailable

log = logging.getLogger(__name__)

USER_AGENT = "sada-collector/0.1 (social listening for the Law 43.22 awareness campaign)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def redact(url: str) -> str:
    """The URL without its query string or credentials: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` or ``x-rate-limit-reset``."""
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    reset = headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - (now or datetime.now(UTC)).timestamp())
    return None


@dataclass
class RetryPolicy:
    """How long to wait before each retry, and when to give up."""

    max_attempts: int = 4
    backoff: float = 2.0
    max_backoff: float = 60.0
    max_retry_after: float = 300.0
    jitter: float = 0.2
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff_for(self, retry: int) -> float:
        """Exponential backoff for the ``retry``-th retry (0-based), with proportional jitter."""
        base = min(self.max_backoff, self.backoff * (2 ** retry))
        return base * (1 + self.jitter * random.random()) if self.jitter else base


class HttpClient:
    """``requests`` with Sada's timeouts and retry policy; one per source run."""

    def __init__(self, *, timeout: float = 20.0, connect_timeout: float = 5.0,
                 policy: RetryPolicy | None = None, session: requests.Session | None = None,
                 user_agent: str = USER_AGENT) -> None:
        self.timeout = (connect_timeout, timeout)
        self.policy = policy or RetryPolicy()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.requests_made = 0

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, data: Any = None,
                auth: Any = None, what: str = "request",
                check: Callable[[requests.Response], Any] | None = None) -> tuple[requests.Response, Any]:
        """Send with retries; return the response and ``check(response)``'s result.

        ``check`` parses the body (JSON, a feed...) and raises ``BadResponse`` when it is not
        what the API documents: that attempt then counts as failed and is retried.
        """
        policy = self.policy
        where = redact(url)
        last_problem, last_kind = "no attempt made", "transport"
        for attempt in range(policy.max_attempts):
            wait: float | None = None
            try:
                self.requests_made += 1
                response = self.session.request(method, url, params=params, headers=headers, data=data,
                                                auth=auth, timeout=self.timeout)
            except _TRANSPORT_ERRORS as exc:
                last_problem, last_kind = type(exc).__name__, "transport"
                log.warning("%s to %s failed (%s), attempt %d/%d", what, where, last_problem,
                            attempt + 1, policy.max_attempts)
            else:
                status = response.status_code
                if status in RETRY_STATUSES:
                    asked = retry_after_seconds(response.headers)
                    last_problem, last_kind = f"HTTP {status}", "status"
                    if asked is not None:
                        if asked > policy.max_retry_after:
                            raise RateLimited(
                                f"{what} to {where}: HTTP {status}, the server asks to wait {asked:.0f}s",
                                retry_after=asked,
                                hint="the run stops here and resumes from its cursor at the next retry")
                        wait = asked
                    log.warning("%s to %s: HTTP %d, attempt %d/%d%s", what, where, status, attempt + 1,
                                policy.max_attempts, f", Retry-After {asked:.0f}s" if asked is not None else "")
                elif status >= 400:
                    raise SourceRejected(
                        f"{what} to {where}: HTTP {status} {response.reason or ''}".rstrip(),
                        hint="check the token and the source's configuration (data/sources/sources.yaml)")
                else:
                    if check is None:
                        return response, None
                    try:
                        return response, check(response)
                    except BadResponse as exc:
                        last_problem, last_kind = (exc.args[0] if exc.args else "unusable body"), "body"
                        log.warning("%s to %s: unusable body (%s), attempt %d/%d", what, where, last_problem,
                                    attempt + 1, policy.max_attempts)
            if attempt + 1 < policy.max_attempts:
                policy.sleep(wait if wait is not None else policy.backoff_for(attempt))
        if last_problem == "HTTP 429":
            raise RateLimited(f"{what} to {where}: still rate-limited after {policy.max_attempts} attempts",
                              hint="the run resumes from its cursor at the next retry")
        if last_kind != "body":
            raise SourceUnavailable(f"{what} to {where}: {last_problem} after {policy.max_attempts} attempts",
                                    hint="Airflow retries with backoff; nothing past the cursor was lost")
        raise BadResponse(f"{what} to {where}: {last_problem} after {policy.max_attempts} attempts",
                          hint="the source changed its format or is serving an error page")

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, what: str = "request",
                 expect: type = dict) -> Any:
        """GET a JSON document of the expected top-level type."""
        _, body = self.request("GET", url, params=params, headers=headers, what=what,
                               check=lambda r: parse_json(r, expect))
        return body

    def post_json(self, url: str, *, data: Any = None, headers: Mapping[str, str] | None = None,
                  auth: Any = None, what: str = "request") -> Any:
        _, body = self.request("POST", url, data=data, headers=headers, auth=auth, what=what,
                               check=lambda r: parse_json(r, dict))
        return body

    def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None,
                  what: str = "request", check: Callable[[requests.Response], Any] | None = None
                  ) -> tuple[requests.Response, Any]:
        return self.request("GET", url, headers=headers, what=what, check=check)


def parse_json(response: requests.Response, expect: type = dict) -> Any:
    """The response's JSON body, or ``BadResponse`` (which the client retries)."""
    try:
        body = response.json()
    except ValueError as exc:
        raise BadResponse(f"malformed JSON ({len(response.content)} bytes)") from exc
    if not isinstance(body, expect):
        raise BadResponse(f"expected a JSON {expect.__name__}, got {type(body).__name__}")
    return body
