"""Source files (TOML, YAML, JSON, Python) become templates, or one clear SourceError."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from troposphere import Template

from watchbot_cfn.errors import SourceError, WatchbotError
from watchbot_cfn.sources.cfnyaml import dump_yaml, load_yaml
from watchbot_cfn.sources.load import load_source, template_from_document

OPTIONS_TOML = """\
cluster = "work-cluster"
service = "resize"
service_version = { Ref = "GitSha" }
command = "./resize.sh"
notification_email = "ops@example.com"
"""

BASE: dict[str, Any] = dict(cluster="work-cluster", service="resize", service_version="abc123",
                            command="./resize.sh", notification_email="ops@example.com")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def rendered(template: Template) -> dict[str, Any]:
    return json.loads(template.to_json())


def contains(data: Any, wanted: Any) -> bool:
    """True when wanted appears anywhere inside data (as a value)."""
    if data == wanted:
        return True
    if isinstance(data, dict):
        return any(contains(v, wanted) for v in data.values())
    if isinstance(data, list):
        return any(contains(v, wanted) for v in data)
    return False


def source_error(source: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        load_source(source)
    message = str(caught.value)
    assert "\n" not in message, "errors are one line"
    return caught.value


# --- documents ------------------------------------------------------------------

def test_toml_options_and_own_sections_become_one_template(tmp_path):
    path = write(tmp_path, "system.toml", OPTIONS_TOML + textwrap.dedent("""\
        [Parameters.GitSha]
        Type = "String"

        [Outputs.WorkQueue]
        Value = { Ref = "WatchbotQueue" }
        """))
    result = rendered(load_source(path))
    assert result["Parameters"] == {"GitSha": {"Type": "String"}}
    assert result["Outputs"]["WorkQueue"] == {"Value": {"Ref": "WatchbotQueue"}}
    assert "WatchbotQueue" in result["Resources"]
    assert contains(result["Resources"], {"Ref": "GitSha"}), "the intrinsic option reaches the task definition"


def test_yaml_short_form_tags_become_intrinsics(tmp_path):
    path = write(tmp_path, "system.yaml", """\
        cluster: !Ref Cluster
        service: resize
        service_version: !Ref GitSha
        command: ./resize.sh
        notification_email: ops@example.com
        Parameters:
          Cluster: {Type: String}
          GitSha: {Type: String}
        Outputs:
          QueueArn:
            Value: !GetAtt WatchbotQueue.Arn
          Named:
            Value: !Sub "${AWS::StackName}-named"
          Joined:
            Value: !Join [",", [!Ref GitSha, !Select [0, !GetAZs ""]]]
        """)
    result = rendered(load_source(path))
    outputs = result["Outputs"]
    assert outputs["QueueArn"]["Value"] == {"Fn::GetAtt": ["WatchbotQueue", "Arn"]}
    assert outputs["Named"]["Value"] == {"Fn::Sub": "${AWS::StackName}-named"}
    assert outputs["Joined"]["Value"] == {
        "Fn::Join": [",", [{"Ref": "GitSha"}, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]}
    assert contains(result["Resources"], {"Ref": "Cluster"})


@pytest.mark.parametrize("tag,value,expected", [
    ("Ref", "A", {"Ref": "A"}),
    ("Condition", "IsProd", {"Condition": "IsProd"}),
    ("GetAtt", "Queue.Arn", {"Fn::GetAtt": ["Queue", "Arn"]}),
    ("GetAtt", "[Queue, Arn]", {"Fn::GetAtt": ["Queue", "Arn"]}),
    ("If", "[IsProd, a, b]", {"Fn::If": ["IsProd", "a", "b"]}),
    ("Base64", "text", {"Fn::Base64": "text"}),
    ("ImportValue", "Shared", {"Fn::ImportValue": "Shared"}),
    ("FindInMap", "[M, k, v]", {"Fn::FindInMap": ["M", "k", "v"]}),
    ("Transform", "{Name: X}", {"Fn::Transform": {"Name": "X"}}),
])
def test_every_short_form_tag_maps_to_its_long_form(tag, value, expected):
    assert load_yaml(f"key: !{tag} {value}\n") == {"key": expected}


def test_yaml_output_never_uses_anchors_and_round_trips():
    shared = {"Ref": "A"}
    text = dump_yaml({"one": shared, "two": shared})
    assert "&" not in text and "*" not in text
    assert load_yaml(text) == {"one": {"Ref": "A"}, "two": {"Ref": "A"}}


def test_json_source_with_several_systems(tmp_path):
    document = {"systems": [{**BASE, "prefix": "Resize"}, {**BASE, "prefix": "Thumbs", "fifo": True}],
                "Description": "Two workers"}
    path = tmp_path / "systems.json"
    path.write_text(json.dumps(document))
    result = rendered(load_source(str(path)))
    assert {"ResizeQueue", "ThumbsQueue"} <= set(result["Resources"])
    assert set(result["Metadata"]["WatchbotCfn"]) == {"Resize", "Thumbs"}
    assert result["Description"] == "Two workers", "the source's own Description wins"


def test_several_systems_without_a_description_get_one_short_line_naming_them(tmp_path):
    document = {"systems": [{**BASE, "prefix": "Resize"}, {**BASE, "prefix": "Thumbs"}]}
    path = tmp_path / "systems.json"
    path.write_text(json.dumps(document))
    description = rendered(load_source(str(path)))["Description"]
    assert description.startswith("2 Watchbot systems: Resize, Thumbs (watchbot-cfn ")


def test_template_from_document_is_pure_and_labels_errors_with_the_origin():
    template = template_from_document(dict(BASE), "inline")
    assert "WatchbotQueue" in template.resources
    with pytest.raises(SourceError, match=r"^inline: systems\[1\]: option 'command'"):
        template_from_document({"systems": [BASE, {**BASE, "prefix": "B", "command": ""}]}, "inline")


# --- document errors ----------------------------------------------------------

def test_missing_file(tmp_path):
    error = source_error(str(tmp_path / "absent.toml"))
    assert str(error) == f"{tmp_path / 'absent.toml'}: no such file"


def test_a_byte_order_mark_is_dropped_and_bad_bytes_are_named_where_they_are_in_the_file(tmp_path):
    good = tmp_path / "bom.toml"
    good.write_bytes(b"\xef\xbb\xbf" + OPTIONS_TOML.encode())
    assert "WatchbotQueue" in rendered(load_source(str(good)))["Resources"]
    for prefix in (b"", b"\xef\xbb\xbf"):
        bad = tmp_path / "bad.toml"
        bad.write_bytes(prefix + b'cluster = "\xff"\n')
        offset = len(prefix) + len('cluster = "')
        assert str(source_error(str(bad))) == f"{bad}: is not UTF-8 text (byte 0xff at offset {offset})"


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "broken.toml", 'cluster = "c"\nservice = "s"\ncommand = \n')
    error = source_error(path)
    assert str(error).startswith(f"{path}: invalid TOML at line 3")


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "broken.yaml", "cluster: c\nservice: [unclosed\ncommand: x\n")
    assert "invalid YAML at line" in str(source_error(path))
    assert str(source_error(path)).startswith(path)


def test_json_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "broken.json", '{\n  "cluster": "c",\n  "service": \n}\n')
    assert str(source_error(path)).startswith(f"{path}: invalid JSON at line 4, column 1")


def test_bad_option_value_names_file_and_option(tmp_path):
    path = write(tmp_path, "bad.toml", OPTIONS_TOML + "max_size = -1\n")
    error = source_error(path)
    assert str(error).startswith(f"{path}: option 'max_size'")
    assert isinstance(error.__cause__, WatchbotError)


def test_unknown_key_suggests_the_snake_case_name(tmp_path):
    path = write(tmp_path, "legacy.toml", OPTIONS_TOML + "maxSize = 3\n")
    message = str(source_error(path))
    assert "'maxSize'" in message and "max_size" in message


def test_unknown_capitalised_section(tmp_path):
    path = write(tmp_path, "typo.toml", OPTIONS_TOML + "[Resource.Bucket]\nType = \"AWS::S3::Bucket\"\n")
    assert "unknown CloudFormation section 'Resource'" in str(source_error(path))


@pytest.mark.parametrize("text,problem", [
    ("[1, 2]", "top level"),
    ("{}", "no options given"),
    ('{"systems": []}', "non-empty list"),
    ('{"systems": [{"cluster": "c"}], "service": "s"}', "not both"),
    ("1: one\n", "not 1"),
])
def test_documents_of_the_wrong_shape(tmp_path, text, problem):
    path = write(tmp_path, "shape.yaml" if text.startswith("1:") else "shape.json", text)
    assert problem in str(source_error(path))


def test_own_resource_that_clashes_with_a_generated_one_is_a_merge_conflict(tmp_path):
    path = write(tmp_path, "clash.toml", OPTIONS_TOML + "[Resources.WatchbotQueue]\nType = \"AWS::SNS::Topic\"\n")
    message = str(source_error(path))
    assert "merge conflict" in message and "WatchbotQueue" in message


def test_attribute_on_a_document_is_refused(tmp_path):
    path = write(tmp_path, "system.toml", OPTIONS_TOML)
    assert "Python sources only" in str(source_error(f"{path}:template"))


def test_unknown_file_kind(tmp_path):
    path = write(tmp_path, "system.ini", "[x]\n")
    assert "unknown kind of source" in str(source_error(path))


# --- Python sources -------------------------------------------------------------

APP = """\
import watchbot_cfn

