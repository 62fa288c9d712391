"""The watcher executable (``watchbot-cfn build-watcher``), built once and run as a container would run it.

The executable gets no environment but the watcher's own variables and the AWS
endpoint and credentials: no PATH, no Python, nothing of this test's
interpreter. The static variant is the same PyInstaller output passed through
staticx (what ``--static`` does after freezing); it also runs in a root
directory holding nothing but itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.support.motoserver import REGION, MotoServer
from tests.support.procfs import alive, children_of
from tests.support.watcherproc import (
    WatcherProcess,
    create_queue,
    depth_becomes,
    queue_depth,
    signal_one_thread,
    summaries,
)
from watchbot_cfn import __version__

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120), pytest.mark.xdist_group("watcher-executable")]

MAX_SIZE = 20_000_000
BUNDLE_MODULES = ("PyInstaller", "staticx")
UNSHARE = (shutil.which("unshare") or "unshare", "--pid", "--fork", "--kill-child")


def bundle_missing() -> str:
    missing = [name for name in BUNDLE_MODULES if importlib.util.find_spec(name) is None]
    return ", ".join(missing)


@pytest.fixture(scope="session")
def executable(tmp_path_factory) -> Path:
    """One build per session, through the command line as a user runs it."""
    if bundle_missing():
        pytest.skip(f"the bundle extra is not installed ({bundle_missing()} missing): pip install -e '.[bundle]'")
    directory = tmp_path_factory.mktemp("executable")
    command = [sys.executable, "-m", "watchbot_cfn.cli.main", "build-watcher", "--output", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    path = directory / "watchbot"
    assert result.stdout.startswith(f"{path}: watchbot {__version__}, dynamic, ")
    return path


@pytest.fixture(scope="session")
def static_executable(executable, tmp_path_factory) -> Path:
    """The same PyInstaller output with its C library added, as ``--static`` does."""
    from watchbot_cfn.bundle.build import check_runs, find_tools, make_static

    path = make_static(executable, tmp_path_factory.mktemp("static") / "watchbot", find_tools(static=True))
    assert check_runs(path) == f"watchbot {__version__}"
    return path


def bare_environment(server: MotoServer, queue_url: str, **settings: str) -> dict[str, str]:
    """What an ECS task would give the watcher: its settings and AWS access, nothing else."""
    return {"QueueUrl": queue_url, "AWS_ENDPOINT_URL": server.endpoint, "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "visibilityTimeout": "30", "drainTimeout": "2", **settings}


def start(server: MotoServer, program: Path | str, queue_url: str, command: str, prefix: tuple[str, ...] = (),
          without: tuple[str, ...] = (), **settings: str) -> WatcherProcess:
    watcher = WatcherProcess(server, queue_url, command, prefix=prefix, program=[str(program)])
    watcher.env = bare_environment(server, queue_url, **settings)
    for name in without:
        del watcher.env[name]
    return watcher.start()


def outcomes(lines: list[str]) -> Counter[str]:
    return Counter(line.rsplit("outcome ", 1)[1] for line in summaries(lines))


def test_the_executable_is_small_and_says_the_package_version(executable):
    result = subprocess.run([str(executable), "--version"], env={}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert result.stdout.strip() == f"watchbot {__version__}"
    assert executable.stat().st_size <= MAX_SIZE


def test_the_executable_carries_the_runtime_and_only_the_listed_service_models(executable):
    from PyInstaller.archive.readers import CArchiveReader

    from watchbot_cfn.bundle.contents import PACKAGES, SERVICES, UNUSED_RUNTIME_HOOKS

    archive = CArchiveReader(str(executable))
    files = list(archive.toc)
    assert not UNUSED_RUNTIME_HOOKS & set(files)
    assert "entry" in files  # the frozen program's __main__
    models = {name.split("/")[2] for name in files if name.startswith("botocore/data/") and name.count("/") > 2}
    assert models == set(SERVICES)
    assert "botocore/data/endpoints.json" in files
    modules = list(archive.open_embedded_archive("PYZ.pyz").toc)
    third_party = {name.split(".")[0] for name in modules} - set(sys.stdlib_module_names)
    assert third_party <= PACKAGES | {"watchbot_cfn"}
    assert {"boto3", "botocore", "watchbot_cfn"} <= third_party
    ours = {name for name in modules if name.startswith("watchbot_cfn")}
    assert "watchbot_cfn.runtime.watcher" in ours
    assert all(name.startswith(("watchbot_cfn.runtime", "watchbot_cfn.bundle.entry"))
               or name in ("watchbot_cfn", "watchbot_cfn.contract", "watchbot_cfn.records", "watchbot_cfn.bundle")
               for name in ours), ours


def test_with_a_bare_environment_exit_codes_settle_messages(moto_server, executable):
    # given one message per exit code
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("0", "3", "4", "1"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    # when the executable runs `exit $Message` with nothing but its own variables in its environment
    watcher = start(moto_server, executable, url, 'exit "$Message"', concurrency="4")
    try:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 4, 30)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    finally:
        watcher.stop()
    lines = watcher.snapshot()
    # then 0 and 3 were deleted (3 as a failure), 4 and 1 returned (1 as a failure)
    seen = outcomes(lines)
    assert seen["success"] == 1 and seen["rejected"] == 1
    assert seen["noop"] >= 1 and seen["failure"] >= 1
    assert sum("[failure] rejected" in line for line in lines) == 1
    assert any("[failure] exit code 1" in line for line in lines)
    assert sum(queue_depth(moto_server, url)) == 2


def test_jobs_get_the_containers_environment_not_the_executables(moto_server, executable):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="env")
    # the container sets its own library path; the executable unpacked itself with another in front
    watcher = start(moto_server, executable, url, "env", LD_LIBRARY_PATH="/opt/worker/lib")
    try:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 30)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    finally:
        watcher.stop()
    variables = {line.split("] ", 3)[3].split("=", 1)[0]: line.split("=", 1)[1] for line in lines
                 if "] [worker] [" in line and "=" in line}
    assert variables["LD_LIBRARY_PATH"] == "/opt/worker/lib"
    assert variables["Message"] == "env"
    assert not [name for name in variables if name.startswith(("_PYI_", "STATICX_", "_MEI"))]
    assert "LD_LIBRARY_PATH_ORIG" not in variables


def test_credentials_that_assume_a_role_come_through_the_bundled_sts_model(moto_server, executable, tmp_path):
    # given no keys, only a role and a web identity token (as on EKS): botocore asks STS for credentials
    token = tmp_path / "token"
    token.write_text("header.payload.signature")
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="with a role")
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    watcher = start(moto_server, executable, url, 'echo "$Message"', without=keys,
                    AWS_ROLE_ARN="arn:aws:iam::123456789012:role/worker", AWS_WEB_IDENTITY_TOKEN_FILE=str(token))
    try:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 30)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    finally:
        watcher.stop()
    assert outcomes(lines) == Counter(success=1)
    assert any(line.endswith("] with a role") for line in lines)



def test_jobs_die_with_the_frozen_watcher_killed_by_sigkill(moto_server, executable, tmp_path):
    # given a job of three processes, run by the watcher inside the executable (below the unpacker)
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    pids = tmp_path / "pids"
    command = f"sleep 60 & (sleep 60 & echo $! >> {pids}; wait) & echo $$ $! >> {pids}; wait"
    watcher = start(moto_server, executable, url, command)
    try:
        deadline = time.monotonic() + 15
        while not (pids.exists() and len(pids.read_text().split()) == 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        group = [int(pid) for pid in pids.read_text().split()]
        assert watcher.process is not None
        (python,) = [pid for pid in children_of(watcher.process.pid) if _arguments(pid)[-2:] == ["listen", command]]
        # when the watcher itself is killed outright
        os.kill(python, signal.SIGKILL)
        # then its job guard (the executable run as `-c PROGRAM`) kills the job's whole group
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in group) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in group)
    finally:
        watcher.stop()
        for pid in [int(pid) for pid in pids.read_text().split()] if pids.exists() else []:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def progress_table(server: MotoServer) -> str:
    """A progress table laid out as reduce mode's (key ``id``); returns its ARN."""
    answer = server.client("dynamodb").create_table(
        TableName=f"progress-{uuid.uuid4().hex[:12]}", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return answer["TableDescription"]["TableArn"]


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_called_watchbot_progress_it_tracks_a_jobs_parts(moto_server, executable, static_executable, tmp_path,
                                                        variant):
    # given the executable under the progress command's name (staticx resolves symbolic links: a hard
    # link for it), and reduce mode's table in the environment
    link = tmp_path / "watchbot-progress"
    if variant == "dynamic":
        link.symlink_to(executable)
    else:
        os.link(static_executable, link)
    environment = {key: value for key, value in bare_environment(moto_server, "unused").items()
                   if key.startswith("AWS_")}
    environment["ProgressTable"] = progress_table(moto_server)

    def progress(*words: str) -> str:
        result = subprocess.run([str(link), *words], env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    # when a two-part job is recorded and completed part by part
    assert progress("set-total", "job-1", "--total", "2") == ""
    answers = [progress("complete-part", "job-1", "--part", "1"), progress("complete-part", "job-1", "--part", "2")]
    # then only the last completion says the job is done, and the status agrees
    assert answers == ["false", "true"]
    assert json.loads(progress("status", "job-1")) == {"progress": 1}
    assert progress("--version") == f"watchbot-progress {__version__}"


def test_cleaning_a_volume_that_holds_the_unpacked_executable_keeps_it_working(moto_server, executable, tmp_path):
    # given /tmp as the only writable place: the executable unpacks itself into a volume
    volume = tmp_path / "tmp"
    volume.mkdir()
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    watcher = start(moto_server, executable, url, 'echo scratch > "$TMPDIR/job-$Message"; ls "$TMPDIR"',
                    TMPDIR=str(volume), Volumes=str(volume))
    try:
        # when jobs run one after the other, each followed by a cleaning
        for number in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=str(number))
            watcher.wait_for(lambda lines, done=number + 1: len(summaries(lines)) >= done, 30)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    finally:
        watcher.stop()
    # then every job ran, the previous job's file was gone, the watcher's unpacked files were not
    lines = watcher.snapshot()
    assert outcomes(lines)["success"] == 3
    listings: dict[str, list[str]] = {}
    for line in lines:
        if "] [worker] [" in line:
            job, name = line.split("] ", 3)[2].lstrip("["), line.split("] ", 3)[3]
            listings.setdefault(job, []).append(name)
    assert len(listings) == 3
    assert [sorted(name for name in names if name.startswith("job-")) for names in listings.values()] == [
        ["job-0"], ["job-1"], ["job-2"]]  # each job saw only its own file
    unpacked = set.intersection(*({name for name in names if name.startswith("_MEI")} for names in listings.values()))
    assert len(unpacked) == 1  # the watcher's own, in every listing (the job guard's copy went with the cleaning)
    assert "Failed to remove temporary directory" not in watcher.stderr  # it was still there to remove
    assert not any(path.name.startswith("_MEI") for path in volume.iterdir())
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)



