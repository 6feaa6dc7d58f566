"""``email``: SMTP with an HTML part and a text part; STARTTLS or implicit TLS; credentials from env.

One message per alert to the recipients whose severity threshold it meets. The Message-ID is
derived from the alert id and the channel, so a receiving system can drop a duplicate.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts import render
from alerts.channels.base import Channel
from alerts.model import Alert, severity_rank
from sada.mail import smtp_send

_EMAIL = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    email: str
    min_severity: Literal["info", "warning", "critical"] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"{v!r} is not an e-mail address")
        return v


class EmailOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[Recipient] = Field(min_length=1)
    subject_prefix: str = ""


class EmailChannel(Channel):
    type_name = "email.v1"
    Options = EmailOptions
    options: EmailOptions

    def secrets_env(self) -> dict[str, str]:
        # Credentials are optional (a local relay needs none) but must come in pairs.
        if self.env.smtp_username and self.env.smtp_password is None:
            return {"smtp_password": "SADA_SMTP_PASSWORD"}
        return {}

    def recipients(self, alert: Alert) -> list[Recipient]:
        return [r for r in self.options.to
                if alert.kind == "summary" or severity_rank(alert.severity) >= severity_rank(r.min_severity or "info")]

    def message(self, alert: Alert, recipients: list[Recipient]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = (self.options.subject_prefix + " " if self.options.subject_prefix else "") + render.subject(alert, self.tz)
        msg["From"] = self.env.smtp_from
        msg["To"] = [Address(display_name=r.name, addr_spec=r.email) if r.name else Address(addr_spec=r.email)
                     for r in recipients]
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{alert.alert_id}.{self.name}@sada.alerts>"
        msg["X-Sada-Alert-Id"] = alert.alert_id
        msg["X-Sada-Severity"] = alert.severity
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(render.text_body(alert, self.tz), subtype="plain", charset="utf-8")
        msg.add_alternative(render.html_body(alert, self.tz), subtype="html", charset="utf-8")
        return msg

    def send(self, alert: Alert) -> str:
        recipients = self.recipients(alert)
        if not recipients:
            return "no recipient for this severity"
        delivered = smtp_send(self.env, self.message(alert, recipients), [r.email for r in recipients])
        return "sent to " + ", ".join(formataddr(("", e)) for e in delivered)
