"""``sada alerts …`` and ``sada consume alert|notify``: the crisis-alert commands.

``sada.cli`` wires them with ``register(sub)``; ``python -m sada.cli_alerts`` runs them alone.

    sada alerts replay --input MENTIONS.jsonl [--rules DIR] [--until TIME]
    sada alerts dry-run --rule FILE --input MENTIONS.jsonl
    sada alerts list [--status new] [--rule NAME] [--since 24h] [--json]
    sada alerts ack ID [--by NAME]
    sada alerts resolve ID [--by NAME]
    sada alerts validate [--rules DIR] [--recipients FILE]
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sada.errors import SadaError, run_command
from sada.settings import get_settings

HANDLERS = {"alert": "consumers.alert", "notify": "consumers.notify"}


def _engine(rules: list) -> Any:
    from alerts.engine import Engine, EngineConfig
    from alerts.links import Links
    from alerts.settings import AlertSettings

    env = AlertSettings()
    return Engine(rules, config=EngineConfig(tz=get_settings().tz), links=Links(env.kibana_url, env.kibana_data_view))


def _replay(rules: list, path: Path, until: str | None, out: Any = None) -> tuple[Counter, int]:
    from alerts.model import Alert
    from alerts.replay import read_timeline_file, replay

    out = out or sys.stdout
    timeline = read_timeline_file(path)
    for err in timeline.errors:
        print(f"{path}:{err['line']}: skipped: {err['error']}", file=sys.stderr)
    end = datetime.fromisoformat(until) if until else None
    if end is not None and end.tzinfo is None:
        raise SadaError("--until needs a time zone, e.g. 2026-11-15T23:59:00+01:00")
    counts: Counter = Counter()
    engine = _engine(rules)
    for output in replay(engine, timeline.mentions, until=end):
        if isinstance(output, Alert):
            out.write(output.replay_line() + "\n")
            counts[(output.rule, output.delivery)] += 1
    out.flush()
    print(f"{len(timeline.mentions)} mentions ({timeline.enriched} enriched first), "
          f"{len(timeline.errors)} bad lines, {sum(counts.values())} alerts", file=sys.stderr)
    return counts, len(timeline.errors)


def _cmd_replay(args: argparse.Namespace) -> int:
    from alerts.config import RULES_DIR, load_rules

    counts, errors = _replay(load_rules(Path(args.rules) if args.rules else RULES_DIR), Path(args.input), args.until)
    for (rule, delivery), n in sorted(counts.items()):
        print(f"  {rule:24} {delivery:8} {n}", file=sys.stderr)
    return 3 if errors else 0


def _cmd_dry_run(args: argparse.Namespace) -> int:
    from alerts.config import load_rule_file

    rule = load_rule_file(Path(args.rule))
    print(f"{args.rule}: valid ({rule.type_name}, severity {rule.spec.severity}, cooldown {rule.spec.cooldown})",
          file=sys.stderr)
    counts, errors = _replay([rule], Path(args.input), args.until)
    print(f"rule {rule.name}: {sum(counts.values())} alert(s) on this history", file=sys.stderr)
    return 3 if errors else 0


def _store() -> Any:
    from alerts.store import AlertStore
    from sada import es as sada_es

    settings = get_settings()
    return AlertStore(sada_es.client(settings), settings)


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return args.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _cmd_status(args: argparse.Namespace, status: str) -> int:
    from alerts.timefmt import format_datetime

    store = _store()
    doc = store.get(args.id)
    if doc is None:
        raise SadaError(f"no alert {args.id!r}", hint="see `sada alerts list`")
    if doc.get("status") == status or doc.get("status") == "resolved":
        print(f"{args.id} is already {doc['status']}")
        return 0
    doc = store.set_status(args.id, status, by=_who(args))
    fired = datetime.fromisoformat(doc["fired_at"])
    verb = "acknowledged" if status == "acknowledged" else "resolved"
    print(f"{args.id} {verb} by {_who(args)} — {doc['rule']} {doc['key']} "
          f"({format_datetime(fired, get_settings().tz)}): {doc['summary']}")
    return 0


def _since(value: str | None) -> datetime | None:
    from alerts.timefmt import parse_duration

    if not value:
        return None
    return datetime.now(UTC) - parse_duration(value)


def _cmd_list(args: argparse.Namespace) -> int:
    from alerts.safetext import one_line
    from alerts.timefmt import format_short

    docs = _store().search(status=args.status, rule=args.rule, since=_since(args.since), size=args.limit)
    if args.json:
        for d in docs:
            print(json.dumps(d, ensure_ascii=False))
        return 0
    tz = get_settings().tz
    print(f"{'fired':11}  {'severity':8}  {'status':12}  {'rule':20}  {'count':>5}  {'alert id':23}  summary")
    for d in docs:
        fired = format_short(datetime.fromisoformat(d["fired_at"]), tz)
        failed = [c for c, v in (d.get("deliveries") or {}).items() if isinstance(v, dict) and v.get("status") == "failed"]
        flag = f"  [échec: {', '.join(failed)}]" if failed else ""
        print(f"{fired:11}  {d['severity']:8}  {d['status']:12}  {d['rule'][:20]:20}  {d.get('count', 0):>5}  "
              f"{d['alert_id']:23}  {one_line(d.get('summary'), 90)}{flag}")
    if not docs:
        print("(no alert)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from alerts.config import RULES_DIR, load_rules
    from alerts.recipients import load_channels
    from alerts.settings import AlertSettings

    rules = load_rules(Path(args.rules) if args.rules else RULES_DIR, include_disabled=True)
    for r in rules:
        print(f"rule {r.name:22} {r.type_name:24} {r.spec.severity:8} {'enabled' if r.spec.enabled else 'disabled'}")
    env = AlertSettings()
    channels = load_channels(Path(args.recipients) if args.recipients else env.alert_recipients, env,
                             check_secrets=not args.no_secrets)
    for c in channels:
        print(f"channel {c.name:19} {c.type_name:24} from {c.min_severity}")
    return 0


def run_consumer(name: str, stats_every: float = 10.0) -> int:
    """``sada consume alert|notify`` until SIGTERM."""
    import importlib

    from consumers.runloop import RunLoop

    settings = get_settings()
    handler = importlib.import_module(HANDLERS[name]).make_handler(settings)
    loop = RunLoop(settings, handler, stats_every=stats_every)
    loop.install_signal_handlers()
    loop.run()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``alerts`` and its subcommands to the ``sada`` parser."""
    p = sub.add_parser("alerts", help="crisis alerts: replay, dry-run, list, acknowledge")
    a = p.add_subparsers(dest="alerts_command", required=True)

    r = a.add_parser("replay", help="run a JSONL timeline of mentions through the rules; one JSON line per alert")
    r.add_argument("--input", required=True)
    r.add_argument("--rules", help="folder of rule files (default data/alerts/rules)")
    r.add_argument("--until", help="let the clock run to this time after the last mention (ISO 8601 with zone)")
    r.set_defaults(func=_cmd_replay)

    d = a.add_parser("dry-run", help="validate one rule file and run it alone on a history")
    d.add_argument("--rule", required=True)
    d.add_argument("--input", required=True)
    d.add_argument("--until")
    d.set_defaults(func=_cmd_dry_run)

    lst = a.add_parser("list", help="alerts stored in Elasticsearch, newest first")
    lst.add_argument("--status", choices=["new", "acknowledged", "resolved"])
    lst.add_argument("--rule")
    lst.add_argument("--since", help="e.g. 24h, 7d")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_cmd_list)

    for cmd, status in (("ack", "acknowledged"), ("resolve", "resolved")):
        s = a.add_parser(cmd, help=f"mark an alert {status}")
        s.add_argument("id")
        s.add_argument("--by", help="who (default: the current user)")
        s.set_defaults(func=lambda args, status=status: _cmd_status(args, status))

    v = a.add_parser("validate", help="validate the rule files and the recipients file")
    v.add_argument("--rules")
    v.add_argument("--recipients")
    v.add_argument("--no-secrets", action="store_true", help="do not require the channels' secrets in the environment")
    v.set_defaults(func=_cmd_validate)


def main(argv: list[str] | None = None) -> int:
    from sada import logs

    parser = argparse.ArgumentParser(prog="sada", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    c = sub.add_parser("consume", help="run the alert or notify consumer until SIGTERM")
    c.add_argument("name", choices=sorted(HANDLERS))
    c.add_argument("--stats-every", type=float, default=10.0)
    c.set_defaults(func=lambda args: run_consumer(args.name, args.stats_every))
    args = parser.parse_args(argv)
    logs.configure(args.log_level.upper(), get_settings().log_format)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
