"""Comparison reports: the table, the p-values, and real PNG plots in Markdown and HTML."""

import json

import pytest
from matplotlib.image import imread

from corpus.errors import JiebangError
from eval.report import compare_runs, write_report

QRELS = {f"q{i}": {"right": 1} for i in range(40)}
# The baseline ranks the right answer second on every query; the new run ranks it first on 30.
BASELINE = {qid: {"wrong": 0.9, "right": 0.8} for qid in QRELS}
IMPROVED = {
    qid: {"wrong": 0.9, "right": 0.8} if i >= 30 else {"right": 0.9, "wrong": 0.1}
    for i, qid in enumerate(QRELS)
}
METRICS = ["mrr@10", "hit@1"]


@pytest.fixture(scope="module")
def comparison():
    return compare_runs(QRELS, {"基线": BASELINE, "改进": IMPROVED}, METRICS)


def test_comparison_numbers(comparison):
    assert comparison.judged_queries == 40
    baseline, improved = comparison.intervals["基线"], comparison.intervals["改进"]
    assert baseline["mrr@10"] == (0.5, 0.5, 0.5)
    assert improved["hit@1"].mean == pytest.approx(0.75)
    assert improved["hit@1"].low < 0.75 < improved["hit@1"].high
    assert comparison.p_values["改进"]["mrr@10"] < 1e-6


def test_report_files(tmp_path, comparison):
    written = write_report(comparison, tmp_path)
    assert sorted(path.name for path in written) == [
        "metrics.png",
        "per_query_diff.png",
        "report.html",
        "report.json",
        "report.md",
    ]
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| mrr@10 | 基线 | 0.500 | 0.500–0.500 | — | — |" in markdown
    assert "| hit@1 | 改进 | 0.750 |" in markdown
    assert "![metrics](metrics.png)" in markdown
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    assert page.count('src="data:image/png;base64,') == 2
    numbers = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert numbers["scores"]["改进"]["hit@1"]["mean"] == pytest.approx(0.75)
    for plot in ("metrics.png", "per_query_diff.png"):
        pixels = imread(tmp_path / plot)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 600
        assert pixels.std() > 0.05, f"{plot} looks blank"


def test_single_run_report_has_no_difference_plot(tmp_path):
    written = write_report(compare_runs(QRELS, {"only": BASELINE}, METRICS), tmp_path)
    assert "per_query_diff.png" not in [path.name for path in written]


def test_empty_run_cannot_be_compared():
    with pytest.raises(JiebangError, match="the run is empty"):
        compare_runs(QRELS, {"base": BASELINE, "empty": {}}, METRICS)
