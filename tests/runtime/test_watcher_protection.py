"""Task scale-in protection, in-process against a fake ECS agent over HTTP: when it is set, renewed and cleared."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.runtime.helpers import CapturingLogger, ManualClock
from tests.support.fakeagent import FakeAgent
from tests.support.waiting import wait_for
from watchbot_cfn.runtime import protection as module
from watchbot_cfn.runtime.protection import AgentClient, ProtectionError, TaskProtection, task_protection


@pytest.fixture
def agent():
    with FakeAgent() as fake:
        yield fake


class TimedClient(AgentClient):
    """The real client, noting on the test's clock when each call went out."""

    def __init__(self, uri: str, clock: ManualClock, timeout: float = module.AGENT_TIMEOUT) -> None:
        super().__init__(uri, timeout)
        self.clock = clock
        self.sent: list[float] = []

    def put(self, enabled: bool, minutes: int | None = None) -> dict:
        self.sent.append(self.clock.now)
        return super().put(enabled, minutes)


def settled(protection: TaskProtection, clock: ManualClock) -> None:
    """Wake the protection thread and wait until it has decided and gone back to waiting (two clock reads)."""
    reads = clock.reads
    protection.poke()
    assert wait_for(lambda: clock.reads >= reads + 2, 5)


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
    with pytest.raises(ProtectionError, match="timed out"):  # its own timeout, not the agent's minute of silence
        AgentClient(agent.uri, timeout=0.3).put(True, 1)


def test_a_job_starts_protected_for_its_limit_and_a_minute_and_idle_clears_it(agent):
    clock = ManualClock()
    client = TimedClient(agent.uri, clock)
    protection = TaskProtection(client, CapturingLogger(), max_job_duration=600, clock=clock).start()
    settled(protection, clock)
    assert agent.snapshot() == []  # idle: never set
    protection.job_started(1)
    [first] = agent.snapshot()  # set before job_started returned, so before the command runs
    assert first.enabled and first.minutes == 11  # 600 s + 60 s, in whole minutes
    protection.job_started(2)
    protection.job_ended(1)
    assert len(agent.snapshot()) == 1  # already protected: no call for the second job
    protection.job_ended(2)
    clock.advance(module.CLEAR_AFTER - 0.01)
    settled(protection, clock)
    assert len(agent.snapshot()) == 1  # idle, but not for long enough
    clock.advance(0.01)
    protection.poke()
    assert wait_for(lambda: len(agent.snapshot()) == 2, 3)
    cleared = agent.snapshot()[1]
    assert not cleared.enabled and client.sent[1] - client.sent[0] == pytest.approx(module.CLEAR_AFTER)
    clock.advance(60)
    settled(protection, clock)
    assert len(agent.snapshot()) == 2  # cleared once, and left alone
    protection.stop()
    assert protection.join(2)


def test_back_to_back_jobs_keep_the_protection_without_calls(agent):
    clock = ManualClock()
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=0, clock=clock).start()
    for token in range(5):
        protection.job_started(token)
        clock.advance(module.CLEAR_AFTER / 2)
        settled(protection, clock)
        protection.job_ended(token)
        clock.advance(module.CLEAR_AFTER / 2 - 0.01)  # idle, but shorter than CLEAR_AFTER
        settled(protection, clock)
    [call] = agent.snapshot()
    assert call.minutes == 61  # no time limit: an hour and a minute at a time
    assert protection.renewal == module.MAX_RENEWAL
    protection.stop()
    assert protection.join(2) and [c.enabled for c in agent.snapshot()] == [True, False]


def test_renewed_every_half_of_the_time_limit_while_jobs_run(agent, monkeypatch):
    monkeypatch.setattr(module, "MIN_RENEWAL", 0.2)
    clock = ManualClock()
    client = TimedClient(agent.uri, clock)
    protection = TaskProtection(client, CapturingLogger(), max_job_duration=1.0, clock=clock).start()
    assert protection.renewal == pytest.approx(1.5)  # (1 s limit + 2 s kill grace) / 2
    protection.job_started(1)
    for renewals in (1, 2):
        clock.advance(1.49)
        settled(protection, clock)
        assert len(agent.snapshot()) == renewals  # not yet
        clock.advance(0.01)
        protection.poke()
        assert wait_for(lambda: len(agent.snapshot()) == renewals + 1, 5)  # noqa: B023 - read at once
    calls = agent.snapshot()
    assert [c.enabled for c in calls] == [True, True, True]
    assert calls[0].minutes == 2  # 1 s + 60 s; later ones cover only what is left of it, plus the minute
    gaps = [later - earlier for earlier, later in zip(client.sent, client.sent[1:], strict=False)]
    assert gaps == [pytest.approx(1.5), pytest.approx(1.5)]
    protection.job_ended(1)
    protection.stop()
    protection.join(2)


def test_a_job_that_could_outlive_the_protection_renews_it_at_once(agent, monkeypatch):
    monkeypatch.setattr(module, "COVER_MARGIN", 0.0)
    monkeypatch.setattr(module, "MIN_RENEWAL", 3600.0)
    clock = ManualClock()
    protection = TaskProtection(AgentClient(agent.uri), CapturingLogger(), max_job_duration=59.5,
                                clock=clock).start()
    protection.job_started(1)  # needs 59.5 s: one minute
    clock.advance(0.4)
    protection.job_started(2)  # needs until 59.9 s after the first set: within that minute
    settled(protection, clock)
    assert len(agent.snapshot()) == 1
    clock.advance(0.3)
    protection.job_started(3)  # needs until 60.2 s after the first set: past that minute
    assert wait_for(lambda: len(agent.snapshot()) == 2, 2)
    assert [c.minutes for c in agent.snapshot()] == [1, 1]
    protection.stop()
    protection.join(2)


@pytest.mark.parametrize("fault", ["error", "hang", "refused"])
def test_a_failing_agent_never_holds_a_job_long_is_said_once_and_recovery_is_said(agent, fault, monkeypatch):
    monkeypatch.setattr(module, "RETRY_AFTER", 0.2)
    monkeypatch.setattr(module, "FIRST_JOB_WAIT", 0.2)
    uri = closed_port_uri() if fault == "refused" else agent.uri
    agent.mode = fault if fault != "refused" else "ok"
    logger = CapturingLogger()
    client = TimedClient(uri, ManualClock(), timeout=2.0 if fault == "hang" else 0.5)
    protection = TaskProtection(client, logger, max_job_duration=0).start()
    protection.job_started(1)
    if fault == "hang":  # the first job went on while the call was still unanswered
        assert len(agent.snapshot()) == 1 and not any("could not protect" in line for line in logger.lines)
    assert wait_for(lambda: any("could not protect the task" in line for line in logger.lines), 10)
    # Once a call has failed, later jobs do not wait for the agent at all (not even FIRST_JOB_WAIT).
    monkeypatch.setattr(module, "FIRST_JOB_WAIT", 3600.0)
    started = threading.Thread(target=lambda: [protection.job_started(token) for token in range(2, 6)])
    started.start()
    started.join(10)
    assert not started.is_alive()
    assert wait_for(lambda: len(client.sent) >= 3, 20)  # it kept trying ...
    warnings = [line for line in logger.lines if "could not protect the task" in line]
    assert len(warnings) == 1  # ... and said so once
    if fault != "refused":
        agent.mode = "ok"
        assert wait_for(lambda: any("works again" in line for line in logger.lines), 15)
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
