"""Per-job directories: one name in every volume, the volume's permissions, removed without following links."""

from __future__ import annotations

import os

from tests.runtime.helpers import CapturingLogger
from watchbot_cfn.runtime import scratch as module
from watchbot_cfn.runtime.scratch import ScratchSpace


def volumes(tmp_path, *names: str) -> list[str]:
    made = []
    for name in names:
        (tmp_path / name).mkdir()
        made.append(str(tmp_path / name))
    return made


def test_a_job_gets_the_same_name_in_every_existing_volume_with_its_permissions(tmp_path):
    first, second = volumes(tmp_path, "tmp", "scratch")
    os.chmod(first, 0o1777)
    space = ScratchSpace([first, str(tmp_path / "missing"), second])
    made = space.create(7)
    assert [os.path.dirname(path) for path in made] == [first, second]
    assert len({os.path.basename(path) for path in made}) == 1
    assert os.path.basename(made[0]).startswith("watchbot-job-7-")
    assert oct(os.stat(made[0]).st_mode & 0o7777) == "0o1777"
    assert oct(os.stat(made[1]).st_mode & 0o7777) == oct(os.stat(second).st_mode & 0o7777)
    assert space.create(7) != made  # another job with the same number (a later watcher) never shares


def test_removal_takes_everything_and_never_follows_a_link_put_in_its_place(tmp_path):
    [volume] = volumes(tmp_path, "tmp")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    logger = CapturingLogger()
    space = ScratchSpace([volume], logger)
    kept, emptied, replaced = space.create(1), space.create(2), space.create(3)
    os.makedirs(os.path.join(emptied[0], "deep", "er"))
    os.symlink(outside, os.path.join(emptied[0], "deep", "link"))
    os.rmdir(replaced[0])
    os.symlink(outside, replaced[0])  # a job swapped its directory for a link to elsewhere
    space.remove(emptied + replaced)
    assert sorted(os.listdir(volume)) == [os.path.basename(kept[0])]
    assert (outside / "precious").read_text() == "keep" and logger.lines == []


def test_a_volume_that_lost_half_its_free_space_since_it_was_emptied_says_so(tmp_path, monkeypatch):
    [volume] = volumes(tmp_path, "tmp")
    free = {"bytes": 1000 * 1024 * 1024}
    monkeypatch.setattr(module, "_free_bytes", lambda path: free["bytes"])
    logger = CapturingLogger()
    space = ScratchSpace([volume], logger)
    free["bytes"] = 600 * 1024 * 1024
    assert space.space_ok() is True
    free["bytes"] = 400 * 1024 * 1024
    assert space.space_ok() is False
    assert len(logger.lines) == 1 and "400 MiB free, less than half of the 1,000 MiB" in logger.lines[0]
    space.measure()  # emptied again, with less room than before: that is the new measure
    assert space.space_ok() is True
