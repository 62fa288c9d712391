"""A message's life in the watcher under hostile jobs and shutdowns: never dead-lettered unrun, never hidden at exit.

- A job that empties its volume removes the watcher's message directory with
  it; a volume remounted read-only keeps message files from being written.
  Both are the watcher's own faults: the message stays hidden and is tried
  again, never counted against a job.
- A finished job's message is settled before the volumes are emptied after it
  (which takes long when a job leaves many files), and the drain waits for
  every message it holds to be settled, not only for running jobs.
- A stopped job whose output a detached process keeps open ends within the
  drain's time for stopped jobs, so its message is returned.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.support.procfs import alive, children_of
from tests.support.waiting import until
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def send(server, url: str, bodies: list[str]) -> None:
    sqs = server.client("sqs")
    for first in range(0, len(bodies), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[first:first + 10])])


def final_counts(lines: list[str]) -> str:
    return next(line for line in lines if "stopped: " in line)


# -- the message directory ----------------------------------------------------------------------

def test_jobs_that_empty_the_volume_holding_the_message_directory_all_run_and_succeed(moto_server, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    url, _ = create_queue(moto_server)
    send(moto_server, url, [f"job {index}" for index in range(5)])
    # the message directory is made under TMPDIR, which is the volume; every job empties it all
    command = f'cat "$MessageFile" > /dev/null && rm -rf {volume}/* && echo "ran $Message"'
    with WatcherProcess(moto_server, url, command, Volumes=str(volume), TMPDIR=str(volume)) as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) == 5, 60)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        lines = watcher.snapshot()
    assert all("outcome success" in line for line in summaries(lines)), lines
    assert not any("cannot write" in line for line in lines)


def _private_tmpfs_works(volume) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            f"mount -t tmpfs -o size=8m tmpfs {volume} && mount -o remount,ro {volume}"],
                           capture_output=True)
    return probe.returncode == 0


def test_a_volume_remounted_read_only_for_a_while_delays_the_next_jobs_and_none_is_counted_a_failure(
        moto_server, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    if not _private_tmpfs_works(volume):
        pytest.skip("needs unshare and tmpfs mounts for a private volume")
    url, _ = create_queue(moto_server)
    send(moto_server, url, ["remount"] + [f"job {index}" for index in range(4)])
    flag, ready = tmp_path / "writable-again", tmp_path / "helper-ready"
    # the first job makes the volume read-only; a detached process (out of the job's group, which dies with
    # the job: the job waits until it is) makes it writable once the test says so
    command = (f'if [ "$Message" = remount ]; then mount -o remount,ro {volume}; '
               f'setsid sh -c "touch {ready}; while [ ! -e {flag} ]; do sleep 0.1; done; '
               f'mount -o remount,rw {volume}" </dev/null >/dev/null 2>&1 & '
               f'while [ ! -e {ready} ]; do sleep 0.05; done; fi; echo "ran $Message"')
    mount = f"mount -t tmpfs -o size=8m tmpfs {volume} && exec \"$@\""
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", mount, "sh")
    with WatcherProcess(moto_server, url, command, prefix=prefix, Volumes=str(volume),
                        TMPDIR=str(volume)) as watcher:
        watcher.wait_for(lambda lines: sum("cannot write the message file" in line for line in lines) >= 2, 30)
        assert len(summaries(watcher.snapshot())) == 1
        flag.touch()
        watcher.wait_for(lambda lines: len(summaries(lines)) == 5, 60)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(20) == 0
        lines = watcher.snapshot()
    assert all("outcome success" in line for line in summaries(lines)), lines
    counts = final_counts(lines)
    assert "failure" not in counts and "internal_error" not in counts and "prepare_retries" in counts


# -- shutdown ------------------------------------------------------------------------------------

def test_sigterm_while_the_volume_is_emptied_after_a_job_exits_only_once_its_message_is_settled(
        moto_server, tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    url, _ = create_queue(moto_server)
    send(moto_server, url, ["litter", "next 1", "next 2"])  # more work waits while the volume is emptied
    # the first job leaves 30,000 files: emptying the volume after it takes a while
    litter = tmp_path / "litter.py"
    litter.write_text(f"import os\nos.chdir({str(volume)!r})\n"
                      "for d in range(30):\n"
                      "    os.mkdir(str(d))\n"
                      "    for f in range(1000):\n"
                      "        os.close(os.open(os.path.join(str(d), str(f)), os.O_CREAT | os.O_WRONLY))\n"
                      "print('littered')\n")
    command = f'[ "$Message" = litter ] || exit 0; {sys.executable} {litter}'
    with WatcherProcess(moto_server, url, command, Volumes=str(volume), drainTimeout="25") as watcher:
        watcher.wait_for(lambda lines: any("littered" in line for line in lines), 90)
        until(lambda: len(os.listdir(volume)) < 30, 30, "the emptying of the volume to begin")
        watcher.signal(signal.SIGTERM)  # the job has ended; the volume is being emptied now
        assert watcher.wait(40) == 0
        lines = watcher.snapshot()
    [summary] = summaries(lines)
    assert "outcome success" in summary
    assert "deleted 1" in final_counts(lines)
    # deleted, and the two held behind it returned: nothing left hidden to run again
    assert depth_becomes(moto_server, url, (2, 0)) == (2, 0)


def test_a_stopped_job_whose_output_a_detached_process_holds_is_returned_before_the_watcher_exits(
        moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    send(moto_server, url, ["stubborn"])
    # ignores SIGTERM; a detached helper keeps the job's stdout open long after the job is killed
    command = ('trap "" TERM; setsid sleep 30 & echo started; while :; do sleep 0.1; done')
    with WatcherProcess(moto_server, url, command, drainTimeout="0") as watcher:
        watcher.wait_for(lambda lines: any("started" in line for line in lines), 30)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(20) == 0
        lines = watcher.snapshot()
    assert "returned 1" in final_counts(lines), lines
    # returned with visibility 0: visible again at once, not hidden for the visibility timeout
    assert depth_becomes(moto_server, url, (1, 0)) == (1, 0)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2])
def test_other_stop_signals_drain_like_sigterm(moto_server, tmp_path, signum):
    url, _ = create_queue(moto_server)
    send(moto_server, url, ["finish me"])
    release = tmp_path / "release"
    command = f'echo started; while [ ! -e {release} ]; do sleep 0.05; done; echo finished'
    with WatcherProcess(moto_server, url, command, drainTimeout="20") as watcher:
        watcher.wait_for(lambda lines: any("started" in line for line in lines), 30)
        watcher.signal(signum)
        watcher.wait_for(lambda lines: any("shutting down" in line for line in lines), 10)
        release.touch()  # the job finishes within the drain
        assert watcher.wait(30) == 0
        lines = watcher.snapshot()
    [summary] = summaries(lines)
    assert "outcome success" in summary
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)



def test_the_job_guard_outlives_the_stop_signals_so_jobs_still_die_with_a_watcher_killed_later(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    send(moto_server, url, ["x"])
    pids = tmp_path / "pids"
    with WatcherProcess(moto_server, url, f"echo $$ >> {pids}; sleep 60") as watcher:
        until(lambda: pids.exists() and pids.read_text().strip(), 10, "the job to start")
        [job] = [int(pid) for pid in pids.read_text().split()]
        assert watcher.process is not None
        [guard] = [pid for pid in children_of(watcher.process.pid) if pid != job and alive(pid)]
        for signum in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
            os.kill(guard, signum)  # as a signal sent to a whole process group would reach it
        watcher.signal(signal.SIGKILL)
        watcher.wait(5)
        until(lambda: not alive(job), 5, "the job to die with its watcher")
