"""Candidates: rank organisations for a challenge or for ad-hoc text; export the ranking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from matcher.results import MatchResult
from service.api.deps import JsonBody, State
from service.api.errors import ErrorBody, Responses
from service.api.export import MEDIA_TYPES, export_response
from service.api.routers.challenges import ChallengeId
from service.api.schemas import ExportFormat, MatchExportIn, MatchIn
from service.api.state import ServiceState
from service.usecases.matching import MatchRequest

router = APIRouter(tags=["candidates"])

DEFAULT_REQUEST = MatchRequest()
DEFAULT_PARAMS = f"top={DEFAULT_REQUEST.top}&kind=&region="

MatchQuery = Annotated[MatchRequest, Query()]
Format = Annotated[ExportFormat, Query(description="xlsx or csv")]
FILE_RESPONSES: Responses = {
    200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The ranking file."},
    404: {"model": ErrorBody},
}


def _match(
    state: ServiceState, text: str, request: MatchRequest, area: str | None = None
) -> MatchResult:
    engine = state.engine
    with state.lock.reading():
        return request.match(engine, text, area=area)


def _challenge_ranking(
    state: ServiceState, challenge_id: str, request: MatchRequest
) -> MatchResult:
    challenge = state.challenge(challenge_id)
    result = _match(state, challenge.query_text, request, challenge.area)
    # Only the default ranking is stored: one row per challenge, whatever clients ask for.
    if request == DEFAULT_REQUEST:
        state.db.save_result(challenge_id, DEFAULT_PARAMS, result.model_dump(mode="json"))
    return result


@router.get(
    "/challenges/{challenge_id}/candidates",
    response_model=MatchResult,
    responses={404: {"model": ErrorBody}},
    summary="Rank candidate organisations for a challenge, with evidence",
)
def candidates(state: State, challenge_id: ChallengeId, request: MatchQuery) -> MatchResult:
    return _challenge_ranking(state, challenge_id, request)


@router.get(
    "/challenges/{challenge_id}/candidates/export",
    response_class=Response,
    responses=FILE_RESPONSES,
    summary="Download a challenge's ranking as XLSX or CSV",
)
def export_candidates(
    state: State,
    challenge_id: ChallengeId,
    *,
    format: Format = ExportFormat.xlsx,
    request: MatchQuery,
) -> Response:
    result = _challenge_ranking(state, challenge_id, request)
    return export_response(result, format, f"jiebang-{challenge_id}")


@router.post(
    "/match",
    response_model=MatchResult,
    dependencies=[JsonBody],
    responses={415: {"model": ErrorBody}},
    summary="Rank candidate organisations for ad-hoc text (a query: needs no write key)",
)
def match(state: State, body: MatchIn) -> MatchResult:
    return _match(state, body.text, body)


@router.post(
    "/match/export",
    response_class=Response,
    dependencies=[JsonBody],
    responses={**FILE_RESPONSES, 415: {"model": ErrorBody}},
    summary="Download the ranking for ad-hoc text as XLSX or CSV",
)
def export_match(state: State, body: MatchExportIn) -> Response:
    result = _match(state, body.text, body)
    return export_response(result, body.format, "jiebang-match")
