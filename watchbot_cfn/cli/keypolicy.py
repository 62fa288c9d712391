"""``watchbot-cfn key-policy``: the statements each customer managed key's policy must hold for a stack's systems.

A system given ``message_kms_key``, ``log_kms_key`` or ``progress_table_kms_key``
records in its template Metadata (``WatchbotCfn.<prefix>.KeyPolicy``) what the
key's own policy must allow, with placeholders for the stack that runs it
(resources/keys.py). This command fills them in: the stack name always; region,
account and partition when given. Whatever stays unknown is written as an
``Fn::Sub`` of the pseudo parameter, ready for a key declared in CloudFormation
in the same account and region. Statements are grouped by key (systems and
options that share a key share one policy) and their Sids carry the system's
prefix, so they stay unique in one policy. Offline: no AWS call.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from watchbot_cfn.cli.arguments import TEMPLATE_OR_SOURCE_HELP, describe
from watchbot_cfn.errors import SourceError

__all__ = ["KeyPolicyTarget", "add_arguments", "key_policies", "run"]

#: Where a system records its key policy statements (Metadata.WatchbotCfn, as cli/stackinfo.py reads it).
METADATA_KEY = "WatchbotCfn"
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
ACCOUNT = re.compile(r"\d{12}")
#: CloudFormation stack names: a letter, then letters, digits and hyphens, up to 128.
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
PARTITIONS = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


class KeyPolicyTarget:
    """The values that replace the placeholders; None where unknown."""

    def __init__(self, stack_name: str, region: str | None = None, account: str | None = None,
                 partition: str | None = None) -> None:
        if not STACK_NAME.fullmatch(stack_name):
            raise SourceError("--stack-name", f"{stack_name!r} is not a stack name (a letter, then letters, "
                                              "digits and hyphens, up to 128)")
        if region is not None and not REGION.fullmatch(region):
            raise SourceError("--region", f"{region!r} is not a region name such as us-east-1")
        if account is not None and not ACCOUNT.fullmatch(account):
            raise SourceError("--account", f"{account!r} is not an account id (12 digits)")
        if partition is None and region is not None:
            partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") \
                else "aws"
        self.values: dict[str, str | None] = {
            "<stack>": stack_name, "<region>": region, "<account>": account, "<partition>": partition,
            "<url-suffix>": PARTITIONS[partition] if partition is not None else None,
        }

    def fill(self, value: Any) -> Any:
        """``value`` with every placeholder replaced; an ``Fn::Sub`` where a placeholder stays unknown."""
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if not isinstance(value, str):
            return value
        from watchbot_cfn.resources.keys import PLACEHOLDERS

        unknown = False
        for placeholder, pseudo in PLACEHOLDERS.items():
            known = self.values[placeholder]
            if placeholder in value:
                unknown = unknown or known is None
                value = value.replace(placeholder, known if known is not None else f"${{{pseudo}}}")
        return {"Fn::Sub": value} if unknown else value


def key_policies(template: dict[str, Any], target: KeyPolicyTarget, origin: str) -> list[dict[str, Any]]:
    """One entry per key: the key, which systems' options use it, and the statements its policy needs."""
    systems = (template.get("Metadata") or {}).get(METADATA_KEY) or {}
    by_key: dict[str, dict[str, Any]] = {}
    for prefix, recorded in systems.items():
        snippet = recorded.get("KeyPolicy") if isinstance(recorded, dict) else None
        for option, entry in (snippet or {}).items():
            key = str(entry["Key"])
            found = by_key.setdefault(key, {"Key": key, "UsedBy": [], "Statement": []})
            found["UsedBy"].append(f"{prefix}.{option}")
            for statement in entry["Statement"]:
                found["Statement"].append(target.fill({**statement, "Sid": prefix + statement["Sid"]}))
    return list(by_key.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Print, for each customer managed KMS key a system uses (message_kms_key, log_kms_key, "
                    "progress_table_kms_key), the statements its key policy must hold: SNS delivering to the "
                    "encrypted queue, CloudWatch alarms and topic_publishers publishing, CloudWatch Logs writing "
                    "the log group, DynamoDB using the table key, and IAM policies of this account using the key "
                    "through those services. Add them to each key's policy before you deploy: creating an "
                    "encrypted log group or table fails without them. Values not given (region, account) are "
                    "left as Fn::Sub of the pseudo parameter, for a key declared in CloudFormation.",
        epilog="Examples: watchbot-cfn key-policy examples/hardened.toml --stack-name prod --region us-east-1 "
               "--account 123456789012; watchbot-cfn key-policy template.json --stack-name prod")
    parser.add_argument("source", metavar="SOURCE_OR_TEMPLATE",
                        help=TEMPLATE_OR_SOURCE_HELP)
    parser.add_argument("--stack-name", required=True, metavar="NAME", help="the stack that will run the systems")
    parser.add_argument("--region", metavar="REGION", help="its region (default: left as ${AWS::Region})")
    parser.add_argument("--account", metavar="ID", help="its account id (default: left as ${AWS::AccountId})")
    parser.add_argument("--partition", choices=sorted(PARTITIONS),
                        help="its partition (default: read from --region, else left as ${AWS::Partition})")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.sources.templatefile import load_template

    target = KeyPolicyTarget(args.stack_name, args.region, args.account, args.partition)
    policies = key_policies(load_template(args.source), target, args.source)
    sys.stdout.write(json.dumps(policies, indent=2) + "\n")
    if not policies:  # nothing to do is an answer, not an error
        print(f"{args.source}: no system sets message_kms_key, log_kms_key or progress_table_kms_key, so no key "
              "policy needs statements", file=sys.stderr)
    return 0
