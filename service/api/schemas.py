"""Request and response models of the API that the library does not already define.

Results reuse `matcher.results` and records reuse `corpus.models`, so every face serialises the
same shapes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from corpus.models import Challenge, OrgKind, Region, check_printable, has_letters
from service.usecases.matching import MAX_REGION_CHARS, MAX_TOP, MatchRequest

MAX_TEXT_CHARS = 20_000
MAX_AREA_CHARS = 200
MAX_NOTE_CHARS = 2_000
MAX_ORG_ID_CHARS = 200
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"


def _not_blank(value: str) -> str:
    value = check_printable(value).strip()
    if not value:
        raise PydanticCustomError("blank", "不能为空或只有空白")
    return value


def _matchable(value: str) -> str:
    value = _not_blank(value)
    if not has_letters(value):
        raise PydanticCustomError(
            "no_letters", "须包含汉字或拉丁字母：只有表情、标点或数字的文本无法匹配"
        )
    return value


Text = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description=f"At most {MAX_TEXT_CHARS} characters, with at least one CJK or Latin "
        "letter; longer text is refused, never cut.",
    ),
    AfterValidator(_matchable),
]
ShortText = Annotated[
    str, Field(min_length=1, max_length=MAX_AREA_CHARS), AfterValidator(_not_blank)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChallengeIn(Strict):
    """A challenge to post. Without an id, one is assigned (`U-` + 10 hex digits)."""

    id: str | None = Field(default=None, pattern=ID_PATTERN, examples=["U-hydrogen-01"])
    area: ShortText | None = Field(
        default=None,
        examples=["氢能装备"],
        description="Omit it and the nearest catalogue area is inferred (area_inferred: true).",
    )
    text: Text = Field(examples=["高压储氢瓶碳纤维缠绕工艺及氢脆防护"])


class ChallengeEdit(Strict):
    """A posted challenge's new text and area; without an area, the nearest one is inferred."""

    area: ShortText | None = Field(default=None, examples=["氢能装备"])
    text: Text = Field(examples=["高压储氢瓶碳纤维缠绕工艺及氢脆防护"])


class AreaOut(BaseModel):
    no: int
    name: str
    name_inferred: bool
    challenges: int


class ChallengeList(BaseModel):
    areas: list[AreaOut]
    challenges: list[Challenge]


class MatchIn(MatchRequest):
    """Ad-hoc text to rank organisations for, with the options of any match request."""

    model_config = ConfigDict(extra="forbid")

    text: Text = Field(examples=["高温合金真空感应熔炼与纯净化冶炼技术"])


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


class MatchExportIn(MatchIn):
    format: ExportFormat = ExportFormat.xlsx


class StoredResult(BaseModel):
    """A ranking computed earlier for a challenge, as stored in the database."""

    params: str
    computed_at: datetime
    result: dict[str, Any]


class OrganisationSummary(BaseModel):
    id: str
    name: str
    kind: OrgKind
    region: Region


class OrganisationPage(BaseModel):
    total: int
    items: list[OrganisationSummary]


class JobOut(BaseModel):
    """A background job: its status and progress (`progress` of `total` rows done)."""

    id: str
    kind: str
    status: str
    progress: int
    total: int | None
    totals: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    result_url: str | None


def _grade(value: Any) -> Any:
    # A JSON integer, nothing coerced: "2", 2.0 or true as a grade is a client's mistake.
    if type(value) is not int or value not in (0, 1, 2):
        raise PydanticCustomError("grade", "须为 0、1 或 2（0 不相关，1 相关，2 能承担）")
    return value


def _optional_note(value: str | None) -> str | None:
    """A blank note is no note."""
    if value is None:
        return None
    return check_printable(value).strip() or None


class JudgmentIn(Strict):
    """A grade for one candidate of a challenge; a later grade of the same pair replaces it."""

    org_id: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1, max_length=MAX_ORG_ID_CHARS, examples=["demo-002"]
    )
    grade: Annotated[Literal[0, 1, 2], BeforeValidator(_grade)] = Field(
        description="2 能承担 (can take the challenge on), 1 相关 (relevant), 0 不相关 (not).",
        examples=[2],
    )
    note: Annotated[str | None, AfterValidator(_optional_note)] = Field(
        default=None,
        max_length=MAX_NOTE_CHARS,
        description=f"At most {MAX_NOTE_CHARS} characters; longer is refused, never cut.",
        examples=["已电话联系，有中试线"],
    )


class JudgmentOut(BaseModel):
    """A stored judgment. `challenge_text` is the challenge as it was when judged; `by` is a
    fingerprint of the key that wrote it (the first 8 hex digits of its SHA-256)."""

    id: int
    challenge_id: str
    org_id: str
    grade: int
    note: str | None
    challenge_text: str
    challenge_area: str | None
    by: str
    created_at: datetime


class JudgmentPage(BaseModel):
    total: int
    items: list[JudgmentOut]


class Limits(BaseModel):
    """What the service refuses beyond, so clients can say it before it bites."""

    text_chars: int = MAX_TEXT_CHARS
    note_chars: int = MAX_NOTE_CHARS
    area_chars: int = MAX_AREA_CHARS
    region_chars: int = MAX_REGION_CHARS
    top: int = MAX_TOP
    body_bytes: int
    upload_bytes: int


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    detail: str
    organisations: int | None = None
    challenges: int | None = None
    model: str | None = None
