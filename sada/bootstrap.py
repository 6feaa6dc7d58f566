"""Everything a fresh cluster needs before the consumers start: topics, templates, indices."""

from __future__ import annotations

from sada import es as sada_es
from sada import indices
from sada import kafka as sada_kafka
from sada.settings import Settings


def setup_all(settings: Settings) -> list[str]:
    """Create topics, index templates and indices (idempotent); one line per step, for people."""
    created = sada_kafka.ensure_topics(settings)
    lines = [f"topics: {', '.join(created) if created else 'all present'}"]
    templates = sada_es.ensure_templates(settings)
    lines.append(f"mentions template: {', '.join(templates)} (alias {sada_es.mentions_alias(settings)})")
    done = indices.ensure_indices(settings)
    lines.append(f"clusters and alerts: {', '.join(done) if done else 'all present'}")
    return lines
