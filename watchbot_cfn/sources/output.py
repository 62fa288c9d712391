"""Render a Template to JSON or YAML text, and write it without partial files.

The whole text is produced before anything is written, and files are written
to a temporary sibling and renamed into place, so a failure never leaves a
half-written template behind (or a truncated one where a good one was). Write
errors name the path the caller gave, never the temporary file.
"""

from __future__ import annotations

import errno
import json
import os
from typing import TYPE_CHECKING, Any

from troposphere import Template

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FORMATS", "SECTION_ORDER", "ordered_dict", "render_text", "write_atomic"]

FORMATS = ("json", "yaml")

#: The order people expect to read a template in.
SECTION_ORDER = ("AWSTemplateFormatVersion", "Description", "Transform", "Metadata", "Parameters", "Rules",
                 "Mappings", "Conditions", "Globals", "Resources", "Outputs")


def ordered_dict(template: Template) -> dict[str, Any]:
    """The template as plain data, top-level sections in conventional order."""
    data = template.to_dict()
    ordered = {key: data[key] for key in SECTION_ORDER if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    return ordered


def render_text(template: Template, fmt: str = "json") -> str:
    """JSON (2-space indent) or long-form YAML, ending in a newline."""
    data = ordered_dict(template)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "yaml":
        from watchbot_cfn.sources.cfnyaml import dump_yaml

        return dump_yaml(data)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write text to path through a temporary file in the same directory and a rename."""
    from pathlib import Path  # here, not at the top: rendering to stdout need not import it

    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "does not exist"
        raise FileNotFoundError(errno.ENOENT, f"cannot write: directory {str(directory)!r} {problem}", str(path))
    if _is_special(target):
        # A device or a pipe (-o /dev/null, -o /dev/stdout, a FIFO) is written to, never replaced by a file.
        try:
            with open(target, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as error:
            raise _about(error, path) from None
        return
    import tempfile

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise _about(error, path) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise _about(error, path) from None
        raise


def _is_special(target: Path) -> bool:
    """The path exists and is not a regular file or a directory (a device, a FIFO, a socket)."""
    import stat

    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _about(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """The same failure, told about the path the caller gave."""
    return OSError(error.errno, f"cannot write: {error.strerror or error}", str(path))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