def test_sigterm_forwarded_by_the_unpacker_stops_the_watcher_whichever_thread_takes_it(moto_server, executable):
    # The unpacker forwards SIGTERM to the Python process below it, where the kernel may hand it to any
    # thread; here it goes to a poller thread on purpose, while the main thread sleeps.
    url, _ = create_queue(moto_server)
    watcher = start(moto_server, executable, url, "true", concurrency="4", drainTimeout="1")
    try:
        assert watcher.process is not None
        (frozen,) = children_of(watcher.process.pid)  # the unpacker's one child: the watcher itself
        time.sleep(0.5)
        poller = max(int(name) for name in os.listdir(f"/proc/{frozen}/task") if int(name) != frozen)
        signalled = time.monotonic()
        signal_one_thread(frozen, poller, signal.SIGTERM)
        assert watcher.wait(10) == 0
        assert time.monotonic() - signalled < 5
    finally:
        watcher.stop()
    assert any("stopped:" in line for line in watcher.snapshot())

@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_as_pid_1_sigterm_drains_a_running_job(moto_server, executable, static_executable, variant):
    if not os.path.isabs(UNSHARE[0]) or subprocess.run(list(UNSHARE) + ["true"], capture_output=True).returncode:
        pytest.skip("cannot create a PID namespace here (unshare)")
    program = executable if variant == "dynamic" else static_executable
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="slow")
    # the unpacker is PID 1 of the namespace, as in a container; the watcher runs below it
    watcher = start(moto_server, program, url, "echo started; sleep 1.5; echo finished", prefix=UNSHARE,
                    drainTimeout="10")
    try:
        watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 30)
        assert watcher.process is not None
        (pid_1,) = children_of(watcher.process.pid)
        os.kill(pid_1, signal.SIGTERM)
        assert watcher.wait(20) == 0
    finally:
        watcher.stop()
    lines = watcher.snapshot()
    assert any("shutting down" in line for line in lines)
    assert any(line.endswith("] finished") for line in lines)
    assert outcomes(lines) == Counter(success=1)
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)


