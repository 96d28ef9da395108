"""Typed records: challenges, organisations, patents."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from corpus.regions import is_romanised, romanised_matches


def _non_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


# CJK ideographs (with extensions A–G and compatibility ideographs) and Latin letters.
_LETTER = re.compile(
    r"[A-Za-z\u00c0-\u024f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
)


# C0 control characters other than tab and newlines, and unpaired surrogates (JSON can escape
# them, UTF-8 cannot encode them): no text needs them, and files and databases cannot hold them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_printable(value: str) -> str:
    """`value`, or a validation error when it holds `CONTROL_CHARACTERS` (faces refuse it)."""
    if CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError("control_characters", "不能包含控制字符或不成对的代理字符")
    return value


def has_letters(text: str) -> bool:
    """True when `text` holds a CJK ideograph or a Latin letter: words a match can use.

    Text of emoji, punctuation or digits alone matches nothing meaningful; faces refuse it.
    """
    return _LETTER.search(text) is not None


class OrgKind(StrEnum):
    """What sort of body an organisation is (产学研 roles)."""

    enterprise = "enterprise"
    university = "university"
    institute = "institute"
    new_rd_institution = "new_rd_institution"
    other = "other"

    @property
    def label_zh(self) -> str:
        return _KIND_ZH[self]


_KIND_ZH = {
    OrgKind.enterprise: "企业",
    OrgKind.university: "高校",
    OrgKind.institute: "科研院所",
    OrgKind.new_rd_institution: "新型研发机构",
    OrgKind.other: "其他",
}


class Region(BaseModel):
    """Where an organisation sits. Both parts are optional: applicant data rarely has them."""

    model_config = ConfigDict(frozen=True)

    city: str | None = None
    province: str | None = None

    def label(self) -> str:
        """Province then city, e.g. 浙江省杭州市; a municipality (上海市) appears once."""
        parts = dict.fromkeys(part for part in (self.province, self.city) if part)
        return "".join(parts) or "未知"

    def matches(self, query: str) -> bool:
        """True when `query` names this region's city or province: in Chinese (substring,
        either way: 浙江, 浙江省, 杭州) or romanised (Zhejiang, zhejiang, Hangzhou)."""
        query = query.strip()
        parts = [part for part in (self.city, self.province) if part]
        if is_romanised(query):
            return any(romanised_matches(query, part) for part in parts)
        return any(query in part or part in query for part in parts)


class Challenge(BaseModel):
    """One atomic technical difficulty, from the seed's appendix or posted by a user."""

    id: str
    area_no: int | None = None
    area: str
    area_inferred: bool = False
    text: str
    source: str = "builtin"
    title: str | None = Field(
        default=None, description="The item's name (榜单名称), if it has one."
    )
    issuer: str | None = Field(default=None, description="Who issued it (发榜单位/需求单位).")
    deadline: str | None = Field(default=None, description="截止时间, as the source gives it.")
    origin: str | None = Field(
        default=None, description="Where an imported challenge came from: file, sheet/page, row."
    )

    _check_text = field_validator("id", "area", "text")(_non_blank)

    @property
    def query_text(self) -> str:
        """Area plus text, so short fragments ("智能编程技术") keep their industry context."""
        return f"{self.area}：{self.text}"


class Organisation(BaseModel):
    """A candidate solver: enterprise, university, institute, new R&D institution or other.

    The optional figures are those the seed's lead-unit (牵头单位) criteria need; a missing
    figure means "unknown", never zero.
    """

    id: str
    name: str
    kind: OrgKind = OrgKind.other
    region: Region = Field(default_factory=Region)
    capability: str = ""
    revenue_yi: float | None = Field(
        default=None, ge=0, description="近3年年均主营业务收入, 亿元 (100M CNY)."
    )
    rd_spend_wan: float | None = Field(
        default=None, ge=0, description="年度研究与试验发展经费支出, 万元 (10k CNY)."
    )
    rd_staff: int | None = Field(default=None, ge=0, description="年度研究与试验发展人员数.")
    equipment_wan: float | None = Field(
        default=None, ge=0, description="年度技术开发仪器设备原值, 万元."
    )
    national_bases: list[str] = Field(
        default_factory=list, description="国家级创新载体 held, e.g. 国家企业技术中心."
    )
    strategic_emerging: bool | None = Field(
        default=None, description="Whether it is in a strategic emerging industry (战略性新兴产业)."
    )
    illustrative: bool = Field(default=False, description="True for the fictional demo data.")

    _check_text = field_validator("id", "name")(_non_blank)


class Patent(BaseModel):
    """A patent: its text is evidence of its applicants' capability."""

    id: str
    title: str
    abstract: str = ""
    applicants: list[str] = Field(default_factory=list)
    ipc: list[str] = Field(default_factory=list)
    date: str | None = None
    address: str | None = Field(default=None, description="The (first) applicant's address.")

    _check_text = field_validator("id", "title")(_non_blank)

    @property
    def text(self) -> str:
        return f"{self.title}。{self.abstract}" if self.abstract else self.title

    @property
    def year(self) -> int | None:
        """The year of `date` (2021-03-05, 2021.03.05, 20210305, 2021年3月5日), else None."""
        return year_of(self.date)


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})")


def year_of(date: str | None) -> int | None:
    """The four-digit year a date string starts with or contains; None when it has none."""
    found = _YEAR.search(date or "")
    return int(found.group(1)) if found else None
