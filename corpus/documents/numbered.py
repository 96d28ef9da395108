"""Numbered lists in prose: which paragraphs start an item, and the paragraphs each item owns.

Notices number their items by hand in a handful of styles: `1.` `1．` `1、` `1）` `(1)` `（一）`
`一、` `①`. The first style met is the outer level. When every one of its headings is followed
directly by a heading of one other style, it is a level of sections (一、新能源领域) whose names
are the area of the items under them, and that other style numbers the items; otherwise it
numbers the items itself. An item heading must continue its level's count (1 after a section
or at the start, else the number before plus one); any other paragraph, numbered or not, belongs
to the item above it (so "2.8英寸…" is item 2 only where item 2 is due). Paragraphs before the
first item (the notice's title) belong to none.

A paragraph Word numbers by itself (`Paragraph.list_item`) is a heading of its own style.
A body paragraph "label：value" whose label names a field (发榜单位、截止时间、所属领域) sets
that field instead of adding to the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from corpus.documents.content import Paragraph
from corpus.documents.errors import Location

_CHINESE = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("1.", re.compile(r"(\d{1,3})[.．](?![.．])\s*")),
    ("1、", re.compile(r"(\d{1,3})、\s*")),
    ("(1)", re.compile(r"[(（](\d{1,3})[)）]\s*")),
    ("1)", re.compile(r"(\d{1,3})[)）]\s*")),
    ("(一)", re.compile(rf"[(（]([{_CHINESE}]{{1,3}})[)）]\s*")),
    ("一、", re.compile(rf"([{_CHINESE}]{{1,3}})[、.．]\s*")),
    ("①", re.compile(rf"([{_CIRCLED}])\s*")),
)
WORD_LIST = "word-list"
_LABELLED = re.compile(r"^([^：:]{2,12})[：:]\s*(.+)$", re.S)


@dataclass(frozen=True)
class Marker:
    """A list number at the start of a paragraph: its style, its value, the text after it.
    `ambiguous`: "2.8英寸…" may be item 2 or the number 2.8; it counts as a heading only where
    item 2 is due."""

    style: str
    number: int
    rest: str
    ambiguous: bool = False


@dataclass
class NumberedItem:
    """One item: its heading (less the number), its body paragraphs, and what labels or its
    section said of it."""

    title: str
    where: Location
    body: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def marker(text: str) -> Marker | None:
    """The list number `text` starts with, if any (and some text follows it)."""
    for style, pattern in STYLES:
        found = pattern.match(text)
        rest = text[found.end() :].strip() if found else ""
        if found and rest:
            ambiguous = style == "1." and text[found.end()].isdigit()
            return Marker(style, _value(found.group(1)), rest, ambiguous)
    return None


def _value(number: str) -> int:
    if number.isascii() and number.isdigit():
        return int(number)
    if number in _CIRCLED:
        return _CIRCLED.index(number) + 1
    digits = [_CHINESE.index(c) + 1 for c in number]  # 十 = 10
    if len(digits) == 1:
        return digits[0]
    if digits[0] == 10:  # 十一 … 十九
        return 10 + digits[1]
    return digits[0] * 10 + (digits[2] if len(digits) == 3 else 0)  # 二十, 二十一


def split_items(
    paragraphs: Sequence[Paragraph], label_field: Callable[[str], str | None] = lambda _: None
) -> list[NumberedItem]:
    """The numbered items of `paragraphs`, in order; [] when nothing is numbered.

    `label_field(label)` names the field a "label：value" body paragraph sets (or None: it is
    text); a section's name goes to the field "area".
    """
    markers = [_heading(p) for p in paragraphs]
    styles = list(dict.fromkeys(m.style for m in markers if m is not None))
    if not styles:
        return []
    section, level = _levels(markers, styles[0])
    items: list[NumberedItem] = []
    area: str | None = None
    count = {section: 0, level: 0}
    for paragraph, found in zip(paragraphs, markers, strict=True):
        if found is not None and found.style == section and _next(found, count[section]):
            count[section], count[level] = max(found.number, count[section] + 1), 0
            area = found.rest.rstrip("：:").strip()
            continue
        if found is not None and found.style == level and _next(found, count[level]):
            count[level] = max(found.number, count[level] + 1)
            where = Location(page=paragraph.where.page, item=len(items) + 1)
            items.append(NumberedItem(found.rest, where, fields={"area": area} if area else {}))
            continue
        if items:
            _add_body(items[-1], paragraph.text, label_field)
    return items


def _next(found: Marker, count: int) -> bool:
    """Whether `found` continues a level counted to `count` (Word's own numbers always do)."""
    return found.style == WORD_LIST or found.number == count + 1


def _heading(paragraph: Paragraph) -> Marker | None:
    if paragraph.list_item:
        return Marker(WORD_LIST, 0, paragraph.text)
    return marker(paragraph.text)


def _levels(markers: list[Marker | None], outer: str) -> tuple[str | None, str]:
    """(section style or None, item style)."""
    following: set[str | None] = set()
    for index, found in enumerate(markers):
        if found is not None and found.style == outer:
            after = markers[index + 1] if index + 1 < len(markers) else None
            following.add(after.style if after is not None and after.style != outer else None)
    if len(following) == 1:
        (item,) = following
        if item is not None:
            return outer, item
    return None, outer


def _add_body(item: NumberedItem, text: str, label_field: Callable[[str], str | None]) -> None:
    labelled = _LABELLED.match(text)
    name = label_field(labelled.group(1).strip()) if labelled else None
    if labelled and name in ("issuer", "deadline", "area"):
        item.fields[name] = labelled.group(2).strip()
    else:
        item.body.append(text)
