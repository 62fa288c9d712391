"""Find a stack's Watchbot systems from its own resources.

A system is a pair of SQS queues whose logical ids are ``<prefix>Queue`` and
``<prefix>DeadLetterQueue``, with its log group at ``<prefix>LogGroup``. Both
this project and the original JavaScript Watchbot name them so, which is why
the tool works on stacks either one built; outputs are not needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["System", "StackError", "PrefixNeeded", "find_systems", "systems_from_resources", "choose_system"]

QUEUE_TYPE = "AWS::SQS::Queue"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
QUEUE_SUFFIX = "Queue"
DEAD_LETTER_SUFFIX = "DeadLetterQueue"
LOG_GROUP_SUFFIX = "LogGroup"


class StackError(Exception):
    """The stack or the system cannot be used; the message says why and what to do."""


class PrefixNeeded(StackError):
    """Several systems and no way to ask which: the command line must say (a usage error)."""


@dataclass(frozen=True)
class System:
    """One Watchbot system of a stack: its queues' URLs and its log group's name."""

    prefix: str
    queue_url: str
    dead_letter_url: str
    log_group: str | None = None

    @property
    def fifo(self) -> bool:
        return self.queue_url.endswith(".fifo")


def systems_from_resources(resources: Iterable[Mapping[str, Any]]) -> list[System]:
    """Pair queues and log groups by logical id; ``resources`` are ListStackResources summaries."""
    queues: dict[str, str] = {}
    log_groups: dict[str, str] = {}
    for resource in resources:
        physical = resource.get("PhysicalResourceId")
        if not physical or str(resource.get("ResourceStatus", "")).startswith("DELETE"):
            continue
        if resource.get("ResourceType") == QUEUE_TYPE:
            queues[resource["LogicalResourceId"]] = physical
        elif resource.get("ResourceType") == LOG_GROUP_TYPE:
            log_groups[resource["LogicalResourceId"]] = physical
    systems = []
    for logical_id, dead_letter_url in queues.items():
        if not logical_id.endswith(DEAD_LETTER_SUFFIX):
            continue
        prefix = logical_id[: -len(DEAD_LETTER_SUFFIX)]
        queue_url = queues.get(prefix + QUEUE_SUFFIX)
        if queue_url:
            systems.append(System(prefix, queue_url, dead_letter_url, log_groups.get(prefix + LOG_GROUP_SUFFIX)))
    return sorted(systems, key=lambda system: system.prefix)


def find_systems(cloudformation: Any, stack_name: str) -> list[System]:
    """Every Watchbot system in ``stack_name`` (ListStackResources, all pages)."""
    from botocore.exceptions import ClientError

    summaries: list[dict[str, Any]] = []
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            summaries.extend(page.get("StackResourceSummaries", []))
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            region = cloudformation.meta.region_name
            raise StackError(f"stack {stack_name!r} not found in {region}: check --stack-name and --region") from None
        raise
    systems = systems_from_resources(summaries)
    if not systems:
        raise StackError(f"stack {stack_name!r} holds no Watchbot system (no pair of <prefix>Queue and "
                         "<prefix>DeadLetterQueue SQS queues)")
    return systems


def choose_system(systems: list[System], prefix: str | None, ask: Callable[[list[System]], System] | None) -> System:
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
        raise PrefixNeeded(f"the stack holds {len(systems)} Watchbot systems ({available}): "
                         "pass --prefix to pick one")
    return ask(systems)
