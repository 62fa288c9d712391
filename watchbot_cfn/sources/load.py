"""Turn a SOURCE argument into a troposphere Template.

A SOURCE is one of:

* a TOML, YAML or JSON file whose top-level lowercase keys are the options of
  one system, or whose ``systems`` key lists several option tables; top-level
  CloudFormation sections (``Resources``, ``Outputs``, ...) are the user's own
  template parts and are merged in with :func:`watchbot_cfn.merge`;
* a Python file, ``app.py`` or ``app.py:attr``;
* an importable ``module:attr`` (or just ``module``).

A Python attribute (default name ``template``) is a Template or a zero-argument
function returning one; what it prints goes to stderr, so it never mixes with a
template rendered to stdout. Every failure raises :class:`SourceError` with one
line that names the file, and the line and column when the parser knows them,
so the CLI can print it without a traceback.

Documents are read within the bounds of :mod:`watchbot_cfn.sources.bounds` (size,
nesting, number of values, YAML aliases) and become plain JSON data before any
system is built. A document's systems are built one at a time and refused as
soon as the stack would exceed CloudFormation's 500 resources, so even a source
listing thousands of systems fails fast. The stack's Description is the
source's own ``Description`` when it has one, else one short line naming the
systems.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from troposphere import Template

from watchbot_cfn.cfn import KEYED_SECTIONS, MAX_DESCRIPTION_BYTES, SECTIONS
from watchbot_cfn.errors import MergeConflictError, SourceError, WatchbotError, clip, excerpt
from watchbot_cfn.sources.bounds import (
    MAX_SOURCE_BYTES,
    check_toml_keys,
    depth_problem,
    plain_data,
    read_source_text,
    size_problem,
)
from watchbot_cfn.sources.quotas import check_quotas, over_quota

if TYPE_CHECKING:
    from watchbot_cfn.assemble import WatchbotTemplate

__all__ = ["DOCUMENT_SUFFIXES", "load_document", "load_source", "parse_document", "template_from_document"]

DOCUMENT_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
DEFAULT_ATTRIBUTE = "template"
SYSTEMS_KEY = "systems"

_MODULE_NAME = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"  # compiled when a source is not a file


def load_source(source: str) -> Template:
    """Load SOURCE (a document, a Python file or a module) as one Template."""
    path_part, attribute = _split_attribute(source)
    suffix = _suffix(path_part)
    if _is_plain_directory(path_part):
        raise SourceError(path_part, "is a directory; a source is a .toml, .yaml, .yml, .json or .py file, "
                                     "or module:attribute")
    if suffix in DOCUMENT_SUFFIXES:
        if attribute is not None:
            raise SourceError(source, f"':{attribute}' applies to Python sources only")
        return template_from_document(load_document(path_part), path_part)
    if suffix == ".py":
        return _from_python_file(path_part, attribute or DEFAULT_ATTRIBUTE, source)
    if os.path.isfile(path_part):
        raise SourceError(path_part, "unknown kind of source; expected .toml, .yaml, .yml, .json or .py")
    if re.fullmatch(_MODULE_NAME, path_part):
        return _from_module(path_part, attribute or DEFAULT_ATTRIBUTE, source)
    raise SourceError(source, "no such file, and not a module:attribute")


def _is_plain_directory(path: str) -> bool:
    """A directory that is not an importable package given by its module name."""
    directory = path or "."  # as pathlib reads an empty path
    if not os.path.isdir(directory):
        return False
    return not (re.fullmatch(_MODULE_NAME, path) and os.path.isfile(os.path.join(directory, "__init__.py")))


def _suffix(path: str) -> str:
    """The file's extension, lowercase (``os.path`` rather than pathlib, which ``render`` need not import)."""
    return os.path.splitext(os.path.normpath(path))[1].lower() if path else ""


def _split_attribute(source: str) -> tuple[str, str | None]:
    """``app.py:make`` -> (``app.py``, ``make``); a bare path keeps attribute None."""
    head, sep, tail = source.rpartition(":")
    if sep and head and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tail):
        return head, tail
    return source, None


# --- documents ----------------------------------------------------------------

def load_document(path: str) -> dict[str, Any]:
    """Read and parse a TOML, YAML or JSON file within bounds; syntax errors carry the line."""
    data = parse_document(read_source_text(path), _suffix(path), path)
    if not isinstance(data, dict):
        raise SourceError(path, f"the top level must be a table/object of options, not {type(data).__name__}")
    return data


