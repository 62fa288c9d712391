"""The ``build-watcher`` subcommand: arguments, help and the handler.

Kept apart from ``build`` so that ``watchbot-cfn --help`` imports nothing of the builder.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_build_watcher"]

DESCRIPTION = (
    "Build the watcher (`watchbot listen`) as one executable file for Linux on this machine's architecture, to "
    "COPY into any image: it needs no Python there. It carries only the runtime, boto3 and the AWS service "
    "models the runtime calls; linked or copied as 'watchbot-progress' it is reduce mode's progress command. "
    "The plain executable needs the build machine's glibc version or newer in the "
    "image; --static also carries the C library, for musl images such as Alpine and older glibc. Needs the "
    "'bundle' extra (pip install 'watchbot-cfn[bundle]') and binutils."
)


def add_build_watcher(commands: Any, prog: str) -> None:
    """Register ``build-watcher`` on the ``watchbot-cfn`` subcommand parser."""
    parser = commands.add_parser(
        "build-watcher", help="build the watcher as one executable for any Linux image",
        description=DESCRIPTION,
        epilog=f"Examples: {prog} build-watcher --output dist/watchbot; "
               f"{prog} build-watcher --static --output /out/")
    parser.add_argument("--output", "-o", required=True, metavar="PATH",
                        help="file to write, or an existing directory to write 'watchbot' into; "
                             "replaced only once the new executable has run")
    parser.add_argument("--static", action="store_true",
                        help="also carry the C library and loader (staticx): runs on musl and any glibc")
    parser.set_defaults(handler=_build_watcher)


def _build_watcher(args: argparse.Namespace) -> int:
    from watchbot_cfn.bundle.build import build_watcher

    built = build_watcher(args.output, static=args.static)
    kind = "static" if built.static else "dynamic"
    print(f"{built.path}: {built.version}, {kind}, {built.size / 1_000_000:.1f} MB")
    sys.stdout.flush()
    return 0
