"""`jiebang patents match|landscape` (bulk matching, 专利导航) and `jiebang roadmap`."""

from __future__ import annotations

from pathlib import Path

import typer

from corpus.loaders import load_organisations
from embed.progress import progress_bar
from matcher.patents.bulk import BulkMatcher, EvidenceMode
from matcher.patents.landscape import build_landscape
from matcher.patents.reader import count_rows
from service.cli.common import (
    ADDRESS_HELP,
    ENGINE_HELP,
    WORKERS_HELP,
    challenge_book,
    console,
    embedder,
    saved_engine,
    settings,
    user_errors,
)
from service.components import build_calibration, engine_options
from service.export.bulk import OUTPUT_FORMATS, read_matches
from service.export.landscape import write_landscape
from service.export.roadmap import write_report
from service.usecases.bulk import run_bulk
from service.usecases.reports import patent_counts
from service.usecases.reports import roadmap as build_roadmap
from service.usecases.scale_out import ExecutionEngine

patents_app = typer.Typer(
    help="Patents in bulk: match to challenges, then the patent landscape (专利导航).",
    no_args_is_help=True,
)


@patents_app.command("match")
@user_errors
def match(
    source: Path = typer.Argument(..., help="Patents, .jsonl, .csv or .xlsx (title, abstract, …)."),
    out: Path | None = typer.Option(None, help="Output file [default: <FILE>.matches.<format>]."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl, csv or xlsx (xlsx: no --resume)."),
    top: int = typer.Option(1, min=1, help="At most this many areas per patent."),
    min_confidence: float | None = typer.Option(
        None,
        min=0.0,
        max=1.0,
        help="P(addresses the area) a match needs [default: the calibration's fitted threshold].",
    ),
    evidence: EvidenceMode = typer.Option(
        EvidenceMode.lexical, help="Best sentence by shared bigrams (fast) or by embedding."
    ),
    resume: bool = typer.Option(False, help="Continue a killed run from its checkpoint."),
    limit: int | None = typer.Option(None, min=1, help="Stop after this many input rows."),
    window: int = typer.Option(256, min=1, help="Rows encoded together (and per checkpoint)."),
    engine: ExecutionEngine = typer.Option(ExecutionEngine.local, help=ENGINE_HELP),
    address: str | None = typer.Option(None, help=ADDRESS_HELP),
    workers: int | None = typer.Option(None, min=1, help=WORKERS_HELP),
) -> None:
    """Match every patent (title + abstract) to the catalogue challenges, streaming."""
    if fmt not in OUTPUT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(OUTPUT_FORMATS)}", param_hint="--format")
    config = settings()
    out = out or Path(f"{source.stem}.matches.{fmt}")
    if out.resolve() == source.resolve():
        raise typer.BadParameter("the output would overwrite the input", param_hint="--out")
    total = count_rows(source)
    if limit is not None:
        total = min(total, limit)
    matcher = BulkMatcher(
        embedder(config, engine, address, workers),
        challenge_book(config).all(),
        calibration=build_calibration(config),
        top=top,
        min_confidence=min_confidence,
        evidence=evidence,
    )
    with progress_bar("matching patents", total) as advance:
        summary = run_bulk(
            source,
            out,
            matcher,
            fmt=fmt,
            resume=resume,
            window=window,
            limit=limit,
            on_progress=advance,
        )
    if summary.resumed_from:
        console.print(f"resumed after {summary.resumed_from} rows")
    if summary.started_over:
        console.print("nothing to resume (no checkpoint): started from the beginning")
    console.print(
        f"{summary.rows_done} rows: {summary.patents} patents matched "
        f"({summary.patents_matched} in ≥1 area, {summary.match_rows} matches), "
        f"{summary.rejected} rejected → {summary.rejects}",
        highlight=False,
    )
    console.print(f"wrote {summary.output}" + ("" if summary.complete else " (stopped at --limit)"))
    if matcher.skipped:
        console.print(
            f"[yellow]note:[/] {len(matcher.skipped)} challenge(s) outside the catalogue areas "
            f"were not matched (bulk matching decides by area): {', '.join(matcher.skipped)}",
            highlight=False,
        )


@patents_app.command("landscape")
@user_errors
def landscape(
    matches: Path = typer.Argument(..., help="A matches file from `jiebang patents match`."),
    out: Path = typer.Option(Path("landscape"), help="Folder for CSV, XLSX and PNG."),
    orgs: Path | None = typer.Option(
        None, help="Known organisations (JSONL/CSV): their kind and region beat name inference."
    ),
    min_confidence: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Only count matches at least this confident."
    ),
) -> None:
    """Per challenge and area: patents, top applicants and their kinds, Zhejiang share."""
    config = settings()
    known = {org.name: org for org in load_organisations(orgs).records} if orgs else None
    found = read_matches(matches, min_confidence)
    result = build_landscape(found, challenge_book(config).all(), known)
    paths = write_landscape(result, out)
    console.print(
        f"{result.patents} patents ({result.unmatched} without a challenge) → "
        + ", ".join(str(path) for path in paths),
        highlight=False,
    )


@user_errors
def roadmap(
    orgs: Path | None = typer.Option(
        None, help="Organisations (JSONL/CSV) [default: the index from `jiebang index build`]."
    ),
    patents: Path | None = typer.Option(None, help="A matches file from `patents match`."),
    min_confidence: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Only count patent matches at least this confident."
    ),
    rules: Path | None = typer.Option(None, help="JSON/TOML overriding the batch rules."),
    out: Path = typer.Option(Path("roadmap"), help="Folder for HTML, Markdown, XLSX and PNG."),
) -> None:
    """Roadmap: coverage × patent activity → 应用替代 / 应急攻关 / 前瞻部署, by data rules."""
    from matcher.engine import MatchEngine

    config = settings()
    challenges = challenge_book(config).all()
    if orgs is not None:
        engine = MatchEngine.build(
            load_organisations(orgs).records,
            embedder(config),
            **engine_options(config),
        )
    else:
        engine = saved_engine(config)
    counts = None if patents is None else patent_counts(patents, challenges, min_confidence)
    statuses, chosen_rules = build_roadmap(engine, challenges, rules_file=rules, counts=counts)
    paths = write_report(statuses, chosen_rules, out)
    for batch in sorted({s.batch for s in statuses}):
        console.print(f"{batch}: {sum(1 for s in statuses if s.batch == batch)}")
    console.print("wrote " + ", ".join(str(path) for path in paths), highlight=False)


def register(app: typer.Typer) -> None:
    """Mount `patents` (match, landscape) and the top-level `roadmap`."""
    app.add_typer(patents_app, name="patents")
    app.command("roadmap")(roadmap)
