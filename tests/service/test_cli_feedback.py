"""`jiebang feedback export` and `jiebang eval run --feedback` in subprocesses, on a real demo
index and a real database holding judgments as the API stores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.catalogue import builtin_catalogue
from service.db import Database
from tests.conftest import cli_environment
from tests.service.test_cli_core import run

CAPABLE, OFF = "ZJ2021-15-01", "ZJ2021-06-01"


@pytest.fixture(scope="module")
def indexed(test_home, tmp_path_factory) -> dict[str, str]:
    """A demo index and the URL of a database beside it (not created yet)."""
    folder = tmp_path_factory.mktemp("feedback-cli")
    env = cli_environment(test_home, folder / "index")
    env["JIEBANG_DATABASE_URL"] = f"sqlite:///{folder / 'jiebang.db'}"
    out = run(env, "index", "build")
    assert out.returncode == 0, out.stderr
    return env


def ranked(env: dict[str, str], challenge_id: str) -> list[str]:
    out = run(env, "match", "--challenge", challenge_id, "--top", "10", "--json")
    assert out.returncode == 0, out.stderr
    return [row["org_id"] for row in json.loads(out.stdout)]


def one_line_error(out, says: str) -> None:
    assert out.returncode == 1 and says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_with_no_judgments_export_and_feedback_are_one_line_errors(indexed, tmp_path) -> None:
    one_line_error(run(indexed, "feedback", "export", "--out", str(tmp_path)), "no judgments")
    database = Database(indexed["JIEBANG_DATABASE_URL"])
    database.upgrade()  # the schema, still empty
    database.dispose()
    one_line_error(run(indexed, "feedback", "export", "--out", str(tmp_path)), "no judgments")
    one_line_error(run(indexed, "eval", "run", "--feedback"), "no judgments")
    one_line_error(run(indexed, "eval", "run", "--feedback", "--dataset", "csl-title"), "one of")
    one_line_error(run(indexed, "eval", "run", "--feedback", "--method", "dense"), "--method")
    assert not list(tmp_path.iterdir())


def test_export_reads_back_in_eval_run_and_feedback_measures_the_page_ranking(
    indexed, tmp_path: Path
) -> None:
    catalogue = {c.id: c for c in builtin_catalogue().challenges}
    capable, off = ranked(indexed, CAPABLE), ranked(indexed, OFF)
    database = Database(indexed["JIEBANG_DATABASE_URL"])
    database.upgrade()

    def judge(challenge_id: str, org_id: str, grade: int, text: str | None = None) -> None:
        challenge = catalogue.get(challenge_id)
        text = text or challenge.query_text
        area = challenge.area if challenge else None
        database.add_judgment(challenge_id, org_id, grade, None, text, area, "0" * 64)

    judge(CAPABLE, capable[0], 0)
    judge(CAPABLE, capable[0], 2)  # replaces the 0: the top candidate is a hit
    judge(CAPABLE, capable[1], 1)
    judge(CAPABLE, "org-deleted-since", 2)  # no longer indexed: left out, and said
    judge(OFF, off[0], 0)  # the top candidate judged not relevant …
    judge(OFF, off[3], 2)  # … the capable one ranked 4th: a miss at 1, found within 10
    judge("U-edited", off[5], 0, "数控机床：旧的文字")
    judge("U-edited", off[6], 0, "数控机床：改过的文字")  # the latest text is the query's
    database.dispose()

    out_dir = tmp_path / "set"
    exported = run(indexed, "feedback", "export", "--out", str(out_dir))
    assert exported.returncode == 0, exported.stderr
    assert "wrote 3 judged challenges" in exported.stdout
    assert "wrote 6 judgments (3 graded 相关 or 能承担)" in exported.stdout
    assert "wrote 124 evidence passages of 124 organisations" in exported.stdout
    assert "left out 1 judgment of organisations the index does not hold" in exported.stdout

    def lines(name: str) -> list[dict]:
        return [json.loads(line) for line in (out_dir / name).read_text("utf-8").splitlines()]

    assert lines("queries.jsonl") == [
        {"id": "U-edited", "text": "数控机床：改过的文字"},
        {"id": OFF, "text": catalogue[OFF].query_text},
        {"id": CAPABLE, "text": catalogue[CAPABLE].query_text},
    ]
    qrels = {(r["qid"], r["docid"]): r["relevance"] for r in lines("qrels.jsonl")}
    assert qrels == {
        ("U-edited", off[5]): 0,
        ("U-edited", off[6]): 0,
        (OFF, off[0]): 0,
        (OFF, off[3]): 2,
        (CAPABLE, capable[0]): 2,
        (CAPABLE, capable[1]): 1,
    }
    corpus = lines("corpus.jsonl")
    assert len({doc["id"] for doc in corpus}) == len(corpus) == 124
    assert {doc["group"] for doc in corpus} >= {org for _, org in qrels}

    files = [f"--{name}={out_dir / f'{name}.jsonl'}" for name in ("corpus", "queries", "qrels")]
    measured = run(indexed, "eval", "run", *files)
    assert measured.returncode == 0, measured.stderr
    report = json.loads(measured.stdout)
    assert (report["queries"], report["candidates"]) == (2, 124)  # U-edited has no grade > 0
    assert 0 < report["metrics"]["ndcg@10"] <= 1

    feedback = run(indexed, "eval", "run", "--feedback")
    assert feedback.returncode == 0, feedback.stderr
    report = json.loads(feedback.stdout)
    assert report["dataset"] == "feedback"
    assert (report["challenges"], report["queries"], report["pairs"]) == (3, 2, 6)
    assert (report["relevant_pairs"], report["unindexed_pairs"]) == (3, 1)
    assert set(report["metrics"]) == {"ndcg@10", "recall@10", "map", "hit@1"}
    assert report["metrics"]["hit@1"] == 0.5  # CAPABLE's top is graded 2, OFF's is graded 0
    assert report["metrics"]["recall@10"] == 1.0
    assert report["metrics"]["map"] == pytest.approx((1.0 + 1 / 4) / 2)
