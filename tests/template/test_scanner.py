"""Security scanner exceptions are few, known and explained."""

from __future__ import annotations

from tests.support.templates import REQUIRED
from watchbot_cfn import template

EXPLAINED = {"CKV_AWS_26", "CKV_AWS_27", "CKV_AWS_158", "CKV_AWS_119", "CKV_AWS_73", "CKV_AWS_76", "CKV_AWS_120"}


def skipped_checks(body: dict) -> dict[str, list[dict]]:
    return {key: resource["Metadata"]["checkov"]["skip"] for key, resource in body["Resources"].items()
            if "checkov" in resource.get("Metadata", {})}


def test_every_skipped_check_is_a_known_one_with_a_reason():
    skipped = skipped_checks(template(**REQUIRED, reduce=True, webhook=True).to_dict())
    assert {"WatchbotQueue", "WatchbotDeadLetterQueue", "WatchbotTopic", "WatchbotLogGroup",
            "WatchbotNotificationTopic", "WatchbotProgressTable", "WatchbotWebhookStage"} <= set(skipped)
    for checks in skipped.values():
        for check in checks:
            assert check["id"] in EXPLAINED
            assert len(check["comment"]) > 40


def test_no_iam_check_is_skipped():
    body = template(**REQUIRED, reduce=True, capacity="FARGATE", fargate_subnets=["subnet-0123abcd"]).to_dict()
    iam = [key for key, resource in body["Resources"].items() if resource["Type"].startswith("AWS::IAM::")]
    assert iam and not set(iam) & set(skipped_checks(body))
