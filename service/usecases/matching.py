"""Ranking organisations for one challenge: what `jiebang match` and the API's candidates routes
ask of the engine.

`MatchRequest` is the single description of those options (names, defaults, bounds, help): the
CLI generates its flags from it (`service.cli.options.request_options`), the API takes it as
query parameters, as the teams requests are, and the body of `POST /match` extends it with the
text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

from corpus.models import OrgKind, check_printable

if TYPE_CHECKING:
    from matcher.engine import MatchEngine
    from matcher.results import MatchResult

MAX_TOP = 200
MAX_REGION_CHARS = 50


class MatchRequest(BaseModel):
    """Which candidates to rank and show."""

    top: int = Field(default=10, ge=1, le=MAX_TOP, description="How many organisations.")
    kind: OrgKind | None = Field(default=None, description="Only organisations of this kind.")
    region: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REGION_CHARS,
        description="Only this city or province, e.g. 杭州.",
    )

    @field_validator("region")
    @classmethod
    def _printable(cls, region: str | None) -> str | None:
        return None if region is None else check_printable(region)

    def match(self, engine: MatchEngine, text: str, *, area: str | None = None) -> MatchResult:
        """`engine.match` under this request (by confidence, with evidence)."""
        return engine.match(text, area=area, top=self.top, kind=self.kind, region=self.region)
