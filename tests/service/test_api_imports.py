"""Uploading a challenge list to a real server: preview, import (keyed), shortlist workbook."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.files import challenge_docx_list, challenge_xlsx, real_challenges

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def sources(shared_data: Path):
    return real_challenges(shared_data, count=4)


def upload(path: Path, **fields: object) -> dict:
    return {
        "files": {"file": (path.name, path.read_bytes())},
        "data": {name: str(value).lower() for name, value in fields.items()},
    }


def stored_ids(client) -> set[str]:
    return {c["id"] for c in client.get("/challenges").json()["challenges"]}


def test_preview_import_and_reimport(live_server, api_key, sources, tmp_path) -> None:
    path = challenge_xlsx(tmp_path / "榜单.xlsx", sources)
    with live_server.client() as anonymous:
        assert anonymous.post("/challenges/import", **upload(path)).status_code == 401
    with live_server.client(api_key) as client:
        before = stored_ids(client)
        preview = client.post("/challenges/import", **upload(path, dry_run=True))
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert (body["file"], body["stored"], body["skipped"]) == ("榜单.xlsx", False, [])
        assert [c["text"] for c in body["challenges"]] == [s.text for s in sources]
        assert [c["issuer"] for c in body["challenges"]] == [s.issuer for s in sources]
        assert body["challenges"][0]["origin"] == "榜单.xlsx · sheet '榜单' row 5"
        assert stored_ids(client) == before  # a preview stores nothing

        first = client.post("/challenges/import", **upload(path))
        assert first.status_code == 201, first.text
        assert (first.json()["new"], first.json()["replaced"]) == (len(sources), 0)
        ids = [c["id"] for c in first.json()["challenges"]]
        assert stored_ids(client) == before | set(ids)
        again = client.post("/challenges/import", **upload(path)).json()
        assert (again["new"], again["replaced"]) == (0, len(sources))  # no duplicates
        assert stored_ids(client) == before | set(ids)

        one = client.get(f"/challenges/{ids[0]}").json()
        assert (one["title"], one["area"], one["area_inferred"]) == (
            sources[0].title, sources[0].area, False
        )  # fmt: skip
        ranked = client.get(f"/challenges/{ids[0]}/candidates", params={"top": 3})
        assert ranked.status_code == 200 and len(ranked.json()["candidates"]) == 3
        for challenge_id in ids:  # the server is shared: leave it clean
            assert client.delete(f"/challenges/{challenge_id}").status_code == 204


def test_a_bad_item_stores_nothing_unless_skipped(live_server, api_key, sources, tmp_path):
    book = Workbook()
    book.active.title = "需求"
    book.active.append(["序号", "需求名称", "需求描述"])
    book.active.append([1, sources[0].title, sources[0].description])
    book.active.append([2, None, None, "备注"])
    path = tmp_path / "需求表.xlsx"
    book.save(path)
    with live_server.client(api_key) as client:
        before = stored_ids(client)
        refused = client.post("/challenges/import", **upload(path))
        assert refused.status_code == 422
        assert refused.json()["error"] == {
            "code": "invalid_upload",
            "message": "无法导入：需求表.xlsx: sheet '需求' row 3: empty text: no name (榜单名称) "
            "and no description",
        }
        assert stored_ids(client) == before
        skipped = client.post("/challenges/import", **upload(path, skip_invalid=True))
        assert skipped.status_code == 201
        assert skipped.json()["skipped"] == [
            "需求表.xlsx: sheet '需求' row 3: empty text: no name (榜单名称) and no description"
        ]
        (challenge,) = skipped.json()["challenges"]
        assert challenge["area_inferred"] is True  # the file gives no area
        assert client.delete(f"/challenges/{challenge['id']}").status_code == 204

        unknown = client.post(
            "/challenges/import", files={"file": ("list.xls", b"\xd0\xcf\x11\xe0 binary")}
        )
        assert unknown.status_code == 415
        assert unknown.json()["error"]["message"].startswith("list.xls：不支持的文件类型「.xls」")
        corrupt = client.post("/challenges/import", files={"file": ("x.docx", b"PK\x03\x04junk")})
        assert corrupt.status_code == 422
        assert corrupt.json()["error"]["message"].startswith(
            "无法导入：x.docx: not a readable .docx file"
        )
        assert "/tmp" not in corrupt.text  # the server's upload folder stays private


def test_shortlist_workbook_for_an_uploaded_list(live_server, sources, tmp_path) -> None:
    path = challenge_docx_list(tmp_path / "揭榜挂帅.docx", sources, "（一）")
    with live_server.client() as client:  # a query: no key needed
        response = client.post("/match/file", **upload(path, top=3))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert (
        "%E6%8F%AD%E6%A6%9C%E6%8C%82%E5%B8%85-shortlist.xlsx"
        in (response.headers["content-disposition"])
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 1 + len(sources)
    summary = list(book["汇总"].iter_rows(values_only=True))
    header = summary.index(next(r for r in summary if r[0] == "序号"))
    rows = summary[header + 1 :]
    assert [row[2] for row in rows] == [s.title for s in sources]
    assert all(row[6] and 0 <= row[7] <= 1 and row[8] >= 0 for row in rows)
    assert [row[9] for row in rows] == book.sheetnames[1:]
    sheet = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    assert sheet[1] == ("挑战", sources[0].text) + (None,) * 7
    candidates = sheet[sheet.index(next(r for r in sheet if r[0] == "排名")) + 1 :]
    assert len(candidates) == 3 and [r[0] for r in candidates] == [1, 2, 3]


def test_shortlist_cells_are_formula_safe(live_server, sources, tmp_path) -> None:
    path = tmp_path / "公式.csv"
    path.write_text(
        f'榜单名称,技术内容\n=HYPERLINK("http://x"),{sources[0].description}\n', encoding="utf-8"
    )
    with live_server.client() as client:
        response = client.post("/match/file", **upload(path, top=2))
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    cells = [c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)
