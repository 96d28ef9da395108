"""The fictional demo corpus: valid, clearly illustrative, and covering every appendix area."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from corpus.catalogue import builtin_catalogue
from corpus.demo import demo_organisations_path
from corpus.loaders import load_organisations
from corpus.models import Organisation, OrgKind

# A few words an organisation working on each appendix area (by number) would use.
AREA_KEYWORDS: dict[int, tuple[str, ...]] = {
    1: ("工业互联网", "边缘计算", "工控安全", "标识解析"),
    2: ("知识图谱", "图计算", "智能网卡", "隐私计算", "数据安全", "数字孪生", "算力"),
    3: ("语音合成", "语音识别", "声学", "声码器", "语义理解"),
    4: ("工业大数据", "工业数据", "智能调度", "安全智能监控"),
    5: ("晶圆", "光刻", "EDA", "硅片", "制程"),
    6: ("数控", "电主轴", "伺服", "误差补偿", "五轴"),
    7: ("模具", "冲压", "注塑"),
    8: ("轴承", "磨削", "渗碳", "波纹度"),
    9: ("质谱", "色谱", "光谱", "红外"),
    10: ("聚合", "高分子", "树脂", "弹性体", "可降解", "高性能纤维", "橡胶"),
    11: ("电子化学品", "电子特气", "前驱体", "痕量"),
    12: ("高温合金", "耐蚀合金", "偏析", "夹杂物", "冶炼"),
    13: ("光学膜", "量子点", "聚酰亚胺", "OCA", "OLED", "离型膜", "复合膜"),
    14: ("TD-LTE", "智能家居", "可穿戴", "工业软件", "仿真", "三维"),
    15: ("锂电", "动力电池", "电池回收", "电解液", "萃取", "铅酸", "余热"),
}


@pytest.fixture(scope="module")
def organisations() -> list[Organisation]:
    return load_organisations(demo_organisations_path()).records


def _areas_of(org: Organisation) -> set[int]:
    return {no for no, words in AREA_KEYWORDS.items() if any(w in org.capability for w in words)}


def test_every_line_validates_and_ids_are_unique() -> None:
    lines = demo_organisations_path().read_text(encoding="utf-8").splitlines()
    records = [Organisation.model_validate_json(line) for line in lines]
    assert 110 <= len(records) <= 130
    assert len({r.id for r in records}) == len(records)
    assert len({r.name for r in records}) == len(records)
    assert all(r.id.startswith("demo-") for r in records)


def test_every_record_is_marked_fictional(organisations: list[Organisation]) -> None:
    assert all(org.illustrative for org in organisations)
    assert all(org.name.endswith("（示例）") for org in organisations)


def test_keywords_cover_exactly_the_catalogue_areas() -> None:
    assert set(AREA_KEYWORDS) == {area.no for area in builtin_catalogue().areas}


@pytest.mark.parametrize("area_no", sorted(AREA_KEYWORDS))
def test_each_area_has_several_organisations(
    organisations: list[Organisation], area_no: int
) -> None:
    in_area = [org for org in organisations if area_no in _areas_of(org)]
    assert len(in_area) >= 3
    assert len({org.kind for org in in_area}) >= 2, "an area should mix kinds of organisation"


def test_distractors_match_no_area(organisations: list[Organisation]) -> None:
    distractors = [org for org in organisations if not _areas_of(org)]
    assert 12 <= len(distractors) <= 18, [org.name for org in distractors]


def test_kinds_are_mixed(organisations: list[Organisation]) -> None:
    kinds = Counter(org.kind for org in organisations)
    for kind in (OrgKind.university, OrgKind.institute, OrgKind.new_rd_institution):
        assert kinds[kind] >= 8
    assert kinds[OrgKind.enterprise] >= 50
    assert kinds[OrgKind.other] >= 1


def test_regions_are_mostly_zhejiang(organisations: list[Organisation]) -> None:
    provinces = Counter(org.region.province for org in organisations)
    assert provinces["浙江省"] > len(organisations) / 2
    assert len(provinces) >= 4
    assert all(org.region.city for org in organisations)


def test_only_enterprises_report_revenue(organisations: list[Organisation]) -> None:
    with_revenue = [org for org in organisations if org.revenue_yi is not None]
    assert all(org.kind is OrgKind.enterprise for org in with_revenue)


def test_figures_are_in_consistent_units(organisations: list[Organisation]) -> None:
    """R&D spending (万元) is a fraction of revenue (亿元 = 10000 万元): catches unit slips."""
    for org in organisations:
        if org.revenue_yi is not None and org.rd_spend_wan is not None:
            assert 0.001 < org.rd_spend_wan / (org.revenue_yi * 10_000) < 0.25, org.id


def test_lead_unit_figures_span_meeting_and_missing(organisations: list[Organisation]) -> None:
    with_figures = [
        org
        for org in organisations
        if org.kind is OrgKind.enterprise
        and any(
            value is not None
            for value in (org.revenue_yi, org.rd_spend_wan, org.rd_staff, org.equipment_wan)
        )
    ]
    assert len(with_figures) >= 30

    def complete(org: Organisation) -> bool:
        figures = (org.revenue_yi, org.rd_spend_wan, org.rd_staff, org.equipment_wan)
        return all(value is not None for value in figures)

    def meets_general(org: Organisation) -> bool:
        return (
            complete(org)
            and org.revenue_yi >= 10
            and org.rd_spend_wan >= 2000
            and org.rd_staff >= 150
            and org.equipment_wan >= 2000
            and bool(org.national_bases)
        )

    def meets_only_by_relaxation(org: Organisation) -> bool:
        return (
            complete(org)
            and org.strategic_emerging is True
            and 5 <= org.revenue_yi < 10
            and org.rd_spend_wan >= 0.04 * org.revenue_yi * 10_000
        )

    assert sum(map(meets_general, with_figures)) >= 8
    assert sum(map(meets_only_by_relaxation, with_figures)) >= 4
    short = [org for org in with_figures if complete(org) and not meets_general(org)]
    assert len(short) >= 8
    assert sum(not complete(org) for org in with_figures) >= 4


def test_file_is_plain_jsonl_with_explicit_unknowns() -> None:
    """One object per line; missing figures are written as null, never as 0."""
    for line in demo_organisations_path().read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for field in ("revenue_yi", "rd_spend_wan", "rd_staff", "equipment_wan"):
            assert row[field] is None or row[field] > 0
