"""The engine's passages by id and by group (organisation): who owns which indexed passage.

What turns a channel's hits into organisations (`owners`, `expand`) and what an upsert or a
removal changes. The vectors and n-grams themselves live in the indexes, under the same ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from matcher.evidence import Passage


class PassageGroups:
    """Indexed passages by id (`by_id`) and under their group; `next_pid` is the next free id."""

    def __init__(self) -> None:
        self.by_id: dict[int, Passage] = {}
        self.next_pid = 0
        self._by_group: dict[str, list[int]] = defaultdict(list)
        # pid → group, an array so that a query's few thousand hits are grouped in one take.
        self._owners = np.empty(0, dtype=object)

    @property
    def owners(self) -> np.ndarray:
        """The group of each passage id (None for a removed one), indexable by id arrays."""
        return self._owners

    def numbered(self, passages: list[Passage]) -> list[Passage]:
        """`passages` with the next free ids (taken when they are `add`ed)."""
        return [p.model_copy(update={"pid": self.next_pid + i}) for i, p in enumerate(passages)]

    def add(self, passages: list[Passage]) -> None:
        """Record indexed passages by id and under their group."""
        end = max(p.pid for p in passages) + 1
        if end > len(self._owners):
            grown = np.empty(max(end, 2 * len(self._owners)), dtype=object)
            grown[: len(self._owners)] = self._owners
            self._owners = grown
        for passage in passages:
            self.by_id[passage.pid] = passage
            self._by_group[passage.group].append(passage.pid)
            self._owners[passage.pid] = passage.group
        self.next_pid = max(self.next_pid, end)

    def remove(self, pids: Iterable[int]) -> None:
        """Forget passages (their groups stay, possibly empty)."""
        for pid in pids:
            passage = self.by_id.pop(pid)
            self._by_group[passage.group].remove(pid)
            self._owners[pid] = None

    def remove_group(self, group: str) -> None:
        """Forget a group whose passages were removed."""
        self._by_group.pop(group, None)

    def of_group(self, group: str) -> list[int]:
        """The ids of `group`'s passages, in the order they were added."""
        return list(self._by_group.get(group, []))

    def pids_of(self, groups: Iterable[str]) -> np.ndarray:
        """The ids of `groups`' passages, group by group."""
        return np.array([p for g in groups for p in self._by_group.get(g, [])], dtype=np.int64)

    def sizes(self) -> dict[str, int]:
        """Passages per group."""
        return {group: len(pids) for group, pids in self._by_group.items()}

    def expand(self, pids: Iterable[int]) -> np.ndarray:
        """Every passage of the groups owning `pids`, ascending."""
        groups = set(self._owners[np.fromiter(pids, dtype=np.int64)].tolist())
        return np.array(sorted(p for g in groups for p in self._by_group[g]), dtype=np.int64)
