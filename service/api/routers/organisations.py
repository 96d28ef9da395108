"""Organisations: add, update, read, list and delete; the index follows incrementally."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response

from corpus.models import CONTROL_CHARACTERS, Organisation, OrgKind
from service.api.deps import JsonBody, State
from service.api.errors import ErrorBody, ErrorCode, InvalidInput
from service.api.routers.challenges import WRITE_ERRORS
from service.api.schemas import OrganisationPage, OrganisationSummary
from service.api.security import require_write_key

router = APIRouter(tags=["organisations"])

OrgId = Annotated[str, Path(min_length=1, max_length=200, description="Organisation id")]


@router.get("/organisations", response_model=OrganisationPage, summary="List organisations")
def list_organisations(
    state: State,
    kind: Annotated[OrgKind | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrganisationPage:
    engine = state.engine
    with state.lock.reading():
        organisations = list(engine.organisations.values())
    chosen = [
        o
        for o in organisations
        if (kind is None or o.kind == kind) and (not q or q.strip() in o.name)
    ]
    chosen.sort(key=lambda o: o.id)
    items = [
        OrganisationSummary(id=o.id, name=o.name, kind=o.kind, region=o.region)
        for o in chosen[offset : offset + limit]
    ]
    return OrganisationPage(total=len(chosen), items=items)


@router.get(
    "/organisations/{org_id}",
    response_model=Organisation,
    responses={404: {"model": ErrorBody}},
    summary="Read one organisation",
)
def get_organisation(state: State, org_id: OrgId) -> Organisation:
    return state.organisation(org_id)


@router.post(
    "/organisations",
    response_model=Organisation,
    status_code=201,
    dependencies=[Depends(require_write_key), JsonBody],
    responses={
        **WRITE_ERRORS,
        415: {"model": ErrorBody},
        200: {"model": Organisation, "description": "Updated (with replace=true)."},
        409: {"model": ErrorBody, "description": "The id exists and replace is false."},
        422: {"model": ErrorBody},
    },
    summary="Add an organisation, or update one with replace=true; the index follows",
)
def post_organisation(
    state: State,
    organisation: Organisation,
    response: Response,
    replace: Annotated[bool, Query(description="Update an organisation with this id")] = False,
) -> Organisation:
    if "/" in organisation.id or len(organisation.id) > 200:
        raise InvalidInput(ErrorCode.invalid_input, "机构编号最长 200 个字符，且不能含「/」")
    texts = [
        organisation.id,
        organisation.name,
        organisation.capability,
        *organisation.national_bases,
    ]
    texts += [organisation.region.city or "", organisation.region.province or ""]
    if any(CONTROL_CHARACTERS.search(text) for text in texts):
        raise InvalidInput(ErrorCode.invalid_input, "机构信息不能包含控制字符或不成对的代理字符")
    if not state.put_organisation(organisation, replace=replace):
        response.status_code = 200
    response.headers["Location"] = f"/organisations/{quote(organisation.id, safe='')}"
    return organisation


@router.delete(
    "/organisations/{org_id}",
    status_code=204,
    dependencies=[Depends(require_write_key)],
    responses={**WRITE_ERRORS, 404: {"model": ErrorBody}},
    summary="Delete an organisation; it never reappears, even after a restart",
)
def delete_organisation(state: State, org_id: OrgId) -> Response:
    state.delete_organisation(org_id)
    return Response(status_code=204)
