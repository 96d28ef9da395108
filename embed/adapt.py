"""Domain adaptation: fine-tune the encoder on the user's own corpus, without labels.

Training pairs come from the corpus itself (`training_pairs`):

- a patent's title ↔ its abstract with the title cut out: the title is short and names the
  subject, as a challenge does, and the abstract is what the index holds. Most abstracts repeat
  their title verbatim (3,240 of the 4,097 BDCI patents); left in, the in-batch task is solved
  by spotting the copied string, and the model unlearns meaning (measured: EVALUATION.md);
- a patent's last sentence ↔ its abstract without it (the inverse cloze task): the last
  sentence usually says what the invention achieves or solves ("本发明能避免灰尘堆积……"), which
  is how a challenge is phrased; adding these pairs measured best on every dev set;
- a capability statement's first sentence ↔ the rest of it.

The loss is sentence-transformers' `MultipleNegativesRankingLoss`: every other pair in a batch
is a negative, so no labels are needed. The title is encoded with the model's query prompt and
the abstract with its passage prompt ("query: " / "passage: " for e5), as the engine encodes
challenges and evidence.

With `AdaptConfig.hard_negatives`, each pair also gets a mined negative (`mine_hard_negatives`):
one of the other pairs' abstracts that the base model ranks near the title, below its own
abstract, but not among the nearest few (those are likely unlabelled positives). Ranks, not a
share of the positive's score: e5's cosines are compressed (title ↔ own abstract 0.909 on
average over the BDCI patents, the 10th nearest other abstract 0.881, the 1000th 0.844), so a
0.95 share would skip some 600 neighbours and leave easy negatives.

The result keeps half of the base model (`AdaptConfig.keep_base`, WiSE-FT: every weight moved
halfway back to the base's), which measured better than the fine-tuned weights alone on every
dev set (EVALUATION.md).

The loop is plain torch on the CPU (no trainer dependency): it checkpoints every
`checkpoint_every` steps into `<out>/.adapt-checkpoint` (model, optimiser, step, the shuffled
order), so a killed run resumes where its last checkpoint left off, and it stops at a time
budget, saving what it has. The result is an ordinary sentence-transformers folder at `out`:
`JIEBANG_MODEL=<out>` uses it like any other model.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.errors import JiebangError
from corpus.files import atomic_write
from corpus.models import Organisation, Patent
from embed.chunk import sentences

CHECKPOINT = ".adapt-checkpoint"
STATE = "state.json"
MIN_PAIRS = 8
MIN_POSITIVE_CHARS = 16
# A last sentence this long (characters) is a claim of effect or a closing feature: a query in
# its own words. Shorter ones are fragments; the rest of the abstract must still say something.
LAST_SENTENCE_CHARS = (12, 120)
MIN_REST_CHARS = 40
NEGATIVES = ".adapt-negatives.json"
# A mined negative is drawn from these ranks among the texts scoring below the positive: the
# nearest ones are probably positives nobody labelled.
HARD_NEGATIVE_RANKS = range(10, 50)


@dataclass(frozen=True)
class AdaptConfig:
    """Training settings; the defaults are the ones measured in EVALUATION.md."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    max_seq_length: int = 128
    max_minutes: float | None = None
    checkpoint_every: int = 25
    seed: int = 0
    # WiSE-FT: the share of the base model's weights mixed back into the result. Half keeps
    # the base's general matching and the corpus' gains (measured in EVALUATION.md).
    keep_base: float = 0.5
    # One mined negative per pair beside the in-batch ones (`mine_hard_negatives`).
    hard_negatives: bool = False


@dataclass
class AdaptResult:
    """What a run did; `complete` is False when the time budget stopped it early."""

    out: str
    pairs: int
    steps_done: int
    total_steps: int
    resumed_from: int
    minutes: float
    complete: bool


def training_pairs(
    patents: Iterable[Patent] = (), organisations: Iterable[Organisation] = ()
) -> list[tuple[str, str]]:
    """(anchor, positive) pairs: patent title ↔ abstract without the title, a patent's last
    sentence ↔ its abstract without that sentence, capability lead sentence ↔ rest. Pairs whose
    positive is shorter than `MIN_POSITIVE_CHARS` are dropped."""
    pairs: dict[tuple[str, str], None] = {}  # ordered and without repeats

    def cut_out(anchor: str, text: str) -> None:
        body = text.replace(anchor, "").strip(" \t\n。，；：、") if anchor else ""
        if len(body) >= MIN_POSITIVE_CHARS:
            pairs.setdefault((anchor, body))

    for patent in patents:
        cut_out(patent.title.strip(), patent.abstract)
        parts = sentences(patent.abstract)
        if len(parts) >= 2 and len("".join(parts[:-1])) >= MIN_REST_CHARS:
            last = parts[-1].strip()
            if LAST_SENTENCE_CHARS[0] <= len(last) <= LAST_SENTENCE_CHARS[1]:
                cut_out(last, patent.abstract)
    for org in organisations:
        parts = sentences(org.capability)
        if len(parts) >= 2:
            pairs.setdefault((parts[0], "".join(parts[1:])))
    return list(pairs)


