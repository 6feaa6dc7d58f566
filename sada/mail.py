"""SMTP connection and delivery from the settings, shared by the alert channel and the weekly digest."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

from alerts.channels.base import DeliveryError
from sada.settings import Settings


def smtp_connect(settings: Settings) -> smtplib.SMTP:
    """An authenticated SMTP session: implicit TLS, STARTTLS or plain, as configured."""
    context = (ssl.create_default_context(cafile=settings.smtp_ca_file)
               if (settings.smtp_ssl or settings.smtp_starttls) else None)
    if settings.smtp_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                             context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        if settings.smtp_starttls:
            smtp.starttls(context=context)
    if settings.smtp_username and settings.smtp_password is not None:
        smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    return smtp


def smtp_send(settings: Settings, msg: EmailMessage, addresses: list[str],
              recipients_hint: str | None = None) -> list[str]:
    """Deliver ``msg`` to ``addresses``; returns those the server accepted.

    Failures become a DeliveryError saying whether to retry: authentication and permanent (5xx)
    refusals are not worth retrying, an unreachable server or a 4xx answer is.
    """
    sender = parseaddr(settings.smtp_from)[1]
    try:
        smtp = smtp_connect(settings)
        try:
            refused = smtp.send_message(msg, from_addr=sender, to_addrs=addresses)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP authentication refused ({exc.smtp_code})", retryable=False,
                            hint="check SADA_SMTP_USERNAME / SADA_SMTP_PASSWORD") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise DeliveryError(f"every recipient refused (SMTP {codes})", retryable=any(c < 500 for c in codes),
                            hint=recipients_hint) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP error {exc.smtp_code}: {exc.smtp_error[:200]!r}",
                            retryable=exc.smtp_code < 500) from exc
    except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise DeliveryError(f"SMTP server {settings.smtp_host}:{settings.smtp_port} unreachable: "
                            f"{type(exc).__name__}: {str(exc)[:200]}", retryable=True,
                            hint="check SADA_SMTP_HOST / SADA_SMTP_PORT") from exc
    return [a for a in addresses if a not in refused]
