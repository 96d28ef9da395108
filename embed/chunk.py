"""Split long texts into sentence-bounded passages for the embedder.

Lengths are counted in characters, not model tokens, so chunking needs no tokenizer and gives the
same passages whatever model is configured. multilingual-e5-small truncates at 512 tokens and
Chinese runs at roughly one token per 1–1.5 characters, so `MAX_PASSAGE_CHARS` = 480 characters
(≈320–480 tokens) stays inside the limit and keeps a patent's title and abstract (median 283
characters on the BDCI patents) in one passage. Whole patents rank applicants better than
256-character pieces of them (patents-applicant, dense: MRR 0.316 against 0.294; EVALUATION.md).

Whitespace is collapsed to single spaces; every other character of the input ends up in exactly
one passage, in order.
"""

from __future__ import annotations

import math
import re

_WHITESPACE_RE = re.compile(r"\s+")
# A sentence ends after 。！？；!?; (with any closing quotes or brackets), after an English full
# stop followed by whitespace, or at a line break.
_SENTENCE_RE = re.compile(r"[^\n]*?(?:[。！？；!?;]+[”’\"'」』）)\]]*|\.(?=\s)|(?=\n)|$)")
_CLAUSE_RE = re.compile(r"[^，、,：:]*(?:[，、,：:]+|$)")

Span = tuple[int, int]

MAX_PASSAGE_CHARS = 480


def _normalise(text: str) -> str:
    """Trim, and collapse each whitespace run to a newline if it holds one, else a space."""
    return _WHITESPACE_RE.sub(lambda m: "\n" if "\n" in m[0] else " ", text.strip())


def _spans(
    pattern: re.Pattern[str], text: str, start: int = 0, end: int | None = None
) -> list[Span]:
    """Non-blank matches of `pattern` in text[start:end], as spans trimmed of whitespace."""
    spans = []
    for match in pattern.finditer(text, start, len(text) if end is None else end):
        piece = match[0]
        if piece.strip():
            left = match.start() + len(piece) - len(piece.lstrip())
            spans.append((left, left + len(piece.strip())))
    return spans


def sentences(text: str) -> list[str]:
    """Sentences of `text`, whitespace collapsed, in order; empty or blank text gives []."""
    norm = _normalise(text)
    return [norm[a:b] for a, b in _spans(_SENTENCE_RE, norm)]


def split_passages(text: str, max_chars: int = MAX_PASSAGE_CHARS, min_chars: int = 20) -> list[str]:
    """Pack whole sentences greedily into passages of at most `max_chars` characters.

    A sentence longer than `max_chars` starts a new passage and is cut at clause marks
    (，、,：:), then evenly by length. A passage shorter than `min_chars` (a heading, a stray
    line) is merged into a neighbour where the result stays under `max_chars + min_chars`.
    Nothing is dropped: the passages, joined, equal the text minus whitespace. Empty or blank
    text gives [].
    """
    if not 0 <= 2 * min_chars <= max_chars:
        raise ValueError(f"need 0 <= 2 * min_chars <= max_chars, got {min_chars=}, {max_chars=}")
    norm = _normalise(text)
    passages: list[Span] = []
    for start, end in _spans(_SENTENCE_RE, norm):
        if end - start > max_chars:
            pieces = _cut(norm, start, end, max_chars)
            passages.append(pieces[0])  # a long sentence never joins the passage before it
            _pack(passages, pieces[1:], max_chars)
        else:
            _pack(passages, [(start, end)], max_chars)
    passages = _merge_short(passages, min_chars, max_chars + min_chars - 1)
    return [norm[a:b].replace("\n", " ") for a, b in passages]


def _cut(norm: str, start: int, end: int, max_chars: int) -> list[Span]:
    """Pieces of an over-long sentence: clauses, each cut evenly to at most `max_chars`."""
    pieces: list[Span] = []
    for a, b in _spans(_CLAUSE_RE, norm, start, end):
        size = math.ceil((b - a) / math.ceil((b - a) / max_chars))
        for i in range(a, b, size):
            piece = norm[i : min(i + size, b)]
            if piece.strip():  # a cut may fall next to a space: keep spans trimmed
                left = i + len(piece) - len(piece.lstrip())
                pieces.append((left, left + len(piece.strip())))
    return pieces


def _pack(passages: list[Span], pieces: list[Span], max_chars: int) -> None:
    """Append `pieces` to the last passage while it fits, then open new ones."""
    for start, end in pieces:
        if passages and end - passages[-1][0] <= max_chars:
            passages[-1] = (passages[-1][0], end)
        else:
            passages.append((start, end))


def _merge_short(passages: list[Span], min_chars: int, limit: int) -> list[Span]:
    """Merge each passage shorter than `min_chars` with its predecessor if within `limit`."""
    merged: list[Span] = []
    for start, end in passages:
        if merged:
            first, last = merged[-1]
            if min(end - start, last - first) < min_chars and end - first <= limit:
                merged[-1] = (first, end)
                continue
        merged.append((start, end))
    return merged
