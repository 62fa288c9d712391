"""Assemble the resource builders into one template: ``watchbot_cfn.template()``.

Options are validated once, up front; builders are pure functions of
(options, names); the result is a troposphere Template with a ``.ref``
namespace of intrinsics for the resources users wire into their own stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from troposphere import AWSHelperFn, GetAtt, Output, Parameter, Ref, Template

from watchbot_cfn import __version__
from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.records import record
from watchbot_cfn.resources import (
    alarms,
    dashboard,
    iam,
    keys,
    logs,
    metrics,
    notifications,
    outputs,
    progress,
    queue,
    scaling,
    service,
    task,
    topic,
    webhook,
)

__all__ = ["BUILDERS", "Refs", "WatchbotTemplate", "add", "template"]

Builder = Callable[[Options, Names], Iterable[Any]]

#: Order matters only for readability of the rendered template.
BUILDERS: tuple[Builder, ...] = (
    queue.build,
    topic.build,
    logs.build,
    iam.build,
    task.build,
    service.build,
    scaling.build,
    metrics.build,
    notifications.build,
    alarms.build,
    dashboard.build,
    progress.build,
    webhook.build,
    outputs.build,
)


@record
class Refs:
    """Intrinsics for the resources a user's own template typically needs."""

    log_group: AWSHelperFn
    topic: AWSHelperFn | None
    queue_url: AWSHelperFn
    queue_arn: AWSHelperFn
    queue_name: AWSHelperFn
    dead_letter_queue_url: AWSHelperFn
    dead_letter_queue_arn: AWSHelperFn
    notification_topic: Any
    task_role: AWSHelperFn
    task_role_arn: AWSHelperFn
    service: AWSHelperFn
    progress_table: AWSHelperFn | None

    @classmethod
    def of(cls, options: Options, names: Names) -> Refs:
        return cls(
            log_group=Ref(names.log_group),
            topic=None if options.fifo else Ref(names.topic),
            queue_url=Ref(names.queue),
            queue_arn=GetAtt(names.queue, "Arn"),
            queue_name=GetAtt(names.queue, "QueueName"),
            dead_letter_queue_url=Ref(names.dead_letter_queue),
            dead_letter_queue_arn=GetAtt(names.dead_letter_queue, "Arn"),
            notification_topic=notifications.topic_ref(options, names),
            task_role=Ref(names.task_role),
            task_role_arn=GetAtt(names.task_role, "Arn"),
            service=Ref(names.service),
            progress_table=Ref(names.progress_table) if options.reduce else None,
        )


class WatchbotTemplate(Template):
    """A troposphere Template that also carries ``.ref``, ``.options`` and ``.names``."""

    ref: Refs
    options: Options
    names: Names


def template(**options: Any) -> WatchbotTemplate:
    """Build every resource of one Watchbot system; raises OptionsError before building anything."""
    validated = Options.build(**options)
    names = Names.of(validated)
    built = WatchbotTemplate()
    built.set_version("2010-09-09")
    built.set_description(f"Watchbot system {validated.prefix} for {validated.service} (watchbot-cfn {__version__})")
    system_metadata: dict[str, Any] = {"Version": __version__}
    key_policy = keys.key_policy(validated, names)  # what the user's keys must allow; `watchbot-cfn key-policy`
    if key_policy:
        system_metadata["KeyPolicy"] = key_policy
    built.set_metadata({"WatchbotCfn": {validated.prefix: system_metadata}})
    for builder in BUILDERS:
        for item in builder(validated, names):
            add(built, item)
    built.ref = Refs.of(validated, names)
    built.options = validated
    built.names = names
    return built


def add(target: Template, item: Any) -> None:
    """Add a troposphere object to the section its type belongs in."""
    if isinstance(item, Output):
        target.add_output(item)
    elif isinstance(item, Parameter):
        target.add_parameter(item)
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        target.add_condition(item[0], item[1])
    else:
        target.add_resource(item)
