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
    # given a system that mounts a host cache and a task-scoped scratch volume
    cache, scratch = tmp_path / "cache", tmp_path / "scratch"
    cache.mkdir()
    scratch.mkdir()
    (cache / "model.bin").write_text("weights")
    built = options(mounts=[f"/srv/model-cache:{cache}", str(scratch)])
    volumes = container_environment(built, Names(built.prefix))[contract.ENV_VOLUMES]
    assert volumes == str(scratch)
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for number in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"job-{number}")
    # when each job reads the cache, adds to it and leaves files in both places
    command = (f'test -f {cache}/model.bin && ls -A {scratch} > {tmp_path}/$MessageId.scratch && '
               f'touch {cache}/$MessageId {scratch}/$MessageId && mkdir -p {scratch}/nested/dir')
    with WatcherProcess(moto_server, url, command, Volumes=volumes) as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 4, 30)
    # then every job succeeded, found the scratch volume empty, and the cache kept everything
    assert all("outcome success" in line for line in summaries(lines))
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)  # deletes go out in batches
    assert [path.read_text() for path in tmp_path.glob("*.scratch")] == [""] * 4
    assert (cache / "model.bin").read_text() == "weights"
    assert len([path for path in cache.iterdir() if path.name != "model.bin"]) == 4
    assert list(scratch.iterdir()) == []
