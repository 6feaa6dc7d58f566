"""Language identification that treats Moroccan Darija as a language of its own.

Off-the-shelf detectors call Arabizi Somali or Indonesian and cannot tell Darija from Modern
Standard Arabic. This detector is rule based and deterministic:

* it strips links, @mentions, hashtag signs (keeping the words), emojis and numbers, and answers
  ``und`` when too little text is left;
* the script is the one most letters are written in;
* in Arabic script, Darija markers (``data/darija_markers.yaml``) are weighed against MSA
  function words → ``ary`` or ``ar``;
* in Latin script, Arabizi evidence (markers, digits used as letters inside words, the كـ verb
  prefix, word shapes French cannot have) is weighed word by word against frequent French,
  English and Spanish words, so a mixed post takes the language of most of its words;
  langdetect, seeded, only breaks ties or answers when no frequent word is present, and its
  answers outside fr/en/es never leak out.

The marker lexicon is a data file the campaign team edits; it is validated on load and a
mistake raises :class:`MarkersFileError` naming the file and the field.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from enrichers.base import Enricher, Labels
from sada import yamlfile
from sada.errors import DataFileError
from sada.model import Mention

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MARKERS_FILE = REPO_ROOT / "data" / "darija_markers.yaml"

LANGS = frozenset({"fr", "ar", "ary", "en", "es", "und"})
SCRIPTS = frozenset({"arab", "latn", "und"})
_LATIN_LANGS = ("fr", "en", "es")  # also the tie-break order: French is the most frequent here
_PREFIX_ID = "(verb prefix)"  # marker id of a كنـ/كيـ/كتـ or kan-/kay-/kat- verb
_STRENGTHS = ("strong", "medium", "weak")


class MarkersFileError(DataFileError, ValueError):
    """The markers file is malformed; the message names the file and the offending field."""

    code = "SADA102"


@dataclass(frozen=True)
class LanguageResult:
    """What :meth:`LanguageDetector.detect` decided.

    ``scores`` holds the evidence behind the answer, per language id (weighted Darija and MSA
    marker scores, counts of frequent French/English/Spanish words, or langdetect
    probabilities when it was consulted).
    """

    lang: str
    script: str
    confidence: float
    scores: dict[str, float]


# --------------------------------------------------------------------------------------------
# Normalisation helpers (reused by other enrichers)
# --------------------------------------------------------------------------------------------

_ARABIC_MARKS = (
    [chr(c) for c in range(0x064B, 0x0660)]  # harakat, shadda, sukun, maddah/hamza marks
    + ["\u0670"]  # superscript alef
    + [chr(c) for c in range(0x06D6, 0x06EE)]  # Quranic annotation marks
    + ["\u0640"]  # tatweel
)
_ARABIC_TABLE = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", **{m: None for m in _ARABIC_MARKS}}
)


def normalize_arabic(text: str) -> str:
    """Normalise Arabic spelling variants the way the Elasticsearch analyzer does.

    Alef with hamza or madda and alef wasla → ا, alef maqsura ى → ي, teh marbuta ة → ه;
    harakat, Quranic marks and tatweel are removed. Other characters are left as they are.

    >>> normalize_arabic("إفلاتٌ مقنّعـــة على")
    'افلات مقنعه علي'
    """
    return text.translate(_ARABIC_TABLE)


_FOLD_TABLE = str.maketrans({"o": "u", "y": "i", "q": "9"})
_FOLD_DIGRAPHS = re.compile(r"sh|kh")
_RUNS = re.compile(r"(.)\1+")
_LONG_RUNS = re.compile(r"(.)\1\1+")  # elongation: بزااااف, ghadiii


@lru_cache(maxsize=65536)
def arabizi_fold(token: str) -> str:
    """Fold an Arabizi word to a spelling-insensitive key.

    Lower case, accents dropped, ``sh`` → ``ch``, ``kh`` → ``x``, ``o``/``ou`` → ``u``,
    ``y`` → ``i``, ``q`` → ``9``, and any doubled letter single, so the many spellings of one
    word meet: ``bezzaf``/``BEZAF``/``bzzaaaf``, ``chkoun``/``chkon``, ``dyal``/``dial``.

    >>> arabizi_fold("Wakhkha"), arabizi_fold("chkoun"), arabizi_fold("l9anoun")
    ('waxa', 'chkun', 'l9anun')
    """
    low = token.lower()
    if not low.isascii():
        low = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    low = _FOLD_DIGRAPHS.sub(lambda m: "ch" if m.group() == "sh" else "x", low)
    return _RUNS.sub(r"\1", low.translate(_FOLD_TABLE))


# --------------------------------------------------------------------------------------------
# Text cleaning and tokenisation
# --------------------------------------------------------------------------------------------

_URL = re.compile(
    r"(?i:https?://|www\.)\S+"
    # bare domains, lower case only so that "prison.Es" (a missing space) stays text
    r"|\b[\w.-]+\.(?:com|ma|org|net|fr|info|io|ly|be|co|me|tv|news|press|gov|es|uk)\b(?:/\S*)?"
)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])")
_REPEATED_UNIT = re.compile(r"^(.{1,2})\1{2,}.?$")
_ARABIC_WORD = re.compile(r"[\u0621-\u063a\u0641-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff]+")


def _is_arabic_char(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF


def _is_latin_char(ch: str) -> bool:
    o = ord(ch)
    return o < 0x0250 or 0x1E00 <= o <= 0x1EFF


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # as written (NFKC), Arabic already normalised
    low: str
    from_hashtag: bool
    letters: int
    script: str  # "arab", "latn" or "other"


# --------------------------------------------------------------------------------------------
# Markers file: loading and validation
# --------------------------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


class _Reader:
    """Typed accessors over the parsed YAML that raise MarkersFileError naming file and field."""

    def __init__(self, path: Path) -> None:
        self.name = _display(path)

    def fail(self, where: str, problem: str) -> MarkersFileError:
        return MarkersFileError(self.name, where, problem)

    def mapping(self, value: Any, where: str, keys: Iterable[str], optional: Iterable[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping")
        required, allowed = set(keys), set(keys) | set(optional)
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(where, f"unknown field(s) {unknown}; expected: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(where, f"missing field(s) {missing}")
        return value

    def strings(self, value: Any, where: str, *, allow_empty: bool = True) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(where, "expected a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                hint = " (quote it in the file, e.g. 'no')" if isinstance(item, bool | int | float) else ""
                raise self.fail(f"{where}[{i}]", f"expected a non-empty string, got {item!r}{hint}")
            if any(c.isspace() for c in item.strip()):
                raise self.fail(f"{where}[{i}]", f"expected a single word, got {item!r}")
        if not value and not allow_empty:
            raise self.fail(where, "expected a non-empty list of strings")
        return [item.strip() for item in value]

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"expected a non-empty string, got {value!r}")
        return value

    def number(self, value: Any, where: str, *, low: float = 0.0, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"expected a number, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise self.fail(where, f"expected a number {bound}, got {value!r}")
        return float(value)

    def integer(self, value: Any, where: str, *, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(where, f"expected an integer >= {low}, got {value!r}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {value!r}")
        return value


@dataclass(frozen=True)
class _PrefixRule:
    prefixes: tuple[str, ...]  # longest first
    proclitics: tuple[str, ...]  # longest first
    min_stem: int
    exclude_exact: frozenset[str]
    exclude_prefixes: tuple[str, ...]

    def matches(self, token: str) -> bool:
        candidates = [token]
        for p in self.proclitics:
            if token.startswith(p) and len(token) > len(p) + 2:
                candidates.append(token[len(p):])
        for cand in candidates:
            if cand in self.exclude_exact or cand.startswith(self.exclude_prefixes):
                continue
            for prefix in self.prefixes:
                if cand.startswith(prefix) and len(cand) - len(prefix) >= self.min_stem:
                    return True
        return False


@dataclass(frozen=True)
class _Negation:
    starts: str
    ends: tuple[str, ...]
    min_letters: int
    exclude: frozenset[str]

    def matches(self, token: str) -> bool:
        return (
            len(token) >= self.min_letters
            and token.startswith(self.starts)
            and token.endswith(self.ends)
            and token not in self.exclude
        )

    def matches_split(self, previous: str, token: str) -> bool:
        """The negation written as two words: ما ضاعش, ma fhamtch."""
        return previous == self.starts and len(token) >= self.min_letters - len(self.starts) and token.endswith(
            self.ends) and token not in self.exclude


@dataclass(frozen=True)
class _Config:
    weights: Mapping[str, float]
    strong_hits_for_darija: int
    max_prefix_hits: int
    soft_min_score: float
    weak_only_min_score: float
    msa_overrides_rule_ratio: float
    min_word_tokens: int
    min_letters: int
    hashtag_only_is_und: bool
    langdetect_enabled: bool
    langdetect_min_prob: float
    langdetect_profiles: tuple[str, ...]
    arabic_markers: Mapping[str, tuple[str, str]]  # normalised form -> (strength, id)
    latin_markers: Mapping[str, tuple[str, str]]  # folded form -> (strength, id)
    negation_class: str
    arabic_negation: _Negation
    latin_negation: _Negation
    arabic_prefix: _PrefixRule
    latin_prefix: _PrefixRule
    arabizi_digit: re.Pattern[str]
    number_with_unit: re.Pattern[str]
    arabizi_exclude: frozenset[str]
    legal_onsets: frozenset[str]
    moroccan_letters: frozenset[str]
    msa_strong: frozenset[str]
    msa_weak: frozenset[str]
    msa_future: _PrefixRule
    latin_words: Mapping[str, frozenset[str]]
    noise: frozenset[str]


_TOP_KEYS = (
    "version", "weights", "rule", "thresholds", "langdetect", "strong", "medium", "weak", "negation",
    "verb_prefix", "arabizi", "moroccan_letters", "msa", "latin_words", "noise_tokens",
)
_WEIGHT_KEYS = (
    "strong", "medium", "weak", "verb_prefix", "arabizi_digit", "darija_shape", "moroccan_letter",
    "msa_strong", "msa_weak",
)
_LATIN_FORM = re.compile(r"^[a-z0-9\u00c0-\u024f']+$")


def _has_arabic_letter(s: str) -> bool:
    return any(_is_arabic_char(c) and c.isalpha() for c in s)


def _load_config(path: Path) -> _Config:
    r = _Reader(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise r.fail("(file)", f"cannot be read: {exc.strerror or exc}") from exc
    try:
        data = yamlfile.load(raw_text)
    except yaml.YAMLError as exc:
        raise r.fail("(file)", f"not valid YAML: {exc}") from exc
    data = r.mapping(data, "(top level)", _TOP_KEYS)
    if data["version"] != 1:
        raise r.fail("version", f"expected 1, got {data['version']!r}")

    w = r.mapping(data["weights"], "weights", _WEIGHT_KEYS)
    weights = {k: r.number(w[k], f"weights.{k}") for k in _WEIGHT_KEYS}

    rule = r.mapping(
        data["rule"], "rule",
        ("strong_hits_for_darija", "max_prefix_hits", "soft_min_score", "weak_only_min_score",
         "msa_overrides_rule_ratio"),
    )
    th = r.mapping(data["thresholds"], "thresholds", ("min_word_tokens", "min_letters", "hashtag_only_is_und"))
    ld = r.mapping(data["langdetect"], "langdetect", ("enabled", "min_prob", "profiles"))
    profiles = r.strings(ld["profiles"], "langdetect.profiles", allow_empty=False)
    missing = [lang for lang in _LATIN_LANGS if lang not in profiles]
    if missing:
        raise r.fail("langdetect.profiles", f"must include {missing}")
    known = _langdetect_profile_names()
    for i, lang in enumerate(profiles):
        if known and lang not in known:
            raise r.fail(f"langdetect.profiles[{i}]", f"langdetect has no profile {lang!r}")

    arabic_markers: dict[str, tuple[str, str]] = {}
    latin_markers: dict[str, tuple[str, str]] = {}
    where_of: dict[tuple[str, str], str] = {}
    ids: dict[str, str] = {}
    for strength in _STRENGTHS:
        entries = data[strength]
        if not isinstance(entries, list):
            raise r.fail(strength, "expected a list of markers (id, arabic, latin, note)")
        for i, entry in enumerate(entries):
            here = f"{strength}[{i}]"
            e = r.mapping(entry, here, ("id",), ("arabic", "latin", "note"))
            mid = r.string(e["id"], f"{here}.id")
            if mid in ids:
                raise r.fail(f"{here}.id", f"duplicate id {mid!r} (also {ids[mid]})")
            ids[mid] = here
            arabic = r.strings(e.get("arabic", []), f"{here}.arabic")
            latin = r.strings(e.get("latin", []), f"{here}.latin")
            if not arabic and not latin:
                raise r.fail(here, "a marker needs at least one Arabic or Latin form")
            if "note" in e and not isinstance(e["note"], str):
                raise r.fail(f"{here}.note", "expected a string")
            for j, form in enumerate(arabic):
                if not _has_arabic_letter(form) or any(c.isascii() and c.isalpha() for c in form):
                    raise r.fail(f"{here}.arabic[{j}]", f"expected a word in Arabic script, got {form!r}")
                key = normalize_arabic(form)
                _add_form(r, arabic_markers, where_of, ("arab", key), (strength, mid), f"{here}.arabic[{j}]")
            for j, form in enumerate(latin):
                if not _LATIN_FORM.match(form.lower()) or not any(c.isalpha() for c in form):
                    raise r.fail(f"{here}.latin[{j}]", f"expected a word in Latin letters and digits, got {form!r}")
                key = arabizi_fold(form)
                _add_form(r, latin_markers, where_of, ("latn", key), (strength, mid), f"{here}.latin[{j}]")

    neg = r.mapping(data["negation"], "negation", ("weight_class", "arabic", "latin"))
    neg_class = neg["weight_class"]
    if neg_class not in _STRENGTHS:
        raise r.fail("negation.weight_class", f"expected one of {list(_STRENGTHS)}, got {neg_class!r}")
    neg_keys = ("starts_with", "ends_with", "min_letters", "exclude")
    na = r.mapping(neg["arabic"], "negation.arabic", neg_keys)
    nl = r.mapping(neg["latin"], "negation.latin", neg_keys)
    arabic_negation = _Negation(
        starts=normalize_arabic(r.string(na["starts_with"], "negation.arabic.starts_with")),
        ends=(normalize_arabic(r.string(na["ends_with"], "negation.arabic.ends_with")),),
        min_letters=r.integer(na["min_letters"], "negation.arabic.min_letters", low=3),
        exclude=frozenset(normalize_arabic(x) for x in r.strings(na["exclude"], "negation.arabic.exclude")),
    )
    latin_negation = _Negation(
        starts=r.string(nl["starts_with"], "negation.latin.starts_with").lower(),
        ends=tuple(x.lower() for x in r.strings(nl["ends_with"], "negation.latin.ends_with", allow_empty=False)),
        min_letters=r.integer(nl["min_letters"], "negation.latin.min_letters", low=3),
        exclude=frozenset(x.lower() for x in r.strings(nl["exclude"], "negation.latin.exclude")),
    )

    vp = r.mapping(data["verb_prefix"], "verb_prefix", ("arabic", "latin"))
    arabic_prefix = _prefix_rule(r, vp["arabic"], "verb_prefix.arabic", normalize_arabic)
    latin_prefix = _prefix_rule(r, vp["latin"], "verb_prefix.latin", str.lower)

    az = r.mapping(data["arabizi"], "arabizi", ("digits", "unit_suffixes", "exclude_tokens", "legal_onsets"))
    digits = r.string(az["digits"], "arabizi.digits")
    if not digits.isascii() or not digits.isdigit():
        raise r.fail("arabizi.digits", f"expected a string of digits such as '2379', got {digits!r}")
    d = re.escape(digits)
    units = sorted((u.lower() for u in r.strings(az["unit_suffixes"], "arabizi.unit_suffixes")), key=len, reverse=True)
    onsets = r.strings(az["legal_onsets"], "arabizi.legal_onsets")
    for i, onset in enumerate(onsets):
        if not onset.isascii() or not onset.isalpha() or len(onset) < 2:
            raise r.fail(f"arabizi.legal_onsets[{i}]", f"expected two or more Latin letters, got {onset!r}")

    mor = data["moroccan_letters"]
    if not isinstance(mor, str) or not all(_is_arabic_char(c) for c in mor):
        raise r.fail("moroccan_letters", "expected a string of Arabic letters such as 'ڭ'")

    msa = r.mapping(data["msa"], "msa", ("strong", "weak", "future_prefix"))
    fp = r.mapping(msa["future_prefix"], "msa.future_prefix", ("prefixes", "min_letters", "exclude_prefixes"))
    msa_future = _PrefixRule(
        prefixes=_longest_first(normalize_arabic(x) for x in r.strings(fp["prefixes"], "msa.future_prefix.prefixes")),
        proclitics=(),
        min_stem=max(0, r.integer(fp["min_letters"], "msa.future_prefix.min_letters", low=3) - 2),
        exclude_exact=frozenset(),
        exclude_prefixes=tuple(
            normalize_arabic(x) for x in r.strings(fp["exclude_prefixes"], "msa.future_prefix.exclude_prefixes")
        ),
    )

    lw = r.mapping(data["latin_words"], "latin_words", _LATIN_LANGS)
    latin_words = {
        lang: frozenset(x.lower() for x in r.strings(lw[lang], f"latin_words.{lang}", allow_empty=False))
        for lang in _LATIN_LANGS
    }

    noise = r.strings(data["noise_tokens"], "noise_tokens")

    return _Config(
        weights=weights,
        strong_hits_for_darija=r.integer(rule["strong_hits_for_darija"], "rule.strong_hits_for_darija", low=1),
        max_prefix_hits=r.integer(rule["max_prefix_hits"], "rule.max_prefix_hits"),
        soft_min_score=r.number(rule["soft_min_score"], "rule.soft_min_score"),
        weak_only_min_score=r.number(rule["weak_only_min_score"], "rule.weak_only_min_score"),
        msa_overrides_rule_ratio=r.number(rule["msa_overrides_rule_ratio"], "rule.msa_overrides_rule_ratio"),
        min_word_tokens=r.integer(th["min_word_tokens"], "thresholds.min_word_tokens"),
        min_letters=r.integer(th["min_letters"], "thresholds.min_letters"),
        hashtag_only_is_und=r.boolean(th["hashtag_only_is_und"], "thresholds.hashtag_only_is_und"),
        langdetect_enabled=r.boolean(ld["enabled"], "langdetect.enabled"),
        langdetect_min_prob=r.number(ld["min_prob"], "langdetect.min_prob", high=1.0),
        langdetect_profiles=tuple(profiles),
        arabic_markers=arabic_markers,
        latin_markers=latin_markers,
        negation_class=neg_class,
        arabic_negation=arabic_negation,
        latin_negation=latin_negation,
        arabic_prefix=arabic_prefix,
        latin_prefix=latin_prefix,
        arabizi_digit=re.compile(rf"[a-z][{d}]|[{d}][a-z]"),
        number_with_unit=re.compile(rf"^\d+(?:{'|'.join(map(re.escape, units))})?\d*$") if units
        else re.compile(r"^\d+$"),
        arabizi_exclude=frozenset(x.lower() for x in r.strings(az["exclude_tokens"], "arabizi.exclude_tokens")),
        legal_onsets=frozenset(o.lower()[:2] for o in onsets),
        moroccan_letters=frozenset(mor),
        msa_strong=frozenset(normalize_arabic(x) for x in r.strings(msa["strong"], "msa.strong")),
        msa_weak=frozenset(normalize_arabic(x) for x in r.strings(msa["weak"], "msa.weak")),
        msa_future=msa_future,
        latin_words=latin_words,
        noise=frozenset(_RUNS.sub(r"\1", normalize_arabic(x.lower())) for x in noise),
    )


def _add_form(
    r: _Reader,
    table: dict[str, tuple[str, str]],
    where_of: dict[tuple[str, str], str],
    key: tuple[str, str],
    value: tuple[str, str],
    where: str,
) -> None:
    previous = table.get(key[1])
    if previous is not None and previous[1] != value[1]:
        raise r.fail(where, f"{key[1]!r} is already listed as marker {previous[1]!r} at {where_of[key]}; "
                            "keep each spelling in one marker")
    if previous is None:
        table[key[1]] = value
        where_of[key] = where


def _longest_first(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(items), key=len, reverse=True))


def _prefix_rule(r: _Reader, raw: Any, where: str, norm: Callable[[str], str]) -> _PrefixRule:
    m = r.mapping(raw, where, ("prefixes", "proclitics", "min_stem_letters", "exclude_exact", "exclude_prefixes"))
    return _PrefixRule(
        prefixes=_longest_first(norm(x) for x in r.strings(m["prefixes"], f"{where}.prefixes", allow_empty=False)),
        proclitics=_longest_first(norm(x) for x in r.strings(m["proclitics"], f"{where}.proclitics")),
        min_stem=r.integer(m["min_stem_letters"], f"{where}.min_stem_letters", low=1),
        exclude_exact=frozenset(norm(x) for x in r.strings(m["exclude_exact"], f"{where}.exclude_exact")),
        exclude_prefixes=tuple(norm(x) for x in r.strings(m["exclude_prefixes"], f"{where}.exclude_prefixes")),
    )


@lru_cache(maxsize=1)
def _langdetect_profile_names() -> frozenset[str]:
    try:
        from langdetect.detector_factory import PROFILES_DIRECTORY
    except ImportError:  # validated again, and reported, when langdetect is first needed
        return frozenset()
    return frozenset(p.name for p in Path(PROFILES_DIRECTORY).iterdir() if not p.name.startswith("."))


# --------------------------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------------------------


@dataclass
class _Group:
    """Evidence gathered over the words of one script."""

    lang: str = "und"
    confidence: float = 0.0
    darija: float = 0.0
    other: dict[str, float] | None = None
    words: int = 0


def _margin(win: float, lose: float, k: float = 1.0) -> float:
    """0.5 for a tie, towards 1.0 as the winner's evidence dominates."""
    return 0.5 + 0.5 * (win - lose) / (win + lose + k)


