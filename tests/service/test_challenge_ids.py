"""The ids of the challenges users add: one scheme, `ChallengeBook.new_id`, for the challenges
file, imported lists and API postings — the scheme the ids already stored were made with."""

from __future__ import annotations

import re
from pathlib import Path

from corpus.catalogue import builtin_catalogue
from service.components import catalogue
from service.settings import Settings
from service.usecases.challenges import ID_LIKE, ChallengeBook, Origin, imported_key
from service.usecases.imports import challenges_from_file
from tests.files import challenge_xlsx, real_challenges


def test_content_ids_are_the_ones_already_stored() -> None:
    # Made by the functions this scheme replaced (corpus.loaders.user_challenge_id and
    # corpus.documents.challenges.imported_challenge_id): stored ids and judgments stay valid.
    file_id = ChallengeBook.new_id(Origin.challenges_file, "氢能装备", "高压储氢瓶碳纤维缠绕工艺")
    assert file_id == "USER-b407fbfe"
    assert ChallengeBook.new_id(Origin.challenges_file, "", "五轴联动误差补偿") == "USER-1a9bad6e"
    titled = imported_key("/uploads/Ｂang单.XLSX", "储氢瓶", "某某集团")
    assert ChallengeBook.new_id(Origin.imported, *titled) == "F-36bb0bd088"
    untitled = imported_key("榜单.xlsx", "高压储氢瓶碳纤维缠绕工艺", None)
    assert ChallengeBook.new_id(Origin.imported, *untitled) == "F-a7a4f4753b"


def test_posted_ids_are_random_and_read_as_ids() -> None:
    ids = {ChallengeBook.new_id(Origin.posted) for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"U-[0-9a-f]{10}", i) and ID_LIKE.fullmatch(i) for i in ids)


def test_the_challenges_file_gets_stable_ids_and_keeps_given_ones(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("id,area,text\n,氢能装备, 高压储氢瓶碳纤维缠绕工艺\nMINE-1,数控机床,五轴\n")
    book = ChallengeBook(catalogue(Settings(challenges_file=path)))
    assert book.get("USER-b407fbfe").text == "高压储氢瓶碳纤维缠绕工艺"
    assert book.get("MINE-1").source == "user"


def nearest_area(text: str) -> tuple[int, str]:
    return 6, "数控机床"


def test_imported_ids_are_stable_and_differ_between_files(shared_data, tmp_path) -> None:
    sources = real_challenges(shared_data)
    path = challenge_xlsx(tmp_path / "榜单.xlsx", sources)

    def ids(name: str) -> list[str]:
        found = challenges_from_file(
            path, builtin_catalogue(), lambda _: (6, "数控机床"), name=name
        )
        return [c.id for c in found.challenges]

    first = ids("榜单.xlsx")
    assert len(set(first)) == len(first) and all(i.startswith("F-") for i in first)
    # The base name counts, not the folder: an upload and the CLI agree.
    assert first == ids("榜单.xlsx") == ids("/elsewhere/榜单.xlsx")
    assert set(first).isdisjoint(ids("榜单-2.xlsx"))
