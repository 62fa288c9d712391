"""Which Watchbot systems a stack holds, read the same way whoever built it.

A system is a work queue with its dead-letter queue, and the topic and log
group beside them when there are. Three builders name them differently:

- this project declares its prefixes in ``Metadata.WatchbotCfn`` and names
  resources ``<prefix>Queue``, ``<prefix>DeadLetterQueue``, ``<prefix>Topic``;
- the original Watchbot (v9 and before) uses the same logical ids, without
  metadata;
- Watchbot 10 (a CDK construct) adds CDK's hash to most logical ids, so its
  queues are found by their ``aws:cdk:path`` (``.../<construct>/Queue/Resource``
  and ``.../<construct>/DeadLetterQueue/Resource``), the prefix being the
  construct id, and its topic by the subscription that feeds the queue.

Only logical ids and the template are read (no troposphere), so the operator
tools can use this module. Physical ids come from the stack's resource list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.naming import Names

__all__ = ["System", "METADATA_KEY", "physical_ids", "system_prefixes", "systems_in_stack"]

METADATA_KEY = "WatchbotCfn"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
LOG_GROUP = "AWS::Logs::LogGroup"
_CDK_PATH = "aws:cdk:path"


@dataclass(frozen=True)
class System:
    """One system of a deployed stack, by physical id (queue URLs, topic ARN, log group name)."""

    prefix: str
    queue_url: str
    dead_letter_url: str
    log_group: str | None = None
    topic_arn: str | None = None

    @property
    def fifo(self) -> bool:
        return self.queue_url.endswith(".fifo")


@dataclass(frozen=True)
class _LogicalSystem:
    prefix: str
    queue: str
    dead_letter_queue: str
    topic: str | None
    log_group: str | None


def physical_ids(summaries: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Logical id -> physical id of every live resource in ListStackResources summaries."""
    found: dict[str, str] = {}
    for summary in summaries:
        physical = summary.get("PhysicalResourceId")
        if physical and not str(summary.get("ResourceStatus", "")).startswith("DELETE"):
            found[str(summary["LogicalResourceId"])] = str(physical)
    return found


def system_prefixes(template: Mapping[str, Any]) -> list[str]:
    """Prefixes of the systems a template holds (see the module's docstring for the three ways)."""
    return [system.prefix for system in _logical_systems(template, None)]


def systems_in_stack(template: Mapping[str, Any] | None, summaries: Iterable[Mapping[str, Any]]) -> list[System]:
    """The systems of a stack from its template (when it could be read) and its resource summaries.

    Without a template only the logical-id pairs (``<prefix>Queue`` with ``<prefix>DeadLetterQueue``) are found.
    """
    summaries = list(summaries)
    physical = physical_ids(summaries)
    types = {str(s["LogicalResourceId"]): str(s.get("ResourceType", "")) for s in summaries}
    systems = []
    for logical in _logical_systems(template, types):
        queue_url = physical.get(logical.queue)
        dead_letter_url = physical.get(logical.dead_letter_queue)
        if not queue_url or not dead_letter_url:
            continue
        systems.append(System(prefix=logical.prefix, queue_url=queue_url, dead_letter_url=dead_letter_url,
                              log_group=physical.get(logical.log_group or ""),
                              topic_arn=physical.get(logical.topic or "")))
    return sorted(systems, key=lambda system: system.prefix)


def _logical_systems(template: Mapping[str, Any] | None, types: Mapping[str, str] | None) -> list[_LogicalSystem]:
    resources: Mapping[str, Any] = {}
    if isinstance(template, Mapping) and isinstance(template.get("Resources"), Mapping):
        resources = template["Resources"]
    kinds = {key: value.get("Type") for key, value in resources.items() if isinstance(value, Mapping)}
    if types:
        kinds = {**types, **kinds}
    declared = (template or {}).get("Metadata") if isinstance(template, Mapping) else None
    declared = declared.get(METADATA_KEY) if isinstance(declared, Mapping) else None
    if isinstance(declared, Mapping) and declared:
        return [_named(prefix, kinds) for prefix in declared if isinstance(prefix, str)]
    found = {system.prefix: system for system in _by_cdk_path(resources, kinds)}
    for key, kind in kinds.items():
        if kind == QUEUE and key.endswith("Queue") and not key.endswith("DeadLetterQueue"):
            prefix = key[: -len("Queue")]
            if kinds.get(Names(prefix).dead_letter_queue) == QUEUE and prefix not in found:
                found[prefix] = _named(prefix, kinds)
    return [found[prefix] for prefix in sorted(found)]


def _named(prefix: str, kinds: Mapping[str, Any]) -> _LogicalSystem:
    names = Names(prefix)
    return _LogicalSystem(prefix, names.queue, names.dead_letter_queue,
                          names.topic if kinds.get(names.topic) == TOPIC else None,
                          names.log_group if kinds.get(names.log_group) == LOG_GROUP else None)


def _by_cdk_path(resources: Mapping[str, Any], kinds: Mapping[str, Any]) -> list[_LogicalSystem]:
    """Watchbot 10's systems: queues at ``<construct path>/Queue/Resource`` beside ``.../DeadLetterQueue/...``."""
    by_path = {}
    for key, value in resources.items():
        path = (value.get("Metadata") or {}).get(_CDK_PATH) if isinstance(value, Mapping) else None
        if isinstance(path, str):
            by_path[path] = key
    systems = []
    for path, key in by_path.items():
        if kinds.get(key) != QUEUE or not path.endswith("/Queue/Resource"):
            continue
        construct = path[: -len("/Queue/Resource")]
        dead_letter = by_path.get(f"{construct}/DeadLetterQueue/Resource")
        if dead_letter is None or kinds.get(dead_letter) != QUEUE:
            continue
        prefix = construct.rsplit("/", 1)[-1]
        log_group = Names(prefix).log_group
        systems.append(_LogicalSystem(prefix, key, dead_letter, _topic_feeding(resources, key),
                                      log_group if kinds.get(log_group) == LOG_GROUP else None))
    return systems


def _topic_feeding(resources: Mapping[str, Any], queue: str) -> str | None:
    """The topic whose subscription (a resource of its own, or inline) delivers to ``queue``."""
    target = {"Fn::GetAtt": [queue, "Arn"]}
    for key, value in resources.items():
        if not isinstance(value, Mapping):
            continue
        properties = value.get("Properties") or {}
        if value.get("Type") == SUBSCRIPTION and _same_get_att(properties.get("Endpoint"), target):
            topic = properties.get("TopicArn")
            if isinstance(topic, Mapping) and isinstance(topic.get("Ref"), str):
                return str(topic["Ref"])
        if value.get("Type") == TOPIC:
            for subscription in properties.get("Subscription") or []:
                if isinstance(subscription, Mapping) and _same_get_att(subscription.get("Endpoint"), target):
                    return key
    return None


def _same_get_att(value: Any, target: Mapping[str, Any]) -> bool:
    if isinstance(value, Mapping) and isinstance(value.get("Fn::GetAtt"), str):
        value = {"Fn::GetAtt": value["Fn::GetAtt"].split(".", 1)}
    return value == target
