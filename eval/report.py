"""Side-by-side comparison of runs: numbers, Markdown and HTML reports, PNG plots.

The first run is the baseline: every later run gets a paired p-value against it, and the
per-query plot shows how the second run differs from the first, query by query.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from corpus.errors import JiebangError
from corpus.figures import figure_style
from eval.dataset import Qrels
from eval.metrics import (
    DEFAULT_METRICS,
    Interval,
    StatTest,
    bootstrap_ci,
    paired_p_values,
    per_query,
)
from eval.runs import RunScores

METRICS_PLOT = "metrics.png"
DIFF_PLOT = "per_query_diff.png"


@dataclass(frozen=True)
class Comparison:
    """Everything a report shows, computed once."""

    runs: list[str]
    metrics: list[str]
    judged_queries: int
    intervals: dict[str, dict[str, Interval]]
    """run → metric → mean with its bootstrap confidence interval."""
    p_values: dict[str, dict[str, float]]
    """later run → metric → paired p-value against the first run."""
    per_query: dict[str, dict[str, dict[str, float]]]
    """run → metric → qid → score."""
    test: StatTest
    level: float

    def to_dict(self) -> dict:
        """Plain numbers, for report.json."""
        return {
            "runs": self.runs,
            "metrics": self.metrics,
            "judged_queries": self.judged_queries,
            "confidence_level": self.level,
            "stat_test": self.test,
            "scores": {
                run: {metric: interval._asdict() for metric, interval in by_metric.items()}
                for run, by_metric in self.intervals.items()
            },
            "p_values_vs_first": self.p_values,
        }


def compare_runs(
    qrels: Qrels,
    runs: Mapping[str, RunScores],
    metrics: Sequence[str] = DEFAULT_METRICS,
    test: StatTest = "student",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """Score every run, bootstrap each mean, and test each later run against the first."""
    if not runs:
        raise JiebangError("no runs to compare")
    scores = {name: per_query(qrels, run, metrics) for name, run in runs.items()}
    intervals = {
        name: {
            metric: bootstrap_ci(list(by_query.values()), n=n_boot, seed=seed, level=level)
            for metric, by_query in by_metric.items()
        }
        for name, by_metric in scores.items()
    }
    first = next(iter(scores.values()))
    return Comparison(
        runs=list(runs),
        metrics=list(metrics),
        judged_queries=len(next(iter(first.values()))),
        intervals=intervals,
        p_values=paired_p_values(qrels, runs, metrics, test) if len(runs) > 1 else {},
        per_query=scores,
        test=test,
        level=level,
    )


def write_report(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write report.md, report.html (images embedded), report.json and the PNG plots."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = [plot_metrics(comparison, out / METRICS_PLOT)]
    if len(comparison.runs) > 1:
        plots.append(plot_per_query_difference(comparison, out / DIFF_PLOT))
    markdown = out / "report.md"
    markdown.write_text(render_markdown(comparison, [p.name for p in plots]), encoding="utf-8")
    page = out / "report.html"
    page.write_text(render_html(comparison, plots), encoding="utf-8")
    numbers = out / "report.json"
    numbers.write_text(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2), "utf-8")
    return [markdown, page, numbers, *plots]


def plot_metrics(comparison: Comparison, path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per run, confidence intervals as error bars."""
    runs, metrics = comparison.runs, comparison.metrics
    width = 0.8 / len(runs)
    x = np.arange(len(metrics))
    with figure_style():
        figure = Figure(figsize=(max(6.0, 1.1 * len(metrics) + 2), 4.2), layout="constrained")
        axes = figure.subplots()
        for i, run in enumerate(runs):
            means, errors = _means_and_errors(comparison.intervals[run], metrics)
            offset = (i - (len(runs) - 1) / 2) * width
            axes.bar(x + offset, means, width, yerr=errors, capsize=3, label=run)
        axes.set_xticks(x, metrics)
        axes.set_ylim(0, 1.05)
        axes.set_ylabel("mean over judged queries")
        axes.set_title(
            f"{len(runs)} run(s), {comparison.judged_queries} queries, "
            f"{comparison.level:.0%} bootstrap CI"
        )
        axes.grid(axis="y", alpha=0.3)
        axes.legend(fontsize="small")
        figure.savefig(path, dpi=120)
    return path


