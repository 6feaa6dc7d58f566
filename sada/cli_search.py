"""``sada search``, ``sada index``, ``sada kibana import`` and ``sada kibana validate``.

``register(sub)`` adds them to the ``sada`` command's subparsers (``sada/cli.py``);
``python -m sada.cli_search ...`` runs them alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from sada.errors import SadaError, run_command
from sada.settings import get_settings

log = logging.getLogger("sada")


def _ids(values: list[str] | None) -> list[str]:
    """Repeatable and comma-separated: ``--lang fr --lang ar`` or ``--lang fr,ar``."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _cmd_search(args: argparse.Namespace) -> int:
    from sada import es as sada_es
    from sada import search

    settings = get_settings()
    now = datetime.now(UTC)
    req = search.SearchRequest(query=args.query or "", langs=_ids(args.lang), platforms=_ids(args.platform),
                        myths=_ids(args.myth), topics=_ids(args.topic),
                        since=search.parse_since(args.since, now, settings.tz) if args.since else None,
                        limit=args.limit, sort=args.sort)
    es = sada_es.client(settings)
    try:
        total, hits = search.run_search(es, sada_es.mentions_alias(settings), req)
    finally:
        es.close()
    link = None
    kibana_url = args.kibana_url or os.environ.get("SADA_KIBANA_URL")
    if kibana_url:
        from sada.kibana import discover_url

        link = discover_url(kibana_url, search.search_kql(req), req.since or "now-30d", "now")
    if args.json:
        out = {"query": req.query, "sort": req.effective_sort, "total": total,
               "hits": [search.hit_json(h, settings.tz) for h in hits], "kibana": link}
        print(search.escape_json_text(json.dumps(out, ensure_ascii=False, indent=2)))
        return 0
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and not args.no_color
    order = "newest first" if req.effective_sort == "newest" else "most relevant first"
    shown = f"«{search.clean_terminal(req.query, 80)}»" if req.query.strip() else "all mentions"
    print(f"{total} mention(s) for {shown}, {order}, times in {settings.timezone}"
          + (f" — showing {len(hits)}" if total > len(hits) else ""))
    for hit in hits:
        print()
        print(search.format_hit(hit, settings.tz, color=color))
    if link:
        print(f"\nKibana: {link}")
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    from sada.indices import index_file

    settings = get_settings()
    path = Path(args.input)
    if not path.is_file():
        raise SadaError(f"no such file: {path}", hint="pass a JSONL file of mentions with --input")
    report = index_file(settings, path, progress=not args.quiet, max_wait=args.max_wait)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        rate = report.indexed / report.seconds if report.seconds else 0.0
        print(f"{report.indexed} of {report.lines} mentions indexed ({report.enriched} enriched offline), "
              f"{len(report.invalid)} invalid, {len(report.rejected)} rejected by Elasticsearch, "
              f"in {report.seconds:.1f}s ({rate:.0f}/s) → alias {settings.index('mentions')}")
        for item in report.invalid[:20]:
            print(f"  line {item['line']}: invalid: {item['error']}", file=sys.stderr)
        for item in report.rejected[:20]:
            print(f"  line {item['line']}: rejected: {item['reason']}", file=sys.stderr)
    return 0 if report.ok else 3


def _cmd_kibana_import(args: argparse.Namespace) -> int:
    from sada.kibana import KibanaSettings, import_saved_objects

    kb = KibanaSettings()
    url = args.url or kb.url
    if not url:
        raise SadaError("no Kibana URL", hint="pass --url or set SADA_KIBANA_URL")
    report = import_saved_objects(url, Path(args.file), kibana=kb, settings=get_settings(), space=args.space,
                                  apply_settings=not args.no_settings)
    print(f"imported {report.success_count} of {report.objects} saved objects into Kibana")
    for key, value in report.settings.items():
        print(f"  advanced setting {key} = {value}")
    for warning in report.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 0


