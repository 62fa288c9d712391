"""Bounds on what a source document may make the renderer do.

A source is read by code that recurses (tomllib, json, PyYAML's composer, the
template builders) and holds it in memory, so a hostile or broken file could
otherwise exhaust the stack or the memory. Every bound sits far above what a
template CloudFormation accepts can need (at most 1,000,000 bytes, which is
well under 100,000 values nested a few dozen levels deep), and a source that
crosses one is refused with one line naming the file and the limit:

* size: at most :data:`MAX_SOURCE_BYTES`, read from a regular file only (a
  FIFO or device would block or never end);
* nesting: at most :data:`MAX_DEPTH` containers deep (lists, tables/objects,
  and dotted TOML keys, which nest tables too);
* values: at most :data:`MAX_VALUES` in the whole document, and for YAML,
  where an alias (``*name``) repeats what its anchor holds, the document
  counted with every alias expanded (see :mod:`watchbot_cfn.sources.cfnyaml`).

:func:`plain_data` also turns the parsed document into plain JSON data, the
only kind a template can hold: TOML dates become ISO 8601 text, non-string
keys below the top level become the text JSON would write, and values JSON
cannot represent (NaN, binary, sets, lone surrogates) are refused with their
place in the document.
"""

from __future__ import annotations

import codecs
import datetime
import math
import os
import re
import stat
from typing import Any

from watchbot_cfn.errors import SourceError, clip

__all__ = ["MAX_DEPTH", "MAX_SOURCE_BYTES", "MAX_VALUES", "check_toml_keys", "depth_problem", "plain_data",
           "read_source_text", "size_problem", "values_problem"]

#: Largest source file, in bytes: five times the largest template CloudFormation accepts.
MAX_SOURCE_BYTES = 5 * 1024 * 1024
#: Deepest nesting of containers; real templates stay under 20, and 100 keeps every recursive reader
#: (parsers, builders, renderers) far from Python's recursion limit.
MAX_DEPTH = 100
#: Most values (scalars, keys and containers) in one document, aliases expanded.
MAX_VALUES = 250_000

_SURROGATE = "[\ud800-\udfff]"
_TOML_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_TOML_LONG_KEY = _TOML_KEY_PART + rf"(?:[ \t]*\.[ \t]*{_TOML_KEY_PART}){{{MAX_DEPTH}}}"


def depth_problem(where: str = "") -> str:
    return f"nested more than {MAX_DEPTH} levels deep{where} (the most a source may nest)"


def values_problem(where: str = "") -> str:
    return f"holds more than {MAX_VALUES:,} values{where} (the most a source may hold)"


def size_problem(size: int) -> str:
    return f"is {size:,} bytes, larger than the {MAX_SOURCE_BYTES:,} bytes a source may be"


# --- reading ----------------------------------------------------------------------

def read_source_text(path: str) -> str:
    """The text of a source file: a regular file of UTF-8 text, at most MAX_SOURCE_BYTES long."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except OSError as error:
        raise SourceError(path, f"cannot read: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise SourceError(path, "is a directory, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise SourceError(path, "is not a regular file (a FIFO, socket or device cannot be a source)")
    if status.st_size > MAX_SOURCE_BYTES:
        raise SourceError(path, size_problem(status.st_size))
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)  # the file may have grown since stat
    except OSError as error:
        raise SourceError(path, f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(path, size_problem(len(data)))
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0  # a BOM is allowed and dropped
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + error.start  # in the file, BOM included
        raise SourceError(path, f"is not UTF-8 text (byte {data[offset]:#04x} at offset {offset})") from None


def check_toml_keys(text: str, origin: str) -> None:
    """Refuse dotted keys of more than MAX_DEPTH parts before tomllib sees them.

    tomllib handles a dotted key in time and memory that grow with the square
    of its length (100,000 parts exhaust gigabytes), and each part nests one
    table deeper, so such a key is refused as too deep.
    """
    if text.count(".") < MAX_DEPTH:  # such a key has at least MAX_DEPTH dots; most sources have a few
        return
    found = re.search(_TOML_LONG_KEY, text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise SourceError(origin, depth_problem(f": a dotted key of more than {MAX_DEPTH} parts at line {line}"))


# --- plain data -------------------------------------------------------------------

_Path = tuple[Any, ...]  # (parent path, key) pairs, built only as deep as the walk goes


def plain_data(data: Any, origin: str) -> Any:
    """A copy of a parsed document as plain JSON data, within MAX_DEPTH and MAX_VALUES.

    Top-level keys are kept as they are: the source reader explains wrong ones.
    """
    counter = [0]
    return _plain(data, origin, (), 0, counter)


def _plain(value: Any, origin: str, path: _Path, depth: int, counter: list[int]) -> Any:
    counter[0] += 1
    if counter[0] > MAX_VALUES:
        raise SourceError(origin, values_problem())
    if isinstance(value, str):
        found = None if value.isascii() else re.search(_SURROGATE, value)  # compiled only for non-ASCII text
        if found:
            raise SourceError(origin, f"{_where(path)}: text with an unpaired surrogate "
                                      f"(\\u{ord(found.group()):04x}), which UTF-8 cannot hold")
        return value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SourceError(origin, f"{_where(path)}: {value} is not a number CloudFormation can hold")
        return value
    if isinstance(value, datetime.date | datetime.time):  # TOML dates and times
        return value.isoformat()
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise SourceError(origin, depth_problem(f" under {_where(path, short=True)}"))
        if isinstance(value, list):
            return [_plain(item, origin, (path, index), depth + 1, counter) for index, item in enumerate(value)]
        counter[0] += len(value)  # keys are values too, as YAML counts them
        result = {}
        for key, item in value.items():
            name = _key(key, origin, path) if path else key
            result[name] = _plain(item, origin, (path, name), depth + 1, counter)
        return result
    raise SourceError(origin, f"{_where(path)}: a {_kind(value)} is not allowed in a template; "
                              "use text, a number, true/false, a list or a mapping")


def _key(key: Any, origin: str, path: _Path) -> str:
    """A mapping key as text; numbers, booleans, null and dates read as JSON would write them."""
    if isinstance(key, str):
        return str(_plain(key, origin, path, 0, [0]))  # refuses lone surrogates like any text
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return repr(key)
    if isinstance(key, datetime.date | datetime.time):
        return key.isoformat()
    raise SourceError(origin, f"{_where(path)}: a key must be text or a number, not a {_kind(key)}")


def _kind(value: Any) -> str:
    names: dict[type, str] = {bytes: "binary value (!!binary)", set: "set (!!set)",
                              tuple: "pair list (!!omap or !!pairs)"}
    return names.get(type(value), f"{type(value).__name__} value")


def _where(path: _Path, short: bool = False) -> str:
    """``Resources.Queue.Properties[0]`` for a path; the first three parts only when short."""
    keys: list[Any] = []
    while path:
        path, key = path
        keys.append(key)
    keys.reverse()
    if not keys:
        return "the top level"
    shown = keys[:3] if short else keys
    text = ""
    for key in shown:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return clip(text, 120) + (" ..." if len(shown) < len(keys) else "")
