"""Property: every option set either raises OptionsError or renders a template
that cfn-lint passes with no errors and no warnings.

Option sets are drawn coherently (Fargate options with Fargate capacity, ...)
and then, for about half of them, one option is replaced by a value that is
not allowed, so both outcomes are exercised. Intrinsics appear both as dicts
(as read from TOML) and as troposphere objects; the parameters they refer to
are added before linting. Examples per run follow the hypothesis profile in
tests/conftest.py (HYPOTHESIS_PROFILE=deep for many more).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import event, example, given, note
from hypothesis import strategies as st
from troposphere import Parameter

from tests.support.strategies import INTRINSIC_PARAMETERS, invalid_values, valid_values
from tests.support.templates import walk
from watchbot_cfn import contract, template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.lint import lint
from watchbot_cfn.options import option_specs
from watchbot_cfn.rules import FARGATE_SIZES

#: CloudFormation types of the parameters intrinsic options refer to.
PARAMETER_TYPES = dict(INTRINSIC_PARAMETERS.values())

#: Options the composite below draws itself, because a cross-option rule (rules.py) ties them together.
COMPOSED = {"capacity", "fargate_subnets", "fargate_security_groups", "fargate_public_ip", "mounts", "reservation",
            "placement_constraints", "placement_strategies", "ephemeral_storage_gib", "privileged",
            "stop_timeout", "drain_timeout", "fifo", "webhook", "reduce", "read_capacity_units",
            "write_capacity_units", "notification_email", "notification_topic", "max_size", "min_size", "env",
            "secrets", "capacity_provider_strategy", "progress_table_kms_key", "topic_publishers"}
SPECS = {spec.name: spec for spec in option_specs()}


def draw_value(draw: st.DrawFn, name: str) -> Any:
    return draw(valid_values(SPECS[name]))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def valid_option_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Options that should render: each from its own declaration, then those that rules tie together."""
    chosen: dict[str, Any] = {}
    for name, spec in SPECS.items():
        if name in COMPOSED:
            continue
        if spec.required or draw(st.booleans()):
            chosen[name] = draw(valid_values(spec))
    capacity = draw_value(draw, "capacity")
    chosen["capacity"] = capacity
    for name in ("fargate_subnets", "fargate_security_groups", "fargate_public_ip", "placement_constraints",
                 "placement_strategies", "ephemeral_storage_gib", "privileged"):
        if capacity in SPECS[name].capacities and (name == "fargate_subnets" or draw(st.booleans())):
            chosen[name] = draw_value(draw, name)
    if draw(st.booleans()):
        providers = ["FARGATE", "FARGATE_SPOT"] if capacity != "EC2" else ["workers-asg", "spot-asg"]
        strategy = draw(valid_values(SPECS["capacity_provider_strategy"]))
        # a provider for this capacity each, and a base on the first only (rules.py)
        chosen["capacity_provider_strategy"] = [
            {key: value for key, value in item.items() if key != "base" or index == 0}
            | {"capacity_provider": providers[index % 2]} for index, item in enumerate(strategy)]
    mounts = draw(optional(valid_values(SPECS["mounts"])))
    if mounts is not None:
        chosen["mounts"] = mounts if capacity != "EC2" or not draw(st.booleans()) else ["/mnt/cache:/cache", "/tmp"]
    if capacity == "EC2":
        reservation = draw(valid_values(SPECS["reservation"]))
        if "soft_memory" in reservation and "memory" in reservation:
            reservation["soft_memory"] = min(reservation["soft_memory"], reservation["memory"])
    else:
        cpu = draw(st.sampled_from(sorted(FARGATE_SIZES)))
        reservation = {"cpu": cpu, "memory": draw(st.sampled_from(FARGATE_SIZES[cpu]))} if draw(st.booleans()) else {}
    chosen["reservation"] = reservation
    chosen["stop_timeout"] = draw_value(draw, "stop_timeout")
    drain = draw_value(draw, "drain_timeout")
    chosen["drain_timeout"] = min(drain, chosen["stop_timeout"] - contract.SHUTDOWN_MARGIN) if (
        contract.stop_timeout_for(drain) > chosen["stop_timeout"]) else drain
    if chosen["drain_timeout"] < 0:
        chosen["stop_timeout"], chosen["drain_timeout"] = contract.DEFAULT_STOP_TIMEOUT, contract.DEFAULT_DRAIN_TIMEOUT
    chosen["fifo"] = draw_value(draw, "fifo")
    chosen["webhook"] = False if chosen["fifo"] else draw_value(draw, "webhook")
    chosen["reduce"] = draw_value(draw, "reduce")
    if chosen["reduce"] and draw(st.booleans()):
        chosen["read_capacity_units"] = draw_value(draw, "read_capacity_units")
        chosen["write_capacity_units"] = draw_value(draw, "write_capacity_units")
    if chosen["reduce"] and draw(st.booleans()):
        chosen["progress_table_kms_key"] = draw_value(draw, "progress_table_kms_key")
    if not chosen["fifo"] and draw(st.booleans()):
        chosen["topic_publishers"] = draw_value(draw, "topic_publishers")
    target = draw(st.sampled_from(["notification_email", "notification_topic"]))
    chosen[target] = draw_value(draw, target)
    chosen["max_size"] = draw_value(draw, "max_size")
    min_size = draw_value(draw, "min_size")
    if isinstance(min_size, int) and isinstance(chosen["max_size"], int):
        min_size = min(min_size, chosen["max_size"])
    chosen["min_size"] = min_size
    chosen["env"] = draw_value(draw, "env")
    secrets = draw_value(draw, "secrets")
    chosen["secrets"] = {key: value for key, value in secrets.items() if key not in chosen["env"]}
    return chosen


