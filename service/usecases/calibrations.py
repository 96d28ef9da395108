"""Calibrations adopted from the users' judgments, versioned per model under the home folder.

`jiebang feedback fit` adopts a refit by writing it as the next version (`v0003.json` with
`v0003.meta.json`: when, from how many judgments, the measurements before and after) and then
pointing `active.json` at it; each write is atomic, so a crash leaves the previous calibration
active. `rollback N` points back at version N, whose file is never rewritten (the behaviour it
gave is restored byte for byte); version 0 is the calibration the model came with. The
configured calibration (`service.components.build_calibration`) is the active version when
there is one.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from corpus.errors import JiebangError
from corpus.files import atomic_write
from matcher.calibration import Calibration, load_calibration

ACTIVE = "active.json"


class Version(BaseModel):
    """One adopted calibration."""

    version: int
    adopted_at: str
    judgments: int
    challenges: int
    summary: dict
    active: bool = False


def versions_folder(root: Path, model_id: str) -> Path:
    """Where the versions of `model_id`'s calibration live under `root` (a folder per model)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model_id).name)[:40] or "model"
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:8]
    return root / f"{slug}-{digest}"


class CalibrationVersions:
    """The adopted calibrations of one model."""

    def __init__(self, root: Path, model_id: str) -> None:
        self.model_id = model_id
        self.folder = versions_folder(root, model_id)

    def _path(self, version: int) -> Path:
        return self.folder / f"v{version:04d}.json"

    def active_version(self) -> int:
        """The adopted version in use; 0 when none is (the model's own calibration)."""
        pointer = self.folder / ACTIVE
        if not pointer.is_file():
            return 0
        return int(json.loads(pointer.read_text(encoding="utf-8"))["version"])

    def active(self) -> Calibration | None:
        """The active adopted calibration, or None (use the model's own)."""
        version = self.active_version()
        return load_calibration(self._path(version), self.model_id) if version else None

    def history(self) -> list[Version]:
        """Every adopted version, oldest first, the active one marked."""
        active = self.active_version()
        found = []
        for meta in sorted(self.folder.glob("v*.meta.json")):
            record = Version.model_validate_json(meta.read_text(encoding="utf-8"))
            found.append(record.model_copy(update={"active": record.version == active}))
        return found

    def adopt(
        self, calibration: Calibration, *, judgments: int, challenges: int, summary: dict
    ) -> Version:
        """Store `calibration` as the next version and make it active."""
        calibration.require_model(self.model_id)
        version = max((v.version for v in self.history()), default=0) + 1
        record = Version(
            version=version,
            adopted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            judgments=judgments,
            challenges=challenges,
            summary=summary,
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        calibration.save(self._path(version))
        atomic_write(
            self.folder / f"v{version:04d}.meta.json", record.model_dump_json(indent=1).encode()
        )
        self._point(version)
        return record.model_copy(update={"active": True})

    def rollback(self, version: int) -> None:
        """Make `version` active again (0: the model's own calibration)."""
        known = {v.version for v in self.history()}
        if version != 0 and version not in known:
            listed = ", ".join(str(v) for v in sorted(known)) or "none"
            raise JiebangError(f"no adopted calibration version {version} (versions: {listed}; 0 "
                               "is the model's own)")  # fmt: skip
        self._point(version)

    def _point(self, version: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / ACTIVE, json.dumps({"version": version}).encode())
