"""Replay source: mentions from a JSONL file (the demo, tests, backfills).

Each line is a mention object. ``id`` and ``collected_at`` may be absent: the id is then derived
from platform + native id (or URL), exactly as a live collector would, so replaying the same
file twice yields the same ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from sada.model import Mention, mention_id


@dataclass(frozen=True)
class ReplayError:
    line: int
    error: str


def read_replay(path: Path, now: datetime | None = None) -> Iterator[Mention | ReplayError]:
    """Yield one Mention per valid line and a ReplayError (with its line number) per bad one."""
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
                yield Mention.model_validate(data)
            except (ValueError, ValidationError) as exc:
                yield ReplayError(number, str(exc).splitlines()[0] if isinstance(exc, ValueError) else str(exc))
