"""Knowledge the campaign team edits: myths and their validated counter-arguments.

Loaded from ``data/myths.yaml`` and validated; errors name the file and the field. Alerts and
the weekly digest quote the counter-arguments from here, so what the CM receives is always the
text the team validated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sada import yamlfile
from sada.errors import DataFileError
from sada.model import MYTHS
from sada.settings import REPO_ROOT

MYTHS_FILE = REPO_ROOT / "data" / "myths.yaml"


class Bilingual(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fr: str = Field(min_length=1)
    ar: str = Field(min_length=1)


class BilingualList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fr: list[str] = Field(min_length=1)
    ar: list[str] = Field(min_length=1)


class Myth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Bilingual
    claim: Bilingual
    counter: BilingualList
    caution: Bilingual | None = None


class MythBook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    as_of: str
    myths: dict[str, Myth]


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(root)"


def load_myths(path: Path = MYTHS_FILE) -> MythBook:
    data = yamlfile.read(path)
    try:
        book = MythBook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, _location(err["loc"]), err["msg"]) from exc
    unknown = sorted(set(book.myths) - set(MYTHS))
    if unknown:
        raise DataFileError(path, f"myths.{unknown[0]}", f"unknown myth id; TAXONOMY ids are {', '.join(MYTHS)}")
    missing = sorted(set(MYTHS) - set(book.myths))
    if missing:
        raise DataFileError(path, "myths", f"no counter-arguments for {', '.join(missing)}")
    return book


@lru_cache(maxsize=1)
def myths() -> MythBook:
    """The validated myth book, read once per process."""
    return load_myths()
