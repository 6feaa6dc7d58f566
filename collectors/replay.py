"""Replay source: mentions from a JSONL file (the demo, tests, backfills).

Each line is a mention object. ``id`` and ``collected_at`` may be absent: the id is then derived
from platform + native id (or URL), exactly as a live collector would, so replaying the same
file twice yields the same ids.

As a connector (``ReplaySource``, file from ``SADA_REPLAY_FILE`` or ``path`` in sources.yaml)
it reads the file from the line after its cursor and matches every mention against the keyword
sets like any stream source; an invalid line is counted as an error and passed over for good.
The cursor is ``{"file", "line"}``: pointing the source at another file starts from its top.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from collectors.base import Event, Fetched, Source, Unusable
from collectors.config import SourceOptions
from collectors.cursors import Cursor
from collectors.keywords import Query
from sada.model import Mention, Platform, mention_id


@dataclass(frozen=True)
class ReplayError:
    line: int
    error: str


def read_replay_lines(path: Path, now: datetime | None = None) -> Iterator[tuple[int, Mention | ReplayError]]:
    """(line number, Mention or ReplayError) for every non-blank line."""
    collected = now or datetime.now(UTC)
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("line is not a JSON object")
                if not data.get("id"):
                    data["id"] = mention_id(data.get("platform", "replay"), data.get("native_id"), data.get("url"))
                data.setdefault("collected_at", collected.isoformat())
                yield number, Mention.model_validate(data)
            except (ValueError, ValidationError) as exc:
                yield number, ReplayError(number, str(exc).splitlines()[0] if isinstance(exc, ValueError) else str(exc))


def read_replay(path: Path, now: datetime | None = None) -> Iterator[Mention | ReplayError]:
    """Yield one Mention per valid line and a ReplayError (with its line number) per bad one."""
    for _, item in read_replay_lines(path, now):
        yield item


class ReplayOptions(SourceOptions):
    path: str | None = Field(None, description="the JSONL file (SADA_REPLAY_FILE overrides it)")


class ReplaySource(Source):
    name = "replay"
    platform = Platform.REPLAY
    mode = "stream"
    Options = ReplayOptions

    @property
    def path(self) -> Path | None:
        chosen = self.ctx.config.replay_file or self.options.path
        return Path(chosen) if chosen else None

    def missing(self) -> list[str]:
        if self.path is None:
            return ["SADA_REPLAY_FILE"]
        return [] if self.path.is_file() else [f"SADA_REPLAY_FILE ({self.path} does not exist)"]

    def fetch(self, query: Query | None, cursor: Cursor | None) -> Iterator[Event]:
        path = self.path
        assert path is not None
        done = int(cursor["line"]) if cursor and cursor.get("file") == str(path) else 0
        for number, item in read_replay_lines(path, self.now()):
            if number <= done:
                continue
            position = {"file": str(path), "line": number}
            if isinstance(item, ReplayError):
                yield Unusable(f"{path.name} line {number}: {item.error[:200]}", position)
            else:
                yield Fetched(item, position)
