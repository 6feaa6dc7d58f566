"""``webhook``: an HTTP POST of the alert as generic JSON or as a Slack-compatible message.

Every request is signed: ``X-Sada-Signature: sha256=<hex>`` is the HMAC-SHA256, with the secret
from the environment, of ``<timestamp>.<body>`` where the timestamp (Unix seconds) is sent in
``X-Sada-Timestamp``; a receiver recomputes it and refuses stale timestamps (replays).
``Idempotency-Key`` (alert id + channel) lets it drop a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from typing import Literal

import requests
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts import render
from alerts.channels.base import Channel, DeliveryError, never_log
from alerts.model import Alert

RETRYABLE_STATUS = {408, 425, 429}


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: constant-time comparison and a bounded clock skew."""
    current = time.time() if now is None else now
    if abs(current - float(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="endpoint (use url_env when the URL itself is a secret)")
    url_env: str | None = Field(None, description="environment variable holding the endpoint")
    format: Literal["json", "slack"] = "json"
    secret_env: str = Field("SADA_WEBHOOK_SECRET", description="environment variable holding the HMAC secret")
    timeout: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookOptions:
        if bool(self.url) == bool(self.url_env):
            raise ValueError("give exactly one of url or url_env")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// on loopback)")
        return self


class WebhookChannel(Channel):
    type_name = "webhook.v1"
    Options = WebhookOptions
    options: WebhookOptions
    clock: Callable[[], float] = staticmethod(time.time)  # type: ignore[assignment]

    def __init__(self, *args, **kw) -> None:  # noqa: ANN002, ANN003 - same as Channel
        super().__init__(*args, **kw)
        self.session = requests.Session()

    def secrets_env(self) -> dict[str, str]:
        needed = {"secret_env": self.options.secret_env}
        if self.options.url_env:
            needed["url_env"] = self.options.url_env
        return needed

    def _url(self) -> str:
        return self.options.url or os.environ.get(self.options.url_env or "", "")

    def body(self, alert: Alert) -> bytes:
        payload = (render.slack_payload(alert, self.tz) if self.options.format == "slack"
                   else render.webhook_payload(alert, self.tz))
        return render.to_json(payload)

    def send(self, alert: Alert) -> str:
        secret = os.environ.get(self.options.secret_env, "")
        if not secret:
            raise DeliveryError(f"environment variable {self.options.secret_env} is empty", retryable=False)
        url = self._url()
        never_log(secret)
        if self.options.url_env:
            never_log(url)
        shown = self.options.url if self.options.url else f"${self.options.url_env}"
        body = self.body(alert)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "sada-alerts/1",
            "X-Sada-Timestamp": timestamp,
            "X-Sada-Signature": sign(secret.encode("utf-8"), timestamp, body),
            "X-Sada-Alert-Id": alert.alert_id,
            "Idempotency-Key": f"{alert.alert_id}:{self.name}",
        }
        try:
            resp = self.session.post(url, data=body, headers=headers, timeout=self.options.timeout)
        except requests.RequestException as exc:
            # The exception text may contain the URL (a secret with url_env): never repeat it.
            raise DeliveryError(f"webhook {shown} unreachable: {type(exc).__name__}", retryable=True) from None
        if 200 <= resp.status_code < 300:
            return f"HTTP {resp.status_code}"
        retryable = resp.status_code in RETRYABLE_STATUS or resp.status_code >= 500
        raise DeliveryError(f"webhook {shown} answered HTTP {resp.status_code}", retryable=retryable)

    def close(self) -> None:
        self.session.close()
