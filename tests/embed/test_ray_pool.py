"""Scale-out on a real Ray cluster (started here, loopback only, 2 CPUs): parity, resume, retries.

Every test talks to Ray on loopback only, whatever this machine's interfaces: the head is
started on 127.0.0.1 with Ray's loopback switch and a token of its own (`tests.embed.ray_head`),
and the drivers get the token but not the switch, so `RayEncoderPool` must keep them on loopback
itself. One test repeats a driver in a network namespace of the other shape (an outward address
if this machine has none, none if it has one), so both shapes are covered on every machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, SHARED_DATA
from tests.embed.ray_head import (
    RayHead,
    cluster_env,
    free_port,
    has_outward_address,
    outward_sockets,
)
from tests.embed.ray_probe import REPORT_MARK

pytest.importorskip("ray")

BIN = Path(sys.executable).parent
PATENTS = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"
# A driver that is still running after this long is stuck, not slow (40 patents take ~1 min).
DRIVER_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def head(tmp_path_factory) -> RayHead:
    """A Ray head on 127.0.0.1 with 2 CPUs, stopped (its own processes only) after the module."""
    started = RayHead(cluster_env(), tmp_path_factory.mktemp("ray")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def cluster(head: RayHead) -> str:
    return head.address


def _driver_env(head_env: dict[str, str]) -> dict[str, str]:
    """A driver's environment: the cluster's token, and not Ray's loopback switch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return {**env, **{k: v for k, v in head_env.items() if k.startswith("RAY_AUTH")}}


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


def _env(test_home: Path, home: Path, head: RayHead | None = None) -> dict[str, str]:
    """A fresh home (an empty embedding cache) sharing the materialised models."""
    return {
        **(_driver_env(head.env) if head else os.environ),
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
    try:
        out, err = process.communicate(timeout=DRIVER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        command = " ".join(map(str, process.args[1:]))
        pytest.fail(f"`jiebang {command}` still running after {DRIVER_TIMEOUT_S} s:\n"
                    f"{err.decode()[-3000:]}")  # fmt: skip
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode()


def _probe(args: list[str], env: dict[str, str]) -> dict:
    """Run `tests.embed.ray_probe` (a driver in a process of its own); its JSON report."""
    command = [sys.executable, "-m", "tests.embed.ray_probe", *args]
    try:
        done = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as stuck:
        pytest.fail(f"the Ray driver probe still running after {DRIVER_TIMEOUT_S} s:\n"
                    f"{(stuck.stderr or b'')[-3000:]!r}")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return _report(done.stdout)


def _report(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith(REPORT_MARK)]
    assert lines, f"the probe printed no report:\n{stdout[-3000:]}"
    return json.loads(lines[-1].removeprefix(REPORT_MARK))


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
    head, real_patents, local_output, test_home, tmp_path
):
    distributed = tmp_path / "ray.jsonl"
    args = ["patents", "match", str(real_patents), "--out", str(distributed), *COMMON,
            "--engine", "ray", "--address", head.address, "--workers", "2"]  # fmt: skip
    _finish(_jiebang(args, _env(test_home, tmp_path / "b", head), tmp_path))
    assert distributed.read_bytes() == local_output.read_bytes()
    assert len(local_output.read_text().splitlines()) == 40
    rejects = [
        p.with_name(p.stem + ".rejects.jsonl").read_text() for p in (local_output, distributed)
    ]
    assert rejects[0] == rejects[1] and len(rejects[0].splitlines()) == 2


def test_a_killed_ray_driver_resumes_to_the_same_output(
    head, real_patents, local_output, test_home, tmp_path
):
    out = tmp_path / "ray.jsonl"
    args = ["patents", "match", str(real_patents), "--out", str(out), *COMMON,
            "--engine", "ray", "--address", head.address]  # fmt: skip
    env = _env(test_home, tmp_path / "b", head)
    driver = _jiebang(args, env, tmp_path)
    checkpoint = out.with_name(out.name + ".checkpoint.json")
    deadline = time.monotonic() + DRIVER_TIMEOUT_S
    while driver.poll() is None:
        if checkpoint.exists() and json.loads(checkpoint.read_text())["rows_done"] >= 16:
            break
        if time.monotonic() > deadline:
            driver.kill()
            pytest.fail(f"no checkpoint of 16 rows after {DRIVER_TIMEOUT_S} s")
        time.sleep(0.05)
    assert driver.poll() is None, "the run finished before it could be killed"
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=60)
    done = json.loads(checkpoint.read_text())["rows_done"]
    assert 16 <= done < 42
    output = _finish(_jiebang([*args, "--resume"], env, tmp_path))
    assert f"resumed after {done} rows" in output
    assert out.read_bytes() == local_output.read_bytes()


