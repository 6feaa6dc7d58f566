"""Kibana: the shipped saved objects, their offline validation, their import, Discover links.

* ``infra/kibana/saved_objects.ndjson`` holds the data views, saved searches, Lens
  visualizations and the dashboard (Kibana 8.19 saved-object format; regenerate it with
  ``python infra/kibana/build_saved_objects.py``).
* :func:`validate_objects` checks it without Kibana: one JSON object per line, references that
  resolve inside the file, attributes Kibana's import accepts, KQL that parses (the subset
  below), and every field used — saved search query, columns, sort and filters; Lens columns'
  ``sourceField``; data view time field and formats — present in the mapping of the index the
  data view points at, read from the real template files (or from a live index).
* :func:`import_saved_objects` posts the file to Kibana's saved objects import API and then
  sets the advanced settings the objects assume (``dateFormat:tz`` = ``SADA_TIMEZONE``,
  ``defaultIndex``). Credentials come from ``SADA_KIBANA_USERNAME``/``SADA_KIBANA_PASSWORD``
  or ``SADA_KIBANA_API_KEY`` and are never printed.
* :func:`discover_url` builds a Discover deep link (time range + KQL) for alerts and the digest.

KQL subset understood here (enough for the shipped objects, and refused loudly beyond it):
``field:value``, ``field:"a phrase"``, ``field:*``, ``field:(a or b)``, ``field >= value``,
free text, ``and``/``or``/``not`` and parentheses. It translates to the query DSL the way
Kibana does (``match``, ``match_phrase``, ``exists``, ``range``, ``multi_match``), so a saved
search can be executed against Elasticsearch in tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sada.errors import ConfigError, ServiceError
from sada.model import ENTITY_IDS, LANGS, MYTHS, SCRIPTS, STANCES, TOPICS, TOXICITY, Kind, Platform
from sada.settings import REPO_ROOT, Settings

SAVED_OBJECTS_FILE = REPO_ROOT / "infra" / "kibana" / "saved_objects.ndjson"
MENTIONS_DATA_VIEW = "sada-mentions"
ALERTS_DATA_VIEW = "sada-alerts"
CLUSTERS_DATA_VIEW = "sada-clusters"

# Data view title (an index pattern, before the index prefix) → the template that maps it.
DATA_VIEW_INDICES = {"mentions": "mentions", "alerts": "alerts", "clusters": "clusters"}

# Label ids a query may compare a field with (TAXONOMY.md), per index.
ALLOWED_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "mentions": {
        "lang": LANGS, "script": SCRIPTS, "topics": TOPICS, "myths": MYTHS, "stance": STANCES,
        "toxicity": TOXICITY, "platform": tuple(p.value for p in Platform), "kind": tuple(k.value for k in Kind),
        "relevant": ("true", "false"), "entities.id": ENTITY_IDS,
    },
    "alerts": {"status": ("new", "acknowledged", "resolved"), "myths": MYTHS, "topics": TOPICS},
    "clusters": {"myths": MYTHS, "topics": TOPICS, "languages": LANGS,
                 "platforms": tuple(p.value for p in Platform)},
}

# Attributes each type's import schema accepts (Kibana 8.19; `search` at model version 5).
ATTRIBUTES: dict[str, frozenset[str]] = {
    "index-pattern": frozenset({"title", "name", "timeFieldName", "fields", "fieldFormatMap", "fieldAttrs",
                                "runtimeFieldMap", "sourceFilters", "typeMeta", "allowNoIndex", "allowHidden"}),
    "search": frozenset({"title", "description", "columns", "sort", "grid", "rowHeight", "rowsPerPage", "hideChart",
                         "breakdownField", "kibanaSavedObjectMeta", "isTextBasedQuery", "usesAdHocDataView",
                         "timeRestore", "timeRange", "refreshInterval", "viewMode", "hideAggregatedPreview", "hits",
                         "version", "sampleSize", "headerRowHeight", "visContext", "density"}),
    "lens": frozenset({"title", "description", "visualizationType", "state"}),
    "dashboard": frozenset({"title", "description", "hits", "timeRestore", "timeFrom", "timeTo", "refreshInterval",
                            "controlGroupInput", "panelsJSON", "optionsJSON", "version", "kibanaSavedObjectMeta"}),
}
MIGRATION_VERSIONS = {"index-pattern": "8.0.0", "search": "10.5.0", "lens": "8.9.0", "dashboard": "10.3.0"}
META_FIELDS = frozenset({"_id", "_index", "_score", "_source"})
RECORDS_FIELD = "___records___"

NUMERIC = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                     "unsigned_long"})
AGGREGATABLE = NUMERIC | {"keyword", "boolean", "date", "date_nanos", "ip", "constant_keyword"}
LENS_OPERATIONS: dict[str, frozenset[str] | None] = {
    "date_histogram": frozenset({"date", "date_nanos"}),
    "terms": AGGREGATABLE - {"date", "date_nanos"},
    "unique_count": AGGREGATABLE,
    "last_value": AGGREGATABLE,
    "count": None,  # any field, or ___records___
    **{op: NUMERIC for op in ("sum", "avg", "median", "percentile", "standard_deviation")},
    **{op: NUMERIC | {"date", "date_nanos"} for op in ("min", "max")},
}


class KibanaError(ServiceError):
    """Kibana refused or could not take the saved objects."""

    code = "SADA210"


# -- KQL --------------------------------------------------------------------------------------

class KqlError(ConfigError):
    """A KQL query outside the supported subset, or not KQL at all."""

    code = "SADA110"


@dataclass(frozen=True)
class Kql:
    """A parsed KQL node: ``op`` is or/and/not/is/exists/range; ``field`` None means free text."""

    op: str
    children: tuple[Kql, ...] = ()
    field: str | None = None
    value: str | None = None
    phrase: bool = False
    range_op: str | None = None


_SPECIAL = set('\\():<>"*{}')
_KEYWORD_AHEAD = re.compile(r"\s+(or|and)\s+|\s*$|\s+not\s+", re.IGNORECASE)
_FIELD = re.compile(r"\s*([A-Za-z0-9_@.\-]+)\s*(:|<=|>=|<|>)")
_RANGE_OPS = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}


class _KqlParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, what: str) -> KqlError:
        return KqlError(f"KQL {self.s!r}: {what} at character {self.i + 1}")

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def keyword(self, word: str, leading_space: bool = True) -> bool:
        pattern = (r"\s+" if leading_space else r"\s*") + word + r"(?=\s|\(|$)"
        m = re.compile(pattern, re.IGNORECASE).match(self.s, self.i)
        if not m:
            return False
        self.i = m.end()
        return True

    def parse(self) -> Kql | None:
        self.ws()
        if self.i >= len(self.s):
            return None
        node = self.or_expr(self.clause)
        self.ws()
        if self.i < len(self.s):
            raise self.fail("unexpected text (expected and, or, or the end)")
        return node

    def or_expr(self, leaf) -> Kql:
        parts = [self.and_expr(leaf)]
        while self.keyword("or"):
            parts.append(self.and_expr(leaf))
        return parts[0] if len(parts) == 1 else Kql("or", tuple(parts))

    def and_expr(self, leaf) -> Kql:
        parts = [self.not_expr(leaf)]
        while self.keyword("and"):
            parts.append(self.not_expr(leaf))
        return parts[0] if len(parts) == 1 else Kql("and", tuple(parts))

    def not_expr(self, leaf) -> Kql:
        self.ws()
        if self.keyword("not", leading_space=False):
            return Kql("not", (self.not_expr(leaf),))
        if self.s.startswith("(", self.i):
            self.i += 1
            node = self.or_expr(leaf)
            self.ws()
            if not self.s.startswith(")", self.i):
                raise self.fail("missing )")
            self.i += 1
            return node
        return leaf()

    def clause(self) -> Kql:
        self.ws()
        m = _FIELD.match(self.s, self.i)
        if m:
            name, op = m.group(1), m.group(2)
            self.i = m.end()
            if op != ":":
                value, phrase, _ = self.literal()
                if phrase is None:
                    raise self.fail(f"missing value after {op}")
                return Kql("range", field=name, value=value, range_op=_RANGE_OPS[op])
            self.ws()
            if self.s.startswith("{", self.i):
                raise self.fail("nested field queries are not supported")
            if not self.s.startswith("(", self.i):
                return self.value_for(name)
            self.i += 1  # field:(a or b): the group holds values of this field only
            node = self.or_expr(lambda: self.value_for(name))
            self.ws()
            if not self.s.startswith(")", self.i):
                raise self.fail("missing )")
            self.i += 1
            return node
        value, phrase, wildcard = self.literal()
        if phrase is None:
            raise self.fail("expected a field, a value or (")
        if wildcard:
            raise self.fail("wildcards in free text are not supported")
        return Kql("is", value=value, phrase=phrase)

    def value_for(self, name: str) -> Kql:
        value, phrase, wildcard = self.literal()
        if phrase is None:
            raise self.fail(f"missing value for {name}")
        if wildcard:
            if value == "*":
                return Kql("exists", field=name)
            raise self.fail("partial wildcards are not supported")
        return Kql("is", field=name, value=value, phrase=phrase)

    def literal(self) -> tuple[str, bool | None, bool]:
        """(value, is_phrase or None when there is no value, has_wildcard)."""
        self.ws()
        if self.s.startswith('"', self.i):
            self.i += 1
            out = []
            while self.i < len(self.s) and self.s[self.i] != '"':
                if self.s[self.i] == "\\" and self.i + 1 < len(self.s):
                    self.i += 1
                out.append(self.s[self.i])
                self.i += 1
            if self.i >= len(self.s):
                raise self.fail("unterminated quoted value")
            self.i += 1
            return "".join(out), True, False
        out, wildcard = [], False
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            if c == "*":
                wildcard = True
                out.append(c)
                self.i += 1
                continue
            if c in _SPECIAL:
                break
            if c.isspace() and _KEYWORD_AHEAD.match(self.s, self.i):
                break
            out.append(c)
            self.i += 1
        value = "".join(out).strip()
        return value, (False if value else None), wildcard


def parse_kql(query: str) -> Kql | None:
    """Parse a KQL query of the supported subset; None for an empty query."""
    return _KqlParser(query).parse()


def kql_fields(node: Kql | None) -> set[str]:
    """The field names a parsed query uses (free text uses none)."""
    if node is None:
        return set()
    found = {node.field} if node.field else set()
    for child in node.children:
        found |= kql_fields(child)
    return found


def kql_comparisons(node: Kql | None) -> list[tuple[str, str]]:
    """(field, value) pairs compared by equality, to check values against the taxonomy."""
    if node is None:
        return []
    pairs = [(node.field, node.value)] if node.op == "is" and node.field and node.value is not None else []
    for child in node.children:
        pairs.extend(kql_comparisons(child))
    return pairs


def kql_to_dsl(node: Kql | None) -> dict[str, Any]:
    """The Elasticsearch query Kibana sends for a parsed KQL query."""
    if node is None:
        return {"match_all": {}}
    if node.op == "or":
        return {"bool": {"should": [kql_to_dsl(c) for c in node.children], "minimum_should_match": 1}}
    if node.op == "and":
        return {"bool": {"filter": [kql_to_dsl(c) for c in node.children]}}
    if node.op == "not":
        return {"bool": {"must_not": [kql_to_dsl(node.children[0])]}}
    if node.op == "exists":
        return {"exists": {"field": node.field}}
    if node.op == "range":
        return {"range": {node.field: {node.range_op: node.value}}}
    if node.field is None:
        return {"multi_match": {"type": "phrase" if node.phrase else "best_fields", "query": node.value,
                                "lenient": True}}
    return {"match_phrase" if node.phrase else "match": {node.field: node.value}}


def kql_quote(value: str) -> str:
    """A value quoted for KQL, whatever it contains (for links built from user text)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- rison and Discover links -----------------------------------------------------------------

