"""Named entities: the reform's institutions with stable ids, people, places, organisations.

Two sources, merged per post:

* the gazetteer ``data/gazetteer.yaml`` (edited by the campaign team, validated on load): the
  institutions of TAXONOMY.md get their stable id (``dgapr``, ``law_43_22``...) whatever the
  language, script or spelling — French, MSA, Darija in Arabic script, Arabizi, English,
  abbreviations, the law's number written 43.22, ٤٣٫٢٢, 43-22 or #Loi4322 next to a law word;
  people (PER), Moroccan places (LOC) and other organisations (ORG) get ``id`` null;
* spaCy's French model (``fr_core_news_sm``, a pip package, loaded once and offline with only
  the components NER needs) on Latin-script posts in French, English or Spanish, batched with
  ``nlp.pipe``; its spans get ``id`` null and lose to any overlapping gazetteer span.

Matching works on the words of the normalised text (``enrichers.lexicon.normalize``), each
word remembering where it was in the original, so the ``text`` of an entity is the surface as
written in the post. Word lookups go through dictionaries, so the cost does not grow with the
size of the gazetteer. The same matcher (:class:`TermMatcher`) serves the rumor clusterer's
concept lexicon.

spaCy is by far the most expensive step, so it only runs where it can add something: on a
Latin-script French/English/Spanish post long enough to hold a name, with at least one
capitalised word that the gazetteer has not already explained.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from enrichers.base import Enricher, Labels
from enrichers.language import arabizi_fold
from enrichers.lexicon import file_digest, normalize
from sada import yamlfile
from sada.errors import DataFileError
from sada.model import ENTITY_IDS, ENTITY_LABELS, Entity, Mention
from sada.settings import REPO_ROOT

DEFAULT_GAZETTEER = REPO_ROOT / "data" / "gazetteer.yaml"

# --------------------------------------------------------------------------------------------
# The words of a text, normalised, aligned to the original
# --------------------------------------------------------------------------------------------

_RAW_TOKEN = re.compile(r"\S+")
# A written word as normalize() keeps it: letters and digits (with the Arabic marks and Latin
# combining accents normalize() drops), a decimal point between digits.
_MARKS = "\u0300-\u036f\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
_PIECE = re.compile(rf"(?:[^\W_]|[{_MARKS}])+(?:[.٫](?:[^\W_]|[{_MARKS}])+)*")
_EDGE_PUNCT = " \t\n.,;:!?()[]{}\"'«»“”‘’#@*-–—/\\|…،؛؟"


class Token(NamedTuple):
    """One normalised word, where it came from in the original text, and how it was written."""

    norm: str
    raw: str
    start: int
    end: int
    hashtag: bool


@lru_cache(maxsize=200_000)
def _chunk_words(chunk: str) -> tuple[tuple[str, str, int, int], ...]:
    """(normalised word, written piece, start, end in the chunk) for one whitespace-free chunk."""
    words = normalize(chunk).split()
    if not words:
        return ()
    pieces = list(_PIECE.finditer(chunk))
    if len(pieces) == len(words):
        return tuple((w, p.group(), p.start(), p.end()) for w, p in zip(words, pieces, strict=True))
    return tuple((w, chunk, 0, len(chunk)) for w in words)


def tokenize(text: str) -> list[Token]:
    """The normalised words of ``text`` with their character spans in ``text``.

    Each whitespace-separated chunk is normalised on its own (``normalize`` works chunk by
    chunk anyway); when the chunk splits into as many written pieces as normalised words
    (``l'amende`` → ``l`` ``amende``) every word gets its own span, otherwise every word gets
    the chunk's span.

    >>> [(t.norm, t.raw) for t in tokenize("L'ÉTAT (DGAPR) à ٤٣٫٢٢")]
    [('l', 'L'), ('etat', 'ÉTAT'), ('dgapr', 'DGAPR'), ('a', 'à'), ('43.22', '٤٣٫٢٢')]
    """
    out: list[Token] = []
    for m in _RAW_TOKEN.finditer(text):
        chunk = m.group()
        words = _chunk_words(chunk)
        if words:
            base, tag = m.start(), chunk[0] == "#"
            out.extend([Token(w, raw, base + s, base + e, tag) for w, raw, s, e in words])
    return out


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[Token, ...]:
    """Tokens of a text, shared by the enrichers that read the same post one after the other."""
    return tuple(tokenize(text))


# --------------------------------------------------------------------------------------------
# Spelling variants of one word, per comparison mode
# --------------------------------------------------------------------------------------------

_ARABIC = re.compile(r"[\u0621-\u064a]")
_AR_CONJ = ("و", "ف")
_AR_PROCLITICS = ("بال", "كال", "لل", "ال", "ب", "ك", "ل")
_LATIN_PROCLITICS = ("wal", "wl", "fl", "bl", "dl", "el", "al", "li", "l", "w", "f", "b", "d")


def is_arabic(word: str) -> bool:
    return bool(_ARABIC.match(word))


@lru_cache(maxsize=200_000)
def arabic_variants(word: str) -> tuple[str, ...]:
    """The word, and the word without a leading conjunction (و ف) and proclitic or article."""
    out = [word]
    bases = [word]
    if len(word) > 3 and word[0] in _AR_CONJ:
        bases.append(word[1:])
        out.append(word[1:])
    for base in bases:
        for p in _AR_PROCLITICS:
            if base.startswith(p) and len(base) - len(p) >= 2:
                out.append(base[len(p):])
    return tuple(dict.fromkeys(out))


def arabic_key(word: str) -> str:
    """How a lexicon's Arabic word is stored: without the article (the post's word is tried
    without it too)."""
    return word[2:] if word.startswith("ال") and len(word) > 3 else word


@lru_cache(maxsize=200_000)
def latin_fold_variants(word: str) -> tuple[str, ...]:
    """Arabizi-folded word, and the same without a leading article or proclitic (l-, w-, fl-...)."""
    if is_arabic(word):
        return ()
    folded = arabizi_fold(word)
    out = [folded]
    for p in _LATIN_PROCLITICS:
        if folded.startswith(p) and len(folded) - len(p) >= 3:
            out.append(folded[len(p):])
    return tuple(dict.fromkeys(out))


def latin_fold_key(word: str) -> str:
    """How a lexicon's Arabizi word is stored: folded, its longest proclitic removed."""
    folded = arabizi_fold(word)
    for p in _LATIN_PROCLITICS:  # longest first
        if folded.startswith(p) and len(folded) - len(p) >= 3:
            return folded[len(p):]
    return folded


