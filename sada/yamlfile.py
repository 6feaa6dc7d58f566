"""YAML for the data files people edit: safe, and a key written twice is an error.

PyYAML keeps the last of two equal keys without a word, so a second ``fr:`` list under one
concept silently dropped the first (115 French posts lost a concept that way). Every loader of
an editable data file reads through :func:`read`, which turns a missing file, invalid YAML and
a duplicate key (with its two lines) into a ``DataFileError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from sada.errors import DataFileError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BASE):  # type: ignore[misc,valid-type]
    """The safe loader (the C parser when available), refusing duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if first is not key_node:
                raise ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"found the key {key!r} twice (line {first.start_mark.line + 1} and line "
                    f"{key_node.start_mark.line + 1}); the second would silently replace the first: merge them",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """Parse YAML text like ``yaml.safe_load``, but fail on a key written twice in one mapping."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def read(path: str | Path, where: str | None = None) -> Any:
    """The YAML of a data file, or a ``DataFileError`` naming it (``where``: how to name it,
    the path by default) when it is missing or not valid YAML."""
    where = str(path) if where is None else where
    try:
        return load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFileError(where, "(file)", "not found") from exc
    except yaml.YAMLError as exc:
        raise DataFileError(where, "(file)", f"not valid YAML: {exc}") from exc
