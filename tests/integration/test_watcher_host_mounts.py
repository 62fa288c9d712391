"""A host directory mounted into the container is the user's data: the watcher never empties it.

The container environment comes from a rendered template (so the test covers
the template's side of the contract), with its paths moved under a temporary
directory; the watcher runs as a real process against moto.
"""

from __future__ import annotations

import pytest

from tests.support.templates import options
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries
from watchbot_cfn import contract
from watchbot_cfn.naming import Names
from watchbot_cfn.resources.task import container_environment

pytestmark = pytest.mark.integration


def test_files_in_a_host_mount_survive_every_job_and_task_scoped_volumes_are_emptied(moto_server, tmp_path):
    # given a system that mounts a host cache and a task-scoped scratch volume (and the default /tmp)
    built = options(mounts=["/srv/model-cache:/cache", "/scratch"])
    volumes = container_environment(built, Names(built.prefix))[contract.ENV_VOLUMES]
    assert volumes == "/tmp,/scratch"
    # with the container's paths moved under this test's directory
    root = tmp_path / "container"
    volumes = ",".join(str(root / path.lstrip("/")) for path in volumes.split(","))
    cache, scratch = root / "cache", root / "scratch"
    for path in (root / "tmp", cache, scratch):
        path.mkdir(parents=True)
    (cache / "model.bin").write_text("weights")
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for number in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"job-{number}")
    # when each job reads the cache, adds to it and leaves files in both places
    command = (f'test -f {cache}/model.bin && ls -A {scratch} > {tmp_path}/$MessageId.scratch && '
               f'touch {cache}/$MessageId {scratch}/$MessageId && mkdir -p {scratch}/nested/dir')
    with WatcherProcess(moto_server, url, command, Volumes=volumes) as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 4, 30)
        # then every job succeeded (deletes go out in batches: wait for them before stopping the watcher)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
    # found the scratch volume empty, and the cache kept everything
    assert all("outcome success" in line for line in summaries(lines))
    assert [path.read_text() for path in tmp_path.glob("*.scratch")] == [""] * 4
    assert (cache / "model.bin").read_text() == "weights"
    assert len([path for path in cache.iterdir() if path.name != "model.bin"]) == 4
    assert list(scratch.iterdir()) == []
