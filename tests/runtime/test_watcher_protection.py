"""Task scale-in protection, in-process against a fake ECS agent over HTTP: when it is set, renewed and cleared."""

from __future__ import annotations

import socket
import time

import pytest

from tests.runtime.helpers import CapturingLogger
from tests.support.fakeagent import FakeAgent
from tests.support.waiting import wait_for
from watchbot_cfn.runtime import protection as module
from watchbot_cfn.runtime.protection import AgentClient, ProtectionError, TaskProtection, task_protection


@pytest.fixture
def agent():
    with FakeAgent() as fake:
        yield fake


def closed_port_uri() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/x"


def test_the_client_sends_what_the_agent_expects_and_reads_every_kind_of_answer(agent):
    client = AgentClient(agent.uri)
    assert client.put(True, 5)["ProtectionEnabled"] is True
    assert client.put(False)["ProtectionEnabled"] is False
    assert [call.body for call in agent.snapshot()] == [{"ProtectionEnabled": True, "ExpiresInMinutes": 5},
                                                        {"ProtectionEnabled": False}]
    agent.mode = "error"
    with pytest.raises(ProtectionError, match=r"HTTP 500 \(ServerException: the agent is having a bad day\)"):
        client.put(True, 5)
    with pytest.raises(ProtectionError, match="refused"):
        AgentClient(closed_port_uri()).put(True, 1)
    agent.mode = "hang"
    began = time.monotonic()
    with pytest.raises(ProtectionError, match="timed out"):
        AgentClient(agent.uri, timeout=0.3).put(True, 1)
    assert time.monotonic() - began < 2


def test_a_job_starts_protected_for_its_limit_and_a_minute_and_idle_clears_it(agent):
    logger = CapturingLogger()
    protection = TaskProtection(AgentClient(agent.uri), logger, max_job_duration=600).start()
    time.sleep(0.2)
    assert agent.snapshot() == []  # idle: never set
    protection.job_started(1)
    [first] = agent.snapshot()  # set before job_started returned, so before the command runs
    assert first.enabled and first.minutes == 11  # 600 s + 60 s, in whole minutes
    protection.job_started(2)
    protection.job_ended(1)
    assert len(agent.snapshot()) == 1  # already protected: no call for the second job
    protection.job_ended(2)
    assert wait_for(lambda: len(agent.snapshot()) == 2, 3)
    cleared = agent.snapshot()[1]
    assert not cleared.enabled and cleared.at - first.at >= module.CLEAR_AFTER
    time.sleep(0.3)
    assert len(agent.snapshot()) == 2
    protection.stop()
    assert protection.join(2)


def test_back_to_back_jobs_keep_the_protection_without_calls(agent):
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=0).start()
    for token in range(5):
        protection.job_started(token)
        time.sleep(0.05)
        protection.job_ended(token)
    [call] = agent.snapshot()
    assert call.minutes == 61  # no time limit: an hour and a minute at a time
    assert protection.renewal == module.MAX_RENEWAL
    protection.stop()
    assert protection.join(2) and [c.enabled for c in agent.snapshot()] == [True, False]


def test_renewed_every_half_of_the_time_limit_while_jobs_run(agent, monkeypatch):
    monkeypatch.setattr(module, "MIN_RENEWAL", 0.2)
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=1.0).start()
    assert protection.renewal == pytest.approx(1.5)  # (1 s limit + 2 s kill grace) / 2
    protection.job_started(1)
    time.sleep(3.4)
    calls = agent.snapshot()
    assert [c.enabled for c in calls] == [True, True, True]
    assert calls[0].minutes == 2  # 1 s + 60 s; later ones cover only what is left of it, plus the minute
    gaps = [later.at - earlier.at for earlier, later in zip(calls, calls[1:], strict=False)]
    assert all(1.3 < gap < 2.0 for gap in gaps), gaps
    protection.job_ended(1)
    protection.stop()
    protection.join(2)


def test_a_job_that_could_outlive_the_protection_renews_it_at_once(agent, monkeypatch):
    monkeypatch.setattr(module, "COVER_MARGIN", 0.0)
    monkeypatch.setattr(module, "MIN_RENEWAL", 3600.0)
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=59.5).start()
    protection.job_started(1)  # needs 59.5 s: one minute
    time.sleep(0.7)
    protection.job_started(2)  # needs until 60.2 s after the first set: past that minute
    assert wait_for(lambda: len(agent.snapshot()) == 2, 2)
    assert [c.minutes for c in agent.snapshot()] == [1, 1]
    protection.stop()
    protection.join(2)


@pytest.mark.parametrize("fault", ["error", "hang", "refused"])
def test_a_failing_agent_never_holds_a_job_long_is_said_once_and_recovery_is_said(agent, fault, monkeypatch):
    monkeypatch.setattr(module, "RETRY_AFTER", 0.2)
    uri = closed_port_uri() if fault == "refused" else agent.uri
    agent.mode = fault if fault != "refused" else "ok"
    logger = CapturingLogger()
    protection = TaskProtection(AgentClient(uri, timeout=0.5), logger, max_job_duration=0).start()
    began = time.monotonic()
    protection.job_started(1)
    assert time.monotonic() - began <= module.FIRST_JOB_WAIT + 0.3  # the first job waits a second at most
    began = time.monotonic()
    for token in range(2, 6):
        protection.job_started(token)  # later jobs do not wait while it fails
    assert time.monotonic() - began < 0.2
    time.sleep(1.5)  # several retries meanwhile
    warnings = [line for line in logger.lines if "could not protect the task" in line]
    assert len(warnings) == 1
    if fault != "refused":
        assert len(agent.snapshot()) >= 2  # it kept trying
        agent.mode = "ok"
        assert wait_for(lambda: any("works again" in line for line in logger.lines), 5)
        assert agent.enabled
    protection.stop()
    protection.join(3)


def test_stopping_clears_at_once_even_while_jobs_still_run(agent):
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=0).start()
    protection.job_started(1)
    protection.stop()
    assert protection.join(2)
    assert [c.enabled for c in agent.snapshot()] == [True, False] and not agent.enabled


def test_only_a_watcher_on_ecs_with_the_setting_on_protects_its_task():
    logger = CapturingLogger()
    on_ecs = {"ECS_AGENT_URI": "http://169.254.170.2/api/abc"}
    protection = task_protection(True, on_ecs, logger, max_job_duration=30)
    assert protection is not None
    assert protection.client.url == "http://169.254.170.2/api/abc/task-protection/v1/state"
    assert protection.renewal == 16  # (30 + 2) / 2
    assert task_protection(False, on_ecs, logger) is None  # taskProtection false
    assert task_protection(True, {}, logger) is None  # not on ECS: a local run
    assert task_protection(True, {"ECS_AGENT_URI": "  "}, logger) is None
