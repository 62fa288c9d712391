"""A small, safe evaluator of CloudWatch metric-math expressions.

Alarms and target-tracking policies may combine metrics with metric math
(``visible + inflight``, ``CEIL(visible / 5) - FILL(running, 0)``, ...). The
simulator must evaluate exactly what the template says, so expressions are
parsed here into a tree and evaluated over time series; nothing is ever handed
to Python's ``eval``. Unsupported functions fail with a message naming them.

Values are time series (one value or None per period, aligned across
metrics), scalars, or arrays of series (``[a, b]``, for ``MIN``/``MAX``/``SUM``/
``AVG`` across metrics). As in CloudWatch, arithmetic on a missing datapoint
gives a missing datapoint (``FILL`` replaces them), division by zero gives a
missing datapoint, and ``MAX(m)`` of a single series is a scalar over the
series while ``MAX([a, b])`` is a series.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from watchbot_cfn.errors import WatchbotError

__all__ = ["ExpressionError", "Series", "SeriesArray", "evaluate", "parse", "referenced_ids"]

Series = list[float | None]


class ExpressionError(WatchbotError, ValueError):
    """An expression cannot be parsed, or uses something the simulator does not evaluate."""


# --- syntax tree ------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


Node = Number | Name | Unary | Binary | Call | Array

# --- tokens -----------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|==|!=|&&|\|\||[-+*/^()<>,\[\]!])
    )""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"expression {text!r}: unexpected {text[position:].strip()[:10]!r} "
                                  f"at character {position + 1}")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent, lowest precedence first: OR, AND, comparison, + -, * /, unary, ^."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("expression is empty")
        node = self._or()
        if self.index != len(self.tokens):
            raise ExpressionError(f"expression {self.text!r}: unexpected {self.tokens[self.index][1]!r}")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise ExpressionError(f"expression {self.text!r}: ends too early"
                                  + (f"; expected {expected!r}" if expected else ""))
        token = self.tokens[self.index]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expression {self.text!r}: expected {expected!r}, got {token[1]!r}")
        self.index += 1
        return token

    def _binary(self, operators: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        node = operand()
        while (self._peek() or "").upper() in operators:
            op = self._take()[1].upper()
            node = Binary({"&&": "AND", "||": "OR"}.get(op, op), node, operand())
        return node

    def _or(self) -> Node:
        return self._binary(("OR", "||"), self._and)

    def _and(self) -> Node:
        return self._binary(("AND", "&&"), self._comparison)

    def _comparison(self) -> Node:
        return self._binary(("<", ">", "<=", ">=", "==", "!="), self._additive)

    def _additive(self) -> Node:
        return self._binary(("+", "-"), self._multiplicative)

    def _multiplicative(self) -> Node:
        return self._binary(("*", "/"), self._unary)

    def _unary(self) -> Node:
        token = (self._peek() or "").upper()
        if token in ("-", "+", "!", "NOT"):
            self._take()
            return Unary("NOT" if token in ("!", "NOT") else token, self._unary())
        return self._power()

    def _power(self) -> Node:
        node = self._atom()
        if self._peek() == "^":
            self._take()
            return Binary("^", node, self._unary())
        return node

    def _atom(self) -> Node:
        kind, text = self._take()
        if kind == "number":
            return Number(float(text))
        if kind == "name":
            if self._peek() == "(":
                self._take("(")
                args: list[Node] = []
                if self._peek() != ")":
                    args.append(self._or())
                    while self._peek() == ",":
                        self._take(",")
                        args.append(self._or())
                self._take(")")
                return Call(text.upper(), tuple(args))
            return Name(text)
        if text == "(":
            node = self._or()
            self._take(")")
            return node
        if text == "[":
            items = [self._or()]
            while self._peek() == ",":
                self._take(",")
                items.append(self._or())
            self._take("]")
            return Array(tuple(items))
        raise ExpressionError(f"expression {self.text!r}: unexpected {text!r}")


def parse(text: str) -> Node:
    """The syntax tree of a metric-math expression; unsupported functions are refused here."""
    node = _Parser(text).parse()
    _check_functions(node)
    return node


def _check_functions(node: Node) -> None:
    if isinstance(node, Call):
        if node.function not in _FUNCTIONS:
            raise ExpressionError(f"metric-math function {node.function}() is not supported by the simulator "
                                  f"(supported: + - * / ^, comparisons, AND, OR, NOT, {', '.join(_FUNCTIONS)})")
        for arg in node.args:
            _check_functions(arg)
    elif isinstance(node, Unary):
        _check_functions(node.operand)
    elif isinstance(node, Binary):
        _check_functions(node.left)
        _check_functions(node.right)
    elif isinstance(node, Array):
        for item in node.items:
            _check_functions(item)


def referenced_ids(node: Node) -> set[str]:
    """Query ids an expression reads (keywords such as REPEAT excluded)."""
    if isinstance(node, Name):
        return set() if node.name.upper() in _KEYWORDS else {node.name}
    if isinstance(node, Unary):
        return referenced_ids(node.operand)
    if isinstance(node, Binary):
        return referenced_ids(node.left) | referenced_ids(node.right)
    if isinstance(node, Call):
        return set().union(*(referenced_ids(arg) for arg in node.args)) if node.args else set()
    if isinstance(node, Array):
        return set().union(*(referenced_ids(item) for item in node.items))
    return set()


# --- evaluation -------------------------------------------------------------------

_KEYWORDS = frozenset({"REPEAT", "LINEAR"})


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _power(a: float, b: float) -> float | None:
    try:
        result = a ** b
    except (OverflowError, ZeroDivisionError):
        return None
    return result if isinstance(result, float | int) else None


_ARITHMETIC: dict[str, Callable[[float, float], float | None]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "^": _power,
    "<": lambda a, b: float(a < b),
    ">": lambda a, b: float(a > b),
    "<=": lambda a, b: float(a <= b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}

_ELEMENTWISE: dict[str, Callable[[float], float | None]] = {
    "CEIL": lambda x: float(math.ceil(x)),
    "FLOOR": lambda x: float(math.floor(x)),
    "ABS": abs,
    "SQRT": lambda x: math.sqrt(x) if x >= 0 else None,
}

_REDUCE: dict[str, Callable[[list[float]], float]] = {
    "MIN": min,
    "MAX": max,
    "SUM": sum,
    "AVG": lambda values: sum(values) / len(values),
}

_FUNCTIONS = (*_ELEMENTWISE, *_REDUCE, "FILL", "IF", "PERIOD")


def evaluate(node: Node, series: Mapping[str, Series], periods: Mapping[str, int] | None = None) -> Series:
    """Evaluate an expression over aligned series; a scalar result becomes a constant series."""
    length = len(next(iter(series.values()))) if series else 1
    value = _Evaluator(series, periods or {}, length).value(node)
    if isinstance(value, SeriesArray):
        raise ExpressionError("an expression must give one time series, not an array of them")
    if isinstance(value, float):
        return [None if _is_nan(value) else value] * length
    return [None if x is None or _is_nan(x) else x for x in value]


@dataclass(frozen=True)
class SeriesArray:
    """``[a, b, ...]``: several series side by side, for MIN/MAX/SUM/AVG across metrics."""

    members: tuple[Series, ...]


#: A scalar (NaN: no value), a series, or an array of series.
Value = float | Series | SeriesArray


class _Evaluator:
    def __init__(self, series: Mapping[str, Series], periods: Mapping[str, int], length: int) -> None:
        self.series = series
        self.periods = periods
        self.length = length

    def value(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Name):
            if node.name not in self.series:
                raise ExpressionError(f"expression refers to {node.name!r}, which is no metric or expression id "
                                      "of this alarm")
            return list(self.series[node.name])
        if isinstance(node, Unary):
            operand = self._plain(self.value(node.operand), node.op)
            if node.op == "-":
                return self._map(operand, lambda x: -x)
            if node.op == "NOT":
                return self._map(operand, lambda x: float(not x))
            return operand
        if isinstance(node, Binary):
            return self._combine(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, Array):
            return SeriesArray(tuple(self._as_series(self._plain(self.value(item), "[...]"))
                                     for item in node.items))
        return self._call(node)

    # helpers --------------------------------------------------------------------

    def _as_series(self, value: float | Series) -> Series:
        return [value] * self.length if isinstance(value, float) else value

    @staticmethod
    def _plain(value: Value, where: str) -> float | Series:
        if isinstance(value, SeriesArray):
            raise ExpressionError(f"{where}: an array of time series is only allowed in MIN, MAX, SUM or AVG")
        return value

    @staticmethod
    def _map(value: float | Series, function: Callable[[float], float | None]) -> float | Series:
        if isinstance(value, float):
            result = function(value) if not _is_nan(value) else None
            return math.nan if result is None else result
        return [None if x is None else function(x) for x in value]

    def _combine(self, op: str, left: Value, right: Value) -> Value:
        a = self._plain(left, op)
        b = self._plain(right, op)
        function = _ARITHMETIC[op]
        if isinstance(a, float) and isinstance(b, float):
            result = None if _is_nan(a) or _is_nan(b) else function(a, b)
            return math.nan if result is None else result
        xs = self._as_series(a)
        ys = self._as_series(b)
        return [None if x is None or y is None or _is_nan(x) or _is_nan(y) else function(x, y)
                for x, y in zip(xs, ys, strict=True)]

    def _call(self, node: Call) -> Value:
        name, args = node.function, node.args
        if name in _ELEMENTWISE:
            self._arity(name, args, 1)
            return self._map(self._plain(self.value(args[0]), name), _ELEMENTWISE[name])
        if name in _REDUCE:
            return self._reduce(name, args)
        if name == "FILL":
            return self._fill(args)
        if name == "IF":
            return self._if(args)
        if name == "PERIOD":
            self._arity(name, args, 1)
            target = args[0]
            if not isinstance(target, Name) or target.name not in self.periods:
                raise ExpressionError("PERIOD() takes the id of a metric of this alarm")
            return float(self.periods[target.name])
        raise ExpressionError(f"metric-math function {name}() is not supported by the simulator")

    @staticmethod
    def _arity(name: str, args: tuple[Node, ...], count: int) -> None:
        if len(args) != count:
            raise ExpressionError(f"{name}() takes {count} argument{'s' if count != 1 else ''}, got {len(args)}")

    def _reduce(self, name: str, args: tuple[Node, ...]) -> Value:
        if not args:
            raise ExpressionError(f"{name}() needs an argument")
        values = [self.value(arg) for arg in args]
        reduce = _REDUCE[name]
        if len(values) == 1:
            only = values[0]
            if isinstance(only, float):
                return only
            if isinstance(only, list):
                # One series: a scalar over its datapoints, as CloudWatch defines it.
                present = [x for x in only if x is not None and not _is_nan(x)]
                return reduce(present) if present else math.nan
        # An array, or several arguments: across the series, period by period.
        members: list[Series] = []
        for value in values:
            if isinstance(value, SeriesArray):
                members.extend(value.members)
            else:
                members.append(self._as_series(value))
        result: Series = []
        for column in zip(*members, strict=True):
            present = [x for x in column if x is not None and not _is_nan(x)]
            result.append(reduce(present) if present else None)
        return result

    def _fill(self, args: tuple[Node, ...]) -> Value:
        self._arity("FILL", args, 2)
        source = self._as_series(self._plain(self.value(args[0]), "FILL"))
        how = args[1]
        if isinstance(how, Name) and how.name.upper() == "REPEAT":
            filled: Series = []
            last: float | None = None
            for x in source:
                last = x if x is not None else last
                filled.append(last)
            return filled
        if isinstance(how, Name) and how.name.upper() == "LINEAR":
            return _linear(source)
        value = self._plain(self.value(how), "FILL")
        if isinstance(value, float):
            return [value if x is None else x for x in source]
        return [y if x is None else x for x, y in zip(source, value, strict=True)]

    def _if(self, args: tuple[Node, ...]) -> Value:
        if len(args) not in (2, 3):
            raise ExpressionError(f"IF() takes 2 or 3 arguments, got {len(args)}")
        condition = self._as_series(self._plain(self.value(args[0]), "IF"))
        then = self._as_series(self._plain(self.value(args[1]), "IF"))
        otherwise = (self._as_series(self._plain(self.value(args[2]), "IF")) if len(args) == 3
                     else [None] * self.length)
        return [None if c is None else (t if c else e) for c, t, e in zip(condition, then, otherwise, strict=True)]


def _is_nan(value: float) -> bool:
    return value != value


def _linear(source: Series) -> Series:
    """Interpolate gaps between known points; gaps at the ends take the nearest known value."""
    known = [i for i, x in enumerate(source) if x is not None]
    if not known:
        return list(source)
    result = list(source)
    for i in range(len(source)):
        if result[i] is not None:
            continue
        before = max((k for k in known if k < i), default=None)
        after = min((k for k in known if k > i), default=None)
        if before is None:
            result[i] = source[after]  # type: ignore[index]
        elif after is None:
            result[i] = source[before]
        else:
            low, high = source[before], source[after]
            assert low is not None and high is not None
            result[i] = low + (high - low) * (i - before) / (after - before)
    return result
