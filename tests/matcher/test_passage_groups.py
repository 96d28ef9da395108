"""Who owns which passage: codes, expansion to whole groups, removal."""

from __future__ import annotations

import numpy as np

from matcher.evidence import Passage
from matcher.passage_groups import NO_GROUP, PassageGroups


def passages(*owners: tuple[int, str]) -> list[Passage]:
    return [
        Passage(pid=pid, group=group, doc_id=f"{group}#{pid}", text="…", source="capability")
        for pid, group in owners
    ]


def test_a_hit_expands_to_every_passage_of_its_group_ascending() -> None:
    groups = PassageGroups()
    groups.add(passages((0, "a"), (1, "b"), (2, "a"), (3, "c")))
    groups.add(passages((4, "b")))
    assert groups.expand(np.array([2])).tolist() == [0, 2]
    assert groups.expand(np.array([4, 3, 4])).tolist() == [1, 3, 4]
    assert groups.pids_of(["c", "a", "unknown"]).tolist() == [0, 2, 3]
    assert [groups.names[c] for c in groups.codes[[0, 1, 3]].tolist()] == ["a", "b", "c"]
    assert groups.sizes.tolist() == [2, 2, 1] and groups.next_pid == 5


def test_removed_passages_leave_their_group_and_its_code() -> None:
    groups = PassageGroups()
    groups.add(passages((0, "a"), (1, "b"), (2, "a")))
    groups.remove([0, 1])
    assert groups.codes[0] == NO_GROUP and 0 not in groups.by_id
    assert groups.of_group("a") == [2] and groups.of_group("b") == []
    assert groups.expand(np.array([2])).tolist() == [2]
    assert groups.sizes.tolist() == [1, 0]
    groups.add(passages((3, "b")))
    assert groups.code("b") == 1 and groups.of_group("b") == [3]
