"""The web page and /docs in real headless Chromium (Debian's, driven by Playwright), against
the real server; one browser for the module, a fresh context per test. Every request a page
makes is recorded, and any that would leave 127.0.0.1 is refused and fails the test."""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# The README's screenshot; refreshed when JIEBANG_UPDATE_SCREENSHOT=1.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
# Every view's screenshot is also copied here when set, to look at them.
SHOTS = os.environ.get("JIEBANG_SCREENSHOT_DIR")
SLOW = 180_000  # ms: a ranking, the roadmap's first pass or a bulk job on shared cores

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN"
    )
    outside: list[str] = []

    def only_loopback(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:  # as offline as the users' machines may be: nothing leaves loopback
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.console_errors = []
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.base = live_server.base_url
    yield page
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in page.requests if "://" in url)


def open_page(page, hash_: str = "") -> None:
    page.goto(f"{page.base}/{hash_}")
    page.wait_for_selector("#challenge-list li", state="attached")
    page.wait_for_function("document.getElementById('status').textContent.includes('服务就绪')")


def shoot(page, tmp_path: Path, name: str) -> Path:
    """A 256-colour PNG of the viewport (a third of the size, text stays crisp)."""
    from PIL import Image

    shot = tmp_path / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # Playwright scrolled to what the test clicked
    Image.open(io.BytesIO(page.screenshot())).convert("RGB").quantize(256).save(shot, optimize=True)
    assert shot.stat().st_size > 10_000
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(SHOTS) / shot.name)
    return shot


def hash_params(page) -> dict[str, str]:
    return dict(page.evaluate("[...new URLSearchParams(location.hash.split('?')[1] || '')]"))


def wait_candidates(page, shows: str | None = None) -> None:
    """Until the table shows a ranking (with `shows`: for "<id>|<top>|<kind>|<region>|<all>")."""
    script = "document.getElementById('candidates-table').dataset.shows"
    wanted = f"{script} === {json.dumps(shows)}" if shows is not None else f"!!{script}"
    page.wait_for_function(wanted, timeout=SLOW)


def wait_text(page, element_id: str, text: str, timeout: int = 30_000) -> None:
    """Until the element's text contains `text`."""
    script = f"document.getElementById({element_id!r}).textContent.includes({json.dumps(text)})"
    page.wait_for_function(script, timeout=timeout)


def wait_listed(page, prefix: str) -> None:
    """Until every listed challenge's id starts with `prefix`."""
    page.wait_for_function(
        "[...document.querySelectorAll('#challenge-list li')]"
        f".every(li => li.dataset.id.startsWith({json.dumps(prefix)}))"
    )


def header_count(page) -> int:
    status = page.locator("#status").inner_text()
    return int(status.split("·")[2].strip().split(" ")[0])


