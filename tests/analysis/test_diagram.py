"""``watchbot-cfn graph``: the edges it finds, and output that parses as Mermaid and as DOT.

No Mermaid or Graphviz parser is a dependency, so the checks here parse the
subset the command writes (flowchart statements; the DOT grammar's graph,
subgraph, node, edge and attribute statements) and fail on anything else.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from watchbot_cfn.analysis.diagram import Edge, edges, groups, to_dot, to_mermaid
from watchbot_cfn.analysis.references import TemplateError, check_references
from watchbot_cfn.sources.templatefile import load_template

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (REPO / "examples").iterdir() if p.suffix in (".toml", ".yaml", ".py"))

HANDMADE: dict[str, Any] = {
    "Metadata": {"WatchbotCfn": {"Work": {}, "WorkFast": {}}},
    "Parameters": {"Size": {"Type": "Number"}},
    "Resources": {
        "WorkQueue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": {"Ref": "Size"}}},
        "WorkTopic": {"Type": "AWS::SNS::Topic", "DependsOn": "WorkQueue"},
        "WorkFastQueue": {"Type": "AWS::SQS::Queue", "DependsOn": ["WorkTopic", "WorkQueue"],
                          "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": "WorkQueue.Arn"}}}},
        "end": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "WorkTopic"}, "Endpoint": {"Fn::GetAtt": ["WorkFastQueue", "Arn"]},
            "Protocol": {"Fn::Sub": ["${Proto}-${WorkQueue.QueueName}-${!Literal}-${AWS::Region}",
                                     {"Proto": {"Ref": "Size"}}]},
            "Region": {"Fn::Sub": "${end}"}}},
        "Mine": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${WorkTopic.TopicName}-b"}}},
    },
}


def test_edges_cover_ref_getatt_sub_and_depends_on():
    assert edges(HANDMADE) == [
        Edge("WorkTopic", "WorkQueue", "depends"),
        Edge("WorkFastQueue", "WorkQueue", "ref"),
        Edge("WorkFastQueue", "WorkTopic", "depends"),
        Edge("end", "WorkTopic", "ref"),
        Edge("end", "WorkFastQueue", "ref"),
        Edge("end", "WorkQueue", "ref"),
        Edge("Mine", "WorkTopic", "ref"),
    ]


def test_groups_use_the_longest_prefix_and_keep_the_rest_apart():
    assert groups(HANDMADE) == {"Work": ["WorkQueue", "WorkTopic"], "WorkFast": ["WorkFastQueue"],
                                "Other resources": ["end", "Mine"]}


# --- Mermaid ------------------------------------------------------------------------

_NODE = re.compile(r'^(?P<id>[A-Za-z0-9_]+)\["(?P<label>[^"]*)"\]$')
_EDGE = re.compile(r"^(?P<a>[A-Za-z0-9_]+) (?P<arrow>-->|-\.->) (?P<b>[A-Za-z0-9_]+)$")
_SUBGRAPH = re.compile(r'^subgraph (?P<id>[A-Za-z0-9_]+)\["(?P<label>[^"]*)"\]$')
_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "click", "direction", "default"}


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]], dict[str, list[str]]]:
    """(node id -> label, edges, subgraph label -> node ids); AssertionError on any other statement."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    found_edges: list[tuple[str, str, str]] = []
    subgraphs: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[1:]:
        if match := _SUBGRAPH.match(line):
            assert current is None, "nested subgraph"
            current = match["label"]
            subgraphs[current] = []
        elif line == "end":
            assert current is not None, "end without subgraph"
            current = None
        elif match := _NODE.match(line):
            assert match["id"].lower() not in _RESERVED, f"reserved word as node id: {line}"
            assert match["id"] not in nodes, f"node declared twice: {line}"
            nodes[match["id"]] = match["label"]
            if current is not None:
                subgraphs[current].append(match["id"])
        elif match := _EDGE.match(line):
            assert current is None, "edges come after the subgraphs"
            found_edges.append((match["a"], match["arrow"], match["b"]))
        else:
            raise AssertionError(f"not a flowchart statement: {line!r}")
    assert current is None, "subgraph not closed"
    for a, _, b in found_edges:
        assert a in nodes and b in nodes, f"edge to an undeclared node: {a} -> {b}"
    return nodes, found_edges, subgraphs


# --- DOT ----------------------------------------------------------------------------

_DOT_TOKEN = re.compile(r'\s*(?:(->|[{}\[\];,=])|"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?))')


def dot_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _DOT_TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot read DOT at {text[position:position + 30]!r}"
        punct, quoted, bare = match.groups()
        tokens.append(("p", punct) if punct else ("id", quoted if quoted is not None else bare))
        position = match.end()
    return tokens


