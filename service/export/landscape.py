"""Patent navigation (专利导航) files: CSV tables, one XLSX workbook, PNG charts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.figures import figure_style, png_bytes
from corpus.files import atomic_write
from corpus.models import OrgKind
from matcher.patents.landscape import TOP_APPLICANTS, Landscape, Tally
from service.export.tables import Sheet, csv_bytes, xlsx_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SUMMARY_COLUMNS = (
    "key",
    "area_no",
    "area",
    "name",
    "patents",
    "zhejiang_share",
    "region_known",
    "enterprise",
    "university",
    "institute",
    "other",
    "top_applicants",
)
APPLICANT_COLUMNS = ("scope", "key", "name", "rank", "applicant", "kind", "province", "patents")
YEAR_COLUMNS = ("scope", "key", "name", "year", "patents")
YEAR_CHART_AREAS = 8  # the busiest areas get a line each; more would not be read


def year_rows(scope: str, table: Mapping[str, Tally]) -> list[list[object]]:
    """Patents per year of every tally that has dated patents, in `YEAR_COLUMNS` order."""
    return [
        [scope, tally.key, tally.label, year, count]
        for tally in sorted(table.values(), key=lambda t: (t.area_no or 99, t.key))
        for year, count in sorted(tally.years.items())
    ]


def summary_rows(table: Mapping[str, Tally], landscape: Landscape) -> list[list[object]]:
    """One row per tally, most patents first, in `SUMMARY_COLUMNS` order."""
    rows: list[list[object]] = []
    for tally in sorted(table.values(), key=lambda t: (-t.patents, t.area_no or 99, t.key)):
        share = tally.zhejiang_share
        top = "；".join(
            f"{name}({landscape.applicants[name].kind.label_zh},{count})"
            for name, count in tally.applicants.most_common(5)
        )
        rows.append(
            [
                tally.key,
                tally.area_no,
                tally.area,
                tally.label,
                tally.patents,
                "" if share is None else round(share, 4),
                tally.region_known,
                tally.kinds[OrgKind.enterprise],
                tally.kinds[OrgKind.university],
                tally.kinds[OrgKind.institute],
                sum(
                    n
                    for kind, n in tally.kinds.items()
                    if kind not in (OrgKind.enterprise, OrgKind.university, OrgKind.institute)
                ),
                top,
            ]
        )
    return rows


def applicant_rows(scope: str, table: Mapping[str, Tally], landscape: Landscape) -> list[list]:
    """The top applicants of every tally, in `APPLICANT_COLUMNS` order."""
    rows = []
    for tally in table.values():
        for rank, (name, count) in enumerate(tally.applicants.most_common(TOP_APPLICANTS), 1):
            info = landscape.applicants[name]
            rows.append(
                [
                    scope,
                    tally.key,
                    tally.label,
                    rank,
                    name,
                    info.kind.label_zh,
                    info.province or "未知",
                    count,
                ]
            )
    return rows


def write_landscape(landscape: Landscape, out_dir: str | Path) -> list[Path]:
    """Write CSV tables, `landscape.xlsx` and PNG charts into `out_dir`; return the paths."""
    out = Path(out_dir)
    tables = {
        "challenges": (SUMMARY_COLUMNS, summary_rows(landscape.challenges, landscape)),
        "areas": (SUMMARY_COLUMNS, summary_rows(landscape.areas, landscape)),
        "applicants": (
            APPLICANT_COLUMNS,
            applicant_rows("challenge", landscape.challenges, landscape)
            + applicant_rows("area", landscape.areas, landscape),
        ),
        "years": (
            YEAR_COLUMNS,
            year_rows("area", landscape.areas) + year_rows("challenge", landscape.challenges),
        ),
    }
    sheet_names = {
        "challenges": "按技术难点",
        "areas": "按领域",
        "applicants": "主要申请人",
        "years": "按年份",
    }
    written = [
        atomic_write(out / f"{name}.csv", csv_bytes(columns, rows))
        for name, (columns, rows) in tables.items()
    ]
    sheets = [Sheet(sheet_names[name], columns, rows) for name, (columns, rows) in tables.items()]
    written.append(atomic_write(out / "landscape.xlsx", xlsx_bytes(sheets)))
    with figure_style():
        for name, figure in _charts(landscape).items():
            written.append(atomic_write(out / name, png_bytes(figure)))
    return written


def _charts(landscape: Landscape) -> dict[str, Figure]:
    """The charts by file name, drawn (inside `figure_style`)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    areas = sorted(landscape.areas.values(), key=lambda t: (t.area_no or 99, t.key))
    labels = [f"{t.area_no or ''} {t.label}".strip() for t in areas]

    figure = Figure(figsize=(9, 0.42 * len(areas) + 1.5))
    axis = figure.subplots()
    kinds = [OrgKind.enterprise, OrgKind.university, OrgKind.institute]
    left = [0] * len(areas)
    for kind in kinds:
        values = [t.kinds[kind] for t in areas]
        axis.barh(labels, values, left=left, label=kind.label_zh)
        left = [a + b for a, b in zip(left, values, strict=True)]
    others = [t.patents and sum(t.kinds.values()) - sum(t.kinds[k] for k in kinds) for t in areas]
    axis.barh(labels, others, left=left, label="其他", color="#bbbbbb")
    for y, tally in enumerate(areas):
        share = tally.zhejiang_share
        note = f"{tally.patents} 件" + ("" if share is None else f"，浙江 {share:.0%}")
        axis.text(max(left[y] + others[y], 0) + 0.2, y, note, va="center", fontsize=8)
    axis.invert_yaxis()
    axis.set_xlim(0, max([*left, 1]) * 1.3)  # room for the notes
    axis.set_xlabel("专利数（按申请人类型；一件专利可计入多类）")
    axis.set_title("各领域专利与申请人类型（浙江占比：地区已知的专利中）")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    charts = {"areas.png": figure}

    active = [t for t in landscape.challenges.values() if t.patents]
    ranked = sorted(active, key=lambda t: -t.patents)[:20]
    figure = Figure(figsize=(9, 0.38 * max(len(ranked), 1) + 1.5))
    axis = figure.subplots()
    axis.barh(
        [f"{t.key} {t.label[:18]}" for t in ranked], [t.patents for t in ranked], color="#4c72b0"
    )
    axis.invert_yaxis()
    axis.set_xlabel("匹配专利数")
    axis.set_title("专利最多的技术难点（前 20）")
    figure.tight_layout()
    charts["challenges.png"] = figure

    dated = sorted(
        (t for t in landscape.areas.values() if t.years), key=lambda t: -sum(t.years.values())
    )[:YEAR_CHART_AREAS]
    if dated:
        years = range(min(min(t.years) for t in dated), max(max(t.years) for t in dated) + 1)
        figure = Figure(figsize=(9, 4.5))
        axis = figure.subplots()
        for tally in dated:
            label = f"{tally.area_no or ''} {tally.label}".strip()
            axis.plot(list(years), [tally.years[y] for y in years], marker="o", label=label)
        axis.set_xticks(list(years))
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 patents
        axis.set_xlabel("年份（专利日期：申请日优先）")
        axis.set_ylabel("匹配专利数")
        axis.set_title(f"各领域专利活动（按年，专利最多的 {len(dated)} 个领域）")
        axis.legend(fontsize=8)
        figure.tight_layout()
        charts["years.png"] = figure
    return charts
