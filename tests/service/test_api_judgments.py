"""Judgments through the real server and its database (SQLite, or PostgreSQL with
JIEBANG_TEST_DB=postgresql): round trip, a later grade replacing the earlier one with the history
kept, paging, and every bad input refused with a Chinese message and a stable code."""

from __future__ import annotations

import hashlib
import uuid

import pytest

MACHINE_TOOLS = "五轴联动数控机床的高速高精插补与热误差补偿"


@pytest.fixture
def posted(live_server, api_key: str):
    """A posted challenge of its own (the server is shared), deleted afterwards."""
    with live_server.client(api_key) as client:
        challenge_id = f"U-judge-{uuid.uuid4().hex[:8]}"
        body = {"id": challenge_id, "area": "数控机床", "text": MACHINE_TOOLS}
        assert client.post("/challenges", json=body).status_code == 201
        yield challenge_id
        client.delete(f"/challenges/{challenge_id}")


def test_round_trip_a_later_grade_replaces_and_the_history_keeps_both(
    live_server, api_key: str, posted: str
) -> None:
    path = f"/challenges/{posted}/judgments"
    with live_server.client(api_key) as client:
        first = client.post(path, json={"org_id": "demo-037", "grade": 1, "note": " 有样机 "})
        assert first.status_code == 201, first.text
        assert first.headers["Location"] == path
        stored = first.json()
        assert stored["challenge_id"] == posted and stored["org_id"] == "demo-037"
        assert (stored["grade"], stored["note"]) == (1, "有样机")
        assert stored["challenge_text"] == f"数控机床：{MACHINE_TOOLS}"  # what was ranked
        assert stored["challenge_area"] == "数控机床"
        assert stored["by"] == hashlib.sha256(api_key.encode()).hexdigest()[:8]
        assert "key_hash" not in stored and api_key not in first.text
        assert stored["created_at"].endswith(("Z", "+00:00"))

        assert client.post(path, json={"org_id": "demo-037", "grade": 2}).status_code == 201
        assert client.post(path, json={"org_id": "demo-041", "grade": 0}).status_code == 201

        current = client.get(path).json()
        assert current["total"] == 2
        assert [(j["org_id"], j["grade"], j["note"]) for j in current["items"]] == [
            ("demo-041", 0, None),
            ("demo-037", 2, None),  # the later grade replaced 1 (and its note)
        ]
        history = client.get(path, params={"history": "true"}).json()
        assert history["total"] == 3
        assert [j["grade"] for j in history["items"] if j["org_id"] == "demo-037"] == [2, 1]

        # A judgment keeps the challenge's text as it was when judged.
        edited = client.put(f"/challenges/{posted}", json={"area": "数控机床", "text": "电主轴"})
        assert edited.status_code == 200, edited.text
        again = client.post(path, json={"org_id": "demo-041", "grade": 1}).json()
        assert again["challenge_text"] == "数控机床：电主轴"
        texts = {
            j["id"]: j["challenge_text"]
            for j in client.get(path, params={"history": 1}).json()["items"]
        }
        assert texts[stored["id"]] == f"数控机床：{MACHINE_TOOLS}"

        # The challenge gone, its judgments stay (the evaluation set still needs them).
        assert client.delete(f"/challenges/{posted}").status_code == 204
        assert client.get(path).json()["error"]["code"] == "challenge_not_found"
        everything = client.get("/judgments", params={"history": "true", "limit": 1000}).json()
        assert sum(j["challenge_id"] == posted for j in everything["items"]) == 4


