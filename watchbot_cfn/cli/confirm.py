"""What ``deploy`` and ``delete`` share at the terminal: asking before a change, and ending on its outcome."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ask", "confirmer", "finish"]


def ask(question: str) -> bool:
    """Yes only for y or yes; the end of input is no."""
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def confirmer() -> Callable[[str], bool] | None:
    """Ask on a terminal; elsewhere nobody can answer (the command then needs --yes)."""
    return ask if sys.stdin.isatty() else None


def finish(stack_name: str, out: Any, operate: Callable[[], Any], started: str,
           describe: Callable[[Any], str]) -> int:
    """Run the operation; 0 when it ended well, else its failures and one error line (exit 1). Ctrl-C stops
    the watching only: what CloudFormation started goes on, and the line says so (exit 130)."""
    try:
        outcome = operate()
    except KeyboardInterrupt:
        out.clear()
        print(f"watchbot-cfn: stopped watching stack {stack_name}; {started} goes on in CloudFormation",
              file=sys.stderr)
        return 130
    if outcome.ok:
        return 0
    for line in outcome.failures:
        print(f"  {line}", file=sys.stderr)
    print(f"watchbot-cfn: error: stack {stack_name}: {describe(outcome)}", file=sys.stderr)
    return 1
