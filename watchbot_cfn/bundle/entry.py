"""The watcher executable's ``__main__``: tidy the environment, then run ``watchbot``.

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

__all__ = ["BUNDLE_VARIABLE_PREFIXES", "job_environment", "main"]

#: Variables that the unpackers set for their own use.
BUNDLE_VARIABLE_PREFIXES = ("_PYI_", "STATICX_")


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


def main(argv: Sequence[str] | None = None) -> int:
    if getattr(sys, "frozen", False):
        clean = job_environment(os.environ)
        os.environ.clear()
        os.environ.update(clean)
    from watchbot_cfn.runtime.cli import main as watchbot

    return watchbot(argv)


if __name__ == "__main__":
    sys.exit(main())
