"""``watchbot listen <command>``: the main process of a worker container.

Exit codes: 0 after a clean stop (signal, or the one job of a writable
filesystem), 2 for unusable configuration (one line on stderr), 1 for an
unexpected error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from watchbot_cfn import contract

if TYPE_CHECKING:  # pragma: no cover
    from watchbot_cfn.runtime.config import WatcherConfig

__all__ = ["main", "build_parser", "STOP_SIGNALS"]

#: Signals that drain the watcher. Besides SIGTERM (what ECS sends, unless the
#: image's STOPSIGNAL names another) and SIGINT, every signal whose default
#: would end the process at once: that would leave its jobs to the guard and
#: its messages hidden. As PID 1 the kernel would drop them instead; drained
#: either way, a signal means the same wherever the watcher runs.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchbot", description="Run a command once per SQS message (see docs/runtime.md).")
    from watchbot_cfn import __version__

    parser.add_argument("--version", action="version", version=f"watchbot {__version__}")
    actions = parser.add_subparsers(dest="action", required=True, metavar="listen")
    listen = actions.add_parser(
        "listen", help="poll the queue in $QueueUrl and run COMMAND for each message",
        description="Poll the queue in $QueueUrl and run COMMAND through /bin/sh for each message. "
                    "Several arguments are joined with spaces, as the original did; quote the command "
                    "as one argument when it needs shell quoting.")
    listen.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    words = list(args.command)
    if words and words[0] == "--":
        words = words[1:]
    command = " ".join(words)

    from watchbot_cfn.runtime.config import ConfigError, load_config

    try:
        config = load_config(command)
    except ConfigError as error:
        print(f"watchbot: {error}", file=sys.stderr)
        return contract.EXIT_BAD_CONFIG
    return listen(config)


def listen(config: WatcherConfig) -> int:
    """Wire the parts together, install the signal handlers and run until stopped."""
    # Handlers first: a SIGTERM while boto3 loads must not kill the watcher outright.
    early: list[int] = []
    stop = early.append
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda number, frame: stop(number))

    from botocore.exceptions import NoRegionError

    from watchbot_cfn.runtime.children import Reaper, become_subreaper
    from watchbot_cfn.runtime.guard import JobGuard
    from watchbot_cfn.runtime.logger import Logger
    from watchbot_cfn.runtime.message import MessageFiles
    from watchbot_cfn.runtime.protection import task_protection
    from watchbot_cfn.runtime.queue import CONTROL_READ_TIMEOUT, QueueClient, make_client
    from watchbot_cfn.runtime.settle import SETTLERS
    from watchbot_cfn.runtime.visibility import EXTENDERS
    from watchbot_cfn.runtime.volumes import root_volume_problem
    from watchbot_cfn.runtime.watcher import Watcher

    for volume in config.volumes:
        trouble = root_volume_problem(volume)
        if trouble:
            print(f"watchbot: {contract.ENV_VOLUMES}: {trouble}", file=sys.stderr)
            return contract.EXIT_BAD_CONFIG
    # Jobs die with the watcher, even by SIGKILL: a guard process kills their groups when it goes.
    guard = JobGuard()
    guard.start()
    logger = Logger(structured=config.structured_logging)
    # As PID 1 (or a subreaper) every orphan of every job becomes ours to reap.
    become_subreaper()
    children = Reaper()
    directory = tempfile.mkdtemp(prefix="watchbot-messages-")
    wakeup_set = False
    try:
        try:
            client = make_client(config.region, max_connections=4)
            # Extensions and settles go out side by side: a connection for each call that may be on the wire.
            control = make_client(config.region, max_connections=EXTENDERS + SETTLERS,
                                  read_timeout=CONTROL_READ_TIMEOUT, attempts=1)
        except NoRegionError:
            print(f"watchbot: no AWS region: set AWS_REGION (it could not be read from {contract.ENV_QUEUE_URL})",
                  file=sys.stderr)
            return contract.EXIT_BAD_CONFIG
        queue = QueueClient(config.queue_url, client, logger, control=control)
        protection = task_protection(config.task_protection, os.environ, logger, config.max_job_duration)
        watcher = Watcher(config, queue, logger, MessageFiles(directory), children=children, guard=guard,
                          protection=protection)
        stop = watcher.request_stop
        # The kernel hands a process's signal to any of its threads, but Python runs the handler
        # only in the main thread, which may be asleep in select(): the wake-up byte reaches it
        # from whichever thread took the signal.
        wakeup_set = True
        signal.set_wakeup_fd(watcher.wake_fd, warn_on_full_buffer=False)
        for number in early:
            watcher.request_stop(number)
        return watcher.run()
    except Exception as error:
        logger.notice(f"fatal: {error!r}", level="error")
        return 1
    finally:
        if wakeup_set:
            signal.set_wakeup_fd(-1)
        shutil.rmtree(directory, ignore_errors=True)
        guard.close()
        # A stalled or broken stdout must not keep the watcher from exiting.
        logger.close(timeout=1.0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
