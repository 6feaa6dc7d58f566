"""Settings of the alert and notify consumers: the project's one settings object.

Kept as a name so the alert code reads as before; every field (``SADA_SMTP_*``,
``SADA_KIBANA_URL``, ``SADA_TELEGRAM_API_URL``, ``SADA_ALERT_*``, ``SADA_NOTIFY_*``) is
documented in ``sada/settings.py`` and the README.
"""

from sada.settings import Settings as AlertSettings

__all__ = ["AlertSettings"]