class DotParser:
    """graph: 'digraph' ID? '{' stmts '}'; stmts: (node | edge | attr | ID '=' ID | subgraph) ';'?"""

    def __init__(self, text: str) -> None:
        self.tokens = dot_tokens(text)
        self.at = 0
        self.nodes: dict[str, str] = {}
        self.edges: list[tuple[str, str]] = []
        self.clusters: dict[str, list[str]] = {}
        self.cluster_labels: dict[str, str] = {}

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        assert self.at < len(self.tokens), "DOT ends too early"
        token_kind, token_value = self.tokens[self.at]
        assert kind is None or token_kind == kind, f"expected {kind} at token {self.at}, got {token_value!r}"
        assert value is None or token_value == value, f"expected {value!r}, got {token_value!r}"
        self.at += 1
        return token_value

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> DotParser:
        self.take("id", "digraph")
        if self.peek() and self.peek()[0] == "id":
            self.take("id")
        self.statements(None)
        assert self.peek() is None, "text after the graph"
        return self

    def statements(self, cluster: str | None) -> None:
        self.take("p", "{")
        while self.peek() != ("p", "}"):
            self.statement(cluster)
            if self.peek() == ("p", ";"):
                self.take()
        self.take("p", "}")

    def attributes(self) -> dict[str, str]:
        found = {}
        self.take("p", "[")
        while self.peek() != ("p", "]"):
            key = self.take("id")
            self.take("p", "=")
            found[key] = self.take("id")
            if self.peek() == ("p", ","):
                self.take()
        self.take("p", "]")
        return found

    def statement(self, cluster: str | None) -> None:
        first = self.take("id")
        if first == "subgraph":
            name = self.take("id")
            self.clusters[name] = []
            self.statements(name)
        elif first in ("node", "edge", "graph"):
            self.attributes()
        elif self.peek() == ("p", "="):
            self.take()
            value = self.take("id")
            if first == "label" and cluster is not None:
                self.cluster_labels[cluster] = value
        elif self.peek() == ("p", "->"):
            self.take()
            target = self.take("id")
            self.edges.append((first, target))
            if self.peek() == ("p", "["):
                self.attributes()
        else:
            label = self.attributes().get("label", first) if self.peek() == ("p", "[") else first
            assert first not in self.nodes, f"node declared twice: {first}"
            self.nodes[first] = label
            if cluster is not None:
                self.clusters[cluster].append(first)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_draws_every_resource_in_both_formats(example):
    template = load_template(str(REPO / "examples" / example))
    resources = set(template["Resources"])
    nodes, mermaid_edges, subgraphs = parse_mermaid(to_mermaid(template))
    assert {label.split("<br/>")[0] for label in nodes.values()} == resources
    assert sum(len(ids) for ids in subgraphs.values()) == len(resources), "each resource in exactly one group"
    expected = {(e.source, e.target) for e in edges(template)}
    assert {(a.rstrip("_"), b.rstrip("_")) for a, _, b in mermaid_edges} == expected
    dot = DotParser(to_dot(template)).parse()
    assert set(dot.nodes) == resources
    assert set(dot.edges) == expected
    assert all(label.split("\\n")[0] in resources for label in dot.nodes.values())
    assert sum(len(ids) for ids in dot.clusters.values()) == len(resources)
    assert set(dot.cluster_labels.values()) == set(groups(template))


def test_minimal_example_groups_and_key_edges():
    template = load_template(str(REPO / "examples" / "minimal.toml"))
    nodes, mermaid_edges, subgraphs = parse_mermaid(to_mermaid(template))
    assert list(subgraphs) == ["Watchbot"]
    assert ("WatchbotQueue", "-->", "WatchbotDeadLetterQueue") in mermaid_edges
    assert ("WatchbotService", "-->", "WatchbotTaskDefinition") in mermaid_edges
    assert ("WatchbotTopic", "-->", "WatchbotQueue") in mermaid_edges  # its inline subscription


def test_architecture_doc_shows_the_minimal_example_as_rendered():
    doc = (REPO / "docs" / "architecture.md").read_text()
    blocks = re.findall(r"^```mermaid\n(.*?)^```", doc, re.M | re.S)
    template = load_template(str(REPO / "examples" / "minimal.toml"))
    assert to_mermaid(template) in blocks, \
        "regenerate docs/architecture.md's diagram with: watchbot-cfn graph examples/minimal.toml"


def test_graph_command_reads_a_rendered_template_too(tmp_path):
    rendered = tmp_path / "t.json"
    command = [sys.executable, "-m", "watchbot_cfn.cli.main"]
    rendered.write_text(subprocess.run([*command, "render", "examples/minimal.toml"], cwd=REPO, check=True,
                                       capture_output=True, text=True).stdout)
    from_source = subprocess.run([*command, "graph", "examples/minimal.toml", "--format", "dot"], cwd=REPO,
                                 capture_output=True, text=True)
    from_file = subprocess.run([*command, "graph", str(rendered), "--format", "dot"], cwd=REPO,
                               capture_output=True, text=True)
    assert from_source.returncode == 0 and from_source.stdout == from_file.stdout


@pytest.mark.parametrize("resources,fragment", [
    ({"A": {"Type": "T", "Properties": {"X": {"Ref": "Nope"}}}}, "refers to 'Nope' (Ref)"),
    ({"A": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${Nope.Arn}"}}}}, "refers to 'Nope' (Sub)"),
    ({"A": {"Type": "T", "Properties": {"X": {"Fn::GetAtt": ["P", "Arn"]}}}}, "reads an attribute of 'P'"),
    ({"A": {"Type": "T", "DependsOn": ["Nope"]}}, "depends on 'Nope'"),
    ({"A": {"Type": "T", "Condition": "IsProd"}}, "condition 'IsProd'"),
])
def test_dangling_references_are_named(resources, fragment):
    with pytest.raises(TemplateError, match=re.escape(fragment)):
        check_references({"Parameters": {"P": {"Type": "String"}}, "Resources": resources})


def test_references_that_resolve_pass():
    check_references({**HANDMADE, "Outputs": {"O": {"Value": {"Fn::Sub": "${AWS::StackName}-${!Not}-${WorkQueue}"}}}})
