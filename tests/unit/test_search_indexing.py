"""The index consumer's bulk writer, against a scripted Elasticsearch client (no server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError
from kafka.consumer.fetcher import ConsumerRecord

from consumers.index import BulkItem, IndexHandler, bulk_index, document_json, to_document
from sada.errors import TransientError
from sada.settings import Settings
from tests.builders import mention


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    return ApiError(f"{status}", meta=meta, body={"error": {"type": "x"}})


class ScriptedES:
    """Answers each bulk call with the next scripted outcome: statuses, or an exception."""

    def __init__(self, *script) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def bulk(self, operations, filter_path=None):
        # The handler sends each line already serialized, as Elasticsearch receives it.
        ids = [json.loads(op)["index"]["_id"] for op in operations[::2]]
        self.calls.append(ids)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            step = step(ids)
        items = []
        for doc_id in ids:
            status = step.get(doc_id, 201) if isinstance(step, dict) else step
            outcome = {"status": status}
            if status >= 400:
                outcome["error"] = {"type": "document_parsing_exception", "reason": f"bad {doc_id}",
                                    "caused_by": {"type": "illegal_argument_exception", "reason": "For input"}}
            items.append({"index": outcome})
        return {"errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


def _items(n: int) -> list[BulkItem]:
    return [BulkItem("mentions-2026.11", f"d{i}", {"text": f"t{i}"}) for i in range(n)]


def test_items_refused_for_now_are_resent_alone_with_backoff():
    sleeps: list[float] = []
    es = ScriptedES({"d1": 429, "d3": 503}, {"d3": 429}, {})
    rejected = bulk_index(es, _items(4), sleep=sleeps.append)
    assert rejected == {}
    assert es.calls == [["d0", "d1", "d2", "d3"], ["d1", "d3"], ["d3"]]
    assert sleeps == [0.2, 0.4]


def test_still_refused_after_the_retries_is_transient():
    es = ScriptedES(429, 429, 429, 429)
    with pytest.raises(TransientError, match="2 documents still refused"):
        bulk_index(es, _items(2), sleep=lambda s: None)
    assert len(es.calls) == 4  # the first try and three retries


def test_rejected_for_good_carries_elasticsearch_reason_and_is_not_retried():
    es = ScriptedES({"d1": 400, "d2": 429}, {})
    rejected = bulk_index(es, _items(3), sleep=lambda s: None)
    assert rejected == {1: "400 document_parsing_exception: bad d1 (caused by illegal_argument_exception: For input)"}
    assert es.calls[1] == ["d2"]


@pytest.mark.parametrize("error,message", [
    (ConnectionError("refused"), "unreachable"),
    (_api_error(429), "answered 429"),
    (_api_error(503), "answered 503"),
    (_api_error(401), r"refused the bulk request \(401\).*SADA_ES_API_KEY"),
])
def test_whole_request_failures_are_transient(error, message):
    with pytest.raises(TransientError, match=message):
        bulk_index(ScriptedES(error), _items(2), sleep=lambda s: None)


def test_a_bad_request_is_a_bug_not_a_transient_error():
    with pytest.raises(ApiError):
        bulk_index(ScriptedES(_api_error(400)), _items(2), sleep=lambda s: None)


def test_request_too_large_is_split():
    es = ScriptedES(_api_error(413), {}, _api_error(413), {}, {})
    assert bulk_index(es, _items(4), sleep=lambda s: None) == {}
    assert es.calls == [["d0", "d1", "d2", "d3"], ["d0", "d1"], ["d2", "d3"], ["d2"], ["d3"]]


def _record(offset: int, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(topic="mentions.enriched", partition=0, leader_epoch=0, offset=offset, timestamp=0,
                          timestamp_type=0, key=b"k", value=value, headers=[], checksum=None,
                          serialized_key_size=1, serialized_value_size=len(value or b""), serialized_header_size=0)


def test_handler_dead_letters_poison_and_rejected_documents_and_indexes_by_id():
    good = [mention(i) for i in range(3)]
    es = ScriptedES(lambda ids: {good[1].id: 400})
    handler = IndexHandler(Settings(index_prefix="camp-"), es=es, sleep=lambda s: None)
    records = [_record(0, good[0].to_json_bytes()), _record(1, b"{not json"), _record(2, good[1].to_json_bytes()),
               _record(3, good[2].to_json_bytes())]
    result = handler.handle(records).resolve()
    assert es.calls == [[m.id for m in good]]
    assert [(d.record.offset, d.reason) for d in result.dead] == [(1, "not_json"), (2, "es_rejected")]
    assert result.dead[1].detail.startswith("400 document_parsing_exception")
    assert result.outputs == []


def test_handler_writes_in_chunks(monkeypatch):
    import consumers.index as ci

    monkeypatch.setattr(ci, "CHUNK_DOCS", 2)
    es = ScriptedES({}, {}, {})
    handler = IndexHandler(Settings(), es=es, sleep=lambda s: None)
    handler.handle([_record(i, mention(i).to_json_bytes()) for i in range(5)]).resolve()
    assert [len(c) for c in es.calls] == [2, 2, 1]


def test_document_adds_figures_and_search_variants_but_keeps_the_mention():
    m = mention(3, text="wach l9anoun dyal #العقوبات_البديلة", lang="ary",
                author={"handle": "h", "followers": 120}, metrics={"likes": 2, "shares": 1, "comments": 4})
    doc = to_document(m, datetime(2026, 11, 18, tzinfo=UTC))
    assert doc["id"] == m.id and doc["text"] == m.text and doc["lang"] == "ary"
    assert doc["reach"] == 120 and doc["engagement"] == 7 and doc["indexed_at"] == "2026-11-18T00:00:00+00:00"
    assert "qanoun" in doc["text_variants"] and "العقوبات البديلة" in doc["text_variants"]
    assert "text_variants" not in to_document(mention(4, text="ok"), datetime(2026, 11, 18, tzinfo=UTC))


@pytest.mark.parametrize("text, title", [
    ("wach l9anoun dyal #العقوبات_البديلة", None),
    ('guillemets "doubles", antislash \\ et \u202e bidi', "Titre « peines alternatives »"),
    ("ok", None),
    ("ligne\nsuivante", None),
])
def test_the_serialized_document_the_consumer_sends_is_exactly_to_document(text, title):
    m = mention(5, text=text, title=title, lang="fr", metrics={"likes": 1, "shares": 0, "comments": 2})
    now = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    sent = document_json(m, now)
    assert json.loads(sent) == to_document(m, now)
    assert b"\n" not in sent  # one NDJSON line, even with a line break in the text



def test_sada_index_waits_for_elasticsearch_then_gives_up_with_a_hint():
    from sada.errors import ServiceError
    from sada.indices import IndexFileReport, _bulk_with_wait

    sleeps: list[float] = []
    report = IndexFileReport("f.jsonl")
    es = ScriptedES(ConnectionError("refused"), _api_error(503), {})
    assert _bulk_with_wait(es, _items(2), report, max_wait=60, sleep=sleeps.append) == {}
    assert report.retries == 2 and sleeps == [0.5, 1.0]

    down = ScriptedES(*[ConnectionError("refused")] * 10)
    with pytest.raises(ServiceError, match=r"still unavailable after \d+s.*run the same command again"):
        _bulk_with_wait(down, _items(1), IndexFileReport("f"), max_wait=3, sleep=lambda s: None)
