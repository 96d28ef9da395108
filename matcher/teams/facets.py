"""A challenge text → facets: the sub-requirements a solver or a team must cover.

The appendix rows enumerate their difficulties; the enumeration *is* the decomposition:

1. Clauses: split at "；" / "。" (outside brackets). A "质谱分析仪器领域：…" label becomes
   context for each facet of its clause; leading verbs ("攻克", "突破", "实现", "从") go.
2. Segments: split a clause at "，".
3. Items: split a segment at "、", "以及", "及", "和" (outside brackets), then repair:
   - "A、B等C" lists examples of C: when C is followed by "的" and a list of specific items
     ("高温合金、耐蚀合金等高端金属合金材料的高纯洁度冶炼和高组织均匀性变形控制"), those items
     are the facets, with the examples as shared context; otherwise the examples are the facets
     ("光刻胶、大硅片、高纯度电化学品等关键材料"), C as context. An example list of single
     letters ("O、H、S等ppm量级") stays whole.
   - "H的X、Y和Z" with one "的" (or "…技术用"): H is a shared head (context) for X, Y, Z;
     "X和Y的研发", where the tail is generic, gives X and Y.
   - Generic items ("应用", "研发", "改善") and adjectival stubs ("超薄", "低资源") join a
     neighbour; a short item joined by "和" shares the next item's head noun
     ("生物可降解和医用材料" → "生物可降解材料", "医用材料").
   - Trailing "等" / "等关键技术" and "六个方面的关键技术" style tails are stripped.
4. No enumeration and a long text: keyword facets from `Segmenter.keywords`, grouped when a
   `score` function is given (keywords whose best organisations coincide are one facet).

Each facet keeps its display `text`, its `context` (label/shared head) and a `query` for the
matching engine: the text with a label or shared head it needs, but without the area name or a
parenthesised note. A prefix like "集成电路制造技术及成套工艺：" or a note like "（关键材料）"
dilutes a short facet: on the demo corpus the silicon-wafer maker's confidence for 大硅片 drops
from 0.88 to 0.29 with both, which turned its own speciality into a team's gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel

FacetSource = Literal["enumeration", "whole", "keywords", "user"]

_CLAUSE_SEPARATORS = "；;。"
_LIST_SEPARATORS = ("以及", "、", "及", "和")
_OPEN, _CLOSE = "（(「【", "）)」】"
_LEADING_VERBS = re.compile(r"^(攻克|突破|实现|从|在|其)")
_LABEL = re.compile(r"^([^：:，、]{2,12})[：:](.+)$")
_TRAILING_ETC = re.compile(
    r"(等(关键技术|技术|方面)?|[一二三四五六七八九十两\d]+个方面的关键技术)$"
)
_GENERIC = {
    "研发", "开发", "应用", "研究", "实现", "产业化", "技术", "工艺", "关键技术", "设计", "制造",
    "改善", "提升", "研发及产业化", "设计与制造技术", "发展",
}  # fmt: skip
_TECH_USE = re.compile(r"(?<=技术)用")  # "…显示技术用湿电子化学品": a shared head like "的"
_ADJECTIVE_PREFIX = tuple("超高低大小特微轻薄强新")
_HEAD_NOUNS = ("技术", "材料", "系统", "设备", "工艺", "芯片", "软件", "算法", "仪器", "装备")
_MIN_KEYWORD_TEXT = 16
# An enumerated item with fewer Han characters names no technology alone ("组装", "污水"); the
# appendix's shortest are three (光刻胶, 大硅片).
_MIN_ENUMERATED_HAN = 3


class Facet(BaseModel):
    """One sub-requirement of a challenge."""

    id: str
    text: str
    context: str = ""
    query: str
    weight: float = 1.0
    source: FacetSource = "enumeration"


class KeywordSource(Protocol):
    """What the keyword fallback needs from `embed.segment.Segmenter`."""

    def keywords(self, text: str, k: int) -> list[str]: ...


def decompose(
    text: str,
    *,
    area: str | None = None,
    segmenter: KeywordSource | None = None,
    score: Callable[[str], Mapping[str, float]] | None = None,
    max_keyword_facets: int = 4,
) -> list[Facet]:
    """Facets of a challenge text (see the module docstring); `[]` only for a blank text."""
    text = text.strip()
    if not text:
        return []
    pieces: list[tuple[str, str]] = []
    for clause in _split_outside(text, _CLAUSE_SEPARATORS):
        label, body = _label(clause)
        for segment in _split_outside(body, "，,"):
            for context, item in _segment_items(segment):
                pieces.append((label + context, item))
    pieces = [(c, t) for c, t in pieces if t]
    if len(pieces) > 1:
        return _facets(pieces, "enumeration")
    if segmenter is not None and len(_han(text)) >= _MIN_KEYWORD_TEXT:
        keyword_facets = _keyword_facets(text, area, segmenter, score, max_keyword_facets)
        if len(keyword_facets) > 1:
            return keyword_facets
    context, item = pieces[0] if pieces else ("", text)
    return _facets([(context, item or text)], "whole")


def enumerated(text: str) -> list[Facet]:
    """The facets an enumeration names: the items of each segment that lists several
    technologies with "、" (what the appendix does: "光刻胶、大硅片、高纯度电化学品等关键材料"),
    each of at least three Chinese characters or with a Latin term; [] when fewer than two.

    The matching engine scores these beside the whole text. Items split off by clauses, commas
    or a lone "及" ("…关键技术研发及应用示范", a published call's description) are not
    technologies of their own: scored alone they lifted unrelated organisations (challenge-org,
    EVALUATION.md).
    """
    pieces: list[tuple[str, str]] = []
    for clause in _split_outside(text.strip(), _CLAUSE_SEPARATORS):
        label, body = _label(clause)
        if not label:  # "a published call's title：its description": the title only
            body = re.split("[：:]", body, maxsplit=1)[0]
        for segment in _split_outside(body, "，,"):
            items = _segment_items(segment) if "、" in segment else []
            if len(items) > 1:
                pieces += [
                    (label + context, item)
                    for context, item in items
                    if len(_han(item)) >= _MIN_ENUMERATED_HAN or _han(item) != item
                ]
    return _facets(pieces, "enumeration") if len(pieces) > 1 else []


def user_facets(texts: Sequence[str]) -> list[Facet]:
    """Facets given explicitly by a user, one per non-blank text, in order."""
    pieces = [("", t.strip()) for t in texts if t.strip()]
    return _facets(pieces, "user")


def combine(groups: Sequence[Sequence[Facet]]) -> list[Facet]:
    """Facets of several challenges (e.g. a whole area) as one list, renumbered F1, F2, …"""
    flat = [facet for group in groups for facet in group]
    return [facet.model_copy(update={"id": f"F{i}"}) for i, facet in enumerate(flat, start=1)]


def _facets(pieces: Sequence[tuple[str, str]], source: FacetSource) -> list[Facet]:
    facets: list[Facet] = []
    seen: set[tuple[str, str]] = set()
    for context, text in pieces:
        if (context, text) in seen:
            continue
        seen.add((context, text))
        if context.startswith("（"):
            query = text
        else:
            query = f"{context}{text}" if context not in text else text
        facets.append(
            Facet(id=f"F{len(facets) + 1}", text=text, context=context, query=query, source=source)
        )
    return facets


def _label(clause: str) -> tuple[str, str]:
    """("质谱分析仪器领域", rest) for "质谱分析仪器领域：rest"; the label ends with a space."""
    clause = clause.strip()
    match = _LABEL.match(clause)
    if match:
        return match.group(1).strip() + " ", match.group(2).strip()
    return "", clause


def _segment_items(segment: str) -> list[tuple[str, str]]:
    """(context, item) pairs of one comma-free segment."""
    segment = _LEADING_VERBS.sub("", segment.strip())
    segment = _TRAILING_ETC.sub("", segment).strip()
    if not segment:
        return []
    etc = _top_level_index(segment, "等")
    if etc is not None:
        return _example_list(segment[:etc], segment[etc + 1 :])
    de = _top_level_indexes(segment, "的") or [m.start() for m in _TECH_USE.finditer(segment)]
    if len(de) == 1:
        head, tail = segment[: de[0] + 1], segment[de[0] + 1 :]
        tail_items = _items(tail)
        if len(tail_items) > 1:
            return [(head, item) for item in tail_items]
        if _is_generic(tail):
            return [("", item) for item in _items(head[:-1])]
        return [("", segment)]
    return [("", item) for item in _items(segment)]


def _example_list(examples: str, after: str) -> list[tuple[str, str]]:
    """Facets of "examples等after" (see rule 3 of the module docstring)."""
    de = _top_level_index(after, "的")
    if de is not None:
        specific = [i for i in _items(after[de + 1 :]) if not _is_generic(i)]
        if len(specific) > 1:
            return [(f"{examples}等{after[: de + 1]}", item) for item in specific]
    items = _items(examples, keep_stubs=True)
    if any(len(_han(item)) <= 1 and len(item) <= 2 for item in items):
        return [("", f"{examples}等{after}")]
    context = f"（{after}）" if after else ""
    return [(context, item) for item in items]


def _items(text: str, *, keep_stubs: bool = False) -> list[str]:
    """Split at list separators and repair generic items, stubs and shared head nouns."""
    raw = [_LEADING_VERBS.sub("", p.strip()) for p in _split_outside_words(text, _LIST_SEPARATORS)]
    raw = [p for p in raw if p]
    if len(raw) <= 1:
        return raw
    separators = _separators_between(text, raw)
    joined_by = dict(zip(raw, separators, strict=True))
    items: list[str] = []
    pending = ""
    for index, item in enumerate(raw):
        last = index == len(raw) - 1
        stub = _is_generic(item) or (not keep_stubs and _is_adjective_stub(item))
        if stub and not last:
            pending += item + separators[index]
            continue
        if _is_generic(item) and last and items:
            items[-1] += separators[index - 1] + item
            continue
        items.append(pending + item)
        pending = ""
    for index in range(len(items) - 1):
        left, right = items[index], items[index + 1]
        head = next((noun for noun in _HEAD_NOUNS if right.endswith(noun)), None)
        shares = joined_by.get(left) == "和" and len(_han(left)) <= 5
        if head and shares and not left.endswith(_HEAD_NOUNS):
            items[index] = left + head
    return items


def _separators_between(text: str, parts: Sequence[str]) -> list[str]:
    """The separator text following each part (so merged items read as in the source)."""
    out: list[str] = []
    position = 0
    for index, part in enumerate(parts):
        start = text.index(part, position)
        end = start + len(part)
        following = parts[index + 1] if index + 1 < len(parts) else None
        next_start = text.index(following, end) if following else len(text)
        out.append(text[end:next_start])
        position = end
    return out


def _is_generic(item: str) -> bool:
    return item.strip() in _GENERIC


def _is_adjective_stub(item: str) -> bool:
    return len(item) <= 3 and item.startswith(_ADJECTIVE_PREFIX)


def _han(text: str) -> str:
    return "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def _depths(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        out.append(depth)
        if ch in _CLOSE:
            depth = max(0, depth - 1)
    return out


def _top_level_indexes(text: str, char: str) -> list[int]:
    depths = _depths(text)
    return [i for i, ch in enumerate(text) if ch == char and depths[i] == 0]


def _top_level_index(text: str, char: str) -> int | None:
    """First top-level `char` that sits inside the text (not at either end)."""
    inner = [i for i in _top_level_indexes(text, char) if 0 < i < len(text) - 1]
    return inner[0] if inner else None


def _split_outside(text: str, separators: str) -> list[str]:
    depths = _depths(text)
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch in separators and depths[i] == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _split_outside_words(text: str, separators: Sequence[str]) -> list[str]:
    depths = _depths(text)
    parts, start, i = [], 0, 0
    while i < len(text):
        word = next(
            (s for s in separators if text.startswith(s, i) and depths[i] == 0 and i > start),
            None,
        )
        if word:
            parts.append(text[start:i])
            i += len(word)
            start = i
        else:
            i += 1
    parts.append(text[start:])
    return parts


def _keyword_facets(
    text: str,
    area: str | None,
    segmenter: KeywordSource,
    score: Callable[[str], Mapping[str, float]] | None,
    limit: int,
) -> list[Facet]:
    keywords = [k for k in segmenter.keywords(text, limit * 2) if len(_han(k)) >= 2]
    if score is not None and len(keywords) > 1:
        groups = _group_by_profile(keywords, score, area)
    else:
        groups = [[k] for k in keywords]
    pieces = [("", "、".join(group)) for group in groups[:limit]]
    return _facets(pieces, "keywords")


def _group_by_profile(
    keywords: Sequence[str],
    score: Callable[[str], Mapping[str, float]],
    area: str | None,
    top: int = 5,
) -> list[list[str]]:
    """Group keywords whose top-`top` organisations overlap by half or more (single link)."""
    tops = []
    for keyword in keywords:
        scores = score(f"{area}：{keyword}" if area else keyword)
        tops.append(set(sorted(scores, key=lambda org: -scores[org])[:top]))
    groups: list[list[int]] = []
    for index, best in enumerate(tops):
        home = next(
            (g for g in groups if any(_overlaps(best, tops[j]) for j in g)),
            None,
        )
        if home is None:
            groups.append([index])
        else:
            home.append(index)
    return [[keywords[i] for i in group] for group in groups]


def _overlaps(first: set[str], second: set[str]) -> bool:
    """At least half of the smaller set is shared."""
    smaller = min(len(first), len(second))
    return smaller > 0 and len(first & second) * 2 >= smaller
