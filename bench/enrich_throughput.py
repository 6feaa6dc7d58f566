"""Enrichment speed and memory on one core: ``python -m bench.enrich_throughput [N]``.

Prints mentions/s for the full default pipeline on realistic mixed posts (viral copies
included, so the text cache is exercised as in production), the cache hit rate, and the peak
resident memory of this process; then the same posts through the labelling pipeline alone — what
one ``enrich`` consumer process runs (the rumor clusterer is the ``cluster`` stage, its own
process); writes the figures to bench/results/enrich_throughput.json.
Target: ≥ 500 mentions/s per core, ≤ 1 GB resident.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.generate import generate
from enrichers.registry import default_pipeline, labelling_pipeline
from sada.runtime import tune_gc
from sada.settings import REPO_ROOT


def main(n: int = 5000, batch: int = 500) -> dict:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    t_load = time.perf_counter()
    pipeline = default_pipeline()
    load_s = time.perf_counter() - t_load
    mentions = list(generate(n))
    unique = len({m.text for m in mentions})
    # Warm-up on other posts, so lazy loading is not billed to throughput.
    pipeline.run_many(list(generate(200, seed=7)))
    tune_gc()  # as the consumers do once their models are loaded
    hits0, misses0 = pipeline.cache_hits, pipeline.cache_misses
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, n, batch):
        pipeline.run_many(mentions[i:i + batch])
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    hits, misses = pipeline.cache_hits - hits0, pipeline.cache_misses - misses0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "mentions": n, "distinct_texts": unique, "pipeline": [e["name"] for e in pipeline.describe()],
        "load_seconds": round(load_s, 2),
        "mentions_per_second": round(n / wall, 1),
        "cpu_seconds": round(cpu, 2),
        "cache_hit_rate": round(hits / max(hits + misses, 1), 3),
        "peak_rss_mb": round(rss_mb, 1),
        "targets": {"mentions_per_second": 500, "peak_rss_mb": 1024},
    }
    # In a fresh process: the caches this one warmed (documents, concepts, lexicon hits) would flatter it.
    done = subprocess.run([sys.executable, "-m", "bench.enrich_throughput", str(n), "--labelling-only"],
                          cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    result["enrich_stage"] = json.loads(done.stdout.strip().splitlines()[-1])
    out = REPO_ROOT / "bench" / "results" / "enrich_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"enrichment: {result['mentions_per_second']} mentions/s on one core "
          f"({n} mentions, {unique} distinct texts, cache hit rate {result['cache_hit_rate']:.0%}), "
          f"peak RSS {result['peak_rss_mb']} MB, pipeline load {result['load_seconds']} s")
    print(f"pipeline: {' → '.join(result['pipeline'])}")
    stage = result["enrich_stage"]
    print(f"enrich stage (labelling only, as one `enrich` process runs it): {stage['mentions_per_second']} "
          f"mentions/s on one core; pipeline: {' → '.join(stage['pipeline'])}")
    return result


def labelling_only(n: int = 5000, batch: int = 500) -> dict:
    """The labelling pipeline alone (one `enrich` process), on the same posts; prints one JSON line."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    pipeline = labelling_pipeline()
    mentions = list(generate(n))
    pipeline.run_many(list(generate(200, seed=7)))
    tune_gc()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, n, batch):
        pipeline.run_many(mentions[i:i + batch])
    out = {"pipeline": [e["name"] for e in pipeline.describe()],
           "mentions_per_second": round(n / (time.perf_counter() - t0), 1),
           "cpu_seconds": round(time.process_time() - cpu0, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 5000
    if "--labelling-only" in sys.argv:
        labelling_only(count)
    else:
        main(count)
