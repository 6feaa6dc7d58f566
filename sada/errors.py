"""The project's exception tree.

Every error a person can meet carries a stable code and says what to do next, so that logs,
dead letters and the CLI speak the same language.
"""

from __future__ import annotations

import sys
from typing import Any


class SadaError(Exception):
    """Base class of every error raised on purpose by Sada."""

    code = "SADA000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        base = f"[{self.code}] {super().__str__()}"
        return f"{base} — {self.hint}" if self.hint else base


class ConfigError(SadaError):
    """A setting or a data file the team edits is wrong."""

    code = "SADA100"


class DataFileError(ConfigError):
    """A data file failed validation; the message names the file and the field."""

    code = "SADA101"

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}", hint="fix the file and run the command again")


class ServiceError(SadaError):
    """A local service (Kafka, Elasticsearch) could not be fetched, started or reached."""

    code = "SADA200"


class TransientError(SadaError):
    """Downstream is unavailable for now; the same work must be retried, offsets not committed."""

    code = "SADA300"


class PoisonMessage(SadaError):
    """A message that can never be processed; it goes to the dead-letter topic with the reason."""

    code = "SADA400"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class PipelineError(SadaError):
    """A pipeline of enrichers is mis-assembled (a field read before any enricher sets it)."""

    code = "SADA500"


def run_command(args: Any) -> int:
    """Run a parsed ``sada`` command (``args.func``) and give its exit code: a SadaError is printed
    as ``sada: <message>`` and exits 2, Ctrl-C exits 130."""
    try:
        return args.func(args)
    except SadaError as exc:
        print(f"sada: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
