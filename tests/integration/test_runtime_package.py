"""The runtime-only install (``runtime-package/``) on the oldest Python it claims.

A fresh virtual environment of Python 3.9 gets ``pip install ./runtime-package``
with pip's ordinary resolver (boto3 and what it needs, from the package index);
then the installed ``watchbot`` runs jobs against moto and drains on SIGTERM.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.oldpython import VERSION, Unavailable, debian_python, is_python39, oldest_python
from tests.support.watcherproc import WatcherProcess, create_queue, queue_depth, summaries
from watchbot_cfn import __version__

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300), pytest.mark.xdist_group("oldest-python")]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "runtime-package"
TEMPLATE_SIDE = {"troposphere", "awacs", "pyyaml", "cfn-lint", "watchbot-cfn"}


def backend():
    spec = importlib.util.spec_from_file_location("runtime_build_backend", PACKAGE / "build_backend.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Python 3.9 is needed in CI: {reason}")
    pytest.skip(f"no Python 3.9 here: {reason}")


@pytest.fixture(scope="session")
def python39(request) -> Path:
    try:
        return oldest_python(request.config.cache.mkdir("python3.9"))
    except Unavailable as error:
        unavailable(str(error))
        raise


@pytest.fixture(scope="session")
def runtime_venv(python39, tmp_path_factory) -> Path:
    """A Python 3.9 venv with ``pip install ./runtime-package`` and nothing else."""
    work = tmp_path_factory.mktemp("runtime39")
    venv = work / "venv"
    subprocess.run([str(python39), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # pip itself stays outside the venv: a 3.9-compatible pip wheel, run from the file
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", VERSION, "--dest", str(work), "pip"], check=True, timeout=300)
    (pip_wheel,) = work.glob("pip-*.whl")
    result = subprocess.run([str(venv / "bin" / "python"), f"{pip_wheel}/pip", "install", "--quiet",
                             "--disable-pip-version-check", "--no-cache-dir", str(PACKAGE)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return venv


def installed(venv: Path) -> dict[str, str]:
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))")
    # -I: not the working directory (this checkout) on the path, only the venv
    output = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", code], capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output)


def test_the_claimed_floor_is_the_python_tested_here(python39):
    assert backend().REQUIRES_PYTHON == f">={VERSION}"
    assert is_python39(python39)


def test_the_install_brings_boto3_and_nothing_of_the_template_side(runtime_venv):
    distributions = installed(runtime_venv)
    assert distributions["watchbot-cfn-runtime"] == __version__
    assert "boto3" in distributions
    assert not TEMPLATE_SIDE & set(distributions)
    version = subprocess.run([str(runtime_venv / "bin" / "watchbot"), "--version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert version == f"watchbot {__version__}"


def test_every_runtime_module_imports_on_the_oldest_python(runtime_venv):
    modules = sorted(f"watchbot_cfn.runtime.{path.stem}" for path in (ROOT / "watchbot_cfn" / "runtime").glob("*.py")
                     if path.stem != "__init__")
    code = (f"import importlib, sys; [importlib.import_module(m) for m in {modules!r}]; "
            "import watchbot_cfn; print(sys.version_info[:2], watchbot_cfn.__file__)")
    result = subprocess.run([str(runtime_venv / "bin" / "python"), "-I", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    version, location = result.stdout.split()[:2], result.stdout.split()[-1]
    assert " ".join(version) == "(3, 9)"
    assert location.startswith(str(runtime_venv))  # the installed copy, not this checkout


def test_on_the_oldest_python_exit_codes_settle_messages_and_sigterm_drains(moto_server, runtime_venv):
    # given one message per exit code, and one that is still running when SIGTERM comes
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("0", "3", "4", "1"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    command = 'if [ "$Message" = slow ]; then echo started; sleep 1.5; echo finished; exit 0; fi; exit "$Message"'
    with WatcherProcess(moto_server, url, command, program=[str(runtime_venv / "bin" / "watchbot")],
                        concurrency="4", drainTimeout="10") as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 4, 60)
        sqs.send_message(QueueUrl=url, MessageBody="slow")
        watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 30)
        # when the watcher is told to stop while the slow job runs
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
    lines = watcher.snapshot()
    seen = Counter(line.rsplit("outcome ", 1)[1] for line in summaries(lines))
    # then 0, 3 and the slow job were deleted; 4 and 1 went back (1 as a failure)
    assert seen["success"] == 2 and seen["rejected"] == 1
    assert seen["noop"] >= 1 and seen["failure"] >= 1
    assert any(line.endswith("] finished") for line in lines)
    assert any("[failure] exit code 1" in line for line in lines)
    assert sum(queue_depth(moto_server, url)) == 2


def test_debians_python_39_can_be_unpacked_when_no_other_is_installed(request):
    # the fallback of tests/support/oldpython.py, for machines without a pyenv 3.9; it depends on
    # the Debian mirror still carrying Debian 11, so it skips (also in CI) when that is gone
    try:
        interpreter = debian_python(request.config.cache.mkdir("python3.9-debian"))
    except Unavailable as error:
        pytest.skip(f"Debian's python3.9 cannot be fetched here: {error}")
    assert is_python39(interpreter)


def test_on_the_oldest_python_watchbot_progress_tracks_a_jobs_parts(moto_server, runtime_venv):
    table = moto_server.client("dynamodb").create_table(
        TableName="oldest-python-progress", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])["TableDescription"]["TableArn"]
    environment = dict(moto_server.env(), ProgressTable=table)

    def progress(*words: str) -> str:
        result = subprocess.run([str(runtime_venv / "bin" / "watchbot-progress"), *words], env=environment,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    progress("set-total", "job-1", "--total", "2")
    progress("set-metadata", "job-1", "--metadata", '{"files": ["a.tif", "b.tif"], "zoom": 12}')
    assert [progress("complete-part", "job-1", "--part", str(part)) for part in (2, 1)] == ["false", "true"]
    assert json.loads(progress("status", "job-1")) == {"progress": 1,
                                                        "metadata": {"files": ["a.tif", "b.tif"], "zoom": 12}}
