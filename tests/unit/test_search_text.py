"""Spelling variants, the search query, and what ``sada search`` prints (no Elasticsearch)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sada.errors import ConfigError
from sada.search import (
    Hit,
    SearchRequest,
    build_search,
    clean_terminal,
    escape_json_text,
    format_hit,
    hit_json,
    parse_since,
    parse_user_query,
    search_kql,
    spelling_variants,
    word_variants,
)

CASA = ZoneInfo("Africa/Casablanca")


@pytest.mark.parametrize("word,expected", [
    ("بعقوبة", ["عقوبة"]),                 # ب alone: the light stemmer leaves it
    ("لعقوبة", ["عقوبة"]),
    ("كعقوبة", ["عقوبة"]),
    ("وبعقوبات", ["عقوبات"]),               # و + ب
    ("وبالعقوبات", ["عقوبات"]),             # و + ب + ال
    ("فبالقانون", ["قانون"]),
    ("بِعُقُوبَةٍ", ["عقوبة"]),              # harakat do not hide the prefix
    ("#العقوبات_البديلة", ["العقوبات البديلة"]),
    ("#PeinesAlternatives", ["Peines Alternatives"]),
    ("#Loi43_22", ["Loi 43 22", "43.22"]),
    ("43-22", ["43.22", "43 22"]),
    ("43/22", ["43.22", "43 22"]),
    ("l9anoun", ["lqanoun", "9anoun", "qanoun"]),
    ("lbadila", ["badila"]),
    ("3la", ["ala"]),
    ("el9anoun", ["elqanoun", "9anoun", "qanoun"]),
])
def test_word_variants(word, expected):
    assert word_variants(word) == expected


@pytest.mark.parametrize("word", ["والعقوبات", "العقوبات", "بحث", "2025", "covid19", "liberte", "alternative",
                                  "elle", "TIG", "peines", "lundi"])
def test_words_the_analyzers_already_handle_get_no_variant(word):
    # وال and ال are the stemmer's; short remainders and ordinary Latin words are left alone.
    assert word_variants(word) == []


def test_spelling_variants_of_a_post_are_deduplicated_and_capped():
    text = "wach l9anoun dyal l3o9oubat lbadila #العقوبات_البديلة l9anoun " + " ".join(f"l{i}x9a" for i in range(500))
    variants = spelling_variants("Titre #PeinesAlternatives", text, limit=50)
    assert variants[:2] == ["Peines Alternatives", "lqanoun"]
    assert len(variants) == 50 and len(set(variants)) == 50
    assert spelling_variants(None, "") == []


def test_user_query_words_phrases_and_exclusions():
    q = parse_user_query('peine "bracelet électronique" -or  -"en or" العقوبات ""')
    assert q.words == ("peine", "العقوبات")
    assert q.phrases == ("bracelet électronique",)
    assert q.excluded == ("or", "en or")


def test_build_search_requires_every_word_with_its_variants_and_filters():
    req = SearchRequest(query='l9anoun "peine alternative" -or', langs=["fr", "ary"], myths=["impunity"],
                        since=datetime(2026, 11, 1, tzinfo=UTC), limit=5)
    body = build_search(req)
    must = body["query"]["bool"]["must"]
    alternatives = [c["multi_match"]["query"] for c in must[0]["bool"]["should"]]
    assert alternatives == ["l9anoun", "lqanoun", "9anoun", "qanoun"]
    assert all(c["multi_match"]["operator"] == "and" for c in must[0]["bool"]["should"])
    assert must[1]["multi_match"] == {"query": "peine alternative", "type": "phrase",
                                      "fields": ["text", "text.fr", "text.ar", "title", "title.fr", "title.ar"]}
    assert body["query"]["bool"]["must_not"][0]["multi_match"]["query"] == "or"
    assert {"terms": {"lang": ["fr", "ary"]}} in body["query"]["bool"]["filter"]
    assert {"terms": {"myths": ["impunity"]}} in body["query"]["bool"]["filter"]
    assert {"range": {"published_at": {"gte": "2026-11-01T00:00:00+00:00"}}} in body["query"]["bool"]["filter"]
    assert body["sort"][0] == "_score" and body["size"] == 5  # relevance by default with a query


def test_no_query_lists_the_newest_and_sort_can_be_forced():
    body = build_search(SearchRequest())
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["sort"][0] == {"published_at": {"order": "desc"}}
    assert build_search(SearchRequest(query="x", sort="newest"))["sort"][0] == {"published_at": {"order": "desc"}}


@pytest.mark.parametrize("kwargs,message", [
    ({"langs": ["fra"]}, "unknown lang id(s) ['fra']"),
    ({"myths": ["impunite"]}, "unknown myth id(s) ['impunite']"),
    ({"platforms": ["tiktok"]}, "unknown platform id(s)"),
    ({"topics": ["tig"]}, "community_service"),
    ({"limit": 0}, "--limit"),
    ({"sort": "oldest"}, "unknown sort"),
])
def test_request_refuses_ids_outside_the_taxonomy(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        SearchRequest(**kwargs)


def test_since_accepts_durations_dates_in_casablanca_and_iso():
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now, CASA) == datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now, CASA) == datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    assert parse_since("2w", now, CASA) == datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    midnight = parse_since("2026-11-01", now, CASA)
    assert midnight.tzinfo == CASA and midnight.astimezone(UTC) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert parse_since("2026-11-01T08:00+00:00", now, CASA) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    with pytest.raises(ConfigError, match="cannot read --since"):
        parse_since("last week", now, CASA)


HOSTILE = ("\x1b[2J\x1b[31mRED\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x9b31m "
           "bell\x07 null\x00 \u202eevil\u202c \u2066iso\u2069 nl\nnext\r\tend\x7f")


def test_clean_terminal_strips_escapes_controls_and_bidi_overrides():
    cleaned = clean_terminal(HOSTILE)
    assert cleaned == "RED link bell null evil iso nl next end"
    assert all(c.isprintable() for c in cleaned)
    assert clean_terminal("العقوبات البديلة " * 20, limit=30).endswith("…")
    assert len(clean_terminal("x" * 100, limit=30)) == 30


def _hit(**over) -> Hit:
    base = dict(id="x-1", published_at=datetime(2026, 11, 18, 9, 5, tzinfo=UTC), platform="x",
                author="@amine\x1b[31m", lang="fr", url="https://x.test/1\x1b]8;;evil\x07",
                snippet=(("Les ", False), ("peines", True), (" \x1b[2Jalternatives", False)), score=3.2,
                labels={"myths": [], "topics": ["day_fine"], "stance": "neutral", "toxicity": "none",
                        "cluster_id": None, "reach": 12})
    base.update(over)
    return Hit(**base)


def test_format_hit_shows_casablanca_time_and_nothing_a_post_could_inject():
    plain = format_hit(_hit(), CASA)
    assert plain.splitlines()[0] == "2026-11-18 10:05  x  @amine  [fr]"  # UTC+1 in November
    assert "[[peines]]" in plain and "\x1b" not in plain and "https://x.test/1" in plain
    colored = format_hit(_hit(), CASA, color=True)
    assert "\x1b[1mpeines\x1b[0m" in colored
    assert "\x1b[2J" not in colored and "\x1b[31m" not in colored and "\x07" not in colored


def test_json_output_keeps_text_but_escapes_controls():
    dumped = escape_json_text(json.dumps(hit_json(_hit(author="@a\u202eb\x9b\n"), CASA), ensure_ascii=False,
                                         indent=2))
    assert "\u202e" not in dumped and "\\u202e" in dumped and "\x9b" not in dumped and "\\u009b" in dumped
    assert dumped.startswith("{\n  ")  # the layout's own newlines stay
    data = json.loads(dumped)
    assert data["author"] == "@a\u202eb\x9b\n" and data["published_at"] == "2026-11-18T10:05:00+01:00"
    assert data["highlights"] == ["peines"] and data["topics"] == ["day_fine"]


def test_search_kql_quotes_user_text():
    kql = search_kql(SearchRequest(query='amende "l\'or" -x" or *', langs=["fr", "ar"]))
    assert kql == '"amende" and "or" and "*" and "l\'or" and not "x\\"" and lang:("fr" or "ar")'
    from sada.kibana import kql_to_dsl, parse_kql

    clauses = kql_to_dsl(parse_kql(kql))["bool"]["filter"]  # whatever the user typed, it stays text
    assert [c["multi_match"]["query"] for c in clauses[:4]] == ["amende", "or", "*", "l'or"]
    assert clauses[4] == {"bool": {"must_not": [{"multi_match": {"type": "phrase", "query": 'x"', "lenient": True}}]}}
    assert clauses[5]["bool"]["should"] == [{"match_phrase": {"lang": "fr"}}, {"match_phrase": {"lang": "ar"}}]
