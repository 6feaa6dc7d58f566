"""Kibana Discover deep links to exactly the mentions behind an alert.

``sada.kibana.discover_url`` (another module of the project) is preferred when it is present;
until then a minimal builder of the same link is used: the data view, the time range and the
KQL query, rison-encoded in the ``_g`` and ``_a`` parameters as Kibana 8 expects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

log = logging.getLogger(__name__)

DEFAULT_DATA_VIEW = "sada-mentions"


def rison_string(value: str) -> str:
    """A rison string literal: quoted with ', where ! and ' are escaped with !."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def fallback_discover_url(base_url: str, query: str, start: datetime, end: datetime, *,
                          data_view_id: str = DEFAULT_DATA_VIEW) -> str:
    g = f"(filters:!(),refreshInterval:(pause:!t,value:0),time:(from:{rison_string(_iso(start))},to:{rison_string(_iso(end))}))"
    a = (f"(dataSource:(dataViewId:{rison_string(data_view_id)},type:dataView),"
         f"query:(language:kuery,query:{rison_string(query)}))")
    safe = "():,!'*-._~"
    return f"{base_url.rstrip('/')}/app/discover#/?_g={quote(g, safe=safe)}&_a={quote(a, safe=safe)}"


def _builder() -> Callable[..., str]:
    try:
        from sada.kibana import discover_url  # type: ignore[import-not-found]
    except ImportError:
        return fallback_discover_url
    return discover_url


class Links:
    """Builds the Discover link of an alert (base URL and data view from the settings)."""

    def __init__(self, base_url: str = "http://127.0.0.1:5601", data_view_id: str = DEFAULT_DATA_VIEW) -> None:
        self.base_url = base_url
        self.data_view_id = data_view_id
        self._build: Callable[..., str] | None = None

    def discover(self, query: str, start: datetime, end: datetime) -> str:
        if self._build is None:
            self._build = _builder()
        try:
            return self._build(self.base_url, query, start, end, data_view_id=self.data_view_id)
        except TypeError:
            # A different signature in sada.kibana: keep alerting with our own link.
            log.warning("sada.kibana.discover_url has an unexpected signature; using the built-in link")
            self._build = fallback_discover_url
            return fallback_discover_url(self.base_url, query, start, end, data_view_id=self.data_view_id)
