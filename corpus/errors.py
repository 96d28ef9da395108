"""Errors a user can act on. Faces print their one-line message, never a traceback."""

from __future__ import annotations

from pathlib import Path


class JiebangError(Exception):
    """Base class: `str(error)` is a complete one-line message for the user."""


class DataError(JiebangError):
    """A bad input row, named by file and line."""

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")
