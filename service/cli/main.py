"""The `jiebang` command: mounts one module per command group."""

from __future__ import annotations

import typer

from service.cli import (
    challenges_cmd,
    doctor_cmd,
    eval_cmd,
    feedback_cmd,
    index_cmd,
    match_cmd,
    model_cmd,
    patents_cmd,
    serve_cmd,
    teams_cmd,
)

app = typer.Typer(
    name="jiebang",
    help="揭榜 — match Chinese technical challenges to the organisations able to solve them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

COMMANDS = (
    challenges_cmd,
    index_cmd,
    match_cmd,
    eval_cmd,
    feedback_cmd,
    patents_cmd,
    teams_cmd,
    model_cmd,
    doctor_cmd,
    serve_cmd,
)
for module in COMMANDS:
    module.register(app)
