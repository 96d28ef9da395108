"""`jiebang eval`: labelled dev sets, metrics and run comparisons (the eval/ harness)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from eval.builtin import builtin_names, load_builtin
from eval.dataset import Dataset, load_dataset, load_qrels
from eval.runs import load_run
from matcher.fusion import Method
from service.cli.common import console, embedder, fail, saved_engine, settings, user_errors
from service.components import build_calibration, engine_options

app = typer.Typer(help="Evaluate rankings on labelled sets and compare runs.", no_args_is_help=True)


class BuiltinDataset(StrEnum):
    challenge_org = "challenge-org"
    patent_area = "patent-area"
    patents_applicant = "patents-applicant"
    csl_discipline = "csl-discipline"
    csl_discipline_evidence = "csl-discipline-evidence"
    csl_title = "csl-title"


class Split(StrEnum):
    dev = "dev"
    test = "test"
    all = "all"


class StatTest(StrEnum):
    student = "student"
    fisher = "fisher"


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The shared/data folder the built-in dev sets are built from "
        "[default: JIEBANG_DATA_DIR, else ../shared/data beside the checkout].",
    ),
]
SplitOption = Annotated[
    Split, typer.Option(help="Which CSL queries: dev (tune on these), test, or all.")
]


def register(root: typer.Typer) -> None:
    """Mount `jiebang eval …` on the root command."""
    root.add_typer(app, name="eval")


@app.command("datasets")
@user_errors
def datasets(
    data_dir: DataDirOption = None,
    split: SplitOption = Split.dev,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the built-in dev sets with their sizes."""
    from eval.areas import load_patent_area

    data_dir = data_dir or settings().data_dir
    summaries = [load_builtin(name, data_dir, split.value).summary() for name in builtin_names()]
    summaries.append(load_patent_area(data_dir).summary())
    if as_json:
        console.print_json(json.dumps(summaries, ensure_ascii=False))
        return
    table = Table("dataset", "queries", "corpus", "candidates", "grouped")
    for row in summaries:
        table.add_row(
            row["name"],
            str(row["judged_queries"]),
            str(row["corpus"]),
            str(row["candidates"]),
            "yes" if row["grouped"] else "no",
        )
    console.print(table)


@app.command("run")
@user_errors
def run(
    corpus: Annotated[
        Path | None, typer.Option(help="corpus.jsonl {id, text, title?, group?}.")
    ] = None,
    queries: Annotated[Path | None, typer.Option(help="queries.jsonl {id, text}.")] = None,
    qrels: Annotated[Path | None, typer.Option(help="qrels.jsonl {qid, docid, relevance}.")] = None,
    dataset: Annotated[
        BuiltinDataset | None, typer.Option(help="A built-in dev set instead of files.")
    ] = None,
    split: SplitOption = Split.dev,
    data_dir: DataDirOption = None,
    method: Annotated[Method, typer.Option(help="Retrieval channel(s) to rank with.")] = (
        Method.hybrid
    ),
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Metric to report (repeatable).")
    ] = None,
    save_run: Annotated[
        Path | None, typer.Option(help="Write the run as JSON {qid: {id: score}}.")
    ] = None,
    feedback: Annotated[
        bool,
        typer.Option(
            "--feedback",
            help="The judgments stored in the database, over the current index, each challenge "
            "ranked as the page ranks it (ndcg@10, recall@10, map, hit@1 by default).",
        ),
    ] = False,
) -> None:
    """Index a labelled corpus, rank its queries, and print the metrics (with the baselines
    from the same retrieval) as JSON. `--dataset patent-area` judges bulk matching instead;
    `--feedback` measures the current index on the users' own judgments."""
    from eval.metrics import DEFAULT_METRICS
    from eval.runner import run_eval
    from eval.runs import save_run as write_run

    files = (corpus, queries, qrels)
    if sum((dataset is not None, any(files), feedback)) > 1:
        fail("give one of --dataset NAME, --corpus/--queries/--qrels files, or --feedback")
    if feedback:
        if method is not Method.hybrid:
            fail("--feedback ranks as the page does (hybrid, by confidence): drop --method")
        _run_feedback(metric, save_run)
        return
    if dataset is None and not all(files):
        fail("give --corpus, --queries and --qrels together, --dataset NAME, or --feedback")
    config = settings()
    data_dir = data_dir or config.data_dir
    if dataset is BuiltinDataset.patent_area:
        from eval.areas import evaluate_shipped

        report = evaluate_shipped(data_dir, embedder(config), build_calibration(config))
        console.print_json(json.dumps(report, ensure_ascii=False))
        return
    if dataset is not None:
        labelled = _builtin(dataset, split, data_dir)
    elif corpus is not None and queries is not None and qrels is not None:
        labelled = load_dataset(corpus, queries, qrels)
    else:  # checked above
        fail("give --corpus, --queries and --qrels together, --dataset NAME, or --feedback")
    result = run_eval(
        labelled,
        embedder(config),
        method,
        calibration=build_calibration(config),
        metrics=metric or DEFAULT_METRICS,
    )
    if save_run is not None:
        write_run(result.run, save_run)
    console.print_json(json.dumps(result.to_dict(), ensure_ascii=False))


