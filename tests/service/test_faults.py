"""Fault injection with real processes and SIGKILL (`corpus.faults`): after each crash and a
restart, nothing acknowledged is lost, nothing is duplicated, and the index agrees with the DB."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from .test_api_jobs import patents_file
from .test_api_persistence import HYDROGEN_QUERY, NEW_ORG, ranked_ids

JIEBANG = [sys.executable, "-m", "service.cli"]


def _died(server) -> bool:
    """Wait for the server process to die of its failpoint (SIGKILL)."""
    try:
        return server.process.wait(timeout=120) == -signal.SIGKILL
    finally:
        server.process = None


@pytest.mark.parametrize("fault", ["organisation-after-db", "atomic-write:jiebang-index.zip@2"])
def test_an_upsert_killed_midway_is_complete_after_restart(make_server, api_key, fault) -> None:
    # @2: the first write of the index file is the demo index built at start-up.
    server = make_server(JIEBANG_FAULT=fault).start()
    with server.client(api_key) as client, pytest.raises(httpx.TransportError):
        client.post("/organisations", json=NEW_ORG)
    assert _died(server)
    restarted = make_server().start()
    with restarted.client(api_key) as client:
        assert client.get(f"/organisations/{NEW_ORG['id']}").json()["name"] == NEW_ORG["name"]
        assert ranked_ids(client, HYDROGEN_QUERY)[0] == NEW_ORG["id"]
    doctor = subprocess.run(
        [*JIEBANG, "doctor"], env=restarted.env, capture_output=True, text=True, timeout=300
    )
    assert doctor.returncode == 0 and "ok:" in doctor.stdout, doctor.stdout + doctor.stderr


def test_index_build_killed_mid_save_keeps_the_previous_index(cli_env, tmp_path) -> None:
    assert subprocess.run([*JIEBANG, "index", "build"], env=cli_env, timeout=600).returncode == 0
    orgs = tmp_path / "orgs.jsonl"
    orgs.write_text(json.dumps(NEW_ORG, ensure_ascii=False) + "\n", encoding="utf-8")
    killed = subprocess.run(
        [*JIEBANG, "index", "build", "--orgs", str(orgs)],
        env={**cli_env, "JIEBANG_FAULT": "atomic-write:jiebang-index.zip"},
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL
    found = subprocess.run(
        [*JIEBANG, "match", HYDROGEN_QUERY, "--json"],
        env=cli_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    ids = [c["org_id"] for c in json.loads(found.stdout)]
    assert ids and NEW_ORG["id"] not in ids  # the old (demo) index, whole


def _submit(client, rows: int) -> str:
    started = client.post(
        "/patents/match",
        files={"file": ("patents.jsonl", patents_file(rows))},
        data={"format": "jsonl", "min_confidence": "0"},
    )
    assert started.status_code == 202, started.text
    return started.json()["id"]


def _wait_done(client, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    job = client.get(f"/jobs/{job_id}").json()
    while job["status"] not in ("done", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = client.get(f"/jobs/{job_id}").json()
    return job


def _exactly_once(client, job: dict, rows: int) -> None:
    assert job["status"] == "done", job
    result = client.get(job["result_url"]).text.splitlines()
    ids = [json.loads(line)["patent_id"] for line in result]
    assert len(ids) == rows and len(set(ids)) == rows  # every patent once, none twice
    assert job["totals"]["rejected"] == 1


@pytest.mark.parametrize("nth", [1, 3])  # in the first window, and mid-run
def test_a_bulk_job_whose_owner_dies_is_taken_over_and_runs_once(make_server, api_key, nth):
    lease = {"JIEBANG_JOB_LEASE_SECONDS": "3"}
    doomed = make_server(JIEBANG_FAULT=f"bulk-window@{nth}", **lease).start()
    with doomed.client(api_key) as client:
        job_id = _submit(client, 20)
    assert _died(doomed)
    heir = make_server(**lease).start()
    with heir.client(api_key) as client:
        _exactly_once(client, _wait_done(client, job_id), 20)


def test_sigterm_checkpoints_the_running_job_and_the_next_start_resumes_it(make_server, api_key):
    server = make_server().start()
    with server.client(api_key) as client:
        job_id = _submit(client, 60)
        deadline = time.monotonic() + 120
        while client.get(f"/jobs/{job_id}").json()["progress"] == 0:
            assert time.monotonic() < deadline, f"job {job_id} made no progress in 120 s"
            time.sleep(0.2)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the signal once its graceful shutdown is done, so -SIGTERM is normal.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    server.process = None
    assert time.monotonic() - started < 30  # one window of 4 rows, then out
    assert f"job {job_id} stopped after" in server.log_tail(20_000)
    restarted = make_server().start()
    with restarted.client(api_key) as client:
        halfway = client.get(f"/jobs/{job_id}").json()
        assert halfway["status"] in ("queued", "running", "done")
        _exactly_once(client, _wait_done(client, job_id), 60)


def test_a_cancelled_job_stops_and_a_key_has_a_quota(make_server, api_key) -> None:
    server = make_server(JIEBANG_MAX_JOBS_PER_KEY="2").start()
    with server.client(api_key) as client:
        first, second = _submit(client, 80), _submit(client, 80)
        third = client.post("/patents/match", files={"file": ("p.jsonl", patents_file(5))}, data={})
        assert third.status_code == 429, third.text
        assert client.delete(f"/jobs/{first}").status_code == 204
        assert client.delete(f"/jobs/{first}").status_code == 409
        assert _wait_done(client, first)["status"] == "cancelled"
        assert client.delete(f"/jobs/{second}").status_code == 204
        assert client.get(f"/jobs/{first}/result").status_code == 409


def test_a_cache_write_killed_mid_transaction_loses_nothing_committed(tmp_path) -> None:
    script = (
        "import numpy as np, sys\n"
        "from pathlib import Path\n"
        "from embed.embedding_cache import EmbeddingCache, text_key\n"
        "cache = EmbeddingCache(Path(sys.argv[1]), 'm', 4)\n"
        "cache.put_many([text_key('', 'a'), text_key('', 'b')], np.ones((2, 4)))\n"
        "cache.put_many([text_key('', 'c')], np.ones((1, 4)))\n"
    )
    path = tmp_path / "cache.sqlite"
    env = {**os.environ, "JIEBANG_FAULT": "cache-put@2"}
    killed = subprocess.run([sys.executable, "-c", script, str(path)], env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 2


def test_two_processes_racing_for_one_job_one_wins(tmp_path) -> None:
    from service.db import Database, JobRow, JobStatus

    database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    database.upgrade()
    job_id = uuid.uuid4().hex
    database.add_job(
        JobRow(id=job_id, kind="k", status=JobStatus.queued, input_path="x", params={}, totals={})
    )
    assert database.claim_job(job_id, "a", 60) and not database.claim_job(job_id, "b", 60)
    assert database.renew_lease(job_id, "a", 60) and not database.renew_lease(job_id, "b", 60)
    assert database.claim_job(job_id, "a", -1)  # ours, now expired
    assert database.claim_job(job_id, "b", 60)  # taken over
    assert not database.renew_lease(job_id, "a", 60)
