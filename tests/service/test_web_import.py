"""The page's challenge-list upload in real headless Chromium: preview, confirm, shortlist."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.files import challenge_xlsx, real_challenges
from tests.service.test_web_page import (  # noqa: F401 (browser, page: fixtures)
    CHROMIUM,
    SHOTS,
    browser,
    open_page,
    page,
    shoot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]
# A look at the preview, for the README; refreshed when JIEBANG_UPDATE_SCREENSHOT=1.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "import-preview.png"


def test_upload_preview_confirm_and_shortlist(page, api_key, live_server, shared_data, tmp_path):  # noqa: F811
    sources = real_challenges(shared_data, count=5)
    path = challenge_xlsx(tmp_path / "2025榜单.xlsx", sources)
    open_page(page)
    assert page.locator("#import-preview").is_disabled()
    page.fill("#api-key", api_key)
    page.set_input_files("#import-file", str(path))

    page.click("#import-preview")
    page.wait_for_selector("#import-dialog[open] tr.import-row")
    rows = page.locator("#import-table tr.import-row")
    assert rows.count() == len(sources)
    texts = rows.locator("td.text").all_inner_texts()
    assert [t.split("\n")[0] for t in texts] == [s.title for s in sources]
    assert "2025榜单.xlsx：5 个挑战" in page.locator("#import-summary").inner_text()
    assert rows.first.locator("td.where").inner_text() == "工作表「榜单」第 5 行"
    shot = shoot(page, tmp_path, "import-preview")
    if os.environ.get("JIEBANG_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, README_SCREENSHOT)
    with live_server.client() as client:  # previewing stored nothing
        listed = {c["text"] for c in client.get("/challenges").json()["challenges"]}
    assert not listed & {s.text for s in sources}

    page.click("#import-confirm")
    page.wait_for_function(
        "document.getElementById('import-message').textContent.startsWith('已导入 5 个挑战')"
    )
    assert not page.locator("#import-dialog").is_visible()
    assert "（新增 5，更新 0）" in page.locator("#import-message").inner_text()
    if SHOTS:  # the section after an import, to look at
        page.locator("#import-section").screenshot(path=str(Path(SHOTS) / "import-section.png"))
    page.wait_for_selector("#challenge-list li .cid:has-text('F-')")
    listed_ids = page.locator("#challenge-list li .cid").all_inner_texts()
    imported = [text.split(" · ")[0] for text in listed_ids if text.startswith("F-")]
    assert len(imported) == len(sources)

    with page.expect_download() as download_info:
        page.click("#import-shortlist")
    book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert download_info.value.suggested_filename == "2025榜单-shortlist.xlsx"
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 1 + len(sources)
    assert page.console_errors == []

    with live_server.client(api_key) as client:  # the server is shared: leave it clean
        for challenge_id in imported:
            assert client.delete(f"/challenges/{challenge_id}").status_code == 204


def test_a_bad_file_is_reported_on_the_page(page, api_key, tmp_path) -> None:  # noqa: F811
    path = tmp_path / "notice.docx"
    path.write_bytes(b"PK\x03\x04 not really a document")
    open_page(page)
    page.fill("#api-key", api_key)
    page.set_input_files("#import-file", str(path))
    page.click("#import-preview")
    page.wait_for_selector("#import-message.error")
    message = page.locator("#import-message").inner_text()
    assert "notice.docx: not a readable .docx file" in message
    assert not page.locator("#import-dialog").is_visible()
