import json
from typing import ClassVar

from enrichers.base import Enricher, Labels, Pipeline
from sada.model import Entity
from sada.offline import enrich_lines, evaluate_file


class Fixed(Enricher):
    """Labels every post the same way, so the scores are computable by hand."""

    name, version = "fixed", "1.0"
    reads: ClassVar = frozenset({"text"})
    sets: ClassVar = frozenset({"lang", "script", "relevant", "topics", "myths", "stance", "toxicity",
                                "entities", "cluster_id"})
    cacheable = False

    def label(self, m):
        return Labels({"lang": "fr", "script": "latn", "relevant": True, "topics": ["day_fine"],
                       "myths": [], "stance": "neutral", "toxicity": "none",
                       "entities": [Entity(id="dgapr", text="DGAPR", label="ORG")], "cluster_id": "x"})


def test_enrich_keeps_unknown_fields_and_reports_bad_lines_in_order():
    lines = ['{"id": "a", "text": "un", "custom": {"k": 1}}', "{broken", '{"text": "no id"}', "",
             '{"id": "b", "text": "deux"}']
    out = list(enrich_lines(lines, Pipeline([Fixed()]), progress=False))
    assert [o.get("id") for o in out] == ["a", None, None, "b"]
    assert out[0]["custom"] == {"k": 1} and out[0]["lang"] == "fr" and out[0]["entities"][0]["id"] == "dgapr"
    assert set(out[1]) == {"id", "error"} and "error" in out[2]
    assert out[3]["cluster_id"] == "x"


def test_evaluate_scores_against_gold(tmp_path):
    gold = [
        {"lang": "fr", "script": "latn", "relevant": True, "topics": ["day_fine"], "myths": [], "stance": "neutral",
         "toxicity": "none", "entities": [{"id": "dgapr", "text": "DGAPR", "label": "ORG"}], "cluster_id": "a"},
        {"lang": "fr", "script": "latn", "relevant": True, "topics": ["victims"], "myths": ["impunity"],
         "stance": "oppose", "toxicity": "none", "entities": [], "cluster_id": "a"},
        {"lang": "ar", "script": "arab", "relevant": False, "topics": [], "myths": [], "stance": "neutral",
         "toxicity": "insult", "entities": [], "cluster_id": None},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"p{i}", "text": f"t{i}", "gold": g,
                                          "published_at": f"2026-11-0{i + 1}T10:00:00+01:00"})
                              for i, g in enumerate(gold)), encoding="utf-8")
    r = evaluate_file(path, Pipeline([Fixed()]))
    assert r["posts"] == 3
    assert r["lang"]["accuracy"] == round(2 / 3, 4)
    assert r["lang"]["confusion"]["ar"] == {"fr": 1}
    assert r["relevant"]["precision"] == round(2 / 3, 4) and r["relevant"]["recall"] == 1.0
    # topics: tp day_fine on p0; fp day_fine on p1, p2; fn victims on p1
    assert r["topics"]["micro"] == {"precision": round(1 / 3, 4), "recall": 0.5, "f1": 0.4, "support": 2}
    assert r["stance"]["accuracy"] == round(2 / 3, 4)
    assert r["entities_institutions"]["precision"] == round(1 / 3, 4)
    # pairs: (0,1) same gold & same pred; (0,2), (1,2) predicted together wrongly
    assert r["clusters_pairwise"]["precision"] == round(1 / 3, 4) and r["clusters_pairwise"]["recall"] == 1.0
