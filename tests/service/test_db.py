"""The service database: Alembic builds exactly the models' schema; repository round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from corpus.models import Challenge, Organisation
from service.db import Base, Database, JobRow, JobStatus, JudgmentRow


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


def test_put_challenges_inserts_or_replaces_in_one_go(db: Database) -> None:
    first = [
        Challenge(id=f"F-{n}", area="氢能装备", text=f"储氢瓶{n}", source="posted", issuer="甲")
        for n in range(3)
    ]
    assert db.put_challenges(first) == 3
    db.save_result("F-0", "top=10", {"candidates": []})
    db.save_result("F-1", "top=10", {"candidates": []})
    changed = [first[0].model_copy(update={"text": "储氢瓶0（修订）"}), first[1]]
    assert db.put_challenges(changed) == 0  # both replaced, none new
    assert db.get_challenge("F-0").text == "储氢瓶0（修订）"
    assert db.get_challenge("F-0").issuer == "甲"  # the new fields live in the row's data
    assert db.results_for("F-0") == []  # it ranked the old text
    assert len(db.results_for("F-1")) == 1  # unchanged: its ranking stands
    assert [c.id for c in db.list_challenges()] == ["F-0", "F-1", "F-2"]


def test_migrations_build_the_models_schema_and_are_idempotent(db: Database) -> None:
    db.upgrade()
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {"challenges", "organisations", "jobs", "match_results", "judgments"} <= tables


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


def judge(db: Database, challenge: str, org: str, grade: int, note: str | None = None):
    return db.add_judgment(
        challenge, org, grade, note, f"领域：{challenge}的文字", "领域", "ab" * 32
    )


def test_judgments_round_trip_and_a_later_grade_replaces_the_current_one(db: Database) -> None:
    first = judge(db, "ZJ2021-06-01", "demo-002", 1, "有中试线")
    stored = first.to_model()
    assert (stored.grade, stored.note, stored.challenge_text) == (
        1,
        "有中试线",
        "领域：ZJ2021-06-01的文字",
    )
    assert (stored.challenge_area, stored.by) == ("领域", "abababab")
    assert stored.created_at.tzinfo is not None and stored.id == first.id
    judge(db, "ZJ2021-06-01", "demo-003", 0)
    later = judge(db, "ZJ2021-06-01", "demo-002", 2, "电话确认能承担")

    current, total = db.judgments(challenge_id="ZJ2021-06-01")
    assert total == 2
    assert [(row.org_id, row.grade, row.note) for row in current] == [
        ("demo-002", 2, "电话确认能承担"),  # newest first; the earlier grade 1 is no longer current
        ("demo-003", 0, None),
    ]
    history, total = db.judgments(challenge_id="ZJ2021-06-01", history=True)
    assert total == 3
    assert [row.id for row in history] == [later.id, later.id - 1, first.id]
    assert [row.grade for row in history if row.org_id == "demo-002"] == [2, 1]
    assert db.judgments(challenge_id="NOPE") == ([], 0)


def test_judgments_page_newest_first_with_the_total(db: Database) -> None:
    for n in range(7):
        judge(db, f"U-{n % 3}", f"org-{n}", n % 3)
    judge(db, "U-0", "org-0", 2)  # replaces org-0's grade 0: still 7 current pairs
    everything, total = db.judgments()
    assert total == 7 and len(everything) == 7
    pages = [db.judgments(offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [page_total for _, page_total in pages] == [7, 7, 7]
    assert [row.id for rows, _ in pages for row in rows] == [row.id for row in everything]
    assert [row.id for row in everything] == sorted((row.id for row in everything), reverse=True)
    assert everything[0].org_id == "org-0" and everything[0].grade == 2
    assert db.judgments(history=True, offset=6, limit=10)[1] == 8
    assert len(db.judgments(history=True, offset=6, limit=10)[0]) == 2


def test_a_grade_outside_0_1_2_is_refused_by_the_database_too(db: Database) -> None:
    with pytest.raises(ValueError, match="grade"):
        judge(db, "U-1", "org-1", 3)
    with pytest.raises(IntegrityError), db.session() as session:  # the CHECK constraint
        session.add(
            JudgmentRow(challenge_id="U-1", org_id="o", grade=5, challenge_text="t", key_hash="k")
        )
    assert db.judgments(history=True) == ([], 0)
