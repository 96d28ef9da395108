"""Judgments: the users' grades of a challenge's candidates (2 能承担, 1 相关, 0 不相关).

Every POST appends a row; the current judgment of a (challenge, organisation) pair is its latest,
the earlier ones are its history. The challenge's text is stored as it was when judged (what the
engine ranked: `Challenge.query_text`), with a hash of the key that wrote it, never the key.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.deps import JsonBody, State
from service.api.errors import ErrorBody
from service.api.routers.challenges import WRITE_ERRORS, ChallengeId
from service.api.schemas import JudgmentIn, JudgmentOut, JudgmentPage
from service.api.security import API_KEY_HEADER, key_hash, require_write_key
from service.db import Judgment, JudgmentRow

router = APIRouter(tags=["judgments"])

MAX_PAGE = 1000
History = Annotated[
    bool, Query(description="Every judgment ever written, not only each pair's current one.")
]
Offset = Annotated[int, Query(ge=0, description="Judgments to skip (newest first).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Judgments per page.")]


def _out(row: JudgmentRow) -> JudgmentOut:
    judgment: Judgment = row.to_model()
    return JudgmentOut(**judgment.model_dump(exclude={"key_hash"}), by=judgment.by)


def _page(rows: list[JudgmentRow], total: int) -> JudgmentPage:
    return JudgmentPage(total=total, items=[_out(row) for row in rows])


@router.post(
    "/challenges/{challenge_id}/judgments",
    response_model=JudgmentOut,
    status_code=201,
    dependencies=[Depends(require_write_key), JsonBody],
    responses={
        **WRITE_ERRORS,
        404: {
            "model": ErrorBody,
            "description": "`challenge_not_found`, or `organisation_not_found` (not indexed).",
        },
        415: {"model": ErrorBody},
        422: {"description": "`invalid_input`: a grade other than 0/1/2, a note too long, …"},
        503: {"model": ErrorBody, "description": "`not_ready`: the index is still loading."},
    },
    summary="Grade a candidate of a challenge (replaces the pair's earlier grade; history kept)",
)
def post_judgment(
    state: State,
    challenge_id: ChallengeId,
    body: JudgmentIn,
    request: Request,
    response: Response,
) -> JudgmentOut:
    challenge = state.challenge(challenge_id)
    state.organisation(body.org_id)  # 404 unless the engine indexes it
    row = state.db.add_judgment(
        challenge_id=challenge.id,
        org_id=body.org_id,
        grade=body.grade,
        note=body.note,
        challenge_text=challenge.query_text,
        challenge_area=challenge.area or None,
        key_hash=key_hash(request.headers.get(API_KEY_HEADER)),
    )
    response.headers["Location"] = f"/challenges/{quote(challenge.id, safe='')}/judgments"
    return _out(row)


@router.get(
    "/challenges/{challenge_id}/judgments",
    response_model=JudgmentPage,
    responses={404: {"model": ErrorBody, "description": "`challenge_not_found`."}},
    summary="A challenge's judgments: each candidate's current grade, newest first",
)
def challenge_judgments(
    state: State,
    challenge_id: ChallengeId,
    history: History = False,
    offset: Offset = 0,
    limit: Limit = MAX_PAGE,
) -> JudgmentPage:
    state.challenge(challenge_id)
    return _page(
        *state.db.judgments(challenge_id=challenge_id, history=history, offset=offset, limit=limit)
    )


@router.get(
    "/judgments",
    response_model=JudgmentPage,
    summary="Every challenge's judgments, paged, newest first (current ones unless history)",
)
def all_judgments(
    state: State, history: History = False, offset: Offset = 0, limit: Limit = 100
) -> JudgmentPage:
    return _page(*state.db.judgments(history=history, offset=offset, limit=limit))
