"""``watchbot-cfn``: render, lint, document, deploy, run locally and draw Watchbot templates.

User errors (a missing file, a syntax error, a bad option, a merge conflict,
a source beyond the renderer's bounds or CloudFormation's quotas) print one line
on stderr and exit 1, with nothing on stdout and no output file; usage errors
exit 2. Any other failure is also one line and exit 1 (``--debug`` shows its
traceback), so no input ever ends in a traceback. Heavy modules (cfn-lint, boto3, the runtime) are imported
inside the commands that need them, so ``render`` starts quickly.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

__all__ = ["COMMANDS", "build_parser", "console", "main"]

PROG = "watchbot-cfn"
EXIT_OK = 0
EXIT_FAILED = 1  # bad input, or lint findings
EXIT_USAGE = 2  # argparse's own code for bad arguments
#: Allocations between two collections of the youngest generation while a command runs (Python's default: 700).
GC_EVERY = 100_000

#: Every command: name -> (front-end module, one-line help). A module exposes ``add_arguments(parser)`` and
#: ``run(args) -> int``, and is imported only when its command runs (``--help`` imports none of them).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "write a starting point: a commented source, a worker and a Dockerfile"),
    "render": ("render", "render a source to a CloudFormation template"),
    "lint": ("lint", "lint a template or source with cfn-lint"),
    "options": ("options", "list every option with its default and description"),
    "deploy": ("deploy", "create or update a stack from a source, through a change set"),
    "delete": ("delete", "delete a stack, saying first which queues, logs and tables are kept or lost"),
    "local": ("local", "run the whole pipeline locally: endpoint, stack, watcher, live counts"),
    "send": ("send", "send messages to a stack's work topic (or FIFO queue)"),
    "graph": ("graph", "draw the rendered stack: resources and their references"),
    "diff": ("diff", "compare two templates; flag resources an update would replace or delete"),
    "migrate": ("migrate", "adopt a stack built by Watchbot 10 (or 9) in place: keep its queues, topic, logs, table"),
    "simulate": ("simulate", "replay a template's scaling against a trace of arriving messages"),
    "key-policy": ("keypolicy", "print what your KMS keys' policies must allow for this stack"),
    "build-watcher": ("build_watcher", "build the watcher as one executable for any Linux image"),
}


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, read the same way ($COLUMNS, then the terminal, then 80).

    argparse asks shutil for every argument it adds, and importing shutil (with bz2, lzma and zlib) is a
    noticeable part of a ``render`` that never prints help.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's own help layout, given the terminal width (see ``_terminal_columns``)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line that says where the full usage is; exit 2 as argparse does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (usage: {self.prog} --help)\n")


def build_parser(load: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the commands in ``load`` (default: every command), each with its arguments.

    With ``load`` empty (no command named), every command is listed without its arguments, for ``--help``
    and the invalid-choice error; naming one command builds that command alone, so ``render`` pays for
    neither the other modules nor thirteen more parsers.
    """
    from watchbot_cfn import __version__

    parser = _OneLineErrors(
        prog=PROG,
        description="CloudFormation for SQS-driven ECS workers: start a Watchbot system (init), render its "
                    "template from a source file, lint it, list the options, deploy or delete it, run the whole "
                    "pipeline locally, send it messages, compare templates, move a Watchbot 10 stack over "
                    "(migrate), draw it, simulate its scaling and print what its KMS keys' policies need.",
        epilog=f"Example: {PROG} render examples/minimal.toml > template.json",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = list(COMMANDS if load is None else load)
    for name in wanted or COMMANDS:
        module_name, summary = COMMANDS[name]
        command = commands.add_parser(name, help=summary)
        # --debug after the command too; SUPPRESS keeps a --debug given before it
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show a traceback on errors")
        if name in wanted:
            module = importlib.import_module(f"watchbot_cfn.cli.{module_name}")
            module.add_arguments(command)
            command.set_defaults(handler=module.run)
    return parser


def _named_command(argv: Sequence[str]) -> list[str]:
    """The command the arguments name (the first word that is one), so only its module is imported.

    Nothing when ``--help`` comes first: the top-level help then lists every command.
    """
    for word in argv:
        if word in ("-h", "--help"):
            return []
        if word in COMMANDS:
            return [word]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script is :func:`console`)."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_named_command(words)).parse_args(words)
    return _run(args)


def console() -> int:
    """Entry point of the ``watchbot-cfn`` script: :func:`main` in a process that ends right after it.

    The garbage collector is tuned for that. Importing troposphere and building a template allocate tens of
    thousands of objects that live until the process ends: at the default threshold (a collection every 700
    allocations) the collector walks them dozens of times during one ``render`` and finds nothing to free,
    and the interpreter's collections at exit walk them again. So collections come every GC_EVERY
    allocations while the command runs (mypy's command line does the same), and what is still alive when it
    returns is frozen, out of the exit's collections' way; together a sixth of a ``render``. Garbage is still
    collected while a long command (``local``) runs. :func:`main` itself changes no process-wide setting.
    """
    gc.set_threshold(GC_EVERY, *gc.get_threshold()[1:])
    code = main()
    gc.freeze()
    return code


def _run(args: argparse.Namespace) -> int:
    from watchbot_cfn.errors import WatchbotError

    try:
        return args.handler(args)
    except WatchbotError as error:
        if args.debug:
            raise
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except BrokenPipeError:
        return EXIT_FAILED
    except OSError as error:  # e.g. -o into a directory that does not exist
        if args.debug:
            raise
        name = f"{error.filename}: " if error.filename else ""
        return _fail(f"{name}{error.strerror or error}")
    except Exception as error:  # a failure no check foresaw: still one line, never a traceback
        if args.debug:
            raise
        from watchbot_cfn.errors import clip

        return _fail(f"unexpected {type(error).__name__}: {clip(str(error), 300)} (--debug shows where)")


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    from watchbot_cfn.errors import clip

    print(f"{PROG}: error: {clip(message) or 'failed'}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(console())
