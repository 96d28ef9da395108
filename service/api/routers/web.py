"""The web page: plain HTML and one vanilla script from service/web/, no build step."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

WEB_DIR = resources.files("service") / "web"


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page, media_type="text/html; charset=utf-8")
