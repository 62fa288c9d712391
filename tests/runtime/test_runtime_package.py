"""The runtime-only distribution (``runtime-package/``): its files, metadata and sdist."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from watchbot_cfn import __version__

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "runtime-package"


def load_backend():
    spec = importlib.util.spec_from_file_location("runtime_build_backend", PACKAGE / "build_backend.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def backend():
    return load_backend()


@pytest.fixture(scope="module")
def wheel(backend, tmp_path_factory) -> zipfile.ZipFile:
    directory = tmp_path_factory.mktemp("wheel")
    name = backend.build_wheel(str(directory))
    assert name == f"watchbot_cfn_runtime-{__version__}-py3-none-any.whl"
    return zipfile.ZipFile(directory / name)


def python_files(archive: zipfile.ZipFile) -> set[str]:
    return {name for name in archive.namelist() if name.endswith(".py")}


def test_the_wheel_holds_the_runtime_and_nothing_of_the_template_side(wheel):
    files = python_files(wheel)
    runtime = {f"watchbot_cfn/runtime/{path.name}" for path in (ROOT / "watchbot_cfn" / "runtime").glob("*.py")}
    assert files == {"watchbot_cfn/__init__.py", "watchbot_cfn/contract.py", "watchbot_cfn/records.py"} | runtime
    for name in files:
        assert wheel.read(name) == (ROOT / name).read_bytes()


def test_every_module_the_watcher_loads_is_in_the_wheel(wheel):
    code = ("import json, sys, importlib, pathlib\n"
            "import watchbot_cfn.runtime\n"
            "for path in sorted(pathlib.Path(watchbot_cfn.runtime.__file__).parent.glob('*.py')):\n"
            "    importlib.import_module('watchbot_cfn.runtime.' + path.stem if path.stem != '__init__' else "
            "'watchbot_cfn.runtime')\n"
            "print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items() if n.startswith('watchbot_cfn'))))\n")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=ROOT).stdout)
    assert {Path(path).resolve().relative_to(ROOT).as_posix() for path in loaded} <= python_files(wheel)


def test_the_metadata_claims_python_39_boto3_only_and_the_runtimes_commands(backend, wheel):
    dist_info = f"watchbot_cfn_runtime-{__version__}.dist-info"
    metadata = Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())
    assert metadata["Name"] == "watchbot-cfn-runtime"
    assert metadata["Version"] == __version__
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata.get_all("Requires-Dist") == [
        requirement for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if requirement.startswith("boto3")]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    runtime_scripts = {name: target for name, target in scripts.items() if target.startswith("watchbot_cfn.runtime.")}
    assert set(runtime_scripts) >= {"watchbot", "watchbot-progress"}
    assert backend.CONSOLE_SCRIPTS == runtime_scripts  # the same commands as the full package's runtime
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    for name, target in runtime_scripts.items():
        assert f"{name} = {target}" in entry_points
    assert "Root-Is-Purelib: true" in wheel.read(f"{dist_info}/WHEEL").decode()


def test_the_record_lists_every_file_with_its_hash(wheel):
    dist_info = f"watchbot_cfn_runtime-{__version__}.dist-info"
    rows = [line.split(",") for line in wheel.read(f"{dist_info}/RECORD").decode().splitlines()]
    recorded = {name: (digest, size) for name, digest, size in rows}
    assert set(recorded) == set(wheel.namelist())
    for name, (digest, size) in recorded.items():
        if name.endswith("RECORD"):
            assert (digest, size) == ("", "")
            continue
        content = wheel.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        assert (digest, size) == (f"sha256={expected}", str(len(content)))


def test_a_wheel_built_from_the_sdist_has_the_same_files(backend, wheel, tmp_path):
    name = backend.build_sdist(str(tmp_path))
    with tarfile.open(tmp_path / name) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (source,) = (tmp_path / "unpacked").iterdir()
    assert (source / "PKG-INFO").exists()
    code = "import build_backend, sys; print(build_backend.build_wheel(sys.argv[1]))"
    built = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=source, capture_output=True, text=True,
                           check=True).stdout.strip()
    with zipfile.ZipFile(tmp_path / built) as rebuilt:
        assert sorted(rebuilt.namelist()) == sorted(wheel.namelist())
        assert all(rebuilt.read(n) == wheel.read(n) for n in rebuilt.namelist())
