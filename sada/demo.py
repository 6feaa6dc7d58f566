"""``sada demo``: the pipeline end to end on the bundled sample.

Starts Kafka and Elasticsearch if needed, replays the sample into ``mentions.raw``, runs the
``enrich`` and ``index`` consumers as separate processes (as in production), waits with a
progress bar until every mention of this run is searchable, stops the consumers gracefully and
prints a short summary. Ids are stable, so running it twice changes no count.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from collectors.replay import ReplayError, read_replay
from sada import es as sada_es
from sada.bootstrap import setup_all
from sada.errors import ServiceError
from sada.replay import produce_mentions
from sada.services import LocalServices
from sada.settings import Settings


def _spawn(name: str, logs_dir: Path) -> subprocess.Popen:
    logs_dir.mkdir(parents=True, exist_ok=True)
    out = open(logs_dir / f"consumer-{name}.log", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen([sys.executable, "-m", "sada.cli", "consume", name, "--stats-every", "5"],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=os.environ.copy())


def run_demo(settings: Settings, sample: Path, timeout: float = 300.0) -> int:
    print("Sada demo — Law 43.22 social listening, end to end\n")
    services = LocalServices(settings)
    for line in services.up():
        print(f"  {line}")
    for line in setup_all(settings):
        print(f"  {line}")

    started = datetime.now(UTC)
    mentions, bad = [], 0
    for item in read_replay(sample, now=started):
        if isinstance(item, ReplayError):
            bad += 1
        else:
            mentions.append(item)
    ids = [m.id for m in mentions]
    print(f"\nReplaying {len(mentions)} mentions from {sample.name}" + (f" ({bad} invalid lines skipped)" if bad else ""))
    produce_mentions(settings, mentions, progress=True, total=len(mentions))

    procs = {name: _spawn(name, services.logs) for name in ("enrich", "cluster", "index")}
    es = sada_es.client(settings)
    alias = sada_es.mentions_alias(settings)
    query = {"bool": {"filter": [{"ids": {"values": ids}}, {"range": {"indexed_at": {"gte": started.isoformat()}}}]}}
    done = 0
    try:
        with tqdm(total=len(ids), desc="enrich → cluster → index → searchable", unit="mention") as bar:
            deadline = time.monotonic() + timeout
            while done < len(ids):
                if time.monotonic() > deadline:
                    raise ServiceError(f"only {done} of {len(ids)} mentions searchable after {timeout:.0f}s",
                                       hint=f"see {services.logs}/consumer-*.log")
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        raise ServiceError(f"consumer {name} exited with {proc.returncode}",
                                           hint=f"see {services.logs}/consumer-{name}.log")
                es.indices.refresh(index=alias)
                count = es.count(index=alias, query=query)["count"]
                bar.update(count - done)
                done = count
                time.sleep(0.5)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    _summary(es, alias, ids)
    return 0


def _summary(es, alias: str, ids: list[str]) -> None:
    resp = es.search(index=alias, size=0, query={"ids": {"values": ids}}, aggs={
        "lang": {"terms": {"field": "lang", "size": 10}},
        "platform": {"terms": {"field": "platform", "size": 10}},
    })
    total = es.count(index=alias)["count"]
    print(f"\n{resp['hits']['total']['value']} of {len(ids)} sample mentions searchable "
          f"({total} documents behind the alias '{alias}')")
    for agg in ("lang", "platform"):
        row = ", ".join(f"{b['key']} {b['doc_count']}" for b in resp["aggregations"][agg]["buckets"])
        print(f"  by {agg:9} {row}")
    gold = es.search(index=alias, size=len(ids), query={"ids": {"values": ids}}, source=["lang", "gold"])
    labelled = [h["_source"] for h in gold["hits"]["hits"] if (h["_source"].get("gold") or {}).get("lang")]
    if labelled:
        agree = sum(src.get("lang") == src["gold"]["lang"] for src in labelled)
        print(f"  language agrees with the sample's gold label on {agree}/{len(labelled)} "
              f"({agree / len(labelled):.1%})")
    q = "العقوبات البديلة"
    hits = es.search(index=alias, size=3, query={"multi_match": {"query": q, "fields": ["text", "text.ar", "title.ar"]}},
                     highlight={"fields": {"text.ar": {"fragment_size": 80, "number_of_fragments": 1}}})
    print(f"\nSample search «{q}»: {hits['hits']['total']['value']} hits")
    for h in hits["hits"]["hits"]:
        src = h["_source"]
        snippet = (h.get("highlight", {}).get("text.ar") or [src["text"][:80]])[0].replace("\n", " ")
        print(f"  [{src['platform']}/{src.get('lang')}] {snippet}")
