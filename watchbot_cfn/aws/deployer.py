"""Create or update a stack through a change set, with the changes shown first and a live view after.

The flow: check the template against CloudFormation's limits (inline body,
S3 upload, resource count) and the parameters against the template; refuse,
in one line naming the state and the next step, a stack that cannot take a
change set now (:mod:`.stackstate`); check what the template names outside
itself, such as the ECS cluster (:mod:`.preflight`); create a CREATE or
UPDATE change set and wait for it; print its changes, marking replacements;
ask (unless told not to); execute; follow the stack's events until it settles
or ``--timeout`` passes, with a heartbeat when none arrive
(:mod:`.watching`). "No changes" is success. A failure names each failed
resource with CloudFormation's reason and exits 1; a change set that is not
executed is deleted again, and so is the empty stack a declined first deploy
would otherwise leave in REVIEW_IN_PROGRESS.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watchbot_cfn.analysis.references import check_references
from watchbot_cfn.aws.changeset import (
    ChangeSetResult,
    create_change_set,
    delete_change_set,
    format_change,
    wait_for_change_set,
)
from watchbot_cfn.aws.clients import Aws, AwsError, aws_errors, error_code, error_message
from watchbot_cfn.aws.parameters import stack_parameters
from watchbot_cfn.aws.preflight import check_external_references, parameter_values
from watchbot_cfn.aws.stackevents import SUCCESS_STATUSES, Event, EventFollower, failure_lines
from watchbot_cfn.aws.stackstate import blocked_for_deploy
from watchbot_cfn.aws.watching import Watch, timeout_message, watch
from watchbot_cfn.statusline import StatusLine

__all__ = ["DeployRequest", "DeployOutcome", "INLINE_LIMIT", "URL_LIMIT", "RESOURCE_LIMIT", "deploy",
           "template_source"]

#: CloudFormation's limits: TemplateBody inline, TemplateURL (S3), resources per stack.
INLINE_LIMIT = 51_200
URL_LIMIT = 1_000_000
RESOURCE_LIMIT = 500
_STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_DESCRIPTIONS = {
    "EXECUTE_FAILED": "the change set failed to execute",
    "ROLLBACK_COMPLETE": "the create failed and was rolled back; delete the stack before deploying it again",
    "ROLLBACK_FAILED": "the create failed and so did its rollback; delete the stack before deploying it again",
    "UPDATE_ROLLBACK_COMPLETE": "the update failed and was rolled back; the stack is as it was before",
    "UPDATE_ROLLBACK_FAILED": "the update failed and so did its rollback; fix the resources named above, then "
                              "continue the rollback (aws cloudformation continue-update-rollback)",
    "CREATE_FAILED": "the create failed",
    "UPDATE_FAILED": "the update failed",
}


@dataclass
class DeployRequest(Watch):
    stack_name: str
    template: dict[str, Any]
    parameters: Mapping[str, str] = field(default_factory=dict)
    yes: bool = False
    dry_run: bool = False
    s3_bucket: str | None = None


@dataclass
class DeployOutcome:
    """How a deploy ended: ``status`` is the stack's final status, or NO_CHANGES / DECLINED / DRY_RUN."""

    status: str
    changes: int = 0
    failures: list[str] = field(default_factory=list)
    detail: str = ""

    def describe(self) -> str:
        """What happened, in words, for the final error line."""
        return self.detail or _DESCRIPTIONS.get(self.status, self.status)

    @property
    def ok(self) -> bool:
        return not self.failures and self.status in SUCCESS_STATUSES | {"NO_CHANGES", "DECLINED", "DRY_RUN"}


def check_stack_name(name: str) -> None:
    if not _STACK_NAME.fullmatch(name):
        raise AwsError(f"--stack-name: got {name!r}; a stack name starts with a letter and has at most 128 "
                       "letters, digits and hyphens")


