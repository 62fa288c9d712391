"""``migrate --execute``: pre-checks, a change set refused on any stateful Replacement or Remove, the update
with deploy's live view, then post-checks. Each step says what it checked.

The offline proof (plan.py) says the update keeps every stateful resource; the
change set is CloudFormation's own word on it, and the post-checks look at the
resources themselves: the same queue URLs, topic ARN and table, the queue still
subscribed, the queue policy naming the topic, the new service steady.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from watchbot_cfn.aws.changeset import create_change_set, delete_change_set, wait_for_change_set
from watchbot_cfn.aws.deployer import DeployRequest, execute, show_changes, template_source
from watchbot_cfn.aws.errors import aws_errors, client_error_line, error_message
from watchbot_cfn.migrate.live import LiveStack, MigrateRefused, read_stack
from watchbot_cfn.migrate.plan import Plan
from watchbot_cfn.statusline import StatusLine
from watchbot_cfn.templatediff import STATEFUL_TYPES

__all__ = ["UPDATABLE_STATUSES", "check_change_set", "postchecks", "prechecks", "run_migration"]

#: Settled states an update may start from.
UPDATABLE_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                                "IMPORT_ROLLBACK_COMPLETE"})
Say = Callable[[str], None]


def prechecks(aws: Any, live: LiveStack, plan: Plan, template: dict[str, Any], say: Say) -> None:
    """Refuse (MigrateRefused) unless the stack is settled, every export is kept and the queue is subscribed."""
    if live.status not in UPDATABLE_STATUSES:
        raise MigrateRefused(f"stack {live.name} is {live.status}; migrate starts from a settled stack "
                             f"({', '.join(sorted(UPDATABLE_STATUSES))})")
    say(f"pre-check: stack {live.name} is {live.status}")
    kept = {_export_name(output, live.name, aws.region) for output in (template.get("Outputs") or {}).values()}
    cfn = aws.client("cloudformation", attempts=1)  # an endpoint without ListImports answers once
    for export in sorted(live.exports):
        importers = _importers(cfn, export, aws)
        if isinstance(importers, str):
            who = f"who imports it is unknown: {importers}"
        else:
            who = f"imported by {', '.join(importers)}" if importers else "imported by no stack"
        if export not in kept:
            raise MigrateRefused(f"export {export} ({who}) is not in the adopted template; keep it with exports")
        say(f"pre-check: export {export} is kept ({who})")
    topic, queue = plan.pairs.get("topic"), plan.pairs.get("queue")
    if topic and queue:
        if not _subscribed(aws, live.physical[topic], live.physical[queue]):
            raise MigrateRefused(f"the work queue {live.physical[queue]} is not subscribed to the topic "
                                 f"{live.physical[topic]} now; subscribe it again before migrating")
        say(f"pre-check: the work queue is subscribed to {live.physical[topic]}")


def check_change_set(changes: Any, plan: Plan) -> list[str]:
    """The change set's stateful Replacements and Removes (what would lose data), one line each."""
    kept = set(plan.pairs.values())
    losing = []
    for change in changes:
        stateful = change.resource_type in STATEFUL_TYPES or change.logical_id in kept
        if not stateful:
            continue
        if change.action == "Remove" or (change.action == "Modify" and change.replacement in ("True", "Conditional")):
            verb = "removes" if change.action == "Remove" else f"replaces ({change.replacement})"
            losing.append(f"the change set {verb} {change.logical_id} ({change.resource_type})")
    return losing


