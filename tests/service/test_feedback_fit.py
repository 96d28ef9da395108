"""`jiebang feedback fit` on judgments posted to a real server (SQLite, or PostgreSQL with
JIEBANG_TEST_DB=postgresql): adopted only when CV agrees, used after a restart, rolled back to
the exact previous behaviour."""

from __future__ import annotations

import json
import subprocess

from tests.service.test_cli_core import JIEBANG

CHALLENGES = ("ZJ2021-15-01", "ZJ2021-05-04", "ZJ2021-06-01", "ZJ2021-09-02", "ZJ2021-01-02")


def feedback(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*JIEBANG, "feedback", *args], env=server.env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def rankings(client) -> dict[str, str]:
    """Each challenge's top 10 as the API returns them, byte for byte."""
    return {c: client.get(f"/challenges/{c}/candidates", params={"top": 10}).text
            for c in CHALLENGES}  # fmt: skip


def test_a_refit_on_contradicting_judgments_moves_confidence_and_rolls_back(
    make_server, api_key
) -> None:
    server = make_server().start()
    with server.client(api_key) as client:
        before = rankings(client)
        # Stricter assessors than the calibration: only each challenge's top candidate is
        # capable, every other shown candidate is not.
        for challenge, text in before.items():
            for rank, candidate in enumerate(json.loads(text)["candidates"]):
                grade = 2 if rank == 0 else 0
                posted = client.post(
                    f"/challenges/{challenge}/judgments",
                    json={"org_id": candidate["org_id"], "grade": grade},
                )
                assert posted.status_code == 201, posted.text  # fmt: skip
    server.stop()

    fitted = feedback(server, "fit", "--json")
    assert fitted.returncode == 0, fitted.stderr
    outcome = json.loads(fitted.stdout)
    assert outcome["adopted"] and outcome["version"] == 1, outcome
    assert outcome["after"]["log_loss"][0] < outcome["before"]["log_loss"][0]
    history = json.loads(feedback(server, "history", "--json").stdout)
    assert [(v["version"], v["active"]) for v in history] == [(1, True)]

    server.start()
    with server.client(api_key) as client:
        after = rankings(client)
    for challenge in CHALLENGES:
        old = json.loads(before[challenge])["candidates"]
        new = {c["org_id"]: c["confidence"] for c in json.loads(after[challenge])["candidates"]}
        judged_off = [c for c in old[1:] if c["org_id"] in new]
        assert judged_off and sum(new[c["org_id"]] for c in judged_off) < sum(
            c["confidence"] for c in judged_off
        ), challenge  # the judgments' way: the candidates graded 0 read lower
    server.stop()

    assert feedback(server, "rollback", "0").returncode == 0
    server.start()
    with server.client(api_key) as client:
        assert rankings(client) == before  # the previous behaviour, byte for byte
    refused = feedback(server, "rollback", "5")
    assert refused.returncode == 1 and "no adopted calibration version 5" in refused.stderr


def test_a_refit_on_too_few_judgments_is_refused_with_the_number_needed(
    make_server, api_key
) -> None:
    server = make_server().start()
    with server.client(api_key) as client:
        top = client.get(f"/challenges/{CHALLENGES[0]}/candidates", params={"top": 3}).json()
        for candidate in top["candidates"]:
            client.post(f"/challenges/{CHALLENGES[0]}/judgments",
                        json={"org_id": candidate["org_id"], "grade": 1})  # fmt: skip
    server.stop()
    refused = feedback(server, "fit")
    assert refused.returncode == 1 and "at least 40 judged candidates" in refused.stderr
    assert json.loads(feedback(server, "history", "--json").stdout) == []
