"""Keyword sets: what the collectors search for, and which fetched items they keep.

Loaded from ``data/keywords.yaml`` (the campaign team edits it) and validated on load: a
mistake stops with a message naming the file and the field (``queries.fr:tig.rules[1].all[0]``).

Texts and terms are compared after ``enrichers.lexicon.normalize`` — case, accents, Arabic
alef/hamza forms, yaa/alef maqsura, teh marbuta, harakat, tatweel, Arabic-Indic digits,
punctuation — so one spelling of a term finds its variants; Arabic terms also match with their
proclitics (و ف ب ك ل, the article), and a trailing ``*`` matches any ending.

A query (keyword set) keeps an item when one of its rules holds. A rule holds when:

* one of its ``any`` terms occurs;
* every group named in ``all`` occurs too (within ``near`` characters of the ``any`` term
  when ``near`` is set: "43.22" counts only next to a law word);
* no group named in ``none`` occurs (the noise filters: jewellery, traffic fines...);
* ``moroccan: required`` — the post has a Moroccan anchor (the ``morocco`` group, a Moroccan
  domain, or a source known to be Moroccan); ``moroccan: if_foreign`` — the same, but only
  when the post names another country that has alternative sentences (the ``foreign`` group).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from enrichers.lexicon import Lexicon, normalize
from sada import yamlfile
from sada.errors import DataFileError
from sada.settings import REPO_ROOT

KEYWORDS_FILE = REPO_ROOT / "data" / "keywords.yaml"
QUERY_ID = re.compile(r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?$")
RESERVED_QUERIES = ("own", "all")

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    any_: list[Term] = Field(alias="any", min_length=1)
    all_: list[str] = Field(default_factory=list, alias="all")
    none: list[str] = Field(default_factory=list)
    near: int | None = Field(None, ge=1, le=500)
    moroccan: Literal["required", "if_foreign"] | None = None


class _QuerySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    lang: Literal["fr", "ar", "ary", "arabizi", "en", "und"]
    search: list[Term] = Field(default_factory=list)
    hashtags: list[Annotated[str, StringConstraints(pattern=r"^[^\s#]+$")]] = Field(default_factory=list)
    rules: list[_RuleSpec] = Field(min_length=1)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moroccan_domains: list[Term] = Field(default_factory=lambda: [".ma"])


class _KeywordsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    settings: _Settings = Field(default_factory=_Settings)
    groups: dict[str, list[Term] | dict[str, list[Term]]] = Field(default_factory=dict)
    queries: dict[str, _QuerySpec] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    any_label: str
    all_groups: tuple[str, ...] = ()
    none_groups: tuple[str, ...] = ()
    near: int | None = None
    moroccan: str | None = None


@dataclass(frozen=True)
class Query:
    """One keyword set: how to search for it on each platform and how to match it locally."""

    id: str
    description: str
    lang: str
    search: tuple[str, ...]
    hashtags: tuple[str, ...]
    rules: tuple[Rule, ...]

    def search_or(self, *, quote: str = '"', sep: str = " OR ", hashtags: bool = False) -> str:
        """The search phrases joined for a platform's search box (multi-word phrases quoted)."""
        phrases = [f"{quote}{p}{quote}" if " " in p and quote else p for p in self.search]
        if hashtags:
            phrases += [f"#{h}" for h in self.hashtags]
        return sep.join(phrases)


