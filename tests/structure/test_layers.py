"""The layers the package is built in: command front-ends on top, nothing below them reaching up.

``cli`` holds front-ends only, so nothing imports it but itself; ``simulate`` and
``ops`` do their work without the command layer; the runtime (shipped into
users' images) imports nothing of the package but itself, the contract and the
records the contract is made of; and
one module decides which systems a stack holds.
"""

from __future__ import annotations

import ast

import pytest

from tests.structure.test_modules import MODULES, imported_modules

CLI = "watchbot_cfn.cli"


def _in(package: str, name: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("name", sorted(name for name in MODULES if not _in(CLI, name)))
def test_nothing_below_the_command_layer_imports_it(name):
    assert {target for target in imported_modules(name) if _in(CLI, target)} == set()


@pytest.mark.parametrize("package", ["watchbot_cfn.simulate", "watchbot_cfn.ops", "watchbot_cfn.analysis",
                                     "watchbot_cfn.sources", "watchbot_cfn.aws", "watchbot_cfn.local"])
def test_working_packages_import_nothing_from_the_command_layer(package):
    modules = [name for name in MODULES if _in(package, name)]
    assert modules, f"{package} has modules"
    for name in modules:
        assert not any(_in(CLI, target) for target in imported_modules(name)), name


def test_the_runtime_imports_only_itself_and_the_contract():
    for name in (name for name in MODULES if _in("watchbot_cfn.runtime", name)):
        allowed = {"watchbot_cfn", "watchbot_cfn.contract", "watchbot_cfn.records"}
        outside = {target for target in imported_modules(name)
                   if not _in("watchbot_cfn.runtime", target) and target not in allowed}
        assert outside == set(), name


def test_the_contract_and_records_import_nothing_else_of_the_package():
    assert {t for t in imported_modules("watchbot_cfn.contract") if _in("watchbot_cfn", t)} <= {
        "watchbot_cfn", "watchbot_cfn.records"}
    assert {t for t in imported_modules("watchbot_cfn.records") if _in("watchbot_cfn", t)} <= {"watchbot_cfn"}


def test_every_command_front_end_is_in_the_command_table():
    from watchbot_cfn.cli.main import COMMANDS

    listed = {f"{CLI}.{module}" for module, _ in COMMANDS.values()}
    front_ends = {name for name in MODULES if _in(CLI, name) and name.rpartition(".")[2] not in
                  {"cli", "main", "arguments", "confirm", "dead_letter"}}
    assert front_ends == listed


def _calls(name: str, attribute: str) -> bool:
    tree = ast.parse(MODULES[name].read_text())
    return any(isinstance(node, ast.Attribute) and node.attr == attribute or
               isinstance(node, ast.Constant) and node.value == attribute for node in ast.walk(tree))


def test_one_module_finds_systems_in_a_stack():
    """Pairing queues into systems (the ``DeadLetterQueue`` rule) and listing a stack's resources live in one
    place each; every tool goes through them."""
    pairing = {name for name in MODULES if _calls(name, "DeadLetterQueue") and _in("watchbot_cfn", name)
               and not _in("watchbot_cfn.resources", name)}
    assert pairing <= {"watchbot_cfn.naming", "watchbot_cfn.analysis.systems"}, pairing
    listing = {name for name in MODULES if _calls(name, "list_stack_resources")}
    assert listing == {"watchbot_cfn.aws.stacks"}, listing
