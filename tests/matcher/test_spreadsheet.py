"""Export cells survive control characters and never run as formulas."""

from __future__ import annotations

from openpyxl import Workbook, load_workbook

from matcher.spreadsheet import safe_cell, safe_row


def test_control_characters_and_formulas_are_neutralised(tmp_path):
    row = safe_row(["光刻胶\x07材料", '=HYPERLINK("x")', "+86", 3.5, None, "正常文本"])
    assert row == ["光刻胶材料", '\'=HYPERLINK("x")', "'+86", 3.5, None, "正常文本"]
    book = Workbook()
    book.active.append(row)
    book.save(tmp_path / "x.xlsx")  # would raise IllegalCharacterError on the raw \x07
    cells = [c.value for c in next(load_workbook(tmp_path / "x.xlsx").active.iter_rows())]
    assert cells[0] == "光刻胶材料" and cells[1].startswith("'=")


def test_numbers_pass_through_unchanged():
    assert safe_cell(0) == 0 and safe_cell(-1.5) == -1.5
