"""The channel contract: an alert in, one delivery out, or a DeliveryError saying whether to retry.

A channel declares its options (a pydantic model; fields without a default are required) and
the environment variables holding its secrets, checked when the recipients file is loaded — a
missing secret stops the notify consumer at start, not at the first crisis. Error messages never
carry a secret (tokens in URLs are masked).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from alerts.model import Alert, severity_rank
from alerts.settings import AlertSettings
from sada.errors import SadaError


class _Redactor(logging.Filter):
    """Masks registered secrets in log records of the HTTP libraries (a Telegram token sits in
    the URL path, which urllib3 logs at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                for s in self.secrets:
                    message = message.replace(s, "***")
                record.msg, record.args = message, ()
        return True


_REDACTOR = _Redactor()
for _name in ("urllib3.connectionpool", "urllib3", "requests"):
    logging.getLogger(_name).addFilter(_REDACTOR)


def never_log(secret: str) -> None:
    """Register a secret that must never appear in a log line of the HTTP libraries."""
    if secret and len(secret) >= 6:
        _REDACTOR.secrets.add(secret)


class DeliveryError(SadaError):
    """A delivery failed; ``retryable`` says whether trying again later may succeed."""

    code = "SADA600"

    def __init__(self, message: str, *, retryable: bool, hint: str | None = None) -> None:
        self.retryable = retryable
        super().__init__(message, hint=hint)


class Channel(ABC):
    """Base class of channels; subclasses are registered in ``alerts.registry``."""

    type_name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    def __init__(self, name: str, options: BaseModel, env: AlertSettings, *, min_severity: str = "warning",
                 rules: list[str] | None = None, tz: ZoneInfo | None = None) -> None:
        self.name = name
        self.options = options
        self.env = env
        self.min_severity = min_severity
        self.rules = rules
        self.tz = tz or ZoneInfo("Africa/Casablanca")

    def secrets_env(self) -> dict[str, str]:
        """Option field → environment variable that must be set (checked at load)."""
        return {}

    def wants(self, alert: Alert) -> bool:
        """Routing: severity threshold, the channel's rules, the rule's channels."""
        if alert.kind == "summary":
            return True
        if severity_rank(alert.severity) < severity_rank(self.min_severity):
            return False
        if self.rules is not None and alert.rule not in self.rules:
            return False
        return alert.channels is None or self.name in alert.channels

    @abstractmethod
    def send(self, alert: Alert) -> str:
        """Deliver the alert; return a short receipt (recipients, HTTP status) or raise DeliveryError."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
