"""Teams for a challenge: 揭榜挂帅 solvers and 公司+联盟 consortia (赛马制: disjoint teams)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from matcher.teams.consortium import ConsortiumResult
from matcher.teams.eligibility import EligibilityReport, check_lead_unit
from matcher.teams.solvers import SolverResult
from service.api.deps import State
from service.api.errors import ErrorBody
from service.api.routers.challenges import ChallengeId
from service.api.routers.organisations import OrgId
from service.api.state import ServiceState
from service.usecases import teams
from service.usecases.challenges import Target
from service.usecases.teams import SolverRequest, TeamRequest

router = APIRouter(tags=["teams"])


def _target(state: ServiceState, challenge_id: str) -> Target:
    return state.book.target(state.challenge(challenge_id).id)


@router.get(
    "/challenges/{challenge_id}/solvers",
    response_model=SolverResult,
    responses={404: {"model": ErrorBody}},
    summary="揭榜挂帅: organisations able to take the whole challenge, by facets covered",
)
def solvers(
    state: State, challenge_id: ChallengeId, request: Annotated[SolverRequest, Query()]
) -> SolverResult:
    target = _target(state, challenge_id)
    with state.lock.reading():
        return teams.solvers(state.engine, target, request, state.segmenter)


@router.get(
    "/challenges/{challenge_id}/consortium",
    response_model=ConsortiumResult,
    responses={404: {"model": ErrorBody}},
    summary="公司+联盟 teams covering the challenge's facets; teams>1 gives disjoint 赛马制 teams",
)
def consortium(
    state: State, challenge_id: ChallengeId, request: Annotated[TeamRequest, Query()]
) -> ConsortiumResult:
    target = _target(state, challenge_id)
    with state.lock.reading():
        return teams.consortia(state.engine, target, request, state.segmenter)


@router.get(
    "/organisations/{org_id}/eligibility",
    response_model=EligibilityReport,
    responses={404: {"model": ErrorBody}},
    summary="The organisation against the seed's lead-unit (牵头单位) criteria",
)
def eligibility(state: State, org_id: OrgId) -> EligibilityReport:
    return check_lead_unit(state.organisation(org_id))
