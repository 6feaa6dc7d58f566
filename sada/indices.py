"""The indices beside the mentions — rumor clusters and alerts — and mapping upgrades.

``ensure_indices`` is what ``sada setup`` calls after ``sada.es.ensure_templates``:

* index templates ``sada-clusters`` and ``sada-alerts`` (``infra/elasticsearch/*.template.json``),
  whose analysis block is copied from the mentions template, so a summary or a representative
  text is analyzed like a post;
* the indices ``clusters`` and ``alerts`` themselves (one document per cluster / per alert, the
  document id being ``cluster_id`` / ``alert_id``), created empty so Kibana's data views resolve
  on a fresh install;
* the mention indices that already exist get the template's new fields and search settings
  (``text_variants``, ``index.query.default_field``): a template only shapes indices created
  after it, and the current month's index is already there.

Everything is idempotent and carries the index prefix (``SADA_INDEX_PREFIX``).

``index_file`` is ``sada index --input``: a JSONL file of mentions (a backfill, an import)
bulk-loaded through the same documents and bulk writer as the index consumer, the mentions that
carry no labels enriched first by the offline pipeline.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exc
from pydantic import ValidationError
from tqdm import tqdm

from consumers.index import CHUNK_DOCS, BulkItem, bulk_index, to_document
from sada import es as sada_es
from sada.errors import DataFileError, ServiceError, TransientError
from sada.model import Mention, mention_id
from sada.offline import LABEL_FIELDS
from sada.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = REPO_ROOT / "infra" / "elasticsearch"
TEMPLATE_FILES: dict[str, Path] = {
    "mentions": sada_es.TEMPLATE_FILE,
    "clusters": TEMPLATES_DIR / "clusters.template.json",
    "alerts": TEMPLATES_DIR / "alerts.template.json",
}
ALERT_STATUSES = ("new", "acknowledged", "resolved")


@lru_cache(maxsize=8)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_template_file(path: Path) -> dict[str, Any]:
    """A template body (``settings`` and ``mappings``) from one of the JSON files, validated."""
    try:
        body = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from exc
    if not isinstance(body, dict):
        raise DataFileError(path, "(file)", "expected a JSON object")
    body = copy.deepcopy(body)
    body.pop("_comment", None)
    for key in ("settings", "mappings"):
        if not isinstance(body.get(key), dict):
            raise DataFileError(path, key, "expected an object")
    if not isinstance(body["mappings"].get("properties"), dict):
        raise DataFileError(path, "mappings.properties", "expected an object")
    return body


def template_body(name: str) -> dict[str, Any]:
    """The settings and mappings of ``name`` (mentions, clusters, alerts), analysis included."""
    if name not in TEMPLATE_FILES:
        raise KeyError(f"unknown index {name!r}; known: {', '.join(TEMPLATE_FILES)}")
    body = load_template_file(TEMPLATE_FILES[name])
    if name != "mentions":
        analysis = load_template_file(TEMPLATE_FILES["mentions"])["settings"]["analysis"]
        body["settings"].setdefault("analysis", analysis)
    return body


def clusters_index(settings: Settings) -> str:
    return settings.index("clusters")


def alerts_index(settings: Settings) -> str:
    return settings.index("alerts")


def index_template(settings: Settings, name: str) -> dict[str, Any]:
    """The index template of ``clusters`` or ``alerts``: the index itself and ``<name>-*``."""
    body = template_body(name)
    body["settings"]["number_of_replicas"] = settings.es_replicas
    return {
        "index_patterns": [settings.index(name), settings.index(f"{name}-*")],
        "priority": 200,
        "template": body,
        "_meta": {"description": f"Sada {name}", "owner": "sada"},
    }


def template_names(settings: Settings) -> list[str]:
    return [settings.index("sada-clusters"), settings.index("sada-alerts")]


def ensure_indices(settings: Settings, es: Elasticsearch | None = None) -> list[str]:
    """Install the clusters and alerts templates and indices; upgrade existing mention indices.

    Returns what was installed or upgraded, for ``sada setup`` to print. Idempotent.
    """
    own = es is None
    es = es or sada_es.client(settings)
    done: list[str] = []
    try:
        for name, template in zip(("clusters", "alerts"), template_names(settings), strict=True):
            es.indices.put_index_template(name=template, **index_template(settings, name))
            done.append(template)
            index = settings.index(name)
            if not es.indices.exists(index=index):
                try:
                    es.indices.create(index=index)
                    done.append(index)
                except es_exc.BadRequestError as exc:
                    if "resource_already_exists_exception" not in str(exc):
                        raise
        done.extend(upgrade_mentions_indices(settings, es))
    except es_exc.ConnectionError as exc:
        raise ServiceError(f"cannot reach Elasticsearch at {settings.es_url}",
                           hint="start it with `sada up` or set SADA_ES_URL") from exc
    finally:
        if own:
            es.close()
    return done


def upgrade_mentions_indices(settings: Settings, es: Elasticsearch) -> list[str]:
    """Add the template's fields and search settings to the mention indices that already exist.

    Only additive changes can reach an existing index; a field whose type changed is reported
    (the index keeps its mapping until it is reindexed) and the others go on.
    """
    body = sada_es.mentions_template(settings)["template"]
    properties = body["mappings"]["properties"]
    default_field = body["settings"].get("query", {}).get("default_field")
    resp = es.options(ignore_status=404).indices.get_alias(name=sada_es.mentions_alias(settings))
    upgraded = []
    for index in sorted(getattr(resp, "body", resp) or {}):
        if not isinstance(index, str) or index in ("error", "status"):
            continue
        try:
            es.indices.put_mapping(index=index, properties=properties)
            if default_field:
                es.indices.put_settings(index=index, settings={"index.query.default_field": default_field})
            upgraded.append(index)
        except es_exc.BadRequestError as exc:
            log.warning("could not upgrade the mapping of an existing index; reindex it to apply the template",
                        extra={"index": index, "error": str(exc)[:300]})
    return upgraded


# -- sada index --input -------------------------------------------------------------------------

@dataclass
class IndexFileReport:
    file: str
    lines: int = 0
    indexed: int = 0
    enriched: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.invalid and not self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "lines": self.lines, "indexed": self.indexed, "enriched": self.enriched,
                "invalid": self.invalid, "rejected": self.rejected, "retries": self.retries,
                "seconds": round(self.seconds, 2)}


def _mention(data: Any, now: datetime) -> Mention:
    """A mention from one line: the id derived as a collector would when absent (like replay)."""
    if not isinstance(data, dict):
        raise ValueError("line is not a JSON object")
    if not data.get("id"):
        data["id"] = mention_id(data.get("platform", "replay"), data.get("native_id"), data.get("url"))
    data.setdefault("collected_at", now.isoformat())
    return Mention.model_validate(data)


def _unlabelled(mention: Mention) -> bool:
    return all(getattr(mention, f) is None for f in LABEL_FIELDS)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def index_file(settings: Settings, path: Path, *, es: Elasticsearch | None = None, pipeline=None,
               progress: bool = True, chunk: int = CHUNK_DOCS, max_wait: float = 120.0,
               sleep: Callable[[float], None] = time.sleep) -> IndexFileReport:
    """Index every valid mention of a JSONL file; enrich those without labels first.

    Waits up to ``max_wait`` seconds (capped backoff) while Elasticsearch is unavailable, then
    gives up with ServiceError; documents indexed before that stay (ids are stable, so running
    the command again is harmless).
    """
    started = time.monotonic()
    report = IndexFileReport(str(path))
    own = es is None
    es = es or sada_es.client(settings, max_retries=0)
    now = datetime.now(UTC)
    try:
        sada_es.ensure_templates(settings, es)
        with path.open(encoding="utf-8") as fh:
            total = sum(1 for line in fh if line.strip())
        bar = tqdm(total=total, disable=not progress, desc="index", unit="mention", file=sys.stderr)
        batch: list[tuple[int, Mention]] = []

        def flush() -> None:
            if not batch:
                return
            todo = [i for i, (_, m) in enumerate(batch) if _unlabelled(m)]
            if todo:
                nonlocal pipeline
                if pipeline is None:
                    from enrichers.registry import default_pipeline

                    pipeline = default_pipeline()
                for i, enriched in _enrich(pipeline, [batch[i] for i in todo], report).items():
                    batch[todo[i]] = (batch[todo[i]][0], enriched)
            kept = [(n, m) for n, m in batch if m is not None]
            items = [BulkItem(sada_es.mentions_index_for(settings, m.event_time()), m.id, to_document(m, now))
                     for _, m in kept]
            rejected = _bulk_with_wait(es, items, report, max_wait, sleep)
            for pos, reason in sorted(rejected.items()):
                report.rejected.append({"line": kept[pos][0], "id": kept[pos][1].id, "reason": reason})
            report.indexed += len(items) - len(rejected)
            bar.update(len(batch))
            batch.clear()

        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                report.lines += 1
                try:
                    batch.append((number, _mention(json.loads(line), now)))
                except (ValueError, ValidationError) as exc:
                    report.invalid.append({"line": number, "error": _first_error(exc)})
                    bar.update(1)
                    continue
                if len(batch) >= chunk:
                    flush()
            flush()
        bar.close()
        es.indices.refresh(index=sada_es.mentions_alias(settings))
    except es_exc.ConnectionError as exc:
        raise ServiceError(f"cannot reach Elasticsearch at {settings.es_url}",
                           hint="start it with `sada up` or set SADA_ES_URL") from exc
    finally:
        if own:
            es.close()
    report.seconds = time.monotonic() - started
    return report


def _enrich(pipeline, batch: list[tuple[int, Mention]], report: IndexFileReport) -> dict[int, Mention | None]:
    """Enriched mentions by position; one that makes the pipeline fail is reported, not indexed."""
    try:
        done = pipeline.run_many([m for _, m in batch])
        report.enriched += len(done)
        return dict(enumerate(done))
    except Exception:  # noqa: BLE001 - find the culprit one by one, as the run loop does
        out: dict[int, Mention | None] = {}
        for i, (number, mention) in enumerate(batch):
            try:
                out[i] = pipeline.run(mention)
                report.enriched += 1
            except Exception as exc:  # noqa: BLE001
                report.invalid.append({"line": number, "error": f"enrichment failed: {type(exc).__name__}: {exc}"})
                out[i] = None
        return out


def _bulk_with_wait(es, items: list[BulkItem], report: IndexFileReport, max_wait: float,
                    sleep: Callable[[float], None]) -> dict[int, str]:
    waited, backoff = 0.0, 0.5
    while True:
        try:
            return bulk_index(es, items, sleep=sleep)
        except TransientError as exc:
            if waited >= max_wait:
                raise ServiceError(f"Elasticsearch still unavailable after {waited:.0f}s: {exc}",
                                   hint="check `sada status`; run the same command again, it is idempotent") from exc
            report.retries += 1
            log.warning("Elasticsearch unavailable, waiting", extra={"backoff_s": backoff, "error": str(exc)[:200]})
            sleep(backoff)
            waited += backoff
            backoff = min(backoff * 2, 30.0)