def parse_document(text: str, suffix: str, origin: str) -> Any:
    """Parse text by file suffix into plain JSON data; raise SourceError naming line and column.

    Whatever the text holds, the only exception is SourceError: parsers are
    third-party code fed untrusted input, so any failure of theirs is the
    input's fault and is reported as such.
    """
    if len(text) > MAX_SOURCE_BYTES:
        raise SourceError(origin, size_problem(len(text)))
    kind = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}.get(suffix, "JSON")
    try:
        data = _parse(text, kind, origin)
    except SourceError:
        raise
    except RecursionError:  # json and tomllib recurse once per level, far beyond MAX_DEPTH
        raise SourceError(origin, depth_problem()) from None
    except Exception as error:
        raise SourceError(origin, f"invalid {kind}: {type(error).__name__}: {error}") from None
    return plain_data(data, origin)


def _parse(text: str, kind: str, origin: str) -> Any:
    if kind == "TOML":
        import tomllib

        check_toml_keys(text, origin)
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SourceError(origin, _toml_problem(str(error))) from None
    if kind == "YAML":
        from watchbot_cfn.sources.cfnyaml import YAMLError, load_yaml

        try:
            return load_yaml(text)
        except YAMLError as error:
            raise SourceError(origin, _yaml_problem(error)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(origin, f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None


def _toml_problem(message: str) -> str:
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        return f"invalid TOML at line {found[1]}, column {found[2]}: {message[:found.start()]}"
    return f"invalid TOML: {message}"


def _yaml_problem(error: Exception) -> str:
    from watchbot_cfn.sources.cfnyaml import YAMLLimitError

    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if isinstance(error, YAMLLimitError):
        return str(problem)
    if mark is not None:
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"invalid YAML: {problem}"


def template_from_document(data: dict[str, Any], origin: str) -> Template:
    """Build every system a parsed document describes and merge in its own sections.

    Pure: no file access. ``origin`` only labels errors. ``data`` is what
    :func:`parse_document` returns (plain JSON data).
    """
    from watchbot_cfn.assemble import template
    from watchbot_cfn.merging import merge

    if not isinstance(data, dict):
        raise SourceError(origin, "the top level must be a table/object of options")
    bad_keys = [key for key in data if not isinstance(key, str)]
    if bad_keys:
        raise SourceError(origin, f"keys must be option or section names, not {excerpt(bad_keys[0])}")
    sections = {key: value for key, value in data.items() if key in SECTIONS}
    for key in data:
        if key not in SECTIONS and key[:1].isupper():
            raise SourceError(origin, f"unknown CloudFormation section {excerpt(key)}; "
                                      f"allowed: {', '.join(sorted(SECTIONS))}")
    _check_sections(sections, origin)
    options = {key: value for key, value in data.items() if key not in SECTIONS and key != SYSTEMS_KEY}
    systems = _system_tables(data.get(SYSTEMS_KEY), options, origin)
    resource_ids = set(sections.get("Resources", {}))
    built: list[WatchbotTemplate] = []
    for label, table in systems:
        try:
            system = template(**table)
        except WatchbotError as error:
            raise SourceError(origin, f"{label}{error}") from error
        resource_ids.update(system.resources)
        too_many = over_quota("Resources", len(resource_ids))
        if too_many:
            advice = f"; split the {len(systems):,} systems across stacks" if len(systems) > 1 else ""
            raise SourceError(origin, f"{label}{too_many}{advice}")
        built.append(system)
    try:
        if not sections and len(built) == 1:
            return built[0]
        merged = merge(*built, sections, description=_description(sections, built))
    except (MergeConflictError, ValueError) as error:
        raise SourceError(origin, str(error)) from error
    check_quotas(merged, origin)
    return merged


def _check_sections(sections: dict[str, Any], origin: str) -> None:
    """The user's own sections have the shapes CloudFormation (and the merger) expect."""
    for name, value in sections.items():
        if name in (*KEYED_SECTIONS, "Metadata", "Globals"):
            if not isinstance(value, dict):
                raise SourceError(origin, f"section {name} must be a mapping, not {_type_name(value)}")
        elif name in ("Description", "AWSTemplateFormatVersion"):
            if not isinstance(value, str):
                raise SourceError(origin, f"section {name} must be text, not {_type_name(value)}")
        elif name == "Transform":
            transforms = value if isinstance(value, list) else [value]
            if not all(isinstance(item, str | dict) for item in transforms):
                raise SourceError(origin, "section Transform must be a macro name or a list of them")
    size = len(sections.get("Description", "").encode())
    if size > MAX_DESCRIPTION_BYTES:
        raise SourceError(origin, f"Description is {size:,} bytes; CloudFormation allows at most "
                                  f"{MAX_DESCRIPTION_BYTES:,}")


def _type_name(value: Any) -> str:
    return {list: "a list", dict: "a mapping", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _description(sections: dict[str, Any], built: list[WatchbotTemplate]) -> str | None:
    """The source's own Description, else the one system's, else a short line naming the systems."""
    from watchbot_cfn.merging import systems_description

    if sections.get("Description"):
        return str(sections["Description"])
    if len(built) == 1:
        return built[0].description
    return systems_description([system.names.prefix for system in built])


def _system_tables(systems: Any, options: dict[str, Any], origin: str) -> list[tuple[str, dict[str, Any]]]:
    """(label for errors, option table) for each system the document describes."""
    if systems is None:
        if not options:
            raise SourceError(origin, "no options given; expected a system's options (cluster, service, "
                                      "service_version, command, ...) or a 'systems' list")
        return [("", options)]
    if options:
        raise SourceError(origin, f"give options either at the top level or under '{SYSTEMS_KEY}', not both "
                                  f"(top-level: {clip(', '.join(sorted(options)), 200)})")
    if not isinstance(systems, list) or not systems or not all(isinstance(s, dict) for s in systems):
        raise SourceError(origin, f"'{SYSTEMS_KEY}' must be a non-empty list of option tables")
    return [(f"{SYSTEMS_KEY}[{index}]: ", table) for index, table in enumerate(systems)]


# --- Python sources -------------------------------------------------------------

def _from_python_file(path: str, attribute: str, source: str) -> Template:
    if os.path.isdir(path):
        raise SourceError(path, "is a directory, not a file")
    if not os.path.isfile(path):
        raise SourceError(path, "no such file")
    file = os.path.realpath(path)
    module_name = f"_watchbot_source_{abs(hash(file))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always get a loader
        raise SourceError(path, "cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    sys.path.insert(0, os.path.dirname(file))  # lets app.py import its neighbours
    loader = spec.loader
    try:
        _run(lambda: loader.exec_module(module), path)
    except SourceError:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(os.path.dirname(file))
    return _attribute_template(module, attribute, path, source)


def _from_module(name: str, attribute: str, source: str) -> Template:
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: modules in the working directory import
    try:
        with _stdout_to_stderr():
            module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise SourceError(source, f"no such file or module {name!r}") from None
        raise SourceError(name, f"import failed: {error}") from error
    except SyntaxError as error:
        raise SourceError(error.filename or name, _syntax_problem(error)) from None
    except WatchbotError as error:
        raise SourceError(name, str(error)) from error
    except SystemExit as error:
        raise SourceError(name, _exit_problem(error)) from None
    except Exception as error:
        raise SourceError(name, f"import failed: {type(error).__name__}: {error}") from error
    return _attribute_template(module, attribute, name, source)


def _attribute_template(module: Any, attribute: str, origin: str, source: str) -> Template:
    try:
        value = _run(lambda: getattr(module, attribute), origin)
    except SourceError as error:
        if isinstance(error.__cause__, AttributeError):
            raise SourceError(origin, f"has no attribute {attribute!r} (use {origin}:NAME to pick another)") from None
        raise
    if callable(value) and not isinstance(value, Template):
        value = _run(value, origin)
    if not isinstance(value, Template):
        raise SourceError(origin, f"{attribute!r} is {type(value).__name__}, not a troposphere Template "
                                  "or a function returning one")
    return value


def _run(action: Callable[[], Any], origin: str) -> Any:
    """Run user code with its printing on stderr; turn its failures into one-line SourceErrors."""
    try:
        with _stdout_to_stderr():
            return action()
    except SyntaxError as error:
        raise SourceError(error.filename or origin, _syntax_problem(error)) from None
    except WatchbotError as error:
        raise SourceError(origin, str(error)) from error
    except SystemExit as error:
        raise SourceError(origin, _exit_problem(error)) from None
    except Exception as error:
        raise SourceError(origin, f"{type(error).__name__}: {error}") from error


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """What a Python source prints is a diagnostic, never part of a template written to stdout."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _exit_problem(error: SystemExit) -> str:
    return f"exited (sys.exit({excerpt(error.code)})) instead of defining a template"


def _syntax_problem(error: SyntaxError) -> str:
    return f"invalid Python at line {error.lineno}, column {error.offset}: {error.msg}"
