"""Loading JSONL and CSV files into records; every bad row is named by file and line."""

import json

import pytest

from corpus.errors import DataError
from corpus.loaders import (
    load_challenges,
    load_organisations,
    load_patents,
    load_records,
)
from corpus.models import OrgKind, Patent, Region


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def jsonl(*rows):
    return "\n".join(
        row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows
    )


ORGS_CSV = (
    "id,name,kind,city,province,national_bases,revenue_yi,strategic_emerging\n"
    "o1,浙江甲精机,enterprise,杭州,浙江省,国家企业技术中心；国家工程研究中心;,12.5,true\n"
    "o2,乙大学,university,,,,,\n"
)


def test_csv_maps_cells_lists_and_region(tmp_path):
    report = load_organisations(write(tmp_path / "orgs.csv", ORGS_CSV))
    first, second = report.records
    assert first.kind is OrgKind.enterprise
    assert first.region == Region(city="杭州", province="浙江省")
    assert first.national_bases == ["国家企业技术中心", "国家工程研究中心"]
    assert first.revenue_yi == 12.5 and first.strategic_emerging is True
    # Empty cells are unknown, not zero.
    assert second.revenue_yi is None and second.strategic_emerging is None
    assert second.region == Region() and second.national_bases == []
    assert report.rejects == []


def test_csv_region_as_json_cell(tmp_path):
    text = 'id,name,region\no1,甲,"{""city"": ""宁波"", ""province"": ""浙江省""}"\n'
    (org,) = load_organisations(write(tmp_path / "orgs.csv", text)).records
    assert org.region == Region(city="宁波", province="浙江省")


def test_csv_region_cell_that_is_not_json_names_field_and_line(tmp_path):
    path = write(tmp_path / "orgs.csv", "id,name,region\no1,甲,浙江省杭州市\n")
    with pytest.raises(DataError, match=r"orgs\.csv:2: field 'region'.*city/province"):
        load_organisations(path)


def test_bom_is_accepted_in_csv_and_jsonl(tmp_path):
    csv_report = load_organisations(write(tmp_path / "orgs.csv", "\ufeff" + ORGS_CSV))
    assert [org.id for org in csv_report.records] == ["o1", "o2"]
    path = write(tmp_path / "p.jsonl", "\ufeff" + jsonl({"id": "p1", "title": "一种数控机床"}))
    assert load_patents(path).records[0].id == "p1"


def test_jsonl_skips_blank_lines_and_keeps_line_numbers(tmp_path):
    text = jsonl({"id": "p1", "title": "甲"}, "", "   ", {"id": "p2", "title": "乙"}, "{bad")
    with pytest.raises(DataError) as raised:
        load_patents(write(tmp_path / "p.jsonl", text))
    assert raised.value.line == 5


def test_json_lines_suffix_and_crlf(tmp_path):
    path = write(
        tmp_path / "p.json-lines", '{"id": "p1", "title": "甲"}\r\n{"id": "p2", "title": "乙"}\r\n'
    )
    assert [p.id for p in load_patents(path).records] == ["p1", "p2"]


def test_bad_json_line_reports_file_and_line(tmp_path):
    path = write(
        tmp_path / "p.jsonl", jsonl({"id": "p1", "title": "甲"}, '{"id": "p2", "title": }')
    )
    with pytest.raises(DataError, match=r"p\.jsonl:2: invalid JSON") as raised:
        load_patents(path)
    assert raised.value.path == str(path) and raised.value.line == 2


def test_json_line_that_is_not_an_object(tmp_path):
    with pytest.raises(DataError, match=r":1: expected a JSON object, got list"):
        load_patents(write(tmp_path / "p.jsonl", "[1, 2]\n"))


def test_missing_field_names_field_and_line(tmp_path):
    path = write(tmp_path / "o.jsonl", jsonl({"id": "o1", "name": "甲"}, {"id": "o2"}))
    with pytest.raises(DataError, match=r"o\.jsonl:2: missing required field 'name'"):
        load_organisations(path)


