"""Exceptions of the template side; they carry the context a user needs to fix input.

Messages quote what the user gave through :func:`excerpt`, so a huge or deeply
nested value (a hostile source, a runaway list) yields a short line, never the
repr of the whole value.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["MAX_EXCERPT", "MAX_MESSAGE", "MergeConflictError", "OptionsError", "SourceError", "WatchbotError", "clip",
           "excerpt"]

#: Longest quoted value, in characters (the repr of anything longer is cut in the middle).
MAX_EXCERPT = 80
#: Longest error message part (a problem, an allowed-values text), in characters.
MAX_MESSAGE = 1000

_SMALL_VALUES = 40  # containers with fewer items are quoted whole when their repr is short


class _BoundedRepr(reprlib.Repr):
    """reprlib with room for typical option values; a repr that fails is described instead."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 5
        self.maxdict = 4
        self.maxstring = MAX_EXCERPT - 20
        self.maxlong = 40
        self.maxother = MAX_EXCERPT

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:  # more digits than int->str conversion allows
            return f"<int of {x.bit_length()} bits>"


_BOUNDED = _BoundedRepr()


def excerpt(value: Any) -> str:
    """The repr of value when it is short, else a bounded excerpt of it (never the whole of a huge value).

    Short values keep their exact repr (dict keys in the order given), so
    everyday messages read as before.
    """
    if _is_small(value):
        try:
            text = repr(value)
        except ValueError:
            text = ""
        if text and len(text) <= MAX_EXCERPT:
            return text
    text = _BOUNDED.repr(value)
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT - 4] + " ..."


def _is_small(value: Any) -> bool:
    """True when value has few parts, found without walking more than a few of them."""
    budget = _SMALL_VALUES
    pending = [value]
    while pending:
        item = pending.pop()
        budget -= 1
        if budget < 0:
            return False
        if isinstance(item, str | bytes):
            if len(item) > MAX_EXCERPT:
                return False
        elif isinstance(item, dict):
            if len(item) > _SMALL_VALUES:
                return False
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            if len(item) > _SMALL_VALUES:
                return False
            pending.extend(item)
    return True


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """Text on one line and at most about limit characters, cut in the middle when longer."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    single = lines[0].strip() + (" ..." if len(lines) > 1 else "") if lines else ""
    if len(single) <= limit:
        return single
    head = limit * 2 // 3
    tail = limit - head - 5
    return f"{single[:head]} ... {single[-tail:]}"


class WatchbotError(Exception):
    """Base of every error this package raises on purpose."""


class OptionsError(WatchbotError, ValueError):
    """An option is missing, unknown, or has a value that is not allowed.

    ``option`` names the option (snake_case), ``value`` is what was given and
    ``allowed`` says what would have been accepted. The message quotes an
    excerpt of the value; the attributes keep the whole of it.
    """

    def __init__(self, option: str, value: Any, allowed: str, hint: str = "") -> None:
        self.option = option
        self.value = value
        self.allowed = allowed
        self.hint = hint
        message = f"option {excerpt(option)}: got {excerpt(value)}; {clip(allowed)}"
        if hint:
            message += f" ({clip(hint)})"
        super().__init__(message)


class MergeConflictError(WatchbotError, ValueError):
    """Two templates define the same key of a section differently."""

    def __init__(self, section: str, key: str, detail: str = "") -> None:
        self.section = section
        self.key = key
        self.detail = detail
        super().__init__(f"merge conflict: {section} {excerpt(key)} "
                         + (clip(detail) if detail else "is defined twice with different content"))


class SourceError(WatchbotError):
    """A source file (TOML, YAML, JSON or Python) cannot be turned into a template.

    ``origin`` names the file or module; the message is one line that starts
    with it, and says where (line, column) when the parser knows.
    """

    def __init__(self, origin: str, problem: str) -> None:
        self.origin = origin
        self.problem = problem
        super().__init__(f"{clip(origin, MAX_EXCERPT * 4)}: {clip(problem)}")
