"""The seed's challenge catalogue: its appendix (附录) parsed into areas and atomic challenges.

The appendix (`corpus/data/seed_appendix.txt`, a verbatim copy) is a table flattened to text:
each cell starts with a tab, a row is `序号`, `重点领域`, `主要技术难点`. Its quirks:

- a cell may wrap onto following tab-less lines ("先进高分子" + "材料"): the pieces are joined;
- the last two rows have only a 技术难点 cell — no number, no name. They are numbered after
  the row before them and named from `_INFERRED_NAMES` by a keyword of their text
  (`name_inferred=True`, `area_inferred=True` on their challenges).

Splitting a row into atomic challenges:

1. A row is split at "；" — the source's own separator between difficulties. A "语音合成：…"
   style prefix therefore stays with its difficulty.
2. A row without "；" is one enumeration: it is split at "，", or at "、" when it has no "，".
3. Nothing is split further: an enumeration inside a "；" piece ("高速大功率高刚性电主轴，
   高精度液冷丝杆、…") stays visible in its challenge's text for facet analysis.
4. Clauses that cannot stand alone are joined back: one that opens with a word referring back
   (`_CONTINUATIONS`: "…功能性化学品等，从新物质合成…六个方面的关键技术") joins the clause
   before it; one that is a bare item of the next clause's "…等" list — it ends in the same
   word as the item before "等" ("网络传输和接入设备，TD-LTE设备等设计与制造技术") — joins the
   clause after it.
5. A leading "以及"/"及" and trailing "。" and whitespace are stripped.

Ids are `ZJ2021-{area:02d}-{n:02d}`, `n` counting from 1 within the area, so they depend only on
the appendix text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

from pydantic import BaseModel, ConfigDict

from corpus.errors import JiebangError
from corpus.models import Challenge

APPENDIX_RESOURCE = "seed_appendix.txt"
ID_PREFIX = "ZJ2021"

# The source leaves the last two rows unnamed; these names are inferred from their text
# (the plan's body lists 资源循环利用 among its fields).
_INFERRED_NAMES = {
    "网络传输": "新一代通信与智能终端装备",
    "废旧锂电": "资源循环利用（废旧电池回收）",
}
_HEADER_LAST_CELL = "主要技术难点"
_CONTINUATIONS = ("从",)
_LEADING_CONNECTIVES = re.compile(r"^(以及|及)")


class Area(BaseModel):
    """One row of the appendix: a key industrial area (重点领域) and its full difficulty text."""

    model_config = ConfigDict(frozen=True)

    no: int
    name: str
    name_inferred: bool = False
    text: str


@dataclass(frozen=True)
class Catalogue:
    """Areas and their atomic challenges; immutable — `with_user` returns a new catalogue."""

    areas: tuple[Area, ...]
    challenges: tuple[Challenge, ...]

    def get(self, challenge_id: str) -> Challenge:
        """The challenge with this id; `JiebangError` when there is none."""
        for challenge in self.challenges:
            if challenge.id == challenge_id:
                return challenge
        raise JiebangError(f"unknown challenge id '{challenge_id}'; try `jiebang challenges list`")

    def by_area(self, area: int | str) -> list[Challenge]:
        """Challenges of an area given by number (6 or "6") or by a substring of its name."""
        key = str(area).strip()
        number = area_number(key)
        if number is not None:
            found = [c for c in self.challenges if c.area_no == number]
        else:
            found = [c for c in self.challenges if key and key in c.area]
        if not found:
            names = "、".join(f"{a.no} {a.name}" for a in self.areas)
            raise JiebangError(f"no area matches '{area}'; areas: {names}")
        return found

    def with_user(self, challenges: Iterable[Challenge]) -> Catalogue:
        """A new catalogue with `challenges` appended; an id already taken is an error."""
        taken = {c.id for c in self.challenges}
        added: list[Challenge] = []
        for challenge in challenges:
            if challenge.id in taken:
                raise JiebangError(f"challenge id '{challenge.id}' is already in the catalogue")
            taken.add(challenge.id)
            added.append(challenge)
        return Catalogue(self.areas, (*self.challenges, *added))


def area_number(text: str) -> int | None:
    """The area number a text means ("6", " 06 "), or None; only ASCII digits count ("①" is
    a name fragment, not a number)."""
    key = text.strip()
    return int(key) if re.fullmatch(r"[0-9]{1,3}", key) else None


@functools.cache
def builtin_catalogue() -> Catalogue:
    """The catalogue parsed from the shipped copy of the seed's appendix (parsed once)."""
    text = files("corpus").joinpath("data", APPENDIX_RESOURCE).read_text(encoding="utf-8")
    return parse_appendix(text)


