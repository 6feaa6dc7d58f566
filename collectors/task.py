"""What the Airflow tasks and ``sada collect run`` call: everything built from the environment.

Nothing here runs at import. ``Settings`` and ``CollectorSettings`` are read when a task runs,
so ``SADA_TOPIC_PREFIX`` / ``SADA_INDEX_PREFIX`` and the base-URL overrides of the worker's
environment apply (the tests rely on it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.base import Source, SourceContext
from collectors.config import CollectorSettings
from collectors.cursors import CursorStore, EsCursorStore, MemoryCursorStore
from collectors.errors import CollectFailed
from collectors.keywords import load_keywords
from collectors.registry import build_sources, plan
from collectors.runner import collect
from collectors.runs import EsRunRecorder, RunRecorder, RunSummary
from sada.errors import ConfigError
from sada.model import Mention
from sada.replay import produce_mentions
from sada.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Environment:
    settings: Settings
    config: CollectorSettings
    context: SourceContext
    sources: dict[str, Source]


def environment(*, quota: Any = None, clock: Callable[[], datetime] | None = None,
                include_disabled: bool = False) -> Environment:
    settings = Settings()
    config = CollectorSettings()
    keywords = load_keywords(config.keywords_file)
    ctx = SourceContext(config=config, keywords=keywords, salt=settings.author_salt.get_secret_value(),
                        clock=clock or (lambda: datetime.now(UTC)))
    if quota is not None:
        ctx.quota = quota
    return Environment(settings, config, ctx, build_sources(config, ctx, include_disabled=include_disabled))


def plan_jobs(*, record: bool = True) -> list[dict[str, str]]:
    """The (source, query) pairs the DAG maps over, for the sources that can run.

    A source without its credentials is left out with a log line (and, with ``record``, a
    ``skipped`` run record naming what is missing): never a failed run.
    """
    env = environment()
    ready = {name: s for name, s in env.sources.items() if not s.missing()}
    jobs = [{"source": s, "query": q} for s, q in plan(ready)]
    recorder = EsRunRecorder(env.settings) if record else None
    try:
        for name, source in env.sources.items():
            missing = source.missing()
            if not missing:
                continue
            summary = RunSummary(source=name, query="*", started_at=env.context.clock(), status="skipped",
                                 platform=source.platform.value)
            summary.note(f"not configured: {', '.join(missing)} not set")
            summary.finished_at = summary.started_at
            log.info("source %s is skipped: %s not set", name, ", ".join(missing))
            if recorder is not None:
                recorder.record(summary)
    finally:
        if recorder is not None:
            recorder.es.close()
    log.info("collection plan: %d jobs over %d of %d sources", len(jobs), len(ready), len(env.sources))
    return jobs


def run_job(source_name: str, query_id: str, *, run_id: str | None = None, since: datetime | None = None,
            dry_run: bool = False, printer: Callable[[Mention], None] | None = None) -> dict[str, Any]:
    """Collect one (source, query) into ``mentions.raw``; return the run summary as a dict.

    ``dry_run`` prints the matched mentions instead of producing them and moves no cursor.
    """
    settings = Settings()
    store: CursorStore
    recorder: RunRecorder | None
    if dry_run:
        store, recorder = MemoryCursorStore(), None
        es_store = None
    else:
        es_store = EsCursorStore(settings)
        store, recorder = es_store, EsRunRecorder(settings, es_store.es)
    try:
        return _run(settings, store, recorder, es_store, source_name, query_id, run_id=run_id, since=since,
                    dry_run=dry_run, printer=printer)
    finally:
        if es_store is not None:
            es_store.es.close()


def _run(settings: Settings, store: CursorStore, recorder: RunRecorder | None, es_store: EsCursorStore | None,
         source_name: str, query_id: str, *, run_id: str | None, since: datetime | None, dry_run: bool,
         printer: Callable[[Mention], None] | None) -> dict[str, Any]:
    env = environment(quota=es_store)
    source = env.sources.get(source_name)
    if source is None:
        raise ConfigError(f"no enabled source {source_name!r}; enabled: {', '.join(env.sources) or 'none'}",
                          hint="see `sada collect sources`")
    if dry_run:
        def produce(batch: list[Mention]) -> int:
            for m in batch:
                (printer or (lambda x: print(x.model_dump_json())))(m)
            return len(batch)
    else:
        def produce(batch: list[Mention]) -> int:
            return produce_mentions(settings, batch)
    try:
        summary: RunSummary = collect(source, query_id, store=store, produce=produce, recorder=recorder,
                                      batch_size=env.config.collect_batch_size, since=since,
                                      commit=not dry_run and since is None, run_id=run_id)
    finally:
        for s in env.sources.values():
            s.http.session.close()
    return summary_dict(summary)


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    doc = summary.to_doc()
    doc["line"] = summary.line()
    return doc


def report_run(jobs: list[dict[str, str]], summaries: Any) -> dict[str, int]:
    """The run's summary in the log; ``CollectFailed`` when a job returned nothing (it failed)."""
    done = [s for s in list(summaries or []) if s]
    totals = {k: sum(int(s.get(k) or 0) for s in done) for k in ("fetched", "matched", "produced", "skipped", "errors")}
    for s in done:
        log.info("%s", s.get("line"))
    finished = {(s["source"], s["query"]) for s in done}
    failed = [f"{j['source']}:{j['query']}" for j in jobs if (j["source"], j["query"]) not in finished]
    totals.update(jobs=len(jobs), failed=len(failed))
    log.info("collection run: %d jobs, %d failed; fetched %d, matched %d, produced %d, skipped %d, errors %d",
             len(jobs), len(failed), totals["fetched"], totals["matched"], totals["produced"], totals["skipped"],
             totals["errors"])
    if failed:
        raise CollectFailed(f"{len(failed)} of {len(jobs)} collection jobs failed: {', '.join(failed)}",
                            hint="their task logs and the sada-collector-runs records say why")
    return totals
