"""`jiebang challenges`: the built-in catalogue (plus user challenges)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from corpus.documents.formats import supported_suffixes
from corpus.errors import JiebangError
from service.cli.common import challenge_book, console, err_console, settings, user_errors

challenges = typer.Typer(
    help="The challenge catalogue from the seed's appendix.", no_args_is_help=True
)


@challenges.command("list")
@user_errors
def list_challenges(
    area: str | None = typer.Option(None, help="Area number or part of its name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List atomic challenges, optionally of one area."""
    book = challenge_book(settings())
    items = book.by_area(area)
    if not items:
        names = "、".join(f"{a.no} {a.name}" for a in book.catalogue.areas)
        raise JiebangError(f"no challenge in area '{area}'; areas: {names}")
    if as_json:
        rows = [c.model_dump() | {"query_text": c.query_text} for c in items]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{len(items)} challenges", show_lines=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("area")
    table.add_column("challenge")
    for c in items:
        table.add_row(c.id, c.area + (" *" if c.area_inferred else ""), c.text)
    console.print(table)
    if any(c.area_inferred for c in items):
        console.print(
            "* area inferred: rows 14 and 15 have no name in the source; a challenge posted "
            "without an area got the nearest catalogue area"
        )


@challenges.command("import")
@user_errors
def import_challenges(
    file: Path = typer.Argument(..., help=f"A challenge list: {supported_suffixes()}."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be stored; store none."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    skip_invalid: bool = typer.Option(
        False, help="Skip bad items (sheets, rows, pages), listing each; store the rest."
    ),
) -> None:
    """Import a 榜单 or demand list (table or numbered list) as challenges."""
    from service.cli.importing import read_challenge_file, store

    config = settings()
    imported = read_challenge_file(config, file, skip_invalid=skip_invalid)
    for reject in imported.rejects:
        err_console.print(f"[yellow]skipped[/] {escape(str(reject))}", highlight=False)
    if not dry_run:
        new, replaced = store(config, imported.challenges)
    if as_json:
        rows = [c.model_dump(mode="json") for c in imported.challenges]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print_import(imported.challenges)
    count = len(imported.challenges)
    if dry_run:
        err_console.print(f"dry run: {count} challenges read from {file.name}; nothing stored")
    else:
        err_console.print(
            f"stored {count} challenges from {file.name} ({new} new, {replaced} replaced)"
        )


def print_import(items: list) -> None:
    """A table of imported challenges: id, area (* inferred), text, issuer, where in the file."""
    table = Table(title=f"{len(items)} challenges", show_lines=True, expand=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("area", ratio=1, max_width=12, overflow="fold")
    table.add_column("challenge", ratio=5, min_width=30, overflow="fold")
    table.add_column("issuer · deadline", ratio=2, max_width=20, overflow="fold")
    table.add_column("where", ratio=2, max_width=18, overflow="fold", style="dim")
    for c in items:
        text = c.text if len(c.text) <= 160 else c.text[:158] + "…"
        table.add_row(
            c.id,
            escape(c.area + (" *" if c.area_inferred else "")),
            escape(text),
            escape(" · ".join(part for part in (c.issuer, c.deadline) if part)),
            escape((c.origin or "").split(" · ", 1)[-1]),
        )
    console.print(table)
    if any(c.area_inferred for c in items):
        console.print("* area inferred: the file gives none; the nearest catalogue area")


def register(app: typer.Typer) -> None:
    app.add_typer(challenges, name="challenges")
