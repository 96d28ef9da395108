"""The engine on the demo corpus with the real model and FAISS."""

from __future__ import annotations

import pytest

from corpus.catalogue import builtin_catalogue
from corpus.errors import JiebangError
from corpus.models import Organisation, OrgKind, Patent, Region
from matcher.engine import MatchEngine


def test_a_challenge_ranks_organisations_of_its_field_first(demo_engine):
    challenge = builtin_catalogue().get("ZJ2021-15-01")  # waste lithium-battery recycling
    result = demo_engine.match(challenge.query_text, top=5)
    assert len(result.candidates) == 5
    top = result.candidates[0]
    assert any(word in top.evidence[0].text for word in ("电池", "锂", "回收"))
    assert [c.score for c in result.candidates] == sorted(
        (c.score for c in result.candidates), reverse=True
    )
    assert all(0 <= c.confidence <= 1 and c.evidence for c in result.candidates)


def test_filters_by_kind_and_region(demo_engine):
    text = "数控机床高速高精联动控制与误差补偿"
    universities = demo_engine.match(text, top=5, kind=OrgKind.university)
    assert universities.candidates and all(c.kind == "university" for c in universities.candidates)
    hangzhou = demo_engine.match(text, top=5, region="杭州")
    assert hangzhou.candidates and all("杭州" in c.region for c in hangzhou.candidates)
    nowhere = demo_engine.match(text, region="火星")
    assert nowhere.candidates == [] and "filters" in nowhere.reason


def test_empty_text_is_an_error(demo_engine):
    with pytest.raises(JiebangError, match="empty"):
        demo_engine.match("  \n ")


def test_english_and_very_long_text_work(demo_engine):
    english = demo_engine.match("lithium battery recycling and metal extraction", top=3)
    assert english.candidates
    long_text = "。".join(["高温合金真空感应熔炼与电渣重熔，控制氧氮硫含量"] * 60)
    result = demo_engine.match(long_text, top=3)
    assert result.candidates and "合金" in result.candidates[0].evidence[0].text + \
        result.candidates[0].name  # fmt: skip


def test_patents_attach_to_applicants_and_create_unknown_ones(embedder):
    known = Organisation(id="org-a", name="甲示例大学", kind=OrgKind.university,
                         region=Region(city="杭州市", province="浙江省"),
                         capability="从事高分子材料研究。")  # fmt: skip
    patents = [
        Patent(id="P1", title="一种锂电池电解液回收方法", abstract="低温炭化处理废旧电解液。",
               applicants=["甲示例大学", "乙示例回收有限公司"]),
    ]  # fmt: skip
    engine = MatchEngine.build([known], embedder, patents, progress=False)
    assert set(engine.organisations) == {"org-a", "乙示例回收有限公司"}
    assert engine.organisations["乙示例回收有限公司"].kind is OrgKind.enterprise
    result = engine.match("废旧锂电电解液回收", top=2)
    sources = {e.source for c in result.candidates for e in c.evidence}
    assert "patent" in sources
    assert {e.ref for c in result.candidates for e in c.evidence} >= {"P1"}


def test_incremental_upsert_and_remove_survive_save_and_load(embedder, tmp_path):
    orgs = [
        Organisation(id="a", name="甲（示例）", capability="精密轴承钢冶炼与热处理。"),
        Organisation(id="b", name="乙（示例）", capability="语音识别与语音合成算法。"),
    ]
    engine = MatchEngine.build(orgs, embedder, progress=False)
    engine.upsert_organisation(
        Organisation(id="c", name="丙（示例）", capability="质谱仪离子源研制。")
    )
    engine.remove_organisation("b")
    engine.save(tmp_path)
    loaded = MatchEngine.load(tmp_path, embedder)
    assert set(loaded.organisations) == {"a", "c"}
    ids = [c.org_id for c in loaded.match("质谱分析仪器", top=5).candidates]
    assert ids[0] == "c" and "b" not in ids
    with pytest.raises(JiebangError, match="unknown organisation"):
        loaded.remove_organisation("b")


def test_an_ivf_index_when_asked_for_ranks_as_exact_search_and_stays_ivf(
    demo_organisations, embedder, tmp_path
):
    # Small enough that a match's deep search probes every list: the same ranking as flat.
    flat = MatchEngine.build(demo_organisations, embedder, progress=False, index_kind="flat")
    ivf = MatchEngine.build(demo_organisations, embedder, progress=False, index_kind="ivf")
    assert ivf.index.is_ivf and not flat.index.is_ivf
    ivf.save(tmp_path)
    loaded = MatchEngine.load(tmp_path, embedder)
    assert loaded.index.is_ivf
    for text in ("数控机床主轴精度", "废旧动力电池回收"):
        expected = [(c.org_id, c.score) for c in flat.match(text, top=10).candidates]
        assert [(c.org_id, c.score) for c in loaded.match(text, top=10).candidates] == expected


def test_one_excellent_passage_is_not_drowned_by_a_large_portfolio(embedder):
    specialist = Organisation(
        id="s", name="专（示例）", capability="专注光刻胶树脂与光致产酸剂合成。"
    )
    portfolio = Organisation(
        id="p",
        name="泛（示例）",
        capability="。".join(f"生产第{i}类日用塑料制品与包装材料" for i in range(30)),
    )
    engine = MatchEngine.build([specialist, portfolio], embedder, progress=False)
    assert engine.match("光刻胶关键材料", top=2).candidates[0].org_id == "s"


def test_loading_with_another_model_is_refused(demo_engine, tmp_path, embedder):
    demo_engine.save(tmp_path)
    embedder.model_id, real = "another-model", embedder.model_id
    try:
        with pytest.raises(JiebangError, match=r"another-model|rebuild"):
            MatchEngine.load(tmp_path, embedder)
    finally:
        embedder.model_id = real


def test_confidence_reads_as_can_contribute(embedder):
    challenge = "高纯度碳化硅单晶衬底材料制备技术"
    orgs = [
        Organisation(id="same", name="同（示例）", capability=challenge),
        Organisation(id="near", name="近（示例）", capability="研制碳化硅功率器件封装工艺。"),
        Organisation(id="far", name="远（示例）", capability="月饼与糕点的烘焙、包装和销售。"),
        *(
            Organisation(id=f"o{i}", name=f"他{i}（示例）", capability=text)
            for i, text in enumerate(
                ["数控机床五轴联动误差补偿。", "锂电池回收湿法冶金。", "语音识别声学模型训练。",
                 "高温合金真空熔炼。", "光刻胶树脂合成。", "工业互联网平台开发。"]
            )
        ),
    ]  # fmt: skip
    engine = MatchEngine.build(orgs, embedder, progress=False)
    result = engine.match(challenge, top=9)
    confidence = {c.org_id: c.confidence for c in result.candidates}
    assert result.candidates[0].org_id == "same"
    assert confidence["same"] >= 0.8 > engine.capable_confidence
    assert confidence["far"] < 0.05
    assert result.reason is None and result.capable == engine.capable_confidence


def test_a_challenge_nobody_can_take_says_so(demo_engine):
    result = demo_engine.match("深海载人潜水器钛合金耐压球壳焊接", top=5)
    assert result.candidates and all(
        c.confidence < demo_engine.capable_confidence for c in result.candidates
    )
    assert "capable level" in result.reason
