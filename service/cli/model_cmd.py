"""`jiebang model adapt`: fine-tune the encoder on your own patents and capability statements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus.loaders import load_organisations, load_patents
from embed.progress import progress_bar
from service.cli.common import console, settings, user_errors

app = typer.Typer(help="Adapt the embedding model to your corpus.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Mount `jiebang model …` on the root command."""
    root.add_typer(app, name="model")


@app.command("adapt")
@user_errors
def adapt(
    out: Annotated[Path, typer.Option(help="Folder for the adapted sentence-transformers model.")],
    patents: Annotated[
        Path | None, typer.Option(help="Patents (JSONL/CSV): title, last sentence ↔ abstract.")
    ] = None,
    orgs: Annotated[
        Path | None, typer.Option(help="Organisations: capability lead sentence ↔ the rest.")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the pairs.")] = 1,
    max_minutes: Annotated[
        float | None, typer.Option(min=0.1, help="Stop (resumably) after this long.")
    ] = None,
    max_seq_length: Annotated[
        int, typer.Option(min=16, help="Tokens per text while training (longer costs more).")
    ] = 128,
    batch_size: Annotated[
        int, typer.Option(min=2, help="Pairs per step (in-batch negatives).")
    ] = 32,
    keep_base: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.99, help="Share of the base model's weights mixed back in (WiSE-FT)."
        ),
    ] = 0.5,
    hard_negatives: Annotated[
        bool,
        typer.Option(help="Add a mined negative to each pair: the base model's nearest non-match."),
    ] = False,
) -> None:
    """Fine-tune the configured model on pairs drawn from your corpus; a killed run resumes.

    Afterwards refit the calibration for it (`JIEBANG_MODEL=OUT jiebang eval tune --out
    OUT/jiebang-calibration.json`); the model folder's own calibration is then used by default.
    """
    from embed.adapt import AdaptConfig, training_pairs
    from embed.adapt import adapt as run
    from embed.model_store import resolve_model

    if patents is None and orgs is None:
        raise typer.BadParameter("give --patents and/or --orgs", param_hint="--patents")
    config = settings()
    pairs = training_pairs(
        load_patents(patents, skip_invalid=True).records if patents else (),
        load_organisations(orgs, skip_invalid=True).records if orgs else (),
    )
    base = resolve_model(config.model, config.resolved_models_dir)
    options = AdaptConfig(
        epochs=epochs,
        batch_size=batch_size,
        max_seq_length=max_seq_length,
        max_minutes=max_minutes,
        keep_base=keep_base,
        hard_negatives=hard_negatives,
    )
    total = (len(pairs) // batch_size) * epochs
    with progress_bar("adapting", total) as advance:
        done = [0]

        def stepped(step: int, _total: int) -> None:
            advance(step - done[0])
            done[0] = step

        result = run(base, pairs, out, options, on_step=stepped)
    state = "complete" if result.complete else "stopped at the time budget (rerun to resume)"
    console.print(
        f"{result.pairs} pairs, {result.steps_done}/{result.total_steps} steps"
        f"{f' (resumed at {result.resumed_from})' if result.resumed_from else ''}, "
        f"{result.minutes} min: {state} → {result.out}",
        highlight=False,
    )
    console.print(
        f"next: JIEBANG_MODEL={out} jiebang eval tune --out {out}/jiebang-calibration.json",
        highlight=False,
    )
