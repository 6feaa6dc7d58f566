#!/usr/bin/env python3
"""Fit the rumor clusterer's pair scorer (``data/cluster_scorer.json``) on the labelled corpora.

Each corpus is replayed in publication order through the labelling stage (language, myths...)
and a clusterer that decides with the hand-made overlap similarity (``OVERLAP``, threshold
``--bootstrap-threshold``). Every time that clusterer compares a post with a cluster's exemplar,
the pair's features (``PAIR_FEATURES``) are recorded, with the answer of the gold
``cluster_id``: do the two posts state the same claim? A logistic regression on these pairs is
the learned scorer. The script then replays the corpora with it for a grid of thresholds and
prints the mean pairwise F1 (as ``sada evaluate`` scores clusters), to choose
``settings.threshold`` in ``data/concepts.yaml``.

Usage: ``python scripts/train-cluster-scorer.py [CORPUS ...] [--write] [--threshold 0.5 0.6]``.
Without corpora: the training corpora of ``scripts/make-training-data.py`` (the fresh
development weeks and the validation files stay out, to measure on). Never pass validation*.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from enrichers.clusters import (  # noqa: E402
    DEFAULT_SCORER,
    OVERLAP,
    PAIR_FEATURES,
    Cluster,
    PairScorer,
    RumorClusterer,
    Signature,
    _Specificity,
    load_scorer,
    pair_features,
)
from enrichers.registry import labelling_pipeline  # noqa: E402
from sada.model import Mention  # noqa: E402
from sada.offline import _pairwise  # noqa: E402

LABELLED = REPO / "tests" / "data" / "labelled"
Replay = tuple[list[str | None], list[Mention]]


def _script(name: str) -> Any:
    """Another script of this folder, as a module (their names are not identifiers)."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py").replace("-", "_"), REPO / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_sweep = _script("sweep-clusters.py")  # loading and replaying the corpora, as the threshold sweep does


def training_corpora() -> list[str]:
    return [path.stem for path, _ in _script("make-training-data.py").SOURCES]


class _Recorder:
    """Decides like OVERLAP and records each comparison: features, same gold claim or not."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, ...]] = []
        self.labels: list[int] = []
        self.gold: dict[str, str | None] = {}
        self.owner: dict[int, str] = {}  # id(exemplar signature) -> its post's mention id
        self.current: str | None = None

    def score(self, a: Signature, b: Signature, wa, total_a: float, spec: _Specificity, hours: float) -> float:
        self.rows.append(pair_features(a, b, wa, total_a, spec, hours))
        mine, theirs = self.gold.get(self.current or ""), self.gold.get(self.owner.get(id(b), ""))
        self.labels.append(int(mine is not None and mine == theirs))
        return OVERLAP.score(a, b, wa, total_a, spec, hours)


class _RecordingClusterer(RumorClusterer):
    def __init__(self, recorder: _Recorder, **kw) -> None:
        super().__init__(scorer=recorder, **kw)
        self.recorder = recorder

    def assign(self, mention_id: str, text: str, **kw: Any) -> Any:
        self.recorder.current = mention_id
        return super().assign(mention_id, text, **kw)

    def _add_exemplar(self, cluster: Cluster, sig: Signature) -> None:
        self.recorder.owner[id(sig)] = self.recorder.current or ""
        super()._add_exemplar(cluster, sig)


def _f1(replay: Replay, clusterer: RumorClusterer) -> float:
    gold, mentions = replay
    return _pairwise(gold, _sweep.replay(clusterer, mentions))["f1"]


def fit(rows: list[tuple[float, ...]], labels: list[int], c: float) -> tuple[list[float], float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=float)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mu) / sd, np.asarray(labels))
    # back to the raw features' scale, so that the clusterer needs no scaling
    weights = model.coef_[0] / sd
    return [float(w) for w in weights], float(model.intercept_[0] - float(np.dot(model.coef_[0], mu / sd)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*")
    parser.add_argument("--bootstrap-threshold", type=float, default=0.5,
                        help="threshold of the overlap similarity while the pairs are recorded (default 0.5)")
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the regression")
    parser.add_argument("--threshold", type=float, nargs="+", default=[0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7])
    parser.add_argument("--write", action="store_true", help=f"write the scorer to {DEFAULT_SCORER.relative_to(REPO)}")
    parser.add_argument("--output", type=Path, default=DEFAULT_SCORER)
    args = parser.parse_args()
    names = args.corpora or training_corpora()
    started = time.monotonic()
    pipeline = labelling_pipeline()
    data: dict[str, Replay] = {}
    for k, name in enumerate(names, 1):
        data[name] = _sweep.load(name, pipeline)
        print(f"labelled {k}/{len(names)} {name} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    recorder = _Recorder()
    for replay in data.values():
        recorder.gold.update(zip((m.id for m in replay[1]), replay[0], strict=True))
        _f1(replay, _RecordingClusterer(recorder, threshold=args.bootstrap_threshold))
    positives = sum(recorder.labels)
    print(f"{len(recorder.labels)} pairs recorded, {positives} of the same claim", file=sys.stderr)
    weights, intercept = fit(recorder.rows, recorder.labels, args.C)
    scorer = PairScorer(tuple(weights), intercept)
    print("weights: " + ", ".join(f"{n} {w:+.3f}" for n, w in zip(PAIR_FEATURES, weights, strict=True))
          + f", intercept {intercept:+.3f}")

    sweep: dict[str, float] = {}
    baseline = [_f1(replay, RumorClusterer(scorer=OVERLAP, threshold=args.bootstrap_threshold))
                for replay in data.values()]
    print(f"overlap similarity at {args.bootstrap_threshold:.2f}: mean F1 {sum(baseline) / len(baseline):.3f}")
    for threshold in args.threshold:
        f1 = [_f1(replay, RumorClusterer(scorer=scorer, threshold=threshold)) for replay in data.values()]
        sweep[f"{threshold:.2f}"] = round(sum(f1) / len(f1), 4)
        print(f"learned scorer at {threshold:.2f}: mean F1 {sweep[f'{threshold:.2f}']:.3f}", flush=True)
    if args.write:
        doc = {
            "about": "The rumor clusterer's pair scorer (enrichers/clusters.py, PairScorer): a logistic regression "
                     "on PAIR_FEATURES. Written by `python scripts/train-cluster-scorer.py --write`; do not edit "
                     "by hand. settings.threshold in data/concepts.yaml is a probability of this scorer.",
            "weights": {n: round(w, 6) for n, w in zip(PAIR_FEATURES, weights, strict=True)},
            "intercept": round(intercept, 6),
            "corpora": names,
            "corpora_sha256": hashlib.sha256(b"".join((LABELLED / f"{n}.jsonl").read_bytes() for n in names)).hexdigest(),
            "pairs": len(recorder.labels), "positives": positives, "C": args.C,
            "bootstrap_threshold": args.bootstrap_threshold,
            "mean_pairwise_f1": {"overlap": round(sum(baseline) / len(baseline), 4), "learned": sweep},
        }
        args.output.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        load_scorer(args.output)  # what was written loads
        print(f"wrote {args.output}", file=sys.stderr)
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0 if all(math.isfinite(w) for w in weights) else 1


if __name__ == "__main__":
    logging.disable(logging.WARNING)  # the classifier's notes would drown the figures
    raise SystemExit(main())
