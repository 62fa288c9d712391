"""What deleting the stack, or replacing a resource, does to each stateful resource: said explicitly.

CloudFormation deletes a resource by default when the stack is deleted or an
update replaces it. Every queue, log group and table here says so on its own
(``DeletionPolicy`` and ``UpdateReplacePolicy``), or says ``Retain`` when the
``retain`` option names it, so what a deletion keeps is never left to a
default nobody reads.
"""

from __future__ import annotations

from typing import Any

from watchbot_cfn.options import Options

__all__ = ["apply"]


def apply(resource: Any, kind: str, options: Options) -> Any:
    """Set both policies on ``resource`` (one of ``options.RETAINABLE``) and return it."""
    policy = "Retain" if kind in options.retain else "Delete"
    resource.DeletionPolicy = policy
    resource.UpdateReplacePolicy = policy
    return resource
