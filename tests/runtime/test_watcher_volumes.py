"""Emptying volumes: deep trees, symlinks, other filesystems, kept paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.runtime.helpers import CapturingLogger
from watchbot_cfn.runtime.volumes import clean_volumes, root_volume_problem


def deep_tree(top: str, levels: int, name: str = "a-rather-long-directory-name") -> None:
    """A tree deeper than recursion limits and PATH_MAX, made relative to directory descriptors."""
    fd = os.open(top, os.O_RDONLY)
    for _ in range(levels):
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)


def test_a_tree_deeper_than_recursion_and_path_limits_is_emptied(tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    deep_tree(str(volume), 2500)  # 2,500 x 28 characters: far past PATH_MAX (4,096)
    logger = CapturingLogger()
    assert clean_volumes([str(volume)], logger=logger) == 2501
    assert os.listdir(volume) == [] and logger.lines == []


def test_symlinks_are_removed_never_followed(tmp_path):
    volume, outside = tmp_path / "volume", tmp_path / "outside"
    (volume / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "precious").write_text("x")
    os.symlink(outside, volume / "dir-link")
    os.symlink(outside / "precious", volume / "sub" / "file-link")
    clean_volumes([str(volume)])
    assert os.listdir(volume) == [] and (outside / "precious").read_text() == "x"


def test_kept_paths_and_their_parents_stay_silently(tmp_path):
    volume = tmp_path / "volume"
    keep = volume / "a" / "b" / "messages"
    keep.mkdir(parents=True)
    (keep / "m-1").write_text("body")
    (volume / "a" / "b" / "other").write_text("x")
    logger = CapturingLogger()
    clean_volumes([str(volume)], keep=[str(keep)], logger=logger)
    assert [str(p.relative_to(volume)) for p in sorted(volume.rglob("*"))] == ["a", "a/b", "a/b/messages",
                                                                               "a/b/messages/m-1"]
    assert logger.lines == []


def test_the_root_is_recognised_however_it_is_spelled(tmp_path):
    os.symlink("/", tmp_path / "root")
    for spelling in ("/", "//", "/tmp/..", str(tmp_path / "root"), str(tmp_path / "root") + "/."):
        assert root_volume_problem(spelling), spelling
    assert root_volume_problem(str(tmp_path)) is None
    assert root_volume_problem(str(tmp_path / "missing")) is None


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare for a private mount namespace")
def test_another_filesystem_mounted_inside_a_volume_is_never_entered(tmp_path):
    volume = tmp_path / "volume"
    (volume / "mounted").mkdir(parents=True)
    (volume / "loose").write_text("x")
    script = textwrap.dedent(f"""
        import os, subprocess, sys
        sys.path.insert(0, {os.getcwd()!r})
        from watchbot_cfn.runtime.volumes import clean_volumes
        from tests.runtime.helpers import CapturingLogger
        volume = {str(volume)!r}
        subprocess.run(["mount", "-t", "tmpfs", "none", volume + "/mounted"], check=True)
        open(volume + "/mounted/host-data", "w").write("keep")
        logger = CapturingLogger()
        clean_volumes([volume], logger=logger)
        print(sorted(os.listdir(volume)), os.listdir(volume + "/mounted"), logger.lines)
    """)
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script],
                            capture_output=True, text=True)
    if result.returncode != 0 and "mount" in result.stderr.lower() and "permission" in result.stderr.lower():
        pytest.skip("mounting is not permitted here")
    assert result.returncode == 0, result.stderr
    listing = result.stdout
    assert "['mounted'] ['host-data']" in listing and "another filesystem is mounted there" in listing
