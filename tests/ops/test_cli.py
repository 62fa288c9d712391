"""``watchbot-dead-letter`` usage: arguments checked before any AWS call."""

from __future__ import annotations

import pytest

from watchbot_cfn.cli.dead_letter import main


@pytest.mark.parametrize(("argv", "complaint"), [
    (["print"], "the following arguments are required: --stack-name/-s"),
    (["shred", "--stack-name", "s"], "argument COMMAND: invalid choice: 'shred'"),
    (["triage", "--stack-name", "s", "--log-lines", "many"], "argument --log-lines: must be a whole number"),
])
def test_usage_errors_exit_2_naming_the_argument(capsys, argv, complaint):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


def test_help_lists_the_commands_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("triage:", "print:", "return:", "purge:", "130 interrupted", "--prefix", "--yes"):
        assert phrase in text