_RISON_ID = re.compile(r"^[^-0-9 '!:(),*@$][^ '!:(),*@$]*$")


def rison_dumps(value: Any) -> str:
    """Rison encoding (as Kibana's rison-node: object keys sorted)."""
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int | float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, str):
        if value and _RISON_ID.match(value):
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{rison_dumps(str(k))}:{rison_dumps(v)}" for k, v in sorted(value.items())) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison_dumps(v) for v in value) + ")"
    raise TypeError(f"cannot rison-encode {type(value).__name__}")


class _RisonReader:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def error(self, what: str) -> ValueError:
        return ValueError(f"rison: {what} at {self.i} in {self.s!r}")

    def value(self) -> Any:
        if self.i >= len(self.s):
            raise self.error("unexpected end")
        c = self.s[self.i]
        if c == "!":
            nxt = self.s[self.i + 1:self.i + 2]
            self.i += 2
            if nxt == "(":
                items = []
                while not self.s.startswith(")", self.i):
                    items.append(self.value())
                    if self.s.startswith(",", self.i):
                        self.i += 1
                self.i += 1
                return items
            consts = {"n": None, "t": True, "f": False}
            if nxt in consts:
                return consts[nxt]
            raise self.error(f"unknown !{nxt}")
        if c == "(":
            self.i += 1
            obj = {}
            while not self.s.startswith(")", self.i):
                key = self.value()
                if not self.s.startswith(":", self.i):
                    raise self.error("expected :")
                self.i += 1
                obj[key] = self.value()
                if self.s.startswith(",", self.i):
                    self.i += 1
            self.i += 1
            return obj
        if c == "'":
            self.i += 1
            out = []
            while True:
                if self.i >= len(self.s):
                    raise self.error("unterminated string")
                ch = self.s[self.i]
                if ch == "'":
                    self.i += 1
                    return "".join(out)
                if ch == "!":
                    self.i += 1
                    ch = self.s[self.i]
                out.append(ch)
                self.i += 1
        m = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?").match(self.s, self.i)
        if m and c in "-0123456789":
            self.i = m.end()
            text = m.group(0)
            return float(text) if any(x in text for x in ".eE") else int(text)
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in " '!:(),*@$":
            self.i += 1
        if self.i == start:
            raise self.error(f"unexpected {c!r}")
        return self.s[start:self.i]


