"""Questions to the operator: asked on stderr, answered on stdin.

Answers are read line by line from stdin whether or not it is a terminal, so
a session can be scripted (``printf 'k\nd\ns\n' | watchbot-dead-letter
triage ...``); the end of stdin answers "no" or "stop".
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["Prompter", "Choice"]

#: (key, words that choose it, label shown)
Choice = tuple[str, Sequence[str], str]


class Prompter:
    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stderr = stderr if stderr is not None else sys.stderr

    @property
    def interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def _ask(self, question: str) -> str | None:
        self.stderr.write(question)
        self.stderr.flush()
        line = self.stdin.readline()
        if not line:
            self.stderr.write("\n")
            return None
        return line.strip()

    def confirm(self, question: str) -> bool:
        """y/yes confirms; anything else, or the end of stdin, does not."""
        answer = self._ask(f"{question} [y/N] ")
        return answer is not None and answer.lower() in ("y", "yes")

    def choose(self, question: str, choices: Sequence[Choice], inline: bool = False) -> str | None:
        """The key of the chosen option (by number or by one of its words); None at the end of stdin.

        ``inline`` asks on one line (``question label, label: ``) for questions asked over and over.
        """
        if inline:
            text = f"{question} " + ", ".join(label for _, _, label in choices) + ": "
        else:
            menu = "\n".join(f"  {number}) {label}" for number, (_, _, label) in enumerate(choices, 1))
            text = f"{question}\n{menu}\n> "
        while True:
            answer = self._ask(text)
            if answer is None:
                return None
            lowered = answer.lower()
            for number, (key, words, _) in enumerate(choices, 1):
                if lowered == str(number) or lowered in (word.lower() for word in words):
                    return key
            self.stderr.write(f"answer with a number from 1 to {len(choices)} or one of the words shown\n")