@app.command("tune")
@user_errors
def tune(
    out: Annotated[Path, typer.Option(help="Where to write the fitted calibration (JSON).")],
    report: Annotated[
        Path | None, typer.Option(help="Folder for the measurement tables and plots.")
    ] = None,
    data_dir: DataDirOption = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Fold assignment seed.")] = 0,
) -> None:
    """Fit ranking, confidence and area decisions for the configured model on the dev sets.

    Every figure is cross-validated over queries; the written calibration is fitted on all of
    them. Point `JIEBANG_CALIBRATION` at the file to use it.
    """
    from eval.runs import save_run
    from eval.tune import tune as fit
    from matcher.calibration import Calibration, CandidateModel
    from matcher.calibration.logistic import Logistic

    config = settings()
    model = embedder(config)
    placeholder = Logistic(features=["score"], coef=[1.0], intercept=0.0)
    base = Calibration(
        model_id=model.model_id,
        fitted_on="(being fitted)",
        candidate=CandidateModel(logistic=placeholder, capable=0.5),
    )
    outcome = fit(
        data_dir or config.data_dir, model, base, report_dir=report, folds=folds, seed=seed
    )
    outcome.calibration.save(out)
    if report is not None:
        (report / "tables.json").write_text(
            json.dumps(outcome.tables, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        for dataset, run in outcome.runs.items():  # `jiebang eval compare` pairs two models
            save_run(run, report / f"cv-run-{dataset}.json")
    summary = outcome.calibration.measured
    console.print_json(json.dumps(summary, ensure_ascii=False))
    console.print(f"wrote {out}", highlight=False)


@app.command("teams")
@user_errors
def teams(
    size: Annotated[int, typer.Option(min=1, help="Members per team.")] = 4,
    gap: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="Coverage threshold [default: the capable level]."),
    ] = None,
) -> None:
    """Teams table (EVALUATION.md): best team against best solver on every catalogue challenge
    and whole area, over the illustrative demo corpus."""
    from corpus.catalogue import builtin_catalogue
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations
    from eval.teams import CachedEngine, targets, teams_rows, to_markdown
    from matcher.engine import MatchEngine

    config = settings()
    organisations = load_organisations(demo_organisations_path()).records
    built = MatchEngine.build(
        organisations, embedder(config), progress=False, **engine_options(config)
    )
    engine = CachedEngine(built)
    challenges, areas = targets(builtin_catalogue())
    threshold = built.capable_confidence if gap is None else gap
    rows = teams_rows(engine, challenges, engine.organisations, size=size, gap_threshold=threshold)
    area_rows = teams_rows(engine, areas, engine.organisations, size=size, gap_threshold=threshold)
    typer.echo(to_markdown(rows, area_rows, size=size, gap_threshold=threshold))


