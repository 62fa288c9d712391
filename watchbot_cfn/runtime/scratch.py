"""Per-job scratch directories inside the volumes, and the guard on their free space.

With several slots, jobs share the volumes, which are emptied only when no
job runs. So each job gets a directory of its own inside every volume (the
same name in each, ``TMPDIR`` pointing at the one in the first volume),
removed with everything in it as soon as the job ends: what a job keeps there
is never seen by another job and never piles up while others run.

Files a job writes elsewhere in a volume stay until no job runs. If they
fill it, starting more jobs beside them would only make things worse: when a
volume has lost more than half of the free space it had when it was last
emptied, new jobs wait until the running ones end and the volumes are emptied.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Sequence

from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.volumes import clean_volumes

__all__ = ["SCRATCH_PREFIX", "ScratchSpace"]

#: Name of a job's scratch directory in each volume: this prefix and a number.
SCRATCH_PREFIX = "watchbot-job-"
#: New jobs wait once a volume has less than this share of its free space after the last emptying.
MIN_FREE_SHARE = 0.5


class ScratchSpace:
    """Creates and removes the jobs' directories; tells when the volumes run short of space."""

    def __init__(self, volumes: Sequence[str], logger: Logger | None = None) -> None:
        self.volumes = tuple(volumes)
        self.logger = logger
        self._baseline: dict[str, int] = {}
        self._modes: dict[str, int] = {}  # each volume's permissions, given to the jobs' directories in it
        self.measure()

    def create(self, token: int) -> list[str]:
        """This job's directory in every volume that exists (the first is its TMPDIR).

        Each has its volume's permissions (``/tmp``'s are 1777), so a job that
        switches user can still write there, as it could in the volume.
        """
        for _ in range(3):
            name = f"{SCRATCH_PREFIX}{token}-{secrets.token_hex(4)}"
            made: list[str] = []
            try:
                for volume in self.volumes:
                    path = os.path.join(volume, name)
                    try:
                        os.mkdir(path, 0o700)
                    except FileNotFoundError:
                        continue  # the volume itself is missing: nothing to give
                    made.append(path)
                    mode = self._modes.get(volume)
                    if mode is None:
                        mode = self._modes[volume] = stat.S_IMODE(os.stat(volume).st_mode)
                    os.chmod(path, mode)
                return made
            except FileExistsError:
                self.remove(made)  # the name was taken (a job made it): pick another
        raise FileExistsError(f"no free name for the job's directory in {', '.join(self.volumes)}")

    def remove(self, paths: Sequence[str]) -> None:
        """Remove the directories and everything in them; never follows a symlink a job put in their place."""
        for path in paths:
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    os.unlink(path)  # replaced by a link or a file: that goes, never what it points to
                    continue
            except FileNotFoundError:
                continue
            except OSError as error:
                self._warn(path, error)
                continue
            try:
                os.rmdir(path)  # most jobs leave it empty: one call
                continue
            except FileNotFoundError:
                continue
            except OSError as error:
                if error.errno != errno.ENOTEMPTY:
                    self._warn(path, error)
                    continue
            clean_volumes([path], logger=self.logger, follow_symlink=False)
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError as error:
                self._warn(path, error)

    def _warn(self, path: str, error: OSError) -> None:
        if self.logger:
            self.logger.notice(f"cannot remove the job's directory {path}: {error.strerror or error}",
                               level="warning")

    def measure(self) -> None:
        """The volumes were just emptied: remember their free space (and, again, their permissions)."""
        self._modes.clear()
        for volume in self.volumes:
            free = _free_bytes(volume)
            if free is not None:
                self._baseline[volume] = free

    def space_ok(self) -> bool:
        """False once a volume has lost more than half the free space it had when last emptied (said once)."""
        for volume, baseline in self._baseline.items():
            free = _free_bytes(volume)
            if free is not None and free < baseline * MIN_FREE_SHARE:
                if self.logger:
                    self.logger.notice(
                        f"volume {volume} has {free // (1024 * 1024):,} MiB free, less than half of the "
                        f"{baseline // (1024 * 1024):,} MiB it had when last emptied: new jobs wait until the "
                        "running ones end and the volumes are emptied", level="warning")
                return False
        return True


def _free_bytes(path: str) -> int | None:
    try:
        status = os.statvfs(path)
    except OSError:
        return None
    return status.f_bavail * status.f_frsize
