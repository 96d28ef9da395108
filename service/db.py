"""Persistence for the service: posted challenges, organisations, bulk jobs, match results and
the users' judgments of candidates.

The database is the source of truth for everything posted through the API; the vector index is
brought in line with it at start-up. SQLite (a file under JIEBANG_HOME) by default, any
SQLAlchemy URL (PostgreSQL) by configuration. The schema is created and upgraded by Alembic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from corpus.models import Challenge, Organisation


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ChallengeRow(Base):
    """A challenge posted by a user (the built-in catalogue is not stored)."""

    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    area: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_model(self) -> Challenge:
        return Challenge.model_validate(self.data)


class OrganisationRow(Base):
    """An organisation added or deleted through the API.

    A deleted organisation keeps its row as a tombstone (`deleted=True`), so one that also lives
    in the base index (e.g. the demo corpus) is removed again whenever the index is reloaded.
    """

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_model(self) -> Organisation:
        return Organisation.model_validate(self.data)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


UNFINISHED = (JobStatus.queued, JobStatus.running)
FINISHED = (JobStatus.done, JobStatus.failed, JobStatus.cancelled)


class JobRow(Base):
    """A background job (bulk patent matching): its progress, totals and where its result is."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.queued)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    input_path: Mapped[str] = mapped_column(Text)
    result_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_expires: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class MatchResultRow(Base):
    """The latest ranking computed for a challenge under one set of parameters."""

    __tablename__ = "match_results"
    __table_args__ = (UniqueConstraint("challenge_id", "params_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[str] = mapped_column(String(128), index=True)
    params_key: Mapped[str] = mapped_column(String(400))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _table(model: type[Base]) -> Table:
    """A mapped class's `Table` (declarative types `__table__` as any FROM clause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


MATCH_RESULTS = _table(MatchResultRow)


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE/DELETE matched (its result is a `CursorResult`, typed as any result)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected a CursorResult, got {type(result).__name__}")
    return result.rowcount


GRADES = (0, 1, 2)
"""A judgment's grades: 0 not relevant (不相关), 1 relevant (相关), 2 can take it on (能承担)."""


class JudgmentRow(Base):
    """One grade a user gave a candidate organisation for a challenge.

    Rows are only ever appended: the current judgment of a (challenge, organisation) pair is its
    latest row (highest id), the earlier ones are its history. The challenge's text is kept as it
    was when judged, so a judgment stays meaningful after the challenge is edited or deleted.
    """

    __tablename__ = "judgments"
    __table_args__ = (
        CheckConstraint("grade IN (0, 1, 2)", name="ck_judgments_grade"),
        Index("ix_judgments_pair", "challenge_id", "org_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[str] = mapped_column(String(128))
    org_id: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    challenge_text: Mapped[str] = mapped_column(Text)
    challenge_area: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_model(self) -> Judgment:
        return Judgment.model_validate(self, from_attributes=True)


class Judgment(BaseModel):
    """A stored judgment, detached from the database (what the API and the refit read)."""

    id: int
    challenge_id: str
    org_id: str
    grade: int
    note: str | None
    challenge_text: str
    challenge_area: str | None
    key_hash: str
    created_at: datetime

    @property
    def by(self) -> str:
        """A short fingerprint of the key that wrote it (its hash's first 8 hex digits)."""
        return self.key_hash[:8]


# Dialects with INSERT … ON CONFLICT, the two the service supports.
_INSERTS: dict[str, Callable[[Any], SqliteInsert | PostgresqlInsert]] = {
    "sqlite": sqlite_insert,
    "postgresql": postgresql_insert,
}


def _migrations_config(url: str) -> Config:
    package = resources.files("service")
    config = Config(str(package / "alembic.ini"))
    config.set_main_option("script_location", str(package / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """An engine, a session factory and the repository functions the API needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            url, json_serializer=lambda value: json.dumps(value, ensure_ascii=False)
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        config = _migrations_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    # -- challenges -----------------------------------------------------------------------

    def add_challenge(self, challenge: Challenge) -> None:
        with self.session() as session:
            session.add(
                ChallengeRow(
                    id=challenge.id,
                    area=challenge.area,
                    text=challenge.text,
                    data=challenge.model_dump(mode="json"),
                )
            )

    def put_challenges(self, challenges: list[Challenge]) -> int:
        """Insert or replace `challenges` in one transaction (all or none); how many were new.

        A replaced challenge's stored rankings are dropped: they ranked the old text.
        """
        new = 0
        with self.session() as session:
            for challenge in challenges:
                row = session.get(ChallengeRow, challenge.id)
                if row is None:
                    new += 1
                    row = ChallengeRow(id=challenge.id)
                    session.add(row)
                elif row.data != challenge.model_dump(mode="json"):
                    session.execute(
                        MATCH_RESULTS.delete().where(MatchResultRow.challenge_id == challenge.id)
                    )
                row.area = challenge.area
                row.text = challenge.text
                row.data = challenge.model_dump(mode="json")
        return new

    def get_challenge(self, challenge_id: str) -> Challenge | None:
        with self.session() as session:
            row = session.get(ChallengeRow, challenge_id)
            return row.to_model() if row else None

    def list_challenges(self) -> list[Challenge]:
        with self.session() as session:
            rows = session.scalars(select(ChallengeRow).order_by(ChallengeRow.created_at))
            return [row.to_model() for row in rows]

    def update_challenge(self, challenge: Challenge) -> bool:
        """Replace a posted challenge's area and text (its creation time stays); its stored
        rankings, made for the old text, go. False when there is no such challenge."""
        with self.session() as session:
            row = session.get(ChallengeRow, challenge.id)
            if row is None:
                return False
            row.area, row.text = challenge.area, challenge.text
            row.data = challenge.model_dump(mode="json")
            session.execute(
                MATCH_RESULTS.delete().where(MatchResultRow.challenge_id == challenge.id)
            )
            return True

    def delete_challenge(self, challenge_id: str) -> bool:
        with self.session() as session:
            row = session.get(ChallengeRow, challenge_id)
            if row is None:
                return False
            session.delete(row)
            session.execute(
                MATCH_RESULTS.delete().where(MatchResultRow.challenge_id == challenge_id)
            )
            return True

    # -- organisations --------------------------------------------------------------------

    def put_organisation(self, organisation: Organisation) -> bool:
        """Insert or replace an organisation; True when it was new (or had been deleted)."""
        return self._write_organisation(organisation, deleted=False)

    def delete_organisation(self, organisation: Organisation) -> None:
        """Record the deletion as a tombstone, so it is never re-added from an older index."""
        self._write_organisation(organisation, deleted=True)

    def _write_organisation(self, organisation: Organisation, *, deleted: bool) -> bool:
        """Upsert the organisation's row with its deletion flag; True when it was not live."""
        with self.session() as session:
            row = session.get(OrganisationRow, organisation.id)
            was_absent = row is None or row.deleted
            if row is None:
                row = OrganisationRow(id=organisation.id)
                session.add(row)
            row.name = organisation.name
            row.kind = organisation.kind.value
            row.data = organisation.model_dump(mode="json")
            row.deleted = deleted
            row.updated_at = utcnow()
            return was_absent

    def organisation_rows(self) -> list[OrganisationRow]:
        """Every organisation row, live and deleted, in the order they were last changed."""
        with self.session() as session:
            return list(
                session.scalars(select(OrganisationRow).order_by(OrganisationRow.updated_at))
            )

    # -- match results --------------------------------------------------------------------

    def save_result(self, challenge_id: str, params_key: str, result: dict[str, Any]) -> None:
        """Insert or replace the ranking for (challenge, params) in one statement (no race)."""
        values = {
            "challenge_id": challenge_id,
            "params_key": params_key,
            "result": result,
            "computed_at": utcnow(),
        }
        insert = _INSERTS[self.engine.dialect.name](MatchResultRow).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=["challenge_id", "params_key"],
            set_={"result": insert.excluded.result, "computed_at": insert.excluded.computed_at},
        )
        with self.session() as session:
            session.execute(statement)

    def results_for(self, challenge_id: str) -> list[MatchResultRow]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(MatchResultRow)
                    .where(MatchResultRow.challenge_id == challenge_id)
                    .order_by(MatchResultRow.computed_at.desc())
                )
            )

    # -- jobs -----------------------------------------------------------------------------

    def add_job(self, job: JobRow) -> None:
        with self.session() as session:
            session.add(job)

    def get_job(self, job_id: str) -> JobRow | None:
        with self.session() as session:
            return session.get(JobRow, job_id)

    def update_job(self, job_id: str, **fields: Any) -> None:
        with self.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                return
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()

    def unfinished_jobs(self) -> list[JobRow]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(JobRow).where(JobRow.status.in_(UNFINISHED)).order_by(JobRow.created_at)
                )
            )

    # A lease says which process runs a job, until when. Claiming is one conditional UPDATE, so
    # of two processes racing for a job exactly one wins; a lease not renewed expires and the
    # job is taken over.

    def claim_job(self, job_id: str, owner: str, seconds: float) -> bool:
        """Take the job's lease if it is unfinished and free (or expired, or already ours)."""
        now = utcnow()
        with self.session() as session:
            taken = session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status.in_(UNFINISHED),
                    or_(
                        JobRow.owner.is_(None),
                        JobRow.owner == owner,
                        JobRow.lease_expires < now,
                    ),
                )
                .values(
                    owner=owner,
                    lease_expires=now + timedelta(seconds=seconds),
                    status=JobStatus.running,
                    updated_at=now,
                )
            )
            return _rowcount(taken) == 1

    def renew_lease(self, job_id: str, owner: str, seconds: float) -> bool:
        """Extend our lease; False when it is no longer ours (taken over, or the job ended)."""
        now = utcnow()
        with self.session() as session:
            renewed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.owner == owner, JobRow.status.in_(UNFINISHED))
                .values(lease_expires=now + timedelta(seconds=seconds))
            )
            return _rowcount(renewed) == 1

    def release_job(self, job_id: str, owner: str, **fields: Any) -> None:
        """Give the lease up (setting `fields`, e.g. the final status), if it is still ours."""
        with self.session() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.owner == owner)
                .values(owner=None, lease_expires=None, updated_at=utcnow(), **fields)
            )

    def claimable_jobs(self) -> list[str]:
        """Unfinished jobs nobody holds a live lease on, oldest first."""
        now = utcnow()
        with self.session() as session:
            return list(
                session.scalars(
                    select(JobRow.id)
                    .where(
                        JobRow.status.in_(UNFINISHED),
                        or_(JobRow.owner.is_(None), JobRow.lease_expires < now),
                    )
                    .order_by(JobRow.created_at)
                )
            )

    def cancel_job(self, job_id: str) -> bool:
        """Mark an unfinished job cancelled (its runner stops at the next window)."""
        with self.session() as session:
            done = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(UNFINISHED))
                .values(status=JobStatus.cancelled, updated_at=utcnow())
            )
            return _rowcount(done) == 1

    def expired_jobs(self, before: datetime) -> list[JobRow]:
        """Finished jobs last updated before `before` (retention)."""
        with self.session() as session:
            return list(
                session.scalars(
                    select(JobRow).where(JobRow.status.in_(FINISHED), JobRow.updated_at < before)
                )
            )

    def delete_job(self, job_id: str) -> None:
        with self.session() as session:
            row = session.get(JobRow, job_id)
            if row is not None:
                session.delete(row)

    def key_usage(self, key_hash: str) -> tuple[int, int]:
        """(unfinished jobs, their upload bytes) submitted with this key."""
        with self.session() as session:
            count, size = session.execute(
                select(func.count(JobRow.id), func.coalesce(func.sum(JobRow.input_bytes), 0)).where(
                    JobRow.key_hash == key_hash, JobRow.status.in_(UNFINISHED)
                )
            ).one()
            return int(count), int(size or 0)  # coalesce makes it 0 already: for the checker

    # -- judgments ------------------------------------------------------------------------

    def add_judgment(
        self,
        challenge_id: str,
        org_id: str,
        grade: int,
        note: str | None,
        challenge_text: str,
        challenge_area: str | None,
        key_hash: str,
    ) -> JudgmentRow:
        """Append a judgment; it becomes the pair's current one (the earlier ones stay)."""
        if grade not in GRADES:
            raise ValueError(f"grade must be one of {GRADES}, not {grade!r}")
        row = JudgmentRow(
            challenge_id=challenge_id,
            org_id=org_id,
            grade=grade,
            note=note,
            challenge_text=challenge_text,
            challenge_area=challenge_area,
            key_hash=key_hash,
            created_at=utcnow(),
        )
        with self.session() as session:
            session.add(row)
        return row

    def judgments(
        self,
        *,
        challenge_id: str | None = None,
        history: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[JudgmentRow], int]:
        """(a page of judgments, newest first; how many there are in all).

        The current judgment of each (challenge, organisation) pair by default; with `history`,
        every row ever written. `challenge_id` keeps one challenge's.
        """
        chosen = select(JudgmentRow)
        if challenge_id is not None:
            chosen = chosen.where(JudgmentRow.challenge_id == challenge_id)
        if not history:
            latest = select(func.max(JudgmentRow.id)).group_by(
                JudgmentRow.challenge_id, JudgmentRow.org_id
            )
            if challenge_id is not None:
                latest = latest.where(JudgmentRow.challenge_id == challenge_id)
            chosen = chosen.where(JudgmentRow.id.in_(latest))
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(chosen.subquery()))
            page = chosen.order_by(JudgmentRow.id.desc()).offset(offset).limit(limit)
            return list(session.scalars(page)), int(total or 0)
