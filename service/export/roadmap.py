"""The technology roadmap as files: a heatmap (PNG), HTML (self-contained), Markdown, XLSX.

`render(statuses, rules, fmt)` gives one format's bytes (the API serves only what was asked);
`write_report` writes all four into a folder, atomically each.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np

from corpus.figures import figure_style, png_bytes
from corpus.files import atomic_write
from matcher.patents.roadmap import BATCHES, MARKS, ChallengeStatus, RoadmapRules
from service.export.tables import Sheet, xlsx_bytes


# What `GET /roadmap?format=` asks for: the data as JSON (the API's), or a report `render` writes.
class RoadmapFormat(StrEnum):
    json = "json"
    html = "html"
    md = "md"
    xlsx = "xlsx"
    png = "png"


COLUMNS = (
    ("challenge_id", "编号"),
    ("area", "领域"),
    ("text", "技术难点"),
    ("batch", "批次"),
    ("strong_orgs", "强匹配单位数"),
    ("best_confidence", "最佳匹配置信度"),
    ("best_org", "最佳匹配单位"),
    ("patents", "相关专利数"),
    ("coverage", "能力覆盖度"),
    ("gap", "能力缺口"),
    ("rule", "命中规则"),
)


def render(statuses: Sequence[ChallengeStatus], rules: RoadmapRules, fmt: RoadmapFormat) -> bytes:
    """One format of the report (JSON is the roadmap's data, which the API serialises)."""
    if fmt is RoadmapFormat.json:
        raise ValueError("the roadmap's JSON is its data, not a rendered report")
    if fmt is RoadmapFormat.png:
        return heatmap_png(statuses)
    if fmt is RoadmapFormat.html:
        return _html(statuses, rules, heatmap_png(statuses)).encode("utf-8")
    if fmt is RoadmapFormat.md:
        return _markdown(statuses, rules).encode("utf-8")
    return _xlsx(statuses, rules)


def write_report(
    statuses: Sequence[ChallengeStatus], rules: RoadmapRules, out_dir: str | Path
) -> list[Path]:
    """Write heatmap.png, roadmap.html, roadmap.md and roadmap.xlsx into `out_dir`."""
    out = Path(out_dir)
    heatmap = heatmap_png(statuses)
    return [
        atomic_write(out / "heatmap.png", heatmap),
        atomic_write(out / "roadmap.html", _html(statuses, rules, heatmap)),
        atomic_write(out / "roadmap.md", _markdown(statuses, rules)),
        atomic_write(out / "roadmap.xlsx", _xlsx(statuses, rules)),
    ]


def heatmap_png(statuses: Sequence[ChallengeStatus]) -> bytes:
    """Areas (rows) × their challenges (columns): colour = coverage, letter = batch."""
    from matplotlib.figure import Figure

    areas: dict[str, list[ChallengeStatus]] = {}
    for status in sorted(statuses, key=lambda s: (s.area_no or 99, s.challenge_id)):
        areas.setdefault(f"{status.area_no or ''} {status.area}".strip(), []).append(status)
    width = max((len(row) for row in areas.values()), default=1)
    grid = np.full((len(areas), width), np.nan)
    with figure_style():
        figure = Figure(figsize=(1.2 + 0.55 * width + 3, 0.45 * len(areas) + 1.6))
        axis = figure.subplots()
        for y, row in enumerate(areas.values()):
            for x, status in enumerate(row):
                grid[y, x] = status.coverage
                mark = MARKS.get(status.batch, status.batch[:1])
                axis.text(x, y, mark, ha="center", va="center", fontsize=9)
        image = axis.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
        axis.set_yticks(range(len(areas)), list(areas))
        axis.set_xticks(range(width), [str(i + 1) for i in range(width)])
        axis.set_xlabel("领域内技术难点序号（格中字：替=应用替代，急=应急攻关，瞻=前瞻部署）")
        axis.set_title("技术路线图：各领域技术难点的本地能力覆盖度")
        figure.colorbar(image, ax=axis, label="能力覆盖度")
        figure.tight_layout()
        return png_bytes(figure, dpi=110)


def _counts(statuses: Sequence[ChallengeStatus]) -> dict[str, int]:
    counts = {batch: 0 for batch in BATCHES}
    for status in statuses:
        counts[status.batch] = counts.get(status.batch, 0) + 1
    return counts


def _html(statuses: Sequence[ChallengeStatus], rules: RoadmapRules, heatmap: bytes) -> str:
    esc = html.escape
    image = base64.b64encode(heatmap).decode()
    head = "".join(f"<th>{esc(label)}</th>" for _, label in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(str(getattr(s, key)))}</td>" for key, _ in COLUMNS) + "</tr>"
        for s in statuses
    )
    counts = "".join(f"<li>{esc(b)}：{n} 项</li>" for b, n in _counts(statuses).items())
    rule_items = "".join(
        f"<li><b>{esc(r.batch)}</b>：{esc(r.describe())}（{esc(r.why)}）</li>" for r in rules.rules
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>技术路线图（揭榜挂帅）</title>
<style>
body {{ font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }}
th {{ background: #f0f0f0; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>技术路线图</h1>
<p>共 {len(statuses)} 项技术难点，分三批：</p>
<ul>{counts}</ul>
<h2>分批规则（按顺序，先命中者为准）</h2>
<p>强匹配：置信度 ≥ {rules.strong_confidence:g}；能力覆盖度 = 最佳置信度 ×
min(1, 强匹配单位数 / {rules.coverage_target})；能力缺口 = 1 − 能力覆盖度。</p>
<ol>{rule_items}</ol>
<h2>能力覆盖热力图</h2>
<img id="heatmap" alt="各领域技术难点能力覆盖热力图" src="data:image/png;base64,{image}">
<h2>明细</h2>
<table id="roadmap"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body>
</html>
"""


def _markdown(statuses: Sequence[ChallengeStatus], rules: RoadmapRules) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["# 技术路线图", "", f"共 {len(statuses)} 项技术难点。", ""]
    lines += [f"- {batch}：{n} 项" for batch, n in _counts(statuses).items()]
    lines += [
        "",
        "## 分批规则（按顺序，先命中者为准）",
        "",
        f"强匹配：置信度 ≥ {rules.strong_confidence:g}；能力覆盖度 = 最佳置信度 × "
        f"min(1, 强匹配单位数 / {rules.coverage_target})；能力缺口 = 1 − 能力覆盖度。",
        "",
    ]
    lines += [
        f"{i}. **{r.batch}**：{r.describe()}（{r.why}）" for i, r in enumerate(rules.rules, 1)
    ]
    lines += ["", "## 能力覆盖热力图", "", "![能力覆盖热力图](heatmap.png)", "", "## 明细", ""]
    lines.append("| " + " | ".join(label for _, label in COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    lines += [
        "| " + " | ".join(cell(getattr(s, key)) for key, _ in COLUMNS) + " |" for s in statuses
    ]
    return "\n".join(lines) + "\n"


def _xlsx(statuses: Sequence[ChallengeStatus], rules: RoadmapRules) -> bytes:
    rule_rows = [
        [i, rule.batch, rule.describe(), rule.why] for i, rule in enumerate(rules.rules, 1)
    ]
    rule_rows += [[], ["strong_confidence", rules.strong_confidence]]
    rule_rows += [["coverage_target", rules.coverage_target]]
    return xlsx_bytes(
        [
            Sheet(
                "路线图",
                [label for _, label in COLUMNS],
                ([getattr(status, key) for key, _ in COLUMNS] for status in statuses),
            ),
            Sheet("规则", ["顺序", "批次", "条件", "说明"], rule_rows),
        ]
    )
