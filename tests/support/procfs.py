"""Process state read from /proc, for tests that check which processes a watcher leaves behind."""

from __future__ import annotations

import os


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first, then the parent); None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Running or sleeping: neither gone nor a zombie waiting to be reaped."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def is_zombie(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[0] == "Z"


def parent_of(pid: int) -> int:
    """The parent's pid; -1 once the process is gone."""
    fields = stat_fields(pid)
    return int(fields[1]) if fields is not None and len(fields) > 1 else -1


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid``, zombies included."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and parent_of(int(entry)) == pid]
