"""Resolve CloudFormation intrinsics against a deployed stack, for values CloudFormation would fill in.

``local`` needs what ECS would hand the container (``QueueUrl`` is a ``Ref``,
``ProgressTable`` a ``GetAtt``, a user's variable may be a ``Sub``), and the
properties of the few resources moto's CloudFormation skips. Supported: Ref
(parameters, pseudo parameters, resources), Fn::GetAtt for the attributes the
templates here use (looked up through the service APIs), Fn::Sub, Fn::Join,
Fn::Select, Fn::Split, Fn::FindInMap, Fn::If with the template's Conditions,
and the condition functions. Anything else raises :class:`Unresolvable`
naming it, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NO_VALUE", "StackResolver", "Unresolvable"]

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class Unresolvable(Exception):
    """An intrinsic this resolver cannot evaluate; the message names it."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


@dataclass
class StackResolver:
    """Evaluates intrinsics with a stack's parameters and physical ids (GetAtt values are built from them)."""

    template: Mapping[str, Any]
    stack_name: str
    region: str
    account: str
    parameters: Mapping[str, str]
    physical: Mapping[str, str]
    _conditions: dict[str, bool] = field(default_factory=dict)

    # -- Ref and GetAtt ---------------------------------------------------------------
    def ref(self, name: str) -> Any:
        pseudo: dict[str, Any] = {
                  "AWS::StackName": self.stack_name, "AWS::Region": self.region, "AWS::AccountId": self.account,
                  "AWS::Partition": "aws-cn" if self.region.startswith("cn-") else "aws",
                  "AWS::URLSuffix": "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com",
                  "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local",
                  "AWS::NotificationARNs": []}
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        declared = (self.template.get("Parameters") or {}).get(name)
        if declared is not None:
            value = self.parameters.get(name, declared.get("Default") if isinstance(declared, dict) else None)
            if value is None:
                raise Unresolvable(f"parameter {name} has no value")
            if isinstance(declared, dict) and str(declared.get("Type", "")).startswith(("List<", "CommaDelimited")):
                return [item.strip() for item in str(value).split(",")]
            return str(value)
        if name in self.physical:
            return self.physical[name]
        raise Unresolvable(f"Ref {name}: no such parameter, or the resource was not created")

    def get_att(self, name: str, attribute: str) -> Any:
        kind = str(((self.template.get("Resources") or {}).get(name) or {}).get("Type", ""))
        value = self.ref(name)
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        if kind == "AWS::SQS::Queue":
            if attribute == "QueueName":
                return value.rsplit("/", 1)[-1]
            if attribute == "QueueUrl":
                return value
            if attribute == "Arn":
                return arn.format("sqs", value.rsplit("/", 1)[-1])
        if kind == "AWS::SNS::Topic":
            if attribute == "TopicArn":
                return value
            if attribute == "TopicName":
                return value.rsplit(":", 1)[-1]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{self.account}:role/{value}"
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return arn.format("logs", f"log-group:{value}:*")
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return arn.format("dynamodb", f"table/{value}")
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{value}"
        if kind == "AWS::ECS::Service" and attribute == "Name":
            return value.rsplit("/", 1)[-1]
        raise Unresolvable(f"Fn::GetAtt {name}.{attribute} ({kind or 'unknown type'}) is not known locally")

    # -- conditions ---------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = (self.template.get("Conditions") or {}).get(name)
            if definition is None:
                raise Unresolvable(f"condition {name} is not defined")
            self._conditions[name] = bool(self._evaluate(definition))
        return self._conditions[name]

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (key, argument), = value.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(argument[0])
            if key == "Fn::And":
                return all(self._evaluate(item) for item in argument)
            if key == "Fn::Or":
                return any(self._evaluate(item) for item in argument)
            if key == "Condition":
                return self.condition(argument)
        return self.resolve(value)

    # -- everything ---------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated; NO_VALUE entries dropped from lists and maps."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                return str(argument[0]).join(str(part) for part in self.resolve(argument[1]))
            if key == "Fn::Split":
                return str(self.resolve(argument[1])).split(argument[0])
            if key == "Fn::Select":
                return self.resolve(argument[1])[int(self.resolve(argument[0]))]
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::FindInMap":
                table, first, second = (self.resolve(item) for item in argument[:3])
                return self.resolve(self.template["Mappings"][table][first][second])
            if key.startswith("Fn::") or key == "Condition":
                raise Unresolvable(f"{key} is not evaluated locally")
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved = {key: self.resolve(val) for key, val in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)
