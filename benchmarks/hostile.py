"""Time ``watchbot-cfn render`` on each hostile source, as a whole process.

Each source in ``tests/support/hostile.py`` is built to exhaust a renderer
(billion laughs, 100,000 levels of nesting, 10,000 systems, ...). Prints, per
source, the wall time and peak resident memory of the refusing process (from
``wait4``'s rusage) and the first words of its error, and exits 1 when one
goes over budget or does not fail with exit 1. The files are written by a
helper process, so this process stays small: a child's peak memory counts
what it shared with its parent before ``exec``.

    python benchmarks/hostile.py
    python benchmarks/hostile.py --only ten-thousand-systems-json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.hostile import HOSTILE  # noqa: E402

BUDGET_SECONDS = 5.0
BUDGET_MIB = 200.0


def command() -> list[str]:
    beside = Path(sys.executable).with_name("watchbot-cfn")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]


def run_once(source: str) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MiB, first stderr line) of one render."""
    start = time.perf_counter()
    process = subprocess.Popen([*command(), "render", source], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               cwd=REPO)
    assert process.stderr is not None
    error = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    first = error.splitlines()[0] if error else ""
    return os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024, first


def write_case(name: str, directory: str) -> str:
    """Write one case's files in a helper process; returns its SOURCE argument."""
    written = subprocess.run([sys.executable, __file__, "--write", name, directory], capture_output=True, text=True,
                             check=True)
    return written.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this case (repeatable)")
    parser.add_argument("--write", nargs=2, metavar=("NAME", "DIRECTORY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        name, directory = args.write
        print(next(case for case in HOSTILE if case.name == name).write(Path(directory)))
        return 0
    cases = [case for case in HOSTILE if not args.only or case.name in args.only]
    failures = 0
    print(f"{'source':32} {'exit':>4} {'seconds':>8} {'MiB':>7}  error")
    for case in cases:
        with tempfile.TemporaryDirectory() as directory:
            source = write_case(case.name, directory)
            code, elapsed, peak, first = run_once(source)
        message = first.split(": ", 3)[-1] if first else ""
        over = code != 1 or elapsed > BUDGET_SECONDS or peak > BUDGET_MIB
        failures += over
        flag = "  <- over budget" if over else ""
        print(f"{case.name:32} {code:>4} {elapsed:>8.2f} {peak:>7.1f}  {message[:70]}{flag}")
    print(f"budget per source: exit 1 within {BUDGET_SECONDS} s and {BUDGET_MIB:.0f} MiB; {failures} over")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
