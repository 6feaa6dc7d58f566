"""``sada collect ...`` and ``sada airflow standalone``: collection outside and inside Airflow.

Wired into ``sada.cli`` with ``cli_collect.register(sub)``.

```
sada collect sources [--json]           every source: enabled, credentials present, its jobs
sada collect run --source S [--query Q] [--since 6h|2d|ISO] [--dry-run]
                                        one collection outside Airflow (same code as the DAG)
sada collect match "some text" [--host hespress.com]
                                        which keyword sets keep a text (check keywords.yaml)
sada collect purge [--older-than-days N] [--dry-run]
                                        remove raw text older than the retention (Law 09-08)
sada airflow standalone                 Airflow (SQLite) under SADA_HOME/airflow with dags/
```
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sada.errors import ConfigError
from sada.settings import REPO_ROOT, Settings, get_settings

_RELATIVE = re.compile(r"^(\d+)([hd])$")


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``6h``, ``2d`` or an ISO 8601 time with its zone → an aware datetime."""
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now - (timedelta(hours=n) if unit == "h" else timedelta(days=n))
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--since {value!r}: expected 6h, 2d or 2026-11-18T09:00:00+01:00") from exc
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--since {value!r}: give a time zone (e.g. +01:00 or Z)")
    return when


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("expected a number of days >= 1")
    return n


def _cmd_sources(args: argparse.Namespace) -> int:
    from collectors.task import environment

    env = environment(include_disabled=True)
    rows = []
    for name, source in env.sources.items():
        missing = source.missing()
        rows.append({"source": name, "mode": source.mode, "enabled": source.options.enabled,
                     "ready": not missing, "missing": missing, "queries": source.queries(),
                     "base_url": source.base_url or None})
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        state = "ready" if r["ready"] else "skipped: " + ", ".join(r["missing"]) + " not set"
        if not r["enabled"]:
            state = "disabled"
        print(f"{r['source']:17} {r['mode']:7} {state}")
        if r["ready"] and r["enabled"]:
            print(f"{'':17} jobs: {', '.join(r['queries']) or 'none'}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from collectors.task import environment, run_job

    env = environment()
    source = env.sources.get(args.source)
    if source is None:
        raise ConfigError(f"no enabled source {args.source!r}; enabled: {', '.join(env.sources)}",
                          hint="see `sada collect sources`")
    queries = [args.query] if args.query else source.queries()
    status = 0
    for query in queries:
        summary = run_job(args.source, query, since=args.since, dry_run=args.dry_run,
                          printer=lambda m: print(m.model_dump_json()))
        print(summary["line"], file=sys.stderr)
        if summary["status"] not in ("ok", "not_due"):
            status = max(status, 0 if summary["status"] == "skipped" else 3)
    return status


def _cmd_match(args: argparse.Namespace) -> int:
    from collectors.config import CollectorSettings
    from collectors.keywords import load_keywords

    keywords = load_keywords(CollectorSettings().keywords_file)
    moroccan = keywords.is_moroccan_host(args.host)
    matched = keywords.matching(args.text, moroccan_context=moroccan)
    print(json.dumps({"matched": matched, "moroccan_context": moroccan}, ensure_ascii=False))
    return 0 if matched else 1


def _cmd_purge(args: argparse.Namespace) -> int:
    from collectors.config import CollectorSettings
    from collectors.purge import purge_raw_text

    days = args.older_than_days or CollectorSettings().text_retention_days
    report = purge_raw_text(get_settings(), older_than_days=days, dry_run=args.dry_run)
    print(json.dumps(report))
    return 0 if not report.get("failures") else 3


def airflow_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a local Airflow: home under SADA_HOME, SQLite, the repo's DAGs."""
    env = dict(os.environ if base is None else base)
    home = Path(settings.home) / "airflow"
    env["AIRFLOW_HOME"] = str(home)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")  # the UI on loopback only, like Kafka and ES
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def _airflow_binary() -> str:
    local = Path(sys.executable).with_name("airflow")
    found = str(local) if local.exists() else shutil.which("airflow")
    if not found:
        raise ConfigError("the `airflow` command is not installed", hint="run `make install`")
    return found


def _cmd_airflow_standalone(args: argparse.Namespace) -> int:
    settings = get_settings()
    env = airflow_environment(settings)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    binary = _airflow_binary()
    # `airflow standalone` starts its components as `airflow ...` subprocesses: they must find
    # this virtualenv's airflow even when it is not on PATH.
    env["PATH"] = os.pathsep.join(p for p in (str(Path(binary).parent), env.get("PATH")) if p)
    print(f"Airflow home {env['AIRFLOW_HOME']}, DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}", file=sys.stderr)
    os.execvpe(binary, [binary, "standalone"], env)  # replaces this process
    return 0  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``collect`` and ``airflow`` to the ``sada`` command's subparsers."""
    collect = sub.add_parser("collect", help="collect mentions from the sources (outside Airflow), purge old text")
    csub = collect.add_subparsers(dest="collect_command", required=True)

    p = csub.add_parser("sources", help="list sources, whether their credentials are set, and their jobs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sources)

    p = csub.add_parser("run", help="one collection of a source (every query it runs, or --query)")
    p.add_argument("--source", required=True, help="a source name (see `sada collect sources`)")
    p.add_argument("--query", help="a keyword set id, 'all' (stream sources) or 'own' (own accounts)")
    p.add_argument("--since", type=parse_since,
                   help="start from this time (6h, 2d or ISO 8601 with zone) instead of the cursor; "
                        "the saved cursor is then left alone")
    p.add_argument("--dry-run", action="store_true", help="print matched mentions as JSON lines; produce nothing")
    p.set_defaults(func=_cmd_run)

    p = csub.add_parser("match", help="which keyword sets keep a text (exit 1 when none)")
    p.add_argument("text")
    p.add_argument("--host", help="where the text was published (a Moroccan outlet is a Moroccan anchor)")
    p.set_defaults(func=_cmd_match)

    p = csub.add_parser("purge", help="remove raw text older than the retention period (Law 09-08)")
    p.add_argument("--older-than-days", type=_positive, help="default: SADA_TEXT_RETENTION_DAYS (180)")
    p.add_argument("--dry-run", action="store_true", help="count what would be purged")
    p.set_defaults(func=_cmd_purge)

    airflow = sub.add_parser("airflow", help="a local Airflow with the project's DAGs")
    asub = airflow.add_subparsers(dest="airflow_command", required=True)
    p = asub.add_parser("standalone", help="`airflow standalone` with AIRFLOW_HOME under SADA_HOME, SQLite, dags/")
    p.set_defaults(func=_cmd_airflow_standalone)
