"""Stack outputs: where a system's queues, topic and logs are.

Every output id starts with the prefix (via ``Names``) so two systems merge
into one template, and the operator tools find a system by its prefix.
"""

from __future__ import annotations

from typing import Any

from troposphere import Output, Ref

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
    return outputs
