"""揭榜挂帅 solvers and 公司+联盟 / 赛马制 consortia for what the user named.

The request models are the single description of each option: the CLI generates its flags from
them (`service.cli.options`) and the API takes them as query parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from embed.segment import Segmenter
from matcher.engine import MatchEngine
from matcher.teams.consortium import ConsortiumOptions, ConsortiumResult
from matcher.teams.eligibility import LeadUnitRules
from matcher.teams.facets import Facet, combine, user_facets
from matcher.teams.plan import challenge_facets, find_consortia, find_solvers
from matcher.teams.solvers import SolverResult
from service.usecases.challenges import Target

GAP_HELP = (
    "Confidence below which a facet counts as uncovered [default: the calibration's capable level]."
)


class SolverRequest(BaseModel):
    """How to rank 揭榜挂帅 solvers."""

    top: int = Field(default=10, ge=1, le=50, description="How many solvers.")
    gap_threshold: float | None = Field(default=None, ge=0, le=1, description=GAP_HELP)


class TeamRequest(BaseModel):
    """How to build 公司+联盟 teams."""

    size: int = Field(default=4, ge=1, le=10, description="Members per team.")
    teams: int = Field(default=1, ge=1, le=5, description="Disjoint teams to propose (赛马制).")
    prefer_zhejiang: bool = Field(
        default=False, description="Prefer Zhejiang members, then 长三角 (上海/江苏/安徽)."
    )
    require_academic: bool = Field(
        default=True, description="Require a university or institute (产学研)."
    )
    gap_threshold: float | None = Field(default=None, ge=0, le=1, description=GAP_HELP)

    def options(self) -> ConsortiumOptions:
        return ConsortiumOptions(
            size=self.size,
            teams=self.teams,
            prefer_region=self.prefer_zhejiang,
            require_academic=self.require_academic,
            gap_threshold=self.gap_threshold,
        )


def facets_for(
    target: Target, engine: MatchEngine, segmenter: Segmenter, given: Sequence[str] = ()
) -> list[Facet]:
    """The user's facets, else each of the target's texts decomposed (a whole area: combined)."""
    if given:
        return user_facets(given)
    groups = [
        challenge_facets(text, area=target.area, segmenter=segmenter, engine=engine)
        for text in target.texts
    ]
    return combine(groups) if len(groups) > 1 else groups[0]


def solvers(
    engine: MatchEngine,
    target: Target,
    request: SolverRequest,
    segmenter: Segmenter,
    given: Sequence[str] = (),
) -> SolverResult:
    facets = facets_for(target, engine, segmenter, given)
    return find_solvers(
        engine, facets, query=target.query, top=request.top, gap_threshold=request.gap_threshold
    )


def consortia(
    engine: MatchEngine,
    target: Target,
    request: TeamRequest,
    segmenter: Segmenter,
    given: Sequence[str] = (),
    rules: LeadUnitRules | None = None,
) -> ConsortiumResult:
    facets = facets_for(target, engine, segmenter, given)
    return find_consortia(
        engine, facets, query=target.query, options=request.options(), rules=rules
    )
