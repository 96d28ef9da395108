"""Judging candidates on the page, in real headless Chromium against the real server: a grade
clicked is stored, kept across a reload, and can be changed; without a key the page says so;
unsaved text cannot be judged."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.service.test_web_page import (  # noqa: F401 (browser, page: fixtures)
    CHROMIUM,
    browser,
    open_page,
    page,
    shoot,
    wait_candidates,
    wait_text,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]
TEXT = "废旧锂电池电解液低温炭化与多金属协同萃取分离"


def first_row(page):  # noqa: F811
    return page.locator("#candidates-table tbody tr.candidate").first


def active_grades(row) -> list[str]:
    return row.locator("button.grade.active").all_inner_texts()


@pytest.fixture
def challenge_id(live_server, api_key: str):
    """A posted challenge of its own, deleted afterwards: the server is shared, and other page
    tests count the posted challenges."""
    challenge_id = f"U-page-{uuid.uuid4().hex[:8]}"
    with live_server.client(api_key) as client:
        body = {"id": challenge_id, "area": "资源循环利用", "text": TEXT}
        assert client.post("/challenges", json=body).status_code == 201
        yield challenge_id
        assert client.delete(f"/challenges/{challenge_id}").status_code == 204


def test_a_grade_is_stored_kept_on_reload_and_changed(
    page,  # noqa: F811
    live_server,
    api_key: str,
    challenge_id: str,
    tmp_path: Path,
):
    judgments = f"/challenges/{challenge_id}/judgments"
    open_page(page, f"#/c/{challenge_id}")
    wait_candidates(page, f"{challenge_id}|10|||")
    assert page.locator("#judge-head").is_visible()
    row = first_row(page)
    org_id = row.get_attribute("data-org")
    assert row.locator("button.grade").all_inner_texts() == ["能承担", "相关", "不相关"]
    assert active_grades(row) == []
    assert "能承担 / 相关 / 不相关" in page.locator("#judging-hint").inner_text()

    row.locator("button.grade[data-grade='2']").click()  # no key yet: said, nothing stored
    assert "API 密钥" in row.locator(".judge-status").inner_text()
    assert "error" in row.locator(".judge-status").get_attribute("class")
    with live_server.client() as client:
        assert client.get(judgments).json()["total"] == 0

    page.fill("#api-key", api_key)
    row.locator("input.judge-note").fill("电话确认：有中试线")
    row.locator("button.grade[data-grade='2']").click()
    page.wait_for_function(
        "document.querySelector('#candidates-table tr.candidate .judge-status')"
        ".textContent.startsWith('已保存：能承担')"
    )
    assert active_grades(row) == ["能承担"]
    with live_server.client() as client:
        stored = client.get(judgments).json()["items"]
    assert [(j["org_id"], j["grade"], j["note"]) for j in stored] == [
        (org_id, 2, "电话确认：有中试线")
    ]
    shoot(page, tmp_path, "judged")

    page.reload()
    wait_candidates(page, f"{challenge_id}|10|||")
    row = first_row(page)
    assert row.get_attribute("data-org") == org_id
    assert active_grades(row) == ["能承担"]
    assert row.locator("input.judge-note").input_value() == "电话确认：有中试线"
    assert row.locator(".judge-status").inner_text().startswith("已评：能承担")
    wait_text(page, "judging-hint", "本挑战已评 1 家")

    page.fill("#api-key", api_key)
    row.locator("button.grade[data-grade='1']").click()
    page.wait_for_function(
        "document.querySelector('#candidates-table tr.candidate .judge-status')"
        ".textContent.startsWith('已保存：相关')"
    )
    page.reload()
    wait_candidates(page, f"{challenge_id}|10|||")
    assert active_grades(first_row(page)) == ["相关"]
    with live_server.client() as client:
        current = client.get(judgments).json()
        history = client.get(judgments, params={"history": "true"}).json()
    assert [(j["grade"], j["note"]) for j in current["items"]] == [(1, "电话确认：有中试线")]
    assert [j["grade"] for j in history["items"]] == [1, 2]

    # Text matched without saving has no id: nothing to judge, and the page says why.
    page.goto(f"{page.base}/#/match?text={TEXT}")
    wait_candidates(page, "|10|||")
    assert page.locator("#candidates-table tbody tr.candidate").count() > 0
    assert page.locator("#candidates-table td.judge").count() == 0
    assert not page.locator("#judge-head").is_visible()
    assert "临时匹配（未保存）的结果不能评判" in page.locator("#judging-hint").inner_text()
    assert page.console_errors == []
