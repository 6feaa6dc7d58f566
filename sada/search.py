"""Searching mentions: spelling variants, the query, and what a person sees in a terminal.

Most of the multilingual matching is done by the Elasticsearch analyzers of the mapping
(``infra/elasticsearch/mentions.template.json``): French elision, light stemming and accent
folding; Arabic alef/hamza/yaa/teh marbuta/harakat normalization and the light stemmer (و ال
بال كال فال لل); Arabic-Indic digits. What those filters cannot do — and this Elasticsearch has
no ``pattern_replace``, ``word_delimiter`` or ingest script to do it — is done here, in Python,
at index time: :func:`spelling_variants` lists extra spellings of a post's words, which the
index consumer stores in the search-only field ``text_variants`` (excluded from ``_source``).

* Arabic proclitics the light stemmer leaves alone: a lone ب ل ك (with or without و/ف before
  them), and و/ف + ب/ك/ل + ال: «بعقوبة» → «عقوبة», «وبالعقوبات» → «عقوبات».
* Hashtags and joined words: «#العقوبات_البديلة» → «العقوبات البديلة», "#PeinesAlternatives"
  → "Peines Alternatives".
* The law's number however it is written: "43-22", "43/22", "43.22" all give "43.22" and
  "43 22".
* Darija in Latin script (Arabizi): the glued article (l9anoun → 9anoun, lbadila → badila; el-
  and al- only on words that carry Arabizi digits) and one canonical transliteration of the
  digit letters (2 3 → a, 5 → kh, 7 → h, 8 → gh, 9 → q: 9anoun → qanoun). Vowel spellings
  (ou/o/u, e/a) and matching across scripts (qanoun ↔ قانون) are out of scope: an analyst
  searching Darija should try both scripts.

A variant only ever adds recall; the original words stay indexed by the analyzers. Kibana
searches ``text_variants`` through the index's ``index.query.default_field``; ``sada search``
also expands the words of the query with the same function, so both directions match there.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sada.errors import ConfigError
from sada.model import LANGS, MYTHS, TOPICS, Platform

# -- spelling variants --------------------------------------------------------------------------

_ARABIC_WORD = re.compile(r"[\u0621-\u064A\u0660-\u0669\u066E-\u06D3\u064B-\u065F\u0640]+")
_HARAKAT = re.compile(r"[\u064B-\u065F\u0640\u0670]")
# Proclitics the Lucene light stemmer does not strip: (و|ف)? then ب/ك/ل, possibly + ال.
# وال بال كال فال لل and a lone و are already handled by the stemmer, so they are not repeated.
_AR_PROCLITIC = re.compile(r"^(?:[وف]?(?:[بك]ال|لل|[بكل])|[وف](?=[بكل]))(.*)$")
_MIN_STEM = 3  # letters left after the proclitic: shorter remainders are mostly noise

_LAW_NUMBER = re.compile(r"^(\d{1,4})[./_\-](\d{1,4})$")
# camelCase inside a hashtag, and a number of two digits or more glued to letters (#Loi4322).
_CAMEL = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ])|(?<=[^\W\d_])(?=\d\d)|(?<=\d\d)(?=[^\W\d_])")

_ARABIZI_DIGITS = {"2": "a", "3": "a", "5": "kh", "7": "h", "8": "gh", "9": "q"}
# Latin letters with single digit letters among them (9anoun, l7bs, ga3), not "covid19" nor "2025".
_ARABIZI_WORD = re.compile(r"^(?=.*[a-z])(?=.*[235789])(?!.*\d\d)[a-z0-9]+$")
_VOWELS = set("aeiouy")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _arabic_variants(word: str) -> list[str]:
    bare = _HARAKAT.sub("", word)
    m = _AR_PROCLITIC.match(bare)
    if not m:
        return []
    rest = m.group(1)
    # A stripped و/ف may leave a word the stemmer already handles (وبالعقوبات → بالعقوبات): go on.
    if rest.startswith("ال") and len(rest) - 2 >= _MIN_STEM:
        return [rest, rest[2:]]
    if len(rest) >= _MIN_STEM:
        return [rest]
    return []


def _arabizi_variants(word: str) -> list[str]:
    out: list[str] = []
    has_digits = bool(_ARABIZI_WORD.match(word))
    stems = [word]
    if len(word) > 3 and word[0] == "l" and word[1] not in _VOWELS and word[1] != "l":
        stems.append(word[1:])
    elif has_digits and word[:2] in ("el", "al") and len(word) > 4 and word[2] not in _VOWELS:
        stems.append(word[2:])
    for stem in stems:
        if stem != word:
            out.append(stem)
        if _ARABIZI_WORD.match(stem):
            out.append("".join(_ARABIZI_DIGITS.get(c, c) for c in stem))
    return out


def word_variants(token: str) -> list[str]:
    """Extra spellings of one word or hashtag (never the word itself)."""
    return list(_word_variants(token))


@lru_cache(maxsize=65536)
def _word_variants(token: str) -> tuple[str, ...]:
    # Cached: a stream's vocabulary repeats (Zipf), and the index consumer calls this per word.
    out: list[str] = []
    hashtag = token.startswith("#")
    word = token.lstrip("#")
    if not word:
        return ()
    law = _LAW_NUMBER.match(word)
    if "_" in word or (hashtag and _CAMEL.search(word)):
        parts = [p for p in re.split(r"_+", word) if p]
        if hashtag:
            parts = [q for p in parts for q in _CAMEL.split(p) if q]
        if len(parts) > 1 and not law:
            out.append(" ".join(parts))
            for part in parts:
                out.extend(_word_variants(part))
            for a, b in zip(parts, parts[1:], strict=False):
                if _LAW_NUMBER.match(f"{a}.{b}"):
                    out.append(f"{a}.{b}")
    if law:
        out.extend([f"{law.group(1)}.{law.group(2)}", f"{law.group(1)} {law.group(2)}"])
    if _ARABIC_WORD.fullmatch(word):
        out.extend(_arabic_variants(word))
    else:
        folded = _fold(word)
        if folded.isascii() and folded.isalnum():
            out.extend(_arabizi_variants(folded))
    return tuple(v for v in dict.fromkeys(out) if v and v != token)


_TOKEN = re.compile(r"#?[\w\u0600-\u06FF]+(?:[./\-][\w\u0600-\u06FF]+)*")


def spelling_variants(*texts: str | None, limit: int = 400) -> list[str]:
    """Extra spellings of the words of ``texts``, deduplicated, in order of first appearance."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for token in _TOKEN.findall(text):
            for variant in _word_variants(token):
                seen.setdefault(variant, None)
                if len(seen) >= limit:
                    return list(seen)
    return list(seen)


