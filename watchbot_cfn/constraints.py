"""What an option accepts, declared as data.

Each constraint is a frozen record (``records.py``) whose fields say what is allowed (bounds,
choices, a pattern, the keys of an object), in the spirit of troposphere's
``props`` and cfn-lint's constraints-as-data. Validation (:meth:`check`), the
error text and the docs (:attr:`allowed`) and the test strategies all read
those fields, so no range is written twice.

Intrinsics are decided elsewhere (``options.py``): a constraint only ever sees
literal values, except inside containers where single items may be intrinsics
(``intrinsic_items``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from watchbot_cfn import contract
from watchbot_cfn.errors import excerpt
from watchbot_cfn.intrinsics import is_intrinsic
from watchbot_cfn.records import field, record

__all__ = [
    "Bool",
    "Choice",
    "CommandList",
    "Constraint",
    "EnvMap",
    "FromSetting",
    "Int",
    "Invalid",
    "KMS_KEY_ARN",
    "ListOf",
    "Mounts",
    "Number",
    "Period",
    "Placement",
    "Record",
    "SERVICE_PRINCIPAL",
    "SecretMap",
    "Statements",
    "Text",
]

#: Container variable names (also the keys of ``env`` and ``secrets``).
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class Invalid(Exception):
    """Raised by a check with a sentence saying what is allowed."""


class Constraint:
    """Base of every constraint: ``check`` raises :class:`Invalid`, ``allowed`` says what passes."""

    def check(self, value: Any) -> None:
        raise NotImplementedError

    @property
    def allowed(self) -> str:
        raise NotImplementedError


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _is_number(value: Any, whole: bool) -> bool:
    if isinstance(value, bool):
        return False
    if whole:
        return isinstance(value, int)
    return isinstance(value, (int, float)) and math.isfinite(value)


@record
class Bool(Constraint):
    def check(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise Invalid("expected true or false")

    @property
    def allowed(self) -> str:
        return "true or false"


@record
class Int(Constraint):
    """A whole number from ``low`` to ``high`` (no upper bound when ``high`` is None)."""

    low: int
    high: int | None = None
    whole: bool = True

    def check(self, value: Any) -> None:
        if not _is_number(value, self.whole) or value < self.low or (self.high is not None and value > self.high):
            raise Invalid(f"expected {self.allowed}")

    @property
    def allowed(self) -> str:
        what = "a whole number" if self.whole else "a number"
        if self.high is None:
            return f"{what} of at least {_figure(self.low)}"
        return f"{what} from {_figure(self.low)} to {_figure(self.high)}"


@record
class Number(Int):
    """A number (fractions allowed) from ``low`` to ``high``."""

    whole: bool = False


@record
class FromSetting(Constraint):
    """An option that writes a watcher setting accepts exactly what the watcher accepts."""

    setting: contract.Setting

    def check(self, value: Any) -> None:
        problem = self.setting.problem(value)
        if problem is not None:
            raise Invalid(problem)

    @property
    def allowed(self) -> str:
        return self.setting.allowed

    @property
    def bounds(self) -> Int | Bool:
        """The same bounds as a plain constraint (for test strategies)."""
        if self.setting.kind == contract.KIND_BOOL:
            return Bool()
        low = self.setting.low if self.setting.low is not None else 0
        high = self.setting.high
        if self.setting.kind == contract.KIND_INT:
            return Int(int(low), None if high is None else int(high))
        return Number(int(low), None if high is None else int(high))


@record
class Period(Constraint):
    """A CloudWatch alarm period: a multiple of ``step`` seconds up to ``high``, or one of the ``short`` ones."""

    short: tuple[int, ...] = ()
    step: int = 60
    high: int = 86_400

    def check(self, value: Any) -> None:
        if not _is_number(value, whole=True) or not (
                value in self.short or (0 < value <= self.high and value % self.step == 0)):
            raise Invalid(f"expected {self.allowed}")

    @property
    def allowed(self) -> str:
        short = ", ".join(map(str, self.short))
        return (f"{short} or " if short else "") + f"a multiple of {self.step} seconds up to {_figure(self.high)}"


@record
class Choice(Constraint):
    """One of ``values``; ``why`` explains a short list to the user."""

    values: tuple[Any, ...]
    why: str = ""

    def check(self, value: Any) -> None:
        wrong_bool = isinstance(value, bool) and not any(isinstance(v, bool) for v in self.values)
        if wrong_bool or value not in self.values:
            raise Invalid(f"allowed: {self.allowed}" + (f" ({self.why})" if self.why else ""))

    @property
    def allowed(self) -> str:
        return ", ".join(repr(v) for v in self.values)


@record
class Text(Constraint):
    """A non-empty string, matching ``pattern`` when one is given; ``what`` describes it."""

    pattern: str | None = None
    what: str = "a non-empty string"

    def check(self, value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise Invalid(f"expected {self.what}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise Invalid(f"expected {self.what}")

    @property
    def allowed(self) -> str:
        return self.what


@record
class ListOf(Constraint):
    """A list whose items pass ``item``; single items may be intrinsics."""

    item: Constraint

    def check(self, value: Any) -> None:
        if not isinstance(value, (list, tuple)):
            raise Invalid("expected a list")
        for element in value:
            if not is_intrinsic(element):
                try:
                    self.item.check(element)
                except Invalid as invalid:
                    raise Invalid(f"{invalid}, not {excerpt(element)}") from None

    @property
    def allowed(self) -> str:
        return f"a list of {self.item.allowed}"


@record
class EnvMap(Constraint):
    """Variable name -> string, number, boolean or intrinsic (the container's own ``env``)."""

    def check(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid("expected a mapping of names to values")
        for key, item in value.items():
            if not isinstance(key, str) or not re.fullmatch(ENV_NAME, key):
                raise Invalid(f"names must be environment-variable names, not {excerpt(key)}")
            if not (isinstance(item, (str, int, float, bool)) or is_intrinsic(item)):
                raise Invalid(f"value of {excerpt(key)} must be a string, number or intrinsic")

    @property
    def allowed(self) -> str:
        return "a mapping of environment-variable names to strings, numbers or intrinsics"


#: A Secrets Manager or SSM Parameter Store ARN (ECS also allows a JSON key suffix on secrets).
SECRET_ARN = r"arn:[\w-]+:(secretsmanager|ssm):[\w-]+:\d{12}:.+"


@record
class SecretMap(Constraint):
    """Variable name -> Secrets Manager ARN, SSM parameter ARN, SSM parameter name, or intrinsic."""

    def check(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid("expected a mapping of variable names to secret or parameter ARNs")
        for key, item in value.items():
            if not isinstance(key, str) or not re.fullmatch(ENV_NAME, key):
                raise Invalid(f"names must be environment-variable names, not {excerpt(key)}")
            if is_intrinsic(item):
                continue
            if not isinstance(item, str) or not item or "${" in item:
                raise Invalid(f"value of {excerpt(key)} must be a secret ARN, a parameter ARN or name, or an intrinsic")
            if item.startswith("arn:") and not re.fullmatch(SECRET_ARN, item):
                raise Invalid(f"value of {excerpt(key)} must be a Secrets Manager or SSM parameter ARN, "
                              f"not {excerpt(item)}")

    @property
    def allowed(self) -> str:
        return "a mapping of variable names to Secrets Manager ARNs, SSM parameter ARNs or names, or intrinsics"


@record
class Mounts(Constraint):
    """``containerPath`` or ``hostPath:containerPath`` entries, as a list or a comma-separated string."""

    def check(self, value: Any) -> None:
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, (list, tuple)):
            raise Invalid(f"expected {self.allowed}")
        containers: list[str] = []
        for entry in entries:
            if not isinstance(entry, str):
                raise Invalid(f"expected {self.allowed}")
            paths = entry.strip().split(":")
            if len(paths) > 2:
                raise Invalid(f"expected 'containerPath' or 'hostPath:containerPath', not {excerpt(entry)}")
            for path in paths:
                if not path.startswith("/"):
                    raise Invalid(f"mount paths must be absolute, not {excerpt(entry)}")
            trouble = contract.volume_problem(paths[-1])
            if trouble:
                raise Invalid(f"container paths must be {trouble}, not {excerpt(entry)}")
            containers.append(paths[-1])
        repeated = sorted({c for c in containers if containers.count(c) > 1})
        if repeated:
            raise Invalid(f"each container path may be mounted once; repeated: {repeated}")

    @property
    def allowed(self) -> str:
        return "a list (or comma-separated string) of 'containerPath' or 'hostPath:containerPath'"


_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})


