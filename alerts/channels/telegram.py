"""``telegram``: Bot API ``sendMessage`` to a chat, HTML parse mode, links without previews.

The bot token comes from the environment and is part of the URL: it never appears in a log or
an error message. ``SADA_TELEGRAM_API_URL`` points the channel at another base URL (a loopback
receiver in tests).
"""

from __future__ import annotations

import os

import requests
from pydantic import BaseModel, ConfigDict, Field

from alerts import render
from alerts.channels.base import Channel, DeliveryError, never_log
from alerts.model import Alert


class TelegramOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chat_id: str = Field(min_length=1, description="chat, group or channel id (e.g. -100123...) or @channel")
    token_env: str = Field("SADA_TELEGRAM_BOT_TOKEN", description="environment variable holding the bot token")
    timeout: float = Field(10.0, gt=0)


class TelegramChannel(Channel):
    type_name = "telegram.v1"
    Options = TelegramOptions
    options: TelegramOptions

    def __init__(self, *args, **kw) -> None:  # noqa: ANN002, ANN003 - same as Channel
        super().__init__(*args, **kw)
        self.session = requests.Session()

    def secrets_env(self) -> dict[str, str]:
        return {"token_env": self.options.token_env}

    def send(self, alert: Alert) -> str:
        token = os.environ.get(self.options.token_env, "")
        if not token:
            raise DeliveryError(f"environment variable {self.options.token_env} is empty", retryable=False)
        never_log(token)
        url = f"{self.env.telegram_api_url.rstrip('/')}/bot{token}/sendMessage"
        payload = {"chat_id": self.options.chat_id, "text": render.telegram_text(alert, self.tz),
                   "parse_mode": "HTML", "disable_web_page_preview": True}
        try:
            resp = self.session.post(url, json=payload, timeout=self.options.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"Telegram API unreachable: {type(exc).__name__}", retryable=True) from None
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code == 200 and data.get("ok"):
            message_id = (data.get("result") or {}).get("message_id")
            return f"message {message_id}"
        description = str(data.get("description", ""))[:200].replace(token, "***")
        retryable = resp.status_code == 429 or resp.status_code >= 500
        raise DeliveryError(f"Telegram answered HTTP {resp.status_code}: {description}", retryable=retryable)

    def close(self) -> None:
        self.session.close()
