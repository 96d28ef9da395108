"""`jiebang feedback`: the users' judgments of candidates (能承担 2 / 相关 1 / 不相关 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import console, saved_engine, settings, user_errors

app = typer.Typer(
    help="The users' judgments of candidates: export them, refit the confidence on them.",
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
    written = export_feedback(judgments, saved_engine(config), out)
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


@app.command("fit")
@user_errors
def fit(
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Refit the confidence on the stored judgments; adopt it only when CV says it is better.

    The current calibration is the prior (a few judgments move it a little); the refit is
    cross-validated over challenges and adopted as a new version only when its log-loss on the
    judgments beats the current one's. `jiebang serve` uses the adopted version from its next
    start; `jiebang feedback history` lists versions, `rollback N` returns to one.
    """
    import json

    from eval.feedback import FeedbackSet
    from eval.refit import refit, score_feedback
    from matcher.calibration.store import NEUTRAL_CANDIDATE
    from service.usecases.calibrations import CalibrationVersions
    from service.usecases.feedback import require_judgments

    config = settings()
    feedback = FeedbackSet.from_judgments(require_judgments(config))
    engine = saved_engine(config)
    current = engine.calibration
    scored = score_feedback(engine, feedback)
    result = refit(
        scored, feedback.qrels, current.candidate, neutral=current.candidate == NEUTRAL_CANDIDATE
    )
    outcome: dict = {**result.to_dict(), "version": None}
    if result.adopted:
        adopted = current.model_copy(
            update={
                "candidate": result.model,
                "fitted_on": f"{current.fitted_on}; refitted on {result.after.pairs} users' "
                f"judgments of {result.after.challenges} challenges (jiebang feedback fit)",
                "measured": {**current.measured, "feedback": result.to_dict()},
            }
        )
        version = CalibrationVersions(config.resolved_calibrations_dir, config.model).adopt(
            adopted,
            judgments=result.after.pairs,
            challenges=result.after.challenges,
            summary=result.to_dict(),
        )
        outcome["version"] = version.version
    if as_json:
        typer.echo(json.dumps(outcome, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"refit on {result.after.pairs} judgments of {result.after.challenges} "
                        "challenges (cross-validated; 95 % intervals)")  # fmt: skip
    table.add_column("")
    for name in ("log_loss", "ece", "auc", "ndcg@10"):
        table.add_column(name, justify="right")
    for label, measured in (("current", result.before), ("refitted", result.after)):
        row = measured.to_dict()
        table.add_row(label, *(_interval(row[name]) for name in ("log_loss", "ece", "auc",
                                                                   "ndcg@10")))  # fmt: skip
    console.print(table)
    verdict = (
        f"[green]adopted as version {outcome['version']}[/] (restart `jiebang serve` to use it)"
        if result.adopted
        else "[yellow]not adopted[/]: the current calibration stays"
    )
    console.print(f"{verdict} — {result.reason}", highlight=False)
    if result.unscored:
        console.print(f"[dim]{len(result.unscored)} judged candidates have no evidence in the "
                      "index and were left out[/]")  # fmt: skip


@app.command("history")
@user_errors
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The calibration versions adopted from judgments; the active one marked."""
    import json

    from service.usecases.calibrations import CalibrationVersions

    config = settings()
    versions = CalibrationVersions(config.resolved_calibrations_dir, config.model).history()
    if as_json:
        typer.echo(json.dumps([v.model_dump() for v in versions], ensure_ascii=False, indent=1))
        return
    if not versions:
        console.print("no calibration adopted from judgments yet: the model's own is in use")
        return
    table = Table(title="calibration versions (0 = the model's own)")
    for column in ("version", "adopted at", "judgments", "challenges", "log-loss before → after"):
        table.add_column(column)
    for v in versions:
        before, after = v.summary["before"]["log_loss"][0], v.summary["after"]["log_loss"][0]
        mark = " ✓ active" if v.active else ""
        table.add_row(f"{v.version}{mark}", v.adopted_at, str(v.judgments), str(v.challenges),
                      f"{before:.4f} → {after:.4f}")  # fmt: skip
    console.print(table)


@app.command("rollback")
@user_errors
def rollback(
    version: Annotated[int, typer.Argument(min=0, help="Version to use (0: the model's own).")],
) -> None:
    """Use calibration `version` again (0: the model's own); takes effect at the next start."""
    from service.usecases.calibrations import CalibrationVersions

    config = settings()
    CalibrationVersions(config.resolved_calibrations_dir, config.model).rollback(version)
    console.print(f"active calibration: version {version} (restart `jiebang serve` to use it)")


def _interval(values: list[float] | None) -> str:
    return "—" if not values else f"{values[0]:.3f} [{values[1]:.3f}, {values[2]:.3f}]"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
