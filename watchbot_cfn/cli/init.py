"""``watchbot-cfn init``: a starting point that renders, lints and runs under ``local`` as written."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from watchbot_cfn.cli.arguments import describe

if TYPE_CHECKING:
    from watchbot_cfn.starter.files import Choices

__all__ = ["SOURCE_NAME", "add_arguments", "run"]

SOURCE_NAME = "watchbot.toml"
DOCKERFILE_NAME = "Dockerfile"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description=f"Write a new system into DIR: {SOURCE_NAME} (a commented source), a worker that follows "
                    "the watcher's contract (reads $MessageFile, exits 0, 3 or 4) and a Dockerfile that puts "
                    "the watcher and the worker in an image; then print the next commands (local, send, "
                    "deploy). Existing files are never overwritten unless --force.",
        epilog="Examples: watchbot-cfn init resize; watchbot-cfn init jobs --fifo; "
               "watchbot-cfn init wordcount --reduce")
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="where to write (created if missing; default: the current directory)")
    parser.add_argument("--fifo", action="store_true", help="FIFO queues: messages of one group run in order")
    parser.add_argument("--reduce", action="store_true",
                        help="reduce mode: a progress table and a map-reduce worker (Python)")
    parser.add_argument("--language", choices=("sh", "python"),
                        help="the worker's language (default: sh; python with --reduce)")
    parser.add_argument("--name", metavar="SERVICE",
                        help="the ECS service's name (default: from DIR's name)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.errors import WatchbotError
    from watchbot_cfn.starter.files import Choices, dockerfile, project_name, source, worker, worker_file

    if args.reduce and args.language == "sh":
        raise WatchbotError("--language: got 'sh'; --reduce writes a Python worker (it uses the map-reduce "
                            "helper): leave --language out or give python")
    directory = Path(args.directory)
    name = args.name or project_name(directory.resolve().name)
    choices = Choices(name=name, fifo=args.fifo, reduce=args.reduce,
                      language=args.language or ("python" if args.reduce else "sh"))
    files = {SOURCE_NAME: source(choices), worker_file(choices): worker(choices), DOCKERFILE_NAME: dockerfile(choices)}
    _check_name(name)
    if directory.exists() and not directory.is_dir():
        raise WatchbotError(f"{directory}: exists and is not a directory")
    existing = [name for name in files if (directory / name).exists()]
    if existing and not args.force:
        raise WatchbotError(f"{directory}: {', '.join(existing)} already there; nothing written "
                            "(--force overwrites)")
    directory.mkdir(parents=True, exist_ok=True)
    from watchbot_cfn.sources.output import write_atomic

    for file_name, text in files.items():
        write_atomic(directory / file_name, text)
    worker_path = directory / worker_file(choices)
    if choices.language == "sh":
        worker_path.chmod(worker_path.stat().st_mode | 0o111)
    _print_next_steps(directory, choices, list(files))
    return 0


def _check_name(name: str) -> None:
    from watchbot_cfn.constraints import Invalid
    from watchbot_cfn.options import spec

    try:
        spec("service").accepts.check(name)
    except Invalid as invalid:
        from watchbot_cfn.errors import OptionsError

        raise OptionsError("--name", name, str(invalid)) from None


def _print_next_steps(directory: Path, choices: Choices, written: list[str]) -> None:
    where = "" if os.path.abspath(directory) == os.getcwd() else f"cd {directory}\n  "
    if choices.reduce:
        message = "'{\"job\": \"job-1\", \"parts\": [\"one\", \"two\", \"three\"]}'"
    else:
        message = "hello 'fail this' 'reject this'"
    group = " --group-id demo" if choices.fifo else ""
    out = sys.stdout
    out.write(f"wrote {', '.join(str(directory / name) for name in written)}\n\n")
    out.write("Next:\n")
    out.write(f"  {where}watchbot-cfn local {SOURCE_NAME}          # the pipeline on this machine; Ctrl-C stops it\n")
    out.write(f"  watchbot-cfn send --stack-name local --endpoint-url http://127.0.0.1:5959{group} {message}"
              "   # in another terminal\n")
    out.write(f"  watchbot-cfn deploy {SOURCE_NAME} --stack-name {choices.name}   # to AWS, once the image is "
              "pushed (see Dockerfile)\n")
