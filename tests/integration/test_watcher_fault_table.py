"""The fault table of docs/runtime.md, row by row: a real watcher process, a moto server, the fault injected."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from tests.support.filtermatch import matches
from tests.support.procfs import alive
from tests.support.waiting import until
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, queue_depth, summaries
from watchbot_cfn import contract

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

WORKER_ERRORS = contract.METRIC_FILTERS[0]
assert WORKER_ERRORS.metric == contract.METRIC_WORKER_ERRORS


def popen_watcher(server, url: str, command: str, stdout, preexec_fn=None, **settings: str) -> subprocess.Popen:
    """A watcher whose stdout the test controls (a file, a closed or a stalled pipe)."""
    env = WatcherProcess(server, url, command, **settings).env
    return subprocess.Popen([sys.executable, "-m", "watchbot_cfn.runtime.cli", "listen", command], env=env,
                            stdout=stdout, stderr=subprocess.PIPE, preexec_fn=preexec_fn)




# -- volumes ---------------------------------------------------------------------------------------

def test_a_1500_level_tree_and_a_symlink_out_of_the_volume(moto_server, tmp_path):
    volume, outside = tmp_path / "volume", tmp_path / "outside"
    volume.mkdir()
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    # each job leaves a tree 1,500 levels deep (names long enough to pass PATH_MAX) and links to outside
    script = ("import os\n"
              f"os.chdir({str(volume)!r}); os.mkdir(os.environ['Message']); os.chdir(os.environ['Message'])\n"
              f"os.symlink({str(outside)!r}, 'link-out')\n"
              "for _ in range(1500): os.mkdir('a-directory-name'); os.chdir('a-directory-name')\n"
              f"os.symlink({str(outside)!r}, 'deep-link-out'); open('file', 'w').write('x')\n")
    (tmp_path / "deep.py").write_text(script)
    with WatcherProcess(moto_server, url, f"{sys.executable} {tmp_path / 'deep.py'}", Volumes=str(volume)) as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) == 2, 30)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)  # the second job ran: nothing stalled
        until(lambda: not os.listdir(volume), 10, "the volume to be emptied after the second job")
        assert (outside / "precious").read_text() == "keep me"
        assert all("outcome success" in line for line in summaries(watcher.snapshot()))
        assert not any("RecursionError" in line or "cannot remove" in line for line in watcher.snapshot())


@pytest.mark.parametrize("spelling", ["//", "/tmp/..", "symlink"])
def test_a_volume_that_is_the_root_however_spelled_is_refused_at_start(moto_server, tmp_path, spelling):
    url, _ = create_queue(moto_server)
    path = spelling
    if spelling == "symlink":
        path = str(tmp_path / "root-link")
        os.symlink("/", path)
    process = popen_watcher(moto_server, url, "true", subprocess.PIPE, Volumes=path)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    [line] = err.decode().splitlines()
    assert line.startswith("watchbot: Volumes") and path in line and "/" in line
    assert b"listening" not in out


# -- logging ---------------------------------------------------------------------------------------

def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.parametrize("fault", ["file-size limit", "closed pipe"])
def test_stdout_that_fails_never_stops_the_work(moto_server, tmp_path, fault):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for index in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    done = tmp_path / "done"
    command = f'yes "a log line from the worker" | head -n 200; echo "$Message" >> {done}'
    if fault == "closed pipe":
        read_end, write_end = os.pipe()
        os.close(read_end)
        process = popen_watcher(moto_server, url, command, write_end, concurrency="2")
        os.close(write_end)
    else:
        with open(tmp_path / "stdout", "wb") as out:
            process = popen_watcher(moto_server, url, command, out, preexec_fn=_limit_file_size, concurrency="2")
    try:
        until(lambda: done.exists() and len(done.read_text().split()) == 6, 30, "all six jobs")
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)  # every message deleted: nothing hidden
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    text = err.decode()
    assert text.count("cannot write log lines to stdout") == 1 and "Traceback" not in text
    if fault == "file-size limit":
        assert os.path.getsize(tmp_path / "stdout") <= 4096


def test_a_stalled_log_reader_blocks_neither_max_job_duration_nor_the_drain(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    starts = tmp_path / "starts"
    # far more output than a pipe holds, then a job that must be stopped by maxJobDuration
    command = f'echo start >> {starts}; yes "padding padding padding padding" | head -c 3000000; sleep 30'
    read_end, write_end = os.pipe()  # nobody ever reads read_end
    process = popen_watcher(moto_server, url, command, write_end, maxJobDuration="2", drainTimeout="2")
    os.close(write_end)
    try:
        # stopped after 2 s, returned with a 2 s backoff, started again: the loop goes on
        until(lambda: starts.exists() and len(starts.read_text().split()) >= 2, 15, "the job to run again")
        process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        process.wait(2 + contract.SHUTDOWN_MARGIN + 2)
        assert time.monotonic() - began <= 2 + contract.SHUTDOWN_MARGIN
        assert process.returncode == 0
        assert b"not keeping up" in process.stderr.read()
    finally:
        process.kill()
        os.close(read_end)


# -- threads ---------------------------------------------------------------------------------------

def _address_space_used(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def test_a_job_thread_that_cannot_start_returns_the_message_with_backoff_and_frees_the_slot(moto_server):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    with WatcherProcess(moto_server, url, "echo ran", structuredLogging="true") as watcher:
        pid = watcher.process.pid
        # a real limit: no room in the address space for another thread's stack
        resource.prlimit(pid, resource.RLIMIT_AS, (_address_space_used(pid) + 3 * 1024 * 1024, resource.RLIM_INFINITY))
        sqs.send_message(QueueUrl=url, MessageBody="x")
        lines = watcher.wait_for(lambda lines: any('"worker_event":"error"' in line for line in lines), 20)
        [failure] = [json.loads(line) for line in lines if '"worker_event":"error"' in line]
        assert "no thread could be started" in failure["msg"] and failure["level"] == 50
        assert matches(WORKER_ERRORS.structured_pattern, json.dumps(failure))
        assert queue_depth(moto_server, url) == (0, 1)  # returned with backoff, not extended, not lost
        resource.prlimit(pid, resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        # the slot was freed: after its 2 s backoff the message runs and is deleted
        watcher.wait_for(lambda lines: any('"worker_event":"success"' in line for line in lines), 20)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        assert watcher.process.poll() is None


# -- messages --------------------------------------------------------------------------------------

def test_bodies_and_subjects_the_environment_cannot_hold_reach_the_worker_through_files(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    cases = {"nul": ("a\u0000b", "subject"), "surrogate": ("lone \ud800 half", None),
             "long subject": ("body", "s" * 140_000)}
    ids = {}
    for name, (body, subject) in cases.items():
        envelope = {"Type": "Notification", "Message": body, **({"Subject": subject} if subject else {})}
        ids[sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))["MessageId"]] = name
    out = tmp_path / "out"
    out.mkdir()
    command = (f'cp "$MessageFile" {out}/$MessageId.body; cp "${{SubjectFile:-/dev/null}}" {out}/$MessageId.subject; '
               f'echo "${{Message-unset}}|${{Subject-unset}}" > {out}/$MessageId.env')
    with WatcherProcess(moto_server, url, command, concurrency="3") as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) == 3, 20)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        lines = watcher.snapshot()
    assert all("outcome success" in line for line in summaries(lines))
    for message_id, name in ids.items():
        body, subject = cases[name]
        assert (out / f"{message_id}.body").read_bytes() == body.encode("utf-8", "surrogatepass")
        assert (out / f"{message_id}.subject").read_text() == (subject or "")
        expected_env = {"nul": "unset|subject", "surrogate": "unset|unset", "long subject": "body|unset"}[name]
        assert (out / f"{message_id}.env").read_text().strip() == expected_env
        reasons = [line for line in lines if f"[{message_id}]" in line and "the worker reads $" in line]
        assert len(reasons) == 1, reasons  # said once per message


def test_a_message_redelivered_while_its_job_runs_is_never_run_twice(moto_server, tmp_path):
    url, _ = create_queue(moto_server, visibility=2)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    runs = tmp_path / "runs"
    command = f"echo run >> {runs}; sleep 6"
    with WatcherProcess(moto_server, url, command, concurrency="2", visibilityTimeout="2") as watcher:
        until(lambda: runs.exists(), 10, "the job to start")
        watcher.signal(signal.SIGSTOP)  # frozen past the visibility timeout: SQS hands the message out again
        time.sleep(3.5)
        watcher.signal(signal.SIGCONT)
        watcher.wait_for(lambda lines: any("received again while its job runs" in line for line in lines), 10)
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 15)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)  # settled with the newer receipt handle
        time.sleep(0.5)
        assert runs.read_text().split() == ["run"]
        assert len(summaries(watcher.snapshot())) == 1


# -- the watcher's own death -----------------------------------------------------------------------

def test_jobs_die_with_a_watcher_killed_by_sigkill(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    pids = tmp_path / "pids"
    # the shell, a background child and a grandchild, all in the job's process group
    command = f"sleep 60 & (sleep 60 & echo $! >> {pids}; wait) & echo $$ $! >> {pids}; wait"
    with WatcherProcess(moto_server, url, command) as watcher:
        until(lambda: pids.exists() and len(pids.read_text().split()) == 3, 10, "the job's processes")
        group = [int(pid) for pid in pids.read_text().split()]
        assert all(alive(pid) for pid in group)
        watcher.signal(signal.SIGKILL)
        watcher.wait(5)
        until(lambda: not any(alive(pid) for pid in group), 5, "the job's processes to die")


# -- a hung endpoint ---------------------------------------------------------------------------------

def test_a_hung_delete_is_bounded_logged_and_retried(moto_server):
    from tests.support.stallproxy import StallProxy

    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    proxy = StallProxy(moto_server.port, "DeleteMessageBatch", times=1)  # the first delete hangs
    try:
        watcher = WatcherProcess(moto_server, url, "true")
        watcher.env["AWS_ENDPOINT_URL"] = proxy.endpoint
        with watcher:
            watcher.wait_for(lambda lines: len(summaries(lines)) == 1, 15)
            began = time.monotonic()
            lines = watcher.wait_for(lambda lines: any("DeleteMessageBatch failed" in line for line in lines), 20)
            assert time.monotonic() - began < 8  # given up after 5 s, and said
            assert any("timeout" in line.lower() for line in lines if "DeleteMessageBatch failed" in line)
            assert depth_becomes(moto_server, url, (0, 0), timeout=10) == (0, 0)  # the retry went through
            assert proxy.stalled == 1
    finally:
        proxy.close()