#: Values each option never accepts, alone or in any combination (read from the declarations too).
INVALID: dict[str, list[Any]] = {name: invalid_values(spec) for name, spec in SPECS.items()}
INVALID.update({"unknown_option": [True], "deadletterThreshold": [3]})


@st.composite
def option_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid set, or one with a single value that is never allowed."""
    chosen = draw(valid_option_sets())
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(INVALID)))
        chosen[name] = draw(st.sampled_from(INVALID[name]))
        note(f"invalid {name}={chosen[name]!r}")
    return chosen


def with_referenced_parameters(built: Any) -> dict[str, Any]:
    """The rendered template plus a Parameter for every intrinsic option's Ref."""
    body = built.to_dict()
    referenced = {node["Ref"] for node in walk(body) if isinstance(node, dict) and "Ref" in node}
    for name, kind in sorted(PARAMETER_TYPES.items()):
        if name in referenced:
            built.add_parameter(Parameter(name, Type=kind))
    return built.to_dict()


MINIMAL = {"cluster": "processing", "service": "worker", "service_version": "0123abcd", "command": "run",
           "notification_email": "ops@example.com"}


@pytest.mark.timeout(3600)  # HYPOTHESIS_PROFILE=deep lints hundreds of templates
def test_every_option_set_raises_options_error_or_lints_clean():
    outcomes: Counter[str] = Counter()

    @example(MINIMAL)
    @example({**MINIMAL, "capacity": "FARGATE"})  # no subnets
    @given(option_sets())
    def check(given_options: dict[str, Any]) -> None:
        try:
            built = template(**given_options)
        except OptionsError as error:
            outcomes["rejected"] += 1
            event(f"rejected: {error.option}")
            return
        body = with_referenced_parameters(built)
        findings = [str(f) for f in lint(body) if f.level != "informational"]
        assert findings == []
        outcomes["rendered"] += 1
        event("rendered")
        assert all("DesiredCount" not in r.get("Properties", {})
                   for r in body["Resources"].values() if r["Type"] == "AWS::ECS::Service")

    check()
    assert outcomes["rejected"] >= 1 and outcomes["rendered"] >= 1, outcomes
