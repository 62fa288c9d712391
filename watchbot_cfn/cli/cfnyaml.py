"""CloudFormation-flavoured YAML with PyYAML: short-form tags in, long form out.

Reading accepts ``!Ref``, ``!Sub``, ``!GetAtt`` and the other short forms and
maps them to the intrinsic dicts the rest of the package understands. Writing
uses the long form (``Fn::Sub:``), which CloudFormation accepts everywhere,
and never emits YAML anchors (CloudFormation does not resolve them reliably).
PyYAML is used instead of cfn-flip because it is already a dependency and
cheaper to import.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import YAMLError

from watchbot_cfn.cfn import SHORT_FORMS

__all__ = ["YAMLError", "dump_yaml", "load_yaml"]

class _Loader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short-form tags."""


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


def load_yaml(text: str) -> Any:
    """Parse YAML safely; short-form intrinsics become ``{"Fn::...": ...}`` dicts."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def dump_yaml(data: Any) -> str:
    """Block-style YAML in the given key order, without anchors."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=120)
