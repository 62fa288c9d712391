"""Variants of the Watchbot 10 fixtures: another stack name, region, prefix and construct id.

Built from what the v10 README says the construct does (names from the stack name and prefix, the table's
whole name lowercased, ids from the construct's path), so tests prove migrate reads ids and names from the
template it is given rather than from the three stored files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V10 = FIXTURES / "watchbot-v10"
STACK, REGION, PREFIX, CONSTRUCT, STACK_ID = "my-stack", "us-east-1", "Watchbot", "Watchbot", "MyStack"


def v10(name: str) -> dict[str, Any]:
    return json.loads((V10 / f"{name}.template.json").read_text())


def variant(name: str, *, stack: str, region: str, prefix: str, construct: str, stack_id: str = "Pipeline",
            parent: str = "") -> dict[str, Any]:
    """The v10 fixture ``name`` as the construct would have written it for these names.

    ``parent`` nests the construct deeper in the app (``Team/``), which changes paths and ids, not names.
    """
    template = v10(name)
    id_head = parent.replace("/", "") + construct
    ids: dict[str, str] = {}
    for key in template["Resources"]:
        if key == f"{PREFIX}LogGroup":
            ids[key] = f"{prefix}LogGroup"  # overridden by the construct: <prefix>LogGroup
        elif key.startswith(CONSTRUCT):
            ids[key] = id_head + key[len(CONSTRUCT):]
    outputs = {key: id_head + key[len(CONSTRUCT):] for key in template.get("Outputs", {}) if key.startswith(CONSTRUCT)}
    texts = [
        (f"{STACK}-{PREFIX}-progress".lower(), f"{stack}-{prefix}-progress".lower()),
        (f"{STACK}-{REGION}-{PREFIX.lower()}", f"{stack}-{region}-{prefix.lower()}"),
        (f"{STACK}-{PREFIX}", f"{stack}-{prefix}"),
        (f"{STACK}-topic", f"{stack}-topic"),
        (f"{STACK_ID}/{CONSTRUCT}/", f"{stack_id}/{parent}{construct}/"),
        (f"{STACK_ID}/CDKMetadata", f"{stack_id}/CDKMetadata"),
        (REGION, region),
    ]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {ids.get(key, outputs.get(key, key)): walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            if value in ids:
                return ids[value]
            for old, new in texts:
                value = value.replace(old, new)
        return value

    return walk(template)


SOURCE = """# The system that takes over a Watchbot 10 stack
cluster = "processing"
service = "my-service"
service_version = "1"
command = "echo hi"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-service:1"
capacity = "FARGATE"
fargate_subnets = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
notification_topic = "arn:aws:sns:us-east-1:123456789012:on-call"
max_size = 10
dead_letter_threshold = 10
"""


def source(name: str, prefix: str = PREFIX) -> str:
    """A TOML source of the system that takes over the v10 fixture ``name`` (same props)."""
    text = SOURCE
    if prefix != PREFIX:
        text += f'prefix = "{prefix}"\n'
    if name == "reduce":
        text += "reduce = true\n"
    if name == "fifo":
        text += "fifo = true\n"
    return text


def other_flags(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` as other CDK feature flags write it: property values differ, ids and names do not (README).

    The queue policy loses its ``AWS: *`` statement, the service its deployment alarms, the queues say
    SqsManagedSseEnabled, and the task role's policy gains a statement.
    """
    changed = json.loads(json.dumps(template))
    for item in changed["Resources"].values():
        properties = item.get("Properties", {})
        if item["Type"] == "AWS::SQS::QueuePolicy":
            statements = properties["PolicyDocument"]["Statement"]
            properties["PolicyDocument"]["Statement"] = [s for s in statements if s.get("Principal") != {"AWS": "*"}]
        elif item["Type"] == "AWS::ECS::Service":
            properties.get("DeploymentConfiguration", {}).pop("Alarms", None)
        elif item["Type"] == "AWS::SQS::Queue":
            properties["SqsManagedSseEnabled"] = True
        elif item["Type"] == "AWS::IAM::Policy":
            properties["PolicyDocument"]["Statement"].append(
                {"Action": "logs:CreateLogStream", "Effect": "Allow", "Resource": "*"})
    return changed
