"""The ECS service that keeps the watcher tasks running.

It sets no DesiredCount: scaling owns the running count, and a deploy must
never reset it. A deployment circuit breaker rolls back a release whose tasks
cannot start instead of retrying it forever.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref
from troposphere.ecs import (
    AwsvpcConfiguration,
    CapacityProviderStrategyItem,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    NetworkConfiguration,
    Service,
)

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options

__all__ = ["build"]


def build(options: Options, names: Names) -> list[Any]:
    service = Service(
        names.service,
        Cluster=options.cluster,
        TaskDefinition=Ref(names.task_definition),
        PropagateTags="TASK_DEFINITION",
        EnableECSManagedTags=True,
        DeploymentConfiguration=DeploymentConfiguration(
            DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
            MaximumPercent=200,
            MinimumHealthyPercent=100,
        ),
    )
    if options.reduce:
        # The table policy is a separate resource; without this the first tasks
        # could start before IAM lets them use the table.
        service.DependsOn = [names.progress_table_policy]
    if options.capacity == "FARGATE_SPOT":
        service.CapacityProviderStrategy = [CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1)]
    else:
        service.LaunchType = options.capacity
    if options.is_fargate:
        service.NetworkConfiguration = _awsvpc(options)
    else:
        if options.placement_constraints:
            service.PlacementConstraints = options.placement_constraints
        if options.placement_strategies:
            service.PlacementStrategies = options.placement_strategies
    return [service]


def _awsvpc(options: Options) -> NetworkConfiguration:
    config = AwsvpcConfiguration(Subnets=options.fargate_subnets, AssignPublicIp=options.fargate_public_ip)
    if options.fargate_security_groups is not None:
        config.SecurityGroups = options.fargate_security_groups
    return NetworkConfiguration(AwsvpcConfiguration=config)

