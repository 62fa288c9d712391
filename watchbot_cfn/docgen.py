"""Generate the option reference (docs/options.md) from the option definitions.

The definitions in ``watchbot_cfn.options`` are the single source: a test
compares docs/options.md with :func:`options_markdown`, so the docs cannot
drift. Regenerate with ``watchbot-cfn options --markdown > docs/options.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GROUP_TITLES", "REGENERATE", "SETTINGS_END", "SETTINGS_START", "OptionDoc", "format_default",
           "option_docs", "options_markdown", "options_text", "settings_markdown", "with_settings_table"]

REGENERATE = "watchbot-cfn options --markdown > docs/options.md"

GROUP_TITLES = {
    "core": "System, image, container and queue",
    "alarms": "Notifications, alarms and dashboard",
    "scaling": "Scaling",
    "reduce": "Reduce mode (progress table)",
    "webhook": "Webhook",
    "encryption": "Encryption and access",
    "adoption": "Adopting an existing stack",
}


@dataclass(frozen=True)
class OptionDoc:
    """What the docs and ``watchbot-cfn options`` show for one option."""

    name: str
    group: str
    doc: str
    default: str  # as written in a TOML source file; "required" when there is none
    legacy: str | None
    intrinsic: bool
    allowed: str  # what the option accepts, read from its constraint
    capacities: str  # "" when it applies to every capacity

    @property
    def required(self) -> bool:
        return self.default == "required"


def format_default(value: Any, required: bool = False) -> str:
    """The default as a TOML reader would write it: ``true``, ``"EC2"``, ``[]``."""
    return "required" if required else _toml_literal(value)


def _toml_literal(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def option_docs() -> list[OptionDoc]:
    """Every option, in declaration order."""
    from watchbot_cfn.options import CAPACITIES, option_specs

    return [
        OptionDoc(name=spec.name, group=spec.group, doc=spec.doc,
                  default=format_default(spec.default, spec.required), legacy=spec.legacy,
                  intrinsic=spec.intrinsic, allowed=spec.accepts.allowed,
                  capacities="" if set(spec.capacities) == set(CAPACITIES) else " or ".join(spec.capacities))
        for spec in option_specs()
    ]


def _grouped(docs: Iterable[OptionDoc]) -> dict[str, list[OptionDoc]]:
    groups: dict[str, list[OptionDoc]] = {}
    for doc in docs:
        groups.setdefault(doc.group, []).append(doc)
    return groups


def _title(group: str) -> str:
    return GROUP_TITLES.get(group, group.replace("_", " ").capitalize())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def options_markdown() -> str:
    """The whole of docs/options.md."""
    docs = option_docs()
    lines = [
        "# Options",
        "",
        "Every option of `watchbot_cfn.template()` and of a source file's option table.",
        f"Generated from `watchbot_cfn/options.py`; regenerate with `{REGENERATE}`.",
        "",
        "- **Original name**: the option's name in the JavaScript Watchbot, where it had one. "
        "Options are snake_case here; the original camelCase names are rejected with a hint.",
        "- **Intrinsic**: whether a CloudFormation intrinsic (`{ Ref = \"GitSha\" }`, `!Sub ...`) is accepted "
        "in place of a literal value.",
        "- **Default**: as you would write it in TOML; *required* options have none, *unset* ones are "
        "derived or left out of the template. "
        "One of `notification_email` or `notification_topic` is also required.",
        "- **Allowed**: what the option accepts; options that set a watcher variable accept exactly what "
        "the watcher does (docs/runtime.md lists those variables).",
        "",
    ]
    for group, members in _grouped(docs).items():
        lines += [f"## {_title(group)}", "",
                  "| Option | Original name | Default | Intrinsic | Allowed | Description |",
                  "|---|---|---|---|---|---|"]
        for doc in members:
            legacy = f"`{doc.legacy}`" if doc.legacy else ""
            default = {"required": "*required*", "none": "*unset*"}.get(doc.default, f"`{_cell(doc.default)}`")
            description = doc.doc + (f" Applies to {doc.capacities} capacity only." if doc.capacities else "")
            lines.append(f"| `{doc.name}` | {legacy} | {default} | {'yes' if doc.intrinsic else 'no'} "
                         f"| {_cell(doc.allowed)} | {_cell(description)} |")
        lines.append("")
    return "\n".join(lines)


SETTINGS_START = "<!-- settings table: generated from watchbot_cfn/contract.py -->"
SETTINGS_END = "<!-- end of settings table -->"


def settings_markdown() -> str:
    """The container-variable table of docs/runtime.md, from ``contract.SETTINGS``."""
    from watchbot_cfn import contract
    from watchbot_cfn.options import option_writing
    from watchbot_cfn.runtime.config import watcher_fields

    read = watcher_fields()
    lines = [SETTINGS_START, "", "| variable | set from | default | allowed | meaning |", "|---|---|---|---|---|"]
    for row in contract.SETTINGS:
        option = option_writing(row) or row.derived_from
        source = f"option `{option}`" if option else "the stack's resources"
        if row.kind == contract.KIND_PATHS:
            default = "empty"
        elif row.default is None:
            default = "required" if row in read else ""
        else:
            default = f"`{row.format(row.default)}`"
        lines.append(f"| `{row.env}` | {source} | {default} | {_cell(row.allowed)} | {_cell(row.doc)} |")
    lines += ["", SETTINGS_END]
    return "\n".join(lines)


def with_settings_table(document: str) -> str:
    """``document`` (docs/runtime.md) with its settings table regenerated."""
    start, end = document.index(SETTINGS_START), document.index(SETTINGS_END) + len(SETTINGS_END)
    return document[:start] + settings_markdown() + document[end:]


def options_text(width: int = 100) -> str:
    """A plain listing for the terminal: name, then what it does and accepts wrapped to ``width``, grouped."""
    import textwrap

    lines: list[str] = []
    for group, members in _grouped(option_docs()).items():
        lines.append(f"{_title(group)}:")
        for doc in members:
            extras = [f"default {doc.default}" if not doc.required else "required", doc.allowed]
            if doc.legacy and doc.legacy != doc.name:
                extras.append(f"was {doc.legacy}")
            if doc.intrinsic:
                extras.append("intrinsic ok")
            lines.append(f"  {doc.name}")
            lines += textwrap.wrap(f"{doc.doc} [{'; '.join(extras)}]", width=max(width, 40), initial_indent="      ",
                                   subsequent_indent="      ", break_on_hyphens=False, break_long_words=False)
        lines.append("")
    return "\n".join(lines)
