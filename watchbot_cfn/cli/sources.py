"""Turn a SOURCE argument into a troposphere Template.

A SOURCE is one of:

* a TOML, YAML or JSON file whose top-level lowercase keys are the options of
  one system, or whose ``systems`` key lists several option tables; top-level
  CloudFormation sections (``Resources``, ``Outputs``, ...) are the user's own
  template parts and are merged in with :func:`watchbot_cfn.merge`;
* a Python file, ``app.py`` or ``app.py:attr``;
* an importable ``module:attr`` (or just ``module``).

A Python attribute (default name ``template``) is a Template or a zero-argument
function returning one. Every failure raises :class:`SourceError` with one line
that names the file, and the line and column when the parser knows them, so the
CLI can print it without a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from troposphere import Template

from watchbot_cfn.cfn import SECTIONS
from watchbot_cfn.errors import MergeConflictError, OptionsError, SourceError, WatchbotError

__all__ = ["DOCUMENT_SUFFIXES", "load_document", "load_source", "parse_document", "template_from_document"]

DOCUMENT_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
DEFAULT_ATTRIBUTE = "template"
SYSTEMS_KEY = "systems"

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def load_source(source: str) -> Template:
    """Load SOURCE (a document, a Python file or a module) as one Template."""
    path_part, attribute = _split_attribute(source)
    suffix = Path(path_part).suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        if attribute is not None:
            raise SourceError(source, f"':{attribute}' applies to Python sources only")
        return template_from_document(load_document(path_part), path_part)
    if suffix == ".py":
        return _from_python_file(path_part, attribute or DEFAULT_ATTRIBUTE, source)
    if Path(path_part).is_file():
        raise SourceError(path_part, "unknown kind of source; expected .toml, .yaml, .yml, .json or .py")
    if _MODULE_NAME.fullmatch(path_part):
        return _from_module(path_part, attribute or DEFAULT_ATTRIBUTE, source)
    raise SourceError(source, "no such file, and not a module:attribute")


def _split_attribute(source: str) -> tuple[str, str | None]:
    """``app.py:make`` -> (``app.py``, ``make``); a bare path keeps attribute None."""
    head, sep, tail = source.rpartition(":")
    if sep and head and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tail):
        return head, tail
    return source, None


# --- documents ----------------------------------------------------------------

def load_document(path: str) -> dict[str, Any]:
    """Read and parse a TOML, YAML or JSON file; syntax errors carry the line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except IsADirectoryError:
        raise SourceError(path, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(path, f"cannot read: {error}") from None
    data = parse_document(text, file.suffix.lower(), path)
    if not isinstance(data, dict):
        raise SourceError(path, f"the top level must be a table/object of options, not {type(data).__name__}")
    return data


def parse_document(text: str, suffix: str, origin: str) -> Any:
    """Parse text by file suffix; raise SourceError naming line and column."""
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SourceError(origin, _toml_problem(str(error))) from None
    if suffix in (".yaml", ".yml"):
        from watchbot_cfn.cli.cfnyaml import YAMLError, load_yaml

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
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"invalid YAML: {problem}"


def template_from_document(data: dict[str, Any], origin: str) -> Template:
    """Build every system a parsed document describes and merge in its own sections.

    Pure: no file access. ``origin`` only labels errors.
    """
    from watchbot_cfn.assemble import template
    from watchbot_cfn.merging import merge

    if not isinstance(data, dict):
        raise SourceError(origin, "the top level must be a table/object of options")
    bad_keys = [key for key in data if not isinstance(key, str)]
    if bad_keys:
        raise SourceError(origin, f"keys must be option or section names, not {bad_keys[0]!r}")
    sections = {key: value for key, value in data.items() if key in SECTIONS}
    for key in data:
        if key not in SECTIONS and key[:1].isupper():
            raise SourceError(origin, f"unknown CloudFormation section {key!r}; "
                                      f"allowed: {', '.join(sorted(SECTIONS))}")
    options = {key: value for key, value in data.items() if key not in SECTIONS and key != SYSTEMS_KEY}
    systems = _system_tables(data.get(SYSTEMS_KEY), options, origin)
    built: list[Template] = []
    for label, table in systems:
        try:
            built.append(template(**table))
        except OptionsError as error:
            raise SourceError(origin, f"{label}{error}") from error
    try:
        if not sections:
            return built[0] if len(built) == 1 else merge(*built)
        return merge(*built, sections)
    except (MergeConflictError, ValueError) as error:
        raise SourceError(origin, str(error)) from error


def _system_tables(systems: Any, options: dict[str, Any], origin: str) -> list[tuple[str, dict[str, Any]]]:
    """(label for errors, option table) for each system the document describes."""
    if systems is None:
        if not options:
            raise SourceError(origin, "no options given; expected a system's options (cluster, service, "
                                      "service_version, command, ...) or a 'systems' list")
        return [("", options)]
    if options:
        raise SourceError(origin, f"give options either at the top level or under '{SYSTEMS_KEY}', not both "
                                  f"(top-level: {', '.join(sorted(options))})")
    if not isinstance(systems, list) or not systems or not all(isinstance(s, dict) for s in systems):
        raise SourceError(origin, f"'{SYSTEMS_KEY}' must be a non-empty list of option tables")
    return [(f"{SYSTEMS_KEY}[{index}]: ", table) for index, table in enumerate(systems)]


# --- Python sources -------------------------------------------------------------

def _from_python_file(path: str, attribute: str, source: str) -> Template:
    file = Path(path)
    if not file.is_file():
        raise SourceError(path, "no such file")
    module_name = f"_watchbot_source_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always get a loader
        raise SourceError(path, "cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    sys.path.insert(0, str(file.resolve().parent))  # lets app.py import its neighbours
    loader = spec.loader
    try:
        _run(lambda: loader.exec_module(module), path)
    except SourceError:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(str(file.resolve().parent))
    return _attribute_template(module, attribute, path, source)


def _from_module(name: str, attribute: str, source: str) -> Template:
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: modules in the working directory import
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise SourceError(source, f"no such file or module {name!r}") from None
        raise SourceError(name, f"import failed: {error}") from error
    except SyntaxError as error:
        raise SourceError(error.filename or name, _syntax_problem(error)) from None
    except WatchbotError as error:
        raise SourceError(name, str(error)) from error
    except Exception as error:
        raise SourceError(name, f"import failed: {type(error).__name__}: {error}") from error
    return _attribute_template(module, attribute, name, source)


def _attribute_template(module: Any, attribute: str, origin: str, source: str) -> Template:
    try:
        value = getattr(module, attribute)
    except AttributeError:
        raise SourceError(origin, f"has no attribute {attribute!r} (use {origin}:NAME to pick another)") from None
    if callable(value) and not isinstance(value, Template):
        value = _run(value, origin)
    if not isinstance(value, Template):
        raise SourceError(origin, f"{attribute!r} is {type(value).__name__}, not a troposphere Template "
                                  "or a function returning one")
    return value


def _run(action: Callable[[], Any], origin: str) -> Any:
    """Run user code; turn its failures into one-line SourceErrors."""
    try:
        return action()
    except SyntaxError as error:
        raise SourceError(error.filename or origin, _syntax_problem(error)) from None
    except WatchbotError as error:
        raise SourceError(origin, str(error)) from error
    except Exception as error:
        raise SourceError(origin, f"{type(error).__name__}: {error}") from error


def _syntax_problem(error: SyntaxError) -> str:
    return f"invalid Python at line {error.lineno}, column {error.offset}: {error.msg}"