# -- the query ----------------------------------------------------------------------------------

# Per language: the analyzed sub-fields do the matching, ``text`` (language-neutral) catches the
# rest; the title weighs more than the body, spelling variants less than the words as written.
SEARCH_FIELDS = ("text", "text.fr", "text.ar", "title^2", "title.fr^2", "title.ar^2",
                 "text_variants^0.5", "text_variants.fr^0.5", "author.name^0.5")
PHRASE_FIELDS = ("text", "text.fr", "text.ar", "title", "title.fr", "title.ar")
HIGHLIGHT_FIELDS = ("text.ar", "text.fr", "text", "title.ar", "title.fr", "title")
SOURCE_FIELDS = ("id", "published_at", "platform", "source", "author", "text", "title", "url", "lang", "myths",
                 "topics", "stance", "toxicity", "cluster_id", "reach")
SORTS = ("newest", "relevance")
MAX_LIMIT = 1000


@dataclass
class SearchRequest:
    """What ``sada search`` was asked; label filters take TAXONOMY.md ids."""

    query: str = ""
    langs: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    myths: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    since: datetime | None = None
    limit: int = 20
    sort: str | None = None  # None: relevance when there is a query, else newest

    def __post_init__(self) -> None:
        for name, allowed in (("langs", LANGS), ("platforms", tuple(p.value for p in Platform)),
                              ("myths", MYTHS), ("topics", TOPICS)):
            unknown = sorted(set(getattr(self, name)) - set(allowed))
            if unknown:
                raise ConfigError(f"unknown {name[:-1]} id(s) {unknown}", hint=f"use one of: {', '.join(allowed)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ConfigError(f"--limit must be between 1 and {MAX_LIMIT}")
        if self.sort is not None and self.sort not in SORTS:
            raise ConfigError(f"unknown sort {self.sort!r}", hint=f"use one of: {', '.join(SORTS)}")

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.query.strip() else "newest")


