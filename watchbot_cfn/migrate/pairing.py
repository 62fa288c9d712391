"""Pair each stateful resource of an old template with the role it plays in the render.

A role (work queue, dead-letter queue, topic, ...) is found in the old template
by, in order: the render's own logical id (a stack this project already
rendered), the render's physical name once both sides are resolved, then the
resource's place among the others (the queue whose redrive policy names another
queue, the topic subscribed to that queue, the log group the task definition
writes to). What pairing decides becomes adoption options (``logical_ids``,
``resource_names``, ``generated_names``, ``topic_subscription``, ``exports``);
what it cannot decide is a refusal that names the option that would fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.migrate.oldstack import OldStack
from watchbot_cfn.migrate.pseudo import StackPlace, resolve
from watchbot_cfn.naming import Names
from watchbot_cfn.options import LOG_RETENTION_DAYS, Options

__all__ = ["Pairing", "Refusal", "pair", "target_of"]

QUEUE, TOPIC, SUBSCRIPTION = "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SNS::Subscription"
QUEUE_POLICY, LOG_GROUP, TABLE = "AWS::SQS::QueuePolicy", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table"
_WORDS = {"queue": "work queue", "dead_letter_queue": "dead-letter queue", "topic": "work topic",
          "subscription": "topic subscription", "queue_policy": "work queue policy", "log_group": "log group",
          "progress_table": "progress table"}


@dataclass(frozen=True)
class Refusal:
    """A stateful resource that cannot be paired, and the option that would pair it."""

    option: str
    line: str


@dataclass
class Pairing:
    """Old logical id by role, and the adoption options that keep them."""

    pairs: dict[str, str] = field(default_factory=dict)  # role -> old logical id
    options: dict[str, Any] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)

    def adopt(self, option: str, key: str | None, value: Any) -> None:
        if option == "generated_names":
            self.options.setdefault(option, []).append(value)
        elif key is None:
            self.options[option] = value
        else:
            self.options.setdefault(option, {})[key] = value

    def refuse(self, option: str, line: str) -> None:
        self.refusals.append(Refusal(option, line))


def _describe(old: OldStack, logical_id: str) -> str:
    name = old.name(logical_id)
    return f"{logical_id} ({old.resources[logical_id]['Type']}{' ' + name if isinstance(name, str) else ''})"


def target_of(value: Any) -> str | None:
    """The logical id a ``Ref``/``Fn::GetAtt`` (canonical: ``${Id}`` / ``${Id.Attr}``) points at."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z.]+)?\}", value["Fn::Sub"])
        return match.group(1) if match else None
    return None


