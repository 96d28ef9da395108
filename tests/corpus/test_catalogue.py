"""The built-in catalogue parsed from the shipped copy of the seed's appendix."""

import re
from importlib.resources import files

import pytest

from corpus.catalogue import builtin_catalogue, parse_appendix, split_difficulties
from corpus.errors import JiebangError
from corpus.models import Challenge


@pytest.fixture(scope="module")
def catalogue():
    return builtin_catalogue()


def test_fifteen_areas_numbered_in_order(catalogue):
    assert [area.no for area in catalogue.areas] == list(range(1, 16))
    assert catalogue.areas[0].name == "工业互联网"


def test_names_broken_across_lines_are_joined(catalogue):
    names = {area.no: area.name for area in catalogue.areas}
    assert names[10] == "先进高分子材料"
    assert names[11] == "电子化学材料"
    assert names[12] == "高端金属合金材料"


def test_unnamed_rows_get_inferred_names_and_are_flagged(catalogue):
    inferred = [area for area in catalogue.areas if area.name_inferred]
    assert [area.no for area in inferred] == [14, 15]
    assert "网络传输和接入设备" in inferred[0].text
    assert "废旧锂电" in inferred[1].text
    assert all(c.area_inferred for c in catalogue.by_area(14) + catalogue.by_area(15))
    assert not any(c.area_inferred for c in catalogue.by_area(13))


def test_ids_are_unique_patterned_and_numbered_within_area(catalogue):
    ids = [c.id for c in catalogue.challenges]
    assert len(ids) == len(set(ids))
    for challenge in catalogue.challenges:
        match = re.fullmatch(r"ZJ2021-(\d{2})-(\d{2})", challenge.id)
        assert match, challenge.id
        assert int(match.group(1)) == challenge.area_no
    assert [c.id for c in catalogue.by_area(3)] == [f"ZJ2021-03-0{n}" for n in range(1, 5)]


def test_ids_are_deterministic_from_the_text(catalogue):
    text = (files("corpus") / "data" / "seed_appendix.txt").read_text(encoding="utf-8")
    again = parse_appendix(text)
    assert [(c.id, c.text) for c in again.challenges] == [
        (c.id, c.text) for c in catalogue.challenges
    ]


def test_challenge_count_is_atomic_but_not_shattered(catalogue):
    assert 60 <= len(catalogue.challenges) <= 90
    assert all(len(catalogue.by_area(area.no)) >= 1 for area in catalogue.areas)


def test_known_splits(catalogue):
    assert "高速高精联动控制技术" in catalogue.by_area(6)[0].text
    # A "语音识别：" prefix stays with its difficulty.
    assert catalogue.by_area(3)[1].text.startswith("语音识别：")
    # Row 2 is one "、" enumeration; its items are separate challenges.
    assert [c.text for c in catalogue.by_area(2)][7:9] == ["数字孪生", "边缘计算"]
    # Row 11's "从…六个方面" clause refers back and is not split from its subject.
    (row_11,) = catalogue.by_area(11)
    assert "湿电子化学品" in row_11.text and "六个方面的关键技术" in row_11.text
    # Enumerations inside a "；" piece stay visible in its text.
    assert "伺服驱动、转摆头/转摆台和高速电主轴" in catalogue.by_area(6)[-1].text


def test_texts_are_trimmed(catalogue):
    for challenge in catalogue.challenges:
        assert challenge.text == challenge.text.strip()
        assert not challenge.text.endswith("。")
        assert not challenge.text.startswith(("以及", "及", "，"))


def test_query_text_carries_the_area(catalogue):
    challenge = catalogue.get("ZJ2021-02-08")
    assert challenge.text == "数字孪生"
    assert challenge.query_text.startswith("智能计算")
    assert "数字孪生" in challenge.query_text


def test_get_unknown_id_names_the_id_and_the_way_out(catalogue):
    with pytest.raises(JiebangError, match=r"unknown challenge id 'ZJ2021-99-01'.*challenges list"):
        catalogue.get("ZJ2021-99-01")


def test_by_area_accepts_number_digits_or_name_substring(catalogue):
    assert catalogue.by_area(6) == catalogue.by_area("6") == catalogue.by_area("机床")
    with pytest.raises(JiebangError, match="no area matches"):
        catalogue.by_area("不存在的领域")


def test_with_user_adds_without_touching_the_original(catalogue):
    user = Challenge(id="USER-1", area="氢能装备", text="高压储氢瓶碳纤维缠绕工艺", source="user")
    extended = catalogue.with_user([user])
    assert extended.get("USER-1") == user
    assert extended.by_area("氢能") == [user]
    assert len(extended.challenges) == len(catalogue.challenges) + 1
    with pytest.raises(JiebangError):
        catalogue.get("USER-1")


def test_with_user_rejects_clashing_ids(catalogue):
    clash = Challenge(id="ZJ2021-01-01", area="x", text="y", source="user")
    with pytest.raises(JiebangError, match="ZJ2021-01-01"):
        catalogue.with_user([clash])
    twice = Challenge(id="USER-2", area="x", text="y", source="user")
    with pytest.raises(JiebangError, match="USER-2"):
        catalogue.with_user([twice, twice])


def test_split_rules_on_small_rows():
    assert split_difficulties("甲技术，乙技术；丙、丁材料。") == ["甲技术，乙技术", "丙、丁材料"]
    assert split_difficulties("甲技术、乙技术以及丙技术。") == ["甲技术", "乙技术以及丙技术"]
    assert split_difficulties("A设备，B设备等制造技术，以及C软件等") == [
        "A设备，B设备等制造技术",
        "C软件等",
    ]


def test_parse_appendix_handles_wrapped_and_unnamed_rows():
    text = (
        "# 注释\n 附录\n\t序号\n\t重点领域\n\t主要技术难点\n\n"
        "\t1\n\t先进高分子\n材料\n\t甲；乙。\n \t废旧锂电回收。\n"
    )
    parsed = parse_appendix(text)
    assert [(a.no, a.name, a.name_inferred) for a in parsed.areas] == [
        (1, "先进高分子材料", False),
        (2, "资源循环利用（废旧电池回收）", True),
    ]
    assert [c.id for c in parsed.challenges] == ["ZJ2021-01-01", "ZJ2021-01-02", "ZJ2021-02-01"]
