"""A small CloudWatch Logs filter-pattern matcher, to check real log lines against the metric filters.

Covers the three pattern kinds the template uses:

- terms: ``ERROR``, ``"quoted phrase"`` (substring, case-sensitive), all must
  appear; ``?a ?b`` matches if any appears; ``-term`` excludes;
- JSON: ``{ $.a = "x" && ($.b > 3 || $.c = *) }`` with ``= != < <= > >=``,
  ``*`` globs in strings, ``IS NULL``, ``NOT EXISTS``, ``EXISTS``, ``IS TRUE``,
  ``IS FALSE``;
- space-delimited: ``[a, b=lit, c>=3, ..., d]``: the line is split on spaces,
  a ``[bracketed]`` or ``"quoted"`` run counts as one field with the brackets
  or quotes removed; ``...`` stands for any number of fields; without it the
  field counts must agree.

``metric_value`` extracts a value as CloudWatch would (``$name``, ``$.path``,
or a literal number). Syntax it does not know raises ``UnsupportedPattern``
rather than guessing, so a test can never pass by accident.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["UnsupportedPattern", "matches", "metric_value", "split_fields"]


class UnsupportedPattern(ValueError):
    pass


_MISSING = object()


# --- helpers -------------------------------------------------------------------

def _glob(pattern: str, text: str) -> bool:
    """CloudWatch ``*`` wildcards: any run of characters; nothing else is special."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(actual: Any, op: str, expected: str, quoted: bool) -> bool:
    """Compare one field value (str from a line, or a JSON value) with a pattern literal."""
    if actual is _MISSING or actual is None:
        return False
    if op in ("=", "!=") and (quoted or _number(expected) is None):
        if expected == "*":
            result = True  # any value: the "field exists" idiom
        elif isinstance(actual, str):
            result = _glob(expected, actual)
        else:
            return False  # a string pattern never matches a number or a boolean
        return result if op == "=" else not result
    number = _number(expected)
    if number is None:
        raise UnsupportedPattern(f"operator {op} needs a number, got {expected!r}")
    if isinstance(actual, bool):
        return False
    if isinstance(actual, str):
        parsed = _number(actual)
        if parsed is None:
            return False
        actual = parsed
    if not isinstance(actual, (int, float)):
        return False
    return {"=": actual == number, "!=": actual != number, "<": actual < number, "<=": actual <= number,
            ">": actual > number, ">=": actual >= number}[op]


# --- terms -----------------------------------------------------------------------

def _term_tokens(pattern: str) -> list[tuple[str, str]]:
    tokens = []
    for match in re.finditer(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))', pattern):
        prefix, quoted, bare = match.groups()
        text = quoted.replace('\\"', '"') if quoted is not None else bare
        if bare is not None and not re.fullmatch(r"[A-Za-z0-9_]+", bare):
            raise UnsupportedPattern(f"unquoted term {bare!r} has characters CloudWatch requires quoted")
        tokens.append((prefix, text))
    return tokens


def _match_terms(pattern: str, line: str) -> bool:
    tokens = _term_tokens(pattern)
    if not tokens:
        return True
    optional = [text for prefix, text in tokens if prefix == "?"]
    if optional:
        if len(optional) != len(tokens):
            raise UnsupportedPattern("mixing ?terms with other terms")
        return any(text in line for text in optional)
    return all((text not in line) if prefix == "-" else (text in line) for prefix, text in tokens)


# --- JSON ------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'\s*(?:(&&|\|\||\(|\)|!=|<=|>=|=|<|>)|"((?:[^"\\]|\\.)*)"|(\$[^\s=!<>()&|]*)|'
                         r'(IS\s+NULL|NOT\s+EXISTS|EXISTS|IS\s+TRUE|IS\s+FALSE)\b|([^\s=!<>()&|"]+))')


def _json_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _JSON_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnsupportedPattern(f"cannot read JSON pattern at {text[position:]!r}")
        operator, quoted, selector, postfix, bare = match.groups()
        if operator:
            tokens.append(("op", operator))
        elif quoted is not None:
            tokens.append(("str", quoted.replace('\\"', '"')))
        elif selector:
            tokens.append(("sel", selector))
        elif postfix:
            tokens.append(("post", " ".join(postfix.split())))
        else:
            tokens.append(("bare", bare))
        position = match.end()
    return tokens


def _select(document: Any, selector: str) -> Any:
    if not selector.startswith("$"):
        raise UnsupportedPattern(f"selector must start with $, got {selector!r}")
    value = document
    for name, index in re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", selector[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


