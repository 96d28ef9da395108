"""Real-shaped input files for the import tests, written from real texts at test time.

The texts come from the dev sets in ../shared/data (never copied into the repository): challenge
titles and descriptions from challenge_org, patent titles, abstracts and applicants from
bdci2022_patents. The layouts are those of real notices and exports: a title row and blank rows
above a two-row merged header, numbered lists in the usual styles, ruled PDF tables, Chinese
patent-database headers with several applicants in one cell.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ISSUERS = ("示例发榜单位甲（示例）", "示例需求企业乙（示例）", "示例研究院丙（示例）")
LIST_STYLES = ("1.", "（一）", "一、", "①", "1）")
_CHINESE = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


@dataclass(frozen=True)
class Source:
    """One challenge as a file will hold it, and the text an import must give back."""

    title: str
    description: str
    area: str
    issuer: str
    deadline: dt.date

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}" if self.description else self.title


def real_challenges(shared_data: Path, count: int = 6) -> list[Source]:
    """`count` real challenges, those with a description first ("title：description")."""
    rows = [
        json.loads(line)
        for line in (shared_data / "challenge_org" / "queries.jsonl")
        .read_text("utf-8")
        .splitlines()
    ]
    rows.sort(key=lambda row: ("：" not in row["text"], row["id"]))
    sources = []
    for index, row in enumerate(rows[:count]):
        title, _, description = row["text"].partition("：")
        sources.append(
            Source(
                title.strip(),
                description.strip(),
                row["domain"],
                ISSUERS[index % len(ISSUERS)],
                dt.date(2025, 6, 30) + dt.timedelta(days=index),
            )
        )
    return [source for group in by_area(sources).values() for source in group]  # file order


def chinese_numeral(number: int) -> str:
    """1-99 as written in lists: 三, 十二, 二十, 二十一."""
    tens, units = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CHINESE[tens - 1] + "十")
    return head + (_CHINESE[units - 1] if units else "") if number > 10 else _CHINESE[number - 1]


def marker(style: str, number: int) -> str:
    """The list number `number` typed in `style` (① only up to ⑩)."""
    if style == "（一）":
        return f"（{chinese_numeral(number)}）"
    if style == "一、":
        return f"{chinese_numeral(number)}、"
    if style == "①":
        return _CIRCLED[number - 1]
    return {"1.": f"{number}.", "1）": f"{number}）"}[style]


def by_area(sources: list[Source]) -> dict[str, list[Source]]:
    grouped: dict[str, list[Source]] = {}
    for source in sources:
        grouped.setdefault(source.area, []).append(source)
    return grouped


# --- XLSX ---------------------------------------------------------------------------------


def challenge_xlsx(path: Path, sources: list[Source]) -> Path:
    """A 榜单 workbook: a merged title row, a blank row, a two-row header (序号, 榜单名称 and
    所属领域 merged down; 技术内容 merged across 研究内容 | 主要技术指标), a blank row between
    items, the area merged down over the items of one area, deadlines as dates."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "榜单"
    sheet.append(["2025年度“揭榜挂帅”技术攻关榜单"])
    sheet.merge_cells("A1:G1")
    sheet.append([None])
    sheet.append(["序号", "所属领域", "榜单名称", "技术内容", None, "发榜单位", "截止时间"])
    sheet.append([None, None, None, "研究内容", "主要技术指标", None, None])
    for column in "ABCFG":
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.merge_cells("D3:E3")
    row, number = 4, 0  # rows 1-4: the title, a blank row, the two header rows
    for area, group in by_area(sources).items():
        first = row + 1
        for source in group:
            row, number = row + 1, number + 1
            values = [
                number,
                area,
                source.title,
                source.description,
                None,
                source.issuer,
                dt.datetime.combine(source.deadline, dt.time()),
            ]
            for column, value in enumerate(values, start=1):
                sheet.cell(row=row, column=column, value=value)
        if row > first:
            sheet.merge_cells(f"B{first}:B{row}")
        row += 1  # a blank row between areas
    book.save(path)
    return path


def patent_xlsx(shared_data: Path, path: Path, count: int = 6) -> tuple[Path, list[dict]]:
    """A patent-database export: Chinese headers, several applicants per row (separated by
    ；, 、 and ,), application and publication dates, IPC, the applicant's address.
    Returns the path and what each row holds (title, abstract, applicants, date)."""
    from openpyxl import Workbook

    lines = (shared_data / "bdci2022_patents" / "patents.jsonl").read_text("utf-8").splitlines()
    patents = [json.loads(line) for line in lines[: count * 2]]
    book = Workbook()
    sheet = book.active
    sheet.title = "检索结果"
    header = ["序号", "公开（公告）号", "标题", "摘要", "申请（专利权）人", "申请日",
              "公开（公告）日", "IPC主分类号", "申请人地址"]  # fmt: skip
    sheet.append(header)
    rows = []
    separators = ("；", "、", ", ")
    for index in range(count):
        first, second = patents[2 * index], patents[2 * index + 1]
        applicants = [first["assignee"]]
        if second["assignee"] != first["assignee"] and index % 3 != 2:
            applicants.append(second["assignee"])
        filed = dt.date(2016 + index % 4, 1 + index % 12, 1 + index % 28)
        sheet.append(
            [index + 1, f"CN1{index:08d}A", first["title"], first["abstract"],
             separators[index % 3].join(applicants), dt.datetime.combine(filed, dt.time()),
             dt.datetime.combine(filed + dt.timedelta(days=540), dt.time()), "H04L5/00",
             "浙江省杭州市西湖区示例路1号"]
        )  # fmt: skip
        rows.append({"id": f"CN1{index:08d}A", "title": first["title"],
                     "abstract": first["abstract"], "applicants": applicants,
                     "date": filed.isoformat()})  # fmt: skip
    book.save(path)
    return path, rows