def test_a_catalogue_challenge_is_judged_on_its_ranked_text(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        challenge = client.get("/challenges/ZJ2021-06-01").json()
        judged = client.post(
            "/challenges/ZJ2021-06-01/judgments", json={"org_id": "demo-037", "grade": 2}
        )
        assert judged.status_code == 201, judged.text
        assert judged.json()["challenge_text"] == f"{challenge['area']}：{challenge['text']}"
        assert judged.json()["challenge_area"] == challenge["area"]


def test_all_judgments_are_paged_newest_first_with_the_total(
    live_server, api_key: str, posted: str
) -> None:
    with live_server.client(api_key) as client:
        before = client.get("/judgments").json()["total"]
        for org in ("demo-037", "demo-038", "demo-039", "demo-040", "demo-041"):
            body = {"org_id": org, "grade": 1}
            assert client.post(f"/challenges/{posted}/judgments", json=body).status_code == 201
        whole = client.get("/judgments", params={"limit": 5}).json()
        assert whole["total"] == before + 5
        assert [j["org_id"] for j in whole["items"]] == [
            "demo-041", "demo-040", "demo-039", "demo-038", "demo-037",
        ]  # fmt: skip
        pages = [
            client.get("/judgments", params={"offset": o, "limit": 2}).json() for o in (0, 2, 4)
        ]
        assert {page["total"] for page in pages} == {before + 5}
        assert [j["id"] for page in pages for j in page["items"]][:5] == [
            j["id"] for j in whole["items"]
        ]
        assert client.get("/judgments", params={"limit": 0}).status_code == 422
        assert client.get("/judgments", params={"limit": 1001}).status_code == 422
        assert client.get("/judgments", params={"offset": -1}).status_code == 422
        assert client.get("/limits").json()["note_chars"] == 2000


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"org_id": "demo-037", "grade": 3}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037", "grade": "x"}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037", "grade": "2"}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037", "grade": True}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037", "grade": 1.0}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037", "grade": -1}, "grade", "评分须为 0、1 或 2"),
        ({"org_id": "demo-037"}, "grade", "缺少评分"),
        ({"grade": 1}, "org_id", "缺少机构编号"),
        ({"org_id": "  ", "grade": 1}, "org_id", "机构编号不能为空"),
        (
            {"org_id": "demo-037", "grade": 1, "note": "备" * 2001},
            "note",
            "备注最多 2000 字，当前 2001 字",
        ),
        ({"org_id": "demo-037", "grade": 1, "score": 1}, "score", "不认识的字段"),
    ],
)
def test_bad_judgments_are_422_in_chinese(live_server, api_key, posted, body, field, says) -> None:
    path = f"/challenges/{posted}/judgments"
    with live_server.client(api_key) as client:
        response = client.post(path, json=body)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and says in error["message"], error
        assert error["detail"][0]["field"] == field
        if field == "note":
            assert error["detail"][0]["limit"] == 2000
        assert client.get(path, params={"history": "true"}).json()["total"] == 0


def test_unknown_challenge_organisation_key_or_body_type_are_refused(
    live_server, api_key: str, posted: str
) -> None:
    path = f"/challenges/{posted}/judgments"
    good = {"org_id": "demo-037", "grade": 2}
    with live_server.client(api_key) as client:
        cases = [
            (client.post("/challenges/NOPE-404/judgments", json=good), 404, "challenge_not_found",
             "没有编号为「NOPE-404」的挑战"),
            (client.post(path, json={"org_id": "no-such-org", "grade": 2}), 404,
             "organisation_not_found", "没有编号为「no-such-org」的机构"),
            (client.post(path, json=good, headers={"X-API-Key": ""}), 401, "missing_api_key",
             "缺少 API 密钥"),
            (client.post(path, json=good, headers={"X-API-Key": api_key + "x"}), 401,
             "wrong_api_key", "API 密钥不正确"),
            (client.post(path, content="org_id=demo-037&grade=2",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}), 415,
             "unsupported_media_type", "请求体须为 JSON"),
            (client.get("/challenges/NOPE-404/judgments"), 404, "challenge_not_found", "NOPE-404"),
        ]  # fmt: skip
        for response, status, code, says in cases:
            assert response.status_code == status, response.text
            error = response.json()["error"]
            assert error["code"] == code and says in error["message"], error
        assert client.get(path, params={"history": "true"}).json()["total"] == 0


def test_the_routes_and_their_errors_are_documented(live_server) -> None:
    with live_server.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    post = paths["/challenges/{challenge_id}/judgments"]["post"]
    assert {"201", "401", "404", "415", "422"} <= set(post["responses"])
    assert post["security"] == [{"ApiKey": []}]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/JudgmentIn")
    assert {"history", "offset", "limit"} == {
        p["name"] for p in paths["/judgments"]["get"]["parameters"]
    }
