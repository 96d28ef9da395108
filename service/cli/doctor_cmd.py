"""`jiebang doctor`: does the index agree with the database and the model? Repair what is safe."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import console, embedder, settings, user_errors


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


@user_errors
def doctor(
    repair: Annotated[
        bool, typer.Option(help="Re-apply the database's organisations to the index and save it.")
    ] = False,
) -> None:
    """Check the index against the database (organisations, deletions, their passages) and the
    calibration against the configured model; with --repair, bring the index in line."""
    from service.db import Database
    from service.usecases.health import check, repair_index

    config = settings()
    database = Database(config.resolved_database_url)
    database.upgrade()
    model = embedder(config)
    report = check(config, model, database)
    for line in report.lines():
        console.print(line, highlight=False)
    if repair and report.index_problems:
        fixed = repair_index(config, model, database)
        console.print(f"repaired: {fixed.upserted} re-indexed, {fixed.removed} removed")
    elif report.problems:
        raise typer.Exit(1)