def template_source(aws: Aws, stack_name: str, template: dict[str, Any], s3_bucket: str | None,
                    out: StatusLine | None = None) -> dict[str, str]:
    """``{"TemplateBody": ...}`` when it fits inline, else upload to ``s3_bucket`` for ``{"TemplateURL": ...}``."""
    resources = len(template.get("Resources") or {})
    if resources > RESOURCE_LIMIT:
        raise AwsError(f"the template has {resources} resources; a CloudFormation stack holds at most "
                       f"{RESOURCE_LIMIT}: split the systems over several stacks")
    body = json.dumps(template, separators=(",", ":"))
    size = len(body.encode("utf-8"))
    if size > URL_LIMIT:
        raise AwsError(f"the template is {size:,} bytes; CloudFormation takes at most {URL_LIMIT:,} even from S3: "
                       "split the systems over several stacks")
    if size <= INLINE_LIMIT and not s3_bucket:
        return {"TemplateBody": body}
    if not s3_bucket:
        raise AwsError(f"the template is {size:,} bytes; CloudFormation takes at most {INLINE_LIMIT:,} inline: "
                       "give --s3-bucket BUCKET to upload it there first")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    key = f"watchbot-cfn/{stack_name}/{digest}.json"
    with aws_errors(f"uploading the template to s3://{s3_bucket}/{key}", aws.where()):
        aws.client("s3").put_object(Bucket=s3_bucket, Key=key, Body=body.encode("utf-8"),
                                    ContentType="application/json")
    if out:
        out.print(f"template ({size:,} bytes) uploaded to s3://{s3_bucket}/{key}")
    suffix = ".amazonaws.com.cn" if aws.region.startswith("cn-") else ".amazonaws.com"
    return {"TemplateURL": f"https://{s3_bucket}.s3.{aws.region}{suffix}/{key}"}


def existing_stack(aws: Aws, stack_name: str) -> dict[str, Any] | None:
    cfn = aws.client("cloudformation")
    import botocore.exceptions

    with aws_errors(f"stack {stack_name}", aws.where()):
        try:
            return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        except botocore.exceptions.ClientError as error:
            if "does not exist" in error_message(error):
                return None
            raise


def latest_event(aws: Aws, stack_name: str) -> Event | None:
    """The stack's newest event (one page), to tell a working operation from one that stopped moving."""
    with aws_errors(f"stack {stack_name}: reading events", aws.where()):
        page = aws.client("cloudformation").describe_stack_events(StackName=stack_name)
    events = page.get("StackEvents") or ()
    return Event.from_api(events[0]) if events else None


def change_type_for(stack: dict[str, Any] | None, stack_name: str, last_event: Event | None = None,
                    now: datetime | None = None) -> str:
    """CREATE for a new stack, UPDATE for a settled one; one line naming the status and the next step otherwise."""
    blocked = blocked_for_deploy(stack, stack_name, last_event, now)
    if blocked:
        raise AwsError(blocked)
    return "CREATE" if stack is None else "UPDATE"


def deploy(aws: Aws, request: DeployRequest, out: StatusLine,
           confirm: Callable[[str], bool] | None = None) -> DeployOutcome:
    """Run the whole flow; raises AwsError for bad input, returns the outcome otherwise."""
    check_stack_name(request.stack_name)
    check_references(request.template)
    name = request.stack_name
    cfn = aws.client("cloudformation")
    stack = existing_stack(aws, name)
    busy = stack is not None and stack.get("StackStatus", "").endswith("_IN_PROGRESS")
    change_type = change_type_for(stack, name, latest_event(aws, name) if busy else None, request.now())
    previous = [p["ParameterKey"] for p in (stack or {}).get("Parameters") or ()] if change_type == "UPDATE" else []
    parameters = stack_parameters(request.template, request.parameters, previous)
    stack_values = (stack or {}).get("Parameters") or () if change_type == "UPDATE" else ()
    previous_values = {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in stack_values}
    check_external_references(aws, request.template,
                              parameter_values(request.template, request.parameters, previous_values))
    source = template_source(aws, name, request.template, request.s3_bucket, out)

    verb = "creating" if change_type == "CREATE" else "updating"
    out.update(f"stack {name}: computing changes ({aws.where()})")
    change_set_id, _ = create_change_set(cfn, name, change_type, source, parameters, aws.where())
    result = wait_for_change_set(cfn, change_set_id, name, aws.where(), interval=min(request.poll_interval, 1.0),
                                  sleep=request.sleep)
    out.clear()
    created_for_review = stack is None

    def discard() -> None:
        delete_change_set(cfn, change_set_id, name)
        if created_for_review:
            _delete_review_stack(cfn, name)

    if result.no_changes:
        discard()
        out.print(f"stack {name}: no changes")
        return DeployOutcome("NO_CHANGES")
    if result.status != "CREATE_COMPLETE":
        discard()
        raise AwsError(f"stack {name}: CloudFormation rejected the change set: {result.reason or result.status}")

    show_changes(result, name, verb, out)
    if request.dry_run:
        discard()
        out.print(f"stack {name}: dry run, nothing changed")
        return DeployOutcome("DRY_RUN", changes=len(result.changes))
    if not request.yes:
        if confirm is None:
            discard()
            raise AwsError("confirmation needed but standard input is not a terminal; pass --yes to apply "
                           "the changes without asking")
        if not confirm(f"Apply these {len(result.changes)} changes to stack {name}? [y/N] "):
            discard()
            out.print(f"stack {name}: not changed")
            return DeployOutcome("DECLINED", changes=len(result.changes))
    return execute(aws, request, result, len(result.changes), out, change_type)


