"""Facet decomposition on the appendix's real rows (the built-in catalogue)."""

from __future__ import annotations

import pytest

from corpus.catalogue import builtin_catalogue
from embed.segment import Segmenter
from matcher.teams.facets import combine, decompose, user_facets


def facet_texts(challenge_id: str) -> list[str]:
    challenge = builtin_catalogue().get(challenge_id)
    return [f.text for f in decompose(challenge.text, area=challenge.area)]


@pytest.mark.parametrize(
    ("challenge_id", "expected"),
    [
        ("ZJ2021-06-01", ["高速高精联动控制技术", "机床误差补偿技术", "智能化控制技术"]),
        ("ZJ2021-05-04", ["光刻胶", "大硅片", "高纯度电化学品"]),
        ("ZJ2021-02-06", ["数据安全", "隐私保护"]),
        ("ZJ2021-08-03", ["波纹度", "凸形控制", "粗糙度控制"]),
        # "攻克" dropped, trailing "等" dropped, "及" splits the last item.
        (
            "ZJ2021-09-02",
            [
                "傅里叶变换红外分析技术",
                "激光诱导击穿光谱分析技术",
                "高端红外热成像分析技术",
                "光谱分析核心算法",
            ],
        ),
        # "A、B等C的X和Y等关键技术": the specific X and Y are the facets, A、B等C the context.
        ("ZJ2021-12-01", ["高纯洁度冶炼", "高组织均匀性变形控制"]),
        # A shared head noun: "生物可降解和医用材料".
        (
            "ZJ2021-10-04",
            ["高性能橡胶", "高性能纤维", "高性能膜材料", "生物可降解材料", "医用材料"],
        ),
        # "X和Y的研发": a generic tail is dropped, X and Y remain.
        ("ZJ2021-02-05", ["加速计算技术", "加密技术"]),
        # "应用" alone is no facet: it stays with its neighbour.
        ("ZJ2021-02-02", ["大规模多样性数据挖掘", "机器学习算法及应用"]),
        # Brackets are not split; a label ("语音合成：") is context.
        ("ZJ2021-03-01", ["低成本（录音时长、录音质量）声音定制", "极低成本个性化语音合成技术"]),
        # Element symbols in an example list stay one facet.
        ("ZJ2021-12-02", ["控制材料中O、H、S等ppm量级"]),
        ("ZJ2021-02-08", ["数字孪生"]),
    ],
)
def test_real_rows_decompose_along_their_enumerations(challenge_id, expected):
    assert facet_texts(challenge_id) == expected


def test_shared_heads_and_labels_become_context_and_queries_are_self_contained():
    challenge = builtin_catalogue().get("ZJ2021-04-02")
    facets = decompose(challenge.text, area=challenge.area)
    assert [f.text for f in facets][:2] == ["智能控制", "智能调度"]
    assert all(f.context.startswith("人工智能和大数据技术") for f in facets)
    assert facets[0].query == "人工智能和大数据技术与工业机理知识相融合的智能控制"
    labelled = builtin_catalogue().get("ZJ2021-09-01")
    first = decompose(labelled.text, area=labelled.area)[0]
    assert first.context.strip() == "质谱分析仪器领域" and "质谱" in first.query


def test_every_catalogue_challenge_has_facets_with_unique_ids_and_no_stubs():
    for challenge in builtin_catalogue().challenges:
        facets = decompose(challenge.text, area=challenge.area)
        assert facets, challenge.id
        assert len({f.id for f in facets}) == len(facets)
        for facet in facets:
            assert len(facet.text) >= 2, (challenge.id, facet.text)
            assert facet.text not in {"应用", "研发", "技术", "等"}, challenge.id
            assert facet.text in facet.query, challenge.id


def test_a_whole_area_combines_its_challenges_facets_renumbered():
    area = builtin_catalogue().by_area(6)
    facets = combine([decompose(c.text, area=c.area) for c in area])
    assert len(facets) == 19
    assert [f.id for f in facets] == [f"F{i}" for i in range(1, 20)]


def test_text_without_enumeration_falls_back_to_keyword_facets():
    text = "面向新能源汽车电池包研制一体化压铸成形的轻量化高强度铝合金壳体"
    facets = decompose(text, segmenter=Segmenter())
    assert len(facets) > 1
    assert all(f.source == "keywords" for f in facets)
    assert all(f.text in text for f in facets)
    assert decompose(text)[0].source == "whole"  # no segmenter: the text is one facet


def test_keyword_facets_are_grouped_by_shared_best_organisations():
    profiles = {"压铸": {"a": 0.9, "b": 0.8}, "铝合金": {"a": 0.9, "b": 0.7}, "电池": {"c": 0.9}}

    class Fixed:
        def keywords(self, text, k):
            return list(profiles)

    text = "面向新能源汽车电池包研制一体化压铸成形的轻量化高强度铝合金壳体"
    facets = decompose(text, segmenter=Fixed(), score=lambda q: profiles[q], max_keyword_facets=4)
    assert [f.text for f in facets] == ["压铸、铝合金", "电池"]


def test_user_facets_and_blank_text():
    facets = user_facets(["  光刻胶 ", "", "大硅片"])
    assert [(f.id, f.text, f.source) for f in facets] == [
        ("F1", "光刻胶", "user"),
        ("F2", "大硅片", "user"),
    ]
    assert facets[0].query == "光刻胶"
    assert decompose("   ") == []
