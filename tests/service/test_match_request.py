"""`MatchRequest` is the one description of the match options: `jiebang match` flags, the API
candidates routes' query parameters and the `POST /match` bodies are generated from it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from service.api.app import create_app
from service.api.schemas import MatchExportIn, MatchIn
from service.cli.main import app
from service.settings import Settings
from service.usecases.matching import MAX_REGION_CHARS, MAX_TOP, MatchRequest


def test_cli_flags_come_from_the_request() -> None:
    shown = CliRunner().invoke(app, ["match", "--help"], env={"COLUMNS": "200"}).output
    for field, info in MatchRequest.model_fields.items():
        assert f"--{field}" in shown and str(info.description) in shown
    assert f"1<=x<={MAX_TOP}" in shown


def test_cli_refuses_what_the_request_refuses_naming_the_flag() -> None:
    too_long = "杭" * (MAX_REGION_CHARS + 1)
    refused = CliRunner().invoke(app, ["match", "储氢瓶", "--region", too_long])
    assert refused.exit_code == 2
    assert "--region" in refused.output and "at most 50 characters" in refused.output


def test_api_candidate_parameters_come_from_the_request() -> None:
    paths = create_app(Settings()).openapi()["paths"]
    for route in (
        "/challenges/{challenge_id}/candidates",
        "/challenges/{challenge_id}/candidates/export",
    ):
        query = {p["name"]: p for p in paths[route]["get"]["parameters"] if p["in"] == "query"}
        for field, info in MatchRequest.model_fields.items():
            assert query[field]["description"] == info.description
            assert query[field]["schema"].get("default") == info.default
        assert query["top"]["schema"]["maximum"] == MAX_TOP
        assert query["region"]["schema"]["anyOf"][0]["maxLength"] == MAX_REGION_CHARS


def test_the_match_bodies_are_the_request_with_the_text() -> None:
    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    for body in (MatchIn, MatchExportIn):
        assert issubclass(body, MatchRequest)
        properties = schemas[body.__name__]["properties"]
        for field, info in MatchRequest.model_fields.items():
            assert properties[field]["description"] == info.description
        assert properties["top"]["maximum"] == MAX_TOP


def test_every_face_refuses_a_control_character_in_the_region() -> None:
    with pytest.raises(ValidationError, match="控制字符"):
        MatchRequest(region="杭州\x00")  # the query parameters and the CLI flags
    with pytest.raises(ValidationError, match="控制字符"):
        MatchIn(text="储氢瓶", region="杭州\x00")
    with pytest.raises(ValidationError, match="extra"):
        MatchIn(text="储氢瓶", topp=3)  # a misspelt option is refused, not ignored