@record
class Statements(Constraint):
    """IAM statements for the task role: awacs Statements or dicts in CloudFormation form."""

    def check(self, value: Any) -> None:
        from awacs.aws import Statement

        if not isinstance(value, (list, tuple)):
            raise Invalid("expected a list of IAM statements")
        for statement in value:
            if isinstance(statement, Statement):
                continue
            if not isinstance(statement, dict):
                raise Invalid("each statement must be an object (Effect, Action, Resource) or an awacs Statement")
            unknown = set(statement) - _STATEMENT_KEYS
            if unknown:
                raise Invalid(f"unknown statement keys {sorted(unknown)}; a role's statements take no Principal"
                              if "Principal" in unknown else f"unknown statement keys {sorted(unknown)}")
            if statement.get("Effect") not in ("Allow", "Deny"):
                raise Invalid("each statement needs Effect 'Allow' or 'Deny'")
            if ("Action" in statement) == ("NotAction" in statement):
                raise Invalid("each statement needs exactly one of Action or NotAction")
            if ("Resource" in statement) == ("NotResource" in statement):
                raise Invalid("each statement needs exactly one of Resource or NotResource")

    @property
    def allowed(self) -> str:
        return "a list of IAM statements (Effect, Action, Resource; no Principal)"


@record
class Placement(Constraint):
    """ECS placement objects in CloudFormation form: ``Type`` plus the keys that type takes."""

    types: tuple[str, ...]
    keys: tuple[str, ...]

    def check(self, value: Any) -> None:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) for v in value):
            raise Invalid("expected a list of objects")
        for item in value:
            if is_intrinsic(item):
                continue
            unknown = set(item) - set(self.keys) - {"Type"}
            if unknown:
                raise Invalid(f"unknown keys {sorted(unknown)}; allowed: Type, {', '.join(self.keys)}")
            if item.get("Type") not in self.types:
                raise Invalid("Type must be one of " + ", ".join(self.types))

    @property
    def allowed(self) -> str:
        return f"a list of objects with Type ({', '.join(self.types)}) and {', '.join(self.keys)}"


