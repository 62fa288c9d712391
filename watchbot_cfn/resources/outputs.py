"""Stack outputs: where a system's queues, topic and logs are.

Every output id starts with the prefix (via ``Names``) so two systems merge
into one template, and the operator tools find a system by its prefix.
"""

from __future__ import annotations

from typing import Any

from troposphere import Export, GetAtt, Output, Ref, Sub

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options

__all__ = ["build"]


def build(options: Options, names: Names) -> list[Any]:
    outputs = [
        Output(names.cluster_output, Description="ECS cluster the service runs on", Value=options.cluster),
        Output(names.queue_url_output, Description="URL of the work queue", Value=Ref(names.queue)),
        Output(names.dead_letter_queue_url_output, Description="URL of the dead-letter queue",
               Value=Ref(names.dead_letter_queue)),
        Output(names.log_group_output, Description="Log group of the watcher and the worker",
               Value=Ref(names.log_group)),
    ]
    if not options.fifo:
        outputs.append(Output(names.topic_output, Description="ARN of the SNS topic that feeds the work queue",
                              Value=Ref(names.topic)))
    for index, kept in enumerate(options.exports, start=1):
        name = kept["name"]
        outputs.append(Output(kept.get("output") or names.id(f"Export{index}"),
                              Description=f"Export kept from the stack this system adopted ({kept['value']})",
                              Value=_exported(options, names, kept["value"]),
                              Export=Export(Sub(name) if "${" in name else name)))
    return outputs


def _exported(options: Options, names: Names, value: str) -> Any:
    """What an export in ``exports`` stands for; a FIFO system's topic is empty, as Watchbot 10 exported it."""
    if value == "topic":
        return "" if options.fifo else Ref(names.topic)
    queue, attribute = {
        "queue_url": (names.queue, None), "queue_arn": (names.queue, "Arn"), "queue_name": (names.queue, "QueueName"),
        "dead_letter_queue_url": (names.dead_letter_queue, None),
        "dead_letter_queue_arn": (names.dead_letter_queue, "Arn"),
        "dead_letter_queue_name": (names.dead_letter_queue, "QueueName"),
        "log_group": (names.log_group, None), "progress_table": (names.progress_table, None),
    }[value]
    return Ref(queue) if attribute is None else GetAtt(queue, attribute)
