"""CloudFormation's quotas on one template, checked before a template is written.

A template CloudFormation refuses is not useful, so ``render`` refuses it first,
with the figure and the limit: at most 500 resources, 200 outputs, parameters
and mappings, and 1,000,000 bytes (the most CloudFormation reads from S3).
Templates over 51,200 bytes are fine: they are deployed through S3
(``aws cloudformation deploy --s3-bucket ...``), which any stack with a Watchbot
system needs anyway.
"""

from __future__ import annotations

from troposphere import Template

from watchbot_cfn.cfn import MAX_TEMPLATE_BYTES, SECTION_QUOTAS
from watchbot_cfn.errors import SourceError

__all__ = ["check_quotas", "check_size", "over_quota"]


def over_quota(section: str, count: int) -> str:
    """The problem when count entries of section exceed CloudFormation's quota, else ''."""
    limit = SECTION_QUOTAS[section]
    if count <= limit:
        return ""
    return (f"the stack would have {count:,} {section.lower()}, more than the {limit:,} CloudFormation allows "
            "in one template")


def check_quotas(template: Template, origin: str) -> None:
    """Raise SourceError when a section of template holds more than CloudFormation allows."""
    for section in SECTION_QUOTAS:
        problem = over_quota(section, len(getattr(template, section.lower())))
        if problem:
            raise SourceError(origin, f"{problem}; split it across stacks")


def check_size(text: str, origin: str) -> None:
    """Raise SourceError when the rendered text is larger than CloudFormation reads."""
    size = len(text.encode())
    if size > MAX_TEMPLATE_BYTES:
        raise SourceError(origin, f"the rendered template is {size:,} bytes, more than the {MAX_TEMPLATE_BYTES:,} "
                                  "CloudFormation reads (from S3); split it across stacks")