@record
class CommandList(Constraint):
    """A container health check command: a list of strings starting with one of ``first``."""

    first: tuple[str, ...] = ("CMD", "CMD-SHELL", "NONE")

    def check(self, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise Invalid("command must be a list of strings, e.g. ['CMD-SHELL', 'test -f /tmp/ok']")
        if not value or value[0] not in self.first:
            raise Invalid("command must start with " + ", ".join(self.first[:-1]) + " or " + self.first[-1])

    @property
    def allowed(self) -> str:
        return "a list of strings starting with " + ", ".join(self.first)


@record
class Record(Constraint):
    """An object with known keys, each checked by its own constraint.

    ``required`` keys must be present; ``intrinsic_items`` lets a key's value be
    an intrinsic instead of a literal.
    """

    fields: tuple[tuple[str, Constraint], ...]
    required: tuple[str, ...] = ()
    intrinsic_items: bool = False
    what: str = field(default="", compare=False)

    def check(self, value: Any) -> None:
        if not isinstance(value, dict) or any(key not in value for key in self.required):
            raise Invalid(f"expected {self.allowed}")
        known = dict(self.fields)
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise Invalid(f"unknown keys {unknown}; allowed: {', '.join(known)}")
        for key, item in value.items():
            if self.intrinsic_items and is_intrinsic(item):
                continue
            try:
                known[key].check(item)
            except Invalid as invalid:
                text = str(invalid)
                raise Invalid(text if text.startswith(key) else f"{key}: {text}") from None

    @property
    def allowed(self) -> str:
        if self.what:
            return self.what
        return "an object with " + ", ".join(f"{key} ({check.allowed})" for key, check in self.fields)


#: A KMS key ARN, single- or multi-Region. Aliases and bare key ids are not enough: an IAM policy grants use of a
#: key by its key ARN, and CloudWatch Logs accepts only a key ARN.
KMS_KEY_ARN = Text(r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/"
                   r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
                   "a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/<key id> (not an alias or a "
                   "bare key id: IAM policies and CloudWatch Logs need the key ARN)")
#: An AWS service principal such as ``s3.amazonaws.com``.
SERVICE_PRINCIPAL = Text(r"[a-z0-9][a-z0-9.-]{0,60}\.amazonaws\.com(\.cn)?",
                         "service principals such as s3.amazonaws.com or events.amazonaws.com")
