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


def test_a_shielded_call_survives_a_second_ctrl_c_but_not_a_third(capsys):
    reached = []
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.step():
            with interrupts.shielded():
                press_ctrl_c()
                press_ctrl_c()
                reached.append("the receive's answer is kept")
            reached.append("the step goes on to its end")
    assert reached == ["the receive's answer is kept", "the step goes on to its end"]
    assert "press Ctrl-C once more to abandon it" in capsys.readouterr().err
    with Interrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.shielded():
            press_ctrl_c()
            press_ctrl_c()
            press_ctrl_c()
            reached.append("not reached")
    assert "not reached" not in reached


def test_after_an_interruption_further_presses_are_ignored():
    before = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt), Interrupts():
            press_ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        press_ctrl_c()  # nothing happens
    finally:
        signal.signal(signal.SIGINT, before)
