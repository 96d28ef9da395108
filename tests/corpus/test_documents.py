"""Challenge lists and patent exports from XLSX, DOCX and PDF files written from real texts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from corpus.documents.challenges import read_challenge_items
from corpus.documents.errors import DocumentError
from corpus.errors import DataError
from corpus.loaders import load_organisations, load_patents
from matcher.patents.reader import iter_patent_rows
from tests.files import (
    LIST_STYLES,
    challenge_docx_list,
    challenge_docx_table,
    challenge_pdf_list,
    challenge_pdf_table,
    challenge_xlsx,
    encrypted_pdf,
    patent_xlsx,
    real_challenges,
    scanned_pdf,
)


@pytest.fixture
def sources(shared_data: Path):
    return real_challenges(shared_data)


def texts(path: Path) -> list[str]:
    return [item.text for item in read_challenge_items(path).items]


def test_xlsx_with_a_two_row_merged_header_and_blank_rows(sources, tmp_path: Path) -> None:
    report = read_challenge_items(challenge_xlsx(tmp_path / "榜单.xlsx", sources))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert [item.title for item in report.items] == [s.title for s in sources]
    # The area cell is merged down over its items: each of them gets it.
    assert [item.area for item in report.items] == [s.area for s in sources]
    assert [item.issuer for item in report.items] == [s.issuer for s in sources]
    assert [item.deadline for item in report.items] == [s.deadline.isoformat() for s in sources]
    assert report.items[0].where.describe() == "sheet '榜单' row 5"
    assert report.rejects == []


def test_docx_table(sources, tmp_path: Path) -> None:
    report = read_challenge_items(challenge_docx_table(tmp_path / "需求.docx", sources))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert [item.area for item in report.items] == [s.area for s in sources]
    assert report.items[0].deadline == f"{sources[0].deadline:%Y年%m月%d日}"
    assert report.items[2].where.describe() == "table 1 row 4"


@pytest.mark.parametrize("style", LIST_STYLES)
def test_docx_numbered_list(sources, tmp_path: Path, style: str) -> None:
    report = read_challenge_items(challenge_docx_list(tmp_path / "榜单.docx", sources, style))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert [item.issuer for item in report.items] == [s.issuer for s in sources]
    # Items numbered 一、 have no sections above them; the others sit under 一、<area>.
    areas = [None] * len(sources) if style == "一、" else [s.area for s in sources]
    assert [item.area for item in report.items] == areas


def test_pdf_numbered_list_with_wrapped_lines(sources, tmp_path: Path) -> None:
    report = read_challenge_items(challenge_pdf_list(tmp_path / "榜单.pdf", sources))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert [item.area for item in report.items] == [s.area for s in sources]
    assert report.items[0].where.describe() == "page 1 item 1"


def test_pdf_list_over_several_pages_with_page_numbers(shared_data, tmp_path: Path) -> None:
    sources = real_challenges(shared_data, count=16)
    path = challenge_pdf_list(tmp_path / "长榜单.pdf", sources, "1.")
    report = read_challenge_items(path)
    assert [item.text for item in report.items] == [s.text for s in sources]
    pages = {item.where.page for item in report.items}
    assert len(pages) >= 2  # the list runs over pages; their "- n -" footers are not text


def test_pdf_ruled_table_with_wrapped_cells(sources, tmp_path: Path) -> None:
    report = read_challenge_items(challenge_pdf_table(tmp_path / "榜单.pdf", sources))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert [item.issuer for item in report.items] == [s.issuer for s in sources]
    assert report.items[0].where.describe().startswith("page 1 table 1 row 2")


def test_pdf_table_broken_over_pages(shared_data, tmp_path: Path) -> None:
    sources = real_challenges(shared_data, count=16)
    report = read_challenge_items(challenge_pdf_table(tmp_path / "长表.pdf", sources))
    assert [item.text for item in report.items] == [s.text for s in sources]
    assert report.items[-1].where.page > 1 and report.items[-1].where.table > 1


def test_a_scanned_pdf_is_refused_saying_why(sources, tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "扫描件.pdf", sources)
    with pytest.raises(DocumentError, match=r"扫描件\.pdf: page 1: no text layer \(a scanned"):
        read_challenge_items(path)


# --- bad input ----------------------------------------------------------------------------


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def workbook(path: Path, rows: list[list], sheets: dict[str, list[list]] | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "榜单"
    for row in rows:
        book.active.append(row)
    for name, extra in (sheets or {}).items():
        sheet = book.create_sheet(name)
        for row in extra:
            sheet.append(row)
    book.save(path)
    return path


def test_unknown_format_corrupt_and_encrypted_files(sources, tmp_path: Path) -> None:
    cases = {
        "list.xls": r"list\.xls: '\.xls' is an old binary format; save it as \.xlsx",
        "list.txt": r"list\.txt: unsupported file type \(\.txt\); use \.jsonl",
        "renamed.xlsx": r"renamed\.xlsx: not a valid \.xlsx file \(corrupt or renamed\)",
        "locked.docx": r"locked\.docx: password-protected \(encrypted\)",
        "broken.docx": r"broken\.docx: not a readable \.docx file \(corrupt\?\)",
        "broken.pdf": r"broken\.pdf: not a readable PDF \(corrupt\?\)",
    }
    (tmp_path / "list.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "list.txt").write_text(sources[0].text, encoding="utf-8")
    (tmp_path / "renamed.xlsx").write_text("序号,榜单名称\n1,x\n", encoding="utf-8")
    # Office saves a password-protected file as an OLE container, not a zip.
    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with zipfile.ZipFile(tmp_path / "broken.docx", "w") as archive:
        archive.writestr("hello.txt", "not a document")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    for name, pattern in cases.items():
        with pytest.raises(DocumentError) as error:
            read_challenge_items(tmp_path / name)
        assert error.match(pattern), one_line(error)
    with pytest.raises(DocumentError) as error:
        read_challenge_items(encrypted_pdf(tmp_path / "加密.pdf", sources))
    assert one_line(error) == "%s: password-protected (encrypted) PDF; save an unprotected copy" % (
        tmp_path / "加密.pdf"
    )


def test_no_header_no_text_column_and_empty_rows_name_the_place(sources, tmp_path) -> None:
    s = sources[0]
    no_header = workbook(tmp_path / "a.xlsx", [["说明"], [s.title, s.description]])
    with pytest.raises(DocumentError) as error:
        read_challenge_items(no_header)
    assert one_line(error).startswith(f"{no_header}: sheet '榜单': no recognisable header")

    no_text = workbook(
        tmp_path / "b.xlsx", [["序号", "所属领域", "发榜单位"], [1, s.area, s.issuer]]
    )
    with pytest.raises(DocumentError) as error:
        read_challenge_items(no_text)
    assert one_line(error).startswith(
        f"{no_text}: sheet '榜单': no text column: the header (序号 | 所属领域 | 发榜单位) names "
    )

    empty = workbook(
        tmp_path / "c.xlsx",
        [["序号", "榜单名称", "技术内容", "发榜单位"], [1, s.title, s.description, s.issuer],
         [2, None, "  ", s.issuer]],
    )  # fmt: skip
    with pytest.raises(DocumentError) as error:
        read_challenge_items(empty)
    assert one_line(error) == (
        f"{empty}: sheet '榜单' row 3: empty text: no name (榜单名称) and no description"
    )

    nothing = tmp_path / "d.docx"
    import docx

    document = docx.Document()
    document.add_paragraph(s.text)
    document.save(nothing)
    with pytest.raises(DocumentError, match=r"d\.docx: no challenges found: no table"):
        read_challenge_items(nothing)


def test_skip_invalid_keeps_the_good_items_and_lists_the_bad(sources, tmp_path) -> None:
    a, b = sources[0], sources[1]
    path = workbook(
        tmp_path / "mixed.xlsx",
        [["序号", "榜单名称", "技术内容"], [1, a.title, a.description], [2, None, None, "x"],
         [3, b.title, b.description], [4, a.title, "重复"]],
        sheets={"说明": [["本表由示例单位整理"], ["联系人：示例"]]},
    )  # fmt: skip
    with pytest.raises(DocumentError, match=r"row 3: empty text"):
        read_challenge_items(path)
    report = read_challenge_items(path, skip_invalid=True)
    assert [item.text for item in report.items] == [a.text, b.text]
    assert [str(error).removeprefix(f"{path}: ") for error in report.rejects] == [
        "sheet '榜单' row 3: empty text: no name (榜单名称) and no description",
        "sheet '榜单' row 5: repeats sheet '榜单' row 2 (same name and issuer)",
        "sheet '说明': no recognisable header in the first 30 rows (expected columns such as "
        "序号, 榜单名称, 技术内容, 领域, 发榜单位, 截止时间)",
    ]
    assert all(isinstance(error, DataError) for error in report.rejects)


# --- patents and organisations ------------------------------------------------------------


def test_patent_export_with_chinese_headers_and_several_applicants(shared_data, tmp_path) -> None:
    path, rows = patent_xlsx(shared_data, tmp_path / "专利检索结果.xlsx")
    patents = load_patents(path).records
    assert [p.id for p in patents] == [row["id"] for row in rows]
    assert [p.title for p in patents] == [row["title"] for row in rows]
    assert [p.abstract for p in patents] == [row["abstract"] for row in rows]
    assert [p.applicants for p in patents] == [row["applicants"] for row in rows]
    assert any(len(p.applicants) > 1 for p in patents)
    # 申请日 wins over 公开（公告）日 (listed first among the date spellings).
    assert [p.date for p in patents] == [row["date"] for row in rows]
    assert [p.year for p in patents] == [int(row["date"][:4]) for row in rows]
    assert patents[0].ipc == ["H04L5/00"] and patents[0].address.startswith("浙江省杭州市")
    streamed = list(iter_patent_rows(path))
    assert [row.line for row in streamed] == list(range(2, len(rows) + 2))  # sheet rows
    assert [row.patent for row in streamed] == patents


def test_organisations_from_a_workbook_with_a_title_row(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "orgs.xlsx",
        [["合作单位名单"], [], ["单位编号", "单位名称", "单位类型", "所在城市", "简介"],
         ["o1", "示例大学（示例）", "university", "杭州市", "研究高分子材料"], [],
         ["o2", "示例公司（示例）", "enterprise", None, None], ["o3", None, None, None, None]],
    )  # fmt: skip
    with pytest.raises(DataError, match=r"orgs\.xlsx: sheet '榜单' row 7: missing required"):
        load_organisations(path)
    report = load_organisations(path, skip_invalid=True)
    assert [(o.id, o.kind.value, o.region.city) for o in report.records] == [
        ("o1", "university", "杭州市"),
        ("o2", "enterprise", None),
    ]


@pytest.mark.parametrize(
    ("text", "style", "number"),
    [("1.高温合金", "1.", 1), ("12．高温合金", "1.", 12), ("3、高温合金", "1、", 3),
     ("（2）高温合金", "(1)", 2), ("4）高温合金", "1)", 4), ("（十一）高温合金", "(一)", 11),
     ("二十、高温合金", "一、", 20), ("⑦高温合金", "①", 7)],
)  # fmt: skip
def test_list_numbers_in_every_style(text: str, style: str, number: int) -> None:
    from corpus.documents.numbered import marker

    found = marker(text)
    assert found is not None and (found.style, found.number, found.rest) == (
        style,
        number,
        "高温合金",
    )


@pytest.mark.parametrize("text", ["2024年计划", "一种轴承", "1.", "1..2"])
def test_text_that_only_looks_numbered_is_not_a_heading(text: str) -> None:
    from corpus.documents.numbered import marker

    assert marker(text) is None
    # "2.8英寸…": item 2 where item 2 is due, else the number 2.8 (see split_items).
    assert marker("2.8英寸碳化硅").ambiguous and not marker("2.碳化硅").ambiguous


def test_word_numbering_starts_items(sources, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("技术需求清单")
    for source in sources[:3]:
        document.add_paragraph(source.title, style="List Number")
        document.add_paragraph(source.description)
    document.save(tmp_path / "auto.docx")
    assert texts(tmp_path / "auto.docx") == [s.text for s in sources[:3]]
