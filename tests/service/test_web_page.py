"""The web page in real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# The README's screenshot; refreshed when JIEBANG_UPDATE_SCREENSHOT=1.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN"
        )
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.goto(live_server.base_url + "/")
        yield page
        browser.close()


def save_small_png(png: bytes, path: Path) -> None:
    """A 256-colour PNG: a third of the size, and text stays crisp."""
    from PIL import Image

    Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(path, optimize=True)


def test_post_challenge_rank_filter_download(page, api_key: str, tmp_path: Path) -> None:
    page.wait_for_selector("#challenge-list li")
    assert page.title().startswith("揭榜")
    page.wait_for_function("document.getElementById('status').textContent.includes('服务就绪')")

    page.fill("#post-area", "新材料")
    page.fill("#post-text", "高纯度湿电子化学品及KrF光刻胶的国产化制备与纯化技术")
    page.fill("#api-key", api_key)
    page.click("#post-button")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=120_000)
    assert page.locator("#post-message").inner_text().startswith("已发布：U-")
    rows = page.locator("#candidates-table tbody tr.candidate")
    assert rows.count() == 10
    assert page.locator("#candidates-table mark").count() > 0  # evidence highlighted

    page.select_option("#kind-filter", "university")
    page.wait_for_function(
        "[...document.querySelectorAll('#candidates-table tbody tr.candidate .kind')]"
        ".every(k => k.textContent === '高校')"
    )
    kinds = page.locator("#candidates-table tbody tr.candidate .kind").all_inner_texts()
    assert kinds and set(kinds) == {"高校"}

    with page.expect_download() as download_info:
        page.click("#download-xlsx")
    workbook = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    sheet = workbook.active
    header = [cell.value for cell in sheet[3]]
    assert header[:3] == ["排名", "机构编号", "机构名称"]
    assert {row[3] for row in sheet.iter_rows(min_row=4, values_only=True)} == {"高校"}

    page.select_option("#kind-filter", "")
    page.wait_for_function(
        "document.getElementById('candidates-note').textContent.startsWith('共') && "
        "[...document.querySelectorAll('#candidates-table tbody tr.candidate .kind')]"
        ".some(k => k.textContent !== '高校')"
    )
    shot = tmp_path / "page.png"
    save_small_png(page.screenshot(), shot)
    assert shot.stat().st_size > 10_000
    if os.environ.get("JIEBANG_UPDATE_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, README_SCREENSHOT)
    assert page.console_errors == []


def test_catalogue_pick_and_teams(page) -> None:
    page.wait_for_selector("#challenge-list li")
    page.select_option("#area-select", "6")
    items = page.locator("#challenge-list li")
    assert items.count() >= 2
    assert all(t.startswith("ZJ2021-06-") for t in items.locator(".cid").all_inner_texts())
    items.first.click()
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=120_000)

    page.click(".tabs button[data-tab=solvers]")
    page.wait_for_selector("#solvers .card", timeout=120_000)
    assert page.locator("#solvers .chip").count() > 0

    page.click(".tabs button[data-tab=consortium]")
    page.wait_for_selector("#consortium .card", timeout=120_000)
    assert page.locator("#consortium .card").count() == 2  # 赛马制: two disjoint teams
    assert "牵头单位" in page.locator("#consortium").inner_text()
    assert page.console_errors == []


def test_posting_without_an_area_shows_the_inferred_one(page, api_key: str, live_server) -> None:
    page.wait_for_function("document.getElementById('status').textContent.includes('服务就绪')")
    page.fill("#post-text", "五轴联动数控机床的高速高精插补与热误差补偿")
    page.fill("#api-key", api_key)
    page.click("#post-button")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=120_000)
    assert "领域推断为「数控机床」" in page.locator("#post-message").inner_text()
    assert page.locator("#challenge-meta").inner_text().endswith("数控机床（推断） · 用户发布")
    assert "能为此挑战作出贡献" in page.locator("#candidates-table caption").inner_text()
    assert page.locator("#candidates-table tbody tr.capable").count() >= 1
    posted = page.locator("#challenge-meta").inner_text().split(" · ")[0]
    with live_server.client(api_key) as client:  # the server is shared: leave it clean
        assert client.delete(f"/challenges/{posted}").status_code == 204
    assert page.console_errors == []
