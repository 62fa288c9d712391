"""Rules that involve more than one option, as a table of small named rules.

Each :class:`Rule` says which option its error names,
when it is broken and what the message is. ``Options.build`` applies them in
table order after every single option has passed its own check, so the first
broken rule is the one reported. Which capacities an option applies to is not
a rule here: it is declared on the option itself and checked from there.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from watchbot_cfn import contract
from watchbot_cfn.constraints import Choice
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.records import record

if TYPE_CHECKING:  # options.py imports this module to apply the rules
    from watchbot_cfn.options import Options

__all__ = ["FARGATE_SIZES", "MAX_ALARM_WINDOW", "RULES", "Rule", "alarm_window_rules", "capacity_rules", "check",
           "reserved_env_names"]

#: CPU units -> memory MiB values Fargate accepts for that CPU.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


@record
class Rule:
    """One cross-option rule.

    ``broken`` returns something falsy while the rule holds; when it is broken
    it returns True, or a dict of extra fields for ``message``, which is
    formatted with ``o`` (the options) and those fields.
    """

    name: str
    option: str  # the option the error names
    broken: Callable[[Options], Any]
    message: str
    hint: str = ""


def reserved_env_names() -> frozenset[str]:
    """Container variables the template sets itself: ``env`` and ``secrets`` may not set them."""
    return frozenset(setting.env for setting in contract.SETTINGS)


def _literal_pair(o: Options, first: str, second: str) -> tuple[Any, Any] | None:
    if o.is_literal(first) and o.is_literal(second):
        return getattr(o, first), getattr(o, second)
    return None


def _min_exceeds_max(o: Options) -> bool:
    pair = _literal_pair(o, "min_size", "max_size")
    return pair is not None and pair[0] > pair[1]


#: Capacity providers ECS runs Fargate tasks on.
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def _providers(o: Options, wrong: Callable[[str], bool]) -> dict[str, Any] | None:
    names = [item["capacity_provider"] for index, item in enumerate(o.capacity_provider_strategy)
             if o.is_literal(f"capacity_provider_strategy[{index}].capacity_provider")]
    found = [name for name in names if wrong(name)]
    if not found:
        return None
    return {"names": found, "kind": "FARGATE or FARGATE_SPOT" if o.is_fargate else "EC2 (not FARGATE)"}


def _drain_too_long(o: Options) -> dict[str, Any] | None:
    if o.stop_timeout >= contract.stop_timeout_for(o.drain_timeout):
        return None
    return {"limit": o.stop_timeout - contract.SHUTDOWN_MARGIN}


def _fargate_size(o: Options) -> tuple[int, int] | None:
    """Fargate's (cpu, memory) when both are literals."""
    if not o.is_fargate or not o.fargate_size_is_literal:
        return None
    cpu, memory = o.fargate_cpu_memory
    return int(cpu), int(memory)


def _unknown_fargate_cpu(o: Options) -> bool:
    size = _fargate_size(o)
    return size is not None and size[0] not in FARGATE_SIZES


def _unfit_fargate_memory(o: Options) -> dict[str, Any] | None:
    size = _fargate_size(o)
    if size is None or size[0] not in FARGATE_SIZES or size[1] in FARGATE_SIZES[size[0]]:
        return None
    allowed = FARGATE_SIZES[size[0]]
    text = (", ".join(map(str, allowed)) if len(allowed) <= 4
            else f"{allowed[0]} to {allowed[-1]} in steps of {allowed[1] - allowed[0]}")
    return {"cpu": size[0], "allowed": text}


def _soft_exceeds_hard(o: Options) -> bool:
    hard, soft = o.reservation.get("memory"), o.reservation.get("soft_memory")
    both_literal = o.is_literal("reservation.memory") and o.is_literal("reservation.soft_memory")
    return both_literal and hard is not None and soft is not None and soft > hard


def _named_and_generated(o: Options) -> dict[str, Any] | None:
    both = [role for role in o.generated_names if role in o.resource_names]
    return {"roles": ", ".join(both)} if both else None


