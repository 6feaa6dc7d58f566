"""The ``sada`` command: one front for everything a person runs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from sada import logs
from sada.errors import run_command
from sada.settings import get_settings

log = logging.getLogger("sada")


def _cmd_up(args: argparse.Namespace) -> int:
    from sada.services import LocalServices

    services = LocalServices(get_settings())
    for line in services.up():
        print(line)
    if not args.no_setup:
        _setup()
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    from sada.services import LocalServices

    for line in LocalServices(get_settings()).down():
        print(line)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from sada.services import LocalServices

    status = LocalServices(get_settings()).status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        k, e = status["kafka"], status["elasticsearch"]
        print(f"kafka          {'up' if k['up'] else 'down':5} {k['address']}  (Kafka {k['version']}, pid {k['pid']})")
        print(f"elasticsearch  {e['health'] or 'down':5} {e['address']}  (Elasticsearch {e['version']}, pid {e['pid']})")
        print(f"state          {status['home']['path']}")
    return 0 if status["kafka"]["up"] and status["elasticsearch"]["health"] else 1


def _setup() -> None:
    from sada.bootstrap import setup_all

    for line in setup_all(get_settings()):
        print(line)


def _cmd_setup(args: argparse.Namespace) -> int:
    _setup()
    return 0


# The Kafka services, by name: each module exposes make_handler(settings).
CONSUMERS = {
    "enrich": "consumers.enrich",
    "cluster": "consumers.cluster",
    "index": "consumers.index",
    "alert": "consumers.alert",
    "notify": "consumers.notify",
}


def _cmd_consume(args: argparse.Namespace) -> int:
    import importlib

    from consumers.runloop import RunLoop

    settings = get_settings()
    handler = importlib.import_module(CONSUMERS[args.name]).make_handler(settings)
    loop = RunLoop(settings, handler, stats_every=args.stats_every)
    loop.install_signal_handlers()
    loop.run()
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from sada.replay import produce_file

    report = produce_file(get_settings(), Path(args.input))
    print(json.dumps(report))
    return 0 if not report["errors"] else 3


def _pipeline():
    from enrichers.registry import default_pipeline

    return default_pipeline()


def _cmd_enrich(args: argparse.Namespace) -> int:
    from sada.offline import enrich_file

    counts = enrich_file(Path(args.input), Path(args.output), _pipeline())
    print(f"{counts.get('enriched', 0)} enriched, {counts.get('errors', 0)} errors → {args.output}", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sada.offline import evaluate_file, print_report

    report = evaluate_file(Path(args.input), _pipeline())
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from sada.demo import run_demo

    return run_demo(get_settings(), Path(args.input), timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sada", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="fetch (first time) and start the local Kafka and Elasticsearch, then set up")
    p.add_argument("--no-setup", action="store_true", help="do not create topics and index templates")
    p.set_defaults(func=_cmd_up)
    sub.add_parser("down", help="stop the local services (data is kept)").set_defaults(func=_cmd_down)
    p = sub.add_parser("status", help="show the local services")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_status)
    sub.add_parser("setup", help="create topics and index templates (idempotent)").set_defaults(func=_cmd_setup)

    p = sub.add_parser("consume", help="run a consumer until SIGTERM")
    p.add_argument("name", choices=sorted(CONSUMERS))
    p.add_argument("--stats-every", type=float, default=10.0, help="seconds between progress lines")
    p.set_defaults(func=_cmd_consume)

    p = sub.add_parser("replay", help="produce a JSONL file of mentions to mentions.raw")
    p.add_argument("--input", required=True)
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser("enrich", help="enrich a JSONL file of mentions offline")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.set_defaults(func=_cmd_enrich)
    p = sub.add_parser("evaluate", help="score the enrichers on a labelled JSONL file (gold labels under 'gold')")
    p.add_argument("--input", required=True)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=_cmd_evaluate)

    from sada import cli_alerts, cli_collect, cli_digest, cli_search

    for module in (cli_collect, cli_search, cli_alerts, cli_digest):
        module.register(sub)

    p = sub.add_parser("demo", help="the pipeline end to end on the bundled sample")
    p.add_argument("--input", default=str(Path(__file__).resolve().parents[1] / "data" / "sample" / "mentions.jsonl"))
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every mention to be searchable")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    logs.configure(args.log_level.upper(), settings.log_format)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
