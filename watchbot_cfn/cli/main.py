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
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["build_parser", "main"]

PROG = "watchbot-cfn"
EXIT_OK = 0
EXIT_FAILED = 1  # bad input, or lint findings
EXIT_USAGE = 2  # argparse's own code for bad arguments

SOURCE_HELP = (
    "a .toml, .yaml/.yml or .json file of options (one system, or a 'systems' list, plus your own "
    "CloudFormation sections), a Python file (app.py or app.py:attr) or module:attr whose attribute is a "
    "Template or a function returning one (default attribute: template)"
)


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line that says where the full usage is; exit 2 as argparse does."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (usage: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from watchbot_cfn import __version__

    parser = _OneLineErrors(
        prog=PROG,
        description="CloudFormation for SQS-driven ECS workers: render a Watchbot system's template from a "
                    "source file, lint it, list the options, deploy it, run the whole pipeline locally, send "
                    "it messages, draw it, simulate its scaling and print what its KMS keys' policies need.",
        epilog=f"Example: {PROG} render examples/minimal.toml > template.json",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    render = commands.add_parser(
        "render", help="render a source to a CloudFormation template",
        description="Render SOURCE to a CloudFormation template on stdout or in FILE. Nothing is written "
                    "unless the whole template renders and fits CloudFormation's quotas (500 resources, 200 "
                    "outputs, parameters and mappings, 1,000,000 bytes). What a Python source prints goes to "
                    "stderr.",
        epilog=f"Examples: {PROG} render examples/minimal.toml > template.json; "
               f"{PROG} render app.py:stack --format yaml -o template.yaml")
    render.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    render.add_argument("--format", "-f", choices=("json", "yaml"), default="json",
                        help="output format (default: json; yaml is long-form, e.g. Fn::Sub)")
    render.add_argument("--output", "-o", metavar="FILE",
                        help="write to FILE (atomically: a temporary file renamed into place) instead of stdout")
    render.set_defaults(handler=_render)

    lint = commands.add_parser(
        "lint", help="lint a template or source with cfn-lint",
        description="Lint a CloudFormation template (.json/.yaml) or render a source first and lint the "
                    "result, with cfn-lint in-process. Prints one finding per line; exits 1 on any error "
                    "or warning. Needs the 'lint' extra: pip install 'watchbot-cfn[lint]'.")
    lint.add_argument("target", metavar="FILE_OR_SOURCE",
                      help="a rendered CloudFormation template, or any SOURCE that render accepts")
    lint.add_argument("--region", "-r", action="append", metavar="REGION",
                      help="region to check resource types against; repeat for several (default: us-east-1)")
    lint.set_defaults(handler=_lint)

    options = commands.add_parser(
        "options", help="list every option with its default and description",
        description="List every option of a Watchbot system: name, default, original (camelCase) name, "
                    "whether intrinsics are accepted, and what it does.",
        epilog=f"Regenerate the reference: {PROG} options --markdown > docs/options.md")
    options.add_argument("--markdown", action="store_true", help="print docs/options.md (Markdown tables)")
    options.add_argument("--settings", action="store_true",
                         help="print the container variables the template sets and the watcher reads (Markdown)")
    options.set_defaults(handler=_options)

    # Each module imports only the standard library at the top: boto3 loads inside the commands.
    from watchbot_cfn.cli import deploy, diff, graph, keypolicy, local, send, simulatecmd

    for module in (deploy, local, send, graph, diff, simulatecmd, keypolicy):
        module.add_parser(commands, SOURCE_HELP)

    from watchbot_cfn.cli import migrate

    command = commands.add_parser("migrate", help=migrate.HELP)
    migrate.add_arguments(command)
    command.set_defaults(handler=migrate.run)

    from watchbot_cfn.bundle.command import add_build_watcher

    add_build_watcher(commands, PROG)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
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


# --- commands -----------------------------------------------------------------

def _render(args: argparse.Namespace) -> int:
    from watchbot_cfn.cli.quotas import check_quotas, check_size
    from watchbot_cfn.cli.render import render_text, write_atomic
    from watchbot_cfn.cli.sources import load_source
    from watchbot_cfn.errors import SourceError

    template = load_source(args.source)
    check_quotas(template, args.source)
    try:
        text = render_text(template, args.format)
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # troposphere's checks on a Python source
        raise SourceError(args.source, f"cannot render the template: {type(error).__name__}: {error}") from error
    check_size(text, args.source)
    if args.output and args.output != "-":
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK


def _lint(args: argparse.Namespace) -> int:
    from watchbot_cfn.cli.lintcmd import lint_target

    regions = tuple(region for value in (args.region or ["us-east-1"]) for region in value.split(",") if region)
    findings = lint_target(args.target, regions)
    for finding in findings:
        print(finding)
    failing = [f for f in findings if f.level in ("error", "warning")]
    summary = f"{args.target}: {len(failing)} errors and warnings, {len(findings) - len(failing)} other findings"
    print(summary, file=sys.stderr)
    return EXIT_FAILED if failing else EXIT_OK


def _options(args: argparse.Namespace) -> int:
    from watchbot_cfn.docgen import options_markdown, options_text, settings_markdown

    if args.settings:
        sys.stdout.write(settings_markdown() + "\n")
    else:
        sys.stdout.write(options_markdown() if args.markdown else options_text())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
