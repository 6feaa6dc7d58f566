"""``sada collect ...`` and ``sada airflow standalone``, through argparse as ``sada`` wires them."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sada import cli_collect
from sada.settings import REPO_ROOT, Settings


@pytest.fixture
def parser():
    p = argparse.ArgumentParser(prog="sada")
    sub = p.add_subparsers(dest="command", required=True)
    cli_collect.register(sub)
    return p


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("SADA_") and name not in ("SADA_HOME",):
            monkeypatch.delenv(name)


def run(parser, *argv):
    args = parser.parse_args(argv)
    return args.func(args)


def test_match_tells_which_keyword_sets_keep_a_text(parser, capsys):
    assert run(parser, "collect", "match", "القانون رقم ٤٣٫٢٢ المتعلق بالعقوبات البديلة") == 0
    assert json.loads(capsys.readouterr().out)["matched"] == ["ar:uqubat_badila", "law_number"]
    assert run(parser, "collect", "match", "Prix : 43.22 DH le kilo") == 1
    assert json.loads(capsys.readouterr().out)["matched"] == []
    assert run(parser, "collect", "match", "Les peines alternatives en France", "--host", "fr.hespress.com") == 0


def test_sources_lists_what_is_missing_by_name_never_a_secret(parser, capsys, monkeypatch):
    monkeypatch.setenv("SADA_X_BEARER_TOKEN", "AAAA-very-secret")
    assert run(parser, "collect", "sources", "--json") == 0
    out = capsys.readouterr().out
    rows = {r["source"]: r for r in json.loads(out)}
    assert rows["x"]["ready"] and "fr:peines_alternatives" in rows["x"]["queries"]
    assert rows["reddit"]["missing"] == ["SADA_REDDIT_CLIENT_ID", "SADA_REDDIT_CLIENT_SECRET"]
    assert "AAAA-very-secret" not in out
    assert run(parser, "collect", "sources") == 0
    text = capsys.readouterr().out
    assert "youtube_search" in text and "SADA_YOUTUBE_API_KEY not set" in text


def test_run_dry_run_prints_mentions_and_moves_no_cursor(parser, capsys, monkeypatch):
    monkeypatch.setenv("SADA_REPLAY_FILE", str(REPO_ROOT / "tests" / "fixtures" / "sources" / "replay" / "mentions.jsonl"))
    assert run(parser, "collect", "run", "--source", "replay", "--dry-run") == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [m["native_id"] for m in lines] == ["2119642009376708360", "qanoun_ma/99"]
    assert lines[0]["query"] == "fr:peines_alternatives"
    assert "replay / all: ok" in captured.err


def test_since_accepts_relative_and_zoned_times_only():
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert cli_collect.parse_since("6h", now) == now - timedelta(hours=6)
    assert cli_collect.parse_since("2d", now) == now - timedelta(days=2)
    assert cli_collect.parse_since("2026-11-18T09:00:00+01:00") == datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="time zone"):
        cli_collect.parse_since("2026-11-18T09:00:00")
    with pytest.raises(argparse.ArgumentTypeError):
        cli_collect.parse_since("yesterday")


def test_purge_refuses_a_retention_below_one_day(parser):
    with pytest.raises(SystemExit):
        parser.parse_args(["collect", "purge", "--older-than-days", "0"])


def test_airflow_standalone_runs_airflow_with_the_projects_dags(parser, monkeypatch, tmp_path):
    monkeypatch.setenv("SADA_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    monkeypatch.setattr(cli_collect, "get_settings", lambda: Settings(home=tmp_path))
    calls = []
    monkeypatch.setattr(cli_collect.os, "execvpe", lambda path, argv, env: calls.append((path, argv, env)))
    run(parser, "airflow", "standalone")
    (path, argv, env), = calls
    assert Path(path).name == "airflow" and argv[1:] == ["standalone"]
    assert env["PATH"].split(os.pathsep)[0] == str(Path(path).parent)  # its subprocesses find airflow
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow") and (tmp_path / "airflow").is_dir()
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO_ROOT / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"