def show_changes(result: ChangeSetResult, stack_name: str, verb: str, out: StatusLine) -> None:
    changes = result.changes
    replaced = sum(1 for c in changes if c.action == "Modify" and c.replacement in ("True", "Conditional"))
    summary = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    if replaced:
        summary += f", {replaced} of them replacing a resource"
    out.print(f"stack {stack_name}: {verb}, {summary}:")
    id_width = max((len(c.logical_id) for c in changes), default=0)
    type_width = max((len(c.resource_type) for c in changes), default=0)
    for change in changes:
        out.print(format_change(change, id_width, type_width))


def execute(aws: Aws, request: DeployRequest, result: ChangeSetResult, total: int, out: StatusLine,
            operation: str = "UPDATE") -> DeployOutcome:
    import botocore.exceptions

    name = request.stack_name
    cfn = aws.client("cloudformation")
    follower = EventFollower(cfn, name, aws.where())
    follower.mark_existing()
    try:
        with aws_errors(f"stack {name}: executing the change set", aws.where()):
            try:
                cfn.execute_change_set(ChangeSetName=result.change_set_id, StackName=name)
            except botocore.exceptions.ClientError as error:
                # Some endpoints apply the change set inside the call and answer with the error of the
                # resource that failed (moto does); report it with whatever events were written.
                events = follower.poll()
                for event in events:
                    out.print(event.line())
                cause = f"{error_code(error)}: {error_message(error)}"
                return DeployOutcome("EXECUTE_FAILED", changes=total,
                                     failures=failure_lines(events, name) or [f"{name}: {cause}"],
                                     detail=_left_behind(aws, name, request.now()))
    except AwsError as error:
        return DeployOutcome("EXECUTE_FAILED", changes=total, failures=[str(error)])

    watched = watch(follower, total, out, request, operation)
    status = watched.status
    if status in SUCCESS_STATUSES:
        out.print(f"stack {name}: {status} in {watched.elapsed:.0f} s")
        return DeployOutcome(status, changes=total)
    failures = failure_lines(follower.events, name)
    if status == "TIMEOUT":
        return DeployOutcome(status, changes=total, failures=failures,
                             detail=timeout_message(name, watched, request.timeout, operation))
    return DeployOutcome(status, changes=total, failures=failures or [f"{name}: {status}"])


def _left_behind(aws: Aws, stack_name: str, now: datetime) -> str:
    """After a change set failed to execute: the state the stack is left in, when it blocks the next deploy."""
    try:
        blocked = blocked_for_deploy(existing_stack(aws, stack_name), stack_name, None, now)
    except AwsError:
        blocked = None
    return f"{_DESCRIPTIONS['EXECUTE_FAILED']}; {blocked}" if blocked else ""


def _delete_review_stack(cfn: Any, stack_name: str) -> None:
    """A first change set creates an empty stack in REVIEW_IN_PROGRESS; remove it when nothing is applied."""
    import botocore.exceptions

    try:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=stack_name)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        pass
