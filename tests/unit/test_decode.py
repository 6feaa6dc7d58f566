import json

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from consumers.runloop import DeadLetter, dead_letter_value, decode_mention
from sada.errors import PoisonMessage
from tests.builders import mention


def record(value: bytes | None, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord("mentions.raw", 2, 0, offset, 0, 0, b"k", value, [], None, 0,
                          len(value or b""), -1)


@pytest.mark.parametrize(("value", "reason"), [
    (b"\xff\xfe not utf8", "invalid_utf8"),
    (b"{not json", "not_json"),
    (b"[1, 2]", "not_json_object"),
    (b'{"id": "x-1", "text": "no platform"}', "schema"),
    (None, "empty"),
])
def test_poison_messages_get_a_reason(value, reason):
    with pytest.raises(PoisonMessage) as err:
        decode_mention(record(value), max_text_chars=1000)
    assert err.value.reason == reason


def test_schema_errors_name_the_fields():
    with pytest.raises(PoisonMessage, match="platform") as err:
        decode_mention(record(b'{"id": "x-1", "text": "t"}'), 1000)
    assert "published_at" in str(err.value)


def test_oversized_text_is_refused_before_validation():
    big = mention(1, text="ا" * 5000).to_json_bytes()
    with pytest.raises(PoisonMessage, match="5,000 characters") as err:
        decode_mention(record(big), max_text_chars=4000)
    assert err.value.reason == "too_large"


def test_valid_mention_round_trips():
    m = mention(3)
    assert decode_mention(record(m.to_json_bytes()), 1000) == m


def test_dead_letter_carries_reason_position_and_original_bytes():
    import base64

    raw = b"\xff\x00 broken"
    value = json.loads(dead_letter_value(DeadLetter(record(raw, offset=42), "invalid_utf8", "bad"), "enrich"))
    assert value["reason"] == "invalid_utf8"
    assert (value["topic"], value["partition"], value["offset"]) == ("mentions.raw", 2, 42)
    assert base64.b64decode(value["original_b64"]) == raw
    assert value["consumer_group"] == "enrich"
