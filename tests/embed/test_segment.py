"""Segmenter: domain terms and identifiers whole, deterministic, private from global jieba."""

from __future__ import annotations

import jieba
import pytest

from embed.segment import BIGRAM_MARK, Segmenter, glossary_terms, term_surface


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("边缘计算软件开发，边缘微服务技术", "边缘计算"),
        ("EDA工具、光刻机等核心设备，光刻胶、大硅片", "光刻胶"),
        ("高温合金、耐蚀合金等高端金属合金材料", "高温合金"),
        ("高温合金材料", "高温合金"),
        ("串联质谱分析技术", "串联质谱"),
        ("高速大功率高刚性电主轴", "电主轴"),
        ("机床误差补偿技术以及智能化控制技术", "误差补偿"),
        ("IoT工业互联网智能化应用、数字孪生", "数字孪生"),
        ("超大规模知识图谱推理系统", "知识图谱"),
        ("新型声码器技术", "声码器"),
        ("新型显示技术用湿电子化学品、电子特种气体", "湿电子化学品"),
        ("新型显示技术用湿电子化学品、电子特种气体", "电子特种气体"),
        ("耐高温聚酰亚胺浆料", "聚酰亚胺"),
        ("突破高色域量子点显示的实现", "量子点"),
        ("减彩虹纹偏光片保护膜的光学基膜", "偏光片"),
        ("冶炼技术特别是碳化物的控制", "碳化物"),
        ("热处理渗碳、淬火等晶体组织结构", "渗碳"),
        ("热处理渗碳、淬火等晶体组织结构", "淬火"),
        ("高稳定高效率离子化技术", "离子化"),
        ("攻克傅里叶变换红外分析技术", "傅里叶变换红外"),
        ("激光诱导击穿光谱分析技术", "激光诱导击穿光谱"),
        ("消除大型铸锭合金元素偏析、夹杂物聚集现象", "偏析"),
        ("消除大型铸锭合金元素偏析、夹杂物聚集现象", "夹杂物"),
        ("多元复杂金属联动协同萃取、高效纯化分离", "协同萃取"),
        ("熔池熔炼高效余热循环回收利用技术", "熔池熔炼"),
        ("烟气余热回收装置", "余热回收"),
        ("属于工业智能控制技术领域", "智能控制"),  # needs the minimum term frequency
    ],
)
def test_domain_terms_stay_whole_in_context(seg: Segmenter, text: str, term: str) -> None:
    assert term in seg.words(text)


def test_every_glossary_term_is_one_word(seg: Segmenter) -> None:
    assert len(glossary_terms()) >= 300
    split = [t for t in glossary_terms() if seg.words(t) != [t]]
    assert split == []


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("分类号H01L21/027的光刻方法", "h01l21/027"),
        ("IPC分类G06F 16/35下的文本聚类", "g06f16/35"),
        ("专利CN114081026A公开了", "cn114081026a"),
        ("专利号CN 114081026 A", "cn114081026a"),
        ("TD-LTE设备等设计与制造技术", "td-lte"),
        ("5G工业级应用", "5g"),
        ("通过ISO 9001认证", "iso9001"),
        ("符合GB/T 19001-2016标准", "gb/t19001-2016"),
        ("高分辩率0.0001mm伺服电机", "0.0001mm"),
        ("ＯＬＥＤ发光材料", "oled"),
        ("MLCC功能膜的平整性", "mlcc"),
        ("OCA胶、UV胶等光学基膜材料", "oca"),
        ("OCA胶、UV胶等光学基膜材料", "uv"),
        ("PM2.5在线监测", "pm2.5"),
        ("Ti-6Al-4V钛合金叶片", "ti-6al-4v"),
        ("28nm先进制程", "28nm"),
    ],
)
def test_identifiers_stay_whole(seg: Segmenter, text: str, identifier: str) -> None:
    assert identifier in seg.words(text)


def test_identifier_spelling_variants_are_one_term(seg: Segmenter) -> None:
    assert seg.words("G06F 16/35") == seg.words("g06f16/35") == ["g06f16/35"]


def test_stopwords_and_punctuation_are_dropped(seg: Segmenter) -> None:
    assert seg.words("本发明公开了一种光刻胶的制备方法。") == ["光刻胶", "制备"]


def test_stopwords_can_be_replaced(seg: Segmenter) -> None:
    assert "的" in Segmenter(stopwords=()).words("光刻胶的制备")
    assert Segmenter(stopwords=["制备"]).words("光刻胶的制备") == ["光刻胶", "的"]


def test_extra_terms_are_respected(seg: Segmenter) -> None:
    assert seg.words("磁流变抛光") != ["磁流变抛光"]
    custom = Segmenter(extra_terms=["磁流变抛光"])
    assert custom.words("采用磁流变抛光工艺") == ["磁流变抛光", "工艺"]


