"""CloudFormation's own vocabulary: template sections, intrinsic functions, pseudo parameters.

Plain data with no imports, so the merger, the source reader, the YAML
reader and the tools that read rendered templates all use one list.
"""

from __future__ import annotations

__all__ = ["INTRINSIC_FUNCTIONS", "KEYED_SECTIONS", "PSEUDO_PARAMETERS", "SECTIONS", "SHORT_FORMS"]

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
