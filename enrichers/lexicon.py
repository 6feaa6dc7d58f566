"""Multilingual phrase lexicons: normalization and matching shared by the rule-based enrichers.

Posts mix French, MSA, Darija in two scripts and English, with free spelling. Text and lexicon
terms go through the same ``normalize`` (case, accents, Arabic letter variants, Arabic-Indic
digits, elongations, punctuation), so a term written once matches its common variants:

- Arabic terms match with the usual proclitics: «العقوبات» also finds «والعقوبات»,
  «بالعقوبات», «للعقوبات»; a term without the article also finds it with و ف ب ك ل.
- A trailing ``*`` matches any word ending: ``libér*`` finds libéré, libérés, libération.
- French elisions split off: «l'amende» is "l amende".

A lexicon file maps label → language group → list of terms; the groups (``fr``, ``ar``,
``ary``, ``arabizi``, ``en``...) only organise the file for the people who edit it: every term
is matched against every post, because posts switch language mid-sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from enrichers.language import normalize_arabic
from sada.errors import DataFileError
from sada.settings import REPO_ROOT

DATA_DIR = REPO_ROOT / "data"

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬،؛؟", "01234567890123456789.,,;?")
_LETTER_RUNS = re.compile(r"([^\W\d_])\1{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")
_NON_WORD = re.compile(r"[^\w.]+|(?<!\d)\.|\.(?!\d)")
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


@lru_cache(maxsize=100_000)
def normalize(text: str) -> str:
    """Text reduced for matching: one space between tokens, padded with spaces at both ends.

    >>> normalize("L'amende JOURNALIÈRE : بالعقوبـــات البديلة ٤٣٫٢٢ !!! bzzaaaaf")
    ' l amende journaliere بالعقوبات البديله 43.22 bzzaf '
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _URL.sub(" ", text)
    text = normalize_arabic(text).translate(_DIGITS)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = _LETTER_RUNS.sub(r"\1", text)
    text = _NON_WORD.sub(" ", text.replace("_", " "))
    return f" {_SPACES.sub(' ', text).strip()} "


# Arabic clitics: conjunction (و ف), then preposition (ب ك ل) or the article.
_AR_WITH_ARTICLE = r"(?:[وف]?(?:[بك]?ال|لل))"
_AR_BARE = r"(?:[وف]?[بكل]?)"


def compile_term(term: str) -> str:
    """The regular expression of one lexicon term (without the surrounding boundaries)."""
    wildcard = term.endswith("*")
    norm = normalize(term.rstrip("*")).strip()
    if not norm:
        raise ValueError("term is empty after normalization")
    words = norm.split(" ")
    parts = []
    for i, word in enumerate(words):
        piece = re.escape(word)
        if _ARABIC_LETTER.match(word):
            if word.startswith("ال") and len(word) > 3:
                piece = _AR_WITH_ARTICLE + re.escape(word[2:])
            elif i == 0 or len(word) > 2:
                piece = _AR_BARE + piece
        parts.append(piece)
    body = " ".join(parts)
    return body + (r"\w*" if wildcard else "")


@dataclass(frozen=True)
class Hit:
    label: str
    term: str
    start: int
    end: int


@dataclass
class Lexicon:
    """Labels with their terms, compiled to one regular expression per label."""

    path: Path
    terms: dict[str, list[str]]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._index: dict[str, dict[str, str]] = {}
        for label, terms in self.terms.items():
            alts = []
            for n, term in enumerate(terms):
                try:
                    alts.append(f"(?P<t{n}>{compile_term(term)})")
                except ValueError as exc:
                    raise DataFileError(self.path, f"{label}[{n}]", f"{exc}: {term!r}") from exc
            if alts:
                self._patterns[label] = re.compile(r"(?<= )(?:" + "|".join(alts) + r")(?= )")
                self._index[label] = {f"t{n}": t for n, t in enumerate(terms)}

    @property
    def labels(self) -> list[str]:
        return list(self.terms)

    def find(self, normalized: str, labels: Iterable[str] | None = None) -> list[Hit]:
        """Every match in an already ``normalize``-d text, in text order."""
        hits = []
        for label in labels if labels is not None else self._patterns:
            pattern = self._patterns.get(label)
            if pattern is None:
                continue
            for m in pattern.finditer(normalized):
                hits.append(Hit(label, self._index[label][m.lastgroup or "t0"], m.start(), m.end()))
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    def counts(self, normalized: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for hit in self.find(normalized):
            out[hit.label] = out.get(hit.label, 0) + 1
        return out

    def matches(self, normalized: str, label: str) -> bool:
        pattern = self._patterns.get(label)
        return bool(pattern and pattern.search(normalized))


def load_lexicon(path: str | Path, allowed_labels: Iterable[str] | None = None) -> Lexicon:
    """Read and validate a lexicon file; errors name the file and the field.

    Format::

        version: 1
        labels:
          community_service:
            fr: ["travail d'intérêt général", "TIG"]
            ar: ["العمل لأجل المنفعة العامة"]
        # optional free-form settings for the enricher that owns the file
        settings: {...}
    """
    path = Path(path)
    where = _display(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFileError(where, "(file)", "not found") from exc
    except yaml.YAMLError as exc:
        raise DataFileError(where, "(file)", f"not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise DataFileError(where, "(root)", "expected a mapping with 'version' and 'labels'")
    if data.get("version") != 1:
        raise DataFileError(where, "version", "expected 1")
    labels = data.get("labels")
    if not isinstance(labels, Mapping) or not labels:
        raise DataFileError(where, "labels", "expected a non-empty mapping of label → groups of terms")
    allowed = set(allowed_labels) if allowed_labels is not None else None
    terms: dict[str, list[str]] = {}
    for label, groups in labels.items():
        if allowed is not None and label not in allowed:
            raise DataFileError(where, f"labels.{label}", f"unknown label; expected one of {sorted(allowed)}")
        if not isinstance(groups, Mapping):
            raise DataFileError(where, f"labels.{label}", "expected a mapping of language group → list of terms")
        flat: list[str] = []
        for group, items in groups.items():
            if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
                raise DataFileError(where, f"labels.{label}.{group}",
                                    "expected a list of non-empty strings (quote yes/no/on/off)")
            flat.extend(items)
        terms[str(label)] = flat
    settings = data.get("settings", {})
    if not isinstance(settings, Mapping):
        raise DataFileError(where, "settings", "expected a mapping")
    return Lexicon(Path(where), terms, dict(settings))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