class Keywords:
    """Every keyword set of the file, compiled once."""

    def __init__(self, path: str, queries: dict[str, Query], groups: dict[str, tuple[str, ...]],
                 lexicon: Lexicon, moroccan_domains: tuple[str, ...]) -> None:
        self.path = path
        self.queries = queries
        self._groups = groups
        self._lexicon = lexicon
        self.moroccan_domains = moroccan_domains

    def __contains__(self, query_id: str) -> bool:
        return query_id in self.queries

    def get(self, query_id: str) -> Query:
        try:
            return self.queries[query_id]
        except KeyError:
            raise DataFileError(self.path, f"queries.{query_id}",
                                f"no such keyword set; defined: {', '.join(self.queries)}") from None

    def match(self, query_id: str, text: str, *, moroccan_context: bool = False) -> bool:
        """Does the keyword set keep this text (title and body)?"""
        return self._matches(self.get(query_id), normalize(text), moroccan_context)

    def matching(self, text: str, *, moroccan_context: bool = False,
                 among: Iterable[str] | None = None) -> list[str]:
        """Every keyword set that keeps this text, in file order."""
        norm = normalize(text)
        ids = list(among) if among is not None else list(self.queries)
        return [q for q in ids if self._matches(self.queries[q], norm, moroccan_context)]

    def first_match(self, text: str, *, moroccan_context: bool = False) -> str | None:
        norm = normalize(text)
        for query in self.queries.values():
            if self._matches(query, norm, moroccan_context):
                return query.id
        return None

    def is_moroccan_host(self, host: str | None) -> bool:
        if not host:
            return False
        host = host.lower().split(":")[0].removeprefix("www.")
        for domain in self.moroccan_domains:
            if domain.startswith("."):
                if host.endswith(domain):
                    return True
            elif host == domain or host.endswith(f".{domain}"):
                return True
        return False

    # -- matching ------------------------------------------------------------------------------

    def _group_hits(self, norm: str, group: str) -> list[int]:
        return [h.start for h in self._lexicon.find(norm, self._groups[group])]

    def _has(self, norm: str, group: str) -> bool:
        return any(self._lexicon.matches(norm, label) for label in self._groups.get(group, ()))

    def _matches(self, query: Query, norm: str, moroccan_context: bool) -> bool:
        for rule in query.rules:
            if self._rule(rule, norm, moroccan_context):
                return True
        return False

    def _rule(self, rule: Rule, norm: str, moroccan_context: bool) -> bool:
        hits = [h.start for h in self._lexicon.find(norm, [rule.any_label])]
        if not hits:
            return False
        if any(self._has(norm, g) for g in rule.none_groups):
            return False
        for group in rule.all_groups:
            if rule.near is None:
                if not self._has(norm, group):
                    return False
            else:
                others = self._group_hits(norm, group)
                if not any(abs(a - b) <= rule.near for a in hits for b in others):
                    return False
        if rule.moroccan == "required" or (rule.moroccan == "if_foreign" and self._has(norm, "foreign")):
            return moroccan_context or self._has(norm, "morocco")
        return True


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load_keywords(path: str | Path = KEYWORDS_FILE) -> Keywords:
    """Read, validate and compile a keywords file; errors name the file and the field."""
    path = Path(path)
    where = _display(path)
    data = yamlfile.read(path, where)
    try:
        spec = _KeywordsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(where, _location(err["loc"]), err["msg"]) from exc

    terms: dict[str, list[str]] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name, value in spec.groups.items():
        if isinstance(value, Mapping):
            labels = []
            for sub, items in value.items():
                terms[f"groups.{name}.{sub}"] = list(items)
                labels.append(f"groups.{name}.{sub}")
            groups[name] = tuple(labels)
        else:
            terms[f"groups.{name}"] = list(value)
            groups[name] = (f"groups.{name}",)

    queries: dict[str, Query] = {}
    for qid, q in spec.queries.items():
        field = f"queries.{qid}"
        if not QUERY_ID.match(qid) or qid in RESERVED_QUERIES:
            raise DataFileError(where, field, "a query id is lowercase ASCII like 'fr:peines_alternatives' "
                                              f"(and not {' or '.join(RESERVED_QUERIES)})")
        rules = []
        for n, r in enumerate(q.rules):
            rfield = f"{field}.rules[{n}]"
            for kind, names in (("all", r.all_), ("none", r.none)):
                for i, g in enumerate(names):
                    if g not in groups:
                        raise DataFileError(where, f"{rfield}.{kind}[{i}]",
                                            f"unknown group {g!r}; defined: {', '.join(groups) or 'none'}")
            if r.near is not None and not r.all_:
                raise DataFileError(where, f"{rfield}.near", "'near' needs groups in 'all' to be near to")
            needed = {"required": ("morocco",), "if_foreign": ("morocco", "foreign")}.get(r.moroccan or "", ())
            for g in needed:
                if g not in groups:
                    raise DataFileError(where, f"{rfield}.moroccan", f"needs a group named {g!r}")
            label = f"{rfield}.any"
            terms[label] = list(r.any_)
            rules.append(Rule(label, tuple(r.all_), tuple(r.none), r.near, r.moroccan))
        queries[qid] = Query(qid, q.description, q.lang, tuple(q.search), tuple(q.hashtags), tuple(rules))

    lexicon = Lexicon(Path(where), terms)  # compiles every term; errors name label[n]
    return Keywords(where, queries, groups, lexicon, tuple(d.lower() for d in spec.settings.moroccan_domains))


@lru_cache(maxsize=4)
def keywords(path: str | None = None) -> Keywords:
    """The validated keywords file, read once per process and path."""
    return load_keywords(path or KEYWORDS_FILE)
