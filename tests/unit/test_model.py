from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from sada.model import (
    MYTHS,
    SCHEMA_VERSION,
    TOPICS,
    Mention,
    Metrics,
    canonical_url,
    hash_author_id,
    mention_id,
)
from tests.builders import mention


def test_same_post_collected_twice_gets_the_same_id():
    first = mention(1)
    again = Mention.new(platform="x", source="x:other_query", native_id="1000001", text="edited text",
                        published_at=first.published_at, collected_at=datetime.now(UTC))
    assert first.id == again.id
    assert first.id.startswith("x-")


def test_id_differs_by_platform_and_native_id():
    assert mention_id("x", "1") != mention_id("telegram", "1")
    assert mention_id("x", "1") != mention_id("x", "2")


def test_id_from_url_ignores_tracking_and_www():
    a = mention_id("news", url="https://www.hespress.com/article-123?utm_source=facebook&fbclid=abc")
    b = mention_id("news", url="http://hespress.com/article-123/")
    assert a == b
    assert mention_id("news", url="https://hespress.com/article-124") != a


def test_canonical_url_keeps_meaningful_query():
    assert canonical_url("https://site.ma/p?id=7&utm_medium=x") == "https://site.ma/p?id=7"


def test_id_needs_native_id_or_url():
    with pytest.raises(ValueError, match="native id or a URL"):
        mention_id("x")


def test_naive_datetimes_are_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="must carry a time zone"):
        Mention(id="x-1", platform="x", source="s", text="t",
                published_at=datetime(2026, 11, 18, 9, 0), collected_at=datetime.now(UTC))  # noqa: DTZ001


def test_unknown_taxonomy_ids_are_refused():
    with pytest.raises(ValidationError, match="unknown myth"):
        mention(1, myths=["impunity", "made_up"])
    with pytest.raises(ValidationError, match="unknown topic"):
        mention(1, topics=["tax_evasion"])


def test_taxonomy_ids_are_sorted_and_deduplicated():
    m = mention(1, topics=["day_fine", "community_service", "day_fine"])
    assert m.topics == ["community_service", "day_fine"]
    assert len(TOPICS) == 9 and len(MYTHS) == 8


def test_newer_schema_version_is_refused():
    data = mention(1).model_dump(mode="json")
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ValidationError, match="newer than this Sada"):
        Mention.model_validate(data)


def test_unknown_fields_are_kept_through_a_round_trip():
    data = mention(2).model_dump(mode="json")
    data["gold"] = {"lang": "ar"}
    back = Mention.model_validate_json(Mention.model_validate(data).to_json_bytes())
    assert back.model_extra["gold"] == {"lang": "ar"}


def test_author_hash_is_stable_salted_and_not_the_id():
    h1 = hash_author_id("x", "12345", "salt-a")
    assert h1 == hash_author_id("x", "12345", "salt-a")
    assert h1 != hash_author_id("x", "12345", "salt-b")
    assert "12345" not in h1


def test_unreported_engagement_counts_are_zero_but_negative_or_text_is_refused():
    m = Metrics.model_validate({"likes": None, "shares": None, "comments": 3, "views": None})
    assert (m.likes, m.shares, m.comments, m.views) == (0, 0, 3, None)
    for bad in ({"likes": -1}, {"shares": "many"}):
        with pytest.raises(ValidationError):
            Metrics.model_validate(bad)
