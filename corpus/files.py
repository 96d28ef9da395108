"""Writing files so that a crash leaves the old version or the new one, never a torn one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from corpus.faults import point


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write `data` (text is UTF-8) to `path` atomically and durably; returns the path.

    Temporary file in the same folder, fsync, rename over the target, then fsync the folder so
    the rename itself survives a power cut. Every report, index, calibration and checkpoint file
    the project writes goes through here.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        point(f"atomic-write:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return path


def sync_folder(folder: str | Path) -> None:
    """fsync a folder, so renames and new files in it are durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