def _queue_name_unlike_its_kind(o: Options) -> dict[str, Any] | None:
    """SQS: a FIFO queue's name ends in .fifo, a standard queue's does not."""
    for role in ("queue", "dead_letter_queue"):
        name = o.resource_names.get(role)
        if isinstance(name, str) and name.endswith(".fifo") != bool(o.fifo):
            need = "must end in .fifo (fifo = true)" if o.fifo else "must not end in .fifo (fifo = false)"
            return {"role": role, "name": name, "need": need}
    return None


def _repeated_logical_ids(o: Options) -> dict[str, Any] | None:
    seen: dict[str, str] = {}
    for role, logical_id in o.logical_ids.items():
        if logical_id in seen:
            return {"logical_id": logical_id, "roles": f"{seen[logical_id]} and {role}"}
        seen[logical_id] = role
    return None


def _table_export_without_table(o: Options) -> bool:
    return not o.reduce and any(item.get("value") == "progress_table" for item in o.exports)


def _repeated_export(o: Options) -> dict[str, Any] | None:
    names = [item["name"] for item in o.exports]
    repeated = sorted({name for name in names if names.count(name) > 1})
    return {"name": repeated[0]} if repeated else None


RULES: tuple[Rule, ...] = (
    Rule("a notification target", "notification_email",
         lambda o: o.notification_email is None and o.notification_topic is None,
         "one of notification_email or notification_topic is required"),
    Rule("one notification target", "notification_topic",
         lambda o: o.notification_email is not None and o.notification_topic is not None,
         "give notification_email or notification_topic, not both"),
    Rule("min within max", "min_size", _min_exceeds_max,
         "must not exceed max_size ({o.max_size})"),
    Rule("drain inside stop timeout", "drain_timeout", _drain_too_long,
         f"must be at most stop_timeout - {contract.SHUTDOWN_MARGIN} ({{limit}}) so the watcher returns "
         "unfinished messages before ECS sends SIGKILL"),
    Rule("no webhook without a topic", "webhook", lambda o: o.fifo and o.webhook,
         "a webhook publishes to the SNS topic, which FIFO systems do not have", "set fifo=False or webhook=False"),
    Rule("Fargate needs subnets", "fargate_subnets",
         lambda o: o.is_fargate and o.fargate_subnets is None, "required when capacity is {o.capacity}"),
    Rule("Fargate capacity providers", "capacity_provider_strategy",
         lambda o: _providers(o, lambda name: (name in FARGATE_PROVIDERS) != o.is_fargate),
         "{o.capacity} tasks run on {kind} capacity providers only, not {names}"),
    Rule("one base", "capacity_provider_strategy",
         lambda o: sum(1 for item in o.capacity_provider_strategy if item.get("base")) > 1,
         "only one capacity provider may have a base"),
    Rule("no host paths on Fargate", "mounts",
         lambda o: o.is_fargate and any(host for host, _ in o.mount_list),
         "Fargate tasks cannot mount host paths; give container paths"),
    Rule("Fargate CPU size", "reservation", _unknown_fargate_cpu,
         "Fargate cpu must be one of " + ", ".join(map(str, FARGATE_SIZES))),
    Rule("Fargate memory for its CPU", "reservation", _unfit_fargate_memory,
         "Fargate cpu {cpu} allows memory (MiB) {allowed}"),
    Rule("soft memory within hard", "reservation", _soft_exceeds_hard,
         "soft_memory must not exceed memory"),
    Rule("capacity units in pairs", "read_capacity_units",
         lambda o: o.read_capacity_units is None and o.write_capacity_units is not None,
         "give both read_capacity_units and write_capacity_units, or neither"),
    Rule("capacity units in pairs", "write_capacity_units",
         lambda o: o.write_capacity_units is None and o.read_capacity_units is not None,
         "give both read_capacity_units and write_capacity_units, or neither"),
    Rule("capacity units need reduce mode", "read_capacity_units",
         lambda o: not o.reduce and o.read_capacity_units is not None, "applies only with reduce=True"),
    Rule("env leaves the watcher's variables alone", "env",
         lambda o: _reserved_in(o.env), "{names} are set by Watchbot itself"),
    Rule("secrets leave the watcher's variables alone", "secrets",
         lambda o: _reserved_in(o.secrets), "{names} are set by Watchbot itself"),
    Rule("each variable once", "secrets",
         lambda o: _names(set(o.env) & set(o.secrets)), "{names} are also given in env; give each variable once"),
    Rule("progress table key needs reduce mode", "progress_table_kms_key",
         lambda o: not o.reduce and o.progress_table_kms_key is not None,
         "applies only with reduce=True (there is no progress table otherwise)"),
    Rule("a name or a generated name", "generated_names",
         _named_and_generated, "names {roles}, which resource_names also names: keep one of the two"),
    Rule("queue names match the queue kind", "resource_names", _queue_name_unlike_its_kind,
         "{role} is named {name!r}, which {need}: SQS refuses it"),
    Rule("one logical id per resource", "logical_ids", _repeated_logical_ids,
         "gives {logical_id} to both {roles}: every resource needs its own logical id"),
    Rule("table export needs reduce mode", "exports", _table_export_without_table,
         "exports progress_table, which only reduce mode creates: set reduce = true or drop that export"),
    Rule("each export once", "exports", _repeated_export,
         "names the export {name} twice: CloudFormation export names are unique in a region"),
    Rule("topic publishers need a topic", "topic_publishers",
         lambda o: o.fifo and bool(o.topic_publishers), "FIFO systems have no SNS topic to publish to",
         "services send to a FIFO queue directly; set fifo=False to give them a topic"),
)


