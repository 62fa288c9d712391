"""The PyInstaller spec for the watcher executable.

A spec file (rather than command-line flags) is what lets the build filter
botocore's data files after PyInstaller's hooks collected all of them, drop
runtime hooks the watcher has no use for, and swap shared libraries for copies
without a RUNPATH. The spec imports its
helpers from ``contents`` and ``elf``, so each rule lives in one place.
"""

from __future__ import annotations

__all__ = ["render_spec"]

_SPEC = """\
# Written by watchbot-cfn build-watcher; run by PyInstaller.
from watchbot_cfn.bundle.contents import UNUSED_RUNTIME_HOOKS, keep_file
from watchbot_cfn.bundle.elf import without_runpath

analysis = Analysis(
    [{entry!r}],
    pathex=[{source_root!r}],
    excludes={excludes!r},
    noarchive=False,
)
analysis.datas = [item for item in analysis.datas if keep_file(item[0])]
analysis.scripts = [item for item in analysis.scripts if item[0] not in UNUSED_RUNTIME_HOOKS]
analysis.binaries = without_runpath(analysis.binaries, {staging!r}, {patchelf!r})
pyz = PYZ(analysis.pure)
# zlib and _struct reach the archive through PyInstaller's bootstrap modules, not analysis.binaries.
pyz.dependencies = without_runpath(pyz.dependencies, {staging!r}, {patchelf!r})
exe = EXE(
    pyz,
    analysis.scripts,
    analysis.binaries,
    analysis.datas,
    [],
    name={name!r},
    strip={strip!r},
    upx=False,
    console=True,
    runtime_tmpdir=None,
)
"""


def render_spec(entry: str, source_root: str, name: str, excludes: list[str], staging: str,
                patchelf: str = "patchelf", strip: bool = True) -> str:
    """Spec text for a one-file build of the script ``entry`` with ``source_root`` on the import path.

    ``staging`` is a scratch directory for the cleaned copies of shared libraries.
    """
    return _SPEC.format(entry=entry, source_root=source_root, excludes=excludes, name=name, strip=strip,
                        staging=staging, patchelf=patchelf)
