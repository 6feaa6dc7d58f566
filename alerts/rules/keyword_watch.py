"""``keyword_watch``: words the team wants to hear about at once (évasion, scandale, فضيحة...).

The watch list is a data file the team edits (``data/alerts/keywords.yaml``), validated on load.
Matching ignores case, French accents, Arabic diacritics, tatweel and alef/ya/ta-marbuta
spellings, accepts Arabic proclitics (و ف ب ل ك + ال) and a trailing ``*`` for any ending.
Key = the watch-list entry; severity and minimum count can be set per entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.config import DATA_DIR, Duration, kql_value, location, read_yaml
from alerts.model import Severity
from alerts.rules.base import WINDOW_DOC, Context, Finding, Observation, RuleType, window_len
from alerts.series import BUCKET, DAY, HOUR, Keyed
from sada.errors import DataFileError
from sada.model import Mention
from sada.settings import REPO_ROOT

WATCHLIST = DATA_DIR / "keywords.yaml"
_ARABIC_DIACRITICS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
                       "’": "'", "`": "'"})


def normalize(text: str) -> str:
    """Lowercase, no Latin accents, no Arabic diacritics or tatweel, unified Arabic letters."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_DIACRITICS.sub("", text)
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0600))
    return unicodedata.normalize("NFC", text).translate(_FOLD)


def _pattern(variant: str) -> str:
    norm = normalize(variant.strip())
    star = norm.endswith("*")
    norm = norm.rstrip("*").strip()
    body = r"\s+".join(re.escape(w) for w in norm.split())
    if star:
        body += r"\w*"
    if _ARABIC.search(norm):
        body = r"(?:[وفبلك]?(?:ال)?)" + body
    return rf"(?<!\w){body}(?!\w)"


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, description="how the alert names it")
    match: list[str] = Field(min_length=1, description="spellings; '*' at the end for any ending")
    severity: Severity = "warning"
    min_count: int | None = Field(None, ge=1, description="mentions in the window needed (default: the rule's)")

    @field_validator("match")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not s.strip().rstrip("*").strip()]
        if bad:
            raise ValueError("empty spelling")
        return v


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    terms: dict[str, Entry] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _ids(cls, v: dict[str, Entry]) -> dict[str, Entry]:
        for key in v:
            if not re.match(r"^[a-z0-9_]{2,40}$", key):
                raise ValueError(f"entry id {key!r}: use 2-40 lowercase letters, digits or '_'")
        return v


def load_watchlist(path: Path = WATCHLIST) -> Watchlist:
    data = read_yaml(path)
    try:
        return Watchlist.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, location(err["loc"]), err["msg"].removeprefix("Value error, ")) from exc


class KeywordWatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    watchlist: str = Field(str(WATCHLIST.relative_to(REPO_ROOT)), description="file, relative to the repository")
    window: Duration = Field(timedelta(hours=1), description=WINDOW_DOC)
    min_count: int = Field(3, ge=1, description="mentions in the window needed (an entry may override it)")
    critical_count: int = Field(25, ge=1, description="critical from this many mentions in the window")


class KeywordWatch(RuleType):
    type_name = "keyword_watch.v1"
    Options = KeywordWatchOptions
    rank = 2
    windowed = True
    explains = True
    options: KeywordWatchOptions

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        path = Path(self.options.watchlist)
        self.watchlist_path = path if path.is_absolute() else REPO_ROOT / path
        self.watchlist = load_watchlist(self.watchlist_path)
        self.patterns = {key: re.compile("|".join(_pattern(v) for v in e.match))
                         for key, e in self.watchlist.terms.items()}
        self.series = Keyed()
        self._last: tuple[str, list[str]] = ("", [])

    def matches(self, m: Mention) -> list[str]:
        if self._last[0] == m.id:
            return self._last[1]
        text = normalize(" ".join(x for x in (m.title, m.text) if x))
        found = [key for key, pat in self.patterns.items() if pat.search(text)]
        self._last = (m.id, found)
        return found

    def accepts(self, m: Mention) -> bool:
        return super().accepts(m) and bool(self.matches(m))

    def tags(self, m: Mention) -> list[str]:
        return [self.tag(k) for k in self.matches(m)] if super().accepts(m) else []

    def observe(self, m: Mention, obs: Observation) -> Iterable[str]:
        keys = self.matches(m)
        for key in keys:
            self.series.get(key).add(obs.ts, fine_from=obs.fine_from, ref=obs.ref, keep_refs=self.keep_refs)
        return keys

    def evaluate(self, keys: Iterable[str] | None, ctx: Context) -> dict[str, Finding]:
        o = self.options
        out: dict[str, Finding] = {}
        b0, b1 = self.window_buckets(o.window, ctx.now)
        for key in (self.series.series if keys is None else keys):
            s = self.series.peek(key)
            entry = self.watchlist.terms.get(key)
            if s is None or entry is None:
                continue
            count = s.count(b0, b1)
            needed = entry.min_count or o.min_count
            if count < (1 if ctx.is_open(self.name, key) else needed):
                continue
            top = s.top(b0, b1, 100)
            spellings = " or ".join(kql_value(v.rstrip("*")) for v in entry.match)
            out[key] = Finding(
                key=key,
                severity="critical" if count >= o.critical_count else entry.severity,
                count=count,
                baseline=None,
                window_start=b0 * BUCKET,
                window_end=ctx.now,
                sentence=(f"Mot surveillé « {entry.label} » : {count} mention{'s' if count > 1 else ''} "
                          f"en {window_len(o.window)}."),
                action=("Lire les publications ci-dessous pour vérifier s'il s'agit d'un fait nouveau ; si oui, "
                        "préparer une réponse factuelle et prévenir le responsable avant toute prise de parole."),
                mention_ids=[rid for _, rid in top],
                kql=self.filter_kql(f"text:({spellings})"),
                details={"term": key, "label": entry.label, "spellings": entry.match, "window": window_len(o.window)},
            )
        return out

    def compact(self, now: float) -> None:
        o = self.options
        self.series.compact(now, fine_keep=2 * DAY, keep=o.window.total_seconds() + DAY,
                            refs_keep=o.window.total_seconds() + HOUR)

    def ref_ids(self) -> set[str]:
        return self.series.ref_ids()

    def dump(self) -> dict[str, Any]:
        return {"series": self.series.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.series = Keyed.load(data.get("series", {}))
