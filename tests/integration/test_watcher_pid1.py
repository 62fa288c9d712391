"""The watcher as PID 1 of its own PID namespace, as in a container."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.support.procfs import children_of, is_zombie
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

UNSHARE = ("unshare", "--pid", "--fork", "--kill-child")




@pytest.fixture(scope="module")
def pid_namespaces():
    try:
        probe = subprocess.run(list(UNSHARE) + ["true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("unshare is not available")
    if probe.returncode != 0:
        pytest.skip(f"cannot create a PID namespace here: {probe.stderr.decode().strip()}")


def test_as_pid_1_the_watcher_reaps_orphans_and_drains_on_sigterm(moto_server, tmp_path, pid_namespaces):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="orphan maker")
    # the job leaves a process in its own session; it exits after 0.5 s, an orphan by then
    command = ("echo pid=$$; setsid sh -c 'sleep 0.5' > /dev/null 2>&1 & sleep 0.2; "
               "test \"$Message\" = slow && sleep 1.5; echo done")
    with WatcherProcess(moto_server, url, command, prefix=UNSHARE, drainTimeout="10") as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 20)
        (pid,) = children_of(watcher.process.pid)  # unshare's child ...
        with open(f"/proc/{pid}/status") as handle:
            namespace_pids = next(line for line in handle if line.startswith("NSpid:")).split()[1:]
        assert namespace_pids[-1] == "1"  # ... is PID 1 inside its namespace
        time.sleep(1.0)
        zombies = [child for child in children_of(pid) if is_zombie(child)]
        assert zombies == []
        # a signal from outside reaches PID 1 because it handles it; a running job still finishes
        sqs.send_message(QueueUrl=url, MessageBody="slow")
        watcher.wait_for(lambda lines: sum("] pid=" in line for line in lines) >= 2, 20)
        os.kill(pid, signal.SIGTERM)
        assert watcher.wait(20) == 0
    lines = watcher.snapshot()
    assert sum(line.endswith("] done") for line in lines) == 2
    assert sum("outcome success" in line for line in summaries(lines)) == 2
    assert any("shutting down" in line for line in lines)
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
