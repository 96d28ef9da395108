"""Region filters accept Chinese, pinyin and English place names."""

from __future__ import annotations

import pytest

from corpus.models import Region

HANGZHOU = Region(city="杭州市", province="浙江省")
XIAN = Region(city="西安市", province="陕西省")
TAIYUAN = Region(city="太原市", province="山西省")


@pytest.mark.parametrize(
    "query", ["浙江", "浙江省", "杭州", "Zhejiang", "zhejiang", "ZHEJIANG Province", "Hangzhou"]
)
def test_zhejiang_in_any_script(query: str) -> None:
    assert HANGZHOU.matches(query)
    assert not XIAN.matches(query)


def test_romanised_names_pinyin_cannot_guess() -> None:
    assert XIAN.matches("Shaanxi") and not TAIYUAN.matches("Shaanxi")
    assert TAIYUAN.matches("Shanxi") and not XIAN.matches("Shanxi")
    assert Region(city="拉萨市", province="西藏自治区").matches("Tibet")
    assert Region(city="呼和浩特市", province="内蒙古自治区").matches("Inner Mongolia")
    assert Region(city="黄石市", province="湖北省").matches("Huangshi")  # not "huang" + 市


def test_a_fragment_is_not_a_place() -> None:
    assert not HANGZHOU.matches("zhe")
    assert not HANGZHOU.matches("Ningbo")
    assert not Region().matches("Zhejiang")
