"""Questions on stderr, answers from stdin (a terminal or a script)."""

from __future__ import annotations

import io

from watchbot_cfn.ops.deadletter import TRIAGE_CHOICES
from watchbot_cfn.ops.prompt import Prompter


def prompter(answers: str) -> tuple[Prompter, io.StringIO]:
    err = io.StringIO()
    return Prompter(io.StringIO(answers), err), err


def test_a_choice_by_letter_word_or_number():
    ask, _ = prompter("k\nDELETE\n1\n")
    assert [ask.choose("Action?", TRIAGE_CHOICES, inline=True) for _ in range(3)] == ["keep", "delete", "return"]


def test_an_unknown_answer_asks_again_and_the_end_of_input_stops():
    ask, err = prompter("maybe\ns\n")
    assert ask.choose("Action?", TRIAGE_CHOICES, inline=True) == "stop"
    assert "answer with a number from 1 to 4" in err.getvalue()
    assert err.getvalue().count("Action? [r]eturn to the work queue, [k]eep in the dead-letter queue") == 2
    assert ask.choose("Action?", TRIAGE_CHOICES, inline=True) is None


def test_a_menu_lists_numbered_choices():
    ask, err = prompter("2\n")
    assert ask.choose("Which one?", [("a", ("a",), "first"), ("b", ("b",), "second")]) == "b"
    assert "  1) first\n  2) second\n> " in err.getvalue()


def test_only_yes_confirms():
    assert [prompter(answer)[0].confirm("Sure?") for answer in ("y\n", "yes\n", "n\n", "\n", "")] == [
        True, True, False, False, False]
    assert not prompter("")[0].interactive
