"""The checks behind `jiebang doctor`: the encoding backend, index ↔ database, calibration ↔
model."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.errors import JiebangError
from embed.backends import default_backend
from embed.embedder import Embedder
from matcher.engine import MatchEngine
from service.components import build_calibration
from service.db import Database
from service.settings import Settings
from service.usecases.engine import open_engine


@dataclass
class HealthReport:
    """What disagrees; empty lists mean healthy."""

    missing: list[str] = field(default_factory=list)  # in the database, not (as recorded) indexed
    undeleted: list[str] = field(default_factory=list)  # deleted in the database, still indexed
    calibration_error: str | None = None
    index_error: str | None = None
    encoding: str = ""  # which backend encodes, and why (informational)

    @property
    def index_problems(self) -> bool:
        return bool(self.missing or self.undeleted)

    @property
    def problems(self) -> bool:
        return self.index_problems or bool(self.calibration_error or self.index_error)

    def lines(self) -> list[str]:
        out = [self.encoding] if self.encoding else []
        if self.index_error:
            out.append(f"index: {self.index_error}")
        if self.calibration_error:
            out.append(f"calibration: {self.calibration_error}")
        if self.missing:
            out.append(f"index lacks {len(self.missing)} organisation(s) the database has: "
                       + ", ".join(self.missing[:10]))  # fmt: skip
        if self.undeleted:
            out.append(f"index still holds {len(self.undeleted)} deleted organisation(s): "
                       + ", ".join(self.undeleted[:10]))  # fmt: skip
        if not self.problems:
            out.append("ok: the index agrees with the database, the calibration with the model")
        return out


def check(settings: Settings, embedder: Embedder, database: Database) -> HealthReport:
    """Compare the saved index with the database, and its calibration with the model."""
    report = HealthReport(encoding=encoding_line(settings))
    try:
        engine = open_engine(settings, embedder)
    except JiebangError as error:
        report.index_error = str(error)
        return report
    try:
        engine.calibration.require_model(embedder.model_id)
        build_calibration(settings).require_model(embedder.model_id)
    except JiebangError as error:
        report.calibration_error = str(error)
    for row in database.organisation_rows():
        if row.deleted and row.id in engine.organisations:
            report.undeleted.append(row.id)
        elif not row.deleted and not engine.indexes(row.to_model()):
            report.missing.append(row.id)
    return report


def encoding_line(settings: Settings) -> str:
    """The backend that encodes texts, and why it is the one."""
    choice = default_backend(settings.model)
    if settings.backend is choice.backend:
        return f"encoding: {choice.backend}, the default here: {choice.reason}"
    return (
        f"encoding: {settings.backend}, set by JIEBANG_BACKEND (the default here would be "
        f"{choice.backend}: {choice.reason})"
    )


def repair_index(settings: Settings, embedder: Embedder, database: Database) -> ReconcileReport:
    """Re-apply the database to the index and save it (what the service does at start-up)."""
    engine = open_engine(settings, embedder)
    fixed = reconcile(engine, database)
    engine.save(settings.resolved_index_dir)
    return fixed


@dataclass(frozen=True)
class ReconcileReport:
    """How many index updates it took to bring the index in line with the database."""

    upserted: int
    removed: int


def reconcile(engine: MatchEngine, db: Database) -> ReconcileReport:
    """Apply the database's organisations (live and deleted) to the engine, incrementally."""
    upserted = removed = 0
    for row in db.organisation_rows():
        present = engine.organisations.get(row.id)
        if row.deleted:
            if present is not None:
                engine.remove_organisation(row.id)
                removed += 1
            continue
        wanted = row.to_model()
        if not engine.indexes(wanted):  # the record, and its passages: a crash may split them
            engine.upsert_organisation(wanted)
            upserted += 1
    return ReconcileReport(upserted, removed)
