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

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from enrichers.language import normalize_arabic
from sada import yamlfile
from sada.errors import DataFileError
from sada.settings import REPO_ROOT

DATA_DIR = REPO_ROOT / "data"

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬،؛؟", "01234567890123456789.,,;?")
_LETTER_RUNS = re.compile(r"([^\W\d_])\1{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")
_NON_WORD = re.compile(r"[^\w.]+|(?<!\d)\.|\.(?!\d)")
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def file_digest(path: str | Path) -> str:
    """SHA-256 of a data file's bytes: what a result was computed with, to compare later."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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
    """Labels with their terms, compiled to one regular expression per label.

    The regular expressions define what matches; ``find`` gets the same hits from a word index
    (a term is looked up by its first word, its other words are checked next), because trying
    hundreds of alternatives at every position of every post was the pipeline's bottleneck.
    """

    path: Path
    terms: dict[str, list[str]]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._index: dict[str, dict[str, str]] = {}
        self._words = _WordIndex()
        for label, terms in self.terms.items():
            alts = []
            for n, term in enumerate(terms):
                try:
                    alts.append(f"(?P<t{n}>{compile_term(term)})")
                except ValueError as exc:
                    raise DataFileError(self.path, f"{label}[{n}]", f"{exc}: {term!r}") from exc
                self._words.add(label, n, term)
            if alts:
                self._patterns[label] = re.compile(r"(?<= )(?:" + "|".join(alts) + r")(?= )")
                self._index[label] = {f"t{n}": t for n, t in enumerate(terms)}

    @property
    def labels(self) -> list[str]:
        return list(self.terms)

    def find(self, normalized: str, labels: Iterable[str] | None = None) -> list[Hit]:
        """Every match in an already ``normalize``-d text, in text order.

        Per label, as ``re.finditer`` with the label's pattern would: matches do not overlap,
        and where several terms match at one position the first listed wins.
        """
        order = list(labels) if labels is not None else list(self._patterns)
        tokens = _tokens(normalized)
        found: dict[str, list[tuple[int, int, int, str]]] = {}
        for start, end, n, label, term in self._words.candidates(tokens, set(order)):
            found.setdefault(label, []).append((start, n, end, term))
        hits = []
        for label in order:
            cands = sorted(found.get(label, ()))
            after = -1
            for start, _n, end, term in cands:
                if start > after:
                    hits.append(Hit(label, term, tokens[start][1], tokens[end][2]))
                    after = end
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    def counts(self, normalized: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for hit in self.find(normalized):
            out[hit.label] = out.get(hit.label, 0) + 1
        return out

    def matches(self, normalized: str, label: str) -> bool:
        if label not in self._patterns:
            return False
        return any(True for _ in self._words.candidates(_tokens(normalized), {label}))


# --------------------------------------------------------------------------------------------
# Word index: the hits of the terms' regular expressions, found word by word
# --------------------------------------------------------------------------------------------

# What may stand before an Arabic word of a term (see compile_term): و/ف then ب/ك/ل for a
# word without the article, و/ف then ال/بال/كال/لل for a word written with it.
_BARE_PREFIXES = frozenset(a + b for a in ("", "و", "ف") for b in ("", "ب", "ك", "ل"))
_ARTICLE_PREFIXES = frozenset(a + b for a in ("", "و", "ف") for b in ("ال", "بال", "كال", "لل"))
_ALL_PREFIXES = _BARE_PREFIXES | _ARTICLE_PREFIXES
_PREFIX_LETTERS = frozenset("وفبكلا")
_EXACT, _BARE, _ARTICLE = 0, 1, 2
_ALLOWED = {_EXACT: frozenset({""}), _BARE: _BARE_PREFIXES, _ARTICLE: _ARTICLE_PREFIXES}
_WILD_KEY = 3
_WORD_TAIL = re.compile(r"\w*")


@lru_cache(maxsize=4096)
def _tokens(normalized: str) -> tuple[tuple[str, int, int, tuple[tuple[str, str], ...]], ...]:
    """(word, start, end, clitic splits) per word of a normalised text.

    A word without a space on both sides cannot match (the patterns' lookarounds need them):
    it is kept as an empty word so that positions still line up.
    """
    out = []
    pos = 0
    for word in normalized.split(" "):
        start, end = pos, pos + len(word)
        pos = end + 1
        if not word or start == 0 or end >= len(normalized):
            word = ""  # no space before or after it: no pattern can match it
        splits: list[tuple[str, str]] = [("", word)]
        if word and word[0] in _PREFIX_LETTERS:
            for k in range(1, min(4, len(word) - 1) + 1):
                if word[:k] in _ALL_PREFIXES:
                    splits.append((word[:k], word[k:]))
        out.append((word, start, end, tuple(splits)))
    return tuple(out)


def _term_words(term: str) -> tuple[tuple[str, int, bool], ...]:
    """(core, kind, wildcard) per word of a term, as compile_term builds its pattern."""
    wildcard = term.endswith("*")
    words = normalize(term.rstrip("*")).strip().split(" ")
    out = []
    for i, word in enumerate(words):
        kind, core = _EXACT, word
        if _ARABIC_LETTER.match(word):
            if word.startswith("ال") and len(word) > 3:
                kind, core = _ARTICLE, word[2:]
            elif i == 0 or len(word) > 2:
                kind = _BARE
        out.append((core, kind, wildcard and i == len(words) - 1))
    return tuple(out)


def _word_matches(spec: tuple[str, int, bool], splits: tuple[tuple[str, str], ...]) -> bool:
    core, kind, wildcard = spec
    allowed = _ALLOWED[kind]
    for prefix, rest in splits:
        if prefix in allowed and (
            rest == core if not wildcard else rest.startswith(core) and _WORD_TAIL.fullmatch(rest, len(core))
        ):
            return True
    return False


class _WordIndex:
    """Terms indexed by their first word, and multi-word terms by their first two words.

    Exact first words are looked up by value, wildcard ones by their start; a term of several
    words whose second word is exact is looked up by the pair, so common first words ("la",
    "ال...") do not bring every term that starts with them.
    """

    def __init__(self) -> None:
        self.first: dict[str, list[tuple[str, int, str, tuple]]] = {}  # by the first word alone
        self.pair: dict[tuple[str, str], list[tuple[str, int, str, tuple]]] = {}
        self.pair_firsts: set[str] = set()
        self.wild: dict[str, list[tuple[str, int, str, tuple]]] = {}
        self.wild_lengths: tuple[int, ...] = ()

    def add(self, label: str, n: int, term: str) -> None:
        words = _term_words(term)
        core, _kind, wildcard = words[0]
        entry = (label, n, term, words)
        if wildcard:
            key = core[:_WILD_KEY]
            self.wild.setdefault(key, []).append(entry)
            self.wild_lengths = tuple(sorted({*self.wild_lengths, len(key)}))
        elif len(words) == 1 or words[1][2]:
            self.first.setdefault(core, []).append(entry)
        else:
            self.pair.setdefault((core, words[1][0]), []).append(entry)
            self.pair_firsts.add(core)

    def candidates(self, tokens, wanted: set[str] | None):
        """(first token, last token, term number, label, term) of every term matching somewhere."""
        first, pair, pair_firsts, wild, lengths = (
            self.first, self.pair, self.pair_firsts, self.wild, self.wild_lengths)
        count = len(tokens)
        for i, (word, _s, _e, splits) in enumerate(tokens):
            if not word:
                continue
            entries: list[tuple[str, int, str, tuple]] = []
            for _prefix, rest in splits:
                found = first.get(rest)
                if found:
                    entries += found
                if rest in pair_firsts and i + 1 < count and tokens[i + 1][0]:
                    for _p2, rest2 in tokens[i + 1][3]:
                        found = pair.get((rest, rest2))
                        if found:
                            entries += found
                if wild:
                    for k in lengths:
                        found = wild.get(rest[:k])
                        if found:
                            entries += found
            if not entries:
                continue
            seen: set[tuple[str, int]] = set()
            for label, n, term, words in entries:
                if (wanted is not None and label not in wanted) or (label, n) in seen:
                    continue
                seen.add((label, n))
                if not _word_matches(words[0], splits):
                    continue
                last = i + len(words) - 1
                if last >= count:
                    continue
                if all(tokens[i + j][0] and _word_matches(words[j], tokens[i + j][3])
                       for j in range(1, len(words))):
                    yield i, last, n, label, term


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
    data = yamlfile.read(path, where)
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