OPTIONS = dict(cluster="c", service="resize", service_version="abc", command="./run.sh",
               notification_email="ops@example.com")
template = watchbot_cfn.template(**OPTIONS)

def build():
    return watchbot_cfn.merge(watchbot_cfn.template(**OPTIONS, prefix="A"),
                              watchbot_cfn.template(**OPTIONS, prefix="B"))

def broken():
    return watchbot_cfn.template(cluster="c")

not_a_template = 42
"""


def test_python_file_default_attribute_and_named_function(tmp_path):
    path = write(tmp_path, "app.py", APP)
    assert "WatchbotQueue" in load_source(path).resources
    assert {"AQueue", "BQueue"} <= set(load_source(f"{path}:build").resources)


def test_python_file_can_import_its_neighbours(tmp_path):
    write(tmp_path, "settings.py", "PREFIX = 'Neighbour'\n")
    path = write(tmp_path, "uses.py", "import settings\nimport watchbot_cfn\n" + textwrap.dedent("""\
        template = watchbot_cfn.template(cluster="c", service="s", service_version="v", command="x",
                                         notification_email="a@example.com", prefix=settings.PREFIX)
        """))
    assert "NeighbourQueue" in load_source(path).resources


def test_module_attribute_source(tmp_path, monkeypatch):
    package = tmp_path / "stackdefs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "workers.py").write_text(APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"AQueue", "BQueue"} <= set(load_source("stackdefs.workers:build").resources)
    assert "WatchbotQueue" in load_source("stackdefs.workers").resources


@pytest.mark.parametrize("attribute,problem", [
    ("missing", "has no attribute 'missing'"),
    ("not_a_template", "is int, not a troposphere Template"),
    ("broken", "option 'service'"),
])
def test_python_attribute_errors(tmp_path, attribute, problem):
    path = write(tmp_path, "app.py", APP)
    error = source_error(f"{path}:{attribute}")
    assert problem in str(error) and str(error).startswith(path)


def test_python_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "bad.py", "import watchbot_cfn\n\ntemplate = (\n")
    message = str(source_error(path))
    assert message.startswith(path) and "invalid Python at line 3" in message


def test_python_exception_becomes_one_line(tmp_path):
    path = write(tmp_path, "raises.py", "raise RuntimeError('no network here')\n")
    assert str(source_error(path)) == f"{path}: RuntimeError: no network here"


def test_missing_python_file_and_module(tmp_path):
    assert str(source_error(str(tmp_path / "gone.py"))).endswith("no such file")
    assert "no such file or module 'no_such_module_here'" in str(source_error("no_such_module_here:template"))


def test_python_file_may_define_dataclasses(tmp_path):
    path = write(tmp_path, "typed.py", "from __future__ import annotations\nimport dataclasses\n"
                 "import watchbot_cfn\n\n@dataclasses.dataclass\nclass Settings:\n    prefix: str = 'Typed'\n\n"
                 "template = watchbot_cfn.template(cluster='c', service='s', service_version='v', command='x',\n"
                 "                                 notification_email='a@example.com', prefix=Settings().prefix)\n")
    assert "TypedQueue" in load_source(path).resources
