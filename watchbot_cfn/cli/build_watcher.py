"""The ``build-watcher`` subcommand: arguments, help and the handler.

Kept apart from ``build`` so that ``watchbot-cfn --help`` imports nothing of the builder.
"""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import describe

__all__ = ["add_arguments", "run"]

DESCRIPTION = (
    "Build the watcher (`watchbot listen`) as one executable file for Linux on this machine's architecture, to "
    "COPY into any image: it needs no Python there. It carries only the runtime, boto3 and the AWS service "
    "models the runtime calls; linked or copied as 'watchbot-progress' it is reduce mode's progress command. "
    "The plain executable needs the build machine's glibc version or newer in the "
    "image; --static also carries the C library, for musl images such as Alpine and older glibc. Needs the "
    "'bundle' extra (pip install 'watchbot-cfn[bundle]') and binutils."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description=DESCRIPTION,
        epilog="Examples: watchbot-cfn build-watcher --output dist/watchbot; "
               "watchbot-cfn build-watcher --static --output /out/")
    parser.add_argument("--output", "-o", required=True, metavar="PATH",
                        help="file to write, or an existing directory to write 'watchbot' into; "
                             "replaced only once the new executable has run")
    parser.add_argument("--static", action="store_true",
                        help="also carry the C library and loader (staticx): runs on musl and any glibc")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.bundle.build import build_watcher

    built = build_watcher(args.output, static=args.static)
    kind = "static" if built.static else "dynamic"
    print(f"{built.path}: {built.version}, {kind}, {built.size / 1_000_000:.1f} MB")
    sys.stdout.flush()
    return 0