class _Pairer:
    """One pairing run: the old template, the render and what has been claimed so far."""

    def __init__(self, old: OldStack, render: dict[str, Any], options: Options, names: Names,
                 place: StackPlace, given: frozenset[str] = frozenset()) -> None:
        self.old, self.options, self.names, self.place, self.given = old, options, names, place, given
        self.render = {key: resolve(item, place) for key, item in (render.get("Resources") or {}).items()}
        self.result = Pairing()
        self.claimed: set[str] = set()

    # -- helpers -------------------------------------------------------
    def source_sets(self, option: str) -> bool:
        return option in self.given

    def render_name(self, logical_id: str, prop: str) -> Any:
        return (self.render.get(logical_id, {}).get("Properties") or {}).get(prop)

    def unclaimed(self, resource_type: str) -> list[str]:
        return [key for key in self.old.of_type(resource_type) if key not in self.claimed]

    def claim(self, role: str, old_id: str, render_id: str) -> None:
        self.claimed.add(old_id)
        self.result.pairs[role] = old_id
        if old_id != render_id:
            self.result.adopt("logical_ids", role, old_id)

    def by_id_or_name(self, role: str, resource_type: str, render_id: str, prop: str | None) -> str | None:
        candidates = self.unclaimed(resource_type)
        if render_id in candidates:
            return render_id
        wanted = self.render_name(render_id, prop) if prop else None
        if isinstance(wanted, str):
            named = [key for key in candidates if self.old.name(key) == wanted]
            if len(named) == 1:
                return named[0]
        return None

    def one_of(self, role: str, found: list[str], render_id: str) -> str | None:
        if len(found) > 1:
            listed = ", ".join(_describe(self.old, key) for key in found)
            self.result.refuse(f"logical_ids.{role}", f"{len(found)} candidates for the {_WORDS[role]} "
                                                      f"{render_id}: {listed}; set logical_ids.{role} to the one "
                                                      "to keep")
            return None
        return found[0] if found else None

    def keep_name(self, role: str, old_id: str, render_id: str, prop: str, own_prefix: re.Pattern[str] | None,
                  lowercase: bool = False) -> bool:
        """Adopt the old name (or its absence); False after a refusal.

        A name that follows the construct's pattern (``own_prefix``) with another prefix than the source's is
        refused naming ``prefix``: every other name of the system would differ too.
        """
        old_name, new_name = self.old.name(old_id), self.render_name(render_id, prop)
        if old_name == new_name:
            return True
        if old_name is None:
            self.result.adopt("generated_names", None, role)
            return True
        if not isinstance(old_name, str):
            self.result.refuse(f"resource_names.{role}", f"the {_WORDS[role]} {old_id} has a name that is not a "
                                                         f"literal ({old_name}); set resource_names.{role}")
            return False
        match = own_prefix.fullmatch(old_name) if own_prefix else None
        ours = self.options.prefix.lower() if lowercase else self.options.prefix
        if match and match.group("prefix") != ours:
            self.result.refuse("prefix", f"cannot pair {_describe(self.old, old_id)} with the render's "
                                         f"{_WORDS[role]} {render_id} named {new_name}: set prefix = "
                                         f"\"{match.group('prefix')}\"")
            return False
        self.result.adopt("resource_names", role, old_name)
        return True

    def name_pattern(self, tail: str) -> re.Pattern[str]:
        return re.compile(re.escape(self.place.stack_name) + r"-(?P<prefix>[A-Za-z][A-Za-z0-9]*)" + tail)

    # -- roles ---------------------------------------------------------
    def queues(self) -> None:
        names = self.names
        work = self.by_id_or_name("queue", QUEUE, names.queue, "QueueName")
        if work is None:
            redriving = [key for key in self.unclaimed(QUEUE)
                         if target_of((self.old.properties(key).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
                         in self.old.resources]
            work = self.one_of("queue", redriving, names.queue)
            if work is None:
                if not redriving:
                    self.result.refuse("prefix", f"no work queue in the old template pairs with the render's "
                                                 f"{names.queue}: nothing to adopt it from")
                return
        if bool(self.old.properties(work).get("FifoQueue") in (True, "true")) != self.options.fifo:
            self.result.refuse("fifo", f"the work queue {_describe(self.old, work)} is "
                                       f"{'' if self.options.fifo else 'not '}a standard queue; set fifo = "
                                       f"{'false' if self.options.fifo else 'true'}")
            return
        suffix = r"Queue(\.fifo)?"
        if not self.keep_name("queue", work, names.queue, "QueueName", self.name_pattern(suffix)):
            return
        self.claim("queue", work, names.queue)
        dead = self.by_id_or_name("dead_letter_queue", QUEUE, names.dead_letter_queue, "QueueName")
        if dead is None:
            dead = target_of((self.old.properties(work).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        if dead is None or dead not in self.old.resources:
            return
        if self.keep_name("dead_letter_queue", dead, names.dead_letter_queue, "QueueName",
                          self.name_pattern(r"DeadLetterQueue(\.fifo)?")):
            self.claim("dead_letter_queue", dead, names.dead_letter_queue)

    def queue_policy(self) -> None:
        work = self.result.pairs.get("queue")
        if work is None:
            return
        found = [key for key in self.unclaimed(QUEUE_POLICY)
                 if any(target_of(queue) == work for queue in self.old.properties(key).get("Queues") or [])]
        chosen = self.one_of("queue_policy", found, self.names.queue_policy)
        if chosen:
            self.claim("queue_policy", chosen, self.names.queue_policy)

    def topic(self) -> None:
        work = self.result.pairs.get("queue")
        subscribed: dict[str, str | None] = {}  # topic -> subscription resource (None: inline)
        for key in self.unclaimed(SUBSCRIPTION):
            props = self.old.properties(key)
            if work and target_of(props.get("Endpoint")) == work and target_of(props.get("TopicArn")):
                subscribed[str(target_of(props.get("TopicArn")))] = key
        for key in self.unclaimed(TOPIC):
            if any(work and target_of(item.get("Endpoint")) == work
                   for item in self.old.properties(key).get("Subscription") or []):
                subscribed.setdefault(key, None)
        if self.options.fifo:
            if subscribed:
                self.result.refuse("fifo", f"the topic {_describe(self.old, next(iter(subscribed)))} feeds the "
                                           "work queue, and a FIFO system has no topic; set fifo = false")
            return
        render_id = self.names.topic
        chosen = self.by_id_or_name("topic", TOPIC, render_id, "TopicName")
        if chosen is None:
            chosen = self.one_of("topic", sorted(subscribed), render_id)
        if chosen is None:
            return  # the render adds a topic: nothing held is lost
        if not self.keep_name("topic", chosen, render_id, "TopicName", self.name_pattern("Topic")):
            return
        self.claim("topic", chosen, render_id)
        subscription = subscribed.get(chosen)
        if subscription is not None:
            self.claimed.add(subscription)
            self.result.pairs["subscription"] = subscription
            if self.options.topic_subscription != "resource":
                self.result.adopt("topic_subscription", None, "resource")
            if subscription != self.names.subscription:
                self.result.adopt("logical_ids", "subscription", subscription)
        elif self.options.topic_subscription == "resource":
            self.result.refuse("topic_subscription", f"the topic {chosen} subscribes the work queue inline; set "
                                                     "topic_subscription = \"inline\"")

    def log_group(self) -> None:
        render_id = self.names.log_group
        chosen = self.by_id_or_name("log_group", LOG_GROUP, render_id, "LogGroupName")
        if chosen is None:
            written = set()
            for key in self.old.of_type("AWS::ECS::TaskDefinition"):
                for container in self.old.properties(key).get("ContainerDefinitions") or []:
                    group = ((container.get("LogConfiguration") or {}).get("Options") or {}).get("awslogs-group")
                    written.add(target_of(group) or group)
            chosen = self.one_of("log_group", [key for key in self.unclaimed(LOG_GROUP)
                                               if key in written or self.old.name(key) in written], render_id)
        if chosen is None:
            return
        # v10 takes any logGroupName: once the queues paired, the prefix is right and another name is kept.
        pattern = None if "queue" in self.result.pairs else re.compile(
            re.escape(f"{self.place.stack_name}-{self.place.region}-") + r"(?P<prefix>[a-z0-9]+)")
        if self.keep_name("log_group", chosen, render_id, "LogGroupName", pattern, lowercase=True):
            self.claim("log_group", chosen, render_id)
            # A shorter retention would delete the oldest logs: keep the stack's unless the source sets one.
            days = self.old.properties(chosen).get("RetentionInDays")
            if str(days).isdigit() and int(str(days)) != self.options.log_retention_days \
                    and int(str(days)) in LOG_RETENTION_DAYS and not self.source_sets("log_retention_days"):
                self.result.adopt("log_retention_days", None, int(str(days)))

    def progress_table(self) -> None:
        tables = self.unclaimed(TABLE)
        render_id = self.names.progress_table
        if not self.options.reduce:
            progress = [key for key in tables if key == render_id or "progress" in str(self.old.name(key)).lower()]
            for key in progress:
                self.result.refuse("reduce", f"the progress table {_describe(self.old, key)} pairs with nothing "
                                             "in the render; set reduce = true")
            return
        chosen = self.by_id_or_name("progress_table", TABLE, render_id, "TableName")
        if chosen is None:
            keyed = [key for key in tables
                     if self.old.properties(key).get("KeySchema") == [{"AttributeName": "id", "KeyType": "HASH"}]]
            chosen = self.one_of("progress_table", keyed, render_id)
        if chosen is None:
            return
        if self.keep_name("progress_table", chosen, render_id, "TableName", None):
            self.claim("progress_table", chosen, render_id)
            throughput = self.old.properties(chosen).get("ProvisionedThroughput")
            if isinstance(throughput, dict) and not self.source_sets("read_capacity_units"):
                read, write = throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")
                if str(read).isdigit() and str(write).isdigit():
                    self.result.adopt("read_capacity_units", None, int(str(read)))
                    self.result.adopt("write_capacity_units", None, int(str(write)))


def pair(old: OldStack, render: dict[str, Any], options: Options, names: Names, place: StackPlace,
         given: frozenset[str] = frozenset()) -> Pairing:
    """Pair the old template's stateful resources with the render's roles.

    Stops at the first refusal: the later ones would mostly repeat it (a wrong prefix misnames every resource).
    ``given`` names the options the source sets itself, which pairing never overrides.
    """
    pairer = _Pairer(old, render, options, names, place, given)
    steps = [pairer.queues, pairer.queue_policy, pairer.topic, pairer.log_group, pairer.progress_table]
    for step in steps:
        step()
        if pairer.result.refusals:
            break
    return pairer.result