def _names(found: AbstractSet[str]) -> dict[str, Any] | None:
    return {"names": sorted(found)} if found else None


def _reserved_in(variables: dict[str, Any]) -> dict[str, Any] | None:
    return _names(reserved_env_names() & set(variables))


#: CloudWatch's longest alarm window: EvaluationPeriods x Period, in seconds.
MAX_ALARM_WINDOW = 86_400


def alarm_window_rules(o: Options) -> tuple[Rule, ...]:
    """One rule per alarm: its period times its periods evaluated fits in CloudWatch's one day."""
    return tuple(
        Rule(f"{metric} alarm window", tuned.evaluation_periods,
             _window_too_long(tuned.period, tuned.evaluation_periods),
             f"times {tuned.period} ({{period}} s) is {{window:,}} s; CloudWatch evaluates at most "
             f"{MAX_ALARM_WINDOW:,} s (one day)")
        for metric, tuned in o.alarm_options().items()
    )


def _window_too_long(period: str, periods: str) -> Callable[[Options], dict[str, Any] | None]:
    def broken(o: Options) -> dict[str, Any] | None:
        pair = _literal_pair(o, period, periods)
        if pair is None or pair[0] * pair[1] <= MAX_ALARM_WINDOW:
            return None
        return {"period": pair[0], "window": pair[0] * pair[1]}

    return broken


def capacity_rules(o: Options) -> tuple[Rule, ...]:
    """One rule per option declared for some capacities only: it may not be set for the others."""
    capacity = o.specs()["capacity"].accepts
    every = capacity.values if isinstance(capacity, Choice) else ()
    return tuple(
        Rule(f"{declared.name} on {' or '.join(declared.capacities)} only", declared.name,
             _set_for_other_capacity(declared.name, declared.capacities, declared.default),
             f"applies to {' or '.join(declared.capacities)} capacity only, not {{o.capacity}}")
        for declared in o.specs().values() if set(declared.capacities) != set(every)
    )


def _set_for_other_capacity(name: str, capacities: tuple[str, ...], default: Any) -> Callable[[Options], bool]:
    def broken(o: Options) -> bool:
        value = getattr(o, name)
        return o.capacity not in capacities and value not in (None, False) and value != default

    return broken


def check(o: Options) -> None:
    """Raise OptionsError for the first broken rule, in table order.

    The capacity rules come right after "Fargate needs subnets": an option set
    for the wrong capacity is reported before the rules that assume it applies.
    """
    split = next(i for i, rule in enumerate(RULES) if rule.name == "Fargate needs subnets") + 1
    for rule in RULES[:split] + capacity_rules(o) + RULES[split:] + alarm_window_rules(o):
        found = rule.broken(o)
        if not found:
            continue
        fields = found if isinstance(found, dict) else {}
        raise OptionsError(rule.option, getattr(o, rule.option), rule.message.format(o=o, **fields), rule.hint)
