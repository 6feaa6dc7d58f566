"""Build one week's digest: read Elasticsearch, derive the recommendations, draw the charts, render.

``build_digest`` is pure reading: it writes nothing, sends nothing. ``digest.deliver`` archives
and sends what it returns; ``sada digest --preview`` writes its HTML to a file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from digest import charts, queries, render
from digest.config import DigestSettings, RecipientsBook, load_recipients
from digest.recommend import Context, Recommendation, recommend
from digest.week import IsoWeek
from sada import es as sada_es
from sada.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Digest:
    """A rendered digest: its figures, and the e-mail's subject, HTML (``cid:`` images) and text."""

    week: IsoWeek
    current: queries.WeekFigures
    previous: queries.WeekFigures
    top: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    recommendations: list[Recommendation]
    charts: list[charts.Chart]
    generated_at: datetime
    subject: str = ""
    html: str = ""
    text: str = ""
    view: dict[str, Any] = field(default_factory=dict)

    def html_standalone(self) -> str:
        """The same HTML with the charts embedded (``data:`` URIs): for a browser and the archive."""
        return render.html(self.view, images="data")

    def summary(self) -> dict[str, Any]:
        """The headline figures, for the archive document and the task's return value."""
        c, p = self.current, self.previous
        return {
            "volume": c.volume, "previous_volume": p.volume, "reach": c.reach, "engagement": c.engagement,
            "toxic": c.toxic, "irrelevant": c.irrelevant, "platforms": c.platforms, "languages": c.languages,
            "stances": c.stances, "myths": c.myths, "topics": c.topics, "alerts": len(self.alerts),
            "recommendations": [r.key for r in self.recommendations],
        }


def _myth_titles() -> dict[str, str]:
    from sada.knowledge import myths

    return {k: m.title.fr for k, m in myths().myths.items()}


def build_digest(settings: Settings, week: IsoWeek, *, es: Elasticsearch | None = None,
                 digest_settings: DigestSettings | None = None, book: RecipientsBook | None = None,
                 now: datetime | None = None) -> Digest:
    """Everything the digest of ``week`` says, rendered (nothing is written or sent)."""
    ds = digest_settings or DigestSettings()
    book = book or load_recipients(ds.recipients_file)
    now = now or datetime.now(UTC)
    own = es is None
    es = es or sada_es.client(settings)
    try:
        current = queries.week_figures(settings, es, week, clusters=ds.top_clusters)
        previous = queries.week_figures(settings, es, week.previous(), clusters=ds.top_clusters)
        queries.attach_cluster_docs(settings, es, current.clusters)
        top = queries.top_mentions(settings, es, week, ds.top_mentions)
        asked = queries.top_questions(settings, es, week, ds.questions)
        alerts = queries.week_alerts(settings, es, week)
    finally:
        if own:
            es.close()
    recos = recommend(Context(current, previous, alerts, _myth_titles()))
    drawn = [charts.daily_chart(current, previous)]
    myth_chart = charts.myths_chart(current, previous)
    if myth_chart is not None:
        drawn.append(myth_chart)
    digest = Digest(week, current, previous, top, asked, alerts, recos, drawn, now)
    digest.view = render.view(digest, settings, book)
    digest.subject = digest.view["subject"]
    digest.html = render.html(digest.view, images="cid")
    digest.text = render.text(digest.view)
    log.info("digest %s built: %d relevant mentions (previous week %d), %d recommendations",
             week, current.volume, previous.volume, len(recos))
    return digest