def test_post_opens_at_once_with_deep_links_filters_and_download(
    page, api_key: str, live_server, tmp_path: Path
) -> None:
    open_page(page)
    assert page.title().startswith("揭榜")
    before = header_count(page)
    page.fill("#post-area", "新材料")
    page.fill("#post-text", "高纯度湿电子化学品及KrF光刻胶的国产化制备与纯化技术")
    page.fill("#api-key", api_key)
    page.click("#post-button")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    posted = page.locator("#post-message").inner_text().removeprefix("已发布：")
    assert posted.startswith("U-")
    assert page.evaluate("location.hash") == f"#/c/{posted}"
    first = page.locator("#challenge-list li").first  # the newest post heads the list
    assert first.get_attribute("data-id") == posted and "active" in first.get_attribute("class")
    wait_text(page, "status", f"{before + 1} 个挑战")
    assert page.locator("#area-select option[value=posted]").inner_text() == "用户发布的挑战（1）"
    assert page.locator("#candidates-table mark").count() > 0  # evidence highlighted

    page.select_option("#kind-filter", "university")
    wait_candidates(page, f"{posted}|10|university||")
    kinds = page.locator("#candidates-table tbody tr.candidate .kind").all_inner_texts()
    assert kinds and set(kinds) == {"高校"}
    page.reload()  # the selection, the tab and the filters come back from the URL
    wait_candidates(page, f"{posted}|10|university||")
    assert page.input_value("#kind-filter") == "university"
    assert page.locator("#challenge-meta").inner_text().startswith(posted)
    assert set(page.locator("#candidates-table tbody tr.candidate .kind").all_inner_texts()) == {
        "高校"
    }

    with page.expect_download() as download_info:
        page.click("#download-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    assert [cell.value for cell in sheet[3]][:3] == ["排名", "机构编号", "机构名称"]
    assert {row[3] for row in sheet.iter_rows(min_row=4, values_only=True)} == {"高校"}

    page.go_back()  # back: the filter is undone
    wait_candidates(page, f"{posted}|10|||")
    assert page.input_value("#kind-filter") == ""
    page.wait_for_function(
        "[...document.querySelectorAll('#candidates-table tbody tr.candidate .kind')]"
        ".some(k => k.textContent !== '高校')"
    )
    shot = shoot(page, tmp_path, "candidates")
    if os.environ.get("JIEBANG_UPDATE_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, README_SCREENSHOT)

    page.fill("#region-filter", "Zhejiang")  # pinyin finds what 浙江 finds
    page.click("#filter-button")
    wait_candidates(page, f"{posted}|10||Zhejiang|")
    regions = page.locator("#candidates-table tbody tr.candidate td.region").all_inner_texts()
    assert regions and all(r.startswith("浙江") for r in regions)
    assert hash_params(page)["region"] == "Zhejiang"

    page.select_option("#top-filter", "50")  # no padding with 0–1 % organisations
    wait_candidates(page, f"{posted}|50||Zhejiang|")
    confidences = page.locator("#candidates-table tbody tr.candidate td.confidence")
    assert all(int(t.split("%")[0]) >= 5 for t in confidences.all_inner_texts())
    assert "未列出" in page.locator("#floor-text").inner_text()
    shown = confidences.count()
    page.click("#show-all")
    wait_candidates(page, f"{posted}|50||Zhejiang|1")
    assert page.locator("#candidates-table tr.candidate").count() > shown
    assert hash_params(page)["all"] == "1"
    with live_server.client(api_key) as client:  # the server is shared: leave it clean
        assert client.delete(f"/challenges/{posted}").status_code == 204
    assert page.console_errors == []


def test_catalogue_search_tabs_and_team_exports(page, tmp_path: Path) -> None:
    open_page(page)
    page.select_option("#area-select", "6")
    wait_listed(page, "ZJ2021-06-")
    assert "area=6" in page.evaluate("location.hash")
    items = page.locator("#challenge-list li")
    assert all(t.startswith("ZJ2021-06-") for t in items.locator(".cid").all_inner_texts())
    assert (
        page.locator("#area-select option[value='6']").inner_text().endswith(f"（{items.count()}）")
    )
    page.select_option("#area-select", "")
    page.fill("#catalogue-search", "光刻胶")  # by text
    page.wait_for_function("location.hash.includes('q=')")
    texts = page.locator("#challenge-list li .text").all_inner_texts()
    assert texts and all("光刻胶" in t for t in texts)
    page.fill("#catalogue-search", "zj2021-09-0")  # by id, any case
    wait_listed(page, "ZJ2021-09-0")
    page.locator("#challenge-list li a").first.click()
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    assert page.locator("#filters").is_visible() and page.locator("#download-xlsx").is_visible()
    assert page.input_value("#catalogue-search") == "zj2021-09-0"  # the list stays as it was

    page.click(".tabs button[data-tab=solvers]")
    page.wait_for_selector("#solvers .card", timeout=SLOW)
    assert hash_params(page)["tab"] == "solvers"
    assert not page.locator("#filters").is_visible()  # the candidate controls hide
    assert not page.locator("#download-xlsx").is_visible()
    assert page.locator("#solvers .chip").count() > 0
    assert "jiebang" not in page.locator("#tab-solvers").inner_text()
    with page.expect_download() as download_info:
        page.click("#solvers-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    header = [cell.value for cell in sheet[4]]
    assert header[:3] == ["排名", "机构编号", "单位"] and header[8].startswith("F1")
    assert sheet.max_row - 4 == page.locator("#solvers .card").count()

    page.click(".tabs button[data-tab=consortium]")
    page.wait_for_selector("#consortium .card", timeout=SLOW)
    assert page.locator("#consortium .card").count() == 2  # 赛马制: two disjoint teams
    assert "牵头单位" in page.locator("#consortium").inner_text()
    with page.expect_download() as download_info:
        page.click("#teams-csv")
    csv = Path(download_info.value.path()).read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    assert csv.decode("utf-8-sig").splitlines()[0].startswith("队伍,队伍覆盖度,角色")
    shoot(page, tmp_path, "consortium")
    page.go_back()
    page.wait_for_selector("#solvers .card")
    assert page.locator("#tab-solvers").is_visible()
    assert page.console_errors == []


def test_posting_without_an_area_shows_the_inferred_one(page, api_key: str, live_server) -> None:
    open_page(page)
    page.fill("#post-text", "五轴联动数控机床的高速高精插补与热误差补偿")
    page.fill("#api-key", api_key)
    page.click("#post-button")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    assert "领域推断为「数控机床」" in page.locator("#post-message").inner_text()
    assert page.locator("#challenge-meta").inner_text().endswith("数控机床（推断） · 用户发布")
    legend = page.locator("#candidates-legend").inner_text()
    assert "能为此挑战作出贡献" in legend and "显示 30% 的机构" in legend and "✓ 有能力" in legend
    capable = page.locator("#candidates-table tbody tr.capable")
    assert capable.count() >= 1 and capable.first.locator(".capable-mark").is_visible()
    plain = page.locator("#candidates-table tbody tr.candidate:not(.capable) td.name")
    if plain.count():  # only capable names stand out
        assert plain.first.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    posted = page.locator("#challenge-meta").inner_text().split(" · ")[0]
    with live_server.client(api_key) as client:
        assert client.delete(f"/challenges/{posted}").status_code == 204
    assert page.console_errors == []


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900


def test_errors_are_chinese_and_shown_where_the_user_looks(page, api_key: str) -> None:
    open_page(page)
    limit = page.evaluate("fetch('/limits').then(r => r.json())")["text_chars"]
    assert f"最多 {limit} 字" in page.locator("#post-form").inner_text()  # said before it bites
    page.fill("#post-text", "高温合金真空感应熔炼")
    page.click("#post-button")  # no key
    page.wait_for_function("document.getElementById('post-message').textContent.includes('密钥')")
    assert page.locator("#post-message").inner_text().startswith("缺少 API 密钥")

    page.fill("#api-key", api_key)
    pasted = "高纯度湿电子化学品" * 5556  # 50,004 characters, pasted
    page.fill("#post-text", pasted)
    assert page.input_value("#post-text") == pasted  # the box never cuts it
    counter = page.locator("#post-counter")
    assert counter.inner_text() == f"50004 / {limit} 字" and "error" in counter.get_attribute(
        "class"
    )
    for button in ("#post-button", "#match-button"):
        page.fill("#api-key", api_key)
        page.locator("#post-message").evaluate("node => { node.textContent = '' }")
        page.click(button)
        message = page.locator("#post-message")
        page.wait_for_function("document.getElementById('post-message').textContent !== ''")
        assert f"最多 {limit} 字，当前 50004 字" in message.inner_text()
        assert "error" in message.get_attribute("class") and in_view(page, "#post-message")
    assert page.evaluate("location.hash") in ("", "#/")  # nothing was posted or matched

    page.fill("#post-text", "😀🚀！！？？……123")
    page.click("#post-button")  # the server refuses it, in Chinese, under the button
    page.wait_for_function("document.getElementById('post-message').textContent.includes('汉字')")
    assert "须包含汉字或拉丁字母" in page.locator("#post-message").inner_text()
    page.click("#match-button")
    page.wait_for_function("location.hash.startsWith('#/match')")
    page.wait_for_function("document.getElementById('post-message').textContent.includes('汉字')")
    assert in_view(page, "#post-message")

    page.goto(f"{page.base}/#/c/ZJ2021-06-01?region=火星")
    page.wait_for_function(
        "document.getElementById('candidates-note').textContent.startsWith('没有')", timeout=SLOW
    )
    assert page.locator("#candidates-note").inner_text() == "没有符合筛选条件（地区：火星）的机构"
    page.goto(f"{page.base}/#/c/ZJ2099-99-99")
    page.wait_for_function(
        "document.getElementById('challenge-empty').textContent.includes('没有')"
    )
    assert page.locator("#challenge-empty").inner_text() == "没有编号为「ZJ2099-99-99」的挑战"
    # Chromium logs each refused request (401, 422, 404) as a console error; nothing else.
    assert all("Failed to load resource" in e for e in page.console_errors), page.console_errors


def test_long_title_is_clamped_then_edited_and_deleted(
    page, api_key: str, live_server, tmp_path: Path
) -> None:
    text = "面向新能源汽车的高功率密度电驱动系统碳化硅功率模块封装与可靠性技术，" * 100
    with live_server.client(api_key) as client:
        posted = client.post("/challenges", json={"area": "新能源汽车", "text": text}).json()
    open_page(page, f"#/c/{posted['id']}")
    wait_candidates(page)
    assert page.locator("#challenge-title").bounding_box()["height"] < 120
    assert page.locator("#challenge-list li.active").bounding_box()["height"] < 110
    assert len(page.title()) <= 40 and page.title().endswith("· 揭榜")
    page.click("#title-toggle")
    assert page.locator("#challenge-title").bounding_box()["height"] > 300
    page.click("#title-toggle")
    shoot(page, tmp_path, "long-title")
    before = header_count(page)

    page.fill("#api-key", api_key)
    page.click("#edit-button")
    page.fill("#edit-text", "碳化硅功率模块的银烧结封装与功率循环可靠性")
    page.click("#edit-save")
    page.wait_for_function(
        "document.getElementById('challenge-title').textContent.startsWith('碳化硅')"
    )
    wait_candidates(page)
    assert page.locator("#challenge-list li.active .text").inner_text().startswith("碳化硅功率模块")
    with live_server.client() as client:
        assert client.get(f"/challenges/{posted['id']}").json()["text"].startswith("碳化硅")

    page.click("#delete-button")
    assert page.locator("#delete-button").inner_text() == "确认删除？"
    page.click("#delete-button")
    page.wait_for_function("location.hash === '#/'")
    assert page.locator(f"#challenge-list li[data-id='{posted['id']}']").count() == 0
    wait_text(page, "status", f"{before - 1} 个挑战")
    with live_server.client() as client:
        assert client.get(f"/challenges/{posted['id']}").status_code == 404
    assert page.console_errors == []


def test_roadmap_view(page, tmp_path: Path) -> None:
    open_page(page)
    page.click("header nav a[data-view=roadmap]")
    page.wait_for_selector("#roadmap-columns .batch", timeout=SLOW)
    batches = page.locator("#roadmap-columns .batch h3").all_inner_texts()
    assert [b[:4] for b in batches] == ["应用替代", "应急攻关", "前瞻部署"]
    listed = page.locator("#roadmap-columns li").count()
    assert listed == len(page.evaluate("fetch('/challenges').then(r => r.json())")["challenges"])
    assert page.locator("#roadmap-xlsx").get_attribute("href") == "/roadmap?format=xlsx"
    shoot(page, tmp_path, "roadmap")
    page.locator("#roadmap-columns li a").first.click()
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    page.go_back()
    assert page.locator("#view-roadmap").is_visible()
    assert page.console_errors == []


def patents_jsonl(rows: int) -> bytes:
    run = uuid.uuid4().hex[:8]  # new text: cached vectors would finish before a poll
    topics = [
        ("一种高温合金真空感应熔炼方法", "通过真空感应熔炼与电渣重熔降低高温合金中的氧氮含量。"),
        ("一种KrF光刻胶树脂及其制备方法", "提供一种用于248nm光刻的树脂，提高分辨率与抗刻蚀性能。"),
        ("数控机床热误差补偿方法", "建立主轴热变形模型，实时补偿机床加工误差，提高加工精度。"),
        ("废旧锂电池电解液低温炭化处理方法", "在惰性气氛下低温炭化电解液，回收锂钴镍。"),
    ]
    applicants = ["浙江大学", "宁波某某新材料有限公司", "北京某某研究院"]
    lines = [
        json.dumps(
            {
                "id": f"CN{i:06d}A",
                "title": topics[i % 4][0],
                "abstract": f"{topics[i % 4][1]}（{run}-{i}）",
                "applicants": [applicants[i % 3]],
            },
            ensure_ascii=False,
        )
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_patent_upload_progress_then_landscape(page, api_key: str, tmp_path: Path) -> None:
    open_page(page, "#/patents")
    page.fill("#api-key", api_key)
    assert "50 MB" in page.locator("#upload-form").inner_text()
    page.click("#upload-button")  # no file chosen
    page.wait_for_function(
        "document.getElementById('upload-message').textContent.includes('请选择')"
    )
    assert page.locator("#upload-message").inner_text() == "请选择 .jsonl、.csv 或 .xlsx 专利文件。"
    page.set_input_files(
        "#patent-file", files=[{"name": "x.txt", "mimeType": "text/plain", "buffer": b"{}\n"}]
    )
    page.click("#upload-button")
    page.wait_for_function(
        "document.getElementById('upload-message').textContent.includes('不支持')"
    )

    upload = {"name": "patents.jsonl", "mimeType": "application/json", "buffer": patents_jsonl(48)}
    page.set_input_files("#patent-file", files=[upload])
    page.click("#upload-button")
    page.wait_for_function("location.hash.startsWith('#/patents/')")
    job = page.evaluate("location.hash").split("/")[-1]
    page.wait_for_function("document.getElementById('job-status').textContent.includes('已处理')")
    seen = set()
    for _ in range(600):
        status = page.locator("#job-status").inner_text()
        seen.add(status.split("·")[2].strip() if status.count("·") >= 2 else status)
        if "已完成" in status:
            break
        page.wait_for_timeout(200)
    assert any(s.startswith("已处理") and not s.startswith("已处理 48") for s in seen), seen
    page.wait_for_function(
        "['chart-areas', 'chart-challenges']"
        ".every(id => document.getElementById(id).naturalWidth > 0)",
        timeout=SLOW,
    )
    assert page.locator("#landscape-areas tbody tr").count() >= 15
    assert page.locator("#landscape-challenges tbody tr").count() >= 1
    assert "共 48 件专利" in page.locator("#landscape-note").inner_text()
    shoot(page, tmp_path, "patents")
    page.reload()  # the job and its landscape come back from the URL
    page.wait_for_function("document.getElementById('chart-areas').naturalWidth > 0", timeout=SLOW)
    page.click("#job-files a[href^='#/roadmap']")
    page.wait_for_selector("#roadmap-columns .batch", timeout=SLOW)
    assert job in page.locator("#roadmap-source").inner_text()
    assert len(page.console_errors) == 1 and "415" in page.console_errors[0]  # the .txt


def test_organisation_page_with_eligibility(page, tmp_path: Path) -> None:
    open_page(page, "#/c/ZJ2021-09-02")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    first = page.locator("#candidates-table tbody tr.candidate").first
    org_id = first.get_attribute("data-org")
    first.locator("a.org").click()
    page.wait_for_selector("#org-capable tbody tr", timeout=SLOW)
    assert page.evaluate("location.hash") == f"#/org/{org_id}"
    assert page.locator("#org-evidence li").count() >= 1
    capable = page.locator("#org-capable tbody tr td:first-child").all_inner_texts()
    assert "ZJ2021-09-02" in capable
    assert page.locator("#org-eligibility table.criteria tbody tr").count() >= 1
    assert page.locator("#org-eligibility .verdict").inner_text().startswith("牵头单位资格：")
    shoot(page, tmp_path, "organisation")
    page.go_back()
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    open_page(page, "#/org/demo-002")  # a company: the relaxed regime, criterion by criterion
    page.wait_for_selector("#org-eligibility table.criteria", timeout=SLOW)
    statuses = page.locator("#org-eligibility td.status").all_inner_texts()
    assert len(statuses) >= 3 and any(s.startswith("✓") for s in statuses)
    page.goto(f"{page.base}/#/org/nope")
    page.wait_for_function("document.getElementById('org-note').textContent.includes('没有')")
    assert page.locator("#org-note").inner_text() == "没有编号为「nope」的机构"


def test_printable_shortlist_is_one_page_per_challenge(page, tmp_path: Path) -> None:
    from pypdf import PdfReader

    open_page(page, "#/c/ZJ2021-06-01")
    page.wait_for_selector("#candidates-table tbody tr.candidate", timeout=SLOW)
    page.click("#print-shortlist")
    page.wait_for_selector(".shortlist-page", timeout=SLOW)
    assert hash_params(page)["ids"] == "ZJ2021-06-01"
    ids = "ZJ2021-06-01,ZJ2021-15-01,ZJ2021-09-02"
    page.goto(f"{page.base}/#/print?ids={ids}")
    page.wait_for_function(
        "document.querySelectorAll('.shortlist-page').length === 3", timeout=SLOW
    )
    page.wait_for_function("!document.getElementById('print-button').disabled")
    shoot(page, tmp_path, "shortlist")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) == 3
    for number, challenge in enumerate(ids.split(",")):
        text = pdf.pages[number].extract_text()
        assert challenge in text and "候选名单" in text
    assert page.console_errors == []


def test_docs_work_offline(page, tmp_path: Path) -> None:
    page.goto(f"{page.base}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    page.wait_for_selector(".opblock-summary-path[data-path='/challenges/{challenge_id}']")
    assert "jiebang" in page.locator(".swagger-ui .info .title").inner_text()
    assert any(url.endswith("/openapi.json") for url in page.requests)
    assert any("/static-offline-docs/swagger-ui-bundle.js" in url for url in page.requests)
    shoot(page, tmp_path, "docs")
    assert page.console_errors == []
