"""Files only the account running lineage may read: the database (accounts, password hashes,
tokens, people's records), the session-signing key, backups and the digest outbox.

A file is created 0600 and a folder 0700 whatever the umask says (a default umask of 022 would
leave them readable by every account on the machine). Files that already exist keep the
permissions their operator gave them: lineage never loosens or silently tightens them.

>>> import tempfile, stat
>>> folder = Path(tempfile.mkdtemp()) / "instance"
>>> path = create_file(folder / "lineage.db")
>>> oct(stat.S_IMODE(path.stat().st_mode)), oct(stat.S_IMODE(folder.stat().st_mode))
('0o600', '0o700')
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folder(path: str | Path) -> Path:
    """``path`` and any missing parents, each created 0700 (existing folders are left as they are)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask; this is not
    return path


def _open_new(path: Path) -> int | None:
    """A write descriptor on a new 0600 file at ``path``; None if the file exists already."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return None
    os.fchmod(descriptor, FILE_MODE)  # os.open's mode is filtered by the umask; this is not
    return descriptor


def create_file(path: str | Path, *, folders: bool = True) -> Path:
    """``path`` created empty and 0600 if it does not exist (its folder 0700 if that is missing too,
    unless ``folders`` is false: then a missing folder is a ``FileNotFoundError``)."""
    path = Path(path)
    if folders:
        make_folder(path.parent)
    descriptor = _open_new(path)
    if descriptor is not None:
        os.close(descriptor)
    return path


def write_new(path: str | Path, data: bytes) -> bool:
    """Write ``data`` to a new 0600 file at ``path``; False (nothing written) if it exists already."""
    path = Path(path)
    make_folder(path.parent)
    descriptor = _open_new(path)
    if descriptor is None:
        return False
    with open(descriptor, "wb") as file:
        file.write(data)
    return True


def write_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, creating it 0600 if it is new (an existing file is overwritten)."""
    path = create_file(path)
    with open(path, "wb") as file:
        file.write(data)
    return path