def _norm_variants(token: Token, view: TextView | None = None) -> tuple[str, ...]:
    return arabic_variants(token.norm) if is_arabic(token.norm) else (token.norm,)


def _norm_key(word: str) -> str:
    return arabic_key(word) if is_arabic(word) else word


@dataclass(frozen=True)
class Mode:
    """A way of comparing words: how a post's token is varied and how a lexicon word is stored.

    ``words`` splits a lexicon term into its words; ``variants`` lists the forms a post's token
    may take (it also gets the view, whose ``flags`` can switch variants on or off for a whole
    post); ``key`` is the stored form of a lexicon word. A word matches when its key is one
    of the token's variants (or, for a word ending in ``*``, a prefix of one of them).
    """

    name: str
    words: Callable[[str], list[str]]
    variants: Callable[[Token, TextView], tuple[str, ...]]
    key: Callable[[str], str]
    # Whether the mode can match anything in a post at all (saves a pass over its words).
    applies: Callable[[TextView], bool] = lambda view: True


def _split_norm(term: str) -> list[str]:
    return normalize(term).split()


def _split_cased(term: str) -> list[str]:
    return [p.group() for p in _PIECE.finditer(term)]


MODES: dict[str, Mode] = {
    "norm": Mode("norm", _split_norm, _norm_variants, _norm_key),
    "fold": Mode("fold", _split_norm, lambda t, v: latin_fold_variants(t.norm), latin_fold_key),
    "cased": Mode("cased", _split_cased, lambda t, v: (t.raw,), lambda w: w),
}

# Term groups that change how terms are compared; every other group name compares with "norm".
GROUP_MODES = {"arabizi": "fold", "cased": "cased"}


