"""The table of source connectors, and the plan of a collection run.

Adding a source: write ``collectors/<name>.py`` with a ``Source`` subclass, add one line to
``SOURCES``, and (optionally) its options under ``sources:`` in ``data/sources/sources.yaml``.
"""

from __future__ import annotations

from collectors.base import Source, SourceContext
from collectors.config import CollectorSettings, display, load_source_table, validate
from collectors.mastodon import MastodonSource
from collectors.meta import MetaSource
from collectors.news_feeds import NewsFeedsSource
from collectors.news_search import NewsSearchSource
from collectors.reddit import RedditSource
from collectors.replay import ReplaySource
from collectors.telegram import TelegramSource
from collectors.x import XSource
from collectors.youtube import YouTubeCommentsSource, YouTubeSearchSource
from sada.errors import DataFileError

SOURCES: dict[str, type[Source]] = {
    "news_feeds": NewsFeedsSource,
    "news_search": NewsSearchSource,
    "telegram": TelegramSource,
    "youtube_search": YouTubeSearchSource,
    "youtube_comments": YouTubeCommentsSource,
    "meta": MetaSource,
    "x": XSource,
    "reddit": RedditSource,
    "mastodon": MastodonSource,
    "replay": ReplaySource,
}


def _check_table() -> None:
    for name, cls in SOURCES.items():
        if cls.name != name:
            raise TypeError(f"SOURCES[{name!r}] is {cls.__name__}, whose name is {cls.name!r}")


_check_table()


def build_sources(config: CollectorSettings, ctx: SourceContext, *,
                  include_disabled: bool = False) -> dict[str, Source]:
    """Every source of the sources file, its options validated (errors name file and field).

    A source the file does not list runs with its defaults; ``SADA_COLLECT_SOURCES`` narrows
    the set; ``enabled: false`` leaves a source out unless ``include_disabled``.
    """
    path = config.sources_file
    table = load_source_table(path)
    for name in table:
        if name not in SOURCES:
            raise DataFileError(display(path), f"sources.{name}",
                                f"unknown source; known: {', '.join(SOURCES)}")
    only = config.only_sources()
    if only:
        unknown = sorted(only - set(SOURCES))
        if unknown:
            raise DataFileError("SADA_COLLECT_SOURCES", unknown[0], f"unknown source; known: {', '.join(SOURCES)}")
    out: dict[str, Source] = {}
    for name, cls in SOURCES.items():
        if only is not None and name not in only:
            continue
        options = validate(cls.Options, table.get(name, {}), path, f"sources.{name}")
        if options.queries:
            for i, q in enumerate(options.queries):
                if q not in ctx.keywords:
                    raise DataFileError(display(path), f"sources.{name}.queries[{i}]",
                                        f"no keyword set {q!r} in {ctx.keywords.path}")
        if options.enabled or include_disabled:
            out[name] = cls(options, ctx)
    return out


def plan(sources: dict[str, Source]) -> list[tuple[str, str]]:
    """The (source, query) pairs of one collection run, in a stable order."""
    return [(name, query) for name, source in sources.items() for query in source.queries()]
