"""The ECS service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.templates import FARGATE, SECURITY_GROUPS, SUBNETS, rendered
from tests.support.templates import REQUIRED as REQUIRED_FOR_SERVICE
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.options import Options
from watchbot_cfn.resources import service


def properties(**overrides: Any) -> dict[str, Any]:
    [only] = rendered(service.build, **overrides).values()
    return only["Properties"]


@pytest.mark.parametrize("capacity", [{}, FARGATE, {**FARGATE, "capacity": "FARGATE_SPOT"}],
                         ids=["EC2", "FARGATE", "FARGATE_SPOT"])
def test_service_never_sets_a_desired_count(capacity):
    assert "DesiredCount" not in properties(**capacity)


def test_service_runs_the_task_definition_on_the_cluster_and_tags_tasks():
    built = properties(prefix="Thumbs", cluster={"Ref": "Cluster"})
    assert built["TaskDefinition"] == {"Ref": "ThumbsTaskDefinition"}
    assert built["Cluster"] == {"Ref": "Cluster"}
    assert built["PropagateTags"] == "TASK_DEFINITION"
    assert built["EnableECSManagedTags"] is True


def test_a_release_that_cannot_start_is_rolled_back():
    breaker = properties()["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}


def test_ec2_service_uses_the_ec2_launch_type_and_its_placement():
    constraints = [{"Type": "memberOf", "Expression": "attribute:ecs.instance-type =~ c5.*"}]
    strategies = [{"Type": "spread", "Field": "attribute:ecs.availability-zone"}, {"Type": "binpack",
                                                                                     "Field": "memory"}]
    built = properties(placement_constraints=constraints, placement_strategies=strategies)
    assert "LaunchType" not in built  # the cluster's default capacity provider strategy applies
    assert built["PlacementConstraints"] == constraints
    assert built["PlacementStrategies"] == strategies
    assert "NetworkConfiguration" not in built and "CapacityProviderStrategy" not in built


def test_placement_may_be_an_intrinsic():
    built = properties(placement_strategies={"Ref": "Strategies"})
    assert built["PlacementStrategies"] == {"Ref": "Strategies"}


def test_fargate_service_uses_the_launch_type_and_the_given_network():
    built = properties(**FARGATE, fargate_security_groups=SECURITY_GROUPS, fargate_public_ip="ENABLED")
    assert built["LaunchType"] == "FARGATE"
    assert built["NetworkConfiguration"] == {"AwsvpcConfiguration": {
        "Subnets": SUBNETS, "SecurityGroups": SECURITY_GROUPS, "AssignPublicIp": "ENABLED"}}
    assert "PlacementConstraints" not in built


def test_fargate_network_defaults_to_no_public_ip_and_the_vpc_default_security_group():
    config = properties(**FARGATE)["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert config == {"Subnets": SUBNETS, "AssignPublicIp": "DISABLED"}


def test_fargate_network_accepts_intrinsics():
    config = properties(capacity="FARGATE", fargate_subnets={"Ref": "Subnets"},
                        fargate_security_groups=[{"Ref": "Group"}],
                        fargate_public_ip={"Ref": "PublicIp"})["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert config == {"Subnets": {"Ref": "Subnets"}, "SecurityGroups": [{"Ref": "Group"}],
                      "AssignPublicIp": {"Ref": "PublicIp"}}


def test_fargate_spot_uses_a_capacity_provider_strategy_instead_of_a_launch_type():
    built = properties(**FARGATE | {"capacity": "FARGATE_SPOT"})
    assert built["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert "LaunchType" not in built
    assert "AwsvpcConfiguration" in built["NetworkConfiguration"]


def test_reduce_mode_service_waits_for_the_progress_table_policy():
    import watchbot_cfn

    built = watchbot_cfn.template(**{**REQUIRED_FOR_SERVICE, "reduce": True}).to_dict()["Resources"]
    policy = built["WatchbotService"]["DependsOn"]
    assert policy == ["WatchbotProgressTablePolicy"]
    assert built["WatchbotProgressTablePolicy"]["Properties"]["Roles"] == [{"Ref": "WatchbotTaskRole"}]
    plain = watchbot_cfn.template(**REQUIRED_FOR_SERVICE).to_dict()["Resources"]
    assert "DependsOn" not in plain["WatchbotService"]


def test_a_capacity_provider_strategy_replaces_the_launch_type():
    mixed = [{"capacity_provider": "FARGATE", "weight": 1, "base": 2},
             {"capacity_provider": "FARGATE_SPOT", "weight": 3}]
    built = properties(**FARGATE, capacity_provider_strategy=mixed)
    assert built["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1, "Base": 2},
                                                 {"CapacityProvider": "FARGATE_SPOT", "Weight": 3}]
    assert "LaunchType" not in built
    on_ec2 = properties(capacity_provider_strategy=[{"capacity_provider": {"Ref": "AsgProvider"}, "weight": 1}])
    assert on_ec2["CapacityProviderStrategy"] == [{"CapacityProvider": {"Ref": "AsgProvider"}, "Weight": 1}]


@pytest.mark.parametrize("given, strategy, words", [
    ({}, [{"capacity_provider": "FARGATE_SPOT"}], "EC2 tasks run on EC2 (not FARGATE) capacity providers only"),
    (FARGATE, [{"capacity_provider": "my-asg-provider"}], "FARGATE tasks run on FARGATE or FARGATE_SPOT"),
    (FARGATE, [{"capacity_provider": "FARGATE", "base": 1}, {"capacity_provider": "FARGATE_SPOT", "base": 1}],
     "only one capacity provider may have a base"),
    ({}, [{"weight": 1}], "capacity_provider"),
    ({}, [{"capacity_provider": "x", "weight": 1001}], "weight"),
])
def test_a_strategy_that_cannot_place_tasks_is_refused(given, strategy, words):
    with pytest.raises(OptionsError) as caught:
        Options.build(**REQUIRED_FOR_SERVICE, **given, capacity_provider_strategy=strategy)
    assert caught.value.option == "capacity_provider_strategy" and words in str(caught.value)
