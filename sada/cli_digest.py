"""``sada digest``: preview, send or check the weekly veille digest.

``sada.cli`` wires it with ``register(sub)``; ``python -m sada.cli_digest`` runs it alone.

    sada digest --week 2026-W47 --preview out.html [--text out.txt]   # nothing sent or recorded
    sada digest --week 2026-W47 --send [--force]                      # once per week unless forced
    sada digest --check                                               # validate the recipients file

Without ``--week`` the digest covers the last complete ISO week (Casablanca time).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sada.errors import SadaError, run_command
from sada.settings import get_settings


def _week(args: argparse.Namespace):
    from digest.week import IsoWeek

    tz = get_settings().tz
    return IsoWeek.parse(args.week, tz) if args.week else IsoWeek.before(datetime.now(UTC), tz)


def _digest_settings(args: argparse.Namespace):
    from digest.config import DigestSettings

    ds = DigestSettings()
    if args.recipients:
        ds = ds.model_copy(update={"recipients_file": Path(args.recipients)})
    return ds


def _cmd_digest(args: argparse.Namespace) -> int:
    from digest.config import load_recipients

    ds = _digest_settings(args)
    if args.check:
        book = load_recipients(ds.recipients_file)
        print(f"{ds.recipients_file}: valid ({len(book.recipients)} recipient(s), {len(book.ops)} ops, "
              f"public from {book.privacy.public_followers} followers)")
        return 0
    if not (args.preview or args.send):
        raise SadaError("nothing to do", hint="pass --preview FILE, --send or --check")
    if args.force and not args.send:
        raise SadaError("--force only goes with --send")
    week = _week(args)
    settings = get_settings()
    if args.preview:
        from digest.deliver import preview

        digest = preview(settings, week, Path(args.preview), text_out=Path(args.text) if args.text else None,
                         digest_settings=ds)
        print(f"{args.preview}: digest of {week} ({week.span_fr()}), {digest.current.volume} relevant mentions, "
              f"{len(digest.recommendations)} recommendation(s)", file=sys.stderr)
    if args.send:
        from digest.deliver import send_week

        outcome = send_week(settings, week, force=args.force, digest_settings=ds)
        print(json.dumps(outcome.as_dict(), ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``digest`` to the ``sada`` command's subparsers."""
    p = sub.add_parser("digest", help="the weekly veille digest: preview, send, check",
                       description="The digest covers one ISO week, Monday 00:00 to Sunday 24:00 in SADA_TIMEZONE "
                                   "(default: the last complete week). Only relevant mentions count.")
    p.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: last week)")
    p.add_argument("--preview", metavar="FILE", help="write the HTML (charts embedded) to FILE; sends nothing")
    p.add_argument("--text", metavar="FILE", help="with --preview: also write the plain-text part")
    p.add_argument("--send", action="store_true", help="archive and e-mail it (once per week)")
    p.add_argument("--force", action="store_true", help="with --send: send again a week already sent")
    p.add_argument("--recipients", metavar="FILE", help="recipients file (default SADA_DIGEST_RECIPIENTS_FILE "
                                                        "or data/digest/recipients.yaml)")
    p.add_argument("--check", action="store_true", help="validate the recipients file and stop")
    p.set_defaults(func=_cmd_digest)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sada")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    return parser


def run(argv: list[str] | None = None) -> int:
    """Parse and run, without touching the logging set-up (for ``main`` and tests)."""
    args = _parser().parse_args(argv)
    return run_command(args)


def main(argv: list[str] | None = None) -> int:
    from sada import logs

    args, _ = _parser().parse_known_args(argv)
    logs.configure(args.log_level.upper(), get_settings().log_format)
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
