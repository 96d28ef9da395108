"""Roadmap: documented rules, overrides, the real engine's scores, the report in Chromium."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from corpus.catalogue import builtin_catalogue
from corpus.errors import JiebangError
from matcher.patents.roadmap import (
    BATCHES,
    ChallengeStatus,
    RoadmapRules,
    assess,
    classify,
    load_roadmap_rules,
)
from service.export.roadmap import write_report

REPLACE, URGENT, FORWARD = BATCHES


def status(cid: str, strong: int, best: float, patents: int, area_no: int = 1) -> ChallengeStatus:
    return ChallengeStatus(
        cid, area_no, f"领域{area_no}", f"难点{cid}", strong, best, "某单位", patents
    )


def crafted() -> list[ChallengeStatus]:
    return [
        status("A", strong=4, best=0.92, patents=0),  # strong coverage → 应用替代
        status("B", strong=1, best=0.70, patents=30),  # weak coverage, most patents → 应急攻关
        status("C", strong=0, best=0.30, patents=20),  # weak, active → 应急攻关
        status("D", strong=0, best=0.20, patents=1, area_no=2),  # sparse → 前瞻部署
        status("E", strong=3, best=0.79, patents=0, area_no=2),  # best < 0.8 → not 应用替代
        status("F", strong=2, best=0.95, patents=5, area_no=2),  # 2 strong only, active → 应急
        status("G", strong=5, best=0.99, patents=0, area_no=3),  # strong coverage → 应用替代
    ]


def test_default_rules_as_documented():
    statuses = {
        s.challenge_id: s for s in classify(crafted(), load_roadmap_rules(None, capable=0.5))
    }
    assert {k: s.batch for k, s in statuses.items()} == {
        "A": REPLACE,
        "B": URGENT,
        "C": URGENT,
        "D": FORWARD,
        "E": FORWARD,
        "F": URGENT,
        "G": REPLACE,
    }
    # percentile: share of challenges with fewer; coverage: best × min(1, strong / 3).
    assert statuses["B"].patent_percentile == pytest.approx(6 / 7, abs=1e-4)
    assert statuses["E"].strong_orgs_percentile == pytest.approx(4 / 7, abs=1e-4)
    assert statuses["A"].patent_percentile == 0.0
    assert statuses["F"].coverage == pytest.approx(0.95 * 2 / 3, abs=1e-4)
    assert statuses["A"].gap == pytest.approx(1 - 0.92)
    assert "strong_orgs ≥ 3" in statuses["A"].rule


def test_rules_file_overrides(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        "strong_confidence = 0.5\n"
        '[[rules]]\nbatch = "应用替代一批"\n'
        "when = { min_strong_orgs = 3, min_best_confidence = 0.75 }\n"
        '[[rules]]\nbatch = "前瞻部署一批"\n',
        encoding="utf-8",
    )
    rules = load_roadmap_rules(path, capable=0.3)
    assert rules.strong_confidence == 0.5 and rules.coverage_target == 3
    statuses = {s.challenge_id: s.batch for s in classify(crafted(), rules)}
    assert statuses["E"] == REPLACE and statuses["B"] == FORWARD


@pytest.mark.parametrize(
    "bad",
    [
        {"rules": [{"batch": "x", "when": {"min_size": 1}}, {"batch": "y"}]},
        {"rules": [{"batch": "x", "when": {"min_patents": 1}}]},  # no catch-all
        {"strong": 0.5},
        {"strong_confidence": 2},
    ],
)
def test_invalid_rules_are_user_errors(bad):
    with pytest.raises(JiebangError):
        RoadmapRules.from_dict(bad, capable=0.5)


def test_assess_with_the_real_engine(demo_engine):
    rules = load_roadmap_rules(None, capable=0.5)
    challenges = builtin_catalogue().challenges[:6]
    statuses = assess(
        challenges,
        rules,
        confidences=lambda c: demo_engine.confidences(c.query_text, area=c.area),
        org_names={k: o.name for k, o in demo_engine.organisations.items()},
        patent_counts={challenges[0].id: 7},
    )
    assert [s.challenge_id for s in statuses] == [c.id for c in challenges]
    for challenge, s in zip(challenges, statuses, strict=True):
        scores = demo_engine.confidences(challenge.query_text)
        assert s.strong_orgs == sum(v >= rules.strong_confidence for v in scores.values())
        assert s.best_confidence == pytest.approx(max(scores.values()), abs=1e-4)
        assert s.best_org in {o.name for o in demo_engine.organisations.values()}
        assert s.batch in BATCHES
    assert statuses[0].patents == 7 and statuses[1].patents == 0


def test_report_files(tmp_path):
    statuses = classify(crafted(), load_roadmap_rules(None, capable=0.5))
    paths = write_report(statuses, load_roadmap_rules(None, capable=0.5), tmp_path)
    assert [p.name for p in paths] == ["heatmap.png", "roadmap.html", "roadmap.md", "roadmap.xlsx"]
    markdown = (tmp_path / "roadmap.md").read_text(encoding="utf-8")
    assert "![能力覆盖热力图](heatmap.png)" in markdown and markdown.count("\n| ") == 1 + 7
    sheet = load_workbook(tmp_path / "roadmap.xlsx")["路线图"]
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        s.batch for s in statuses
    ]


@pytest.mark.browser
def test_html_report_renders_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    statuses = classify(crafted(), load_roadmap_rules(None, capable=0.5))
    write_report(statuses, load_roadmap_rules(None, capable=0.5), tmp_path)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "roadmap.html").as_uri())
        assert page.title() == "技术路线图（揭榜挂帅）"
        width = page.eval_on_selector("#heatmap", "img => img.complete && img.naturalWidth")
        height = page.eval_on_selector("#heatmap", "img => img.naturalHeight")
        assert page.locator("#roadmap tbody tr").count() == len(statuses)
        assert "应急攻关一批" in page.inner_text("body")
        browser.close()
    assert width > 0 and height > 0
    assert errors == []
