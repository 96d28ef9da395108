"""Passages: sentence-bounded, under the length limit, nothing lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from embed.chunk import MAX_PASSAGE_CHARS, sentences, split_passages

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_66d398a28a9887de.txt"


def _without_whitespace(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_sentences_split_at_chinese_and_english_marks_and_newlines() -> None:
    text = "第一句。第二句！\n  第三行\n\n他说：“好。”然后？English one. Two;  three"
    assert sentences(text) == [
        "第一句。",
        "第二句！",
        "第三行",
        "他说：“好。”",
        "然后？",
        "English one.",
        "Two;",
        "three",
    ]


def test_decimal_points_do_not_end_sentences() -> None:
    assert sentences("精度达到0.0001mm的伺服电机。支持PM2.5监测。") == [
        "精度达到0.0001mm的伺服电机。",
        "支持PM2.5监测。",
    ]


def test_empty_and_blank_text_give_nothing() -> None:
    assert split_passages("") == split_passages(" \n\t ") == sentences("") == []


def test_short_text_is_one_passage_with_whitespace_collapsed() -> None:
    text = "  光刻胶的国产化。\n\n  大硅片  研发。 "
    assert split_passages(text) == ["光刻胶的国产化。 大硅片 研发。"]


def test_sentences_are_packed_whole_under_max_chars() -> None:
    sentence = "高温合金的真空感应熔炼与电渣重熔工艺研究。"  # 21 characters
    text = sentence * 20
    passages = split_passages(text, max_chars=100, min_chars=10)
    assert [len(p) for p in passages] == [84, 84, 84, 84, 84]  # four sentences each
    assert all(p.endswith("。") for p in passages)
    assert "".join(passages) == text


def test_long_sentence_is_cut_at_commas_then_evenly() -> None:
    clause = "工业操作系统的开发及平台生态圈，"  # 16 characters
    run_on = "算" * 119 + "。"  # 120 characters without a clause mark
    text = "前言一句话而已。" + clause * 5 + run_on + "结尾的一句话在这里。"
    passages = split_passages(text, max_chars=50, min_chars=5)
    assert passages[0] == "前言一句话而已。"  # a long sentence starts its own passage
    assert passages[1] == clause * 3
    assert passages[2] == clause * 2
    assert [len(p) for p in passages[3:]] == [40, 40, 50]  # 120 cut evenly, not 50 + 50 + 20
    assert passages[-1].endswith("。结尾的一句话在这里。")  # packing goes on after the cut
    assert "".join(passages) == text


def test_a_short_fragment_joins_its_neighbour() -> None:
    long_sentence = "数" * 30 + "。"
    passages = split_passages(long_sentence + "短。", max_chars=31, min_chars=5)
    assert passages == [long_sentence + "短。"]  # 33 > 31, but a 2-character passage is useless


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        split_passages("文本", max_chars=30, min_chars=20)


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed text not found at {SEED}")
@pytest.mark.parametrize("max_chars", [64, 128, 256])
def test_real_plan_text_is_chunked_without_loss(max_chars: int) -> None:
    text = SEED.read_text(encoding="utf-8")
    passages = split_passages(text, max_chars=max_chars, min_chars=20)
    assert _without_whitespace("".join(passages)) == _without_whitespace(text)
    assert max(len(p) for p in passages) < max_chars + 20
    assert sum(len(p) <= max_chars for p in passages) >= 0.9 * len(passages)
    assert all(p == p.strip() and "\n" not in p for p in passages)


def test_a_patent_title_and_abstract_stay_one_passage_by_default() -> None:
    """Whole patents rank applicants better than pieces (EVALUATION.md), so a typical one
    (≈300 characters, several sentences) is not split; a text over the limit still is."""
    sentence = "本发明公开了一种基于视觉的焊缝跟踪方法，通过激光传感器实时采集焊缝图像。"
    patent = "一种焊缝跟踪方法\n" + sentence * 8
    assert 256 < len(patent) <= MAX_PASSAGE_CHARS
    assert split_passages(patent) == [patent.replace("\n", " ")]
    assert len(split_passages(patent * 2)) == 2
