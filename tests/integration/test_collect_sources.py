"""Every connector against recorded responses served over HTTP on loopback.

Real formats (RSS in windows-1256 and ISO-8859-1, Atom, Google News RSS, t.me/s HTML,
YouTube / Graph / X / Reddit / Mastodon JSON with their pagination), read by the real
connector code through a real ``http.server``; the clock is fixed at 2026-11-18 12:00 UTC and
first runs look 24 hours back.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import SourceContext
from collectors.config import CollectorSettings
from collectors.cursors import MemoryCursorStore, MemoryQuotaLedger, quota_day
from collectors.errors import CollectFailed
from collectors.keywords import load_keywords
from collectors.mastodon import MastodonSource
from collectors.meta import MetaSource
from collectors.news_feeds import NewsFeedsSource
from collectors.news_search import NewsSearchSource
from collectors.reddit import RedditSource
from collectors.replay import ReplaySource
from collectors.runner import collect
from collectors.runs import MemoryRunRecorder
from collectors.telegram import TelegramSource
from collectors.x import XSource
from collectors.youtube import YouTubeCommentsSource, YouTubeSearchSource
from sada.model import canonical_url, mention_id
from tests.fixtures.sources.server import HERE, Reply, fixture, json_reply, serving

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
SECRETS = dict(youtube_api_key="AIza-test-key", meta_page_token="EAAB-page-token", x_bearer_token="AAAA-bearer",
               reddit_client_id="reddit-id", reddit_client_secret="reddit-secret")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The developer's own SADA_* credentials and base URLs must not leak into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("SADA_") and (name.endswith("_BASE_URL") or name.endswith("_TOKEN")
                                         or name.endswith("_KEY") or "CLIENT" in name or name.endswith("_FILE")):
            monkeypatch.delenv(name)


@pytest.fixture
def server():
    yield from serving()


@pytest.fixture(scope="module")
def keywords():
    return load_keywords()


class Harness:
    """A source wired to in-memory cursors, run records and producer."""

    def __init__(self, cls, keywords, options, **config):
        self.sleeps: list[float] = []
        self.quota = MemoryQuotaLedger()
        cfg = CollectorSettings(_env_file=None, collect_max_attempts=3, collect_backoff_seconds=0.01,
                                **{**SECRETS, **config})
        self.ctx = SourceContext(config=cfg, keywords=keywords, salt="test-salt", clock=lambda: NOW,
                                 quota=self.quota, sleep=self.sleeps.append)
        self.source = cls(cls.Options(**options), self.ctx)
        self.store = MemoryCursorStore()
        self.recorder = MemoryRunRecorder()
        self.produced: list = []

    def produce(self, batch):
        self.produced.extend(batch)
        return len(batch)

    def run(self, query: str):
        before = len(self.produced)
        summary = collect(self.source, query, store=self.store, produce=self.produce, recorder=self.recorder)
        return summary, self.produced[before:]

    def cursor(self, query: str):
        return self.store.get(self.source.name, query).cursor


def _feeds_file(tmp_path, *rows):
    lines = ["version: 1", "feeds:"] + [f"  - {{outlet: {o}, url: '{u}', lang: {lang}}}" for o, u, lang in rows]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# -- RSS / Atom --------------------------------------------------------------------------------


def test_news_feeds_decode_declared_encodings_and_keep_what_matches(server, keywords, tmp_path):
    server.add("/hespress.com/feed", Reply(body=fixture("feeds/hespress.rss"), content_type="application/rss+xml"))
    # text/xml without a charset means us-ascii to RFC 3023: the XML prolog's ISO-8859-1 must win
    server.add("/lematin.ma/rss", Reply(body=fixture("feeds/lematin.rss"), content_type="text/xml"))
    server.add("/telquel.ma/feed", Reply(body=fixture("feeds/telquel.atom"), content_type="application/atom+xml"))
    feeds = _feeds_file(tmp_path, ("hespress.com", "https://hespress.com/feed", "ar"),
                        ("lematin.ma", "https://lematin.ma/rss", "fr"), ("telquel.ma", "https://telquel.ma/feed", "fr"))
    h = Harness(NewsFeedsSource, keywords, {"base_url": server.url, "feeds_file": feeds})
    summary, produced = h.run("all")

    by_title = {m.title: m for m in produced}
    assert set(by_title) == {
        "وهبي: العقوبات البديلة خففت الاكتظاظ في السجون",  # windows-1256, decoded
        "أول حكم بالغرامة اليومية في أكادير",
        "Peines alternatives : le premier bracelet électronique posé à Tanger",  # ISO-8859-1, decoded
        "Amende journalière : comment le juge fixe le montant",
        "Travail d’intérêt général : 330 condamnés au TIG en 2025",  # Atom
    }
    # dropped: expropriation (المنفعة العامة), « à peine », a smartwatch bracelet, and a 10 Nov
    # article older than the first run's 24-hour lookback
    assert (summary.fetched, summary.matched, summary.skipped) == (8, 5, 3)
    wahbi = by_title["وهبي: العقوبات البديلة خففت الاكتظاظ في السجون"]
    assert wahbi.query == "ar:uqubat_badila" and wahbi.source == "hespress.com" and wahbi.kind == "article"
    assert "القانون رقم 43.22" in wahbi.text and "<p>" not in wahbi.text
    # the id is the canonical URL's: tracking parameters and www. do not make a new mention
    assert wahbi.id == mention_id("news", url="https://hespress.com/%d9%88%d9%87%d8%a8%d9%8a-1618701.html")
    bracelet = by_title["Peines alternatives : le premier bracelet électronique posé à Tanger"]
    assert bracelet.published_at == datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # +0100 → UTC
    assert bracelet.query == "fr:peines_alternatives"
    assert all(r.headers["User-Agent"].startswith("sada-collector/") for r in server.seen())


def test_news_feeds_resume_after_the_last_article_of_each_feed(server, keywords, tmp_path):
    server.add("/lematin.ma/rss", Reply(body=fixture("feeds/lematin.rss"), content_type="text/xml"))
    feeds = _feeds_file(tmp_path, ("lematin.ma", "https://lematin.ma/rss", "fr"))
    h = Harness(NewsFeedsSource, keywords, {"base_url": server.url, "feeds_file": feeds})
    _, first = h.run("all")
    assert len(first) == 2
    assert h.cursor("all")["channels"]["https://lematin.ma/rss"] == {
        "t": "2026-11-18T09:30:00+00:00", "ids": ["https://lematin.ma/societe/peines-alternatives-premier-bracelet/301122"]}
    _, second = h.run("all")
    assert second == []  # the same feed again: nothing new
    # the feed now has an article published at the very same second as the cursor's
    tie = fixture("feeds/lematin.rss").replace(
        b"<item>", b"<item><title>Peines alternatives : deuxieme bracelet a Fes</title>"
                   b"<link>https://lematin.ma/societe/deuxieme-bracelet/301123</link>"
                   b"<pubDate>Wed, 18 Nov 2026 10:30:00 +0100</pubDate><description>x</description></item><item>", 1)
    server.routes.clear()
    server.add("/lematin.ma/rss", Reply(body=tie, content_type="text/xml"))
    _, third = h.run("all")
    assert [m.url for m in third] == ["https://lematin.ma/societe/deuxieme-bracelet/301123"]
    # an article dated tomorrow (a wrong time zone, a scheduled post) waits for its time
    future = tie.replace(b"<item>", b"<item><title>Peines alternatives : demain</title>"
                                    b"<link>https://lematin.ma/societe/demain/301200</link>"
                                    b"<pubDate>Thu, 19 Nov 2026 12:00:00 +0100</pubDate><description>x</description></item><item>", 1)
    server.routes.clear()
    server.add("/lematin.ma/rss", Reply(body=future, content_type="text/xml"))
    _, fourth = h.run("all")
    assert fourth == []
    h.ctx.clock = lambda: datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    _, fifth = h.run("all")
    assert [m.url for m in fifth] == ["https://lematin.ma/societe/demain/301200"]


def test_a_broken_feed_fails_alone_and_keeps_its_cursor(server, keywords, tmp_path):
    server.add("/hespress.com/feed", Reply(body=fixture("feeds/hespress.rss"), content_type="application/rss+xml"))
    server.add("/yabiladi.com/rss", Reply(body=fixture("feeds/yabiladi_truncated.rss"), content_type="application/rss+xml"))
    server.add("/medias24.com/feed/", Reply(body=fixture("feeds/medias24_error.html"), content_type="text/html"))
    server.add("/goud.ma/feed", Reply(404, b"Not Found", content_type="text/html"))
    feeds = _feeds_file(tmp_path, ("yabiladi.com", "https://yabiladi.com/rss", "fr"),
                        ("medias24.com", "https://medias24.com/feed/", "fr"),
                        ("goud.ma", "https://goud.ma/feed", "ar"),
                        ("hespress.com", "https://hespress.com/feed", "ar"))
    h = Harness(NewsFeedsSource, keywords, {"base_url": server.url, "feeds_file": feeds})
    with pytest.raises(CollectFailed) as err:
        h.run("all")
    assert not err.value.permanent  # two of the three failures may heal: Airflow retries
    run = h.recorder.runs[-1]
    assert run.status == "partial" and run.errors == 3 and run.produced == 2
    assert any("malformed feed" in m for m in run.messages) and any("not an RSS or Atom" in m for m in run.messages)
    assert set(h.cursor("all")["channels"]) == {"https://hespress.com/feed"}
    assert len(server.seen("/yabiladi.com/rss")) == 3  # a truncated document is retried (it may be transient)

    # the outlets fix their feeds: only their articles come, hespress's are not repeated
    server.routes.clear()
    server.add("/hespress.com/feed", Reply(body=fixture("feeds/hespress.rss"), content_type="application/rss+xml"))
    server.add("/yabiladi.com/rss", Reply(body=fixture("feeds/yabiladi_truncated.rss") + b"tion>x</description></item></channel></rss>"))
    server.add("/medias24.com/feed/", Reply(body=fixture("feeds/lematin.rss"), content_type="text/xml"))
    server.add("/goud.ma/feed", Reply(body=fixture("feeds/telquel.atom")))
    _, produced = h.run("all")
    assert sorted(m.source for m in produced) == ["goud.ma", "medias24.com", "medias24.com", "yabiladi.com", "yabiladi.com"]


def test_news_search_keeps_moroccan_articles_and_names_their_outlet(server, keywords):
    server.add("/rss/search", Reply(body=fixture("news_search/google_news_fr.rss"), content_type="application/xml"))
    h = Harness(NewsSearchSource, keywords, {"base_url": server.url})
    summary, produced = h.run("fr:peines_alternatives")
    assert [m.source for m in produced] == ["medias24.com"]  # the Belgian debate has no Moroccan anchor
    assert produced[0].title.startswith("Peines alternatives : 1 077 personnes")
    request = server.seen("/rss/search")[0]
    assert request.params["hl"] == "fr" and request.params["ceid"] == "MA:fr"
    assert request.params["q"].startswith('"peines alternatives" OR') and request.params["q"].endswith("when:2d")
    assert h.source.queries()[:2] == ["fr:peines_alternatives", "ar:uqubat_badila"]


# -- Telegram (snscrape) -------------------------------------------------------------------------


def _telegram(server, *page1, page2=None):
    server.add("/s/qanoun_ma", *(page1 or (Reply(body=fixture("telegram/qanoun_ma_page1.html"), content_type="text/html"),)))
    server.add("/s/qanoun_ma", page2 or Reply(body=fixture("telegram/qanoun_ma_page2.html"), content_type="text/html"),
               params={"before": "205"})


def test_telegram_reads_channel_pages_through_snscrape(server, keywords):
    _telegram(server)
    h = Harness(TelegramSource, keywords, {"base_url": server.url, "channels": ["qanoun_ma"]})
    summary, produced = h.run("all")
    assert [m.native_id for m in produced] == ["qanoun_ma/202", "qanoun_ma/204", "qanoun_ma/205", "qanoun_ma/207"]
    m207 = produced[-1]
    assert m207.url == "https://t.me/qanoun_ma/207" and m207.source == "telegram:qanoun_ma"
    assert m207.query == "ar:uqubat_badila" and "يشري الحبس" in m207.text
    assert m207.published_at == datetime(2026, 11, 18, 10, 12, tzinfo=UTC)
    assert produced[2].title == "وهبي: العقوبات البديلة خففت الاكتظاظ"  # the link preview
    # snscrape's own requests (its browser User-Agent), following its "older messages" link;
    # 201 is older than the lookback, so reading stopped on page 2
    seen = server.seen()
    assert [(r.path, r.params) for r in seen] == [("/s/qanoun_ma", {}), ("/s/qanoun_ma", {"before": "205"})]
    assert all(r.headers["User-Agent"].startswith("Mozilla/5.0") for r in seen)
    assert summary.skipped == 2  # the weather and the football match
    assert h.cursor("all") == {"channels": {"qanoun_ma": {"id": 207}}}

    _, again = h.run("all")
    assert again == [] and len(server.seen()) == 3  # page 1 reaches the cursor: no second page


def test_telegram_honours_429_retry_after(server, keywords):
    _telegram(server, Reply(429, b"Too Many Requests", headers={"Retry-After": "3"}, content_type="text/html"),
              Reply(body=fixture("telegram/qanoun_ma_page1.html"), content_type="text/html"))
    h = Harness(TelegramSource, keywords, {"base_url": server.url, "channels": ["qanoun_ma"]})
    _, produced = h.run("all")
    assert h.sleeps == [3.0] and len(produced) == 4


def test_telegram_a_changed_page_layout_fails_the_channel_only(server, keywords):
    _telegram(server, Reply(body=fixture("telegram/changed_layout.html"), content_type="text/html"))
    server.add("/s/other_channel", Reply(body=fixture("telegram/qanoun_ma_page2.html"), content_type="text/html"))
    h = Harness(TelegramSource, keywords, {"base_url": server.url, "channels": ["qanoun_ma", "other_channel"],
                                           "lookback_hours": 48})
    with pytest.raises(CollectFailed):
        h.run("all")
    assert h.recorder.runs[-1].status == "partial" and "unreadable page" in h.recorder.runs[-1].messages[0]
    assert set(h.cursor("all")["channels"]) == {"other_channel"}


# -- YouTube -----------------------------------------------------------------------------------


def _youtube_search(server):
    server.add("/youtube/v3/search", json_reply("youtube/search_page1.json"))
    server.add("/youtube/v3/search", json_reply("youtube/search_page2.json"), params={"pageToken": "CDIQAA"})


def test_youtube_search_pages_spends_quota_and_resumes(server, keywords):
    _youtube_search(server)
    h = Harness(YouTubeSearchSource, keywords, {"base_url": f"{server.url}/youtube/v3"})
    _, produced = h.run("fr:peines_alternatives")
    # oldest first; the unboxing of a smartwatch "bracelet électronique" is noise
    assert [m.native_id for m in produced] == ["vD4e5F6g7H8", "vC3d4E5f6G7", "vA1b2C3d4E5"]
    assert produced[1].title == "Peines alternatives : l'avis d'un avocat"  # HTML entities decoded
    assert produced[2].url == "https://www.youtube.com/watch?v=vA1b2C3d4E5"
    assert produced[2].author.id.startswith("h:") and "UCx9K2a0bHesZp0sB4mQ3Lxw" not in produced[2].model_dump_json()
    assert h.quota.spent("youtube", quota_day(NOW)) == 200  # two search.list calls
    first = server.seen("/youtube/v3/search")[0]
    assert first.headers["X-Goog-Api-Key"] == "AIza-test-key" and "key" not in first.params
    assert first.params["type"] == "video" and first.params["order"] == "date" and first.params["q"].startswith(
        '"peines alternatives"|"sanctions alternatives"')
    assert first.params["publishedAfter"] == "2026-11-17T12:00:00Z"

    soon, _ = h.run("fr:peines_alternatives")
    assert soon.status == "not_due" and len(server.seen()) == 2  # searched every 2 hours (quota)
    h.ctx.clock = lambda: NOW + timedelta(hours=2)
    _, again = h.run("fr:peines_alternatives")
    assert again == []
    assert server.seen("/youtube/v3/search")[-2].params["publishedAfter"] == "2026-11-18T10:00:05Z"


def test_youtube_quota_budget_stops_the_run_without_failing_it(server, keywords):
    _youtube_search(server)
    h = Harness(YouTubeSearchSource, keywords, {"base_url": f"{server.url}/youtube/v3", "daily_quota": 150})
    summary, produced = h.run("fr:peines_alternatives")
    assert summary.status == "skipped" and "quota" in summary.messages[0]
    assert produced == [] and h.cursor("fr:peines_alternatives") is None
    assert len(server.seen()) == 1  # the second page would have gone over the budget


def test_youtube_comments_on_own_videos_are_all_kept(server, keywords):
    server.add("/youtube/v3/commentThreads", json_reply("youtube/comments_page1.json"), params={"videoId": "cmpVid00001"})
    server.add("/youtube/v3/commentThreads", json_reply("youtube/comments_page2.json"),
               params={"videoId": "cmpVid00001", "pageToken": "QURTSl9pMk"})
    server.add("/youtube/v3/commentThreads", json_reply("youtube/comments_disabled.json", status=403),
               params={"videoId": "cmpVid00002"})
    h = Harness(YouTubeCommentsSource, keywords, {"base_url": f"{server.url}/youtube/v3",
                                                  "video_ids": ["cmpVid00001", "cmpVid00002"]})
    with pytest.raises(CollectFailed) as err:
        h.run("own")
    assert err.value.permanent  # comments disabled: retrying will not help
    produced = h.produced
    assert [m.native_id for m in produced] == ["UgzCCC333", "UgzBBB222", "UgzBBB222.9xR1", "UgzAAA111"]
    assert {m.query for m in produced} == {"own"}  # addressed to the campaign: no keyword needed
    assert [m.kind for m in produced] == ["comment", "comment", "reply", "comment"]
    assert produced[1].metrics.likes == 12 and produced[1].url.endswith("&lc=UgzBBB222")
    assert h.quota.spent("youtube", quota_day(NOW)) == 3
    assert set(h.cursor("own")["channels"]) == {"cmpVid00001"}


# -- Meta Graph ----------------------------------------------------------------------------------


def _meta(server):
    page = "104512345678901"
    server.add(f"/graph/{page}/posts", json_reply("meta/page_posts.json"))
    post1 = f"{page}_2023331143112571"
    server.add(f"/graph/{post1}/comments", json_reply("meta/post1_comments_page1.json"))
    server.add(f"/graph/{post1}/comments", json_reply("meta/post1_comments_page2.json"), params={"after": "MgZDZD"})
    server.add(f"/graph/{page}_2023331143112000/comments", json_reply("meta/post2_comments.json"))
    server.add("/graph/17841400000000001/media", json_reply("meta/ig_media.json"))
    server.add("/graph/18012345678901234/comments", json_reply("meta/ig_comments.json"))
    server.add("/graph/17841400000000001/tags", json_reply("meta/ig_tags.json"))


def test_meta_reads_comments_on_the_page_and_instagram_mentions(server, keywords):
    _meta(server)
    h = Harness(MetaSource, keywords, {"base_url": f"{server.url}/graph", "page_id": "104512345678901",
                                       "ig_user_id": "17841400000000001"})
    summary, produced = h.run("own")
    assert summary.status == "ok"
    fb = [m for m in produced if m.platform == "facebook"]
    ig = [m for m in produced if m.platform == "instagram"]
    assert [m.native_id for m in fb] == ["2023331143112571_1377900905464418", "2023331143112571_1377900905464419",
                                         "2023331143112571_1377900905464420"]
    assert fb[0].kind == "reply" and fb[1].metrics.likes == 21 and fb[0].source == "facebook:page:campaign"
    assert {m.source for m in ig} == {"instagram:comments:campaign", "instagram:tags:campaign"}
    assert len(ig) == 3 and all(m.author.id.startswith("h:") for m in produced)
    assert "6123456789012346" not in json.dumps([m.model_dump(mode="json") for m in produced])
    # the page token travels in the Authorization header, never in a URL
    assert all(r.headers["Authorization"] == "Bearer EAAB-page-token" and "access_token" not in r.params
               for r in server.seen())
    assert server.seen("/graph/104512345678901_2023331143112571/comments")[1].params["after"] == "MgZDZD"
    assert not server.seen("/graph/18012345678900000/comments")  # media older than the window are not read

    _, again = h.run("own")
    assert again == []


def test_meta_an_expired_token_fails_for_good(server, keywords):
    server.add("/graph/104512345678901/posts", json_reply("meta/token_expired.json", status=400))
    h = Harness(MetaSource, keywords, {"base_url": f"{server.url}/graph", "page_id": "104512345678901"})
    with pytest.raises(CollectFailed) as err:
        h.run("own")
    assert err.value.permanent
    assert "EAAB-page-token" not in str(err.value) and "EAAB-page-token" not in " ".join(h.recorder.runs[-1].messages)


# -- X -------------------------------------------------------------------------------------------


def test_x_pages_back_then_yields_oldest_first_and_resumes_with_since_id(server, keywords):
    server.add("/x/2/tweets/search/recent", json_reply("x/search_page1.json"))
    server.add("/x/2/tweets/search/recent", json_reply("x/search_page2.json"),
               params={"next_token": "b26v89c19zqg8o3fo7gesq314yb9l2l4ptqy"})
    h = Harness(XSource, keywords, {"base_url": f"{server.url}/x/2"})
    _, produced = h.run("fr:peines_alternatives")
    assert [m.native_id[-3:] for m in produced] == ["101", "102", "103", "105"]  # the promo (104) is noise
    assert produced[2].kind == "reply" and produced[3].metrics.views == 250
    assert produced[0].url == "https://x.com/i/web/status/1991000000000000101"
    first = server.seen()[0]
    assert first.headers["Authorization"] == "Bearer AAAA-bearer"
    assert first.params["query"].endswith(") -is:retweet") and "#PeinesAlternatives" in first.params["query"]
    assert first.params["start_time"] == "2026-11-17T12:00:00Z"
    assert h.cursor("fr:peines_alternatives") == {"since_id": "1991000000000000105"}

    server.routes.clear()
    server.add("/x/2/tweets/search/recent", json_reply("x/search_empty.json"))
    _, again = h.run("fr:peines_alternatives")
    assert again == [] and server.seen()[-1].params["since_id"] == "1991000000000000105"


def test_x_rate_limit_beyond_the_cap_fails_the_run_and_keeps_the_cursor(server, keywords):
    import time

    server.add("/x/2/tweets/search/recent",
               json_reply("x/rate_limited.json", status=429, headers={"x-rate-limit-reset": str(int(time.time()) + 900)}))
    h = Harness(XSource, keywords, {"base_url": f"{server.url}/x/2"})
    with pytest.raises(CollectFailed, match="asks to wait"):
        h.run("fr:peines_alternatives")
    assert h.cursor("fr:peines_alternatives") is None and h.sleeps == []


# -- Reddit --------------------------------------------------------------------------------------


def test_reddit_gets_a_token_then_pages_the_search(server, keywords, monkeypatch):
    server.add("/api/v1/access_token", json_reply("reddit/token.json"), method="POST")
    path = "/reddit/r/Morocco+Maroc/search"
    server.add(path, json_reply("reddit/search_page1.json"))
    server.add(path, json_reply("reddit/search_page2.json"), params={"after": "t3_1gx0003"})
    monkeypatch.setenv("SADA_REDDIT_AUTH_URL", f"{server.url}/api/v1/access_token")
    h = Harness(RedditSource, keywords, {"base_url": f"{server.url}/reddit", "subreddits": ["Morocco", "Maroc"]})
    _, produced = h.run("fr:peines_alternatives")
    assert [m.native_id for m in produced] == ["t3_1gx0003", "t3_1gx0005"]  # the gold bracelet is dropped
    assert produced[0].source == "reddit:r/Maroc" and produced[0].metrics.likes == 0  # score -2
    assert produced[1].url == "https://www.reddit.com/r/Morocco/comments/1gx0005/slug/"
    token = server.seen("/api/v1/access_token")[0]
    assert token.body == b"grant_type=client_credentials" and token.headers["Authorization"].startswith("Basic ")
    search = server.seen(path)[0]
    assert search.headers["Authorization"].startswith("bearer eyJ") and "sada-collector" in search.headers["User-Agent"]
    assert search.params["sort"] == "new" and search.params["restrict_sr"] == "1"
    _, again = h.run("fr:peines_alternatives")
    assert again == []


# -- Mastodon ------------------------------------------------------------------------------------


def test_mastodon_pages_forward_from_min_id_and_a_failure_halfway_loses_nothing(server, keywords):
    tag = "/mastodon/api/v1/timelines/tag/PeinesAlternatives"
    server.add(tag, json_reply("mastodon/tag_latest.json"))
    h = Harness(MastodonSource, keywords, {}, mastodon_base_url=f"{server.url}/mastodon")
    _, first = h.run("fr:peines_alternatives")
    # the boost and the status older than the lookback are left out
    assert [m.native_id.rsplit("/", 1)[1] for m in first] == ["113500000000000010", "113500000000000030"]
    assert first[1].text.startswith("Ce qui me frappe") and "<p>" not in first[1].text
    assert first[1].source == "mastodon:127.0.0.1"
    assert h.cursor("fr:peines_alternatives") == {"channels": {"PeinesAlternatives": {"min_id": "113500000000000030"}}}

    # next run: page 1 arrives, page 2 keeps failing
    server.add(tag, json_reply("mastodon/tag_after_30_page1.json"), params={"min_id": "113500000000000030"})
    server.add(tag, Reply(503), params={"min_id": "113500000000000079"})
    with pytest.raises(CollectFailed):
        h.run("fr:peines_alternatives")
    assert len(h.produced) == 2 + 40
    assert h.cursor("fr:peines_alternatives")["channels"]["PeinesAlternatives"] == {"min_id": "113500000000000079"}

    # the instance recovers: the run resumes exactly after status 79
    server.add(tag, json_reply("mastodon/tag_after_79_page2.json"), params={"min_id": "113500000000000079"})
    server.routes = [r for r in server.routes if not (r.params.get("min_id") == "113500000000000079" and r.replies[0].status == 503)]
    server.add(tag, json_reply("mastodon/empty.json"), params={"min_id": "113500000000000081"})
    _, third = h.run("fr:peines_alternatives")
    assert [m.native_id.rsplit("/", 1)[1] for m in third] == ["113500000000000080"]  # 81 is private
    ids = [m.id for m in h.produced]
    assert len(ids) == len(set(ids)) == 43
    assert h.cursor("fr:peines_alternatives")["channels"]["PeinesAlternatives"] == {"min_id": "113500000000000081"}


def test_mastodon_without_an_instance_is_skipped(keywords):
    h = Harness(MastodonSource, keywords, {})
    summary, _ = h.run("fr:peines_alternatives")
    assert summary.status == "skipped" and "SADA_MASTODON_BASE_URL" in summary.messages[0]


# -- Replay --------------------------------------------------------------------------------------


def test_replay_resumes_after_its_last_line_and_counts_bad_lines(keywords, tmp_path):
    path = tmp_path / "mentions.jsonl"
    shutil.copy(HERE / "replay" / "mentions.jsonl", path)
    h = Harness(ReplaySource, keywords, {}, replay_file=path)
    summary, produced = h.run("all")
    assert [m.native_id for m in produced] == ["2119642009376708360", "qanoun_ma/99"]
    assert summary.errors == 1 and summary.skipped == 1  # line 3 is invalid, line 2 is football
    assert h.cursor("all") == {"file": str(path), "line": 4}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"platform": "x", "native_id": "77", "text": "Les peines alternatives au Maroc",
                             "published_at": "2026-11-18T10:00:00+01:00", "source": "x:recent_search"}) + "\n")
    _, more = h.run("all")
    assert [m.native_id for m in more] == ["77"]


def test_canonical_ids_do_not_depend_on_tracking_parameters():
    a = canonical_url("https://www.hespress.com/a-1.html?utm_source=rss&utm_medium=feed")
    assert a == canonical_url("https://hespress.com/a-1.html")