@dataclass(frozen=True)
class UserQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()


def parse_user_query(text: str) -> UserQuery:
    """Words (all required), "quoted phrases" and -excluded words, as in a web search box."""
    words, phrases, excluded = [], [], []
    for m in re.finditer(r'(-?)"([^"]*)"|(\S+)', text):
        if m.group(2) is not None:
            phrase = m.group(2).strip()
            if phrase:
                (excluded if m.group(1) else phrases).append(phrase)
            continue
        word = m.group(3)
        if word.startswith("-") and len(word) > 1:
            excluded.append(word[1:])
        elif word.strip('"'):
            words.append(word.strip('"'))
    return UserQuery(tuple(words), tuple(phrases), tuple(excluded))


def _word_clause(word: str) -> dict[str, Any]:
    # The same variants the index consumer stores, so "9anoun" finds "qanoun" and «بعقوبة» «عقوبة».
    alternatives = [word, *word_variants(word)]
    if not word.startswith("#") and any(c.isalpha() for c in word):
        alternatives += word_variants("#" + word)  # a camelCase or snake_case word typed bare
    clauses = [{"multi_match": {"query": alt, "fields": list(SEARCH_FIELDS), "type": "best_fields",
                                "operator": "and"}} for alt in dict.fromkeys(alternatives)]
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def build_search(req: SearchRequest, tags: tuple[str, str] = ("<em>", "</em>")) -> dict[str, Any]:
    """The Elasticsearch search body for ``req``; ``tags`` mark the highlighted words."""
    uq = parse_user_query(req.query)
    must: list[dict[str, Any]] = [_word_clause(w) for w in uq.words]
    must += [{"multi_match": {"query": p, "fields": list(PHRASE_FIELDS), "type": "phrase"}} for p in uq.phrases]
    must_not = [{"multi_match": {"query": w, "fields": list(SEARCH_FIELDS), "type": "phrase"}} for w in uq.excluded]
    filters: list[dict[str, Any]] = []
    for fld, values in (("lang", req.langs), ("platform", req.platforms), ("myths", req.myths),
                        ("topics", req.topics)):
        if values:
            filters.append({"terms": {fld: list(values)}})
    if req.since is not None:
        filters.append({"range": {"published_at": {"gte": req.since.isoformat()}}})
    query = {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not, "filter": filters}}
    newest = [{"published_at": {"order": "desc"}}, {"id": {"order": "asc"}}]
    sort = newest if req.effective_sort == "newest" else ["_score", *newest]
    pre, post = tags
    return {
        "query": query,
        "sort": sort,
        "size": req.limit,
        "track_total_hits": True,
        "_source": list(SOURCE_FIELDS),
        "highlight": {
            "pre_tags": [pre], "post_tags": [post], "encoder": "default", "require_field_match": True,
            "fields": {f: {"fragment_size": 180, "number_of_fragments": 1,
                           **({"no_match_size": 180} if f == "text" else {})} for f in HIGHLIGHT_FIELDS},
        },
    }


_DURATION = re.compile(r"^(\d+)\s*(m|min|h|d|j|w|sem)$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "j": "days", "w": "weeks", "sem": "weeks"}


def parse_since(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """``30m``, ``24h``, ``7d``, ``2w`` ago; a date (midnight, ``tz``); or an ISO date-time."""
    text = text.strip()
    m = _DURATION.match(text)
    if m:
        return now - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"cannot read --since {text!r}",
                          hint="use 24h, 7d, 2w, a date (2026-11-01) or a date-time (2026-11-01T08:00+01:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


# -- what a person sees -------------------------------------------------------------------------

# Escape sequences (CSI, OSC, other ESC), then any control character and the bidirectional
# formatting characters that can reorder or hide what a terminal shows (Trojan Source).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_SPACES = re.compile(r"[ \t\r\n\v\f\u2028\u2029]+")


def clean_terminal(text: str | None, limit: int | None = None) -> str:
    """``text`` safe to print: no escape sequence, no control or bidi-override character."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _UNSAFE.sub("", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# json.dumps already escapes C0 controls inside strings; these it leaves raw with ensure_ascii=False.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def escape_json_text(dumped: str) -> str:
    """JSON from ``json.dumps(..., ensure_ascii=False)`` with C1 and bidi controls escaped too."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


@dataclass(frozen=True)
class Hit:
    id: str
    published_at: datetime
    platform: str
    author: str
    lang: str | None
    url: str | None
    snippet: tuple[tuple[str, bool], ...]  # (text, highlighted) pieces
    score: float | None
    labels: dict[str, Any]


def _snippet(highlight: dict[str, list[str]], source: dict[str, Any], pre: str, post: str) -> tuple[tuple[str, bool], ...]:
    fragment = None
    for fld in HIGHLIGHT_FIELDS:
        frags = highlight.get(fld) or []
        if frags and pre in frags[0]:
            fragment = frags[0]
            break
    if fragment is None:
        fragment = (highlight.get("text") or [source.get("text") or source.get("title") or ""])[0][:180]
    pieces: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"{re.escape(pre)}|{re.escape(post)}", fragment)):
        if part:
            pieces.append((part, i % 2 == 1))
    return tuple(pieces)


