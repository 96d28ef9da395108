"""`eval run` end to end on the fixture set, with the real model and a real FAISS index."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.dataset import CorpusDoc, Dataset, load_dataset
from eval.metrics import evaluate
from eval.runner import evidence_docs, run_eval
from eval.runs import load_run
from service.cli.eval_cmd import app

FIXTURES = Path(__file__).parent / "fixtures"
FILES = [FIXTURES / name for name in ("corpus.jsonl", "queries.jsonl", "qrels.jsonl")]


@pytest.fixture(scope="module")
def fixture_set():
    return load_dataset(*FILES)


def test_run_ranks_groups_and_scores_the_run(embedder, fixture_set):
    result = run_eval(fixture_set, embedder, "dense", progress=False)
    assert result.queries == 5 and result.candidates == 5
    assert set(result.run) == set(fixture_set.queries)
    for ranking in result.run.values():
        assert set(ranking) <= fixture_set.candidate_ids, "runs are at group level"
        scores = list(ranking.values())
        assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert result.metrics == evaluate(fixture_set.qrels, result.run)
    assert set(result.baselines) == {"dense-max", "tfidf-max", "z-fusion"}
    assert result.unjudged_at_10 >= 0
    # Four queries name their organisation's speciality outright; the model must find them.
    assert result.metrics["hit@1"] >= 0.8


def test_evidence_keeps_groups_and_ungrouped_documents_own_one(fixture_set):
    docs = evidence_docs(fixture_set)
    assert [doc.group for doc in docs[:2]] == ["虚构·明湖光刻材料"] * 2
    assert docs[0].text.startswith("ArF光刻胶树脂。")
    plain = Dataset("plain", [CorpusDoc(id="d1", text="光刻胶")], {"q": "光刻"}, {"q": {"d1": 1}})
    assert [(doc.id, doc.group) for doc in evidence_docs(plain)] == [("d1", "d1")]


@pytest.mark.parametrize("method", ["dense", "lexical", "hybrid"])
def test_cli_run_prints_metrics_and_saves_a_group_level_run(
    tmp_path, monkeypatch, test_home, method
):
    monkeypatch.setenv("JIEBANG_HOME", str(test_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = tmp_path / "runs" / f"{method}.json"
    args = ["run", "--corpus", FILES[0], "--queries", FILES[1], "--qrels", FILES[2]]
    args += ["--method", method]
    result = CliRunner().invoke(app, [str(arg) for arg in [*args, "--save-run", saved]])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["method"] == method and printed["queries"] == 5
    assert set(printed["metrics"]) >= {"ndcg@10", "mrr@10", "map", "recall@10", "p@10", "hit@1"}
    run = load_run(saved)
    assert set(run) == {"q1", "q2", "q3", "q4", "q5"}
    assert all(group.startswith("虚构·") for ranking in run.values() for group in ranking)


def test_cli_run_needs_a_complete_set_of_files(tmp_path):
    result = CliRunner().invoke(app, ["run", "--corpus", str(FILES[0])])
    assert result.exit_code == 1
    assert "give --corpus, --queries and --qrels together" in result.output
