"""The engine's passages by id and by group (organisation): who owns which indexed passage.

What turns a channel's hits into organisations (`codes`, `expand`) and what an upsert or a
removal changes. The vectors and n-grams themselves live in the indexes, under the same ids.
A group is known by a small integer code from its first passage on (codes are never reused), so
that a query's tens of thousands of passages are grouped with array operations.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from matcher.evidence import Passage

NO_GROUP = -1  # the code of a free or removed passage id


class PassageGroups:
    """Indexed passages by id (`by_id`) and by group code; `next_pid` is the next free id."""

    def __init__(self) -> None:
        self.by_id: dict[int, Passage] = {}
        self.next_pid = 0
        self.names: list[str] = []  # code → group
        self._code: dict[str, int] = {}  # group → code
        self._codes = np.full(0, NO_GROUP, dtype=np.int64)  # pid → code
        self._sizes = np.zeros(0, dtype=np.int64)  # code → passages

    @property
    def codes(self) -> np.ndarray:
        """The group code of each passage id (`NO_GROUP` for a free one), indexable by id
        arrays; `names[code]` is the group."""
        return self._codes

    @property
    def sizes(self) -> np.ndarray:
        """Passages per group code."""
        return self._sizes

    def code(self, group: str) -> int | None:
        """`group`'s code, None for a group that never had a passage."""
        return self._code.get(group)

    def numbered(self, passages: list[Passage]) -> list[Passage]:
        """`passages` with the next free ids (taken when they are `add`ed)."""
        return [p.model_copy(update={"pid": self.next_pid + i}) for i, p in enumerate(passages)]

    def add(self, passages: list[Passage]) -> None:
        """Record indexed passages by id and under their group."""
        end = max(p.pid for p in passages) + 1
        if end > len(self._codes):
            grown = np.full(max(end, 2 * len(self._codes)), NO_GROUP, dtype=np.int64)
            grown[: len(self._codes)] = self._codes
            self._codes = grown
        for passage in passages:
            self.by_id[passage.pid] = passage
            code = self._code.get(passage.group)
            if code is None:
                code = self._code[passage.group] = len(self.names)
                self.names.append(passage.group)
            self._codes[passage.pid] = code
        self._sizes = np.bincount(self._owned(), minlength=len(self.names))
        self.next_pid = max(self.next_pid, end)

    def remove(self, pids: Iterable[int]) -> None:
        """Forget passages (their groups keep their codes, possibly with no passage)."""
        for pid in pids:
            del self.by_id[pid]
            self._codes[pid] = NO_GROUP
        self._sizes = np.bincount(self._owned(), minlength=len(self.names))

    def _owned(self) -> np.ndarray:
        return self._codes[self._codes != NO_GROUP]

    def of_group(self, group: str) -> list[int]:
        """The ids of `group`'s passages, ascending (the order they were added in)."""
        code = self._code.get(group)
        return [] if code is None else np.flatnonzero(self._codes == code).tolist()

    def pids_of(self, groups: Iterable[str]) -> np.ndarray:
        """The ids of `groups`' passages, ascending."""
        codes = [self._code[g] for g in groups if g in self._code]
        return self._of_codes(np.array(codes, dtype=np.int64))

    def expand(self, pids: np.ndarray) -> np.ndarray:
        """Every passage of the groups owning `pids` (repeats allowed), ascending."""
        return self._of_codes(self._codes[pids])

    def _of_codes(self, codes: np.ndarray) -> np.ndarray:
        # One pass over every id through a table of the wanted codes, whose last entry (the
        # one NO_GROUP indexes) stays False.
        wanted = np.zeros(len(self.names) + 1, dtype=bool)
        wanted[codes[codes != NO_GROUP]] = True
        return np.flatnonzero(wanted[self._codes])
