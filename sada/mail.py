"""SMTP connection from the settings, shared by the alert channel and the weekly digest."""

from __future__ import annotations

import smtplib
import ssl

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