def _author(source: dict[str, Any]) -> str:
    author = source.get("author") or {}
    if author.get("handle"):
        return "@" + str(author["handle"]).lstrip("@")
    return str(author.get("name") or "—")


def run_search(es, alias: str, req: SearchRequest) -> tuple[int, list[Hit]]:
    """Total matches and the hits to show, highlighted with tags no post can forge."""
    nonce = secrets.token_hex(6)
    pre, post = f"[sada-hl-{nonce}]", f"[/sada-hl-{nonce}]"
    resp = es.search(index=alias, **build_search(req, (pre, post)))
    hits = []
    for h in resp["hits"]["hits"]:
        src = h["_source"]
        hits.append(Hit(
            id=src.get("id") or h["_id"],
            published_at=datetime.fromisoformat(src["published_at"]),
            platform=str(src.get("platform") or "?"),
            author=_author(src),
            lang=src.get("lang"),
            url=src.get("url"),
            snippet=_snippet(h.get("highlight") or {}, src, pre, post),
            score=h.get("_score"),
            labels={k: src.get(k) for k in ("myths", "topics", "stance", "toxicity", "cluster_id", "reach")},
        ))
    return resp["hits"]["total"]["value"], hits


def format_hit(hit: Hit, tz: ZoneInfo, color: bool = False) -> str:
    """Three lines: when, where, who; the snippet; the link — every piece cleaned for the terminal."""
    bold, dim, reset = ("\x1b[1m", "\x1b[2m", "\x1b[0m") if color else ("", "", "")
    when = hit.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    meta = "  ".join(x for x in (when, clean_terminal(hit.platform, 20), clean_terminal(hit.author, 60),
                                 f"[{clean_terminal(hit.lang, 5)}]" if hit.lang else "") if x)
    parts = []
    for text, marked in hit.snippet:
        piece = clean_terminal(text)
        if not piece:
            continue
        parts.append(f"{bold}{piece}{reset}" if marked and color else (f"[[{piece}]]" if marked else piece))
    snippet = " ".join(parts)
    link = clean_terminal(hit.url, 300) or "—"
    return f"{dim}{meta}{reset}\n  {snippet}\n  {dim}{link}{reset}"


def hit_json(hit: Hit, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": hit.id,
        "published_at": hit.published_at.astimezone(tz).isoformat(),
        "platform": hit.platform,
        "author": hit.author,
        "lang": hit.lang,
        "url": hit.url,
        "snippet": "".join(text for text, _ in hit.snippet),
        "highlights": [text for text, marked in hit.snippet if marked],
        "score": hit.score,
        **hit.labels,
    }


def search_kql(req: SearchRequest) -> str:
    """The same search as KQL, for a Discover link (each word quoted: user text cannot inject)."""
    from sada.kibana import kql_quote

    uq = parse_user_query(req.query)
    parts = [kql_quote(w) for w in (*uq.words, *uq.phrases)]
    parts += [f"not {kql_quote(w)}" for w in uq.excluded]
    for fld, values in (("lang", req.langs), ("platform", req.platforms), ("myths", req.myths),
                        ("topics", req.topics)):
        if values:
            parts.append(f"{fld}:({' or '.join(kql_quote(v) for v in values)})")
    return " and ".join(parts)