def mine_hard_negatives(
    model, pairs: list[tuple[str, str]], seed: int = 0, batch_size: int = 64
) -> list[str]:
    """One negative per pair: `model` scores every anchor against every positive, then
    `draw_negatives` picks among the near misses."""
    query_prompt = model.prompts.get("query", "")
    passage_prompt = model.prompts.get("passage", "")
    anchors = model.encode(
        [query_prompt + a for a, _ in pairs], batch_size=batch_size, normalize_embeddings=True
    )
    positives = model.encode(
        [passage_prompt + p for _, p in pairs], batch_size=batch_size, normalize_embeddings=True
    )
    texts = [p for _, p in pairs]
    return [texts[j] for j in draw_negatives(anchors @ positives.T, texts, seed)]


def draw_negatives(scores, positives: list[str], seed: int = 0) -> list[int]:
    """For each row i of `scores` (anchor i against every positive, its own on the diagonal),
    the index of a positive drawn (seeded) from `HARD_NEGATIVE_RANKS` among the other texts
    scoring below its own; with fewer of them, the farthest; with none, the least similar."""
    import numpy as np

    texts = np.array(positives, dtype=object)
    rng = np.random.default_rng(seed)
    picks: list[int] = []
    for i, row in enumerate(scores):
        other = texts != positives[i]
        below = np.flatnonzero(other & (row < row[i]))
        if len(below):
            ranked = below[np.argsort(-row[below], kind="stable")]
            first = min(HARD_NEGATIVE_RANKS.start, len(ranked) - 1)
            picks.append(int(rng.choice(ranked[first : HARD_NEGATIVE_RANKS.stop])))
        else:
            picks.append(int(np.argmin(np.where(other, row, np.inf))))
    return picks


