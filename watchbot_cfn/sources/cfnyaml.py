"""CloudFormation-flavoured YAML with PyYAML: short-form tags in, long form out.

Reading accepts ``!Ref``, ``!Sub``, ``!GetAtt`` and the other short forms and
maps them to the intrinsic dicts the rest of the package understands. Writing
uses the long form (``Fn::Sub:``), which CloudFormation accepts everywhere,
and never emits YAML anchors (CloudFormation does not resolve them reliably).
PyYAML is used instead of cfn-flip because it is already a dependency and
cheaper to import.

Reading is bounded (see :mod:`watchbot_cfn.sources.bounds`): collections nest at
most ``MAX_DEPTH`` levels, checked while composing so PyYAML's recursive
composer never goes deeper; and anchors and aliases, which are allowed (they
keep repeated options short), are measured on the composed node graph before
anything is built: the document with every alias expanded may hold at most
``MAX_VALUES`` values and ``MAX_SOURCE_BYTES`` characters of text, and an alias
inside the node it names is refused. A "billion laughs" document therefore
fails in milliseconds instead of exhausting memory. Timestamps stay the text
they were written as (``AWSTemplateFormatVersion: 2010-09-09`` is a string to
CloudFormation, not a date).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml import YAMLError

from watchbot_cfn.cfn import SHORT_FORMS
from watchbot_cfn.sources.bounds import MAX_DEPTH, MAX_SOURCE_BYTES, MAX_VALUES, depth_problem

__all__ = ["YAMLError", "YAMLLimitError", "dump_yaml", "load_yaml"]


class YAMLLimitError(yaml.MarkedYAMLError):
    """Well-formed YAML that crosses a bound: too deep, too large once aliases expand, or a recursive alias.

    ``problem`` is the whole one-line explanation, position included.
    """

    def __init__(self, problem: Callable[[str], str], mark: Any) -> None:
        super().__init__(problem=problem(f" at line {mark.line + 1}, column {mark.column + 1}"), problem_mark=mark)


class _Loader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short-form tags, within the bounds of a source."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent, yaml.ScalarEvent):
            return super().compose_node(parent, index)
        self._nesting += 1
        try:
            if self._nesting > MAX_DEPTH:
                raise YAMLLimitError(depth_problem, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._nesting -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Measure the document as if every alias were a copy of its anchor; refuse what crosses a bound.

    Each node is measured once (aliases share node objects), so this takes
    time linear in the composed document however far aliases would expand.
    """
    measured: dict[int, tuple[int, int, int]] = {}  # id -> (values, characters, height)
    open_nodes: set[int] = set()

    def measure(node: yaml.Node, level: int) -> tuple[int, int, int]:
        key = id(node)
        known = measured.get(key)
        if known is None:
            if key in open_nodes:
                raise YAMLLimitError(lambda where: f"recursive alias{where}: it refers to a node that contains it",
                                     node.start_mark)
            open_nodes.add(key)
            if isinstance(node, yaml.ScalarNode):
                known = (1, len(node.value), 0)
            else:
                children = node.value if isinstance(node, yaml.SequenceNode) else [
                    part for pair in node.value for part in pair]
                values, characters, height = 1, 0, 1
                for child in children:
                    child_values, child_characters, child_height = measure(child, level + 1)
                    values += child_values
                    characters += child_characters
                    height = max(height, child_height + 1)
                    if values > MAX_VALUES:
                        raise YAMLLimitError(lambda where: f"aliases expand to more than {MAX_VALUES:,} values"
                                             f"{where} (the most a source may hold)", node.start_mark)
                    if characters > MAX_SOURCE_BYTES:
                        raise YAMLLimitError(lambda where: f"aliases expand to more than {MAX_SOURCE_BYTES:,} "
                                             f"characters of text{where} (the most a source may hold)",
                                             node.start_mark)
                known = (values, characters, height)
            open_nodes.discard(key)
            measured[key] = known
        if level + known[2] > MAX_DEPTH:
            raise YAMLLimitError(lambda where: f"aliases nest more than {MAX_DEPTH} levels deep{where} "
                                               "(the most a source may nest)", node.start_mark)
        return known

    if root is not None:
        measure(root, 0)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - PyYAML's signature
        return True


def _short_form(long_key: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if long_key == "Fn::GetAtt":
                resource, _, attribute = str(value).partition(".")
                value = [resource, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {long_key: value}

    return construct


for _tag, _key in SHORT_FORMS.items():
    _Loader.add_constructor(f"!{_tag}", _short_form(_key))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def load_yaml(text: str) -> Any:
    """Parse YAML safely and within bounds; short-form intrinsics become ``{"Fn::...": ...}`` dicts.

    Raises YAMLError for bad syntax and YAMLLimitError (a YAMLError) for a
    document that crosses a bound.
    """
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def dump_yaml(data: Any) -> str:
    """Block-style YAML in the given key order, without anchors."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=120)
