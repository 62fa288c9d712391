"""The watcher executable's ``__main__``: tidy the environment, then run ``watchbot``.

Called by the name ``watchbot-progress`` (a link or a copy), the same file is
reduce mode's progress command instead, so images without Python get both of
the runtime's commands from one file. staticx starts the program under a name
of its own and passes the file it ran as ``STATICX_PROG_PATH`` (with symbolic
links resolved), so a ``--static`` file needs a hard link or a copy.

The runtime also runs ``sys.executable`` as an interpreter: its job guard is
``sys.executable -I -S -c PROGRAM``, a small process that kills the jobs if the
watcher dies. Frozen, ``sys.executable`` is this file, so a ``-c`` command line
runs its program here as Python would (the options are the ones that change
nothing in a frozen program).

A single-file executable unpacks itself and runs a second process whose
environment carries the unpacker's settings: ``LD_LIBRARY_PATH`` pointing at
the bundled libraries, and PyInstaller's ``_PYI_*`` and staticx's
``STATICX_*`` variables. Jobs must get the container's own environment: a
worker linked against the image's OpenSSL or Python would otherwise load the
bundle's copies, and a frozen worker would mistake itself for this one. The
dynamic linker read the library path when this process started, so changing it
here affects only the processes the watcher starts. Standard library only: this
module is frozen into the executable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

__all__ = ["BUNDLE_VARIABLE_PREFIXES", "INTERPRETER_OPTIONS", "PROGRESS_NAME", "called_as", "interpreter_program",
           "job_environment", "main"]

#: Variables that the unpackers set for their own use.
BUNDLE_VARIABLE_PREFIXES = ("_PYI_", "STATICX_")
#: The name under which the executable runs ``watchbot-progress`` rather than ``watchbot``.
PROGRESS_NAME = "watchbot-progress"
#: Interpreter options accepted before ``-c``: isolation, no site, unbuffered and the like.
INTERPRETER_OPTIONS = frozenset({"-I", "-S", "-E", "-s", "-B", "-u"})


def job_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment as the container gave it, before the executable unpacked itself."""
    clean = {name: value for name, value in environ.items() if not name.startswith(BUNDLE_VARIABLE_PREFIXES)}
    # PyInstaller puts its directory in front of LD_LIBRARY_PATH and keeps the
    # value it found (if there was one) in LD_LIBRARY_PATH_ORIG.
    original = clean.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        clean.pop("LD_LIBRARY_PATH", None)
    else:
        clean["LD_LIBRARY_PATH"] = original
    return clean


def called_as(environ: Mapping[str, str], argv0: str) -> str:
    """The name the file was run by: staticx's record of it when there is one, else argv[0]."""
    return os.path.basename(environ.get("STATICX_PROG_PATH") or argv0)


def interpreter_program(arguments: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(code, sys.argv)`` for ``[OPTIONS] -c CODE [ARG ...]``; None for any other command line."""
    index = 0
    while index < len(arguments) and arguments[index] in INTERPRETER_OPTIONS:
        index += 1
    if index + 1 < len(arguments) and arguments[index] == "-c":
        return arguments[index + 1], ["-c", *arguments[index + 2:]]
    return None


def main(argv: Sequence[str] | None = None, name: str | None = None) -> int:
    """Run ``watchbot``, or ``watchbot-progress`` when called by that name (``name`` defaults to how it was run)."""
    name = name if name is not None else called_as(os.environ, sys.argv[0])
    if getattr(sys, "frozen", False):
        clean = job_environment(os.environ)
        os.environ.clear()
        os.environ.update(clean)
    program = interpreter_program(sys.argv[1:] if argv is None else argv)
    if program is not None:
        code, sys.argv = program
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        return 0
    if os.path.basename(name) == PROGRESS_NAME:
        from watchbot_cfn.runtime.progresscli import main as progress

        return progress(argv)
    from watchbot_cfn.runtime.cli import main as watchbot

    return watchbot(argv)


if __name__ == "__main__":
    sys.exit(main())
