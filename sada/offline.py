"""Offline enrichment and evaluation: ``sada enrich`` and ``sada evaluate``.

Contract of ``sada enrich``: each input line is a mention object with at least ``id`` and
``text``; each output line is the same object (unknown fields kept) plus the top-level labels
``lang script relevant topics myths stance toxicity entities cluster_id``. A line that is not a
valid mention becomes ``{"id": ..., "error": "..."}`` and the run goes on.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from tqdm import tqdm

from enrichers.base import Pipeline
from sada.model import LANGS, MYTHS, STANCES, TOPICS, TOXICITY, Mention

LABEL_FIELDS = ("lang", "script", "relevant", "topics", "myths", "stance", "toxicity", "entities", "cluster_id")
BATCH = 256


def _as_mention(obj: dict[str, Any], now: datetime) -> Mention:
    """A Mention from a partial object: only id and text are required offline."""
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("missing 'id' (a non-empty string)")
    if not isinstance(obj.get("text"), str):
        raise ValueError("missing 'text' (a string)")
    data = {k: v for k, v in obj.items() if k in Mention.model_fields and k not in LABEL_FIELDS}
    data.setdefault("platform", "replay")
    data.setdefault("source", "offline")
    data.setdefault("published_at", obj.get("collected_at") or now.isoformat())
    data.setdefault("collected_at", data["published_at"])
    try:
        return Mention.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc


def _labels(m: Mention) -> dict[str, Any]:
    out = {f: getattr(m, f) for f in LABEL_FIELDS}
    out["entities"] = [e.model_dump() for e in (m.entities or [])]
    return out


def enrich_lines(lines: list[str], pipeline: Pipeline, progress: bool = True) -> Iterator[dict[str, Any]]:
    """Enrich JSONL lines in order, yielding one output object per non-blank input line."""
    now = datetime.now(UTC)
    pending: list[tuple[dict[str, Any], Mention]] = []
    bar = tqdm(total=len(lines), disable=not progress, desc="enrich", unit="mention", file=sys.stderr)

    def flush() -> Iterator[dict[str, Any]]:
        enriched = pipeline.run_many([m for _, m in pending])
        for (obj, _), m in zip(pending, enriched, strict=True):
            yield {**obj, **_labels(m)}
        bar.update(len(pending))
        pending.clear()

    for line in lines:
        if not line.strip():
            bar.update(1)
            continue
        obj: Any = None
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            pending.append((obj, _as_mention(obj, now)))
        except (ValueError, TypeError) as exc:
            yield from flush()  # keep output in input order
            ident = obj.get("id") if isinstance(obj, dict) else None
            yield {"id": ident, "error": str(exc).splitlines()[0]}
            bar.update(1)
            continue
        if len(pending) >= BATCH:
            yield from flush()
    yield from flush()
    bar.close()


def enrich_file(src: Path, dst: Path, pipeline: Pipeline) -> dict[str, int]:
    lines = src.read_text(encoding="utf-8").splitlines()
    counts = Counter()
    with dst.open("w", encoding="utf-8") as out:
        for obj in enrich_lines(lines, pipeline):
            counts["errors" if "error" in obj and len(obj) == 2 else "enriched"] += 1
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return dict(counts)


# -- evaluation -----------------------------------------------------------------------------

def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def _single(golds: list, preds: list, labels: tuple[str, ...]) -> dict[str, Any]:
    per = {}
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(golds, preds, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(golds, preds, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(golds, preds, strict=True))
        per[lab] = _prf(tp, fp, fn)
    present = [lab for lab in labels if per[lab]["support"] > 0]
    acc = sum(g == p for g, p in zip(golds, preds, strict=True)) / len(golds) if golds else 0.0
    return {"accuracy": round(acc, 4), "macro_f1": round(sum(per[lab]["f1"] for lab in present) / max(len(present), 1), 4),
            "per_label": per}


def _multi(golds: list[set], preds: list[set], labels: tuple[str, ...]) -> dict[str, Any]:
    per, TP, FP, FN = {}, 0, 0, 0
    for lab in labels:
        tp = sum(lab in g and lab in p for g, p in zip(golds, preds, strict=True))
        fp = sum(lab not in g and lab in p for g, p in zip(golds, preds, strict=True))
        fn = sum(lab in g and lab not in p for g, p in zip(golds, preds, strict=True))
        per[lab] = _prf(tp, fp, fn)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
    present = [lab for lab in labels if per[lab]["support"] > 0]
    return {"micro": _prf(TP, FP, FN),
            "macro_f1": round(sum(per[lab]["f1"] for lab in present) / max(len(present), 1), 4), "per_label": per}


def _pairwise(gold: list[str | None], pred: list[str | None]) -> dict[str, float]:
    tp = fp = fn = 0
    for i, j in combinations(range(len(gold)), 2):
        same_gold = gold[i] is not None and gold[i] == gold[j]
        same_pred = pred[i] is not None and pred[i] == pred[j]
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
    return _prf(tp, fp, fn)


def evaluate_file(src: Path, pipeline: Pipeline) -> dict[str, Any]:
    """Score the pipeline on a labelled file (gold labels under ``gold``), in published order."""
    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if isinstance(r.get("gold"), dict)]
    rows.sort(key=lambda r: str(r.get("published_at") or ""))
    inputs = [json.dumps({k: v for k, v in r.items() if k != "gold"}, ensure_ascii=False) for r in rows]
    outputs = list(enrich_lines(inputs, pipeline))
    pairs = [(r["gold"], o) for r, o in zip(rows, outputs, strict=True) if "error" not in o]
    gold = [g for g, _ in pairs]
    pred = [p for _, p in pairs]

    report: dict[str, Any] = {"file": str(src), "posts": len(rows), "errors": len(rows) - len(pairs)}
    report["lang"] = _single([g["lang"] for g in gold], [p["lang"] for p in pred], LANGS)
    confusion: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        confusion[g["lang"]][p["lang"]] += 1
    report["lang"]["confusion"] = {k: dict(v) for k, v in sorted(confusion.items())}
    for script in ("arab", "latn"):
        sub = [(g, p) for g, p in zip(gold, pred, strict=True)
               if (g["lang"] == "ary" and g.get("script") == script) or (p["lang"] == "ary" and p.get("script") == script)]
        tp = sum(g["lang"] == "ary" and p["lang"] == "ary" and g.get("script") == script for g, p in sub)
        fp = sum(p["lang"] == "ary" and p.get("script") == script and not (g["lang"] == "ary" and g.get("script") == script)
                 for g, p in sub)
        fn = sum(g["lang"] == "ary" and g.get("script") == script and p["lang"] != "ary" for g, p in sub)
        report[f"darija_{script}"] = _prf(tp, fp, fn)
    report["script"] = {"accuracy": round(sum(g.get("script") == p["script"] for g, p in zip(gold, pred, strict=True))
                                          / max(len(gold), 1), 4)}
    rel = [(bool(g.get("relevant")), bool(p.get("relevant"))) for g, p in zip(gold, pred, strict=True)]
    report["relevant"] = _prf(sum(a and b for a, b in rel), sum(b and not a for a, b in rel),
                              sum(a and not b for a, b in rel))
    report["topics"] = _multi([set(g.get("topics") or []) for g in gold], [set(p.get("topics") or []) for p in pred], TOPICS)
    report["myths"] = _multi([set(g.get("myths") or []) for g in gold], [set(p.get("myths") or []) for p in pred], MYTHS)
    report["stance"] = _single([g.get("stance") for g in gold], [p.get("stance") for p in pred], STANCES)
    report["toxicity"] = _single([g.get("toxicity") for g in gold], [p.get("toxicity") for p in pred], TOXICITY)

    def ids(ents: list[dict] | None) -> set[str]:
        return {e["id"] for e in ents or [] if e.get("id")}

    etp = sum(len(ids(g.get("entities")) & ids(p["entities"])) for g, p in zip(gold, pred, strict=True))
    efp = sum(len(ids(p["entities"]) - ids(g.get("entities"))) for g, p in zip(gold, pred, strict=True))
    efn = sum(len(ids(g.get("entities")) - ids(p["entities"])) for g, p in zip(gold, pred, strict=True))
    report["entities_institutions"] = _prf(etp, efp, efn)
    report["clusters_pairwise"] = _pairwise([g.get("cluster_id") for g in gold], [p.get("cluster_id") for p in pred])
    return report


def print_report(report: dict[str, Any], out: TextIO = sys.stdout) -> None:
    w = out.write
    w(f"{report['file']}: {report['posts']} posts, {report['errors']} errors\n\n")
    w(f"{'measure':32} {'value':>7}   target\n")
    rows = [
        ("language accuracy", report["lang"]["accuracy"], "≥ 0.95"),
        ("Darija F1, Arabic script", report["darija_arab"]["f1"], "≥ 0.90"),
        ("Darija F1, Latin script (Arabizi)", report["darija_latn"]["f1"], "≥ 0.90"),
        ("script accuracy", report["script"]["accuracy"], ""),
        ("relevance F1", report["relevant"]["f1"], "≥ 0.90"),
        ("topics micro-F1", report["topics"]["micro"]["f1"], "≥ 0.85"),
        ("myths macro-F1", report["myths"]["macro_f1"], "≥ 0.80"),
        ("stance accuracy", report["stance"]["accuracy"], "≥ 0.75"),
        ("toxicity macro-F1", report["toxicity"]["macro_f1"], "≥ 0.75"),
        ("institution entities micro-F1", report["entities_institutions"]["f1"], "≥ 0.85"),
        ("rumor clusters pairwise F1", report["clusters_pairwise"]["f1"], "≥ 0.80"),
    ]
    for name, value, target in rows:
        w(f"{name:32} {value:7.3f}   {target}\n")
    for block in ("lang", "topics", "myths", "stance", "toxicity"):
        w(f"\n{block}: {'label':26} {'P':>6} {'R':>6} {'F1':>6} {'n':>5}\n")
        for lab, m in report[block]["per_label"].items():
            w(f"{'':{len(block) + 2}}{lab:26} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}\n")
    conf = report["lang"]["confusion"]
    cols = list(LANGS)
    w("\nlanguage confusion (rows gold, columns predicted)\n      " + "".join(f"{c:>6}" for c in cols) + "\n")
    for g in cols:
        if g in conf:
            w(f"{g:>6}" + "".join(f"{conf[g].get(c, 0):6d}" for c in cols) + "\n")
    for key in ("relevant", "entities_institutions", "clusters_pairwise"):
        m = report[key]
        w(f"\n{key}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}  (n={m['support']})")
    w("\n")
