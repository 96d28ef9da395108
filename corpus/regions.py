"""Place names as people type them: 浙江, 浙江省, Zhejiang, zhejiang, Zhejiang Province, Hangzhou.

Provinces come from a table (pinyin and English names, including those pinyin cannot guess:
Shaanxi for 陕西 beside Shanxi for 山西, Inner Mongolia, Tibet, Hong Kong, Macau). Cities are
compared by their pinyin (`pypinyin`), so every city in the data answers to its romanised name
without a hand-kept list.
"""

from __future__ import annotations

import re
from functools import cache

# Chinese short name → romanised names (lower case, no spaces).
PROVINCES: dict[str, tuple[str, ...]] = {
    "北京": ("beijing", "peking"),
    "天津": ("tianjin",),
    "上海": ("shanghai",),
    "重庆": ("chongqing",),
    "河北": ("hebei",),
    "山西": ("shanxi",),
    "辽宁": ("liaoning",),
    "吉林": ("jilin",),
    "黑龙江": ("heilongjiang",),
    "江苏": ("jiangsu",),
    "浙江": ("zhejiang",),
    "安徽": ("anhui",),
    "福建": ("fujian",),
    "江西": ("jiangxi",),
    "山东": ("shandong",),
    "河南": ("henan",),
    "湖北": ("hubei",),
    "湖南": ("hunan",),
    "广东": ("guangdong",),
    "海南": ("hainan",),
    "四川": ("sichuan",),
    "贵州": ("guizhou",),
    "云南": ("yunnan",),
    "陕西": ("shaanxi",),
    "甘肃": ("gansu",),
    "青海": ("qinghai",),
    "台湾": ("taiwan",),
    "内蒙古": ("neimenggu", "innermongolia", "neimongol"),
    "广西": ("guangxi",),
    "西藏": ("xizang", "tibet"),
    "宁夏": ("ningxia",),
    "新疆": ("xinjiang",),
    "香港": ("xianggang", "hongkong"),
    "澳门": ("aomen", "macau", "macao"),
}
_SUFFIXES = re.compile(
    r"(province|municipality|autonomousregion|specialadministrativeregion|sar|city|sheng|shi)$"
)
_CHINESE_SUFFIXES = re.compile(r"(省|市|自治区|特别行政区|壮族|回族|维吾尔)+$")


def is_romanised(query: str) -> bool:
    """True when the query is written in Latin letters (pinyin or English), not Chinese."""
    return bool(re.search(r"[A-Za-z]", query)) and not re.search(r"[\u4e00-\u9fff]", query)


def romanised_keys(query: str) -> set[str]:
    """`Zhejiang Province`, `zhe-jiang`, `HANGZHOU shi` → {`zhejiang`, …}, {`hangzhou`, …}: the
    letters, with and without a trailing province/city word (黄石 is `huangshi`)."""
    key = re.sub(r"[^a-z]", "", query.lower())
    return {key, _SUFFIXES.sub("", key)} - {""}


def short_name(place: str) -> str:
    """浙江省 → 浙江, 杭州市 → 杭州, 广西壮族自治区 → 广西."""
    return _CHINESE_SUFFIXES.sub("", place.strip()) or place.strip()


@cache
def pinyin_key(place: str) -> str:
    """The romanised key of a Chinese place name: the province table, else its pinyin."""
    short = short_name(place)
    if short in PROVINCES:
        return PROVINCES[short][0]
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(short)).lower()


def romanised_matches(query: str, place: str) -> bool:
    """True when a romanised `query` names the Chinese `place` (province or city)."""
    keys = romanised_keys(query)
    return bool(keys & {*PROVINCES.get(short_name(place), ()), pinyin_key(place)})