def test_the_static_executable_runs_in_a_root_with_nothing_else(moto_server, static_executable, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chroot needs root")
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "tmp").mkdir(mode=0o1777)
    shutil.copy(static_executable, root / "watchbot")
    unshare, chroot = shutil.which("unshare"), shutil.which("chroot")
    if unshare is None or chroot is None:
        pytest.skip("unshare and chroot are needed")
    isolate = (unshare, "--mount", "--pid", "--fork", "--kill-child", f"--mount-proc={root / 'proc'}", chroot,
               str(root))
    if subprocess.run([*isolate[:-2], "true"], capture_output=True).returncode:
        pytest.skip("cannot create mount and PID namespaces here (unshare)")
    version = subprocess.run(list(isolate) + ["/watchbot", "--version"], env={}, capture_output=True, text=True,
                             timeout=30)
    assert version.stdout.strip() == f"watchbot {__version__}"
    # no C library, no shell: it still receives, and returns the message a job could not start for
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="no shell here")
    watcher = start(moto_server, "/watchbot", url, "true", prefix=isolate)
    try:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 30)
    finally:
        watcher.stop()
    assert "outcome failure" in summaries(lines)[0]
    assert any("[failure]" in line for line in lines)
    assert depth_becomes(moto_server, url, (0, 1)) == (0, 1)  # returned with a backoff: invisible, not lost



def _arguments(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode() for part in handle.read().split(b"\0") if part]
    except OSError:
        return []
