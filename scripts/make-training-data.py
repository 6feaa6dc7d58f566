#!/usr/bin/env python3
"""Build ``data/training/labels.jsonl``, the labelled posts the enrichers' classifier learns from.

Production code never reads ``tests/``: this script copies what training needs out of the
labelled corpora kept there, into a file that ships with the code.

Sources, in this order (a missing optional file is skipped with a note):

* ``tests/data/labelled/dev.jsonl``    — the development corpus (required);
* ``tests/data/labelled/train2.jsonl`` — a second, independently written training corpus;
* ``tests/data/labelled/train3_{myths,toxicity,topics}.jsonl`` — three more, each written by
  another author around one task's hard cases (TRAIN3_*.md);
* ``tests/data/labelled/train4_{threads,longform,darija,clusters}.jsonl`` — four more, in other
  registers: short comment threads, long-form posts and news, Darija in both scripts, rumor
  clusters (TRAIN4_*.md);
* ``tests/data/labelled/train5_myths.jsonl`` — the eight myths said in as many ways as its author
  could find: idioms, sarcasm, anecdotes, allusions without the usual keywords (TRAIN5_MYTHS.md);
* ``tests/data/labelled/dev3.jsonl`` — a week-like sample by another author, first used unseen to
  measure and study the errors, then added (DEV3.md);
* ``tests/data/labelled/{dev4,dev5,train6_myths,train6_topics,train6_clusters,train7_clusters}.jsonl``
  — six more authors, kept unseen for two rounds of error study, then added once two newer
  authors' weeks (dev6, dev7, still unseen) showed that training on them helps (labelled README);
* ``tests/data/labelled/train8_{x,y,z}.jsonl`` and ``train9_{a,b,c}.jsonl`` — six week-like
  training files by six more authors (TRAIN8_*.md, TRAIN9_*.md), added on the same evidence;
* ``train10_{a..f}``, ``train11_{a..g}``, ``train12_{a..f}`` — nineteen more authors' weeks, each
  batch added once the fresh weeks showed that it helps;
* ``dev6`` to ``dev9`` — four weeks that were the fresh check for three batches, added once two
  newer weeks (dev10, dev11, still unseen: the fresh check now) showed that it helps.

``tests/data/labelled/validation.jsonl`` and ``validation2.jsonl`` are the held-out evaluation
sets: they are never read.

Each output line holds only the training fields::

    {"text", "title", "lang", "relevant", "topics", "myths", "stance", "toxicity",
     "has_named_entity"}

``has_named_entity`` is true when the gold entities name a person or an organisation (PER or
ORG: Ouahbi, the DGAPR, a named court...), or when the post is gold ``defamation`` (which, by
the annotation guidelines, names its target — "l9oda f casa"). The toxicity enricher only
calls a post defamation when its entities name someone, so training and cross-validation use
the same condition.

The output is deterministic: rows keep the order of the sources, label lists follow the
TAXONOMY order, exact duplicates (same title and text) are kept once, keys are sorted.

Usage: ``python scripts/make-training-data.py [--check]`` (``--check`` fails when the file on
disk differs from what the sources give, without writing it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sada.model import LANGS, MYTHS, STANCES, TOPICS, TOXICITY  # noqa: E402

LABELLED = REPO / "tests" / "data" / "labelled"
SOURCES = [(LABELLED / "dev.jsonl", True)] + [(LABELLED / f"{name}.jsonl", False) for name in (
    "train2", "train3_myths", "train3_toxicity", "train3_topics", "train4_threads", "train4_longform",
    "train4_darija", "train4_clusters", "train5_myths", "dev3", "dev4", "dev5", "train6_myths", "train6_topics",
    "train6_clusters", "train7_clusters", "train8_x", "train8_y", "train8_z", "train9_a", "train9_b", "train9_c",
    "train10_a", "train10_b", "train10_c", "train10_d", "train10_e", "train10_f", "train11_a", "train11_b",
    "train11_c", "train11_d", "train11_e", "train11_f", "train11_g", "train12_a", "train12_b", "train12_c",
    "train12_d", "train12_e", "train12_f", "dev6", "dev7", "dev8", "dev9")]
OUTPUT = REPO / "data" / "training" / "labels.jsonl"
NAMED = ("PER", "ORG")


class SourceError(ValueError):
    def __init__(self, path: Path, line: int, field: str, problem: str) -> None:
        super().__init__(f"{path.relative_to(REPO)}: line {line}: {field}: {problem}")


def _ids(value: object, allowed: tuple[str, ...], path: Path, line: int, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceError(path, line, field, f"expected a list of ids, got {value!r}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise SourceError(path, line, field, f"unknown id(s) {unknown}; expected {list(allowed)}")
    return [v for v in allowed if v in value]  # TAXONOMY order, no duplicates


def _one(value: object, allowed: tuple[str, ...], path: Path, line: int, field: str) -> str:
    if value not in allowed:
        raise SourceError(path, line, field, f"expected one of {list(allowed)}, got {value!r}")
    return str(value)


def convert(row: dict, path: Path, line: int) -> dict:
    """The training row of one labelled mention."""
    gold = row.get("gold")
    if not isinstance(gold, dict):
        raise SourceError(path, line, "gold", "missing (expected an object of labels)")
    text, title = row.get("text"), row.get("title")
    if not isinstance(text, str) or not text.strip():
        raise SourceError(path, line, "text", "expected a non-empty string")
    if title is not None and not isinstance(title, str):
        raise SourceError(path, line, "title", "expected a string or null")
    if not isinstance(gold.get("relevant"), bool):
        raise SourceError(path, line, "gold.relevant", f"expected true or false, got {gold.get('relevant')!r}")
    entities = gold.get("entities") or []
    if not isinstance(entities, list):
        raise SourceError(path, line, "gold.entities", "expected a list")
    toxicity = _one(gold.get("toxicity"), TOXICITY, path, line, "gold.toxicity")
    named = any(isinstance(e, dict) and e.get("label") in NAMED for e in entities) or toxicity == "defamation"
    return {
        "text": text,
        "title": title or None,
        "lang": _one(gold.get("lang"), LANGS, path, line, "gold.lang"),
        "relevant": gold["relevant"],
        "topics": _ids(gold.get("topics") or [], TOPICS, path, line, "gold.topics"),
        "myths": _ids(gold.get("myths") or [], MYTHS, path, line, "gold.myths"),
        "stance": _one(gold.get("stance"), STANCES, path, line, "gold.stance"),
        "toxicity": toxicity,
        "has_named_entity": named,
    }


def build(sources: list[tuple[Path, bool]] = SOURCES) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    notes: list[str] = []
    seen: set[tuple[str, str]] = set()
    for path, required in sources:
        if not path.is_file():
            if required:
                raise SystemExit(f"{path.relative_to(REPO)}: not found (required)")
            notes.append(f"{path.relative_to(REPO)}: not found, skipped")
            continue
        kept = dupes = 0
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError as exc:
                raise SourceError(path, n, "(line)", f"not valid JSON: {exc}") from exc
            if not isinstance(obj, dict):
                raise SourceError(path, n, "(line)", "expected a JSON object")
            out = convert(obj, path, n)
            key = (" ".join((out["title"] or "").split()), " ".join(out["text"].split()))
            if key in seen:
                dupes += 1
                continue
            seen.add(key)
            rows.append(out)
            kept += 1
        notes.append(f"{path.relative_to(REPO)}: {kept} rows" + (f", {dupes} exact duplicates dropped" if dupes else ""))
    return rows, notes


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file on disk is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        rows, notes = build()
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    content = render(rows)
    for note in notes:
        print(note, file=sys.stderr)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != content:
            print(f"{args.output}: out of date; run scripts/make-training-data.py", file=sys.stderr)
            return 1
        print(f"{args.output}: up to date ({len(rows)} rows)", file=sys.stderr)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(content, encoding="utf-8")
    print(f"wrote {args.output} ({len(rows)} rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