class TextView:
    """A text's tokens with their variants computed once per comparison mode."""

    __slots__ = ("text", "tokens", "flags", "_variants", "_joined")

    def __init__(self, text: str, flags: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.flags = flags
        self._variants: dict[str, list[tuple[str, ...]]] = {}
        self._joined: str | None = None

    @property
    def joined(self) -> str:
        """The normalised words joined by single spaces, padded: ``" a b c "``."""
        if self._joined is None:
            self._joined = " " + " ".join(t.norm for t in self.tokens) + " "
        return self._joined

    def variants(self, mode: Mode) -> list[tuple[str, ...]]:
        got = self._variants.get(mode.name)
        if got is None:
            got = self._variants[mode.name] = [mode.variants(t, self) for t in self.tokens]
        return got

    def surface(self, i: int, j: int, clitic: int = 0) -> str:
        """The original text of tokens ``i..j`` (inclusive), without edge punctuation and
        without the first ``clitic`` letters (Arabic proclitics)."""
        start = self.tokens[i].start
        if clitic and self.tokens[i].raw == self.text[start:self.tokens[i].end]:
            letters = 0
            for pos in range(start, self.tokens[i].end):
                if letters == clitic:
                    start = pos
                    break
                if not unicodedata.combining(self.text[pos]) and self.text[pos] != "\u0640":
                    letters += 1
        return self.text[start:self.tokens[j].end].strip(_EDGE_PUNCT)


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    start: int  # first token
    end: int  # last token, inclusive
    term: str
    # Letters of the first token that are a proclitic (و ف ب ل ك) before the term: the
    # surface leaves them out («وزارة العدل» in «فوزارة العدل»).
    clitic: int = 0


@dataclass(frozen=True, slots=True)
class _Term:
    key: str
    words: tuple[tuple[str, bool], ...]  # (stored form, is prefix)
    source: str
    article: bool = False  # the first word was written with the article ال (kept in the surface)


class TermMatcher:
    """Finds every occurrence of many multi-word terms in a :class:`TextView`.

    Terms are indexed by their first word, so a post costs a few dictionary lookups per word,
    whatever the number of terms. Matches may overlap; :func:`longest_first` picks among them.
    """

    _BUCKET = 3  # wildcard terms are bucketed by their first three letters

    def __init__(self, modes: Mapping[str, Mode] | None = None) -> None:
        self.modes = dict(modes or MODES)
        self._exact: dict[str, dict[str, list[_Term]]] = {}
        # mode → first letters → [(the first word's stem, terms)]
        self._prefix: dict[str, dict[str, list[tuple[str, list[_Term]]]]] = {}
        self._short: dict[str, set[int]] = {}  # mode → lengths of stems shorter than _BUCKET
        self.size = 0

    def add(self, key: str, term: str, mode: str = "norm") -> None:
        """Add ``term`` (words, a trailing ``*`` on a word for any ending) found as ``key``.

        Raises ValueError when the term is empty after normalisation.
        """
        m = self.modes[mode]
        words: list[tuple[str, bool]] = []
        for raw_word in term.split():
            prefix = raw_word.endswith("*")
            pieces = m.words(raw_word.rstrip("*"))
            for k, piece in enumerate(pieces):
                stored = m.key(piece)
                words.append((stored, prefix and k == len(pieces) - 1))
        if not words or not all(w for w, _ in words):
            raise ValueError("term is empty after normalization")
        first_written = m.words(term.split()[0].rstrip("*"))
        article = bool(first_written) and first_written[0].startswith("ال") and is_arabic(first_written[0])
        entry = _Term(key, tuple(words), term, article)
        first, is_prefix = words[0]
        if is_prefix:
            bucket = self._prefix.setdefault(mode, {}).setdefault(first[: self._BUCKET], [])
            for stem, terms in bucket:
                if stem == first:
                    terms.append(entry)
                    break
            else:
                bucket.append((first, [entry]))
            if len(first) < self._BUCKET:
                self._short.setdefault(mode, set()).add(len(first))
        else:
            self._exact.setdefault(mode, {}).setdefault(first, []).append(entry)
        self.size += 1

    def find(self, view: TextView) -> list[Match]:
        """All matches, in text order."""
        out: list[Match] = []
        n = len(view.tokens)
        cut = self._BUCKET
        for mode_name in sorted(set(self._exact) | set(self._prefix)):
            mode = self.modes[mode_name]
            if not mode.applies(view):
                continue
            variants = view.variants(mode)
            exact_get = self._exact.get(mode_name, {}).get
            prefix = self._prefix.get(mode_name)
            prefix_get = prefix.get if prefix else None
            short = sorted(self._short.get(mode_name, ()))
            for i in range(n):
                candidates: list[tuple[_Term, str]] | None = None
                for v in variants[i]:
                    hit = exact_get(v)
                    if hit:
                        if candidates is None:
                            candidates = []
                        candidates.extend((t, v) for t in hit)
                    if prefix_get is not None:
                        bucket = prefix_get(v[:cut])
                        if bucket:
                            for stem, terms in bucket:
                                if v.startswith(stem):
                                    if candidates is None:
                                        candidates = []
                                    candidates.extend((t, v) for t in terms)
                        for length in short:
                            for stem, terms in prefix_get(v[:length], ()):
                                if v.startswith(stem):
                                    if candidates is None:
                                        candidates = []
                                    candidates.extend((t, v) for t in terms)
                if candidates is None:
                    continue
                seen: set[int] = set()
                for term, v in candidates:
                    if id(term) in seen:
                        continue
                    seen.add(id(term))
                    end = i + len(term.words) - 1
                    if end >= n:
                        continue
                    if all(_word_matches(variants[i + k], term.words[k]) for k in range(1, len(term.words))):
                        out.append(Match(term.key, i, end, term.source, _clitic(view.tokens[i].norm, v, term)))
        out.sort(key=lambda h: (h.start, -h.end, h.key))
        return out


def _clitic(word: str, variant: str, term: _Term) -> int:
    """How many letters of ``word`` are proclitics before the matched ``variant``."""
    if not is_arabic(word) or not word.endswith(variant) or len(word) == len(variant):
        return 0
    cut = len(word) - len(variant)
    if term.article and word[:cut].endswith("ال"):
        cut -= 2  # keep the article the term is written with
    elif word[:cut].endswith("لل") and term.article:
        return 0  # «للمندوبية»: ل + ال merged, nothing to cut cleanly
    return cut if 0 < cut <= 3 else 0


def _word_matches(variants: tuple[str, ...], word: tuple[str, bool]) -> bool:
    form, is_prefix = word
    if is_prefix:
        return any(v.startswith(form) for v in variants)
    return form in variants


def longest_first(matches: Iterable[Match]) -> list[Match]:
    """Non-overlapping matches, preferring the longest (then the earliest); in text order."""
    kept: list[Match] = []
    taken: set[int] = set()
    for m in sorted(matches, key=lambda h: (-(h.end - h.start), h.start)):
        span = range(m.start, m.end + 1)
        if any(k in taken for k in span):
            continue
        kept.append(m)
        taken.update(span)
    kept.sort(key=lambda h: h.start)
    return kept


# --------------------------------------------------------------------------------------------
# The gazetteer file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GazetteerEntry:
    key: str  # institution id, or "<LABEL>:<name>"
    id: str | None
    label: str
    name: str


@dataclass(frozen=True)
class NumberRule:
    """A reference number (the law's 43.22) counted only next to a context word."""

    key: str
    values: tuple[tuple[str, str], ...]  # ("43", "22")
    window: int
    noise: TermMatcher | None = None  # units that make it a price, a time, a score


@dataclass
class Gazetteer:
    path: str
    entries: dict[str, GazetteerEntry]
    matcher: TermMatcher
    excludes: TermMatcher
    numbers: list[NumberRule]
    context: TermMatcher
    settings: dict[str, Any] = field(default_factory=dict)
    exclude_keys: frozenset[str] = frozenset()
    foreign: TermMatcher | None = None  # country words that make an institution a foreign one
    digest: str = ""  # of the file's bytes: two processes agree on what they matched with

    def match(self, view: TextView) -> list[Match]:
        """The gazetteer's non-overlapping matches in ``view`` (longest first), in text order."""
        found = self.matcher.find(view)
        if self.numbers:
            found.extend(self._numbers(view))
        if not found:
            return []
        if self.excludes.size and any(m.key in self.exclude_keys for m in found):
            blocked = self.excludes.find(view)
            if blocked:
                found = [m for m in found if not any(
                    b.key == m.key and b.start <= m.start and m.end <= b.end and b.end - b.start > m.end - m.start
                    for b in blocked)]
        return longest_first(found)

    def _numbers(self, view: TextView) -> list[Match]:
        toks = view.tokens
        out: list[Match] = []
        context: list[Match] | None = None
        for rule in self.numbers:
            if not any(a in view.joined and b in view.joined for a, b in rule.values):
                continue
            for i, tok in enumerate(toks):
                span = _number_at(toks, i, rule.values)
                if span is None:
                    continue
                end, glued = span
                if context is None:
                    context = self.context.find(view)
                ctx = [c for c in context if c.key == rule.key]
                if glued:
                    prefix = TextView(toks[i].norm[: len(toks[i].norm) - len(glued)])
                    ok = any(c.key == rule.key for c in self.context.find(prefix)) or any(
                        c.start <= i + 1 and c.end >= i - rule.window for c in ctx)
                else:
                    ok = any(c.start <= end + rule.window and c.end >= i - rule.window for c in ctx)
                if not ok or (rule.noise is not None and any(
                        i - 1 <= h.start <= end + 2 for h in rule.noise.find(view))):
                    continue
                start = i
                # Include a law word written just before the number: "loi n° 43.22", "القانون رقم 43.22".
                while True:
                    before = [c for c in ctx if c.end in (start - 1,) and start - c.start <= 3]
                    if not before:
                        break
                    start = min(c.start for c in before)
                out.append(Match(rule.key, start, end, tok.norm))
        return out

    def entity(self, key: str) -> GazetteerEntry:
        return self.entries[key]


def _number_at(toks: Sequence[Token], i: int, values: tuple[tuple[str, str], ...]) -> tuple[int, str] | None:
    """Where a reference number starting at token ``i`` ends, and the glued form if it was
    written stuck to a word (``loi4322``: "4322"); None when no number starts there."""
    word = toks[i].norm
    nxt = toks[i + 1].norm if i + 1 < len(toks) else None
    for a, b in values:
        if word in (f"{a}.{b}", f"{a}{b}", f"{b}.{a}"):
            return i, ""
        if (word, nxt) in ((a, b), (b, a)):
            return i + 1, ""
        for form in (f"{a}.{b}", f"{a}{b}"):
            if word.endswith(form) and len(word) > len(form) and not word[-len(form) - 1].isdigit():
                return i, form
        if word.endswith(a) and len(word) > len(a) and word[-len(a) - 1].isalpha() and nxt == b:
            return i + 1, a  # "#Loi43_22"
    return None


_ENTRY_KEYS = {"terms", "label", "exclude", "numbers", "name"}
_SECTIONS = {"institutions": None, "people": "PER", "places": "LOC", "organisations": "ORG"}
_SETTINGS_DEFAULTS: dict[str, Any] = {
    "spacy_model": "fr_core_news_sm",
    "spacy_langs": ["fr", "en", "es"],
    "spacy_min_chars": 25,
    "spacy_max_chars": 600,
    "spacy_ignore": [],
    "foreign": [],
}


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> DataFileError:
        return DataFileError(self.path, where, problem)

    def mapping(self, value: Any, where: str, allowed: Iterable[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "expected a mapping")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in set(allowed))
            if unknown:
                raise self.fail(where, f"unknown field(s) {unknown}; expected: {', '.join(sorted(allowed))}")
        return value

    def strings(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "expected a non-empty list of strings")
        for n, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                hint = " (quote it in the file)" if isinstance(item, bool | int | float) else ""
                raise self.fail(f"{where}[{n}]", f"expected a non-empty string, got {item!r}{hint}")
        return [s.strip() for s in value]


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def add_groups(r: _Reader, matcher: TermMatcher, key: str, groups: Any, where: str,
               seen: dict[tuple[str, str], str] | None = None,
               group_modes: Mapping[str, str] = GROUP_MODES) -> None:
    """Add a mapping of group → terms to ``matcher``; errors name the file and the field.

    With ``seen``, a spelling already listed under another key is refused.
    """
    groups = r.mapping(groups, where)
    if not groups:
        raise r.fail(where, "expected at least one group of terms")
    for group, items in groups.items():
        mode = group_modes.get(str(group), "norm")
        for n, term in enumerate(r.strings(items, f"{where}.{group}")):
            here = f"{where}.{group}[{n}]"
            try:
                before = matcher.size
                matcher.add(key, term, mode)
            except ValueError as exc:
                raise r.fail(here, f"{exc}: {term!r}") from exc
            if seen is not None and matcher.size > before:
                m = matcher.modes[mode]
                ident = (mode, " ".join(m.key(w) for w in m.words(term.rstrip("*"))))
                other = seen.get(ident)
                if other is not None and not other.startswith(f"{key}@"):
                    raise r.fail(here, f"{term!r} is also listed at {other.split('@', 1)[1]}; "
                                       "keep a spelling under one entry only")
                seen.setdefault(ident, f"{key}@{here}")


def load_gazetteer(path: str | Path = DEFAULT_GAZETTEER) -> Gazetteer:
    """Read and validate the gazetteer; a mistake raises DataFileError naming file and field."""
    path = Path(path)
    r = _Reader(_display(path))
    data = yamlfile.read(path, r.path)
    data = r.mapping(data, "(root)", {"version", "settings", *_SECTIONS})
    if data.get("version") != 1:
        raise r.fail("version", f"expected 1, got {data.get('version')!r}")
    settings = dict(_SETTINGS_DEFAULTS)
    raw_settings = r.mapping(data.get("settings", {}), "settings", _SETTINGS_DEFAULTS)
    settings.update(raw_settings)
    if not isinstance(settings["spacy_model"], str) or not settings["spacy_model"]:
        raise r.fail("settings.spacy_model", "expected a package name such as fr_core_news_sm")
    langs = r.strings(settings["spacy_langs"], "settings.spacy_langs") if settings["spacy_langs"] else []
    settings["spacy_langs"] = langs
    settings["spacy_ignore"] = (r.strings(settings["spacy_ignore"], "settings.spacy_ignore")
                                if settings["spacy_ignore"] else [])
    foreign = TermMatcher()
    for n, word in enumerate(r.strings(settings["foreign"], "settings.foreign") if settings["foreign"] else []):
        try:
            foreign.add("foreign", word)
        except ValueError as exc:
            raise r.fail(f"settings.foreign[{n}]", f"{exc}: {word!r}") from exc
    for name in ("spacy_min_chars", "spacy_max_chars"):
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise r.fail(f"settings.{name}", f"expected an integer >= 0, got {value!r}")

    matcher, excludes, context = TermMatcher(), TermMatcher(), TermMatcher()
    entries: dict[str, GazetteerEntry] = {}
    numbers: list[NumberRule] = []
    seen: dict[tuple[str, str], str] = {}

    institutions = r.mapping(data.get("institutions", {}), "institutions")
    for ident, body in institutions.items():
        where = f"institutions.{ident}"
        if ident not in ENTITY_IDS:
            raise r.fail(where, f"unknown institution id; expected one of {', '.join(ENTITY_IDS)} "
                                "(add new ids to TAXONOMY.md and sada.model first)")
        body = r.mapping(body, where, _ENTRY_KEYS - {"name"})
        label = body.get("label", "ORG")
        if label not in ENTITY_LABELS:
            raise r.fail(f"{where}.label", f"expected one of {', '.join(ENTITY_LABELS)}, got {label!r}")
        entries[ident] = GazetteerEntry(ident, ident, label, ident)
        if "terms" not in body and "numbers" not in body:
            raise r.fail(where, "expected 'terms' (and/or 'numbers')")
        if "terms" in body:
            add_groups(r, matcher, ident, body["terms"], f"{where}.terms", seen)
        if "exclude" in body:
            add_groups(r, excludes, ident, body["exclude"], f"{where}.exclude")
        if "numbers" in body:
            nb = r.mapping(body["numbers"], f"{where}.numbers", {"values", "window", "context", "noise"})
            values = []
            for n, value in enumerate(r.strings(nb.get("values"), f"{where}.numbers.values")):
                parts = normalize(value).strip().split(".")
                if len(parts) != 2 or not all(p.isdigit() for p in parts):
                    raise r.fail(f"{where}.numbers.values[{n}]", f"expected a number like \"43.22\", got {value!r}")
                values.append((parts[0], parts[1]))
            noise = None
            if "noise" in nb:
                noise = TermMatcher()
                add_groups(r, noise, ident, nb["noise"], f"{where}.numbers.noise")
            window = nb.get("window", 4)
            if isinstance(window, bool) or not isinstance(window, int) or window < 0:
                raise r.fail(f"{where}.numbers.window", f"expected an integer >= 0, got {window!r}")
            if "context" not in nb:
                raise r.fail(f"{where}.numbers", "missing 'context': the law words that must be near the number")
            add_groups(r, context, ident, nb["context"], f"{where}.numbers.context")
            numbers.append(NumberRule(ident, tuple(values), window, noise))

    for section, default_label in _SECTIONS.items():
        if default_label is None or section not in data:
            continue
        items = data[section]
        if not isinstance(items, list):
            raise r.fail(section, "expected a list of entries with 'name' and 'terms'")
        for n, body in enumerate(items):
            where = f"{section}[{n}]"
            body = r.mapping(body, where, {"name", "terms", "label"})
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                raise r.fail(f"{where}.name", "expected a non-empty string")
            label = body.get("label", default_label)
            if label not in ENTITY_LABELS:
                raise r.fail(f"{where}.label", f"expected one of {', '.join(ENTITY_LABELS)}, got {label!r}")
            key = f"{label}:{name}"
            if key in entries:
                raise r.fail(f"{where}.name", f"duplicate entry {name!r}")
            entries[key] = GazetteerEntry(key, None, label, name)
            if "terms" not in body:
                raise r.fail(where, "missing 'terms'")
            add_groups(r, matcher, key, body["terms"], f"{where}.terms", seen)
    exclude_keys = frozenset(k for k in institutions if "exclude" in institutions[k])
    return Gazetteer(r.path, entries, matcher, excludes, numbers, context, settings, exclude_keys, foreign,
                     file_digest(path)[:16])


@lru_cache(maxsize=4)
def _cached_gazetteer(path: str) -> Gazetteer:
    return load_gazetteer(path)


# --------------------------------------------------------------------------------------------
# spaCy NER, loaded once per process
# --------------------------------------------------------------------------------------------

_NLP: dict[str, Any] = {}
_NLP_LOCK = threading.Lock()


def load_ner(model: str) -> Any:
    """The spaCy pipeline ``model`` with only what NER needs, loaded once per process.

    The model is a pip package, so loading never touches the network. Components the NER
    does not listen to (tagger, parser, lemmatizer...) are excluded, not just disabled: they
    are never even read from disk.
    """
    with _NLP_LOCK:
        nlp = _NLP.get(model)
        if nlp is None:
            import spacy
            from spacy.util import get_package_path, load_config

            try:
                package = get_package_path(model)
                found = sorted(package.glob("config.cfg")) or sorted(package.glob("*/config.cfg"))
                config = load_config(found[-1])
            except (OSError, IndexError, ValueError) as exc:  # the package is missing or broken
                from sada.errors import ConfigError

                raise ConfigError(f"cannot load the spaCy model {model!r}: {exc}",
                                  hint=f"install it with `pip install {model}` (it is in pyproject.toml)") from exc
            pipeline = list(config["nlp"]["pipeline"])
            needed = {"ner"}
            ner_model = config["components"].get("ner", {}).get("model", {}).get("tok2vec", {})
            if "Listener" in str(ner_model.get("@architectures", "")):
                needed.add(ner_model.get("upstream", "tok2vec"))
                needed.add("tok2vec")
            nlp = spacy.load(model, exclude=[p for p in pipeline if p not in needed])
            _NLP[model] = nlp
        return nlp


_CAPITALISED = re.compile(r"(?<![\w'’#@])[A-ZÀ-ÖØ-Þ][\wÀ-ÿ'’-]*")
# A sentence ends at . ! ? … or a line break, not at the dot of 43.22 or 1.001.
_SENTENCE = re.compile(r"(?:[^.!?…\n]|\.(?=\d))+[.!?…]*")
_LEADING_WORDS = frozenset(
    "le la les l un une des du de d au aux ce cet cette ces son sa ses mon ma mes notre nos leur leurs "
    "the a an this that these those our their his her its my el los las lo".split()
)


def _shouting(word: str) -> bool:
    """A long word in capitals is emphasis ("EXCLUS"), not an acronym ("CNDH", "FRMF")."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 6 and all(c.isupper() for c in letters)


def _opens_sentence(text: str, sentence_start: int, at: int) -> bool:
    """Whether only punctuation, quotes or emojis stand between the sentence start and ``at``."""
    return not any(c.isalnum() for c in text[sentence_start:at])


NER_WINDOW = 5  # words of context each side of a candidate name (the model looks 4 words away)


@dataclass(frozen=True)
class _Excerpt:
    """The bits of a post worth showing spaCy — a few words around each capitalised word the
    gazetteer did not explain — joined by line breaks, with the way back to the post."""

    post: str
    text: str
    pieces: tuple[tuple[int, int], ...]  # (offset in the excerpt, offset in the post), in order
    sentences: tuple[int, ...]  # where the post's sentences open (after leading spaces)

    def to_post(self, offset: int) -> int:
        base = 0
        for ex, post in self.pieces:
            if ex > offset:
                break
            base = post - ex
        return offset + base

    def opens_sentence(self, post_offset: int) -> bool:
        """Whether only punctuation, quotes or emojis precede ``post_offset`` in its sentence."""
        start = 0
        for opening in self.sentences:
            if opening > post_offset:
                break
            start = opening
        return _opens_sentence(self.post, start, post_offset)


def ner_excerpt(text: str, covered: list[tuple[int, int]], ignore: frozenset[str], limit: int) -> _Excerpt | None:
    """A few words around each capitalised word that could be a name the gazetteer did not
    explain, or None when there is none (then spaCy is not needed at all).

    A word opening a sentence counts only when the next word is capitalised too ("Karim Benali
    a dit", not "Les prisons..."); words in capitals of six letters or more are emphasis, and
    words listed in the gazetteer's ``spacy_ignore`` never count. spaCy's cost grows with the
    words it reads, so it reads windows, not whole articles.
    """
    def counts(w: re.Match[str]) -> bool:
        ws = w.start()
        return not (any(a <= ws < b for a, b in covered) or normalize(w.group()).strip() in ignore
                    or _shouting(w.group()))

    openings: list[int] = []
    windows: list[tuple[int, int]] = []
    size = 0
    for sent in _SENTENCE.finditer(text):
        s0, s1 = sent.span()
        opening_at = s0 + len(sent.group()) - len(sent.group().lstrip())
        openings.append(opening_at)
        if size >= limit:
            continue
        words = list(_CAPITALISED.finditer(text, s0, s1))
        spans = [m.span() for m in _RAW_TOKEN.finditer(text, opening_at, s1)]
        for k, w in enumerate(words):
            if not counts(w):
                continue
            if _opens_sentence(text, opening_at, w.start()):
                nxt = words[k + 1] if k + 1 < len(words) else None
                if nxt is None or text[w.end():nxt.start()] != " " or not counts(nxt):
                    continue
            at = next((i for i, (a, b) in enumerate(spans) if a <= w.start() < b), None)
            if at is None:
                continue
            lo, hi = spans[max(0, at - NER_WINDOW)][0], spans[min(len(spans) - 1, at + NER_WINDOW)][1]
            if windows and lo <= windows[-1][1] + 1:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
            size = sum(b - a + 1 for a, b in windows)
            if size >= limit:
                break
    if not windows:
        return None
    parts, pieces, offset = [], [], 0
    for start, end in windows:
        parts.append(text[start:end])
        pieces.append((offset, start))
        offset += end - start + 1
    return _Excerpt(text, "\n".join(parts), tuple(pieces), tuple(openings))


# --------------------------------------------------------------------------------------------
# The enricher
# --------------------------------------------------------------------------------------------


def mention_text(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text


def _script_of(text: str) -> str:
    arab = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    latn = sum(1 for c in text if c.isascii() and c.isalpha() or "\u00c0" <= c <= "\u024f")
    if not arab and not latn:
        return "und"
    return "arab" if arab > latn else "latn"


class EntityEnricher(Enricher):
    """Sets ``entities``: a list of :class:`~sada.model.Entity` — ``{"id", "text", "label"}``
    (TAXONOMY.md) — one per institution id, and one per (text, label) for the others."""

    name: ClassVar[str] = "entities"
    version: ClassVar[str] = "1.0.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "lang"})
    sets: ClassVar[frozenset[str]] = frozenset({"entities"})

    def __init__(self, gazetteer: Gazetteer | str | Path | None = None, *, use_spacy: bool = True,
                 batch_size: int = 64) -> None:
        if isinstance(gazetteer, Gazetteer):
            self.gazetteer = gazetteer
        else:
            self.gazetteer = _cached_gazetteer(str(Path(gazetteer or DEFAULT_GAZETTEER).resolve()))
        cfg = self.gazetteer.settings
        self.use_spacy = use_spacy
        self.batch_size = batch_size
        self.spacy_model: str = cfg["spacy_model"]
        self.spacy_langs = frozenset(cfg["spacy_langs"])
        self.spacy_min_chars: int = cfg["spacy_min_chars"]
        self.spacy_max_chars: int = cfg["spacy_max_chars"]
        self.spacy_ignore = frozenset(normalize(w).strip() for w in cfg["spacy_ignore"])
        self.spacy_calls = 0

    # -- the two sources ------------------------------------------------------------------------

    def gazetteer_entities(self, text: str) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        """Gazetteer entities of ``text`` (one per entry) and the character spans they cover."""
        view = TextView(text)
        entities: list[dict[str, Any]] = []
        spans: list[tuple[int, int]] = []
        seen: set[str] = set()
        matches = self.gazetteer.match(view)
        foreign: list[Match] = []
        if self.gazetteer.foreign is not None and any(self.gazetteer.entries[m.key].id for m in matches):
            foreign = self.gazetteer.foreign.find(view)
        for m in matches:
            spans.append((view.tokens[m.start].start, view.tokens[m.end].end))
            entry = self.gazetteer.entries[m.key]
            surface = view.surface(m.start, m.end, m.clitic) or entry.name
            if entry.id and any(m.start - 2 <= f.end and f.start <= m.end + 2 for f in foreign):
                # "Egypt's justice ministry", «وزارة العدل الجزائرية»: a foreign body, no id
                entities.append({"id": None, "text": surface, "label": "ORG"})
                continue
            if m.key in seen:
                continue
            seen.add(m.key)
            entities.append({"id": entry.id, "text": surface, "label": entry.label})
        return entities, spans

    def spacy_excerpt(self, mention: Mention, text: str, covered: list[tuple[int, int]]) -> _Excerpt | None:
        """What spaCy should read of this post, or None when it should not run at all."""
        if not self.use_spacy or len(text) < self.spacy_min_chars:
            return None
        lang = mention.lang
        script = mention.script or _script_of(text)
        if script != "latn" or (lang is not None and lang not in self.spacy_langs):
            return None
        return ner_excerpt(text, covered, self.spacy_ignore, self.spacy_max_chars)

    def _spacy_entities(self, doc: Any, excerpt: _Excerpt, covered: list[tuple[int, int]]) -> list[dict[str, Any]]:
        out = []
        for ent in doc.ents:
            if ent.label_ not in ENTITY_LABELS:
                continue
            tokens = [t for t in ent if not t.is_space]
            # Drop leading articles ("Un message", "La Poste" → "Poste") and anything after a line break.
            while tokens and tokens[0].lower_ in _LEADING_WORDS:
                tokens = tokens[1:]
            cut = next((k for k, t in enumerate(tokens) if "\n" in t.whitespace_ or "\n" in t.text), None)
            if cut is not None:
                tokens = tokens[: cut + 1]
            if not tokens or len(tokens) > 6:
                continue
            start_ex, end_ex = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            start, end = excerpt.to_post(start_ex), excerpt.to_post(end_ex)
            if len(tokens) == 1 and (excerpt.opens_sentence(start) or _shouting(tokens[0].text)):
                continue  # a lone capitalised word opening a sentence: an ordinary word, mostly
            if any(a < end and start < b for a, b in covered):
                continue
            surface = doc.text[start_ex:end_ex].strip(_EDGE_PUNCT)
            if (len(surface) < 2 or not any(c.isupper() for c in surface) or not any(c.isalpha() for c in surface)
                    or surface.startswith(("@", "http")) or normalize(surface).strip() in self.spacy_ignore):
                continue
            out.append({"id": None, "text": surface, "label": ent.label_})
        return out

    # -- Enricher API -------------------------------------------------------------------------------

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        results: list[list[dict[str, Any]]] = []
        pending: list[tuple[int, _Excerpt, list[tuple[int, int]]]] = []
        for n, mention in enumerate(mentions):
            text = mention_text(mention)
            entities, covered = self.gazetteer_entities(text)
            results.append(entities)
            excerpt = self.spacy_excerpt(mention, text, covered)
            if excerpt is not None:
                pending.append((n, excerpt, covered))
        if pending:
            nlp = load_ner(self.spacy_model)
            docs = nlp.pipe((ex.text for _, ex, _ in pending), batch_size=self.batch_size)
            for (n, excerpt, covered), doc in zip(pending, docs, strict=True):
                self.spacy_calls += 1
                results[n].extend(self._spacy_entities(doc, excerpt, covered))
        return [Labels({"entities": [Entity(**e) for e in _dedupe(ents)]}) for ents in results]


def _dedupe(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entity per institution id, and per (normalised text, label) for the others."""
    out, seen = [], set()
    for e in entities:
        key = ("id", e["id"]) if e["id"] else ("text", normalize(e["text"]).strip(), e["label"])
        if key in seen:
            continue
        seen.add(key)
        out.append(e)
    return out