def test_two_instances_agree(seg: Segmenter) -> None:
    text = "一种基于深度学习的语音识别方法，提取梅尔频谱特征，支持TD-LTE与5G网络。"
    other = Segmenter(extra_terms=["无关术语"])  # its own jieba instance, loaded separately
    assert other.sparse_terms(text) == seg.sparse_terms(text)
    assert other.keywords(text) == seg.keywords(text)


def test_global_jieba_changes_do_not_leak(seg: Segmenter) -> None:
    text = "高温合金材料的真空感应熔炼"
    before = seg.sparse_terms(text)
    freq = 10**9
    jieba.add_word("温合", freq)
    try:
        assert "温合" in jieba.lcut(text, HMM=False)  # the global tokenizer did change
        assert seg.sparse_terms(text) == before
        # extra_terms force a fresh load while the global dictionary is modified
        assert Segmenter(extra_terms=["磁流变抛光"]).sparse_terms(text) == before
    finally:
        del jieba.dt.FREQ["温合"]
        jieba.dt.total -= freq


def test_bigrams_cover_out_of_vocabulary_terms(seg: Segmenter) -> None:
    assert seg.bigrams("磁流变") == ["磁流", "流变"]
    assert seg.bigrams("OLED膜") == ["膜"]  # a one-character Han run is its own bigram
    assert seg.bigrams("激光，抛光") == ["激光", "抛光"]  # never across punctuation


def test_sparse_terms_mark_bigrams_and_add_parts_of_glossary_terms(seg: Segmenter) -> None:
    terms = seg.sparse_terms("协同萃取")
    assert terms[:3] == ["协同萃取", "协同", "萃取"]
    assert terms[3:] == [BIGRAM_MARK + b for b in seg.bigrams("协同萃取")]
    assert [term_surface(t) for t in terms[3:]] == ["协同", "同萃", "萃取"]
    assert "协同" not in seg.words("协同萃取")  # parts are for the index only


def test_keywords_of_a_patent_abstract_are_domain_terms(seg: Segmenter) -> None:
    abstract = (
        "本发明公开了一种镍基高温合金的真空感应熔炼方法，属于高端金属合金材料技术领域。"
        "所述方法通过控制熔炼温度和精炼时间，降低铸锭中的O、H、S含量至ppm量级，"
        "有效改善合金元素偏析和夹杂物聚集现象，提高高温合金的组织均匀性。"
    )
    keywords = seg.keywords(abstract, k=6)
    assert len(keywords) == 6
    assert keywords[0] == "高温合金"
    assert {"真空感应熔炼", "偏析", "夹杂物"} & set(keywords)
    assert not {"本发明", "方法", "技术", "所述"} & set(keywords)


def test_highlight_marks_longest_terms_and_escapes_the_rest() -> None:
    html = Segmenter.highlight(
        "<b>光刻胶</b> & G06F 16/35 与光刻机", ["光刻", "光刻胶", "g06f16/35", BIGRAM_MARK + "刻机"]
    )
    # At 光刻机, 光刻 matches first; 刻机 would overlap it and is not marked.
    assert html == (
        "&lt;b&gt;<mark>光刻胶</mark>&lt;/b&gt; &amp; <mark>G06F 16/35</mark> 与<mark>光刻</mark>机"
    )


def test_highlight_respects_identifier_edges() -> None:
    assert Segmenter.highlight("5G与15G、5GHz", ["5g"], "[", "]") == "[5G]与15G、5GHz"
    assert Segmenter.highlight("a<b", []) == "a&lt;b"


def test_mixed_english_and_empty_text(seg: Segmenter) -> None:
    assert seg.words("基于Edge Computing的边缘计算") == ["edge", "computing", "边缘计算"]
    assert seg.words("Laser-induced breakdown spectroscopy of the alloys") == [
        "laser-induced",
        "breakdown",
        "spectroscopy",
        "alloys",
    ]
    assert seg.words("") == seg.bigrams("") == seg.sparse_terms("") == seg.keywords("") == []
    assert seg.words(" ，。\n") == []


def test_jieba_cache_goes_to_the_given_directory(tmp_path) -> None:
    Segmenter(cache_dir=tmp_path / "jieba").words("光刻胶")
    assert (tmp_path / "jieba" / "jieba.cache").is_file()


def test_loading_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    Segmenter(extra_terms=["静默加载词"]).words("光刻胶")  # a new term set forces a fresh load
    assert not [r for r in caplog.records if r.name == "jieba"]


def test_keywords_skip_bare_numbers(seg: Segmenter) -> None:
    text = "2016年至2025年，28nm光刻胶国产化，28nm产线"
    assert seg.keywords(text, k=3) == ["28nm", "光刻胶", "国产化"]
