"""Rule files: one YAML file per rule under ``data/alerts/rules/``, validated before anything runs.

A rule file names a registered rule type and gives the options that type declares; common
fields (severity, cooldown, filter, delivery) are the same for every type. Every error names
the file and the field, e.g. ``data/alerts/rules/spike.yaml: options.ratio: Input should be
greater than 1``.

```yaml
name: volume-spike
type: volume_spike            # looked up in alerts.registry.RULE_TYPES
severity: warning             # info | warning | critical (a type may raise it)
cooldown: 2h                  # no second page for the same rule + key within this delay
filter: {relevant_only: true, langs: [fr, ar, ary]}
options: {window: 1h, min_count: 20, ratio: 3}
```
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from alerts.model import Severity
from alerts.timefmt import parse_duration
from sada import yamlfile
from sada.errors import DataFileError
from sada.model import LANGS, TOPICS, Mention, Platform
from sada.settings import REPO_ROOT

if TYPE_CHECKING:
    from alerts.rules.base import RuleType

DATA_DIR = REPO_ROOT / "data" / "alerts"
RULES_DIR = DATA_DIR / "rules"

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")


def location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(root)"


class RuleFilter(BaseModel):
    """Which mentions a rule counts. Mentions the relevance enricher marked off-topic are out."""

    model_config = ConfigDict(extra="forbid")

    relevant_only: bool = Field(True, description="drop mentions labelled relevant=false (unlabelled ones count)")
    langs: list[str] | None = None
    platforms: list[str] | None = None
    sources: list[str] | None = Field(None, description="exact names, or a prefix ending with '*'")
    topics: list[str] | None = None

    @field_validator("langs")
    @classmethod
    def _langs(cls, v: list[str] | None) -> list[str] | None:
        return _subset(v, LANGS, "language")

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, v: list[str] | None) -> list[str] | None:
        return _subset(v, tuple(p.value for p in Platform), "platform")

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str] | None) -> list[str] | None:
        return _subset(v, TOPICS, "topic")

    def accepts(self, m: Mention) -> bool:
        if self.relevant_only and m.relevant is False:
            return False
        if self.langs is not None and m.lang not in self.langs:
            return False
        if self.platforms is not None and m.platform.value not in self.platforms:
            return False
        if self.sources is not None and not any(
            m.source.startswith(s[:-1]) if s.endswith("*") else m.source == s for s in self.sources
        ):
            return False
        return not (self.topics is not None and not set(m.topics or ()) & set(self.topics))

    def kql(self) -> str:
        """The same filter as a Kibana (KQL) query, so a Discover link shows these mentions."""
        parts = ["not relevant:false"] if self.relevant_only else []
        for fname, values in (("lang", self.langs), ("platform", self.platforms), ("topics", self.topics)):
            if values:
                parts.append(f"{fname}:({' or '.join(kql_value(v) for v in values)})")
        if self.sources:
            parts.append("source:(" + " or ".join(
                s if s.endswith("*") else kql_value(s) for s in self.sources) + ")")
        return " and ".join(parts)


def kql_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _subset(values: list[str] | None, allowed: tuple[str, ...], what: str) -> list[str] | None:
    if values is None:
        return None
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return values


class RuleSpec(BaseModel):
    """The fields every rule file has, whatever its type."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    description: str = ""
    enabled: bool = True
    severity: Severity = "warning"
    cooldown: Duration = Field(timedelta(hours=2), description="no second page for the same rule + key within it")
    resolve_after: Duration | None = Field(None, description="quiet time before an episode is resolved "
                                                             "(default: the cooldown, or the type's own)")
    escalate_sustained: bool = Field(True, description="a condition still true after the cooldown escalates "
                                                       "one severity level instead of falling silent")
    remind_every: Duration | None = Field(timedelta(hours=6), description="reminder while still critical")
    delivery: str | None = Field(None, description="page | summary (default: info → summary, else page)")
    channels: list[str] | None = Field(None, description="channel names from recipients.yaml (default: all)")
    filter: RuleFilter = Field(default_factory=RuleFilter)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use 2-63 lowercase letters, digits, '-' or '_'")
        return v

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, v: timedelta) -> timedelta:
        if v < timedelta(minutes=5):
            raise ValueError("must be at least 5m (episodes are identified by their 5-minute start bucket)")
        return v

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, v: str | None) -> str | None:
        if v is not None and v not in ("page", "summary"):
            raise ValueError("expected 'page' or 'summary'")
        return v

    def delivery_for(self, severity: str) -> str:
        if self.delivery is not None and severity != "critical":
            return self.delivery
        return "summary" if severity == "info" else "page"


def read_yaml(path: Path) -> Any:
    return yamlfile.read(path)


def load_rule_file(path: Path) -> RuleType:
    """Validate one rule file and build its rule; DataFileError names the file and the field."""
    from alerts.registry import resolve_rule_type

    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DataFileError(path, "(root)", "expected a mapping with name, type and options")
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, location(err["loc"]), err["msg"].removeprefix("Value error, ")) from exc
    try:
        rule_type = resolve_rule_type(spec.type)
    except KeyError as exc:
        raise DataFileError(path, "type", str(exc.args[0])) from exc
    try:
        options = rule_type.Options.model_validate(spec.options)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, "options." + location(err["loc"]), err["msg"].removeprefix("Value error, ")) from exc
    try:
        return rule_type(spec, options, path=Path(path))
    except ValueError as exc:
        raise DataFileError(path, "options", str(exc)) from exc


def load_rules(directory: Path = RULES_DIR, *, include_disabled: bool = False) -> list[RuleType]:
    """Every ``*.yaml`` rule file of a folder, validated; names must be unique."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFileError(directory, "(folder)", "no such folder of rule files")
    rules: list[RuleType] = []
    seen: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        rule = load_rule_file(path)
        if rule.name in seen:
            raise DataFileError(path, "name", f"rule name {rule.name!r} is already used by {seen[rule.name]}")
        seen[rule.name] = path
        if rule.spec.enabled or include_disabled:
            rules.append(rule)
    if not rules:
        raise DataFileError(directory, "(folder)", "no enabled rule file (*.yaml)")
    return rules