@app.command("invariance")
@user_errors
def invariance(
    patents: Annotated[
        Path | None,
        typer.Option(help="Patents to add [default: the 4,097 BDCI patents of the data dir]."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Does a confidence move when unrelated documents are indexed, or rise down a list?

    Every catalogue challenge over the illustrative demo index, then over the same organisations
    plus `--patents` (their applicants join as new organisations): the top-10 candidates'
    confidence shift, and the lists whose confidence rises from one rank to the next.
    """
    from corpus.catalogue import builtin_catalogue
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations, load_patents
    from eval.invariance import measure
    from matcher.engine import MatchEngine

    config = settings()
    model = embedder(config)
    organisations = load_organisations(demo_organisations_path()).records
    source = patents or (data_dir or config.data_dir) / "bdci2022_patents" / "patents.jsonl"
    added = load_patents(source).records
    demo = MatchEngine.build(organisations, model, progress=False, **engine_options(config))
    both = MatchEngine.build(organisations, model, added, **engine_options(config))
    report = measure(demo, both, builtin_catalogue().challenges)
    summary = {"patents_added": len(added), **report.summary(), "rising": report.rising}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        return
    table = Table(title="置信度是否随索引内容变化（示例索引 vs 示例 + 其他专利）")
    for key in summary:
        table.add_column(key)
    table.add_row(*(str(v) for v in summary.values()))
    console.print(table)


@app.command("programmes")
@user_errors
def programmes(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Learning from judgments, played out on challenge-org, domain by domain.

    Each domain starts from a calibration fitted without it, half its challenges are judged
    (10, 30, 100 or all of their graded pairs) and refit it; the other half measures ECE, AUC,
    log-loss and nDCG@10 before and after (`eval.refit.simulate_programmes`).
    """
    from eval import confidence as conf
    from eval.builtin import challenge_domains
    from eval.refit import simulate_programmes
    from eval.runner import QueryHits

    config = settings()
    calibration = build_calibration(config)
    directory = data_dir or config.data_dir
    challenges = QueryHits.collect(
        load_builtin("challenge-org", directory), embedder(config), calibration
    )
    scored = conf.score_queries(challenges, calibration.ranking, conf.facet_hits(challenges))
    qrels, domains = challenges.dataset.qrels, challenge_domains(directory)
    # As graded (capable = grade ≥ 1), and by stricter assessors who count only grade 2.
    strict = {q: {o: int(g >= 2) for o, g in grades.items()} for q, grades in qrels.items()}
    table: list[dict[str, Any]] = [
        {"assessors": who, **{k: _plain(v) for k, v in row.items()}}
        for who, graded in (("as graded", qrels), ("strict: grade 2 only", strict))
        for row in simulate_programmes(scored, graded, domains, prior_qrels=qrels)
    ]
    if as_json:
        typer.echo(json.dumps(table, ensure_ascii=False, indent=1))
        return
    view = Table(title="从用户评判中学习：按领域模拟（未见过的一半挑战上的校准）")
    for column in ("assessors", "judgments", "refits adopted", "measure", "before", "after"):
        view.add_column(column)
    for row in table:
        adopted = f"{row['refits_adopted']} of {row['domains']} domains"
        for metric in ("ece", "auc", "log_loss", "ndcg@10"):
            cells = [row["assessors"], str(row["judgments"]), adopted, metric]
            view.add_row(*cells, *(str((row[k][metric] or ["—"])[0]) for k in ("before", "after")))
    console.print(view)


def _plain(value: object) -> object:
    return value.to_dict() if hasattr(value, "to_dict") else value


@app.command("compare")
@user_errors
def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="Run files {qid: {id: score}}; first = baseline.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md/html/json and PNGs.")],
    qrels: Annotated[
        Path | None, typer.Option("--qrels", help="qrels.jsonl {qid, docid, relevance}.")
    ] = None,
    dataset: Annotated[
        BuiltinDataset | None, typer.Option(help="Judge against a built-in dev set's qrels.")
    ] = None,
    split: SplitOption = Split.dev,
    data_dir: DataDirOption = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Metric to report (repeatable).")
    ] = None,
    test: Annotated[StatTest, typer.Option(help="Paired test against the first run.")] = (
        StatTest.student
    ),
    bootstrap: Annotated[int, typer.Option(min=100, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Compare runs: metrics with confidence intervals, p-values, and plots."""
    # ranx (numba) and matplotlib take seconds to import: only this command pays for them.
    from eval.metrics import DEFAULT_METRICS
    from eval.report import compare_runs, write_report

    if qrels is not None and dataset is None:
        judgements = load_qrels(qrels)
    elif dataset is not None and qrels is None:
        judgements = _builtin(dataset, split, data_dir or settings().data_dir).qrels
    else:
        fail("give exactly one of --qrels FILE or --dataset NAME")
    loaded = {name: load_run(path) for name, path in _run_names(runs).items()}
    comparison = compare_runs(
        judgements, loaded, metric or DEFAULT_METRICS, test.value, n_boot=bootstrap, seed=seed
    )
    written = write_report(comparison, out)
    table = Table("metric", *comparison.runs)
    for measured in comparison.metrics:  # not `metric`: that is the option's list
        means = (comparison.intervals[name][measured].mean for name in comparison.runs)
        table.add_row(measured, *(f"{mean:.3f}" for mean in means))
    console.print(table)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _run_feedback(metrics: list[str] | None, save_run: Path | None) -> None:
    """`eval run --feedback`: the stored judgments, scored over the current index."""
    from eval.feedback import FEEDBACK_METRICS, evaluate_feedback
    from eval.runs import save_run as write_run
    from service.usecases.feedback import require_judgments

    config = settings()
    judgments = require_judgments(config)  # before the model loads: an empty db fails at once
    result = evaluate_feedback(saved_engine(config), judgments, metrics or FEEDBACK_METRICS)
    if save_run is not None:
        write_run(result.run, save_run)
    console.print_json(json.dumps(result.to_dict(), ensure_ascii=False))


def _builtin(dataset: BuiltinDataset, split: Split, data_dir: Path) -> Dataset:
    return load_builtin(dataset.value, data_dir, split.value)


def _run_names(paths: list[Path]) -> dict[str, Path]:
    """Name each run by its file stem; repeated stems get their parent folder's name too."""
    stems = [path.stem for path in paths]
    names = {}
    for path, stem in zip(paths, stems, strict=True):
        name = stem if stems.count(stem) == 1 else f"{path.parent.name}/{stem}"
        if name in names:
            fail(f"run {path} given twice")
        names[name] = path
    return names