def _cmd_kibana_validate(args: argparse.Namespace) -> int:
    from sada.kibana import live_fields, validate_file

    fields = None
    source = "the templates in infra/elasticsearch/"
    if args.live:
        from sada import es as sada_es

        settings = get_settings()
        es = sada_es.client(settings)
        try:
            fields = live_fields(es, settings)
        finally:
            es.close()
        source = f"the live mappings at {settings.es_url}"
    objects, problems = validate_file(Path(args.file), fields)
    if problems:
        for item in problems.items:
            print(item, file=sys.stderr)
        print(f"{args.file}: {len(problems.items)} problem(s) in {len(objects)} objects (fields from {source})")
        return 1
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    print(f"{args.file}: {len(objects)} objects valid ({', '.join(f'{n} {t}' for t, n in sorted(counts.items()))}); "
          f"fields checked against {source}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``search``, ``index`` and ``kibana`` to the ``sada`` command's subparsers."""
    from sada.kibana import SAVED_OBJECTS_FILE
    from sada.search import MAX_LIMIT, SORTS

    p = sub.add_parser("search", help="search the indexed mentions (French, Arabic, Darija)",
                       description="Words are all required; \"quoted phrases\" and -excluded words work as in a "
                                   "search box. Label filters take TAXONOMY.md ids, repeated or comma-separated.")
    p.add_argument("query", nargs="?", default="", help="what to look for; empty lists the newest mentions")
    p.add_argument("--lang", action="append", metavar="ID", help="fr, ar, ary, en, es, und")
    p.add_argument("--platform", action="append", metavar="ID", help="x, facebook, news, youtube, ...")
    p.add_argument("--myth", action="append", metavar="ID", help="impunity, mass_release, ...")
    p.add_argument("--topic", action="append", metavar="ID", help="day_fine, electronic_monitoring, ...")
    p.add_argument("--since", metavar="WHEN", help="24h, 7d, 2w, a date (2026-11-01) or an ISO date-time")
    p.add_argument("--limit", type=int, default=20, help=f"hits to show (1-{MAX_LIMIT}, default 20)")
    p.add_argument("--sort", choices=SORTS, help="default: relevance with a query, newest without")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.add_argument("--no-color", action="store_true", help="no bold highlights even on a terminal")
    p.add_argument("--kibana-url", help="also print a Discover link (default SADA_KIBANA_URL)")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("index", help="bulk-load a JSONL file of mentions into Elasticsearch",
                       description="Mentions that carry no labels are enriched offline first. Progress goes to "
                                   "stderr, the summary to stdout; exit 3 when a line was invalid or rejected.")
    p.add_argument("--input", required=True, help="JSONL file, one mention per line")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--max-wait", type=float, default=120.0,
                   help="seconds to wait for an unavailable Elasticsearch before giving up (default 120)")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("kibana", help="Kibana saved objects: import them, or validate them offline")
    ksub = p.add_subparsers(dest="kibana_command", required=True)
    k = ksub.add_parser("import", help="import the saved objects through Kibana's API (overwrites Sada's own)",
                        description="Credentials: SADA_KIBANA_USERNAME/SADA_KIBANA_PASSWORD or "
                                    "SADA_KIBANA_API_KEY. Also sets dateFormat:tz to SADA_TIMEZONE.")
    k.add_argument("--url", help="Kibana's address (default SADA_KIBANA_URL)")
    k.add_argument("--file", default=str(SAVED_OBJECTS_FILE))
    k.add_argument("--space", help="Kibana space id (default SADA_KIBANA_SPACE, else the default space)")
    k.add_argument("--no-settings", action="store_true", help="do not set dateFormat:tz and defaultIndex")
    k.set_defaults(func=_cmd_kibana_import)
    k = ksub.add_parser("validate", help="check the saved objects file offline against the index templates")
    k.add_argument("--file", default=str(SAVED_OBJECTS_FILE))
    k.add_argument("--live", action="store_true", help="check the fields against the running Elasticsearch")
    k.set_defaults(func=_cmd_kibana_validate)


def main(argv: list[str] | None = None) -> int:
    """These commands alone (``python -m sada.cli_search``), as ``sada`` runs them."""
    from sada import logs

    parser = argparse.ArgumentParser(prog="sada", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logs.configure(args.log_level.upper(), get_settings().log_format)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
