#!/usr/bin/env python3
"""Pairwise F1 of the rumor clusterer per labelled corpus, for a grid of its settings.

How ``settings.threshold`` (and ``specificity_clusters``, ``myth_weight``) of ``data/concepts.yaml``
were chosen:
each corpus is replayed in publication order through the labelling stage (language, myths...)
and a fresh clusterer, and its gold ``cluster_id`` scored pairwise, as ``sada evaluate`` does.

Usage: ``python scripts/sweep-clusters.py dev dev3 train6_clusters --threshold 0.45 0.5 0.55
[--specificity 8 12] [--myth-weight 0 0.6] [--overlap]`` (corpus names under tests/data/labelled/,
without .jsonl; ``--myth-weight`` defaults to the file's setting; ``--overlap`` scores with the
hand-made similarity instead of the learned pair scorer). Never pass the held-out validation
files: a setting chosen on them would make their figures optimistic.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from enrichers.base import Pipeline  # noqa: E402
from enrichers.clusters import OVERLAP, RumorClusterer  # noqa: E402
from enrichers.registry import labelling_pipeline  # noqa: E402
from sada.model import Mention  # noqa: E402
from sada.offline import _as_mention, _pairwise  # noqa: E402

LABELLED = REPO / "tests" / "data" / "labelled"


def load(name: str, pipeline: Pipeline | None = None) -> tuple[list[str | None], list[Mention]]:
    """A labelled corpus in publication order: its gold cluster ids and its posts, labelled by
    ``pipeline`` (the labelling stage by default)."""
    if name.startswith("validation"):
        raise SystemExit(f"{name}: a held-out set; choose settings on the development corpora")
    path = LABELLED / f"{name}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path}: no such corpus")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: str(r.get("published_at") or ""))
    now = datetime.now(UTC)
    mentions = [_as_mention({k: v for k, v in r.items() if k != "gold"}, now) for r in rows]
    return [r["gold"].get("cluster_id") for r in rows], (pipeline or labelling_pipeline()).run_many(mentions)


def replay(clusterer: RumorClusterer, mentions: list[Mention]) -> list[str | None]:
    """The cluster ids a clusterer gives the posts, in their order."""
    return [clusterer.assign(m.id, m.text, lang=m.lang, script=m.script, published_at=m.published_at,
                             platform=m.platform.value, myths=m.myths).cluster_id for m in mentions]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--threshold", type=float, nargs="+", default=[0.5])
    parser.add_argument("--specificity", type=float, nargs="+", default=[8.0])
    parser.add_argument("--myth-weight", type=float, nargs="+", default=[None])
    parser.add_argument("--overlap", action="store_true",
                        help="score with the hand-made overlap similarity instead of data/cluster_scorer.json")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data = {name: load(name) for name in args.corpora}
    for threshold, spec, myth in itertools.product(args.threshold, args.specificity, args.myth_weight):
        scores = []
        for gold, mentions in data.values():
            clusterer = RumorClusterer(threshold=threshold, specificity_clusters=spec,
                                       **({"scorer": OVERLAP} if args.overlap else {}),
                                       **({} if myth is None else {"myth_weight": myth}))
            scores.append(_pairwise(gold, replay(clusterer, mentions)))
        mean = sum(s["f1"] for s in scores) / len(scores)
        print(f"threshold {threshold:.2f} specificity {spec:g} myth weight {clusterer.myth_weight:g}: mean F1 {mean:.3f}  " + "  ".join(
            f"{name} {s['f1']:.2f} ({s['precision']:.2f}/{s['recall']:.2f})" for name, s in zip(data, scores, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
