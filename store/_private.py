"""Directories closed to group and others, whoever creates them.

Everything ragseal creates under the data dir is 0700 (directories) or
0600 (files): the store holds ACL labels, the audit log who asked what.
The CLI and the server also set a 0077 umask (api/cli/__init__.py), which covers the
files the engines create; this helper covers the directories explicitly,
so a library caller (tests, an embedding application) gets them closed too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._errors import StoreError

__all__ = ["private_dir"]


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) closed to group and others.

    ``mkdir(mode=0o700)`` is subject to the umask and does not apply to
    parents, so every directory this creates is chmodded explicitly; an
    existing one is left as the operator made it, except ``path`` itself
    when it is ours (same owner), which is closed too.
    """
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                continue  # a concurrent creator: closed below if ours
            os.chmod(folder, 0o700)
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode):
            raise StoreError(f"{path} is not a directory")
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror or type(exc).__name__}") from None
    return path
