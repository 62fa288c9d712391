"""watchbot-cfn: CloudFormation for SQS-driven ECS workers, and the watcher that runs them.

The public API is imported lazily so that the runtime watcher (``watchbot_cfn.runtime``),
which runs inside users' containers, never pays for troposphere or awacs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "MergeConflictError",
    "Options",
    "OptionsError",
    "WatchbotError",
    "WatchbotTemplate",
    "__version__",
    "merge",
    "template",
]

_LAZY = {
    "template": ("watchbot_cfn.assemble", "template"),
    "WatchbotTemplate": ("watchbot_cfn.assemble", "WatchbotTemplate"),
    "merge": ("watchbot_cfn.merging", "merge"),
    "Options": ("watchbot_cfn.options", "Options"),
    "OptionsError": ("watchbot_cfn.errors", "OptionsError"),
    "MergeConflictError": ("watchbot_cfn.errors", "MergeConflictError"),
    "WatchbotError": ("watchbot_cfn.errors", "WatchbotError"),
}

if TYPE_CHECKING:  # pragma: no cover
    from watchbot_cfn.assemble import WatchbotTemplate, template
    from watchbot_cfn.errors import MergeConflictError, OptionsError, WatchbotError
    from watchbot_cfn.merging import merge
    from watchbot_cfn.options import Options


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'watchbot_cfn' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value
