"""The sources and feeds files, the environment, the registry and the plan of a run."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from collectors.base import SourceContext
from collectors.config import CollectorSettings
from collectors.keywords import load_keywords
from collectors.news_feeds import load_feeds
from collectors.registry import SOURCES, build_sources, plan
from sada.errors import DataFileError


@pytest.fixture
def keywords():
    return load_keywords()


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("SADA_"):
            monkeypatch.delenv(name)


def _build(tmp_path, keywords, body: str | None = None, **config):
    if body is not None:
        path = tmp_path / "sources.yaml"
        path.write_text(body, encoding="utf-8")
        config["sources_file"] = path
    cfg = CollectorSettings(_env_file=None, **config)
    return build_sources(cfg, SourceContext(config=cfg, keywords=keywords))


def test_the_shipped_files_are_valid_and_list_every_outlet(keywords):
    feeds = load_feeds()
    assert len(feeds) == 27 and {f.lang for f in feeds} == {"ar", "fr", "en"}
    assert "hespress.com" in {f.outlet for f in feeds}
    sources = build_sources(CollectorSettings(_env_file=None), SourceContext(config=CollectorSettings(_env_file=None),
                                                                              keywords=keywords))
    assert list(sources) == list(SOURCES)


def test_without_credentials_only_the_open_sources_are_ready(keywords, tmp_path):
    sources = _build(tmp_path, keywords)
    ready = {name for name, s in sources.items() if not s.missing()}
    assert ready == {"news_feeds", "news_search"}  # telegram waits for channels, the APIs for tokens
    assert sources["x"].missing() == ["SADA_X_BEARER_TOKEN"]
    assert sources["reddit"].missing() == ["SADA_REDDIT_CLIENT_ID", "SADA_REDDIT_CLIENT_SECRET"]
    assert sources["meta"].missing() == ["SADA_META_PAGE_TOKEN", "SADA_META_PAGE_ID or SADA_META_IG_USER_ID"]


def test_the_plan_maps_search_sources_over_keyword_sets(keywords, tmp_path):
    sources = _build(tmp_path, keywords, x_bearer_token="t", mastodon_base_url="https://mastodon.example")
    jobs = plan(sources)
    assert ("news_feeds", "all") in jobs and ("meta", "own") in jobs and ("replay", "all") in jobs
    x_queries = [q for s, q in jobs if s == "x"]
    assert x_queries == list(keywords.queries)
    # Mastodon follows hashtags: only the sets that have some
    assert [q for s, q in jobs if s == "mastodon"] == [q.id for q in keywords.queries.values() if q.hashtags]


def test_options_are_validated_with_file_and_field(keywords, tmp_path):
    with pytest.raises(DataFileError) as err:
        _build(tmp_path, keywords, "version: 1\nsources:\n  telegram:\n    channels: qanoun_ma\n")
    assert err.value.field == "sources.telegram.channels" and "valid list" in err.value.problem
    with pytest.raises(DataFileError, match="sources.tiktok: unknown source"):
        _build(tmp_path, keywords, "version: 1\nsources:\n  tiktok: {}\n")
    with pytest.raises(DataFileError, match=r"sources.x.queries\[0\]: no keyword set 'fr:nope'"):
        _build(tmp_path, keywords, "version: 1\nsources:\n  x:\n    queries: ['fr:nope']\n")
    with pytest.raises(DataFileError, match="sources.reddit.timeout_seconds"):
        _build(tmp_path, keywords, "version: 1\nsources:\n  reddit:\n    timeout_seconds: 0\n")


def test_disabled_sources_and_the_subset_from_the_environment(keywords, tmp_path):
    sources = _build(tmp_path, keywords, "version: 1\nsources:\n  telegram:\n    enabled: false\n")
    assert "telegram" not in sources
    assert list(_build(tmp_path, keywords, collect_sources="x, reddit")) == ["x", "reddit"]
    with pytest.raises(DataFileError, match="unknown source"):
        _build(tmp_path, keywords, collect_sources="x,twitter")


def test_base_urls_come_from_the_environment_first(keywords, tmp_path, monkeypatch):
    monkeypatch.setenv("SADA_X_BASE_URL", "http://127.0.0.1:8080/x/")
    sources = _build(tmp_path, keywords)
    assert sources["x"].base_url == "http://127.0.0.1:8080/x"
    assert sources["reddit"].base_url == "https://oauth.reddit.com"
    feeds = sources["news_feeds"]
    assert feeds.feed_url("https://hespress.com/feed") == "https://hespress.com/feed"
    monkeypatch.setenv("SADA_NEWS_FEEDS_BASE_URL", "http://127.0.0.1:9/f")
    feeds = _build(tmp_path, keywords)["news_feeds"]
    assert feeds.feed_url("https://www.lopinion.ma/xml/syndication.rss?x=1") == \
        "http://127.0.0.1:9/f/www.lopinion.ma/xml/syndication.rss?x=1"


def test_tokens_never_show_in_reprs(monkeypatch):
    monkeypatch.setenv("SADA_X_BEARER_TOKEN", "AAAA-very-secret")
    cfg = CollectorSettings(_env_file=None)
    assert isinstance(cfg.x_bearer_token, SecretStr)
    assert "AAAA-very-secret" not in repr(cfg) and "AAAA-very-secret" not in str(cfg.model_dump())
    assert cfg.secret("x_bearer_token") == "AAAA-very-secret"


def test_feeds_file_errors_name_the_field(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("version: 1\nfeeds:\n  - {outlet: a.ma, url: 'ftp://a.ma/feed', lang: ar}\n")
    with pytest.raises(DataFileError) as err:
        load_feeds(path)
    assert err.value.field == "feeds[0].url"
    path.write_text("version: 1\nfeeds:\n  - {outlet: a.ma, url: 'https://a.ma/feed', lang: ar}\n"
                    "  - {outlet: b.ma, url: 'https://a.ma/feed', lang: fr}\n")
    with pytest.raises(DataFileError, match=r"feeds\[1\].url: listed twice"):
        load_feeds(path)