def test_invalid_value_names_field_in_one_line(tmp_path):
    path = write(tmp_path / "o.csv", "id,name,rd_staff\no1,甲,很多\n")
    with pytest.raises(DataError) as raised:
        load_organisations(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:2: invalid field 'rd_staff'")
    assert "很多" in message and "\n" not in message


def test_duplicate_id_names_both_lines(tmp_path):
    text = jsonl(
        {"id": "p1", "title": "甲"}, {"id": "p2", "title": "乙"}, {"id": "p1", "title": "丙"}
    )
    with pytest.raises(DataError, match=r"p\.jsonl:3: duplicate id 'p1' \(first on line 1\)"):
        load_patents(write(tmp_path / "p.jsonl", text))


def test_gbk_file_is_a_clear_error(tmp_path):
    path = write(tmp_path / "orgs.csv", ORGS_CSV, encoding="gbk")
    with pytest.raises(DataError, match=r"orgs\.csv:2: not UTF-8 text .*GBK") as raised:
        load_organisations(path)
    assert raised.value.line == 2


def test_unreadable_and_unsupported_files(tmp_path):
    with pytest.raises(DataError, match=r"missing\.csv: cannot read file"):
        load_organisations(tmp_path / "missing.csv")
    with pytest.raises(DataError, match=r"unsupported file type '\.xls'"):
        load_organisations(write(tmp_path / "orgs.xls", ORGS_CSV))
    with pytest.raises(DataError, match=r"orgs\.xlsx: not a valid \.xlsx file \(corrupt"):
        load_organisations(write(tmp_path / "orgs.xlsx", ORGS_CSV))


def test_skip_invalid_collects_every_reject_with_its_line(tmp_path):
    text = (
        "id,title,applicants\n"
        "p1,一种轴承,甲公司;乙大学\n"
        ",缺编号,\n"  # line 3: empty id
        '"p3","一种\n跨行标题",丙\n'  # lines 4-5: one record spanning two lines
        "p1,重复,\n"  # line 6: duplicate
        "p5,多一列,丁,多余\n"  # line 7: more cells than columns
    )
    report = load_records(write(tmp_path / "p.csv", text), Patent, skip_invalid=True)
    assert [p.id for p in report.records] == ["p1", "p3"]
    assert report.records[0].applicants == ["甲公司", "乙大学"]
    assert report.records[1].title == "一种\n跨行标题"
    assert [e.line for e in report.rejects] == [3, 6, 7]
    assert report.rejects[0].reason == "missing required field 'id'"
    assert report.rejects[1].reason == "duplicate id 'p1' (first on line 2)"
    assert report.rejects[2].reason == "more cells than header columns"


def test_user_challenges_without_an_id_get_one_from_their_area_and_text(tmp_path):
    text = jsonl(
        {"area": " 氢能装备", "text": "高压储氢瓶碳纤维缠绕工艺 "},
        {"id": "MINE-1", "area": "数控机床", "text": "五轴联动误差补偿", "source": "builtin"},
    )
    asked: list[tuple[str, str]] = []

    def new_id(area: str, text: str) -> str:
        asked.append((area, text))
        return f"NEW-{len(asked)}"

    first, second = load_challenges(write(tmp_path / "c.jsonl", text), new_id=new_id).records
    assert (first.id, second.id) == ("NEW-1", "MINE-1")
    assert asked == [("氢能装备", "高压储氢瓶碳纤维缠绕工艺")]  # stripped; given ids kept
    assert first.source == second.source == "user"


def test_user_challenge_without_text_names_text_not_id(tmp_path):
    path = write(tmp_path / "c.csv", "id,area,text\n,氢能装备,\n")
    with pytest.raises(DataError, match=r"c\.csv:2: missing required field 'text'$"):
        load_challenges(path, new_id=lambda area, text: "ID")


def test_a_json_string_where_a_list_belongs_is_split(tmp_path):
    path = tmp_path / "patents.jsonl"
    row = {"id": "CN1", "title": "一种锂电池回收方法", "assignee": "甲公司；乙大学"}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_patents(path).records[0].applicants == ["甲公司", "乙大学"]
