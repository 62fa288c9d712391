"""Emptying the job volumes between jobs: contents go, mount points stay.

A job can leave anything behind: trees thousands of levels deep (an unpacked
archive), symlinks to anywhere, other filesystems mounted inside a volume. So
the walk is iterative (no recursion limit), holds at most two directory
descriptors whatever the depth, works relative to directory descriptors
(paths longer than PATH_MAX are fine), never follows a symlink (a link is
removed, never what it points to), and never enters another filesystem
mounted inside a volume. Climbing back up through ``..`` is checked against
the directory it came from, so a tree moved during the walk stops it instead
of leading it elsewhere.

The watcher's own message files may live inside a volume (``/tmp`` is the usual
one and often the only writable place); they are kept. So are the files of a
single-file watcher executable (``watchbot-cfn build-watcher``), which unpacks
itself there and reads from them for as long as it runs. A volume that
resolves to the filesystem root is never emptied, however it is spelled.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from watchbot_cfn.runtime.logger import Logger

__all__ = ["clean_volumes", "root_volume_problem"]

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
Identity = tuple[int, int]


def _identity(status: os.stat_result) -> Identity:
    return status.st_dev, status.st_ino


def root_volume_problem(volume: str) -> str | None:
    """Why ``volume`` may not be emptied at run time (it is the root through ``..`` or a symlink), or None."""
    try:
        real = os.path.realpath(volume)
        if real == "/" or _identity(os.stat(volume)) == _identity(os.stat("/")):
            return f"{volume} resolves to /; the watcher never empties the whole filesystem"
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{volume} cannot be checked ({error.strerror or error})"
    return None


@dataclass
class _Frame:
    """A directory being emptied: where it is, and the sub-directories still to empty."""

    identity: Identity
    name: str | None  # its name in its parent; None for the volume itself
    pending: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    removed: int = 0
    problems: list[str] = field(default_factory=list)


def clean_volumes(volumes: Iterable[str], keep: Iterable[str] = (), logger: Logger | None = None,
                  follow_symlink: bool = True) -> int:
    """Remove everything inside each volume except the ``keep`` paths; returns entries removed.

    ``follow_symlink=False`` for a directory a job could have replaced with a
    symlink (its scratch directory): then it is never entered through one.
    """
    kept: set[Identity] = set()
    kept_parents: set[Identity] = set()
    for path in [*keep, *executable_files()]:
        try:
            kept.add(_identity(os.stat(path)))
            parent = os.path.dirname(os.path.realpath(path))
            while True:
                kept_parents.add(_identity(os.stat(parent)))
                if parent == "/":
                    break
                parent = os.path.dirname(parent)
        except OSError:
            continue
    removed = 0
    for volume in volumes:
        walk = _Walk()
        try:
            _empty(volume, kept, kept_parents, walk, follow_symlink)
        except FileNotFoundError:
            continue
        except OSError as error:
            walk.problems.append(f"cannot clean volume {volume}: {error.strerror or error}")
        removed += walk.removed
        if logger:
            for problem in walk.problems[:5]:
                logger.notice(problem, level="warning")
            if len(walk.problems) > 5:
                logger.notice(f"... and {len(walk.problems) - 5} more entries of {volume} could not be removed",
                              level="warning")
    return removed


def _empty(volume: str, kept: set[Identity], kept_parents: set[Identity], walk: _Walk,
           follow_symlink: bool = True) -> None:
    trouble = root_volume_problem(volume)
    if trouble:
        walk.problems.append(f"not cleaning volume: {trouble}")
        return
    top = os.open(volume, (os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)) if follow_symlink
                  else _DIRECTORY_FLAGS)
    try:
        device = os.fstat(top).st_dev
        if _identity(os.fstat(top)) == _identity(os.stat("/")):
            walk.problems.append(f"not cleaning volume {volume}: it is /")
            return
        frames = [_Frame(_identity(os.fstat(top)), None)]
        current = top  # the directory of frames[-1]; ``top`` stays open for the whole walk
        frames[0].pending = _scan(current, volume, device, kept, walk)
        try:
            while frames:
                frame = frames[-1]
                if frame.pending:
                    name = frame.pending.pop()
                    child = _descend(current, name, device, walk, volume)
                    if child is None:
                        continue
                    identity = _identity(os.fstat(child))
                    if current != top:
                        os.close(current)
                    current = child
                    frames.append(_Frame(identity, name))
                    frames[-1].pending = _scan(current, volume, device, kept, walk)
                    continue
                frames.pop()
                if not frames:
                    break
                parent = frames[-1]
                if len(frames) == 1:
                    up = top
                else:
                    up = os.open("..", _DIRECTORY_FLAGS, dir_fd=current)
                    if _identity(os.fstat(up)) != parent.identity:
                        os.close(up)
                        walk.problems.append(f"stopped cleaning {volume}: a directory was moved during the walk")
                        return
                os.close(current)
                current = up
                assert frame.name is not None
                try:
                    os.rmdir(frame.name, dir_fd=current)
                    walk.removed += 1
                except FileNotFoundError:
                    pass
                except OSError as error:
                    if not (error.errno == errno.ENOTEMPTY and frame.identity in kept_parents):
                        walk.problems.append(f"cannot remove {volume}/…/{frame.name}: {error.strerror or error}")
        finally:
            if current != top:
                os.close(current)
    finally:
        os.close(top)


def _scan(directory: int, volume: str, device: int, kept: set[Identity], walk: _Walk) -> list[str]:
    """Remove every non-directory entry now; return the sub-directories to empty and remove."""
    subdirectories = []
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                status = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as error:
                walk.problems.append(f"cannot remove {volume}/…/{entry.name}: {error.strerror or error}")
                continue
            if _identity(status) in kept:
                continue
            if stat.S_ISDIR(status.st_mode):
                if status.st_dev != device:
                    walk.problems.append(f"not entering {volume}/…/{entry.name}: another filesystem is mounted "
                                         "there")
                    continue
                subdirectories.append(entry.name)
                continue
            try:
                os.unlink(entry.name, dir_fd=directory)  # a symlink goes, never what it points to
                walk.removed += 1
            except FileNotFoundError:
                pass
            except OSError as error:
                walk.problems.append(f"cannot remove {volume}/…/{entry.name}: {error.strerror or error}")
    return subdirectories


def _descend(directory: int, name: str, device: int, walk: _Walk, volume: str) -> int | None:
    try:
        child = os.open(name, _DIRECTORY_FLAGS, dir_fd=directory)
    except FileNotFoundError:
        return None
    except OSError as error:  # replaced by a symlink meanwhile (ELOOP/ENOTDIR), or unreadable
        walk.problems.append(f"cannot enter {volume}/…/{name}: {error.strerror or error}")
        return None
    if os.fstat(child).st_dev != device:
        os.close(child)
        walk.problems.append(f"not entering {volume}/…/{name}: another filesystem is mounted there")
        return None
    return child


def executable_files() -> list[str]:
    """What a frozen watcher runs from: its unpacked files and the directory of its program.

    Under staticx the program itself sits in the directory staticx unpacked,
    next to the C library it loads name-service modules from later.
    """
    if not getattr(sys, "frozen", False):
        return []
    return [path for path in (getattr(sys, "_MEIPASS", ""), os.path.dirname(sys.executable)) if path]
