"""`jiebang challenges`: the built-in catalogue (plus user challenges)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from corpus.errors import JiebangError
from service.cli.common import challenge_book, console, settings, user_errors

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


def register(app: typer.Typer) -> None:
    app.add_typer(challenges, name="challenges")