def parse_appendix(text: str) -> Catalogue:
    """Parse the appendix's text (see the module docstring for its layout and the rules)."""
    areas = _areas(_cells(text))
    challenges = tuple(
        Challenge(
            id=f"{ID_PREFIX}-{area.no:02d}-{n:02d}",
            area_no=area.no,
            area=area.name,
            area_inferred=area.name_inferred,
            text=piece,
        )
        for area in areas
        for n, piece in enumerate(split_difficulties(area.text), start=1)
    )
    return Catalogue(tuple(areas), challenges)


def split_difficulties(row_text: str) -> list[str]:
    """Split one row's 技术难点 text into atomic challenge texts (rules 1–5 above)."""
    row_text = row_text.strip().rstrip("。").strip()
    if "；" in row_text:
        separator = "；"
    elif "，" in row_text:
        separator = "，"
    else:
        separator = "、"
    joined: list[str] = []
    for clause in (c.strip() for c in row_text.split(separator)):
        if joined and separator != "；" and _refers_back(joined[-1], clause):
            joined[-1] += separator + clause
        elif clause:
            joined.append(clause)
    return [_LEADING_CONNECTIVES.sub("", c).rstrip("。").strip() for c in joined]


def _refers_back(previous: str, clause: str) -> bool:
    """Rule 4: `clause` continues `previous`, or `previous` is an item of `clause`'s "…等" list."""
    if clause.startswith(_CONTINUATIONS):
        return True
    before_etc = clause.split("等", 1)[0] if "等" in clause else ""
    return "，" not in previous and len(before_etc) >= 2 and previous[-2:] == before_etc[-2:]


def _cells(text: str) -> list[str]:
    """The table's cells in order, wrapped cells joined, the title and header dropped."""
    cells: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if "\t" in line:
            cells.append(line.split("\t", 1)[1].strip())
        elif cells:
            cells[-1] += line.strip()
    if _HEADER_LAST_CELL not in cells:
        raise JiebangError(f"appendix has no header row ending in '{_HEADER_LAST_CELL}'")
    return cells[cells.index(_HEADER_LAST_CELL) + 1 :]


def _areas(cells: list[str]) -> list[Area]:
    """Group cells into rows: `no, name, text`, or a lone `text` for an unnamed row."""
    areas: list[Area] = []
    i = 0
    while i < len(cells):
        if cells[i].isdigit():
            if i + 2 >= len(cells):
                raise JiebangError(f"appendix row {cells[i]} lacks its name or its text")
            no, name, row_text = int(cells[i]), cells[i + 1], cells[i + 2]
            areas.append(Area(no=no, name=name, text=row_text))
            i += 3
        else:
            no = areas[-1].no + 1 if areas else 1
            areas.append(
                Area(no=no, name=_inferred_name(cells[i]), name_inferred=True, text=cells[i])
            )
            i += 1
    return areas


def _inferred_name(row_text: str) -> str:
    for keyword, name in _INFERRED_NAMES.items():
        if keyword in row_text:
            return name
    raise JiebangError(f"appendix row without a name matches no inferred name: {row_text[:20]}…")
