"""`jiebang eval` commands on real files: compare runs, list the built-in sets, bad input."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.eval_cmd import app

FIXTURES = Path(__file__).parent / "fixtures"
QRELS = FIXTURES / "qrels.jsonl"
GROUPS = ["虚构·明湖光刻材料", "虚构·青峦高温合金研究所", "虚构·云栖边缘计算实验室"]
GROUPS.append("虚构·澄江质谱仪器")


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture
def run_files(tmp_path):
    """A perfect run (relevant group first) and a run that puts the relevant group last."""
    relevant = {
        "q1": GROUPS[0],
        "q2": GROUPS[1],
        "q3": GROUPS[2],
        "q4": GROUPS[3],
        "q5": GROUPS[0],
    }
    perfect = {q: {g: 1.0 if g == best else 0.5 for g in GROUPS} for q, best in relevant.items()}
    poor = {q: {g: 0.0 if g == best else 0.5 for g in GROUPS} for q, best in relevant.items()}
    paths = []
    for name, run in (("perfect", perfect), ("poor", poor)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_compare_writes_the_report(tmp_path, run_files):
    result = invoke("compare", *run_files, "--qrels", QRELS, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "perfect" in result.output and "poor" in result.output
    written = sorted(path.name for path in (tmp_path / "report").iterdir())
    expected = ["metrics.png", "per_query_diff.png", "report.html", "report.json", "report.md"]
    assert written == expected
    numbers = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert numbers["scores"]["perfect"]["mrr@10"]["mean"] == 1.0
    assert numbers["scores"]["poor"]["mrr@10"]["mean"] < 0.5


def test_compare_with_an_empty_run_fails_in_one_line(tmp_path, run_files):
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    result = invoke("compare", run_files[0], empty, "--qrels", QRELS, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "the run is empty" in result.output
    assert "Traceback" not in result.output


def test_compare_needs_exactly_one_source_of_judgements(tmp_path, run_files):
    result = invoke("compare", *run_files, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "exactly one of --qrels FILE or --dataset NAME" in result.output


def test_malformed_run_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"q1": {"a": "high"}}', encoding="utf-8")
    result = invoke("compare", bad, "--qrels", QRELS, "--out", tmp_path / "r")
    assert result.exit_code == 1
    assert "bad.json: query 'q1', 'a': score is not a number" in result.output


def test_datasets_lists_sizes(shared_data):
    result = invoke("datasets", "--data-dir", shared_data, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    sizes = {row["name"]: (row["judged_queries"], row["candidates"]) for row in rows}
    assert sizes == {
        "challenge-org": (82, 2787),
        "patent-area": (118, 15),
        "patents-applicant": (212, 212),
        "csl-discipline/dev": (1000, 67),
        "csl-discipline-evidence/dev": (1000, 67),
        "csl-title/dev": (1000, 2000),
    }


def test_datasets_without_the_data_dir_fails_clearly(tmp_path):
    result = invoke("datasets", "--data-dir", tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "nowhere not found; the built-in dev sets need it" in result.output