def postchecks(aws: Any, before: LiveStack, plan: Plan, service_id: str | None, say: Say,
               steady_timeout: float = 600.0, interval: float = 5.0,
               sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """What is not as it should be after the update (empty: all well); says each check it made."""
    after = read_stack(aws, before.name)
    problems = []
    for role, logical_id in sorted(plan.pairs.items()):
        was, now = before.physical.get(logical_id), after.physical.get(logical_id)
        if not was:
            continue
        if now is None and _exists(aws, role, was):
            say(f"post-check: {role} {logical_id} is still {was} (found by its name; the stack lists it without "
                "a physical id)")
        elif was != now:
            problems.append(f"{role} {logical_id} was {was}, is now {now}")
        else:
            say(f"post-check: {role} {logical_id} is still {was}")
    topic, queue = plan.pairs.get("topic"), plan.pairs.get("queue")
    if topic and queue and topic in after.physical and queue in after.physical:
        topic_arn, queue_url = after.physical[topic], after.physical[queue]
        if _subscribed(aws, topic_arn, queue_url):
            say(f"post-check: the work queue is still subscribed to {topic_arn}")
        else:
            problems.append(f"the work queue is no longer subscribed to {topic_arn}")
        with aws_errors(f"reading the policy of {queue_url}", aws.where()):
            policy = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
        if topic_arn in (policy.get("Attributes") or {}).get("Policy", ""):
            say("post-check: the work queue's policy lets the topic send")
        else:
            problems.append(f"the work queue's policy does not name the topic {topic_arn}")
    if service_id and service_id in after.physical:
        problems += _steady(aws, after, service_id, say, steady_timeout, interval, sleep)
    return problems


def run_migration(aws: Any, live: LiveStack, plan: Plan, template: dict[str, Any], service_id: str | None,
                  out: StatusLine, say: Say, poll_interval: float = 2.0, canary: str | None = None) -> int:
    """Pre-checks, change set, execute, post-checks (and a canary message when asked); the exit code."""
    prechecks(aws, live, plan, template, say)
    cfn = aws.client("cloudformation")
    source = template_source(aws, live.name, template, None, out)
    change_set_id, _ = create_change_set(cfn, live.name, "UPDATE", source, [], aws.where())
    result = wait_for_change_set(cfn, change_set_id, live.name, aws.where(), interval=min(poll_interval, 1.0))
    if result.no_changes:
        delete_change_set(cfn, change_set_id, live.name)
        say(f"stack {live.name}: no changes: already migrated")
        return 0
    if result.status != "CREATE_COMPLETE":
        delete_change_set(cfn, change_set_id, live.name)
        raise MigrateRefused(f"stack {live.name}: CloudFormation rejected the change set: "
                             f"{result.reason or result.status}")
    show_changes(result, live.name, "updating", out)
    losing = check_change_set(result.changes, plan)
    if losing:
        delete_change_set(cfn, change_set_id, live.name)
        for line in losing:
            say(f"refused: {line}")
        raise MigrateRefused(f"stack {live.name}: the change set would lose {len(losing)} stateful resource(s); "
                             "nothing was changed")
    say(f"change set: no stateful resource replaced or removed ({len(result.changes)} changes)")
    request = DeployRequest(stack_name=live.name, template=template, yes=True, poll_interval=poll_interval)
    outcome = execute(aws, request, result, len(result.changes), out)
    if not outcome.ok:
        for line in outcome.failures:
            say(f"  {line}")
        raise MigrateRefused(f"stack {live.name}: {outcome.describe()} ({outcome.status})")
    problems = postchecks(aws, live, plan, service_id, say, interval=poll_interval)
    for line in problems:
        say(f"post-check failed: {line}")
    if canary is not None and not problems:
        problems += send_canary(aws, read_stack(aws, live.name), plan, canary, say)
    return 1 if problems else 0


def send_canary(aws: Any, live: LiveStack, plan: Plan, body: str, say: Say) -> list[str]:
    """One message as ``send`` sends it: published to the topic, or to the FIFO queue when there is none."""
    import uuid

    topic, queue = plan.pairs.get("topic"), plan.pairs.get("queue")
    if topic and live.physical.get(topic):
        target = live.physical[topic]
        with aws_errors(f"sending the canary message to {target}", aws.where()):
            answer = aws.client("sns").publish(TopicArn=target, Message=body)
    elif queue and live.physical.get(queue):
        target = live.physical[queue]
        with aws_errors(f"sending the canary message to {target}", aws.where()):
            answer = aws.client("sqs").send_message(QueueUrl=target, MessageBody=body,
                                                    MessageGroupId="watchbot-cfn-migrate",
                                                    MessageDeduplicationId=uuid.uuid4().hex)
    else:
        return ["no topic or queue to send the canary message to"]
    say(f"post-check: canary message {answer.get('MessageId')} sent to {target}; the new service's log group "
        "shows its job")
    return []


def _export_name(output: dict[str, Any], stack: str, region: str) -> Any:
    name = (output.get("Export") or {}).get("Name")
    if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
        return name["Fn::Sub"].replace("${AWS::StackName}", stack).replace("${AWS::Region}", region)
    return name


def _importers(cfn: Any, export: str, aws: Any) -> list[str] | str:
    """The stacks importing ``export``, or why that could not be read (the export is kept either way)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    try:
        return list(cfn.list_imports(ExportName=export).get("Imports") or [])
    except ClientError as error:
        if "is not imported" in error_message(error):
            return []
        return f"ListImports failed: {client_error_line(error)}"
    except (BotoCoreError, ResponseParserError) as error:
        return f"ListImports failed: {' '.join(str(error).split())[:160]}"


def _exists(aws: Any, role: str, physical: str) -> bool:
    """Whether the resource of ``role`` with this physical id exists (for a stack that lists it without one)."""
    from botocore.exceptions import ClientError

    try:
        if role in ("queue", "dead_letter_queue"):
            aws.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
        elif role == "topic":
            aws.client("sns").get_topic_attributes(TopicArn=physical)
        elif role == "progress_table":
            aws.client("dynamodb").describe_table(TableName=physical)
        elif role == "log_group":
            groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=physical).get("logGroups") or []
            return any(group.get("logGroupName") == physical for group in groups)
        else:
            return False
    except ClientError:
        return False
    return True


def _subscribed(aws: Any, topic_arn: str, queue: str) -> bool:
    """Whether ``queue`` (a URL or an ARN) is subscribed to the topic."""
    queue_arn = queue
    if not queue.startswith("arn:"):
        with aws_errors(f"reading {queue}", aws.where()):
            queue_arn = aws.client("sqs").get_queue_attributes(
                QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = aws.client("sns")
    with aws_errors(f"listing the subscriptions of {topic_arn}", aws.where()):
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        endpoints = {item.get("Endpoint") for page in pages for item in page.get("Subscriptions") or []
                     if item.get("Protocol") == "sqs"}
    return queue_arn in endpoints


def _steady(aws: Any, live: LiveStack, service_id: str, say: Say, timeout: float, interval: float,
            sleep: Callable[[float], None]) -> list[str]:
    """Wait until the new service runs what it wants, with one deployment."""
    service = (live.template.get("Resources") or {}).get(service_id) or {}
    cluster = (service.get("Properties") or {}).get("Cluster")
    arn = live.physical[service_id]
    cluster_name = cluster if isinstance(cluster, str) else arn.split("/")[-2] if arn.count("/") >= 2 else None
    if not cluster_name:
        return [f"cannot tell the cluster of {arn} ({json.dumps(cluster)})"]
    deadline = time.monotonic() + timeout
    while True:
        with aws_errors(f"reading service {arn}", aws.where()):
            found = aws.client("ecs").describe_services(cluster=cluster_name, services=[arn]).get("services") or []
        if found and found[0].get("runningCount") == found[0].get("desiredCount") \
                and len(found[0].get("deployments") or []) <= 1:
            say(f"post-check: service {arn} is steady ({found[0].get('runningCount')} running)")
            return []
        if time.monotonic() > deadline:
            state = f"{found[0].get('runningCount')} of {found[0].get('desiredCount')} running" if found else "gone"
            return [f"service {arn} is not steady after {timeout:.0f} s: {state}"]
        sleep(interval)
