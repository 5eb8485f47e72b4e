"""YAML documents checked against a JSON Schema, with the line and column of every key: the one way
every definition file (indicators, schemas/extracts.yaml) is read, so that each problem names its place.

It parses and checks; what the document means is for its caller (load.py, extracts.py).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import jsonschema
import yaml

from kpi.issues import Issue

# libyaml's parser when PyYAML was built with it: the same results, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """A parsed YAML document: its values, where each key and value sits, and each scalar's style."""

    data: Any
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    styles: dict[tuple, str | None] = field(default_factory=dict)


def parse(text: str, shown: str) -> tuple[Document | None, list[Issue]]:
    """The document in `text` (from the file shown as `shown`), and its problems: YAML syntax, duplicate keys.

    Positions are recorded under the key path (`("tests", 0, "period")`) and, for a scalar value, under
    `("__value__", *path)`.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or str(error)
        return None, [Issue(
            "yaml-syntax", f"the file is not valid YAML: {problem}", shown,
            mark.line + 1 if mark else None, mark.column + 1 if mark else None,
            hint="check the indentation and quoting on this line or the one before",
        )]
    finally:
        loader.dispose()
    document = Document(data)
    if node is None:
        return document, []
    return document, _walk(node, (), document.positions, document.styles, shown)


def _walk(node: yaml.Node, path: tuple, positions: dict, styles: dict, shown: str) -> list[Issue]:
    """Record the (line, column) of every key and item; report duplicate keys, which YAML silently merges."""
    issues: list[Issue] = []
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                issues.append(Issue(
                    "duplicate-key", f"key `{'.'.join(map(str, path + (key,)))}` is given twice", shown,
                    key_node.start_mark.line + 1, key_node.start_mark.column + 1, hint="keep one of them",
                ))
            seen.add(key)
            issues.extend(_walk(value_node, path + (key,), positions, styles, shown))
            positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(value_node, yaml.ScalarNode):
                styles[path + (key,)] = value_node.style
                positions[("__value__",) + path + (key,)] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            issues.extend(_walk(item, path + (index,), positions, styles, shown))
    return issues


def plain(value: Any) -> Any:
    """YAML values as JSON would have them (dates become ISO text), for the JSON Schema check."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@lru_cache(maxsize=8)
def _validator(schema_text: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text))


def schema_issues(document: Document, schema: dict, shown: str, schema_name: str) -> list[Issue]:
    """Every way `document` breaks `schema`, in the user's terms, at the line of the key at fault.

    `schema_name` is the schema's file as the user would look it up (named in the hints).
    """
    validator = _validator(json.dumps(schema, sort_keys=True))
    issues = []
    for error in validator.iter_errors(plain(document.data)):
        path = tuple(error.absolute_path)
        message, hint, at = _describe(error, path, schema_name)
        # A document built in memory (kpi.toml's overrides) has no positions to point at.
        line, column = nearest(document.positions, at) if document.positions else (None, None)
        issues.append(Issue("schema", message, shown, line, column, hint=hint))
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0))


def _describe(error: jsonschema.ValidationError, path: tuple, schema_name: str) -> tuple[str, str | None, tuple]:
    """A message for one JSON Schema error, its hint, and the key path to point at.

    Built from the error's fields (validator, validator_value, instance, schema), never from its
    English message, which jsonschema may reword in any release.
    """
    where = ".".join(str(p) for p in path)
    subschema = error.schema if isinstance(error.schema, dict) else {}
    value = ("__value__",) + path
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        known = sorted(subschema.get("properties", {}))
        extras = sorted(set(instance) - set(known)) if isinstance(instance, dict) else []
        key = extras[0] if extras else "?"
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"the keys allowed here are: {', '.join(known)}"
        return f"unknown key `{'.'.join([*map(str, path), key])}`", hint, path + (key,)
    if kind == "required":
        missing = next((k for k in expected if not isinstance(instance, dict) or k not in instance), "?")
        return f"missing required key `{'.'.join([*map(str, path), missing])}`", f"add it: see {schema_name}", path
    if kind == "enum":
        options = ", ".join(map(str, expected))
        close = difflib.get_close_matches(str(instance), [str(o) for o in expected], n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"one of: {options}"
        return f"`{where}` is {instance!r}, which is not one of {options}", hint, value
    if kind == "type":
        wanted = expected if isinstance(expected, str) else " or ".join(expected)
        return f"`{where}` must be {_article(wanted)}, not {instance!r}", None, value
    if kind == "pattern":
        example = {"id": "e.g. `CSC 038` or `CSC 004s`", "period": "e.g. `2017-09`"}.get(str(path[-1]) if path else "", "")
        return f"`{where}` is {instance!r}, which is not in the expected form", f"write it {example}".strip(), value
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most", "exclusiveMaximum": "less than"}[kind]
        return f"`{where}` must be {relation} {expected}, not {instance!r}", None, value
    if kind in ("minLength", "minItems", "minProperties"):
        return f"`{where or 'the file'}` is empty", "give it a value", value
    if kind == "const":
        return f"`{where}` must be {expected!r}, not {instance!r}", None, value
    if kind in ("oneOf", "anyOf") and error.context:
        # Describe the branch the value was meant for: the errors that are not about its type.
        meant = [e for e in error.context if e.validator != "type"] or list(error.context)
        best = max(meant, key=lambda e: len(e.absolute_path))
        return _describe(best, tuple(best.absolute_path), schema_name)
    if kind in ("oneOf", "anyOf"):
        return f"`{where or 'the file'}` is not in any of the forms allowed here", f"see {schema_name}", value
    return f"`{where or 'the file'}` breaks the rule `{kind}` of {schema_name}", f"see {schema_name}", value


def _article(kind: str) -> str:
    return {"number": "a number", "string": "a text", "integer": "a whole number", "array": "a list",
            "object": "a mapping", "boolean": "true or false", "null": "empty"}.get(kind, kind)


def nearest(positions: dict, path: tuple) -> tuple[int, int]:
    """The position of `path`, or of the nearest key above it (a value's position falls back to its key's)."""
    if path[:1] == ("__value__",):
        if path in positions:
            return positions[path]
        path = path[1:]
    while path and path not in positions:
        path = path[:-1]
    return positions.get(path, (1, 1))
