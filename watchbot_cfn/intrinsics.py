"""Recognise CloudFormation intrinsics given as troposphere objects or plain dicts.

Options read from TOML/YAML/JSON files carry intrinsics as dicts such as
``{"Ref": "GitSha"}``; wrapping them lets troposphere accept them wherever it
accepts its own helper objects.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn

from watchbot_cfn.cfn import INTRINSIC_FUNCTIONS

__all__ = ["RawIntrinsic", "Verbatim", "as_cfn", "is_intrinsic", "is_intrinsic_dict"]


class RawIntrinsic(AWSHelperFn):
    """An intrinsic function given as a plain dict, e.g. read from a TOML file."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"RawIntrinsic({self.data!r})"


class Verbatim(AWSHelperFn):
    """CloudFormation given as plain, already checked data (a placement object, say), written as is."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Verbatim({self.data!r})"


def is_intrinsic_dict(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSIC_FUNCTIONS


def is_intrinsic(value: Any) -> bool:
    """True for troposphere helper objects and for dicts shaped like one intrinsic call."""
    return isinstance(value, AWSHelperFn) or is_intrinsic_dict(value)


def as_cfn(value: Any) -> Any:
    """Wrap a dict intrinsic so troposphere accepts it; leave everything else alone."""
    if is_intrinsic_dict(value):
        return RawIntrinsic(value)
    return value
