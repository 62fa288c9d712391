"""Exceptions of the template side; they carry the context a user needs to fix input."""

from __future__ import annotations

from typing import Any

__all__ = ["MergeConflictError", "OptionsError", "SourceError", "WatchbotError"]


class WatchbotError(Exception):
    """Base of every error this package raises on purpose."""


class OptionsError(WatchbotError, ValueError):
    """An option is missing, unknown, or has a value that is not allowed.

    ``option`` names the option (snake_case), ``value`` is what was given and
    ``allowed`` says what would have been accepted.
    """

    def __init__(self, option: str, value: Any, allowed: str, hint: str = "") -> None:
        self.option = option
        self.value = value
        self.allowed = allowed
        self.hint = hint
        message = f"option {option!r}: got {value!r}; {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class MergeConflictError(WatchbotError, ValueError):
    """Two templates define the same key of a section differently."""

    def __init__(self, section: str, key: str, detail: str = "") -> None:
        self.section = section
        self.key = key
        self.detail = detail
        super().__init__(f"merge conflict: {section} {key!r} "
                         + (detail or "is defined twice with different content"))


class SourceError(WatchbotError):
    """A source file (TOML, YAML, JSON or Python) cannot be turned into a template.

    ``origin`` names the file or module; the message is one line that starts
    with it, and says where (line, column) when the parser knows.
    """

    def __init__(self, origin: str, problem: str) -> None:
        self.origin = origin
        self.problem = problem
        super().__init__(f"{origin}: {problem}")
