"""Find the Watchbot systems of a deployed stack: their queues, topic and log group.

The stack's own template says which prefixes it holds (``Metadata.WatchbotCfn``,
written by :func:`watchbot_cfn.template`); stacks built by the original
Watchbot have no such metadata, so any ``<prefix>Queue`` with a
``<prefix>DeadLetterQueue`` beside it counts as a system too. Physical ids come
from the stack's resource list, so nothing depends on outputs a user may have
removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.aws.clients import Aws, AwsError, aws_errors
from watchbot_cfn.naming import Names

__all__ = ["StackSystem", "find_systems", "physical_ids", "pick_system", "stack_template", "system_prefixes"]

METADATA_KEY = "WatchbotCfn"


@dataclass(frozen=True)
class StackSystem:
    """One system of a stack, by physical id."""

    prefix: str
    queue_url: str
    dead_letter_queue_url: str | None
    topic_arn: str | None
    log_group: str | None

    @property
    def fifo(self) -> bool:
        return self.queue_url.endswith(".fifo")


def system_prefixes(template: dict[str, Any]) -> list[str]:
    """Prefixes a template declares in its metadata, else those its queue logical ids imply."""
    resources = template.get("Resources") or {}
    declared = (template.get("Metadata") or {}).get(METADATA_KEY)
    if isinstance(declared, dict) and declared:
        return [prefix for prefix in declared if isinstance(prefix, str)]
    return [key[:-len("Queue")] for key, value in resources.items()
            if key.endswith("Queue") and not key.endswith("DeadLetterQueue")
            and isinstance(value, dict) and value.get("Type") == "AWS::SQS::Queue"
            and f"{key[:-len('Queue')]}DeadLetterQueue" in resources]


def stack_template(aws: Aws, stack_name: str) -> dict[str, Any]:
    """The stack's current template as data; a missing stack is one clear error."""
    cfn = aws.client("cloudformation")
    try:
        with aws_errors(f"stack {stack_name}", aws.where()):
            body = cfn.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    except AwsError as error:
        if "does not exist" in str(error) or "ValidationError" in str(error):
            raise AwsError(f"stack {stack_name} not found ({aws.where()})") from None
        raise
    if isinstance(body, dict):  # botocore parses JSON bodies itself
        return body
    try:
        return json.loads(body)
    except ValueError:
        from watchbot_cfn.sources.cfnyaml import load_yaml

        loaded = load_yaml(body)
        return loaded if isinstance(loaded, dict) else {}


def physical_ids(aws: Aws, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource the stack has created."""
    cfn = aws.client("cloudformation")
    found: dict[str, str] = {}
    with aws_errors(f"stack {stack_name}: listing resources", aws.where()):
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                if summary.get("PhysicalResourceId"):
                    found[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return found


def find_systems(aws: Aws, stack_name: str) -> list[StackSystem]:
    """Every Watchbot system of the stack; an error when it has none."""
    template = stack_template(aws, stack_name)
    physical = physical_ids(aws, stack_name)
    systems = []
    for prefix in system_prefixes(template):
        names = Names(prefix)
        queue = physical.get(names.queue)
        if not queue:
            continue
        systems.append(StackSystem(prefix=prefix, queue_url=queue,
                                   dead_letter_queue_url=physical.get(names.dead_letter_queue),
                                   topic_arn=physical.get(names.topic), log_group=physical.get(names.log_group)))
    if not systems:
        raise AwsError(f"stack {stack_name} holds no Watchbot system (no work queue with a dead-letter queue)")
    return systems


def pick_system(systems: list[StackSystem], prefix: str | None, stack_name: str) -> StackSystem:
    """The system named by ``--prefix``, or the only one."""
    prefixes = ", ".join(system.prefix for system in systems)
    if prefix is None:
        if len(systems) == 1:
            return systems[0]
        raise AwsError(f"stack {stack_name} holds several systems ({prefixes}); pick one with --prefix")
    for system in systems:
        if system.prefix == prefix:
            return system
    raise AwsError(f"--prefix: got {prefix!r}; stack {stack_name} holds {prefixes}")

