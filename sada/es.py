"""Elasticsearch client, index template and alias for mentions."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exc

from sada.errors import ServiceError
from sada.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

TEMPLATE_FILE = REPO_ROOT / "infra" / "elasticsearch" / "mentions.template.json"


def client(settings: Settings, **overrides: Any) -> Elasticsearch:
    """A client for ``SADA_ES_URL`` with credentials from the environment only."""
    options: dict[str, Any] = dict(request_timeout=30, retry_on_timeout=True, max_retries=2)
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_certs:
        options["ca_certs"] = settings.es_ca_certs
    options.update(overrides)
    return Elasticsearch(settings.es_url, **options)


def mentions_alias(settings: Settings) -> str:
    return settings.index("mentions")


def mentions_index_for(settings: Settings, when: datetime) -> str:
    """Monthly index by publication month (UTC), so a mention always lands in the same index."""
    return settings.index(f"mentions-{when.astimezone(UTC):%Y.%m}")


def mentions_template(settings: Settings) -> dict[str, Any]:
    body = json.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))
    body.pop("_comment", None)
    body["settings"]["number_of_replicas"] = settings.es_replicas
    return {
        "index_patterns": [settings.index("mentions-*")],
        "priority": 200,
        "template": {**body, "aliases": {mentions_alias(settings): {}}},
        "_meta": {"description": "Sada mentions, monthly indices behind one alias"},
    }


def ensure_templates(settings: Settings, es: Elasticsearch | None = None) -> list[str]:
    """Install (or update) the index template and make sure the alias resolves. Idempotent."""
    es = es or client(settings)
    name = settings.index("sada-mentions")
    try:
        es.indices.put_index_template(name=name, **mentions_template(settings))
        # An empty current-month index makes the alias exist before the first document,
        # so Kibana's data view and searches work on a fresh install.
        current = mentions_index_for(settings, datetime.now(UTC))
        if not es.indices.exists(index=current):
            try:
                es.indices.create(index=current)
            except es_exc.BadRequestError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise
    except es_exc.ConnectionError as exc:
        raise ServiceError(f"cannot reach Elasticsearch at {settings.es_url}",
                           hint="start it with `sada up` or set SADA_ES_URL") from exc
    return [name]