class _JsonParser:
    def __init__(self, tokens: list[tuple[str, str]], document: Any) -> None:
        self.tokens, self.position, self.document = tokens, 0, document

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise UnsupportedPattern("JSON pattern ends too early")
        self.position += 1
        return token

    def parse(self) -> bool:
        result = self.disjunction()
        if self.peek() is not None:
            raise UnsupportedPattern(f"unexpected {self.peek()!r} in JSON pattern")
        return result

    def disjunction(self) -> bool:
        result = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.atom()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.atom()
            result = result and right
        return result

    def atom(self) -> bool:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            result = self.disjunction()
            if self.take() != ("op", ")"):
                raise UnsupportedPattern("missing )")
            return result
        if kind != "sel":
            raise UnsupportedPattern(f"expected a $.selector, got {text!r}")
        value = _select(self.document, text)
        kind, operator = self.take()
        if kind == "post":
            return {"IS NULL": value is None, "NOT EXISTS": value is _MISSING, "EXISTS": value is not _MISSING,
                    "IS TRUE": value is True, "IS FALSE": value is False}[operator]
        if kind != "op" or operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise UnsupportedPattern(f"expected a comparison after {text}, got {operator!r}")
        kind, literal = self.take()
        if kind not in ("str", "bare"):
            raise UnsupportedPattern(f"expected a value, got {literal!r}")
        return _compare(value, operator, literal, quoted=kind == "str")


def _load_json(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return _MISSING


def _match_json(pattern: str, line: str) -> bool:
    document = _load_json(line)
    if document is _MISSING or not isinstance(document, (dict, list)):
        return False
    return _JsonParser(_json_tokens(pattern.strip()[1:-1]), document).parse()


# --- space-delimited ---------------------------------------------------------------

def split_fields(line: str) -> list[str]:
    """Split a log line into fields the way space-delimited filters see them."""
    fields, position = [], 0
    while position < len(line):
        if line[position] == " ":
            position += 1
            continue
        opener = line[position]
        closer = {"[": "]", '"': '"'}.get(opener)
        if closer:
            end = line.find(closer, position + 1)
            if end >= 0 and (end + 1 == len(line) or line[end + 1] == " "):
                fields.append(line[position + 1:end])
                position = end + 1
                continue
        end = line.find(" ", position)
        end = len(line) if end < 0 else end
        fields.append(line[position:end])
        position = end
    return fields


_FIELD_SPEC = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:(!=|<=|>=|=|<|>)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+)))?\s*$')


def _field_specs(pattern: str) -> list[tuple[str, str | None, str | None, bool] | None]:
    body = pattern.strip()[1:-1]
    if "&&" in body or "||" in body:
        raise UnsupportedPattern("&& and || inside space-delimited fields")
    specs: list[tuple[str, str | None, str | None, bool] | None] = []
    for part in re.findall(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+', body):
        if part.strip() == "...":
            specs.append(None)
            continue
        match = _FIELD_SPEC.match(part)
        if not match:
            raise UnsupportedPattern(f"cannot read field {part!r}")
        name, operator, quoted, bare = match.groups()
        specs.append((name, operator, quoted if quoted is not None else bare, quoted is not None))
    return specs


def _bind(specs, fields: list[str]) -> dict[str, str] | None:
    """Backtracking match of field specs (None = ``...``) against fields."""
    def walk(i: int, j: int, bound: dict[str, str]) -> dict[str, str] | None:
        if i == len(specs):
            return bound if j == len(fields) else None
        spec = specs[i]
        if spec is None:
            for k in range(j, len(fields) + 1):
                found = walk(i + 1, k, bound)
                if found is not None:
                    return found
            return None
        if j >= len(fields):
            return None
        name, operator, literal, quoted = spec
        if operator is not None and not _compare(fields[j], operator, literal or "", quoted):
            return None
        return walk(i + 1, j + 1, {**bound, name: fields[j]})
    return walk(0, 0, {})


def _match_fields(pattern: str, line: str) -> dict[str, str] | None:
    return _bind(_field_specs(pattern), split_fields(line))


# --- public ------------------------------------------------------------------------

def _kind(pattern: str) -> str:
    stripped = pattern.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        return "json"
    if stripped.startswith("[") and stripped.endswith("]"):
        return "fields"
    return "terms"


def matches(pattern: str, line: str) -> bool:
    """Whether CloudWatch would count ``line`` for a filter with ``pattern``."""
    kind = _kind(pattern)
    if kind == "json":
        return _match_json(pattern, line)
    if kind == "fields":
        return _match_fields(pattern, line) is not None
    return _match_terms(pattern, line)


def metric_value(pattern: str, value: str, line: str) -> float | None:
    """The value a metric filter publishes for ``line``; None if it does not match or the value is not numeric."""
    if not matches(pattern, line):
        return None
    if value.startswith("$."):
        found = _select(_load_json(line), value)
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            return _number(found) if isinstance(found, str) else None
        return float(found)
    if value.startswith("$"):
        if _kind(pattern) != "fields":
            raise UnsupportedPattern(f"{value} needs a space-delimited pattern")
        bound = _match_fields(pattern, line) or {}
        return _number(bound[value[1:]]) if value[1:] in bound else None
    return _number(value)
