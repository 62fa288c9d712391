"""Helpers for template-side tests: valid base options and rendered dicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options

#: The smallest valid option set; tests override what they examine.
REQUIRED: dict[str, Any] = {
    "cluster": "processing",
    "service": "my-worker",
    "service_version": "0123abcd",
    "command": "python -m worker",
    "notification_email": "ops@example.com",
}

SUBNETS = ["subnet-0123abcd", "subnet-4567ef01"]
SECURITY_GROUPS = ["sg-0123456789abcdef0"]
FARGATE: dict[str, Any] = {"capacity": "FARGATE", "fargate_subnets": SUBNETS}


def options(**overrides: Any) -> Options:
    return Options.build(**{**REQUIRED, **overrides})


def names_for(built: Options) -> Names:
    return Names.of(built)


def rendered(builder: Any, **overrides: Any) -> dict[str, dict[str, Any]]:
    """Run one builder and return {logical id: CloudFormation dict} of what it made."""
    built = options(**overrides)
    return {item.title: item.to_dict() for item in builder(built, names_for(built))}


def properties(builder: Any, logical_id: str, **overrides: Any) -> dict[str, Any]:
    return rendered(builder, **overrides)[logical_id]["Properties"]


def walk(value: Any) -> Iterator[Any]:
    """Every dict, list and scalar nested in value, depth first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
