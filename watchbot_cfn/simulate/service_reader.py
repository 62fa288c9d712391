"""What the service's task definition says about how jobs run and how tasks stop.

* jobs per task: the essential container's ``concurrency`` variable;
* the Watchbot watcher (the command is ``watchbot listen ...``): on SIGTERM it
  lets jobs finish for ``drainTimeout`` seconds and returns the others'
  messages at once; any other worker's messages reappear after the work
  queue's ``VisibilityTimeout``;
* task scale-in protection while jobs run: the container's ``taskProtection``
  variable, else a task role that may call ``ecs:UpdateTaskProtection`` (what
  the ECS agent's task-protection endpoint needs).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchbot_cfn import contract
from watchbot_cfn.simulate.lookup import CloudFormation, SimulationError, references

__all__ = ["CONCURRENCY_VARIABLE", "PROTECTION_ACTION", "PROTECTION_VARIABLE", "ServiceReader", "Workers"]

#: Container variable that says whether the watcher protects its task while jobs run.
PROTECTION_VARIABLE = contract.ENV_TASK_PROTECTION
#: IAM action the ECS agent's task-protection endpoint needs on the task role.
PROTECTION_ACTION = "ecs:UpdateTaskProtection"
CONCURRENCY_VARIABLE = contract.ENV_CONCURRENCY
DRAIN_VARIABLE = contract.ENV_DRAIN_TIMEOUT
#: The watcher's own default drainTimeout.
WATCHER_DRAIN_SECONDS = float(contract.DEFAULT_DRAIN_TIMEOUT)
#: SQS's default VisibilityTimeout.
SQS_VISIBILITY_TIMEOUT = 30.0
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


@dataclass
class Workers:
    """How the service's tasks run jobs and stop, with where each value came from."""

    concurrency: int = 1
    concurrency_source: str = "the template does not say"
    protection: bool = False
    protection_source: str = "default"
    watcher: bool = False
    drain_seconds: float = 0.0
    visibility_timeout: float = SQS_VISIBILITY_TIMEOUT


class ServiceReader:
    def __init__(self, cfn: CloudFormation, notes: list[str]) -> None:
        self.cfn = cfn
        self.notes = notes
        self.task_definition: str | None = None

    def workers(self, target_props: Mapping[str, Any], work_queue: str | None, concurrency: int | None,
                protection: bool | None) -> Workers:
        """Read the task definition behind a scalable target; ``concurrency``/``protection`` override it."""
        workers = Workers()
        container = self.container(target_props)
        environment: dict[str, Any] = {}
        name = "container"
        if container is not None:
            name = str(container.get("Name", "container"))
            for variable in container.get("Environment") or []:
                if isinstance(variable, Mapping) and isinstance(variable.get("Name"), str):
                    environment[variable["Name"]] = variable.get("Value")
            workers.watcher = _runs_watcher(container)
        where = f"{self.task_definition or 'task definition'} container {name}"
        if concurrency is not None:
            workers.concurrency, workers.concurrency_source = concurrency, "--concurrency"
        elif CONCURRENCY_VARIABLE in environment:
            workers.concurrency = self.cfn.integer(environment[CONCURRENCY_VARIABLE],
                                                   f"{where} variable {CONCURRENCY_VARIABLE}", 1)
            workers.concurrency_source = f"the container's {CONCURRENCY_VARIABLE} variable"
        if workers.watcher:
            drain = environment.get(DRAIN_VARIABLE, WATCHER_DRAIN_SECONDS)
            workers.drain_seconds = self.cfn.number(drain, f"{where} variable {DRAIN_VARIABLE}", 0)
        self._protection(workers, environment, where, protection)
        if work_queue is not None and "VisibilityTimeout" in self.cfn.props(work_queue):
            workers.visibility_timeout = self.cfn.number(self.cfn.props(work_queue)["VisibilityTimeout"],
                                                         f"{work_queue}.Properties.VisibilityTimeout", 0)
        elif work_queue is None:
            self.notes.append("the work queue cannot be told: a stopped task's message returns after SQS's "
                              f"default visibility timeout, {SQS_VISIBILITY_TIMEOUT:g} s")
        return workers

    def _protection(self, workers: Workers, environment: Mapping[str, Any], where: str,
                    override: bool | None) -> None:
        if override is not None:
            workers.protection, workers.protection_source = override, "--protection"
        elif PROTECTION_VARIABLE in environment:
            raw = str(self.cfn.resolve(environment[PROTECTION_VARIABLE], f"{where} variable {PROTECTION_VARIABLE}"))
            if raw.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise SimulationError(f"{where} variable {PROTECTION_VARIABLE}: {raw!r}; expected true or false")
            workers.protection = raw.lower() in TRUE_WORDS
            workers.protection_source = f"the container's {PROTECTION_VARIABLE} variable"
        elif self.role_allows_protection():
            workers.protection, workers.protection_source = True, f"the task role allows {PROTECTION_ACTION}"
        else:
            workers.protection_source = f"the task role may not call {PROTECTION_ACTION}"

    def container(self, target_props: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The essential container of the service the target scales (None, with a note, when not found)."""
        services = self.cfn.of_type("AWS::ECS::Service")
        service = next((ref for ref in references(target_props.get("ResourceId")) if ref in services), None)
        if service is None:
            self.notes.append("the scalable target names no ECS service of this template; "
                              "container settings take their defaults")
            return None
        task_definitions = self.cfn.of_type("AWS::ECS::TaskDefinition")
        task = next((ref for ref in references(self.cfn.props(service).get("TaskDefinition"))
                     if ref in task_definitions), None)
        if task is None:
            self.notes.append(f"{service} names no task definition of this template; "
                              "container settings take their defaults")
            return None
        containers = [c for c in self.cfn.props(task).get("ContainerDefinitions") or [] if isinstance(c, Mapping)]
        essential = [c for c in containers if str(c.get("Essential", True)).lower() != "false"]
        self.task_definition = task
        chosen = essential or containers
        return chosen[0] if chosen else None

    def role_allows_protection(self) -> bool:
        task = self.task_definition
        if task is None:
            return False
        roles = set(references(self.cfn.props(task).get("TaskRoleArn")))
        documents = []
        for role in roles:
            if role in self.cfn.resources:
                documents += [policy.get("PolicyDocument") for policy in self.cfn.props(role).get("Policies") or []
                              if isinstance(policy, Mapping)]
        for key in self.cfn.of_type("AWS::IAM::Policy"):
            attached = {ref for item in self.cfn.props(key).get("Roles") or [] for ref in references(item)}
            if attached & roles:
                documents.append(self.cfn.props(key).get("PolicyDocument"))
        return any(_allows(document, PROTECTION_ACTION) for document in documents)


def _runs_watcher(container: Mapping[str, Any]) -> bool:
    """The container's command is ``watchbot listen ...`` (directly, or through a shell)."""
    words: list[str] = []
    for part in ("EntryPoint", "Command"):
        value = container.get(part)
        if isinstance(value, list):
            words += [word for item in value if isinstance(item, str) for word in item.split()]
        elif isinstance(value, str):
            words += value.split()
    return any(word.rsplit("/", 1)[-1] == "watchbot" and following == "listen"
               for word, following in zip(words, words[1:], strict=False))


def _allows(document: Any, action: str) -> bool:
    if not isinstance(document, Mapping):
        return False
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        for pattern in actions:
            if isinstance(pattern, str) and _action_matches(pattern, action):
                return True
    return False


def _action_matches(pattern: str, action: str) -> bool:
    """IAM action patterns: case-insensitive, with ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())
