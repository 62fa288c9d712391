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
    strategy = _strategy(options)
    if strategy:
        service.CapacityProviderStrategy = strategy
    elif options.capacity == "FARGATE":
        service.LaunchType = "FARGATE"
    # EC2 with no strategy sets neither: the cluster's default capacity provider strategy applies, or the
    # EC2 launch type when the cluster has none (as the original did).
    if options.is_fargate:
        service.NetworkConfiguration = _awsvpc(options)
    else:
        if options.placement_constraints:
            service.PlacementConstraints = options.placement_constraints
        if options.placement_strategies:
            service.PlacementStrategies = options.placement_strategies
    return [service]


def _strategy(options: Options) -> list[CapacityProviderStrategyItem]:
    """The strategy given, or all on FARGATE_SPOT for that capacity."""
    if not options.capacity_provider_strategy and options.capacity == "FARGATE_SPOT":
        return [CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1)]
    return [CapacityProviderStrategyItem(**{_STRATEGY_KEYS[key]: value for key, value in item.items()})
            for item in options.capacity_provider_strategy]


_STRATEGY_KEYS = {"capacity_provider": "CapacityProvider", "weight": "Weight", "base": "Base"}


def _awsvpc(options: Options) -> NetworkConfiguration:
    config = AwsvpcConfiguration(Subnets=options.fargate_subnets, AssignPublicIp=options.fargate_public_ip)
    if options.fargate_security_groups is not None:
        config.SecurityGroups = options.fargate_security_groups
    return NetworkConfiguration(AwsvpcConfiguration=config)