# --- DOCX ---------------------------------------------------------------------------------


def challenge_docx_table(path: Path, sources: list[Source]) -> Path:
    """A notice with a title, an introduction and one table of challenges."""
    import docx

    document = docx.Document()
    document.add_heading("关于发布2025年度技术需求榜单的通知", level=1)
    document.add_paragraph("现将本年度征集的企业技术需求发布如下，欢迎有关单位揭榜。")
    header = ["序号", "需求名称", "需求描述", "所属领域", "需求单位", "截止时间"]
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, header, strict=True):
        cell.text = name
    for number, source in enumerate(sources, start=1):
        cells = table.add_row().cells
        values = [str(number), source.title, source.description, source.area, source.issuer,
                  f"{source.deadline:%Y年%m月%d日}"]  # fmt: skip
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    document.add_paragraph("联系人：示例（示例）")
    document.save(path)
    return path


def challenge_docx_list(path: Path, sources: list[Source], style: str) -> Path:
    """A notice listing challenges as a numbered list in `style`: sections 一、<area> around
    the items (unless the items themselves are numbered 一、), the description under each
    heading, then 发榜单位 and 截止时间 lines."""
    import docx

    document = docx.Document()
    document.add_heading("2025年度揭榜挂帅项目榜单", level=1)
    document.add_paragraph("根据有关工作安排，现发布以下榜单。")
    for paragraph in list_paragraphs(sources, style):
        document.add_paragraph(paragraph)
    document.save(path)
    return path


def list_paragraphs(sources: list[Source], style: str) -> list[str]:
    paragraphs = []
    groups = by_area(sources) if style != "一、" else {None: sources}
    for section, (area, group) in enumerate(groups.items(), start=1):
        if area is not None:
            paragraphs.append(f"{marker('一、', section)}{area}")
        for number, source in enumerate(group, start=1):
            paragraphs.append(f"{marker(style, number)}{source.title}")
            if source.description:
                paragraphs.append(source.description)
            paragraphs.append(f"发榜单位：{source.issuer}")
            paragraphs.append(f"截止时间：{source.deadline:%Y年%m月%d日}")
    return paragraphs


# --- PDF ----------------------------------------------------------------------------------


def _pdf():
    from fpdf import FPDF

    class Notice(FPDF):
        def footer(self) -> None:  # "- 3 -" centred at the foot of every page, as notices do
            self.set_y(-15)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    pdf = Notice(format="A4")
    pdf.add_font("wqy", fname=str(CJK_FONT), collection_font_number=0)
    pdf.set_font("wqy", size=11)
    pdf.add_page()
    return pdf


def challenge_pdf_list(path: Path, sources: list[Source], style: str = "（一）") -> Path:
    """The numbered list of `challenge_docx_list`, typeset (lines wrap) with a CJK font."""
    pdf = _pdf()
    pdf.multi_cell(0, 8, "2025年度揭榜挂帅项目榜单", new_x="LMARGIN", new_y="NEXT", align="C")
    for paragraph in list_paragraphs(sources, style):
        pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))
    return path


def challenge_pdf_table(path: Path, sources: list[Source]) -> Path:
    """A ruled table of challenges (wrapped cells) under a title, typeset with a CJK font."""
    pdf = _pdf()
    pdf.multi_cell(0, 8, "技术需求榜单", new_x="LMARGIN", new_y="NEXT", align="C")
    with pdf.table(
        col_widths=(10, 45, 70, 20, 35), first_row_as_headings=False, line_height=6
    ) as table:
        for values in [["序号", "榜单名称", "技术内容", "领域", "发榜单位"]] + [
            [str(n), s.title, s.description, s.area, s.issuer]
            for n, s in enumerate(sources, start=1)
        ]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path, sources: list[Source]) -> Path:
    """What a scanner makes: each page one picture of the text, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(CJK_FONT), 28)
    for line, source in enumerate(sources):
        draw.text((80, 120 + 60 * line), f"{line + 1}. {source.title}", fill="black", font=font)
    pdf = _pdf()
    pdf.image(image, x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, sources: list[Source]) -> Path:
    """A PDF that opens only with a password."""
    pdf = _pdf()
    pdf.multi_cell(0, 7, sources[0].text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    pdf.output(str(path))
    return path
