"""Every write route needs the key; bad input is a clear 4xx JSON error, never a 500."""

from __future__ import annotations

import re

import httpx
import pytest

WRITE_METHODS = {"post", "put", "patch", "delete"}
# POST routes that only query (ranking ad-hoc text): reads, open unless reads are keyed.
READ_QUERIES = {("post", "/match"), ("post", "/match/export"), ("post", "/match/file")}
JSON = {"Content-Type": "application/json"}


def operations(client: httpx.Client) -> list[tuple[str, str, dict]]:
    document = client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


def test_every_write_route_requires_the_key(live_server, api_key: str) -> None:
    with live_server.client() as client:
        writes = [
            (method, path, op)
            for method, path, op in operations(client)
            if method in WRITE_METHODS and (method, path) not in READ_QUERIES
        ]
        assert {(m, p) for m, p, _ in writes} >= {
            ("post", "/challenges"),
            ("delete", "/challenges/{challenge_id}"),
            ("post", "/organisations"),
            ("delete", "/organisations/{org_id}"),
            ("post", "/patents/match"),
        }
        for method, path, operation in writes:
            assert operation.get("security") == [{"ApiKey": []}], f"{method} {path} undocumented"
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": api_key + "x"}):
                response = client.request(method.upper(), concrete(path), headers=headers, json={})
                assert response.status_code == 401, f"{method} {path} {headers}: {response.text}"
                assert response.json()["error"]


def test_reads_are_open_by_default(live_server) -> None:
    with live_server.client() as client:
        for method, path, _ in operations(client):
            if method == "get" and "{" not in path and path != "/roadmap":
                assert client.get(path).status_code == 200, path


def test_reads_can_be_keyed(make_server, api_key: str) -> None:
    server = make_server(cli=True, JIEBANG_READ_REQUIRES_KEY="true").start()  # `jiebang serve`
    with server.client() as client:
        assert client.get("/challenges").status_code == 401
        assert client.post("/match", json={"text": "光刻胶"}).status_code == 401
        assert client.get("/healthz").status_code == 200
    with server.client(api_key) as client:
        assert client.get("/challenges").status_code == 200
        assert client.post("/match", json={"text": "光刻胶"}).status_code == 200


@pytest.mark.parametrize(
    ("request_kwargs", "status", "says"),
    [
        ({"json": {"text": ""}}, 422, "text"),
        ({"json": {"text": "   \n "}}, 422, "empty"),
        ({"json": {"text": "光刻胶" * 7000}}, 422, "text"),
        ({"json": {"text": "光刻胶\x01"}}, 422, "control characters"),
        ({"json": {"text": "光刻胶", "top": 0}}, 422, "top"),
        ({"json": {"text": "光刻胶", "kind": "castle"}}, 422, "kind"),
        ({"json": {"text": "光刻胶", "surprise": 1}}, 422, "surprise"),
        ({"content": b"{not json", "headers": JSON}, 422, "JSON"),
        ({"content": b"\x8a|d", "headers": JSON}, 422, "UTF-8"),  # was FastAPI's bare 400
        ({"content": "光刻胶".encode(), "headers": {"Content-Type": "text/plain"}}, 415, "JSON"),
        ({"content": b"x" * 3_000_000, "headers": JSON}, 413, "larger"),
    ],
)
def test_bad_match_requests_get_clear_4xx(live_server, request_kwargs, status, says) -> None:
    with live_server.client() as client:
        response = client.post("/match", **request_kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert says.lower() in body["error"].lower()
    assert "Traceback" not in response.text


def test_streamed_body_without_length_is_bounded(live_server) -> None:
    def chunks():
        for _ in range(40):
            yield b"x" * 100_000

    with live_server.client() as client:
        response = client.post(
            "/match", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert "larger" in response.json()["error"]


def test_unknown_ids_and_duplicates(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        for path in ("/challenges/NOPE-1", "/challenges/NOPE-1/candidates", "/organisations/nope",
                     "/jobs/nope", "/jobs/nope/result", "/challenges/NOPE-1/solvers"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 404, path
            assert "nope" in response.json()["error"].lower()
        assert client.get("/no/such/route").json() == {"error": "Not Found"}
        org = {"id": "dup-1", "name": "重复机构（示例）", "capability": "精密铸造"}
        assert client.post("/organisations", json=org).status_code == 201
        duplicate = client.post("/organisations", json=org)
        assert duplicate.status_code == 409
        assert "replace=true" in duplicate.json()["error"]
        assert client.delete("/organisations/dup-1").status_code == 204


def test_malformed_uploads(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        cases = [
            (("patents.txt", b'{"title": "x"}\n'), 415, "unsupported file type"),
            (("patents.jsonl", b""), 422, "empty"),
            (("patents.jsonl", b"{broken\n[1,2]\n"), 422, "no readable patent"),
            (("patents.csv", b"\xff\xfe\x00garbage\n\x00\x01"), 422, "patent"),
        ]
        for file, status, says in cases:
            response = client.post("/patents/match", files={"file": file})
            assert response.status_code == status, (file, response.text)
            assert says in response.json()["error"]
        missing = client.post("/patents/match", data={"top": "3"})
        assert missing.status_code == 422
        assert "file" in missing.json()["error"]