def test_index_build_on_ray_equals_a_local_build(head, embedder, test_home, tmp_path):
    from matcher.engine import MatchEngine

    files, engines = {}, {}
    for name, extra in (("local", []), ("ray", ["--engine", "ray", "--address", head.address])):
        env = _env(test_home, tmp_path / name, head)
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


def test_a_killed_worker_is_restarted_and_its_batches_retried(head, test_home):
    report = _probe(
        ["--home", str(test_home), "--address", head.address, "--kill-one"],
        _driver_env(head.env),
    )
    assert report["batches"] == 10 and report["max_difference"] < 1e-5
    assert report["victim"] not in report["pids_after"]  # Ray restarted it in a new process
    assert report["nodes"] == ["127.0.0.1"]
    assert report["outward_sockets"] == []  # the driver's own sockets


def test_the_cluster_listens_and_talks_on_loopback_only(head):
    assert head.processes(), "the head is not running"
    assert outward_sockets(head.processes()) == []


def test_a_driver_in_a_namespace_of_the_other_shape_stays_on_loopback(test_home):
    """The same driver and a head of its own, in a network namespace with an outward address
    when this machine has none (a veth end with an address and a default route), or with
    loopback alone when it has one."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs unshare (util-linux) and ip (iproute2) to make a network namespace")
    if subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30).returncode:
        pytest.skip("this machine does not let the tests make a network namespace (needs root)")
    outward = not has_outward_address()
    setup = "ip link set lo up"
    if outward:
        setup += (
            " && ip link add out0 type veth peer name out1 && ip link set out1 up"
            " && ip addr add 192.0.2.77/24 dev out0 && ip link set out0 up"
            " && ip route add default dev out0"
        )
    probe = f"{sys.executable} -m tests.embed.ray_probe --home {test_home} --workers 1"
    # Ray's socket paths under its temp folder must stay within AF_UNIX's 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="jb-ray-"))
    script = f"{setup} && exec {probe} --start-head {temp}"
    try:
        done = subprocess.run(
            ["unshare", "--net", "sh", "-c", script], cwd=REPO, env=_driver_env(os.environ),
            capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"the namespaced Ray probe still running after {DRIVER_TIMEOUT_S} s")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(done.stdout)
    assert report["outward_address"] is outward  # the namespace has the shape asked for
    assert report["batches"] == 10 and report["max_difference"] < 1e-5
    assert report["nodes"] == ["127.0.0.1"]
    assert report["outward_sockets"] == []  # head, GCS, raylet, workers and the driver


@pytest.mark.parametrize("fault", ["nothing listens", "wrong token"])
def test_a_cluster_that_cannot_be_joined_is_one_line_naming_its_address(
    fault, head, real_patents, test_home, tmp_path
):
    address = f"127.0.0.1:{free_port()}" if fault == "nothing listens" else head.address
    env = _env(test_home, tmp_path / "b", head)
    if fault == "wrong token":
        env["RAY_AUTH_TOKEN"] = "0" * 32
    args = ["patents", "match", str(real_patents), "--out", str(tmp_path / "o.jsonl"),
            "--engine", "ray", "--address", address]  # fmt: skip
    process = _jiebang(args, env, tmp_path)
    try:
        _, err = process.communicate(timeout=DRIVER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"`jiebang patents match` against {fault} still running after "
                    f"{DRIVER_TIMEOUT_S} s")  # fmt: skip
    message = err.decode().strip()
    assert process.returncode == 1
    assert len(message.splitlines()) == 1 and address in message, message
