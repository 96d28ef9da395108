"""What `challenges import` and `match --file` share: a file's challenges, read, stored, ranked."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from corpus.files import atomic_write
from corpus.models import Challenge
from service.components import build_calibration, build_embedder, catalogue
from service.settings import Settings
from service.usecases.imports import ChallengeImport, challenges_from_file, store_challenges
from service.usecases.matching import MatchRequest


def read_challenge_file(
    config: Settings, file: Path, *, skip_invalid: bool = False
) -> ChallengeImport:
    """The challenges of `file`; the model loads only when an item needs its area inferred."""
    from service.cli.common import err_console

    book = catalogue(config)
    areas: list = []

    def infer_area(text: str) -> tuple[int | None, str]:
        if not areas:
            from matcher.areas import AreaIndex

            with err_console.status("loading the model to infer areas…"):
                model = build_embedder(config)
                areas.append(AreaIndex(model, book, build_calibration(config)))
        return areas[0].infer(text)

    return challenges_from_file(file, book, infer_area, skip_invalid=skip_invalid)


def store(config: Settings, challenges: list[Challenge]) -> tuple[int, int]:
    """Store into the configured database (created or upgraded first): (new, replaced)."""
    from service.db import Database

    database = Database(config.resolved_database_url)
    try:
        database.upgrade()
        return store_challenges(database, challenges)
    finally:
        database.dispose()


def match_file(
    file: Path,
    out: Path | None,
    *,
    request: MatchRequest,
    as_json: bool,
    skip_invalid: bool,
) -> None:
    """`jiebang match --file`: rank every challenge of `file`, write the shortlist workbook,
    print a summary (or JSON)."""
    from embed.progress import progress_bar
    from service.cli.common import console, err_console, saved_engine, settings
    from service.export.shortlist import shortlist_xlsx
    from service.usecases.shortlist import rank_challenges

    config = settings()
    out = out or Path(f"{file.stem}.shortlist.xlsx")
    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter("the shortlist is a workbook: end --out with .xlsx")
    if out.resolve() == file.resolve():
        raise typer.BadParameter("the output would overwrite the input", param_hint="--out")
    imported = read_challenge_file(config, file, skip_invalid=skip_invalid)
    for reject in imported.rejects:
        err_console.print(f"[yellow]skipped[/] {escape(str(reject))}", highlight=False)
    engine = saved_engine(config)
    with progress_bar("ranking challenges", len(imported.challenges)) as advance:
        ranked = rank_challenges(engine, imported.challenges, request, on_progress=advance)
    content = shortlist_xlsx(ranked, file_name=imported.file_name, rejects=imported.rejects)
    atomic_write(out, content)
    if as_json:
        rows = [{"challenge": r.challenge.model_dump(mode="json"),
                 "candidates": [c.model_dump() for c in r.result.candidates],
                 "capable": r.capable} for r in ranked]  # fmt: skip
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        table = Table(title=f"{file.name}: {len(ranked)} challenges", expand=True)
        table.add_column("challenge", ratio=3, overflow="fold")
        table.add_column("best candidate", ratio=2, overflow="fold")
        table.add_column("conf.", justify="right", width=6)
        table.add_column("capable", justify="right", width=7)
        for r in ranked:
            best = next(iter(r.result.candidates), None)
            name = r.challenge.title or r.challenge.text
            table.add_row(
                escape(f"{r.challenge.id} {name}"),
                escape(best.name) if best else "—",
                f"{best.confidence:.2f}" if best else "",
                str(r.capable),
            )
        console.print(table)
    err_console.print(f"shortlist → {out}", highlight=False)
