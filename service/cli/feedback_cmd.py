"""`jiebang feedback`: the users' judgments of candidates (能承担 2 / 相关 1 / 不相关 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import console, open_engine, settings, user_errors

app = typer.Typer(
    help="The users' judgments of candidates: export them as an evaluation set.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Mount `jiebang feedback …` on the root command."""
    root.add_typer(app, name="feedback")


@app.command("export")
@user_errors
def export(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for queries.jsonl, qrels.jsonl, corpus.jsonl.")
    ],
) -> None:
    """Write the current judgments as an evaluation set over the indexed evidence.

    queries.jsonl holds each judged challenge with its text when last judged, qrels.jsonl the
    current grades, corpus.jsonl the index's evidence passages grouped by organisation: the
    files `jiebang eval run --corpus --queries --qrels` reads.
    """
    # eval.feedback scores with ranx (numba: seconds to import): only this command pays for it.
    from eval.feedback import CORPUS_FILE, QRELS_FILE, QUERIES_FILE
    from service.usecases.feedback import export_feedback, require_judgments

    config = settings()
    judgments = require_judgments(config)  # before the model loads: an empty db fails at once
    written = export_feedback(judgments, open_engine(config), out)
    files = written.files
    lines = [
        f"wrote {_count(written.challenges, 'judged challenge')} → {files[QUERIES_FILE]}",
        f"wrote {_count(written.pairs, 'judgment')} ({written.relevant_pairs} graded 相关 or "
        f"能承担) → {files[QRELS_FILE]}",
        f"wrote {_count(written.passages, 'evidence passage')} of "
        f"{_count(written.organisations, 'organisation')} → {files[CORPUS_FILE]}",
    ]
    if written.unindexed_pairs:
        lines.append(
            f"left out {_count(written.unindexed_pairs, 'judgment')} of organisations the index "
            "does not hold"
        )
    if not written.relevant_pairs:
        lines.append("no judgment is graded 相关 or 能承担 yet: `eval run` needs one")
    lines.append(
        f"measure it: jiebang eval run --corpus {files[CORPUS_FILE]} "
        f"--queries {files[QUERIES_FILE]} --qrels {files[QRELS_FILE]}"
    )
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