def adapt(
    base_model: str,
    pairs: list[tuple[str, str]],
    out: Path,
    config: AdaptConfig = AdaptConfig(),
    on_step: Callable[[int, int], None] | None = None,
) -> AdaptResult:
    """Fine-tune `base_model` (a sentence-transformers name or folder) on `pairs` into `out`.

    Resumes from `out`'s checkpoint when one exists for the same pairs and settings.
    `on_step(done, total)` is called after every optimiser step.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    if len(pairs) < MIN_PAIRS:
        raise JiebangError(
            f"only {len(pairs)} training pairs; adaptation needs at least {MIN_PAIRS}"
        )
    if config.batch_size < 2:
        raise JiebangError("batch size must be at least 2: the other pairs are the negatives")
    started = time.monotonic()
    out = Path(out)
    checkpoint = out / CHECKPOINT
    if not 0.0 <= config.keep_base < 1.0:
        raise JiebangError(f"keep_base must be in [0, 1), not {config.keep_base}")
    fingerprint = {"base": base_model, "pairs": len(pairs), **asdict(config)}
    for applied_at_the_end in ("max_minutes", "keep_base"):
        fingerprint.pop(applied_at_the_end)
    state = _read_state(checkpoint, fingerprint)
    source = str(checkpoint / "model") if state else base_model
    torch.manual_seed(config.seed)
    model = SentenceTransformer(source, device="cpu")
    # Restored on save: training truncates, use need not. A checkpoint holds the training
    # length, so on resume the base model says what it was.
    encode_length = (
        SentenceTransformer(base_model, device="cpu").max_seq_length
        if state
        else model.max_seq_length
    )
    model.max_seq_length = config.max_seq_length
    # A fresh run's model is the base one: it mines; a resumed run reads what it mined.
    negatives = _negatives(pairs, out / NEGATIVES, fingerprint, config, base_model, model, state)
    query_prompt = model.prompts.get("query", "")
    passage_prompt = model.prompts.get("passage", "")
    loss = MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    per_epoch = len(pairs) // config.batch_size
    total = per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))),
    )
    resumed_from = 0
    if state:
        optimiser.load_state_dict(torch.load(checkpoint / "optimiser.pt", weights_only=True))
        schedule.load_state_dict(torch.load(checkpoint / "schedule.pt", weights_only=True))
        resumed_from = state["step"]
    step = resumed_from
    model.train()
    budget = None if config.max_minutes is None else config.max_minutes * 60
    complete = True
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        order = torch.randperm(
            len(pairs), generator=torch.Generator().manual_seed(config.seed + epoch)
        )
        picked = order[offset * config.batch_size : (offset + 1) * config.batch_size].tolist()
        texts = [
            model.preprocess([query_prompt + pairs[i][0] for i in picked]),
            model.preprocess([passage_prompt + pairs[i][1] for i in picked]),
        ]
        if negatives:
            texts.append(model.preprocess([passage_prompt + negatives[i] for i in picked]))
        value = loss(texts, None)
        optimiser.zero_grad()
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        if on_step:
            on_step(step, total)
        if step % config.checkpoint_every == 0 and step < total:
            _save_checkpoint(model, optimiser, schedule, checkpoint, fingerprint, step)
        if budget is not None and time.monotonic() - started > budget and step < total:
            _save_checkpoint(model, optimiser, schedule, checkpoint, fingerprint, step)
            complete = False
            break
    model.eval()
    model.max_seq_length = encode_length
    if config.keep_base:
        _mix_with_base(model, SentenceTransformer(base_model, device="cpu"), config.keep_base)
    _save_model(model, out)
    if complete:
        shutil.rmtree(checkpoint, ignore_errors=True)
        (out / NEGATIVES).unlink(missing_ok=True)
    return AdaptResult(
        out=str(out),
        pairs=len(pairs),
        steps_done=step,
        total_steps=total,
        resumed_from=resumed_from,
        minutes=round((time.monotonic() - started) / 60, 2),
        complete=complete,
    )


def _read_state(checkpoint: Path, fingerprint: dict) -> dict | None:
    old = checkpoint.with_name(checkpoint.name + ".old")
    if not checkpoint.exists() and (old / STATE).exists():  # killed between the two renames
        os.replace(old, checkpoint)
    path = checkpoint / STATE
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("fingerprint") != fingerprint:
        raise JiebangError(
            f"{checkpoint} was written for other training settings or data; delete it to start over"
        )
    return state


def _negatives(
    pairs: list[tuple[str, str]],
    path: Path,
    fingerprint: dict,
    config: AdaptConfig,
    base_model: str,
    model,
    resumed: dict | None,
) -> list[str]:
    """The mined negatives (empty when not asked for), kept beside the checkpoint so that a
    resumed run trains on the same ones without mining again. They are mined with `model`
    (at the training length) on a fresh run, with the base model reloaded on a resumed one."""
    if not config.hard_negatives:
        return []
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fingerprint:
            return saved["negatives"]
    miner = model
    if resumed:
        from sentence_transformers import SentenceTransformer

        miner = SentenceTransformer(base_model, device="cpu")
        miner.max_seq_length = config.max_seq_length
    negatives = mine_hard_negatives(miner, pairs, config.seed)
    atomic_write(path, json.dumps({"fingerprint": fingerprint, "negatives": negatives}))
    return negatives


def _save_checkpoint(
    model, optimiser, schedule, checkpoint: Path, fingerprint: dict, step: int
) -> None:
    """Model, optimiser, schedule and step, written beside the old checkpoint then swapped in."""
    import torch

    staging = checkpoint.with_name(checkpoint.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save(str(staging / "model"))
    torch.save(optimiser.state_dict(), staging / "optimiser.pt")
    torch.save(schedule.state_dict(), staging / "schedule.pt")
    (staging / STATE).write_text(json.dumps({"fingerprint": fingerprint, "step": step}))
    _swap(staging, checkpoint)


def _mix_with_base(model, base, share: float) -> None:
    """Move every float weight of `model` `share` of the way back to `base`'s (WiSE-FT)."""
    import torch

    base_weights = base.state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.mul_(1.0 - share).add_(base_weights[name].to(tensor.dtype), alpha=share)


def _save_model(model, out: Path) -> None:
    """The sentence-transformers folder at `out` (the checkpoint folder inside it is kept)."""
    staging = out.with_name(out.name + ".partial-model")
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    out.mkdir(parents=True, exist_ok=True)
    for entry in staging.iterdir():
        target = out / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(entry, target)
    shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, target: Path) -> None:
    """Replace `target` by `staging`: a crash leaves one complete copy (`.old` or new)."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
