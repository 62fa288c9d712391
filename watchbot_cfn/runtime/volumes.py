"""Emptying the job volumes between jobs: contents go, mount points stay.

The watcher's own message files may live inside a volume (``/tmp`` is the usual
one and often the only writable place); they are kept. So are the files of a
single-file watcher executable (``watchbot-cfn build-watcher``), which unpacks
itself there and reads from them for as long as it runs.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable

from watchbot_cfn.runtime.logger import Logger

__all__ = ["clean_volumes"]


def clean_volumes(volumes: Iterable[str], keep: Iterable[str] = (), logger: Logger | None = None) -> int:
    """Remove everything inside each volume except the ``keep`` paths; returns entries removed."""
    kept = {os.path.realpath(path) for path in [*keep, *executable_files()]}
    removed = 0
    for volume in volumes:
        try:
            entries = list(os.scandir(volume))
        except FileNotFoundError:
            continue
        except OSError as error:
            if logger:
                logger.notice(f"cannot clean volume {volume}: {error}", level="warning")
            continue
        for entry in entries:
            real = os.path.realpath(entry.path)
            if real in kept or any(path.startswith(real + os.sep) for path in kept):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as error:
                if logger:
                    logger.notice(f"cannot remove {entry.path}: {error}", level="warning")
    return removed


def executable_files() -> list[str]:
    """What a frozen watcher runs from: its unpacked files and the directory of its program.

    Under staticx the program itself sits in the directory staticx unpacked,
    next to the C library it loads name-service modules from later.
    """
    if not getattr(sys, "frozen", False):
        return []
    return [path for path in (getattr(sys, "_MEIPASS", ""), os.path.dirname(sys.executable)) if path]
