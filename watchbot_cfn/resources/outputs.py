"""Placeholder builder: filled in by its own change."""

from __future__ import annotations

from typing import Any

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options


def build(options: Options, names: Names) -> list[Any]:
    return []
