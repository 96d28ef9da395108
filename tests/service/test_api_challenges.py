"""Posting a challenge without an area: the nearest catalogue area is inferred and marked."""

from __future__ import annotations

import time

from corpus.loaders import load_challenges


def test_posting_without_an_area_infers_the_catalogue_area(live_server, api_key: str) -> None:
    text = "五轴联动数控机床的高速高精插补与热误差补偿"
    with live_server.client(api_key) as client:
        posted = client.post("/challenges", json={"text": text})
        assert posted.status_code == 201, posted.text
        challenge = posted.json()
        assert (challenge["area"], challenge["area_no"]) == ("数控机床", 6)
        assert challenge["area_inferred"] is True
        stored = client.get(f"/challenges/{challenge['id']}").json()
        assert stored["area_inferred"] is True and stored["area"] == "数控机床"
        given = client.post("/challenges", json={"text": text, "area": "机床装备"}).json()
        assert given["area"] == "机床装备" and given["area_inferred"] is False
        listed = client.get("/challenges", params={"area": "6"}).json()["challenges"]
        assert challenge["id"] in {c["id"] for c in listed}
        for posted_id in (challenge["id"], given["id"]):  # the server is shared: leave it clean
            assert client.delete(f"/challenges/{posted_id}").status_code == 204


def test_a_challenges_file_row_without_an_area_asks_the_inferrer(tmp_path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(
        '{"text": "五轴联动数控机床热误差补偿"}\n{"area": "氢能", "text": "储氢瓶缠绕工艺"}\n',
        encoding="utf-8",
    )
    asked: list[str] = []

    def infer(text: str) -> tuple[int, str]:
        asked.append(text)
        return 6, "数控机床"

    first, second = load_challenges(path, new_id=lambda area, text: text, infer_area=infer).records
    assert (first.area, first.area_no, first.area_inferred) == ("数控机床", 6, True)
    assert (second.area, second.area_inferred) == ("氢能", False)
    assert asked == ["五轴联动数控机床热误差补偿"]


def test_without_an_index_the_service_says_so_and_serves_no_demo(make_server) -> None:
    server = make_server(JIEBANG_DEMO="false").start(ready=False)
    with server.client() as client:
        deadline = time.monotonic() + 120
        while "no index" not in client.get("/readyz").text and time.monotonic() < deadline:
            time.sleep(0.5)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "jiebang index build" in ready.text, ready.text
        assert client.get("/challenges/ZJ2021-06-01/candidates").status_code == 503