def _clamp(x: float, low: float = 0.05, high: float = 0.99) -> float:
    return round(min(high, max(low, x)), 3)


class LanguageDetector:
    """Deterministic fr / ar / ary / en / es / und identifier for short social-media posts.

    Build one per process and share it: it is read-only after construction apart from its
    caches, so it is safe to call from several threads.
    """

    def __init__(self, markers_path: str | Path | None = None) -> None:
        self.markers_path = Path(markers_path) if markers_path is not None else DEFAULT_MARKERS_FILE
        self._cfg = _load_config(self.markers_path)
        self._factory: Any = None
        self._factory_lock = threading.Lock()
        self._langdetect_cached = lru_cache(maxsize=8192)(self._langdetect_uncached)
        # Word-level analyses depend only on the word and the (immutable) config: cache them.
        self._noise_word = lru_cache(maxsize=65536)(self._noise_word_uncached)
        self._arabic_word = lru_cache(maxsize=65536)(self._arabic_word_uncached)
        self._latin_word = lru_cache(maxsize=65536)(self._latin_word_uncached)

    # -- public API ---------------------------------------------------------------------------

    def detect(self, text: str) -> LanguageResult:
        """Identify the language and script of ``text`` (never raises on odd input)."""
        cfg = self._cfg
        tokens = self._tokens(text if isinstance(text, str) else "")
        words = [t for t in tokens if not self._is_noise(t)]
        letters = sum(t.letters for t in words)
        if (
            len(words) < cfg.min_word_tokens
            or letters < cfg.min_letters
            or (cfg.hashtag_only_is_und and all(t.from_hashtag for t in words))
        ):
            return LanguageResult("und", "und", 1.0 if not words else 0.6, {})

        arab = [t for t in words if t.script == "arab"]
        latn = [t for t in words if t.script == "latn"]
        arab_letters = sum(t.letters for t in arab)
        latn_letters = sum(t.letters for t in latn)
        other_letters = letters - arab_letters - latn_letters
        if other_letters > max(arab_letters, latn_letters):
            return LanguageResult("und", "und", 0.6, {})
        script = "arab" if arab_letters >= latn_letters else "latn"

        ga = self._arabic(arab) if arab else None
        gl = self._latin(latn) if latn else None
        chosen = self._combine(ga, gl, script)
        scores: dict[str, float] = {}
        for g in (ga, gl):
            if g is None:
                continue
            scores["ary"] = round(scores.get("ary", 0.0) + g.darija, 3)
            for k, v in (g.other or {}).items():
                scores[k] = round(scores.get(k, 0.0) + v, 3)
        if chosen.lang == "und":
            return LanguageResult("und", "und", _clamp(chosen.confidence), scores)
        return LanguageResult(chosen.lang, script, _clamp(chosen.confidence), scores)

    # -- tokenisation -------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[_Token]:
        text = unicodedata.normalize("NFKC", text)
        text = _URL.sub(" ", text)
        text = _EMAIL.sub(" ", text)
        text = _MENTION.sub(" ", text)
        out: list[_Token] = []
        pos = 0
        for m in _HASHTAG.finditer(text):  # keep the words of a hashtag, in place: #peines_alternatives
            out.extend(self._words(text[pos:m.start()], False))
            out.extend(self._words(_CAMEL.sub(" ", m.group(1).replace("_", " ")), True))
            pos = m.end()
        out.extend(self._words(text[pos:], False))
        return out

    def _words(self, text: str, from_hashtag: bool) -> list[_Token]:
        out: list[_Token] = []
        unit = self._cfg.number_with_unit
        for m in _WORD.finditer(normalize_arabic(text)):
            w = m.group()
            if w.isdigit():
                continue
            low = w.lower()
            if low[0].isdigit() and unit.match(low):
                continue  # 300dh, 7h30, 2e: quantities, not words
            if w.isascii():  # fast paths for the usual words
                n = len(w) if w.isalpha() else sum(c.isalpha() for c in w)
                script = "latn"
            elif _ARABIC_WORD.fullmatch(w):
                n, script = len(w), "arab"
            else:
                arab = latn = other = 0
                for c in w:
                    if not c.isalpha():
                        continue
                    if _is_arabic_char(c):
                        arab += 1
                    elif _is_latin_char(c):
                        latn += 1
                    else:
                        other += 1
                n = arab + latn + other
                script = "arab" if arab >= max(latn, other) else "latn" if latn >= other else "other"
            if n == 0:
                continue
            if script == "arab":
                w = low = _LONG_RUNS.sub(r"\1", w)
            out.append(_Token(w, low, from_hashtag, n, script))
        return out

    def _is_noise(self, t: _Token) -> bool:
        return self._noise_word(t.low)

    def _noise_word_uncached(self, low: str) -> bool:
        """Laughter and interjections: hhhh, mdrrr, ههههه, hahaha."""
        if low in self._cfg.noise or _RUNS.sub(r"\1", low) in self._cfg.noise:
            return True
        return len(low) >= 3 and bool(_REPEATED_UNIT.match(low))

    # -- Arabic script ------------------------------------------------------------------------

    def _arabic(self, tokens: list[_Token]) -> _Group:
        cfg, w = self._cfg, self._cfg.weights
        darija = msa = 0.0
        strong_ids: set[str] = set()
        prefix_hits = 0
        nonweak = False
        neg = cfg.arabic_negation
        prev = ""
        for t in tokens:
            tok, prev_tok, prev = t.text, prev, t.text
            score, strength, mid, msa_score = self._arabic_word(tok)
            if score == 0.0 and neg.matches_split(prev_tok, tok):
                score, strength, msa_score = w[cfg.negation_class], cfg.negation_class, 0.0
            darija += score
            msa += msa_score
            if strength == "strong":
                if mid == _PREFIX_ID:
                    prefix_hits += 1
                else:
                    strong_ids.add(mid)
            if strength in ("strong", "medium"):
                nonweak = True

        hits = len(strong_ids) + min(prefix_hits, cfg.max_prefix_hits)
        rule = hits >= cfg.strong_hits_for_darija
        g = _Group(darija=darija, other={"ar": msa}, words=len(tokens))
        if rule and msa <= cfg.msa_overrides_rule_ratio * darija:
            g.lang, g.confidence = "ary", max(0.8, 0.6 + 0.4 * (darija - msa) / (darija + msa + 3))
        elif darija >= cfg.soft_min_score and darija > msa and (
            nonweak or (darija >= cfg.weak_only_min_score and msa == 0)
        ):
            g.lang, g.confidence = "ary", 0.55 + 0.4 * (darija - msa) / (darija + msa + 3)
        else:
            g.lang, g.confidence = "ar", 0.7 + 0.3 * (msa - darija) / (msa + darija + 3)
        return g

    def _arabic_word_uncached(self, tok: str) -> tuple[float, str, str, float]:
        """Evidence carried by one Arabic-script word: (Darija weight, strength, marker id, MSA weight)."""
        cfg, w = self._cfg, self._cfg.weights
        cands = _arabic_candidates(tok)
        score, strength, mid = 0.0, "", ""
        hit = next((cfg.arabic_markers[c] for c in cands if c in cfg.arabic_markers), None)
        if hit is not None:
            strength, mid = hit
            score = w[strength]
        else:
            if cfg.arabic_prefix.matches(tok):
                score, strength, mid = w["verb_prefix"], "strong", _PREFIX_ID
            if cfg.arabic_negation.matches(tok) and w[cfg.negation_class] > score:
                score, strength, mid = w[cfg.negation_class], cfg.negation_class, ""
        if cfg.moroccan_letters.intersection(tok) and w["moroccan_letter"] > score:
            score, strength, mid = w["moroccan_letter"], "medium", ""
        if score > 0.0:
            return score, strength, mid, 0.0
        if any(c in cfg.msa_strong for c in cands):
            return 0.0, "", "", w["msa_strong"]
        if any(c in cfg.msa_weak for c in cands) or cfg.msa_future.matches(tok):
            return 0.0, "", "", w["msa_weak"]
        return 0.0, "", "", 0.0

    # -- Latin script -------------------------------------------------------------------------

    def _latin(self, tokens: list[_Token]) -> _Group:
        cfg = self._cfg
        darija = 0.0
        ary_votes = eu_any = 0
        votes = dict.fromkeys(_LATIN_LANGS, 0.0)
        strong_ids: set[str] = set()
        prefix_hits = 0
        nonweak = False
        for i, t in enumerate(tokens):
            low = t.low
            langs = [lang for lang in _LATIN_LANGS if low in cfg.latin_words[lang]]
            score, strength, mid = self._latin_word(low, t.text == low or i == 0, bool(langs))
            if score == 0.0 and not langs and i and cfg.latin_negation.matches_split(tokens[i - 1].low, low):
                score, strength = cfg.weights[cfg.negation_class], cfg.negation_class
            if score > 0 and (not langs or strength == "strong"):
                ary_votes += 1
                darija += score
                if strength == "strong":
                    if mid == _PREFIX_ID:
                        prefix_hits += 1
                    else:
                        strong_ids.add(mid)
                if strength != "weak":
                    nonweak = True
            elif langs:
                eu_any += 1
                for lang in langs:
                    votes[lang] += 1.0
            elif not low.isascii():
                accent = _accent_vote(low)
                if accent:
                    eu_any += 1
                    votes[accent] += 1.0

        hits = len(strong_ids) + min(prefix_hits, cfg.max_prefix_hits)
        rule = hits >= cfg.strong_hits_for_darija
        gate = rule or (darija >= cfg.soft_min_score and (nonweak or darija >= cfg.weak_only_min_score))
        g = _Group(darija=darija, other=dict(votes), words=len(tokens))
        if gate and (ary_votes > eu_any or (ary_votes == eu_any and rule)):
            g.lang = "ary"
            g.confidence = _margin(ary_votes, eu_any) + (0.1 if rule else 0.0)
            return g
        if eu_any > 0:
            g.lang, g.confidence = self._best_european(tokens, votes, ary_votes)
            return g
        # Not one frequent French, English or Spanish word: Darija evidence, even weak, is the
        # better bet (langdetect calls Arabizi English or Swahili); otherwise ask langdetect, and
        # never let its other languages (Somali, Indonesian...) out.
        if darija >= cfg.soft_min_score:
            g.lang, g.confidence = "ary", 0.55 + min(0.3, darija / 20)
            return g
        probs = self._langdetect(" ".join(t.text for t in tokens))
        g.other = {**votes, **{k: round(v, 3) for k, v in probs.items() if k in _LATIN_LANGS}}
        top = max(probs, key=probs.get) if probs else None
        if top in _LATIN_LANGS and probs[top] >= cfg.langdetect_min_prob:
            g.lang, g.confidence = top, 0.8 * probs[top]
        elif darija > 0:
            g.lang, g.confidence = "ary", 0.5
        else:
            g.lang, g.confidence = "und", 0.5
        return g

    def _latin_word_uncached(self, low: str, shape_ok: bool, european: bool) -> tuple[float, str, str]:
        """Darija evidence carried by one Latin word: (weight, strength, marker id).

        ``shape_ok``: the word is written in lower case (or starts the post), so a Darija-looking
        beginning is not a name or an acronym; ``european``: it is a frequent fr/en/es word.
        """
        cfg, w = self._cfg, self._cfg.weights
        digit = (
            low not in cfg.arabizi_exclude
            and cfg.arabizi_digit.search(low) is not None
            and sum(c.isalpha() for c in low) >= 2
        )
        folded = arabizi_fold(low)
        hit = cfg.latin_markers.get(folded)
        if hit is None and len(folded) > 3 and folded[0] in "lw":
            hit = cfg.latin_markers.get(folded[1:])  # article or "and" glued on: lbrasli, wdaba
        if hit is not None:
            if digit and w["arabizi_digit"] > w[hit[0]]:
                return w["arabizi_digit"], "medium", hit[1]  # 3la: weak word, but written with a digit
            return w[hit[0]], hit[0], hit[1]
        if european:
            return 0.0, "", ""
        if cfg.latin_prefix.matches(low):
            return w["verb_prefix"], "strong", _PREFIX_ID
        if digit:
            return w["arabizi_digit"], "medium", ""
        if cfg.latin_negation.matches(low):
            return w[cfg.negation_class], cfg.negation_class, ""
        if shape_ok and self._darija_shape(low):
            return w["darija_shape"], "weak", ""
        return 0.0, "", ""

    def _darija_shape(self, low: str) -> bool:
        if len(low) < 3 or not low.isascii() or not low.isalnum():
            return False
        if not any(c in "aeiou" for c in low):
            return False  # chat abbreviations: mdr, bcp, stp
        c0, c1 = low[0], low[1]
        if c0 in "aeiou" or c1 in "aeiou":
            return False
        if c0 == "y":
            return True  # y + consonant: Darija third person (ychri, ylbes)
        return c1 != "y" and low[:2] not in self._cfg.legal_onsets

    def _best_european(self, tokens: list[_Token], votes: dict[str, float], ary_votes: int) -> tuple[str, float]:
        ranked = sorted(_LATIN_LANGS, key=lambda lang: -votes[lang])
        top = votes[ranked[0]]
        tied = [lang for lang in ranked if votes[lang] == top]
        second = votes[ranked[1]]
        if len(tied) > 1:
            probs = self._langdetect(" ".join(t.text for t in tokens))
            best = max(tied, key=lambda lang: (probs.get(lang, 0.0), -_LATIN_LANGS.index(lang)))
            conf = 0.5 + 0.3 * probs.get(best, 0.0)
            return best, conf
        return ranked[0], _margin(top, max(second, ary_votes))

    # -- combining the scripts ----------------------------------------------------------------

    @staticmethod
    def _combine(ga: _Group | None, gl: _Group | None, script: str) -> _Group:
        """Mixed scripts: the language of most words; a tie goes to the script of most letters."""
        if gl is None or (ga is not None and gl.lang == "und"):
            return ga  # type: ignore[return-value]
        if ga is None:
            return gl
        if ga.lang != gl.lang and ga.words != gl.words:
            return ga if ga.words > gl.words else gl
        return ga if script == "arab" else gl

    # -- langdetect ---------------------------------------------------------------------------

    def _langdetect(self, text: str) -> dict[str, float]:
        if not self._cfg.langdetect_enabled or not text.strip():
            return {}
        return self._langdetect_cached(text)

    def _langdetect_uncached(self, text: str) -> dict[str, float]:
        from langdetect.lang_detect_exception import LangDetectException

        factory = self._get_factory()
        if factory is None:
            return {}
        try:
            detector = factory.create()
            detector.append(text)
            return {p.lang: float(p.prob) for p in detector.get_probabilities()}
        except LangDetectException:
            return {}

    def _get_factory(self) -> Any:
        if self._factory is None:
            with self._factory_lock:
                if self._factory is None:
                    self._factory = _load_factory(self._cfg.langdetect_profiles) or False
        return self._factory or None


