"""`jiebang index build`: embed organisations' evidence into the vector index."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from corpus.demo import demo_organisations_path
from corpus.loaders import load_organisations, load_patents
from service.cli.common import (
    ADDRESS_HELP,
    ENGINE_HELP,
    WORKERS_HELP,
    console,
    embedder,
    err_console,
    settings,
    user_errors,
)
from service.components import engine_options
from service.usecases.scale_out import ExecutionEngine

index = typer.Typer(help="Build the organisation index.", no_args_is_help=True)


@index.command("build")
@user_errors
def build(
    orgs: Path | None = typer.Option(
        None, help="Organisations (JSONL/CSV/XLSX). Default: demo data."
    ),
    patents: Path | None = typer.Option(
        None, help="Patents (JSONL/CSV/XLSX) as applicants' evidence."
    ),
    skip_invalid: bool = typer.Option(False, help="Skip bad rows, reporting each one."),
    engine: ExecutionEngine = typer.Option(ExecutionEngine.local, help=ENGINE_HELP),
    address: str | None = typer.Option(None, help=ADDRESS_HELP),
    workers: int | None = typer.Option(None, min=1, help=WORKERS_HELP),
) -> None:
    """Index organisations and patents; with no files, the illustrative demo corpus."""
    from matcher.engine import MatchEngine

    config = settings()
    if orgs is None and patents is None:
        orgs = demo_organisations_path()
        console.print(f"indexing the illustrative demo corpus ({orgs.name})")
    org_report = load_organisations(orgs, skip_invalid=skip_invalid) if orgs else None
    patent_report = load_patents(patents, skip_invalid=skip_invalid) if patents else None
    for report in (org_report, patent_report):
        for reject in report.rejects if report else []:
            err_console.print(f"[yellow]skipped[/] {reject}", highlight=False)
    started = time.perf_counter()
    built = MatchEngine.build(
        org_report.records if org_report else [],
        embedder(config, engine, address, workers),
        patent_report.records if patent_report else [],
        **engine_options(config),
    )
    path = built.save(config.resolved_index_dir)
    console.print(
        f"indexed {len(built.organisations)} organisations, {len(built.passages)} passages "
        f"in {time.perf_counter() - started:.1f} s → {path}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(index, name="index")
