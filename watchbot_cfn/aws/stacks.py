"""Find the Watchbot systems of a deployed stack, for every tool that works on one (send, local,
``watchbot-dead-letter``): the stack's template says which systems it holds
(:mod:`watchbot_cfn.analysis.systems` reads this project's, the original's and Watchbot 10's), its resource list
gives their physical ids. Nothing depends on outputs a user may have removed.

boto3 and troposphere are not imported here: callers pass a CloudFormation client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from watchbot_cfn.analysis.systems import System, systems_in_stack
from watchbot_cfn.aws.errors import error_code, error_message
from watchbot_cfn.errors import WatchbotError

__all__ = ["PrefixNeeded", "StackError", "System", "find_systems", "pick_system", "resource_summaries",
           "stack_template"]


class StackError(WatchbotError):
    """The stack or the system cannot be used; the message says why and what to do."""


class PrefixNeeded(StackError):
    """Several systems and no way to ask which: the command line must say (a usage error)."""


def stack_template(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's template as data; None when this caller may not read it (the resource list still works)."""
    from botocore.exceptions import ClientError

    try:
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    except ClientError as error:
        if _missing(error):
            raise _not_found(cloudformation, stack_name) from None
        if error_code(error) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return None
        raise
    if isinstance(body, dict):  # botocore parses JSON bodies itself
        return body
    try:
        loaded = json.loads(body)
    except ValueError:
        from watchbot_cfn.sources.cfnyaml import load_yaml

        loaded = load_yaml(body)
    return loaded if isinstance(loaded, dict) else None


def resource_summaries(cloudformation: Any, stack_name: str) -> list[dict[str, Any]]:
    """Every ListStackResources summary of the stack (all pages)."""
    from botocore.exceptions import ClientError

    summaries: list[dict[str, Any]] = []
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            summaries.extend(page.get("StackResourceSummaries", []))
    except ClientError as error:
        if _missing(error):
            raise _not_found(cloudformation, stack_name) from None
        raise
    return summaries


def find_systems(cloudformation: Any, stack_name: str) -> list[System]:
    """Every Watchbot system of ``stack_name``; an error naming the stack when it holds none."""
    summaries = resource_summaries(cloudformation, stack_name)
    systems = systems_in_stack(stack_template(cloudformation, stack_name), summaries)
    if not systems:
        raise StackError(f"stack {stack_name!r} holds no Watchbot system (no work queue with a dead-letter queue "
                         "beside it)")
    return systems


def pick_system(systems: list[System], prefix: str | None,
                ask: Callable[[list[System]], System] | None = None) -> System:
    """The system named by ``prefix``, the only one, or the one ``ask`` picks (None: cannot ask)."""
    available = ", ".join(system.prefix for system in systems)
    if prefix is not None:
        for system in systems:
            if system.prefix == prefix:
                return system
        raise StackError(f"--prefix {prefix!r} names no Watchbot system in this stack; it holds: {available}")
    if len(systems) == 1:
        return systems[0]
    if ask is None:
        raise PrefixNeeded(f"the stack holds {len(systems)} Watchbot systems ({available}): pass --prefix to pick one")
    return ask(systems)


def _missing(error: Any) -> bool:
    return "does not exist" in error_message(error)


def _not_found(cloudformation: Any, stack_name: str) -> StackError:
    region = getattr(getattr(cloudformation, "meta", None), "region_name", None) or "this region"
    return StackError(f"stack {stack_name!r} not found in {region}: check --stack-name and --region")
