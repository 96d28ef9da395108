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
                error = response.json()["error"]
                assert error["code"] in ("missing_api_key", "wrong_api_key")
                assert "密钥" in error["message"]


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
    ("request_kwargs", "status", "code", "says"),
    [
        ({"json": {"text": ""}}, 422, "invalid_input", "技术难题不能为空"),
        ({"json": {"text": "   \n "}}, 422, "invalid_input", "空白"),
        ({"json": {"text": "光刻胶" * 7000}}, 422, "invalid_input", "最多 20000 字，当前 21000 字"),
        ({"json": {"text": "😀🚀！？……123"}}, 422, "invalid_input", "须包含汉字或拉丁字母"),
        ({"json": {"text": "光刻胶\x01"}}, 422, "invalid_input", "控制字符"),
        ({"json": {"text": "光刻胶", "top": 0}}, 422, "invalid_input", "数量不能小于 1"),
        ({"json": {"text": "光刻胶", "kind": "castle"}}, 422, "invalid_input", "机构类型须为"),
        ({"json": {"text": "光刻胶", "surprise": 1}}, 422, "invalid_input", "surprise"),
        ({"content": b"{not json", "headers": JSON}, 422, "invalid_input", "JSON"),
        ({"content": b"\x8a|d", "headers": JSON}, 422, "invalid_input", "UTF-8"),  # was a bare 400
        (
            {"content": "光刻胶".encode(), "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
            "JSON",
        ),
        ({"content": b"x" * 3_000_000, "headers": JSON}, 413, "payload_too_large", "2 MB"),
    ],
)
def test_bad_match_requests_get_clear_4xx(live_server, request_kwargs, status, code, says) -> None:
    with live_server.client() as client:
        response = client.post("/match", **request_kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert says in error["message"]
    assert "Traceback" not in response.text


def test_over_long_text_is_refused_with_its_limit_never_cut(live_server, api_key) -> None:
    text = "高纯度湿电子化学品" * 5556  # 50,004 characters
    with live_server.client(api_key) as client:
        limit = client.get("/limits").json()["text_chars"]
        for path in ("/challenges", "/match"):
            response = client.post(path, json={"text": text})
            assert response.status_code == 422, path
            field = response.json()["error"]["detail"][0]
            assert (field["field"], field["code"], field["limit"]) == (
                "text",
                "string_too_long",
                limit,
            )
            assert f"最多 {limit} 字，当前 50004 字" in field["message"]
        assert all(c["text"] != text for c in client.get("/challenges").json()["challenges"])


def test_streamed_body_without_length_is_bounded(live_server) -> None:
    def chunks():
        for _ in range(40):
            yield b"x" * 100_000

    with live_server.client() as client:
        response = client.post(
            "/match", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_ids_and_duplicates(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        for path in ("/challenges/NOPE-1", "/challenges/NOPE-1/candidates", "/organisations/nope",
                     "/jobs/nope", "/jobs/nope/result", "/challenges/NOPE-1/solvers"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 404, path
            assert "NOPE" in response.json()["error"]["message"].upper()
            assert response.json()["error"]["code"].endswith("_not_found")
        assert client.get("/no/such/route").json() == {
            "error": {"code": "route_not_found", "message": "没有这个地址"}
        }
        org = {"id": "dup-1", "name": "重复机构（示例）", "capability": "精密铸造"}
        assert client.post("/organisations", json=org).status_code == 201
        duplicate = client.post("/organisations", json=org)
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["code"] == "organisation_exists"
        assert "replace=true" in duplicate.json()["error"]["message"]
        assert client.delete("/organisations/dup-1").status_code == 204


def test_malformed_uploads(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        cases = [
            (("patents.txt", b'{"title": "x"}\n'), 415, "不支持的文件类型"),
            (("patents.jsonl", b""), 422, "空的"),
            (("patents.jsonl", b"{broken\n[1,2]\n"), 422, "没有一条可读的专利"),
            (("patents.csv", b"\xff\xfe\x00garbage\n\x00\x01"), 422, "专利"),
        ]
        for file, status, says in cases:
            response = client.post("/patents/match", files={"file": file})
            assert response.status_code == status, (file, response.text)
            assert says in response.json()["error"]["message"]
        missing = client.post("/patents/match", data={"top": "3"})
        assert missing.status_code == 422
        assert missing.json()["error"]["detail"][0]["field"] == "file"
        assert missing.json()["error"]["message"] == "缺少文件"
