"""Teams for a challenge: 揭榜挂帅 solvers and 公司+联盟 consortia (赛马制: disjoint teams)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from matcher.teams.consortium import ConsortiumOptions, ConsortiumResult
from matcher.teams.eligibility import EligibilityReport, check_lead_unit
from matcher.teams.facets import Facet
from matcher.teams.plan import challenge_facets, find_consortia, find_solvers
from matcher.teams.solvers import SolverResult
from service.api.deps import State
from service.api.errors import ErrorBody
from service.api.routers.challenges import ChallengeId
from service.api.routers.organisations import OrgId
from service.api.state import ServiceState

router = APIRouter(tags=["teams"])

GapThreshold = Annotated[
    float | None,
    Query(
        ge=0,
        le=1,
        description="Confidence below which a facet counts as uncovered; default: the "
        "calibration's capable level",
    ),
]


def _facets(state: ServiceState, challenge_id: str) -> tuple[str, list[Facet]]:
    challenge = state.challenge(challenge_id)
    facets = challenge_facets(
        challenge.text, area=challenge.area, segmenter=state.segmenter, engine=state.engine
    )
    return challenge.query_text, facets


@router.get(
    "/challenges/{challenge_id}/solvers",
    response_model=SolverResult,
    responses={404: {"model": ErrorBody}},
    summary="揭榜挂帅: organisations able to take the whole challenge, by breadth over facets",
)
def solvers(
    state: State,
    challenge_id: ChallengeId,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
    gap_threshold: GapThreshold = None,
) -> SolverResult:
    engine = state.engine
    with state.lock.reading():
        query, facets = _facets(state, challenge_id)
        return find_solvers(engine, facets, query=query, top=top, gap_threshold=gap_threshold)


@router.get(
    "/challenges/{challenge_id}/consortium",
    response_model=ConsortiumResult,
    responses={404: {"model": ErrorBody}},
    summary="公司+联盟 teams covering the challenge's facets; teams>1 gives disjoint 赛马制 teams",
)
def consortium(
    state: State,
    challenge_id: ChallengeId,
    size: Annotated[int, Query(ge=1, le=10, description="Members per team")] = 4,
    teams: Annotated[int, Query(ge=1, le=5, description="Disjoint teams (赛马制)")] = 1,
    prefer_zhejiang: Annotated[
        bool, Query(description="Prefer Zhejiang members, then 长三角")
    ] = False,
    require_academic: Annotated[
        bool, Query(description="Require a university or institute (产学研)")
    ] = True,
    gap_threshold: GapThreshold = None,
) -> ConsortiumResult:
    options = ConsortiumOptions(
        size=size,
        teams=teams,
        prefer_region=prefer_zhejiang,
        require_academic=require_academic,
        gap_threshold=gap_threshold,
    )
    engine = state.engine
    with state.lock.reading():
        query, facets = _facets(state, challenge_id)
        return find_consortia(engine, facets, query=query, options=options)


@router.get(
    "/organisations/{org_id}/eligibility",
    response_model=EligibilityReport,
    responses={404: {"model": ErrorBody}},
    summary="The organisation against the seed's lead-unit (牵头单位) criteria",
)
def eligibility(state: State, org_id: OrgId) -> EligibilityReport:
    return check_lead_unit(state.organisation(org_id))
