"""Logical ids and physical names, derived from ``prefix`` in one place.

Builders refer to each other's resources only through these names, so two
systems with different prefixes never collide and no builder string-matches
another's output. Logical ids need no troposphere (the operator tools read them); only the physical
names, which are ``Fn::Sub`` objects, import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from watchbot_cfn.records import record

if TYPE_CHECKING:
    from troposphere import Sub

    from watchbot_cfn.options import Options

__all__ = ["Names"]


@record
class Names:
    """Every logical id a Watchbot system uses; all start with the prefix, except those an adopted stack keeps.

    ``kept_ids`` (role -> logical id) and ``kept_names`` (role -> name text, or None when CloudFormation generates
    the name) come from the adoption options, so a system that took over an existing stack keeps its resources.
    """

    prefix: str
    fifo: bool = False
    kept_ids: tuple[tuple[str, str], ...] = ()
    kept_names: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def of(cls, options: Options) -> Names:
        """The names of a validated system, adoption options included."""
        kept_names: dict[str, str | None] = dict(options.resource_names)
        kept_names.update((role, None) for role in options.generated_names)
        return cls(options.prefix, fifo=options.fifo, kept_ids=tuple(sorted(options.logical_ids.items())),
                   kept_names=tuple(sorted(kept_names.items())))

    def id(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def _kept_id(self, role: str, suffix: str) -> str:
        return dict(self.kept_ids).get(role) or self.id(suffix)

    def _named(self, role: str, derived: Any) -> Any:
        """The kept name (Fn::Sub when it names a pseudo parameter), None when generated, else ``derived``."""
        kept: Mapping[str, str | None] = dict(self.kept_names)
        if role not in kept:
            return derived
        text = kept[role]
        if text is None:
            return None
        return _sub(text) if "${" in text else text

    def is_generated(self, role: str) -> bool:
        """Whether CloudFormation names the resource of ``role`` (no name in the template)."""
        return dict(self.kept_names).get(role, "") is None

    # -- queue and topic
    @property
    def queue(self) -> str:
        return self._kept_id("queue", "Queue")

    @property
    def dead_letter_queue(self) -> str:
        return self._kept_id("dead_letter_queue", "DeadLetterQueue")

    @property
    def queue_policy(self) -> str:
        return self._kept_id("queue_policy", "QueuePolicy")

    @property
    def topic(self) -> str:
        return self._kept_id("topic", "Topic")

    @property
    def subscription(self) -> str:
        """The work queue's subscription to the topic, when it is a resource of its own."""
        return self._kept_id("subscription", "TopicSubscription")

    @property
    def notification_topic(self) -> str:
        return self.id("NotificationTopic")

    @property
    def dead_letter_queue_policy(self) -> str:
        return self.id("DeadLetterQueuePolicy")

    @property
    def topic_policy(self) -> str:
        return self.id("TopicPolicy")

    @property
    def notification_topic_policy(self) -> str:
        return self.id("NotificationTopicPolicy")

    # -- task and service
    @property
    def log_group(self) -> str:
        return self._kept_id("log_group", "LogGroup")

    @property
    def task_role(self) -> str:
        return self.id("TaskRole")

    @property
    def execution_role(self) -> str:
        return self.id("ExecutionRole")

    @property
    def task_definition(self) -> str:
        return self.id("TaskDefinition")

    @property
    def service(self) -> str:
        return self.id("Service")

    # -- scaling
    @property
    def scaling_role(self) -> str:
        return self.id("ScalingRole")

    @property
    def scaling_target(self) -> str:
        return self.id("ScalingTarget")

    @property
    def scale_out_policy(self) -> str:
        return self.id("ScaleOutPolicy")

    @property
    def scale_out_alarm(self) -> str:
        return self.id("ScaleOutAlarm")

    @property
    def scale_in_policy(self) -> str:
        return self.id("ScaleInPolicy")

    @property
    def scale_in_alarm(self) -> str:
        return self.id("ScaleInAlarm")

    # -- alarms, metrics, dashboard
    def alarm(self, metric: str) -> str:
        return self.id(f"{metric}Alarm")

    def metric_filter(self, metric: str) -> str:
        return self.id(f"{metric}MetricFilter")

    @property
    def dashboard(self) -> str:
        return self.id("Dashboard")

    # -- reduce mode and webhook
    @property
    def progress_table(self) -> str:
        return self._kept_id("progress_table", "ProgressTable")

    @property
    def progress_table_policy(self) -> str:
        return self.id("ProgressTablePolicy")

    def webhook(self, part: str) -> str:
        return self.id(f"Webhook{part}")

    # -- outputs (read by the operator tools to find a system's queues and logs)
    @property
    def cluster_output(self) -> str:
        return self.id("ClusterArn")

    @property
    def queue_url_output(self) -> str:
        return self.id("QueueUrl")

    @property
    def dead_letter_queue_url_output(self) -> str:
        return self.id("DeadLetterQueueUrl")

    @property
    def log_group_output(self) -> str:
        return self.id("LogGroupName")

    @property
    def topic_output(self) -> str:
        return self.id("TopicArn")

    # -- physical names (unique per stack, region and prefix)
    def physical(self, suffix: str) -> Sub:
        """``<stack>-<prefix><suffix>``: readable in the console, unique per prefix."""
        return _sub(f"${{AWS::StackName}}-{self.prefix}{suffix}")

    @property
    def queue_name(self) -> Any:
        return self._named("queue", self.physical("Queue.fifo" if self.fifo else "Queue"))

    @property
    def dead_letter_queue_name(self) -> Any:
        return self._named("dead_letter_queue",
                           self.physical("DeadLetterQueue.fifo" if self.fifo else "DeadLetterQueue"))

    @property
    def topic_name(self) -> Any:
        """None (CloudFormation names the topic) unless an adopted stack's name is kept."""
        return self._named("topic", None)

    @property
    def log_group_name(self) -> Any:
        """``<stack>-<region>-<prefix in lowercase>``, as the original named it: a new name would replace the
        log group, and its logs with it."""
        return self._named("log_group", _sub(f"${{AWS::StackName}}-${{AWS::Region}}-{self.prefix.lower()}"))

    @property
    def progress_table_name(self) -> Any:
        """``<stack>-<prefix>-progress``, as the original and its progress clients name it."""
        return self._named("progress_table", _sub(f"${{AWS::StackName}}-{self.prefix}-progress"))

    @property
    def dashboard_name(self) -> Sub:
        return _sub(f"${{AWS::StackName}}-${{AWS::Region}}-{self.prefix}")

    @property
    def webhook_api_name(self) -> Sub:
        return _sub(f"${{AWS::StackName}}-{self.prefix}-webhook")

    def scaling_policy_name(self, direction: str) -> str:
        """``<prefix>-scale-out`` / ``<prefix>-scale-in``: unique per scalable target, which is per system."""
        return f"{self.prefix}-scale-{direction}"

    @property
    def progress_table_policy_name(self) -> str:
        return f"{self.prefix}-progress-table"

    def metric_name_text(self, metric: str) -> str:
        """The metric name as ``Fn::Sub`` text, for places (the dashboard body) that embed it."""
        return f"{metric}-${{AWS::StackName}}-{self.prefix}"

    def metric_name(self, metric: str) -> Sub:
        """Log metrics carry stack and prefix so two systems never share a metric."""
        return _sub(self.metric_name_text(metric))


def _sub(text: str) -> Sub:
    from troposphere import Sub

    return Sub(text)
