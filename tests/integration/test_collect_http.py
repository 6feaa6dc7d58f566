"""The collectors' HTTP policy against a real HTTP server on loopback.

429 with Retry-After (seconds or a date, or X's reset epoch), 5xx, timeouts, truncated and
malformed bodies, rejected requests; and no secret in any log line.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from collectors.errors import BadResponse, RateLimited, SourceRejected, SourceUnavailable
from collectors.http import HttpClient, RetryPolicy
from tests.fixtures.sources.server import Reply, serving

OK = Reply(body=b'{"data": [1, 2, 3]}')


@pytest.fixture
def server():
    yield from serving()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    policy = RetryPolicy(max_attempts=3, backoff=0.5, jitter=0.0, max_retry_after=60, sleep=sleeps.append)
    return HttpClient(timeout=0.5, connect_timeout=0.5, policy=policy)


def test_429_waits_what_retry_after_says_then_succeeds(server, client, sleeps):
    server.add("/api", Reply(429, b'{"error": "slow down"}', headers={"Retry-After": "7"}), OK)
    assert client.get_json(f"{server.url}/api") == {"data": [1, 2, 3]}
    assert sleeps == [7.0]
    assert len(server.seen("/api")) == 2


def test_retry_after_as_an_http_date_and_x_reset_epoch(server, client, sleeps):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    reset = str(int(time.time()) + 20)
    server.add("/date", Reply(429, headers={"Retry-After": when}), OK)
    server.add("/x", Reply(429, headers={"x-rate-limit-reset": reset}), OK)
    client.get_json(f"{server.url}/date")
    client.get_json(f"{server.url}/x")
    assert 25 <= sleeps[0] <= 30 and 15 <= sleeps[1] <= 20


def test_a_retry_after_longer_than_the_cap_stops_at_once(server, client, sleeps):
    server.add("/api", Reply(429, headers={"Retry-After": "3600"}), OK)
    with pytest.raises(RateLimited) as err:
        client.get_json(f"{server.url}/api")
    assert err.value.retry_after == 3600 and sleeps == [] and len(server.seen("/api")) == 1


def test_still_429_after_every_attempt_is_rate_limited(server, client, sleeps):
    server.add("/api", Reply(429))
    with pytest.raises(RateLimited):
        client.get_json(f"{server.url}/api")
    assert sleeps == [0.5, 1.0]  # exponential backoff when no Retry-After is given


def test_5xx_are_retried_with_backoff(server, client, sleeps):
    server.add("/api", Reply(503), Reply(502), OK)
    assert client.get_json(f"{server.url}/api")["data"] == [1, 2, 3]
    assert sleeps == [0.5, 1.0]


def test_5xx_every_time_is_unavailable(server, client):
    server.add("/api", Reply(500, b"<html>Internal Server Error</html>", content_type="text/html"))
    with pytest.raises(SourceUnavailable, match="HTTP 500 after 3 attempts"):
        client.get_json(f"{server.url}/api")
    assert len(server.seen("/api")) == 3


def test_a_timeout_is_retried(server, client):
    server.add("/slow", Reply(body=b"{}", delay=1.5), OK)
    started = time.monotonic()
    assert client.get_json(f"{server.url}/slow") == {"data": [1, 2, 3]}
    assert time.monotonic() - started < 1.4  # the client gave up on the slow reply


def test_a_truncated_body_is_retried_then_unavailable(server, client):
    server.add("/cut", Reply(body=b'{"data": [1, 2, 3], "more": "x"}', truncate=True), OK)
    assert client.get_json(f"{server.url}/cut") == {"data": [1, 2, 3]}
    server.add("/always-cut", Reply(body=b'{"data": [1, 2, 3], "more": "x"}', truncate=True))
    with pytest.raises(SourceUnavailable, match="ChunkedEncodingError|ConnectionError"):
        client.get_json(f"{server.url}/always-cut")


def test_a_malformed_body_is_retried_then_a_bad_response(server, client):
    server.add("/bad", Reply(body=b'{"data": [1, 2,'), OK)
    assert client.get_json(f"{server.url}/bad") == {"data": [1, 2, 3]}
    server.add("/html", Reply(body=b"<html>maintenance</html>", content_type="text/html"))
    with pytest.raises(BadResponse, match="malformed JSON"):
        client.get_json(f"{server.url}/html")
    server.add("/list", Reply(body=b"[1, 2]"))
    with pytest.raises(BadResponse, match="expected a JSON dict"):
        client.get_json(f"{server.url}/list")


def test_a_rejected_request_is_not_retried(server, client, sleeps):
    server.add("/api", Reply(401, b'{"title": "Unauthorized"}'))
    with pytest.raises(SourceRejected, match="HTTP 401"):
        client.get_json(f"{server.url}/api")
    assert len(server.seen("/api")) == 1 and sleeps == []


def test_connection_refused_is_unavailable(client):
    with pytest.raises(SourceUnavailable):
        client.get_json("http://127.0.0.1:9/nothing-listens-here")


def test_no_secret_reaches_our_logs_or_errors(server, client, caplog):
    """Our lines name host and path only. (Connectors send secrets in headers, never in URLs:
    urllib3's own DEBUG lines print URLs, and `sada` sets urllib3 to WARNING.)"""
    server.add("/v3/search", Reply(503))
    caplog.set_level(logging.DEBUG, logger="collectors")
    with pytest.raises(SourceUnavailable) as err:
        client.get_json(f"{server.url}/v3/search", params={"key": "AIzaSECRET-KEY", "q": "x"},
                        headers={"Authorization": "Bearer TOKEN-SECRET"})
    text = caplog.text + str(err.value)
    assert "/v3/search" in text
    assert "AIzaSECRET-KEY" not in text and "TOKEN-SECRET" not in text
    assert server.seen("/v3/search")[0].headers["Authorization"] == "Bearer TOKEN-SECRET"
