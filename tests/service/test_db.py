"""The service database: Alembic builds exactly the models' schema; repository round trips."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from corpus.models import Challenge, Organisation
from service.db import Base, Database, JobRow, JobStatus


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """JIEBANG_TEST_POSTGRES_URL, or a throwaway PostgreSQL server started on loopback."""
    if url := os.environ.get("JIEBANG_TEST_POSTGRES_URL"):
        yield url
        return
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (Debian: postgresql) and no test URL")
    # PostgreSQL refuses to run as root; as root, run it as the `postgres` system user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="jiebang-pg-"))
    data.chmod(0o755)
    if as_user:
        shutil.chown(data, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = {"check": True, "capture_output": True}
    subprocess.run(
        [*as_user, initdb, "-D", str(data / "db"), "-A", "trust", "-U", "jiebang"], **run
    )
    options = f"-p {port} -k {data} -h 127.0.0.1"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data / "db"), "-o", options, "-l", str(data / "log"), "-w",
         "start"], **run,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://jiebang@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-m", "fast", "stop"], **run)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path: Path):
    if request.param == "postgresql":
        database = Database(request.getfixturevalue("postgres_url"))
        Base.metadata.drop_all(database.engine)
        with database.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    else:
        database = Database(f"sqlite:///{tmp_path / 'sub' / 'jiebang.db'}")
    database.upgrade()
    yield database
    database.dispose()


def test_migrations_build_the_models_schema_and_are_idempotent(db: Database) -> None:
    db.upgrade()
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {"challenges", "organisations", "jobs", "match_results", "alembic_version"} <= tables


def test_challenges_and_results_round_trip(db: Database) -> None:
    challenge = Challenge(id="U-1", area="氢能装备", text="高压储氢瓶", source="posted")
    db.add_challenge(challenge)
    assert db.get_challenge("U-1") == challenge
    db.save_result("U-1", "top=10", {"candidates": [1]})
    db.save_result("U-1", "top=10", {"candidates": [2]})
    rows = db.results_for("U-1")
    assert [row.result for row in rows] == [{"candidates": [2]}]
    assert rows[0].computed_at.tzinfo is not None
    assert db.delete_challenge("U-1")
    assert db.get_challenge("U-1") is None
    assert db.results_for("U-1") == []
    assert not db.delete_challenge("U-1")


def test_organisations_keep_tombstones(db: Database) -> None:
    org = Organisation(id="o-1", name="甲公司（示例）", kind="enterprise", capability="精密铸造")
    assert db.put_organisation(org) is True
    assert db.put_organisation(org) is False
    db.delete_organisation(org)
    rows = db.organisation_rows()
    assert [(row.id, row.deleted) for row in rows] == [("o-1", True)]
    assert db.put_organisation(org) is True
    assert db.organisation_rows()[0].to_model() == org


def test_jobs_progress_and_unfinished(db: Database) -> None:
    db.add_job(JobRow(id="j1", kind="patents.match", status=JobStatus.queued, progress=0,
                      totals={}, params={}, input_path="in.jsonl"))  # fmt: skip
    db.update_job("j1", status=JobStatus.running, progress=5)
    assert [job.id for job in db.unfinished_jobs()] == ["j1"]
    db.update_job("j1", status=JobStatus.done, progress=9)
    job = db.get_job("j1")
    assert (job.status, job.progress) == ("done", 9)
    assert db.unfinished_jobs() == []
