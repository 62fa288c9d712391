"""Shared libraries without a baked-in search path, so staticx accepts them.

Pythons built with an rpath (pyenv, many images' own builds) leave a RUNPATH
in ``libpython`` and every extension module. Inside the executable it points
at the build machine's directories and is never needed (the bootloader sets
the library path), and staticx refuses such libraries outright. The spec
replaces each one with a copy whose RUNPATH is removed by ``patchelf``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable

__all__ = ["runpath", "without_runpath"]

TocEntry = tuple[str, str, str]
_SHARED_LIBRARY_KINDS = ("BINARY", "EXTENSION")


def runpath(path: str, patchelf: str = "patchelf") -> str:
    """The RPATH/RUNPATH of an ELF file ('' when it has none)."""
    result = subprocess.run([patchelf, "--print-rpath", path], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def without_runpath(binaries: Iterable[TocEntry], staging: str, patchelf: str = "patchelf") -> list[TocEntry]:
    """The TOC entries, each shared library with a RUNPATH swapped for a cleaned copy under ``staging``."""
    cleaned: list[TocEntry] = []
    for destination, source, kind in binaries:
        if kind in _SHARED_LIBRARY_KINDS and runpath(source, patchelf):
            copy = os.path.join(staging, destination)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copyfile(source, copy)  # a new mtime: PyInstaller caches processed binaries by it
            os.chmod(copy, 0o755)
            subprocess.run([patchelf, "--remove-rpath", copy], check=True, capture_output=True)
            source = copy
        cleaned.append((destination, source, kind))
    return cleaned
