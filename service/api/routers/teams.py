"""Teams for a challenge: 揭榜挂帅 solvers and 公司+联盟 consortia (赛马制: disjoint teams)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from corpus.models import Organisation
from matcher.teams.consortium import ConsortiumResult
from matcher.teams.eligibility import EligibilityReport, check_lead_unit
from matcher.teams.solvers import SolverResult
from service.api.deps import State
from service.api.errors import ErrorBody, Responses
from service.api.export import MEDIA_TYPES, download
from service.api.routers.challenges import ChallengeId
from service.api.routers.organisations import OrgId
from service.api.schemas import ExportFormat
from service.api.state import ServiceState
from service.export.teams import consortium_csv, consortium_xlsx, solvers_csv, solvers_xlsx
from service.usecases import teams
from service.usecases.capability import CapableFor, capable_for, evidence_of
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


FILE_RESPONSES: Responses = {
    200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The table file."},
    404: {"model": ErrorBody},
}
Format = Annotated[ExportFormat, Query(description="xlsx or csv")]


@router.get(
    "/challenges/{challenge_id}/solvers/export",
    response_class=Response,
    responses=FILE_RESPONSES,
    summary="Download the 揭榜挂帅 solvers as XLSX or CSV (one column per facet)",
)
def export_solvers(
    state: State,
    challenge_id: ChallengeId,
    request: Annotated[SolverRequest, Query()],
    format: Format = ExportFormat.xlsx,
) -> Response:
    result = solvers(state, challenge_id, request)
    content = solvers_xlsx(result) if format is ExportFormat.xlsx else solvers_csv(result)
    return download(content, MEDIA_TYPES[format], f"jiebang-{challenge_id}-solvers.{format}")


@router.get(
    "/challenges/{challenge_id}/consortium/export",
    response_class=Response,
    responses=FILE_RESPONSES,
    summary="Download the teams as XLSX (members, facet coverage) or CSV (members)",
)
def export_consortium(
    state: State,
    challenge_id: ChallengeId,
    request: Annotated[TeamRequest, Query()],
    format: Format = ExportFormat.xlsx,
) -> Response:
    result = consortium(state, challenge_id, request)
    content = consortium_xlsx(result) if format is ExportFormat.xlsx else consortium_csv(result)
    return download(content, MEDIA_TYPES[format], f"jiebang-{challenge_id}-teams.{format}")


@router.get(
    "/organisations/{org_id}/eligibility",
    response_model=EligibilityReport,
    responses={404: {"model": ErrorBody}},
    summary="The organisation against the seed's lead-unit (牵头单位) criteria",
)
def eligibility(state: State, org_id: OrgId) -> EligibilityReport:
    return check_lead_unit(state.organisation(org_id))


class EvidenceOut(BaseModel):
    source: str
    ref: str | None
    text: str


class OrganisationProfile(BaseModel):
    """What an organisation page shows: the record, its evidence, the challenges it is capable
    for (or, when none, its best leads), and its 牵头单位 eligibility criterion by criterion."""

    organisation: Organisation
    evidence: list[EvidenceOut]
    capable_level: float
    capable_for: list[CapableFor]
    eligibility: EligibilityReport


@router.get(
    "/organisations/{org_id}/profile",
    response_model=OrganisationProfile,
    responses={404: {"model": ErrorBody}},
    summary="An organisation's evidence, the challenges it is capable for, its eligibility",
)
def profile(state: State, org_id: OrgId) -> OrganisationProfile:
    organisation = state.organisation(org_id)
    engine = state.engine
    with state.lock.reading():
        passages = evidence_of(engine, org_id)
        capable = capable_for(engine, state.scores, state.book.all(), org_id)
    return OrganisationProfile(
        organisation=organisation,
        evidence=[EvidenceOut(source=p.source, ref=p.ref, text=p.text) for p in passages],
        capable_level=engine.capable_confidence,
        capable_for=capable,
        eligibility=check_lead_unit(organisation),
    )