def _load_factory(profiles: tuple[str, ...]) -> Any:
    """A private langdetect factory restricted to ``profiles`` and seeded, so answers repeat.

    A private instance (rather than langdetect's module-level one) keeps the seed and the
    profile set from leaking into other users of langdetect in the same process.
    """
    try:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    except ImportError:
        return None
    jsons = []
    for lang in profiles:
        jsons.append((Path(PROFILES_DIRECTORY) / lang).read_text(encoding="utf-8"))
    factory = DetectorFactory()
    factory.load_json_profile(jsons)
    factory.set_seed(0)
    return factory


def _arabic_candidates(tok: str) -> tuple[str, ...]:
    """The word, and the word without a leading و/ف, article ال, or بال/كال/لل."""
    cands = [tok]
    if len(tok) > 3 and tok[0] in "وف":
        cands.append(tok[1:])
    for c in list(cands):
        if len(c) > 4 and c.startswith(("بال", "كال")):
            cands.append(c[3:])
        elif len(c) > 3 and c.startswith("لل"):
            cands.append(c[2:])
        elif len(c) > 3 and c.startswith("ال"):
            cands.append(c[2:])
    return tuple(cands)


_FR_ACCENTS = frozenset("àâçèêëîïôûùüÿœæé")
_ES_ACCENTS = frozenset("áíóúñ¿¡")


def _accent_vote(low: str) -> str | None:
    if any(c in _ES_ACCENTS for c in low):
        return "es"
    if any(c in _FR_ACCENTS for c in low):
        return "fr"
    return None


# --------------------------------------------------------------------------------------------
# Pipeline component
# --------------------------------------------------------------------------------------------


class LanguageEnricher(Enricher):
    """Sets ``lang`` and ``script`` (TAXONOMY.md) from the mention's title and text."""

    name: ClassVar[str] = "language"
    version: ClassVar[str] = "1.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title"})
    sets: ClassVar[frozenset[str]] = frozenset({"lang", "script"})

    def __init__(self, detector: LanguageDetector | None = None) -> None:
        self.detector = detector or LanguageDetector()

    def label(self, mention: Mention) -> Labels:
        text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
        result = self.detector.detect(text)
        return Labels({"lang": result.lang, "script": result.script}, confidence=result.confidence,
                      extra={"language_scores": result.scores})
