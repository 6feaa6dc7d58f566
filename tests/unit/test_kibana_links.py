"""KQL (the subset the saved objects use), rison, and Discover deep links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from sada.kibana import (
    KqlError,
    discover_url,
    kql_comparisons,
    kql_fields,
    kql_quote,
    kql_to_dsl,
    parse_kql,
    rison_dumps,
    rison_loads,
)


@pytest.mark.parametrize("kql,dsl", [
    ("", {"match_all": {}}),
    ("stance:question", {"match": {"stance": "question"}}),
    ('text:"peine alternative"', {"match_phrase": {"text": "peine alternative"}}),
    ("myths:*", {"exists": {"field": "myths"}}),
    ("reach >= 1000", {"range": {"reach": {"gte": "1000"}}}),
    ("العقوبات البديلة", {"multi_match": {"type": "best_fields", "query": "العقوبات البديلة", "lenient": True}}),
    ('"peines alternatives"', {"multi_match": {"type": "phrase", "query": "peines alternatives", "lenient": True}}),
    ("not relevant:false and (lang:fr OR lang:ar)", {"bool": {"filter": [
        {"bool": {"must_not": [{"match": {"relevant": "false"}}]}},
        {"bool": {"should": [{"match": {"lang": "fr"}}, {"match": {"lang": "ar"}}], "minimum_should_match": 1}}]}}),
    ("myths:(impunity or mass_release) and not stance:support", {"bool": {"filter": [
        {"bool": {"should": [{"match": {"myths": "impunity"}}, {"match": {"myths": "mass_release"}}],
                  "minimum_should_match": 1}},
        {"bool": {"must_not": [{"match": {"stance": "support"}}]}}]}}),
    ("author.handle:a\\:b", {"match": {"author.handle": "a:b"}}),
])
def test_kql_translates_as_kibana_does(kql, dsl):
    assert kql_to_dsl(parse_kql(kql)) == dsl


def test_kql_fields_and_comparisons():
    node = parse_kql("not relevant:false and toxicity:* and myths:(impunity or foreign_agenda) and reach > 5")
    assert kql_fields(node) == {"relevant", "toxicity", "myths", "reach"}
    assert kql_comparisons(node) == [("relevant", "false"), ("myths", "impunity"), ("myths", "foreign_agenda")]


@pytest.mark.parametrize("kql", ["stance:(question", "myths:imp*", "a:b:c", "stance:", "text:{a:b}", '"open'])
def test_kql_outside_the_subset_is_refused(kql):
    with pytest.raises(KqlError):
        parse_kql(kql)


def test_kql_quote_makes_any_text_a_single_value():
    for text in ['a "b" \\ c', "x or y", "not: (z)*", "العقوبات"]:
        node = parse_kql(f"text:{kql_quote(text)}")
        assert node.op == "is" and node.value == text and node.phrase


@pytest.mark.parametrize("value,encoded", [
    ({"a": 0, "b": "foo", "c": "23skidoo"}, "(a:0,b:foo,c:'23skidoo')"),
    (True, "!t"), (False, "!f"), (None, "!n"), ("", "''"), (-3, "-3"), (1.5, "1.5"),
    ("-h", "'-h'"), ("a-z", "a-z"), ("wow!", "'wow!!'"), ("domain.com", "domain.com"),
    ("user@domain.com", "'user@domain.com'"), ("US $10", "'US $10'"), ("can't", "'can!'t'"),
    ([], "!()"), ([1, "x y", {"k": []}], "!(1,'x y',(k:!()))"), ("العقوبات", "العقوبات"),
])
def test_rison_encoding_matches_the_spec(value, encoded):
    assert rison_dumps(value) == encoded
    assert rison_loads(encoded) == value


def _state(url: str) -> tuple[str, dict, dict]:
    parts = urlsplit(url)
    assert parts.fragment.startswith("/?")
    params = dict(parse_qsl(parts.fragment[2:], keep_blank_values=True))
    assert set(params) == {"_g", "_a"}
    return parts.scheme + "://" + parts.netloc + parts.path, rison_loads(params["_g"]), rison_loads(params["_a"])


def test_discover_url_carries_time_range_query_and_data_view():
    start = datetime(2026, 11, 18, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    end = start + timedelta(hours=2)
    url = discover_url("https://kibana.example/s/ncsc/", "myths:impunity and platform:x", start, end,
                       columns=["platform", "text"])
    base, g, a = _state(url)
    assert base == "https://kibana.example/s/ncsc/app/discover"
    assert g["time"] == {"from": "2026-11-18T08:30:00.000Z", "to": "2026-11-18T10:30:00.000Z"}
    assert a["query"] == {"language": "kuery", "query": "myths:impunity and platform:x"}
    assert a["index"] == "sada-mentions" and a["columns"] == ["platform", "text"]
    assert a["sort"] == [["published_at", "desc"]]


def test_discover_url_escapes_user_text_so_it_survives_the_round_trip():
    hostile = "l'amende & \"co\" #1 +2 50% = !(x) العقوبات\n"
    url = discover_url("https://kb", f"text:{kql_quote(hostile)}", "now-24h", "now", data_view_id="sada-alerts")
    fragment = urlsplit(url).fragment
    for raw in (" ", "#", "\n", '"', "+"):
        assert raw not in fragment, f"{raw!r} must be percent-encoded"
    assert fragment.count("&") == 1  # only the separator between _g and _a
    _, g, a = _state(url)
    assert g["time"] == {"from": "now-24h", "to": "now"} and a["index"] == "sada-alerts"
    assert parse_kql(a["query"]["query"]).value == hostile
    assert unquote(fragment).count("العقوبات") == 1


def test_discover_url_needs_aware_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        discover_url("https://kb", "", datetime(2026, 11, 18), datetime.now(UTC))  # noqa: DTZ001
