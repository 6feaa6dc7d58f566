"""The runner's guarantees, with an in-memory source, cursor store and producer.

Cursors move only after delivery; a run resumes right after the last item produced; a source
failing halfway or a producer failing loses nothing and duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import ChannelFailed, Fetched, Mark, Source, SourceContext, Unusable, after
from collectors.config import CollectorSettings, SourceOptions
from collectors.cursors import MemoryCursorStore
from collectors.errors import CollectFailed, SourceRejected, SourceUnavailable
from collectors.keywords import load_keywords
from collectors.runner import collect
from collectors.runs import MemoryRunRecorder
from sada.errors import ServiceError
from sada.model import Platform

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
RELEVANT = "Les peines alternatives au Maroc : premier bilan"
NOISE = "Soldes : bracelet en or et montres connectées"


class FakeSource(Source):
    """A time-ordered stream with (time, id) cursors, like the RSS and Meta connectors."""

    name = "fake"
    platform = Platform.X
    mode = "search"

    def __init__(self, ctx, items, *, fail_after=None, credentials=()):
        super().__init__(SourceOptions(), ctx)
        self.items = items  # (minutes after T0, id, text)
        self.fail_after = fail_after
        type(self).credentials = credentials

    def fetch(self, query, cursor) -> Iterator:
        mark = Mark.of(cursor, self.start(cursor))
        rows = [(T0 + timedelta(minutes=m), i, text) for m, i, text in self.items]
        for n, ((when, i, text), position) in enumerate(after(rows, mark, key=lambda r: (r[0], r[1]))):
            if self.fail_after is not None and n == self.fail_after:
                raise SourceUnavailable("page 2 timed out")
            yield Fetched(self.mention(source="fake", native_id=i, text=text, published_at=when), position.cursor())


@pytest.fixture
def ctx():
    return SourceContext(config=CollectorSettings(_env_file=None), keywords=load_keywords(), salt="pepper",
                         clock=lambda: NOW)


class Sink:
    def __init__(self, fail_on_call=None):
        self.batches: list[list] = []
        self.fail_on_call = fail_on_call

    def __call__(self, batch):
        if self.fail_on_call is not None and len(self.batches) + 1 == self.fail_on_call:
            self.batches.append([])
            raise ServiceError("2 of 2 mentions were not acknowledged by Kafka")
        self.batches.append(list(batch))
        return len(batch)

    @property
    def ids(self):
        return [m.native_id for b in self.batches for m in b]


def items(n, text=RELEVANT):
    return [(i, f"p{i:03d}", text) for i in range(n)]


def test_keeps_what_matches_and_moves_the_cursor_after_delivery(ctx):
    store, sink, recorder = MemoryCursorStore(), Sink(), MemoryRunRecorder()
    src = FakeSource(ctx, items(3) + [(3, "p003", NOISE)])
    summary = collect(src, "fr:peines_alternatives", store=store, produce=sink, recorder=recorder)
    assert sink.ids == ["p000", "p001", "p002"]
    assert all(m.query == "fr:peines_alternatives" for b in sink.batches for m in b)
    assert (summary.fetched, summary.matched, summary.produced, summary.skipped) == (4, 3, 3, 1)
    # the cursor covers the noise item too: it is not fetched again
    assert store.get("fake", "fr:peines_alternatives").cursor == {"t": "2026-11-18T09:03:00+00:00", "ids": ["p003"]}
    assert recorder.runs == [summary] and summary.status == "ok"


def test_resumes_after_the_last_item_not_at_it(ctx):
    """The off-by-one: the item at the cursor is not produced again, a tie on time is not lost."""
    store, sink = MemoryCursorStore(), Sink()
    src = FakeSource(ctx, items(2))
    collect(src, "fr:peines_alternatives", store=store, produce=sink)
    assert store.get("fake", "fr:peines_alternatives").cursor == {"t": "2026-11-18T09:01:00+00:00", "ids": ["p001"]}
    # new items published at the same minute as the last one (ids sorting before and after it)
    src.items = items(2) + [(1, "p0005", RELEVANT), (1, "p001b", RELEVANT), (5, "p005", RELEVANT)]
    collect(src, "fr:peines_alternatives", store=store, produce=sink)
    assert sink.ids == ["p000", "p001", "p0005", "p001b", "p005"]
    third = collect(src, "fr:peines_alternatives", store=store, produce=sink)
    assert third.fetched == 0 and sink.ids == ["p000", "p001", "p0005", "p001b", "p005"]


def test_a_delivery_failure_leaves_the_cursor_and_the_next_run_produces_the_same_items(ctx):
    store = MemoryCursorStore()
    src = FakeSource(ctx, items(5))
    failing = Sink(fail_on_call=2)
    with pytest.raises(ServiceError):
        collect(src, "fr:peines_alternatives", store=store, produce=failing, batch_size=2)
    # batch 1 (p000, p001) was acknowledged, batch 2 was not: the cursor is after p001
    assert store.get("fake", "fr:peines_alternatives").cursor["ids"] == ["p001"]
    retry = Sink()
    collect(src, "fr:peines_alternatives", store=store, produce=retry, batch_size=2)
    assert failing.ids + retry.ids == [f"p{i:03d}" for i in range(5)]


def test_a_source_failing_halfway_delivers_what_it_had_then_fails_and_the_retry_finishes(ctx):
    store, recorder = MemoryCursorStore(), MemoryRunRecorder()
    src = FakeSource(ctx, items(6), fail_after=4)
    first = Sink()
    with pytest.raises(CollectFailed) as err:
        collect(src, "fr:peines_alternatives", store=store, produce=first, recorder=recorder)
    assert not err.value.permanent  # Airflow retries it
    assert first.ids == ["p000", "p001", "p002", "p003"]
    assert recorder.runs[-1].status == "failed" and "page 2 timed out" in recorder.runs[-1].messages[0]
    src.fail_after = None
    second = Sink()
    collect(src, "fr:peines_alternatives", store=store, produce=second)
    assert first.ids + second.ids == [f"p{i:03d}" for i in range(6)]  # no gap, no duplicate


def test_a_rejected_request_fails_for_good(ctx):
    class Rejecting(FakeSource):
        def fetch(self, query, cursor):
            raise SourceRejected("HTTP 401 Unauthorized")
            yield  # pragma: no cover

    with pytest.raises(CollectFailed) as err:
        collect(Rejecting(ctx, []), "fr:peines_alternatives", store=MemoryCursorStore(), produce=Sink())
    assert err.value.permanent


def test_a_failed_channel_makes_the_run_partial_the_others_are_committed(ctx):
    class TwoChannels(FakeSource):
        def fetch(self, query, cursor):
            yield ChannelFailed("feed-b", SourceUnavailable("HTTP 503 after 4 attempts"))
            yield from super().fetch(query, cursor)

    store, recorder, sink = MemoryCursorStore(), MemoryRunRecorder(), Sink()
    with pytest.raises(CollectFailed) as err:
        collect(TwoChannels(ctx, items(2)), "fr:peines_alternatives", store=store, produce=sink,
                recorder=recorder)
    assert not err.value.permanent
    assert sink.ids == ["p000", "p001"] and store.get("fake", "fr:peines_alternatives").cursor["ids"] == ["p001"]
    assert recorder.runs[-1].status == "partial" and recorder.runs[-1].errors == 1


def test_unusable_items_are_counted_and_passed_over(ctx):
    class WithBadLine(FakeSource):
        def fetch(self, query, cursor):
            yield Unusable("line 2: not JSON", {"line": 2})

    store = MemoryCursorStore()
    summary = collect(WithBadLine(ctx, []), "fr:peines_alternatives", store=store, produce=Sink())
    assert summary.status == "ok" and summary.errors == 1
    assert store.get("fake", "fr:peines_alternatives").cursor == {"line": 2}


def test_a_source_without_credentials_is_skipped_not_failed(ctx, monkeypatch):
    monkeypatch.delenv("SADA_X_BEARER_TOKEN", raising=False)
    store, sink, recorder = MemoryCursorStore(), Sink(), MemoryRunRecorder()
    src = FakeSource(ctx, items(2), credentials=("x_bearer_token",))
    try:
        summary = collect(src, "fr:peines_alternatives", store=store, produce=sink, recorder=recorder)
    finally:
        FakeSource.credentials = ()
    assert summary.status == "skipped" and "SADA_X_BEARER_TOKEN not set" in summary.messages[0]
    assert sink.batches == [] and store.writes == 0 and recorder.runs == [summary]


def test_an_interval_spaces_runs_out(ctx):
    store, sink = MemoryCursorStore(), Sink()
    src = FakeSource(ctx, items(1))
    src.options = SourceOptions(interval_minutes=120)
    assert collect(src, "fr:peines_alternatives", store=store, produce=sink).status == "ok"
    assert collect(src, "fr:peines_alternatives", store=store, produce=sink).status == "not_due"
    src.ctx.clock = lambda: NOW + timedelta(hours=2)
    assert collect(src, "fr:peines_alternatives", store=store, produce=sink).status == "ok"


def test_a_calm_run_records_that_it_checked(ctx):
    store = MemoryCursorStore()
    summary = collect(FakeSource(ctx, []), "fr:peines_alternatives", store=store, produce=Sink())
    state = store.get("fake", "fr:peines_alternatives")
    assert summary.status == "ok" and summary.fetched == 0
    assert state.cursor is None and state.checked_at == NOW


def test_since_backfills_without_moving_the_saved_cursor(ctx):
    store, sink = MemoryCursorStore(), Sink()
    src = FakeSource(ctx, items(3))
    collect(src, "fr:peines_alternatives", store=store, produce=sink)
    saved = store.get("fake", "fr:peines_alternatives").cursor
    collect(src, "fr:peines_alternatives", store=store, produce=sink, since=T0 + timedelta(minutes=1), commit=False)
    assert sink.ids == ["p000", "p001", "p002", "p001", "p002"]  # the backfill starts at its time
    assert store.get("fake", "fr:peines_alternatives").cursor == saved


def test_the_same_item_twice_in_one_run_is_produced_once(ctx):
    class TwoHashtags(FakeSource):  # one post found under two hashtags of the set
        def fetch(self, query, cursor):
            yield from super().fetch(query, cursor)
            yield from super().fetch(query, cursor)

    src = TwoHashtags(ctx, [(0, "p000", RELEVANT)])
    sink = Sink()
    summary = collect(src, "fr:peines_alternatives", store=MemoryCursorStore(), produce=sink)
    assert sink.ids == ["p000"] and summary.skipped == 1


def test_author_ids_are_pseudonymous(ctx):
    src = FakeSource(ctx, [])
    author = src.author("2425250611")
    assert author.id.startswith("h:") and "2425250611" not in author.id
    assert author.id != FakeSource(SourceContext(config=ctx.config, keywords=ctx.keywords, salt="other"), []).author(
        "2425250611").id
