"""``sada alerts replay`` and ``sada alerts dry-run`` on files (no services)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import yaml

from sada.cli_alerts import main

T0 = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)


def _line(i: int, **fields) -> str:
    row = {"platform": "x", "source": "x:recent_search", "native_id": f"r{i}", "url": f"https://x.com/a/status/{i}",
           "author": {"id": f"h:{i}", "handle": f"user{i}", "followers": 100 * i},
           "text": "5 000 détenus libérés d'un coup le mois prochain, une amnistie déguisée",
           "published_at": (T0 + timedelta(minutes=7 * i)).isoformat(),
           "collected_at": (T0 + timedelta(minutes=7 * i + 2)).isoformat(),
           "lang": "fr", "relevant": True, "stance": "oppose", "toxicity": "none", "myths": ["mass_release"],
           "cluster_id": "c-rumor"}
    row.update(fields)
    return json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)


def _timeline(tmp_path):
    lines = [_line(i) for i in range(14)]
    # Unlabelled mentions (no label at all, no collected_at): enriched first, clocked on published_at.
    lines += [_line(100 + i, lang=None, relevant=None, stance=None, toxicity=None, myths=None, cluster_id=None,
                    collected_at=None, text="واش بصح غادي يطلقو الحباسة؟") for i in range(3)]
    lines.append("{not json")
    path = tmp_path / "timeline.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_replay_prints_one_json_line_per_alert_with_the_fields_a_person_needs(tmp_path, capsys):
    code = main(["alerts", "replay", "--input", str(_timeline(tmp_path))])
    out, err = capsys.readouterr()
    assert code == 3  # one bad line: reported, and the replay went on
    assert "timeline.jsonl:18: skipped" in err and "3 enriched first" in err
    rows = [json.loads(line) for line in out.splitlines()]
    (rumor,) = [r for r in rows if r["rule"] == "rumor-cluster"]
    for field in ("rule", "severity", "key", "fired_at", "count", "baseline", "mention_ids"):
        assert field in rumor
    assert rumor["key"] == "c-rumor" and rumor["count"] == 12 and len(rumor["mention_ids"]) == 12
    # fired when the 12th post was collected: the clock follows collected_at
    assert rumor["fired_at"] == (T0 + timedelta(minutes=7 * 11 + 2)).isoformat().replace("+00:00", "Z")
    assert rumor["discover_url"] and "c-rumor" in rumor["discover_url"]


def test_dry_run_validates_one_rule_and_runs_it_alone(tmp_path, capsys):
    rule = tmp_path / "rumor.yaml"
    rule.write_text(yaml.safe_dump({"name": "small-rumor", "type": "rumor_cluster", "cooldown": "1h",
                                    "options": {"min_posts": 5}}), encoding="utf-8")
    assert main(["alerts", "dry-run", "--rule", str(rule), "--input", str(_timeline(tmp_path))]) == 3
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["rule"] for r in rows} == {"small-rumor"} and rows[0]["count"] == 5
    assert "valid (rumor_cluster.v1" in err

    rule.write_text(yaml.safe_dump({"name": "small-rumor", "type": "rumor_cluster", "options": {"min_post": 5}}),
                    encoding="utf-8")
    assert main(["alerts", "dry-run", "--rule", str(rule), "--input", str(tmp_path / "timeline.jsonl")]) == 2
    assert f"{rule}: options.min_post:" in capsys.readouterr().err