def rison_loads(text: str) -> Any:
    """Decode rison (for tests and for reading links back)."""
    reader = _RisonReader(text)
    value = reader.value()
    if reader.i != len(text):
        raise reader.error("trailing text")
    return value


# Characters Kibana writes unescaped in its own URLs; everything else (spaces, &, #, %, +, =,
# quotes of the query, non-ASCII) is percent-encoded so user text cannot break the link.
_URL_SAFE = "!'(),:*-._~@$/"


def _iso(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment  # date math such as "now-24h"
    if moment.tzinfo is None:
        raise ValueError("discover_url needs timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def discover_url(base_url: str, query: str, start: datetime | str, end: datetime | str, *,
                 data_view_id: str = MENTIONS_DATA_VIEW, columns: Iterable[str] = (),
                 sort: Iterable[tuple[str, str]] = (("published_at", "desc"),), language: str = "kuery") -> str:
    """A Discover link showing ``query`` (KQL) between ``start`` and ``end``.

    ``base_url`` is Kibana's public address, with the space if any (``https://kb/s/ncsc``).
    Build the query from user text with :func:`kql_quote`.
    """
    g = {"filters": [], "refreshInterval": {"pause": True, "value": 0},
         "time": {"from": _iso(start), "to": _iso(end)}}
    a = {"columns": list(columns), "filters": [], "index": data_view_id, "interval": "auto",
         "query": {"language": language, "query": query}, "sort": [[f, d] for f, d in sort]}
    return (f"{base_url.rstrip('/')}/app/discover#/?_g={quote(rison_dumps(g), safe=_URL_SAFE)}"
            f"&_a={quote(rison_dumps(a), safe=_URL_SAFE)}")


# -- saved objects: reading and validation ----------------------------------------------------

@dataclass
class Problems:
    """What is wrong with a saved objects file, each entry naming the line and the object."""

    items: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def __bool__(self) -> bool:
        return bool(self.items)


def load_ndjson(path: Path = SAVED_OBJECTS_FILE) -> tuple[list[dict[str, Any]], Problems]:
    """The objects of an NDJSON file, and the lines that are not one JSON object each."""
    objects: list[dict[str, Any]] = []
    problems = Problems()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            problems.add(f"{path.name}:{number}", "blank line (Kibana's import refuses it)")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(f"{path.name}:{number}", f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(obj, dict):
            problems.add(f"{path.name}:{number}", "not a JSON object")
            continue
        obj["_line"] = number
        objects.append(obj)
    return objects, problems


def flatten_mapping(properties: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"author.handle": "keyword", "text.fr": "text", ...}`` from mapping properties."""
    fields: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            fields[path] = spec.get("type", "object")
            fields.update(flatten_mapping(spec["properties"], f"{path}."))
        else:
            fields[path] = spec.get("type", "object")
        for sub, subspec in (spec.get("fields") or {}).items():
            fields[f"{path}.{sub}"] = subspec.get("type", "object")
    return fields


def template_fields() -> dict[str, dict[str, str]]:
    """The fields of each index, read from the template files (what a fresh install maps)."""
    from sada.indices import template_body

    return {name: flatten_mapping(template_body(name)["mappings"]["properties"]) for name in DATA_VIEW_INDICES}


def live_fields(es, settings: Settings) -> dict[str, dict[str, str]]:
    """The fields of each index as a running Elasticsearch maps them (union over indices)."""
    out: dict[str, dict[str, str]] = {}
    for title, name in DATA_VIEW_INDICES.items():
        resp = es.indices.get_mapping(index=settings.index(name))
        merged: dict[str, str] = {}
        for body in resp.values():
            merged.update(flatten_mapping(body["mappings"].get("properties", {})))
        out[title] = merged
    return out


def _json_attr(obj: dict, key: str, where: str, problems: Problems, default: Any = None) -> Any:
    raw = obj.get("attributes", {}).get(key)
    if raw is None:
        return default
    if not isinstance(raw, str):
        problems.add(where, f"attributes.{key} must be a JSON string")
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.add(where, f"attributes.{key} is not JSON: {exc.msg}")
        return default


def _search_source(obj: dict, where: str, problems: Problems) -> dict[str, Any]:
    meta = obj.get("attributes", {}).get("kibanaSavedObjectMeta") or {}
    raw = meta.get("searchSourceJSON")
    if raw is None:
        return {}
    try:
        source = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        problems.add(where, "kibanaSavedObjectMeta.searchSourceJSON is not a JSON string")
        return {}
    return source if isinstance(source, dict) else {}


def _filter_fields(flt: dict[str, Any]) -> set[str]:
    """Fields a Kibana filter pill touches: meta.key and the field names of its query DSL."""
    found = set()
    key = (flt.get("meta") or {}).get("key")
    if key:
        found.add(key)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for op, body in node.items():
                if op in ("match", "match_phrase", "term", "terms", "range", "prefix", "wildcard") \
                        and isinstance(body, dict):
                    found.update(k for k in body if k not in ("boost",))
                elif op == "exists" and isinstance(body, dict) and "field" in body:
                    found.add(body["field"])
                else:
                    walk(body)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(flt.get("query", {k: v for k, v in flt.items() if k not in ("meta", "$state")}))
    return found


class _Validator:
    def __init__(self, objects: list[dict[str, Any]], fields: Mapping[str, Mapping[str, str]],
                 problems: Problems) -> None:
        self.objects = objects
        self.fields = fields
        self.p = problems
        self.by_key = {(o.get("type"), o.get("id")): o for o in objects}

    def where(self, obj: dict[str, Any]) -> str:
        title = obj.get("attributes", {}).get("title", "")
        return f"line {obj.get('_line', '?')} {obj.get('type')} {obj.get('id')!r} «{title}»"

    def index_of(self, data_view_id: str) -> str | None:
        dv = self.by_key.get(("index-pattern", data_view_id))
        return None if dv is None else DATA_VIEW_INDICES.get(dv.get("attributes", {}).get("title", ""))

    def check_field(self, where: str, index: str | None, name: str, what: str,
                    types: frozenset[str] | None = None) -> None:
        if index is None or name in META_FIELDS:
            return
        mapped = self.fields.get(index, {})
        if name not in mapped:
            self.p.add(where, f"{what} uses field {name!r}, absent from the {index} mapping")
        elif types is not None and mapped[name] not in types:
            self.p.add(where, f"{what} uses field {name!r} of type {mapped[name]}, expected {'/'.join(sorted(types))}")

    def check_kql(self, where: str, index: str | None, query: Any, what: str) -> None:
        if not isinstance(query, dict):
            return
        if query.get("language", "kuery") != "kuery":
            self.p.add(where, f"{what}: only KQL (language kuery) is supported, found {query.get('language')!r}")
            return
        try:
            node = parse_kql(query.get("query") or "")
        except KqlError as exc:
            self.p.add(where, f"{what}: {exc}")
            return
        for name in sorted(kql_fields(node)):
            self.check_field(where, index, name, what)
        allowed = ALLOWED_VALUES.get(index or "", {})
        for name, value in kql_comparisons(node):
            if name in allowed and value.lower() not in allowed[name]:
                self.p.add(where, f"{what}: {name}:{value} is not a TAXONOMY id ({', '.join(allowed[name])})")

    def check_filters(self, where: str, index: str | None, filters: Any, refs: set[str]) -> None:
        for i, flt in enumerate(filters or []):
            if not isinstance(flt, dict):
                self.p.add(where, f"filter #{i} is not an object")
                continue
            ref = (flt.get("meta") or {}).get("indexRefName")
            if ref and ref not in refs:
                self.p.add(where, f"filter #{i} names reference {ref!r}, absent from the object's references")
            for name in sorted(_filter_fields(flt)):
                self.check_field(where, index, name, f"filter #{i}")

    def run(self) -> None:
        seen: set[tuple[str, str]] = set()
        for obj in self.objects:
            where = self.where(obj)
            kind, ident = obj.get("type"), obj.get("id")
            if not isinstance(kind, str) or not isinstance(ident, str) or not ident:
                self.p.add(where, "needs a string type and a non-empty string id")
                continue
            if (kind, ident) in seen:
                self.p.add(where, "duplicate type and id")
            seen.add((kind, ident))
            if kind not in ATTRIBUTES:
                self.p.add(where, f"type {kind!r} is not one Sada ships ({', '.join(ATTRIBUTES)})")
                continue
            attrs = obj.get("attributes")
            if not isinstance(attrs, dict) or not attrs.get("title"):
                self.p.add(where, "needs attributes with a title")
                continue
            unknown = set(attrs) - ATTRIBUTES[kind]
            if unknown:
                self.p.add(where, f"attributes Kibana's import would refuse: {sorted(unknown)}")
            if obj.get("typeMigrationVersion") != MIGRATION_VERSIONS[kind]:
                self.p.add(where, f"typeMigrationVersion must be {MIGRATION_VERSIONS[kind]!r} (the schema the "
                                  "attributes follow)")
            refs = obj.get("references")
            if not isinstance(refs, list):
                self.p.add(where, "references must be a list")
                continue
            for ref in refs:
                target = (ref.get("type"), ref.get("id"))
                if target not in self.by_key:
                    self.p.add(where, f"reference {ref.get('name')!r} → {target[0]} {target[1]!r} "
                                      "is not in the file")
            getattr(self, "check_" + kind.replace("-", "_"))(obj, where, {r.get("name") for r in refs})

    def ref_target(self, obj: dict[str, Any], name: str) -> str | None:
        for ref in obj.get("references", []):
            if ref.get("name") == name:
                return ref.get("id")
        return None

    def check_index_pattern(self, obj: dict[str, Any], where: str, refs: set[str]) -> None:
        attrs = obj["attributes"]
        index = DATA_VIEW_INDICES.get(attrs.get("title", ""))
        if index is None:
            self.p.add(where, f"title {attrs.get('title')!r} is not an index Sada maps ({', '.join(DATA_VIEW_INDICES)})")
            return
        if attrs.get("timeFieldName"):
            self.check_field(where, index, attrs["timeFieldName"], "timeFieldName", frozenset({"date", "date_nanos"}))
        for key in ("fieldFormatMap", "fieldAttrs"):
            for name in _json_attr(obj, key, where, self.p, {}) or {}:
                self.check_field(where, index, name, key)

    def check_search(self, obj: dict[str, Any], where: str, refs: set[str]) -> None:
        attrs = obj["attributes"]
        source = _search_source(obj, where, self.p)
        ref_name = source.get("indexRefName")
        if not ref_name or ref_name not in refs:
            self.p.add(where, "searchSourceJSON.indexRefName must name one of the object's references")
            return
        index = self.index_of(self.ref_target(obj, ref_name) or "")
        if index is None:
            self.p.add(where, "its data view is not a Sada data view in the file")
            return
        self.check_kql(where, index, source.get("query"), "query")
        self.check_filters(where, index, source.get("filter"), refs)
        for name in attrs.get("columns", []):
            self.check_field(where, index, name, "column")
        for entry in attrs.get("sort", []):
            if isinstance(entry, list) and entry:
                self.check_field(where, index, entry[0], "sort", AGGREGATABLE)

    def check_lens(self, obj: dict[str, Any], where: str, refs: set[str]) -> None:
        state = obj["attributes"].get("state") or {}
        layers = ((state.get("datasourceStates") or {}).get("formBased") or {}).get("layers") or {}
        if not layers:
            self.p.add(where, "a Lens visualization needs state.datasourceStates.formBased.layers")
        columns_seen: set[str] = set()
        index = None
        for layer_id, layer in layers.items():
            ref = f"indexpattern-datasource-layer-{layer_id}"
            if ref not in refs:
                self.p.add(where, f"layer {layer_id!r} has no reference {ref!r}")
                continue
            index = self.index_of(self.ref_target(obj, ref) or "")
            columns = layer.get("columns") or {}
            if set(layer.get("columnOrder") or []) != set(columns):
                self.p.add(where, f"layer {layer_id!r}: columnOrder and columns differ")
            for col_id, col in columns.items():
                columns_seen.add(col_id)
                op = col.get("operationType")
                if op not in LENS_OPERATIONS:
                    self.p.add(where, f"column {col_id!r}: operation {op!r} is not one Sada uses")
                    continue
                source = col.get("sourceField")
                if source != RECORDS_FIELD:
                    self.check_field(where, index, source or "", f"column {col_id!r} ({op})", LENS_OPERATIONS[op])
                order = (col.get("params") or {}).get("orderBy") or {}
                if order.get("type") == "column" and order.get("columnId") not in columns:
                    self.p.add(where, f"column {col_id!r} is ordered by a column absent from its layer")
                if isinstance(col.get("filter"), dict):
                    self.check_kql(where, index, col["filter"], f"column {col_id!r} filter")
        self.check_kql(where, index, state.get("query"), "query")
        self.check_filters(where, index, state.get("filters"), refs)
        vis = state.get("visualization") or {}
        used = set()
        for layer in vis.get("layers") or [vis]:
            used |= {layer.get(k) for k in ("xAccessor", "splitAccessor", "accessor", "metricAccessor")}
            used |= set(layer.get("accessors") or [])
            used |= {c.get("columnId") for c in layer.get("columns") or []}
        used.discard(None)
        for col_id in sorted(used - columns_seen):
            self.p.add(where, f"the visualization shows column {col_id!r}, defined in no layer")

    def check_dashboard(self, obj: dict[str, Any], where: str, refs: set[str]) -> None:
        panels = _json_attr(obj, "panelsJSON", where, self.p, [])
        _json_attr(obj, "optionsJSON", where, self.p, {})
        source = _search_source(obj, where, self.p)
        self.check_filters(where, None, source.get("filter"), refs)
        for panel in panels or []:
            index = panel.get("panelIndex")
            grid = panel.get("gridData") or {}
            if not index or grid.get("i") != index or not all(isinstance(grid.get(k), int) for k in "xywh"):
                self.p.add(where, f"panel {index!r} needs a panelIndex equal to gridData.i and integer x, y, w, h")
            name = panel.get("panelRefName")
            if not name or f"{index}:{name}" not in refs:
                self.p.add(where, f"panel {index!r} has no reference {index}:{name}")
                continue
            for ref in obj["references"]:
                if ref.get("name") == f"{index}:{name}" and ref.get("type") != panel.get("type"):
                    self.p.add(where, f"panel {index!r} is a {panel.get('type')} but refers to a {ref.get('type')}")


def validate_objects(objects: list[dict[str, Any]], fields: Mapping[str, Mapping[str, str]] | None = None,
                     problems: Problems | None = None) -> Problems:
    """Check saved objects against the mappings ``fields`` (default: the template files)."""
    problems = problems if problems is not None else Problems()
    _Validator(objects, fields if fields is not None else template_fields(), problems).run()
    return problems


def validate_file(path: Path = SAVED_OBJECTS_FILE,
                  fields: Mapping[str, Mapping[str, str]] | None = None) -> tuple[list[dict[str, Any]], Problems]:
    objects, problems = load_ndjson(path)
    validate_objects(objects, fields, problems)
    return objects, problems


def saved_search_query(obj: dict[str, Any], time_field: str | None = None) -> dict[str, Any]:
    """The Elasticsearch query a saved search runs: its KQL, its enabled filters and, when it
    restores a time range (``timeRestore``) and ``time_field`` is given, that range."""
    attrs = obj["attributes"]
    source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    query = source.get("query") or {}
    clauses: list[dict[str, Any]] = [kql_to_dsl(parse_kql(query.get("query") or ""))]
    if time_field and attrs.get("timeRestore") and attrs.get("timeRange"):
        clauses.append({"range": {time_field: {"gte": attrs["timeRange"]["from"], "lte": attrs["timeRange"]["to"]}}})
    negated: list[dict[str, Any]] = []
    for flt in source.get("filter") or []:
        meta = flt.get("meta") or {}
        if meta.get("disabled"):
            continue
        dsl = flt.get("query") or {k: v for k, v in flt.items() if k not in ("meta", "$state")}
        (negated if meta.get("negate") else clauses).append(dsl)
    return {"bool": {"filter": clauses, "must_not": negated}}


def render_objects(objects: Iterable[dict[str, Any]], index_prefix: str = "") -> str:
    """The NDJSON to upload: line numbers dropped, data view titles carrying the index prefix."""
    lines = []
    for obj in objects:
        out = {k: v for k, v in obj.items() if k != "_line"}
        if out.get("type") == "index-pattern" and index_prefix:
            out["attributes"] = {**out["attributes"], "title": index_prefix + out["attributes"]["title"]}
        lines.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n"


# -- import -----------------------------------------------------------------------------------

class KibanaSettings(BaseSettings):
    """Kibana access, from ``SADA_KIBANA_*`` (secrets never printed)."""

    model_config = SettingsConfigDict(env_prefix="SADA_KIBANA_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    url: str | None = Field(None, description="Kibana's address, e.g. https://kibana.example:5601")
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    ca_certs: str | None = Field(None, description="CA bundle for Kibana over TLS")
    space: str | None = Field(None, description="Kibana space id; default space when unset")


@dataclass
class ImportReport:
    success_count: int
    objects: int
    settings: dict[str, Any]
    warnings: list[str]


def _auth(kb: KibanaSettings) -> tuple[dict[str, str], tuple[str, str] | None]:
    if kb.api_key is not None:
        return {"Authorization": f"ApiKey {kb.api_key.get_secret_value()}"}, None
    if kb.username and kb.password is not None:
        return {}, (kb.username, kb.password.get_secret_value())
    return {}, None


def _base(url: str, space: str | None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {url!r}", hint="pass Kibana's address, e.g. https://kibana:5601")
    if parts.username or parts.password:
        raise ConfigError("credentials in the Kibana URL would be logged and kept in shell history",
                          hint="set SADA_KIBANA_USERNAME/SADA_KIBANA_PASSWORD or SADA_KIBANA_API_KEY instead")
    base = url.rstrip("/")
    if space and space != "default":
        if not re.fullmatch(r"[a-z0-9_\-]+", space):
            raise ConfigError(f"not a Kibana space id: {space!r}", hint="lowercase letters, digits, _ and -")
        base += f"/s/{space}"
    return base


def _kibana_message(resp) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:300]


_HINTS = {
    401: "check SADA_KIBANA_USERNAME/SADA_KIBANA_PASSWORD or SADA_KIBANA_API_KEY",
    403: "the user needs the saved objects management privilege (and advanced settings for dateFormat:tz)",
    404: "check the URL (and the space): it does not look like Kibana",
    413: "the file is larger than Kibana's savedObjects.maxImportPayloadBytes",
}


def _post(session, url: str, *, what: str, **kwargs) -> Any:
    import requests

    try:
        resp = session.post(url, timeout=kwargs.pop("timeout", 60), **kwargs)
    except requests.RequestException as exc:
        raise KibanaError(f"cannot reach Kibana for {what}: {type(exc).__name__}",
                          hint="check the URL, the network and SADA_KIBANA_CA_CERTS") from None
    if resp.status_code >= 400:
        raise KibanaError(f"Kibana answered {resp.status_code} to {what}: {_kibana_message(resp)}",
                          hint=_HINTS.get(resp.status_code, "see Kibana's log"))
    try:
        return resp.json()
    except ValueError:
        raise KibanaError(f"Kibana's answer to {what} is not JSON", hint="check the URL: is it Kibana?") from None


def import_saved_objects(url: str, path: Path = SAVED_OBJECTS_FILE, *, kibana: KibanaSettings | None = None,
                         settings: Settings | None = None, space: str | None = None,
                         apply_settings: bool = True, timeout: float = 60.0) -> ImportReport:
    """Import the saved objects (overwriting Sada's own) and apply the settings they assume.

    Refuses a file that does not validate offline. Raises KibanaError with Kibana's reasons
    when the import fails, in whole or in part.
    """
    import requests

    kb = kibana or KibanaSettings()
    settings = settings or Settings()
    objects, problems = validate_file(path)
    if problems:
        raise ConfigError(f"{path} does not validate ({len(problems.items)} problems, first: {problems.items[0]})",
                          hint="run `sada kibana validate` for the list")
    base = _base(url, space or kb.space)
    headers, auth = _auth(kb)
    headers["kbn-xsrf"] = "sada"
    payload = render_objects(objects, settings.index_prefix).encode("utf-8")
    with requests.Session() as session:
        session.headers.update(headers)
        session.auth = auth
        session.verify = kb.ca_certs or True
        body = _post(session, f"{base}/api/saved_objects/_import", what="the saved objects import",
                     params={"overwrite": "true"}, timeout=timeout,
                     files={"file": (path.name, payload, "application/ndjson")})
        if not isinstance(body, dict) or not body.get("success"):
            errors = body.get("errors", []) if isinstance(body, dict) else []
            details = "; ".join(
                f"{e.get('type')} {e.get('id')!r} «{(e.get('meta') or {}).get('title') or e.get('title', '')}»: "
                f"{(e.get('error') or {}).get('type')}"
                + (f" {[r.get('id') for r in (e.get('error') or {}).get('references', [])]}"
                   if (e.get('error') or {}).get("references") else "")
                + (f" {(e.get('error') or {}).get('message')}" if (e.get('error') or {}).get("message") else "")
                for e in errors[:10])
            raise KibanaError(f"Kibana imported {body.get('successCount', 0) if isinstance(body, dict) else 0} "
                              f"of {len(objects)} objects; {len(errors)} failed: {details}",
                              hint="fix the objects named above, then import again (it overwrites)")
        warnings = [str(w.get("message", w)) for w in body.get("warnings", [])]
        applied: dict[str, Any] = {}
        if apply_settings:
            changes = {"dateFormat:tz": settings.timezone, "defaultIndex": MENTIONS_DATA_VIEW}
            _post(session, f"{base}/api/kibana/settings", what="the advanced settings", json={"changes": changes},
                  timeout=timeout)
            applied = changes
    return ImportReport(int(body.get("successCount", 0)), len(objects), applied, warnings)
