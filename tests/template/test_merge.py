"""merge(): identical repeats are kept once, differing ones raise, nothing is overwritten."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from troposphere import Output, Parameter, Ref, Template
from troposphere.sns import Topic
from troposphere.sqs import Queue

import watchbot_cfn
from watchbot_cfn.errors import MergeConflictError
from watchbot_cfn.merging import MAX_DESCRIPTION, merge

BASE = dict(cluster="work-cluster", service="resize", service_version="abc123", command="./resize.sh",
            notification_email="ops@example.com")


def queue_template(visibility: int = 60, description: str | None = None) -> Template:
    template = Template(Description=description)
    template.add_resource(Queue("Jobs", VisibilityTimeout=visibility))
    return template


def as_json(template: Template) -> dict:
    return json.loads(template.to_json())


# --- systems ------------------------------------------------------------------

def test_two_systems_with_different_prefixes_keep_every_resource_and_both_metadata_entries():
    # given two Watchbot systems in one stack
    first = watchbot_cfn.template(**BASE, prefix="Resize")
    second = watchbot_cfn.template(**BASE, prefix="Thumbs")
    # when they are merged
    merged = merge(first, second)
    # then no resource is lost and Metadata holds one entry per prefix
    assert set(merged.resources) == set(first.resources) | set(second.resources)
    assert len(merged.resources) == len(first.resources) + len(second.resources)
    assert set(merged.metadata["WatchbotCfn"]) == {"Resize", "Thumbs"}
    assert first.description in merged.description and second.description in merged.description
    assert type(merged) is Template


def test_refs_of_each_system_resolve_in_the_merged_template():
    first = watchbot_cfn.template(**BASE, prefix="Resize")
    second = watchbot_cfn.template(**BASE, prefix="Thumbs")
    merged = merge(first, second)
    merged.add_output(Output("MyResizeQueue", Value=first.ref.queue_url))
    rendered = as_json(merged)
    assert rendered["Outputs"]["MyResizeQueue"]["Value"] == {"Ref": "ResizeQueue"}
    assert "ResizeQueue" in rendered["Resources"]


def test_the_same_system_twice_is_a_no_op():
    merged = merge(watchbot_cfn.template(**BASE), watchbot_cfn.template(**BASE))
    assert as_json(merged) == as_json(watchbot_cfn.template(**BASE))


def test_two_systems_with_one_prefix_and_different_options_conflict():
    with pytest.raises(MergeConflictError) as caught:
        merge(watchbot_cfn.template(**BASE), watchbot_cfn.template(**{**BASE, "command": "./other.sh"}))
    assert caught.value.section in {"Resources", "Metadata", "Outputs"}
    assert caught.value.key.startswith("Watchbot")


# --- keyed sections -----------------------------------------------------------

def test_identical_resource_repeated_is_kept_once():
    merged = merge(queue_template(60), queue_template(60))
    assert list(merged.resources) == ["Jobs"]


def test_differing_resource_with_one_logical_id_raises_naming_section_and_key():
    with pytest.raises(MergeConflictError) as caught:
        merge(queue_template(60), queue_template(90))
    assert (caught.value.section, caught.value.key) == ("Resources", "Jobs")
    assert "'Jobs'" in str(caught.value)


@pytest.mark.parametrize("section", ["Parameters", "Mappings", "Conditions", "Outputs", "Rules"])
def test_every_keyed_section_conflicts_on_differing_content(section):
    values = {
        "Parameters": ({"Type": "String"}, {"Type": "Number"}),
        "Mappings": ({"a": {"b": "1"}}, {"a": {"b": "2"}}),
        "Conditions": ({"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["a", "b"]}),
        "Outputs": ({"Value": "one"}, {"Value": "two"}),
        "Rules": ({"Assertions": [{"Assert": {"Fn::Equals": ["a", "a"]}}]},
                  {"Assertions": [{"Assert": {"Fn::Equals": ["a", "b"]}}]}),
    }[section]
    same = merge({section: {"Key": values[0]}}, {section: {"Key": copy.deepcopy(values[0])}})
    assert as_json(same)[section] == {"Key": values[0]}
    with pytest.raises(MergeConflictError) as caught:
        merge({section: {"Key": values[0]}}, {section: {"Key": values[1]}})
    assert (caught.value.section, caught.value.key) == (section, "Key")


def test_troposphere_object_and_equal_plain_dict_are_identical():
    dict_form = {"Resources": {"Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}}}
    assert list(merge(queue_template(60), dict_form).resources) == ["Jobs"]
    with pytest.raises(MergeConflictError):
        merge(queue_template(90), dict_form)


def test_a_parameter_and_a_resource_may_not_share_a_logical_id():
    with pytest.raises(MergeConflictError) as caught:
        merge(queue_template(), {"Parameters": {"Jobs": {"Type": "String"}}})
    assert caught.value.key == "Jobs"


def test_user_json_template_merges_and_the_result_accepts_more_resources():
    # given a user's existing template as JSON and a Watchbot system
    user = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"GitSha": {"Type": "String"}},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}},
    }
    system = watchbot_cfn.template(**{**BASE, "service_version": {"Ref": "GitSha"}})
    # when merged, then more can be added and everything renders
    merged = merge(user, system)
    merged.add_resource(Topic("Extra"))
    rendered = as_json(merged)
    assert {"Bucket", "Extra", "WatchbotQueue"} <= set(rendered["Resources"])
    assert rendered["Parameters"] == {"GitSha": {"Type": "String"}}
    assert rendered["Outputs"]["BucketName"] == {"Value": {"Ref": "Bucket"}}


# --- scalar sections and Metadata ---------------------------------------------

def test_metadata_is_deep_merged_and_conflicts_only_on_differing_leaves():
    one = {"Metadata": {"Tool": {"A": {"Version": "1"}}, "Shared": {"x": 1}}}
    two = {"Metadata": {"Tool": {"B": {"Version": "2"}}, "Shared": {"x": 1}}}
    merged = merge(one, two)
    assert merged.metadata == {"Tool": {"A": {"Version": "1"}, "B": {"Version": "2"}}, "Shared": {"x": 1}}
    with pytest.raises(MergeConflictError) as caught:
        merge(one, {"Metadata": {"Tool": {"A": {"Version": "9"}}}})
    assert (caught.value.section, caught.value.key) == ("Metadata", "Tool.A.Version")


def test_merging_never_writes_into_an_input():
    first = watchbot_cfn.template(**BASE, prefix="Resize")
    before = as_json(first)
    merged = merge(first, watchbot_cfn.template(**BASE, prefix="Thumbs"))
    merged.metadata["WatchbotCfn"]["Late"] = {"Version": "x"}
    assert as_json(first) == before


def test_template_format_versions_must_agree():
    merged = merge({"AWSTemplateFormatVersion": "2010-09-09"}, queue_template())
    assert merged.version == "2010-09-09"
    with pytest.raises(MergeConflictError) as caught:
        merge({"AWSTemplateFormatVersion": "2010-09-09"}, {"AWSTemplateFormatVersion": "2099-01-01"})
    assert caught.value.section == "AWSTemplateFormatVersion"


def test_descriptions_are_joined_once_each_in_argument_order():
    merged = merge(queue_template(description="Mine"), queue_template(description="Theirs"),
                   queue_template(description="Mine"))
    assert merged.description == "Mine | Theirs"


def test_explicit_description_replaces_the_inputs_descriptions():
    merged = merge(queue_template(description="One"), queue_template(description="Two"), description="Both")
    assert merged.description == "Both"


def test_descriptions_too_long_together_raise_instead_of_being_cut():
    long = "x" * (MAX_DESCRIPTION // 2 + 1)
    with pytest.raises(MergeConflictError) as caught:
        merge(queue_template(description=long), queue_template(description=long + "y"))
    assert caught.value.section == "Description"
    assert "description=" in str(caught.value)


def test_transforms_are_unioned_in_order():
    merged = merge({"Transform": "AWS::Serverless-2016-10-31"},
                   {"Transform": ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"]})
    assert merged.transform == ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"]


def test_inputs_that_are_not_templates_are_rejected():
    with pytest.raises(ValueError, match="Resource"):
        merge({"Resource": {}})
    with pytest.raises(TypeError):
        merge(["not", "a", "template"])  # type: ignore[arg-type]


def test_merge_is_exported_from_the_package():
    assert watchbot_cfn.merge is merge


# --- properties ---------------------------------------------------------------

logical_ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl0123456789", min_size=1, max_size=8)
parameters = st.dictionaries(logical_ids, st.sampled_from(["String", "Number", "CommaDelimitedList"]),
                             max_size=6)


@given(parameters, parameters)
def test_merge_keeps_the_union_or_raises_on_a_real_difference(one, two):
    first = {"Parameters": {key: {"Type": kind} for key, kind in one.items()}}
    second = {"Parameters": {key: {"Type": kind} for key, kind in two.items()}}
    clashes = {key for key in set(one) & set(two) if one[key] != two[key]}
    if clashes:
        with pytest.raises(MergeConflictError) as caught:
            merge(first, second)
        assert caught.value.key in clashes
    else:
        merged = merge(first, second)
        assert {key: value.get("Type") for key, value in merged.parameters.items()} == {**one, **two}
        assert merge(second, first).to_dict() == merged.to_dict()


@given(parameters)
def test_merging_a_template_with_itself_changes_nothing(one):
    template = Template()
    for key, kind in one.items():
        template.add_parameter(Parameter(key, Type=kind))
    template.add_resource(Queue("Jobs"))
    assert merge(template, template).to_dict() == template.to_dict()
    assert merge(template).to_dict() == template.to_dict()
    assert Ref("Jobs").to_dict() == {"Ref": "Jobs"}
