"""Landscape counts on a hand-counted matches fixture; name heuristics; files written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from corpus.errors import DataError
from corpus.models import Organisation, OrgKind, Region
from corpus.names import infer_kind, infer_province
from matcher.patents.bulk import ChallengeMatch, PatentMatches
from matcher.patents.landscape import build_landscape
from service.export.bulk import open_writer, read_matches
from service.export.landscape import write_landscape

ALLOY_1 = (
    "ZJ2021-12-01",
    12,
    "高端金属合金材料",
    "高温合金、耐蚀合金等高端金属合金材料的高纯洁度冶炼",
)
ALLOY_2 = ("ZJ2021-12-02", 12, "高端金属合金材料", "实现材料均匀、精细变形等")
SPINDLE = ("ZJ2021-06-01", 6, "数控机床", "高速大功率高刚性电主轴")


def result(line: int, applicants: list[str], *challenges: tuple, date: str | None = None):
    matches = [
        ChallengeMatch(
            rank=rank,
            challenge_id=c[0],
            area_no=c[1],
            area=c[2],
            challenge=c[3],
            cosine=0.9,
            confidence=0.8,
            sentence="…",
        )
        for rank, c in enumerate(challenges, start=1)
    ]
    return PatentMatches(
        line=line,
        patent_id=f"P{line}",
        title="t",
        applicants=applicants,
        matches=matches,
        date=date,
    )


FIXTURE = [
    result(1, ["浙江大学", "宁波甬钢特种合金研究院"], ALLOY_1, ALLOY_2, date="2019-03-01"),
    result(2, ["华为技术有限公司"], ALLOY_1, date="2021-11-30"),  # region unknown
    result(3, ["江苏某某合金有限公司", "浙江大学"], ALLOY_1, SPINDLE, date="2021-01-05"),
    result(4, ["上海某某机床厂"], SPINDLE),
    result(5, ["杭州某某公司"]),  # no match
]


@pytest.fixture(params=["jsonl", "csv"])
def matches_file(request, tmp_path: Path) -> Path:
    """The fixture as `patents match` writes it: the reader is tested against the writer."""
    path = tmp_path / f"matches.{request.param}"
    writer = open_writer(request.param, path, 0)
    writer.write(FIXTURE)
    writer.close()
    return path


def test_counts_per_challenge_and_area(matches_file):
    land = build_landscape(read_matches(matches_file))
    assert (land.patents, land.unmatched) == (5, 1)
    alloy_1, alloy_2 = land.challenges["ZJ2021-12-01"], land.challenges["ZJ2021-12-02"]
    assert (alloy_1.patents, alloy_2.patents, land.challenges["ZJ2021-06-01"].patents) == (3, 1, 2)
    assert land.areas["高端金属合金材料"].patents == 3  # patent 1 counts once for its area
    assert land.areas["数控机床"].patents == 2
    assert alloy_1.applicants.most_common(1) == [("浙江大学", 2)]
    # Regions known: P1 (浙江), P3 (江苏 + 浙江); P2 (华为) unknown → 2 of 2 are Zhejiang.
    assert (alloy_1.region_known, alloy_1.zhejiang, alloy_1.zhejiang_share) == (2, 2, 1.0)
    spindle = land.areas["数控机床"]  # P3 (has 浙江大学) and P4 (上海)
    assert (spindle.region_known, spindle.zhejiang_share) == (2, 0.5)
    assert alloy_1.kinds == {OrgKind.university: 2, OrgKind.institute: 1, OrgKind.enterprise: 2}
    # Activity per year, from the patents' dates (P4 has none).
    assert land.areas["高端金属合金材料"].years == {2019: 1, 2021: 2}
    assert land.areas["数控机床"].years == {2021: 1}


def test_min_confidence_filters_matches(matches_file):
    land = build_landscape(read_matches(matches_file, min_confidence=0.9))
    assert (land.patents, land.unmatched) == (5, 5)  # the fixture's matches are all at 0.8


def test_known_organisations_override_inference(matches_file):
    huawei = Organisation(
        id="hw",
        name="华为技术有限公司",
        kind=OrgKind.enterprise,
        region=Region(city="杭州", province="浙江省"),
    )
    land = build_landscape(read_matches(matches_file), known={huawei.name: huawei})
    alloy_1 = land.challenges["ZJ2021-12-01"]
    assert (alloy_1.region_known, alloy_1.zhejiang) == (3, 3)


def test_catalogue_challenges_appear_with_zero(matches_file):
    from corpus.catalogue import builtin_catalogue

    challenges = builtin_catalogue().challenges
    land = build_landscape(read_matches(matches_file), challenges)
    assert set(land.challenges) == {c.id for c in challenges}
    assert sum(t.patents == 0 for t in land.challenges.values()) == len(challenges) - 3


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("浙江大学", OrgKind.university),
        ("中国科学院宁波材料技术与工程研究所", OrgKind.institute),
        ("中国科学院", OrgKind.institute),
        ("中国科学院大学", OrgKind.university),
        ("杭州某某研究院有限公司", OrgKind.enterprise),
        ("国网浙江省电力有限公司电力科学研究院", OrgKind.institute),
        ("上海某某机床厂", OrgKind.enterprise),
        ("张三", OrgKind.other),
    ],
)
def test_kind_from_name(name, kind):
    assert infer_kind(name) is kind


def test_province_from_name():
    assert infer_province("宁波甬钢特种合金研究院") == "浙江"
    assert infer_province("江苏某某合金有限公司") == "其他"
    assert infer_province("华为技术有限公司") is None


def test_writes_tables_workbook_and_charts(matches_file, tmp_path):
    land = build_landscape(read_matches(matches_file))
    paths = write_landscape(land, tmp_path / "out")
    names = {p.name for p in paths}
    assert names == {
        "challenges.csv",
        "areas.csv",
        "applicants.csv",
        "landscape.xlsx",
        "years.csv",
        "areas.png",
        "challenges.png",
        "years.png",
    }
    with (tmp_path / "out" / "areas.csv").open(encoding="utf-8-sig") as handle:
        areas = {row["key"]: row for row in csv.DictReader(handle)}
    assert areas["高端金属合金材料"]["patents"] == "3"
    assert areas["高端金属合金材料"]["zhejiang_share"] == "1.0"
    book = load_workbook(tmp_path / "out" / "landscape.xlsx", read_only=True)
    assert book.sheetnames == ["按技术难点", "按领域", "主要申请人", "按年份"]
    with (tmp_path / "out" / "years.csv").open(encoding="utf-8-sig") as handle:
        years = [row for row in csv.DictReader(handle) if row["scope"] == "area"]
    assert [(r["key"], r["year"], r["patents"]) for r in years] == [
        ("数控机床", "2021", "1"),
        ("高端金属合金材料", "2019", "1"),
        ("高端金属合金材料", "2021", "2"),
    ]
    for png in ("areas.png", "challenges.png", "years.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_broken_matches_file_names_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(FIXTURE[0].model_dump_json() + '\n{"patent_id": 1\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"m.jsonl:2"):
        list(read_matches(path))
    assert json.loads(FIXTURE[0].model_dump_json())["patent_id"] == "P1"


def test_cli_landscape_writes_files_and_reports_bad_input(matches_file, tmp_path):
    from typer.testing import CliRunner

    from service.cli.main import app

    runner = CliRunner()
    out = tmp_path / "cli-out"
    ok = runner.invoke(app, ["patents", "landscape", str(matches_file), "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert (out / "landscape.xlsx").exists() and (out / "areas.png").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    failed = runner.invoke(app, ["patents", "landscape", str(bad), "--out", str(out)])
    assert failed.exit_code == 1
    assert "bad.jsonl:1" in failed.output and "Traceback" not in failed.output