def plot_per_query_difference(comparison: Comparison, path: Path) -> Path:
    """Sorted per-query difference, second run minus first, in the first metric."""
    first, second = comparison.runs[:2]
    metric = comparison.metrics[0]
    differences = _differences(comparison, metric)
    wins, losses = int((differences > 0).sum()), int((differences < 0).sum())
    ties = differences.size - wins - losses
    colours = np.where(differences > 0, "tab:green", np.where(differences < 0, "tab:red", "grey"))
    with figure_style():
        figure = Figure(figsize=(8.0, 4.0), layout="constrained")
        axes = figure.subplots()
        axes.bar(np.arange(differences.size), differences, width=1.0, color=colours)
        axes.axhline(0, color="black", linewidth=0.8)
        axes.set_xlim(-0.5, differences.size - 0.5)
        tally = f"{wins} better, {ties} tied, {losses} worse"
        axes.set_xlabel(f"queries, sorted by difference ({tally})")
        axes.set_ylabel(f"Δ {metric}")
        axes.set_title(f"{second} − {first}: per-query {metric}")
        axes.grid(axis="y", alpha=0.3)
        figure.savefig(path, dpi=120)
    return path


def render_markdown(comparison: Comparison, images: Sequence[str]) -> str:
    """A Markdown report: the metrics table, then the plots by relative path."""
    lines = [
        "# Run comparison",
        "",
        _preamble(comparison),
        "",
        f"| metric | run | mean | {comparison.level:.0%} CI | Δ vs first | p |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _table_rows(comparison)]
    lines.append("")
    lines += [f"![{Path(image).stem}]({image})" for image in images]
    return "\n".join(lines) + "\n"


def render_html(comparison: Comparison, plots: Sequence[Path]) -> str:
    """A self-contained HTML page: the same table, with the plots embedded as data URIs."""
    header = ["metric", "run", "mean", f"{comparison.level:.0%} CI", "Δ vs first", "p"]
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _table_rows(comparison)
    )
    images = "\n".join(
        f'<figure><img alt="{html.escape(plot.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(plot.read_bytes()).decode("ascii")}"></figure>'
        for plot in plots
    )
    return f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>Run comparison</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; }}
td:nth-child(n+3) {{ text-align: right; font-variant-numeric: tabular-nums; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>Run comparison</h1>
<p>{html.escape(_preamble(comparison))}</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
{images}
</body>
</html>
"""


def _preamble(comparison: Comparison) -> str:
    test = {"student": "paired Student's t-test", "fisher": "Fisher's randomisation test"}
    return (
        f"{comparison.judged_queries} judged queries. Means with {comparison.level:.0%} "
        f"percentile-bootstrap intervals over queries; p-values from a two-sided "
        f"{test[comparison.test]} against the first run ({comparison.runs[0]})."
    )


def _table_rows(comparison: Comparison) -> list[list[str]]:
    rows = []
    first = comparison.runs[0]
    for metric in comparison.metrics:
        baseline = comparison.intervals[first][metric].mean
        for run in comparison.runs:
            interval = comparison.intervals[run][metric]
            is_first = run == first
            p = None if is_first else comparison.p_values[run][metric]
            rows.append(
                [
                    metric,
                    run,
                    f"{interval.mean:.3f}",
                    f"{interval.low:.3f}–{interval.high:.3f}",
                    "—" if is_first else f"{interval.mean - baseline:+.3f}",
                    "—" if p is None else f"{p:.3g}",
                ]
            )
    return rows


def _means_and_errors(
    intervals: Mapping[str, Interval], metrics: Sequence[str]
) -> tuple[list[float], np.ndarray]:
    means = [intervals[metric].mean for metric in metrics]
    errors = np.array(
        [
            [intervals[metric].mean - intervals[metric].low for metric in metrics],
            [intervals[metric].high - intervals[metric].mean for metric in metrics],
        ]
    )
    return means, errors.clip(min=0)


def _differences(comparison: Comparison, metric: str) -> np.ndarray:
    first, second = (comparison.per_query[run][metric] for run in comparison.runs[:2])
    return np.sort(np.array([second[qid] - first[qid] for qid in first]))[::-1]
