"""PEP 517 backend for ``watchbot-cfn-runtime``: the watcher alone, from this repository's files.

The runtime has one source, ``watchbot_cfn/`` at the repository root; this
backend packs the part of it the watcher runs (the package ``__init__``,
``contract.py`` and ``runtime/``) into a wheel whose only dependency is boto3.
It reads the version from ``watchbot_cfn/__init__.py``. Standard library only,
and Python 3.9 compatible: pip runs it with the interpreter it installs for.
An sdist carries the files beside this one, so a wheel builds from it as well.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "package_files",
    "prepare_metadata_for_build_wheel",
]

NAME = "watchbot-cfn-runtime"
SUMMARY = "The Watchbot watcher (watchbot listen) alone: runs a command once per SQS message"
REQUIRES_PYTHON = ">=3.9"
DEPENDENCIES = ("boto3>=1.34",)
#: The runtime's commands: the watcher, and reduce mode's progress command for shell workers.
CONSOLE_SCRIPTS = {
    "watchbot": "watchbot_cfn.runtime.cli:main",
    "watchbot-progress": "watchbot_cfn.runtime.progresscli:main",
}
#: The watcher's files, relative to the directory holding ``watchbot_cfn``.
FILES = ("watchbot_cfn/__init__.py", "watchbot_cfn/contract.py", "watchbot_cfn/records.py")
DIRECTORIES = ("watchbot_cfn/runtime",)
HERE = Path(__file__).resolve().parent
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same wheel

def source_root() -> Path:
    """The directory holding ``watchbot_cfn``: the repository root, or this directory in an sdist."""
    for candidate in (HERE, HERE.parent):
        if (candidate / "watchbot_cfn" / "runtime").is_dir():
            return candidate
    raise FileNotFoundError(f"watchbot_cfn/runtime not found next to {HERE} or above it: build from a checkout "
                            "of watchbot-cfn with pip 21.3 or later, which builds a local directory in place")


def package_files(root: Path | None = None) -> list[str]:
    """The wheel's Python files, relative to ``root``, sorted."""
    root = root or source_root()
    found = list(FILES)
    for directory in DIRECTORIES:
        found += [path.relative_to(root).as_posix() for path in (root / directory).glob("*.py")]
    return sorted(found)


def version(root: Path | None = None) -> str:
    """``__version__`` from ``watchbot_cfn/__init__.py``, read without importing it."""
    path = (root or source_root()) / "watchbot_cfn" / "__init__.py"
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise ValueError(f"no __version__ string in {path}")


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    root = source_root()
    dist_info = _dist_info(version(root))
    target = Path(metadata_directory) / dist_info
    target.mkdir(parents=True, exist_ok=True)
    for name, content in _metadata_files(root).items():
        (target / name).write_bytes(content)
    return dist_info


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    root = source_root()
    release = version(root)
    filename = f"{_normalized()}-{release}-py3-none-any.whl"
    dist_info = _dist_info(release)
    entries = [(name, (root / name).read_bytes()) for name in package_files(root)]
    entries += [(f"{dist_info}/{name}", content) for name, content in _metadata_files(root).items()]
    record_name = f"{dist_info}/RECORD"
    record = "".join(f"{name},sha256={_digest(content)},{len(content)}\n" for name, content in entries)
    entries.append((record_name, (record + f"{record_name},,\n").encode()))
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, content)
    return filename


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    root = source_root()
    release = version(root)
    base = f"{_normalized()}-{release}"
    members: list[tuple[str, bytes]] = [(name, (HERE / name).read_bytes())
                                        for name in ("pyproject.toml", "build_backend.py", "README.md")]
    members += [(name, (root / name).read_bytes()) for name in package_files(root)]
    members.append(("PKG-INFO", _metadata_files(root)["METADATA"]))
    filename = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, content in members:
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 315532800  # 1980-01-01, as in the wheel
            archive.addfile(info, io.BytesIO(content))
    return filename


def _metadata_files(root: Path) -> dict[str, bytes]:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {version(root)}", f"Summary: {SUMMARY}",
             "License: MIT", f"Requires-Python: {REQUIRES_PYTHON}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in DEPENDENCIES]
    lines += ["Description-Content-Type: text/markdown", "", readme]
    wheel = ["Wheel-Version: 1.0", f"Generator: {NAME} build_backend", "Root-Is-Purelib: true",
             "Tag: py3-none-any", ""]
    scripts = ["[console_scripts]"] + [f"{name} = {target}" for name, target in CONSOLE_SCRIPTS.items()] + [""]
    return {
        "METADATA": "\n".join(lines).encode("utf-8"),
        "WHEEL": "\n".join(wheel).encode(),
        "entry_points.txt": "\n".join(scripts).encode(),
    }


def _normalized() -> str:
    return NAME.replace("-", "_")


def _dist_info(release: str) -> str:
    return f"{_normalized()}-{release}.dist-info"


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
