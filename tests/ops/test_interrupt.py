"""Ctrl-C waits for the step that moves messages, unless pressed twice."""

from __future__ import annotations

import os
import signal

import pytest

from watchbot_cfn.ops.interrupt import Interrupts


def press_ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_a_step_finishes_before_ctrl_c_is_raised():
    finished = []
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.step():
            press_ctrl_c()
            finished.append("the rest of the step")
    assert finished == ["the rest of the step"]


def test_outside_a_step_ctrl_c_is_raised_at_once():
    with Interrupts(), pytest.raises(KeyboardInterrupt):
        press_ctrl_c()
        raise AssertionError("not reached")


def test_a_second_ctrl_c_cuts_a_step_short():
    reached = []
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.step():
            press_ctrl_c()
            reached.append("after the first")
            press_ctrl_c()
            reached.append("after the second")
    assert reached == ["after the first"]


def test_the_previous_handler_comes_back():
    before = signal.getsignal(signal.SIGINT)
    with Interrupts():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before
