"""Organisation names: normalisation into ids, and what a name says about kind and region.

Kind and region are heuristics, used only where an organisation is not otherwise known:

- Kind: the rightmost kind word in the name decides, because a Chinese name ends in its head
  noun ("杭州某某研究院有限公司" is a company; "国网某某公司电力科学研究院" is an institute).
  大学/学院/研究生院 → university; 研究院/研究所/科学院/研究中心/实验室 → institute;
  创新中心 → new R&D institution; 公司/集团/厂/企业/株式会社 → enterprise; nothing → other.
- Region: a name containing a Zhejiang place (`ZHEJIANG_PLACES`: the province, its 11 cities and
  some county-level cities, 浙大) is in Zhejiang; one containing another province or major city
  (`OTHER_PLACES`) is known to be elsewhere; otherwise the region is unknown. Many companies
  ("华为技术有限公司") carry no place in their name, so shares are over known regions only.
"""

from __future__ import annotations

import re
import unicodedata

from corpus.models import OrgKind, Region

_NOISE = re.compile(r"[\s\u3000·•\.,，。'\"“”‘’]+")
_KIND_WORDS: dict[str, OrgKind] = {
    "大学": OrgKind.university,
    "学院": OrgKind.university,
    "研究生院": OrgKind.university,
    "研究院": OrgKind.institute,
    "研究所": OrgKind.institute,
    "科学院": OrgKind.institute,
    "研究中心": OrgKind.institute,
    "创新中心": OrgKind.new_rd_institution,
    "实验室": OrgKind.institute,
    "公司": OrgKind.enterprise,
    "集团": OrgKind.enterprise,
    "厂": OrgKind.enterprise,
    "企业": OrgKind.enterprise,
    "株式会社": OrgKind.enterprise,
}

ZHEJIANG = "浙江"
ZHEJIANG_PLACES = (
    "浙江", "浙大", "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山",
    "台州", "丽水", "义乌", "余姚", "慈溪", "诸暨", "乐清", "瑞安", "海宁", "桐乡", "萧山",
    "余杭", "永康", "温岭", "临海",
)  # fmt: skip
OTHER_PLACES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南",
    "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
    "深圳", "广州", "南京", "苏州", "无锡", "常州", "武汉", "成都", "西安", "长沙", "合肥",
    "厦门", "青岛", "济南", "大连", "沈阳", "哈尔滨", "长春", "郑州", "福州", "昆明", "贵阳",
    "南昌", "太原", "石家庄", "兰州", "珠海", "东莞", "佛山", "中山", "清华", "北航", "哈工大",
)  # fmt: skip


def infer_kind(name: str) -> OrgKind:
    """The kind a name implies (rightmost kind word wins); `other` when it says nothing."""
    name = normalise_name(name)
    best, best_key = OrgKind.other, (-1, 0)
    for word, kind in _KIND_WORDS.items():
        start = name.rfind(word)
        # Ends further right win; at the same end the longer word (科学院 over 学院).
        key = (start + len(word), len(word))
        if start >= 0 and key > best_key:
            best, best_key = kind, key
    return best


def infer_province(name: str) -> str | None:
    """ "浙江" when the name holds a Zhejiang place, "其他" for another known place, else None."""
    if any(place in name for place in ZHEJIANG_PLACES):
        return ZHEJIANG
    if any(place in name for place in OTHER_PLACES):
        return "其他"
    return None


_MUNICIPALITY = ("北京市", "天津市", "上海市", "重庆市")
_PROVINCE = re.compile(
    r"(北京市|天津市|上海市|重庆市|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区|"
    r"新疆维吾尔自治区|香港特别行政区|澳门特别行政区|[\u4e00-\u9fff]{2,3}?省)"
)
_CITY = re.compile(r"([\u4e00-\u9fff]{2,7}?(?:市|自治州|地区|盟))")


def region_from_address(address: str | None) -> Region:
    """Province and city from a Chinese address ("310027 浙江省杭州市西湖区…" → 浙江省, 杭州市);
    a municipality is both. Parts the address does not start with stay unknown."""
    text = re.sub(r"^[\s\d,，]+", "", address or "")
    province = _PROVINCE.match(text)
    rest = text[province.end() :] if province else text
    if province and province.group(1) in _MUNICIPALITY:
        return Region(province=province.group(1), city=province.group(1))
    city = _CITY.match(rest)
    return Region(
        province=province.group(1) if province else None, city=city.group(1) if city else None
    )


def normalise_name(name: str) -> str:
    """Canonical form of an organisation name: NFKC, no spaces or dots, ASCII brackets.

    Full- and half-width variants of the same name ("（" vs "(") map to one id.
    """
    text = unicodedata.normalize("NFKC", name)
    return _NOISE.sub("", text).strip()
