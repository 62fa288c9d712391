"""What the watcher executable carries, and nothing more.

botocore ships a data model for every AWS service (about 20 MB compressed);
the executable needs the models of the services its commands call, plus
botocore's shared files (endpoints, partitions, retry and default
configuration). Python packages are allowed by name: everything else
installed next to the builder (the template libraries, test tools) is left
out, so a new dependency of the environment never slips into the executable
unnoticed.
"""

from __future__ import annotations

import pkgutil
import sys
from collections.abc import Iterable

__all__ = [
    "OWN_MODULES",
    "PACKAGES",
    "SERVICES",
    "STDLIB_EXCLUDES",
    "UNUSED_RUNTIME_HOOKS",
    "excluded_modules",
    "keep_file",
]

#: AWS services whose botocore models go into the executable; adding a service is one line.
SERVICES: tuple[str, ...] = (
    "sqs",  # the work queue: receive, extend visibility, delete, return
    "dynamodb",  # reduce mode's progress table (watchbot-progress)
    "sts",  # credentials that assume a role (web identity tokens, profiles with role_arn)
)

#: Third-party top-level packages the runtime imports (boto3 and what boto3 needs).
PACKAGES: frozenset[str] = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi",
})

#: The parts of this package the executable runs; every other module of ``watchbot_cfn`` is left out.
OWN_MODULES: frozenset[str] = frozenset({
    "watchbot_cfn", "watchbot_cfn.contract", "watchbot_cfn.records", "watchbot_cfn.runtime", "watchbot_cfn.bundle",
    "watchbot_cfn.bundle.entry",
})

#: Standard-library packages no watcher path imports (interactive, GUI, test and packaging tools).
STDLIB_EXCLUDES: frozenset[str] = frozenset({
    "tkinter", "turtle", "turtledemo", "idlelib", "lib2to3", "ensurepip", "venv", "distutils",
    "pydoc", "pydoc_data", "doctest", "pdb", "unittest", "test", "sqlite3", "curses", "dbm",
})

#: PyInstaller runtime hooks that run at every start but serve nothing the watcher does (about 25 ms of CPU).
UNUSED_RUNTIME_HOOKS: frozenset[str] = frozenset({
    "pyi_rth_inspect",  # source lookup for frozen tracebacks through inspect; also imports zipfile
    "pyi_rth_multiprocessing",  # multiprocessing starting frozen Python children; the watcher starts none
    "pyi_rth_pkgutil",  # pkgutil.iter_modules over frozen modules; nothing here lists modules
})

_MODEL_ROOTS = ("botocore/data/", "boto3/data/")


def keep_file(destination: str) -> bool:
    """Whether a data file (its path inside the bundle) belongs in the executable.

    Under botocore's and boto3's data directories only the shared top-level
    files and the listed services' directories are kept; anything else comes
    from an allowed package's hook and is kept.
    """
    path = destination.replace("\\", "/")
    for root in _MODEL_ROOTS:
        if path.startswith(root):
            rest = path[len(root):]
            return "/" not in rest or rest.split("/", 1)[0] in SERVICES
    return True


def excluded_modules(extra_paths: Iterable[str] = ()) -> list[str]:
    """Module names PyInstaller must not follow: other installed packages, our template side, idle stdlib."""
    stdlib = set(sys.stdlib_module_names)
    others = {name for name in _installed_top_level(extra_paths)
              if name not in stdlib and name not in PACKAGES and name != "watchbot_cfn"}
    return sorted(others | STDLIB_EXCLUDES | set(_template_modules()))


def _installed_top_level(extra_paths: Iterable[str] = ()) -> set[str]:
    paths = list(extra_paths) + sys.path
    return {module.name for module in pkgutil.iter_modules(paths)}


def _template_modules() -> list[str]:
    """``watchbot_cfn`` modules the executable does not run, found on disk so new ones are excluded too."""
    import watchbot_cfn
    import watchbot_cfn.bundle

    found = [f"watchbot_cfn.{module.name}" for module in pkgutil.iter_modules(watchbot_cfn.__path__)]
    found += [f"watchbot_cfn.bundle.{module.name}" for module in pkgutil.iter_modules(watchbot_cfn.bundle.__path__)]
    return [name for name in found if name not in OWN_MODULES]
