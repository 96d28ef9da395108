"""Challenges: the built-in catalogue plus those posted by users."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from corpus.models import Challenge
from service.api.deps import JsonBody, State
from service.api.errors import Conflict, ErrorBody, ErrorCode, Responses
from service.api.schemas import AreaOut, ChallengeEdit, ChallengeIn, ChallengeList, StoredResult
from service.api.security import require_write_key
from service.api.state import ServiceState, unknown_challenge
from service.usecases.challenges import ChallengeBook, Origin

router = APIRouter(tags=["challenges"])

ChallengeId = Annotated[str, Path(min_length=1, max_length=128, description="Challenge id")]
WRITE_ERRORS: Responses = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}}
POSTED = "posted"


@router.get("/challenges", response_model=ChallengeList, summary="List challenges by area")
def list_challenges(
    state: State,
    area: Annotated[
        str | None,
        Query(max_length=100, description="Area number (6) or part of its name (高分子)"),
    ] = None,
) -> ChallengeList:
    challenges = state.book.by_area(area)
    # Posted challenges count in their catalogue area too: the counts are what the list holds.
    counts = Counter(c.area_no for c in state.book.all())
    areas = [
        AreaOut(no=a.no, name=a.name, name_inferred=a.name_inferred, challenges=counts[a.no])
        for a in state.catalogue.areas
    ]
    return ChallengeList(areas=areas, challenges=challenges)


@router.get(
    "/challenges/{challenge_id}",
    response_model=Challenge,
    responses={404: {"model": ErrorBody}},
    summary="Read one challenge",
)
def get_challenge(state: State, challenge_id: ChallengeId) -> Challenge:
    return state.challenge(challenge_id)


def _placed(state: ServiceState, area: str | None, text: str) -> tuple[int | None, str, bool]:
    """(area number, area name, inferred): the given area, else the nearest catalogue one."""
    if area is None or not area.strip():
        area_no, inferred_area = state.infer_area(text)
        return area_no, inferred_area, True
    name = area.strip()
    return next((a.no for a in state.catalogue.areas if a.name == name), None), name, False


@router.post(
    "/challenges",
    response_model=Challenge,
    status_code=201,
    dependencies=[Depends(require_write_key), JsonBody],
    responses={**WRITE_ERRORS, 409: {"model": ErrorBody}, 415: {"model": ErrorBody}},
    summary="Post a challenge",
)
def post_challenge(state: State, body: ChallengeIn, response: Response) -> Challenge:
    challenge_id = body.id or ChallengeBook.new_id(Origin.posted)
    if any(c.id == challenge_id for c in state.catalogue.challenges) or state.db.get_challenge(
        challenge_id
    ):
        raise Conflict(ErrorCode.challenge_id_taken, f"挑战编号「{challenge_id}」已被占用")
    area_no, area, inferred = _placed(state, body.area, body.text)
    challenge = Challenge(
        id=challenge_id,
        area_no=area_no,
        area=area,
        area_inferred=inferred,
        text=body.text,
        source=POSTED,
    )
    state.db.add_challenge(challenge)
    response.headers["Location"] = f"/challenges/{challenge.id}"
    return challenge


def _posted(state: ServiceState, challenge_id: str) -> Challenge:
    """A posted challenge; 404 when unknown, 409 for one of the built-in catalogue."""
    challenge = state.challenge(challenge_id)
    if challenge.source != POSTED:
        raise Conflict(
            ErrorCode.builtin_challenge, f"「{challenge_id}」是目录内置的挑战，不能修改或删除"
        )
    return challenge


@router.put(
    "/challenges/{challenge_id}",
    response_model=Challenge,
    dependencies=[Depends(require_write_key), JsonBody],
    responses={
        **WRITE_ERRORS,
        404: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "A built-in challenge."},
        415: {"model": ErrorBody},
    },
    summary="Edit a posted challenge's text and area (no area: the nearest is inferred)",
)
def edit_challenge(state: State, challenge_id: ChallengeId, body: ChallengeEdit) -> Challenge:
    old = _posted(state, challenge_id)
    area_no, area, inferred = _placed(state, body.area, body.text)
    challenge = old.model_copy(
        update={"area_no": area_no, "area": area, "area_inferred": inferred, "text": body.text}
    )
    if not state.db.update_challenge(challenge):  # deleted meanwhile
        raise unknown_challenge(challenge_id)
    return challenge


@router.delete(
    "/challenges/{challenge_id}",
    status_code=204,
    dependencies=[Depends(require_write_key)],
    responses={**WRITE_ERRORS, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    summary="Delete a posted challenge",
)
def delete_challenge(state: State, challenge_id: ChallengeId) -> Response:
    _posted(state, challenge_id)
    state.db.delete_challenge(challenge_id)
    return Response(status_code=204)


@router.get(
    "/challenges/{challenge_id}/results",
    response_model=list[StoredResult],
    responses={404: {"model": ErrorBody}},
    summary="Rankings stored for a challenge, newest first",
)
def stored_results(state: State, challenge_id: ChallengeId) -> list[StoredResult]:
    state.challenge(challenge_id)
    return [
        StoredResult(params=row.params_key, computed_at=row.computed_at, result=row.result)
        for row in state.db.results_for(challenge_id)
    ]
