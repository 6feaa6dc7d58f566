"""Accuracy of the language identifier on a small labelled set of realistic posts.

tests/data/lang_dev.jsonl holds short posts written for this test in the style of comments
about the reform (and keyword noise: jewellery bracelets, traffic fines, "à peine"), one JSON
object a line with "text", "lang" and "script". The thresholds guard against regressions when
the markers file is edited; a failure lists the posts that went wrong.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from enrichers.language import LANGS, SCRIPTS, LanguageDetector

DEV_FILE = Path(__file__).resolve().parents[1] / "data" / "lang_dev.jsonl"
MIN_ACCURACY = 0.95
MIN_DARIJA_F1 = 0.90


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    out = []
    for number, line in enumerate(DEV_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            assert set(row) == {"text", "lang", "script"}, f"line {number}: fields {sorted(row)}"
            assert row["lang"] in LANGS and row["script"] in SCRIPTS, f"line {number}: {row}"
            assert (row["lang"] == "und") == (row["script"] == "und"), f"line {number}: {row}"
            out.append(row)
    return out


@pytest.fixture(scope="module")
def predictions(rows) -> list[tuple[str, str]]:
    detector = LanguageDetector()
    return [(r.lang, r.script) for r in map(detector.detect, (row["text"] for row in rows))]


def test_dev_set_is_large_and_balanced(rows):
    assert len(rows) >= 120
    counts = Counter((r["lang"], r["script"]) for r in rows)
    for cls in [("fr", "latn"), ("ar", "arab"), ("ary", "arab"), ("ary", "latn"), ("en", "latn"), ("und", "und")]:
        assert counts[cls] >= 15, f"too few {cls}: {counts[cls]}"
    assert counts[("es", "latn")] >= 5
    assert len({r["text"] for r in rows}) == len(rows), "duplicate posts"


def _errors(rows, predictions) -> str:
    return "\n".join(
        f"  expected {r['lang']}/{r['script']}, got {p[0]}/{p[1]}: {r['text']}"
        for r, p in zip(rows, predictions, strict=True)
        if (r["lang"], r["script"]) != p
    )


def test_accuracy(rows, predictions):
    correct = sum((r["lang"], r["script"]) == p for r, p in zip(rows, predictions, strict=True))
    accuracy = correct / len(rows)
    assert accuracy >= MIN_ACCURACY, f"accuracy {accuracy:.3f} < {MIN_ACCURACY}:\n{_errors(rows, predictions)}"


def test_darija_f1(rows, predictions):
    gold = [r["lang"] == "ary" for r in rows]
    pred = [p[0] == "ary" for p in predictions]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert f1 >= MIN_DARIJA_F1, (
        f"Darija F1 {f1:.3f} (P {precision:.3f}, R {recall:.3f}) < {MIN_DARIJA_F1}:\n{_errors(rows, predictions)}"
    )
