"""One collection run of one (source, query): fetch → match → produce → then move the cursor.

The order is the guarantee. Mentions are produced to ``mentions.raw`` (key = mention id) in
checkpoints of ``batch_size``; a checkpoint's cursor is saved only after Kafka acknowledged
every mention of it (``sada.replay.produce_mentions`` raises otherwise). So:

* a crash or a failed delivery leaves the cursor where the last acknowledged checkpoint put it:
  the next run fetches the rest again — nothing lost;
* the saved cursor is the one of the last item handled, which resumes *after* that item — the
  next run does not produce it again — nothing duplicated (except when the process dies between
  Kafka's acknowledgement and the cursor write: then a checkpoint is produced twice, with the same
  ids, which Elasticsearch absorbs);
* when the source fails halfway, what it yielded before the failure is produced and committed
  first, then the run fails and Airflow retries it from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from collectors.base import ChannelFailed, Fetched, Skip, Source, Unusable
from collectors.cursors import Cursor, CursorStore, due
from collectors.errors import CollectFailed, MissingCredentials, QuotaExhausted, SourceRejected
from collectors.runs import RunRecorder, RunSummary
from sada.errors import SadaError
from sada.model import Mention

log = logging.getLogger(__name__)

Producer = Callable[[list[Mention]], int]


def _text(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text


def collect(source: Source, query_id: str, *, store: CursorStore, produce: Producer,
            recorder: RunRecorder | None = None, batch_size: int = 500, since: datetime | None = None,
            commit: bool = True, run_id: str | None = None) -> RunSummary:
    """Run one collection and return its summary; raise ``CollectFailed`` when it failed.

    ``since`` starts from that time instead of the saved cursor (a one-off backfill); with
    ``commit=False`` the saved cursor is left alone (``sada collect run --since``, dry runs).
    """
    clock = source.ctx.clock
    summary = RunSummary(source=source.name, query=query_id, started_at=clock(), run_id=run_id,
                         platform=source.platform.value)
    keywords = source.ctx.keywords

    def finish(status: str, message: str | None = None) -> RunSummary:
        summary.status = status
        if message:
            summary.note(message)
        summary.finished_at = clock()
        summary.requests = source.http.requests_made
        level = logging.INFO if status in ("ok", "skipped", "not_due") else logging.WARNING
        log.log(level, "collect summary: %s", summary.line(),
                extra={"source": source.name, "query": query_id, "status": status, "fetched": summary.fetched,
                       "matched": summary.matched, "produced": summary.produced, "skipped": summary.skipped,
                       "errors": summary.errors})
        if recorder is not None:
            recorder.record(summary)
        return summary

    missing = source.missing()
    if missing:
        return finish("skipped", f"not configured: {', '.join(missing)} not set")
    if query_id not in source.queries():
        return finish("skipped", f"{source.name} does not run keyword set {query_id!r} "
                                 f"(it runs: {', '.join(source.queries()) or 'none'})")
    if not source.ctx.salt:
        log.warning("SADA_AUTHOR_SALT is empty: author ids are hashed without a secret salt (set it in production)")

    state = store.get(source.name, query_id)
    if since is None and not due(state, source.options.interval_minutes, summary.started_at):
        return finish("not_due", f"checked at {state.checked_at:%Y-%m-%d %H:%M}Z, "
                                 f"interval {source.options.interval_minutes} min")
    cursor: Cursor | None = {"since": since.isoformat()} if since is not None else state.cursor
    summary.cursor_before = cursor
    query = keywords.get(query_id) if source.mode == "search" else None

    pending: list[Mention] = []
    last: Cursor | None = None
    committed: Cursor | None = None
    channel_errors: list[SadaError] = []
    seen: set[str] = set()

    def checkpoint() -> None:
        nonlocal committed
        if pending:
            summary.produced += produce(list(pending))  # raises unless Kafka acknowledged them all
            for m in pending:
                if m.source not in summary.mention_sources and len(summary.mention_sources) < 50:
                    summary.mention_sources.append(m.source)
            pending.clear()
        if commit and last is not None and last is not committed:
            store.put(source.name, query_id, last, at=clock())
            committed = last

    failure: BaseException | None = None
    stopped: SadaError | None = None
    events = iter(source.fetch(query, cursor))
    try:
        while True:
            try:
                event = next(events)
            except StopIteration:
                break
            except (QuotaExhausted, MissingCredentials) as exc:
                stopped = exc
                break
            except Exception as exc:  # the source failed: keep what it delivered, then fail the run
                failure = exc
                break
            if isinstance(event, Fetched):
                summary.fetched += 1
                matched = _match(source, query_id, event.mention, keywords)
                if matched and event.mention.id in seen:
                    summary.skipped += 1  # the same item reached twice in one run (two hashtags...)
                elif matched:
                    seen.add(event.mention.id)
                    pending.append(event.mention.model_copy(update={"query": matched}))
                    summary.matched += 1
                else:
                    summary.skipped += 1
                last = event.cursor
            elif isinstance(event, Skip):
                summary.skipped += 1
                last = event.cursor
            elif isinstance(event, Unusable):
                summary.errors += 1
                summary.note(event.reason)
                log.warning("%s: unusable item skipped: %s", source.name, event.reason)
                last = event.cursor
            elif isinstance(event, ChannelFailed):
                summary.errors += 1
                channel_errors.append(event.error)
                summary.note(f"{event.channel}: {event.error}")
                log.warning("%s: channel %s failed: %s", source.name, event.channel, event.error)
            if len(pending) >= batch_size:
                checkpoint()
        checkpoint()
    except Exception as exc:  # delivery (Kafka) or the cursor write failed: nothing past `committed`
        summary.errors += 1
        summary.cursor_after = committed
        finish("failed", f"delivery or cursor write failed: {exc}")
        raise
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # a generator stopped early releases its file or connection now
    summary.cursor_after = committed
    if stopped is not None:
        return finish("skipped", str(stopped))
    if commit and committed is None and failure is None:
        store.put(source.name, query_id, None, at=clock(), advanced=False)  # checked, nothing new

    if failure is not None:
        summary.errors += 1
        finish("failed", str(failure))
        raise CollectFailed(f"collection {source.name}/{query_id} failed: {failure}",
                            permanent=isinstance(failure, SourceRejected),
                            hint="what was fetched before the failure is delivered; the retry resumes there"
                            ) from failure
    if channel_errors:
        finish("partial")
        raise CollectFailed(f"collection {source.name}/{query_id}: {len(channel_errors)} channel(s) failed",
                            permanent=all(isinstance(e, SourceRejected) for e in channel_errors),
                            hint="the other channels were delivered and committed; see the run record")
    return finish("ok")


def _match(source: Source, query_id: str, mention: Mention, keywords) -> str | None:
    """The keyword set a mention answers to, or None when no rule keeps it."""
    if source.mode == "own":
        return "own"
    moroccan = source.moroccan(mention)
    if source.mode == "search":
        return query_id if keywords.match(query_id, _text(mention), moroccan_context=moroccan) else None
    return keywords.first_match(_text(mention), moroccan_context=moroccan)
