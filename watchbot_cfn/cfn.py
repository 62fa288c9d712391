"""CloudFormation's own vocabulary: template sections, intrinsic functions, pseudo parameters, quotas.

Plain data with no imports, so the merger, the source reader, the YAML
reader and the tools that read rendered templates all use one list.
"""

from __future__ import annotations

__all__ = ["INTRINSIC_FUNCTIONS", "KEYED_SECTIONS", "MAX_DESCRIPTION_BYTES", "MAX_TEMPLATE_BODY_BYTES",
           "MAX_TEMPLATE_BYTES", "PSEUDO_PARAMETERS", "SECTIONS", "SECTION_QUOTAS", "SHORT_FORMS"]

#: Sections whose value maps logical ids (or names) to definitions.
KEYED_SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs", "Rules")
#: Every top-level section a template may have.
SECTIONS = frozenset({"AWSTemplateFormatVersion", "Description", "Metadata", "Transform", "Globals",
                      *KEYED_SECTIONS})

#: Functions as they appear as the one key of a JSON object (long form).
INTRINSIC_FUNCTIONS = frozenset({
    "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
    "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::Transform",
    "Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Length", "Fn::ToJsonString",
})
#: YAML short-form tag (without ``!``) -> long-form key.
SHORT_FORMS = {name.removeprefix("Fn::"): name for name in sorted(INTRINSIC_FUNCTIONS)}

#: Parameters every stack has, resolved by CloudFormation itself.
PSEUDO_PARAMETERS = frozenset({"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
                               "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"})

# Quotas CloudFormation enforces on one template (the figures cfn-lint checks against too).
#: Most entries each of these sections may hold.
SECTION_QUOTAS = {"Resources": 500, "Outputs": 200, "Parameters": 200, "Mappings": 200}
#: Largest template body read from S3 (``--s3-bucket``, ``TemplateURL``), in bytes.
MAX_TEMPLATE_BYTES = 1_000_000
#: Largest template body passed inline (``TemplateBody``), in bytes.
MAX_TEMPLATE_BODY_BYTES = 51_200
#: Longest template Description, in bytes.
MAX_DESCRIPTION_BYTES = 1024
