"""Jobs beside each other: a directory of their own in every volume, gone when the job ends; volumes empty when idle."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.support.waiting import until
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, queue_depth, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]



def test_each_job_has_its_own_directories_removed_when_it_ends_and_idle_volumes_are_emptied(moto_server, tmp_path):
    first, second = tmp_path / "tmp", tmp_path / "scratch"
    first.mkdir()
    second.mkdir()
    first.chmod(0o1777)
    notes = tmp_path / "notes"
    notes.mkdir()
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    # the long job keeps files in its own directories and one outside them; it checks them after the short
    # jobs (which leave files everywhere) have come and gone, then ends
    long_job = (f'mine=$(basename "$TMPDIR"); echo keep > "$TMPDIR/file"; echo keep > {second}/$mine/file; '
                f'echo keep > {first}/outside-long; stat -c %a "$TMPDIR" > {notes}/long-mode; '
                f'echo "$TMPDIR" > {notes}/long; '
                f'while [ ! -e {notes}/release ]; do sleep 0.05; done; '
                f'cat "$TMPDIR/file" {second}/$mine/file {first}/outside-long > {notes}/long-saw')
    short_job = (f'mine=$(basename "$TMPDIR"); echo "$TMPDIR {second}/$mine" > {notes}/$MessageId; '
                 f'test -d {second}/$mine && echo x > "$TMPDIR/file" && echo x > {second}/$mine/file && '
                 f'echo x > {first}/outside-$MessageId && mkdir -p "$TMPDIR/deep/er"')
    command = f'case "$Message" in long) {long_job};; *) {short_job};; esac'
    with WatcherProcess(moto_server, url, command, concurrency="3", Volumes=f"{first},{second}") as watcher:
        sqs.send_message(QueueUrl=url, MessageBody="long")
        until(lambda: (notes / "long").exists(), 20, "the long job to start")
        ids = [sqs.send_message(QueueUrl=url, MessageBody=f"short {index}")["MessageId"] for index in range(6)]
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 6, 30)
        # each short job had its own directory in both volumes (its TMPDIR in the first), now gone
        seen = [(notes / message_id).read_text().split() for message_id in ids]
        assert len({tmpdir for tmpdir, _ in seen}) == 6
        for tmpdir, other in seen:
            assert os.path.dirname(tmpdir) == str(first) and os.path.dirname(other) == str(second)
            assert not os.path.exists(tmpdir) and not os.path.exists(other)
        assert all("outcome success" in line for line in summaries(watcher.snapshot()))
        # files written outside the jobs' directories stay while a job runs
        assert sorted(name for name in os.listdir(first) if name.startswith("outside-")) == sorted(
            ["outside-long"] + [f"outside-{message_id}" for message_id in ids])
        (notes / "release").touch()
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 7, 20)
        assert (notes / "long-saw").read_text().split() == ["keep"] * 3  # untouched while it ran
        assert (notes / "long-mode").read_text().strip() == "1777"  # its volume's permissions, as /tmp has
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        # idle: both volumes emptied entirely
        until(lambda: os.listdir(first) == [] and os.listdir(second) == [], 5, "the volumes to be emptied")


def test_with_one_slot_a_job_sees_empty_volumes_and_its_own_tmpdir(moto_server, tmp_path):
    volume = tmp_path / "tmp"
    volume.mkdir()
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for index in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    seen = tmp_path / "seen"
    command = f'echo "${{TMPDIR-unset}} $(ls -A {volume} | wc -l)" >> {seen}; touch {volume}/left-$Message'
    watcher = WatcherProcess(moto_server, url, command, Volumes=str(volume))
    watcher.env.pop("TMPDIR", None)
    with watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 3, 20)
    # as the original: nothing of the watcher's in the job's environment, and every job starts on empty volumes
    assert seen.read_text().split() == ["unset", "0"] * 3


def test_a_volume_filling_up_holds_new_jobs_until_the_running_ones_end(moto_server, tmp_path):
    volume, notes = tmp_path / "volume", tmp_path / "notes"
    volume.mkdir()
    notes.mkdir()
    mount = f"mount -t tmpfs -o size=8m tmpfs {volume} && exec \"$@\""
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, "sh", "true"],
                           capture_output=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs unshare and tmpfs mounts for a small private volume")
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    # the first job leaves 5 of the volume's 8 MiB outside its own directory and runs until released
    fill = (f'head -c 5242880 /dev/zero > {volume}/left-behind; touch {notes}/filled; '
            f'while [ ! -e {notes}/release ]; do sleep 0.05; done; echo "$(date +%s.%N)" > {notes}/fill-ended')
    short = f'echo "$(date +%s.%N) $(ls {volume} | grep -c left-behind)" > {notes}/$MessageId'
    command = f'case "$Message" in fill) {fill};; *) {short};; esac'
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", mount, "sh")
    with WatcherProcess(moto_server, url, command, prefix=prefix, concurrency="3", Volumes=str(volume)) as watcher:
        sqs.send_message(QueueUrl=url, MessageBody="fill")
        until(lambda: (notes / "filled").exists(), 20, "the volume to fill")
        ids = [sqs.send_message(QueueUrl=url, MessageBody=f"short {index}")["MessageId"] for index in range(2)]
        watcher.wait_for(lambda lines: any("less than half" in line for line in lines), 10)
        time.sleep(1.0)
        assert not any((notes / message_id).exists() for message_id in ids)  # two slots free, yet held
        assert queue_depth(moto_server, url) == (0, 3)  # hidden meanwhile, not returned
        (notes / "release").touch()
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 3, 20)
        ended = float((notes / "fill-ended").read_text())
        for message_id in ids:
            started, leftovers = (notes / message_id).read_text().split()
            assert float(started) > ended and leftovers == "0"  # after the fill job, on an emptied volume
        assert sum("less than half" in line for line in watcher.snapshot()) == 1
