"""Posted challenges and organisations survive a restart; the index follows the database."""

from __future__ import annotations

HYDROGEN = {
    "id": "U-hydrogen-01",
    "area": "氢能装备",
    "text": "高压储氢瓶碳纤维缠绕成型工艺及氢脆防护技术",
}
NEW_ORG = {
    "id": "api-org-1",
    "name": "澜汀氢能储运装备有限公司（示例）",
    "kind": "enterprise",
    "region": {"city": "嘉兴市", "province": "浙江省"},
    "capability": (
        "公司专注IV型高压储氢瓶研发，掌握碳纤维湿法缠绕成型与塑料内胆滚塑工艺。"
        "建有氢脆与疲劳试验平台，可开展70MPa储氢瓶爆破、循环和氢渗透测试。"
    ),
}
HYDROGEN_QUERY = "IV型储氢瓶碳纤维缠绕与内胆氢渗透测试"


def ranked_ids(client, text: str, top: int = 5) -> list[str]:
    response = client.post("/match", json={"text": text, "top": top})
    assert response.status_code == 200, response.text
    return [c["org_id"] for c in response.json()["candidates"]]


def test_posted_challenge_is_ranked_and_survives_restart(make_server, api_key: str) -> None:
    server = make_server().start()
    with server.client(api_key) as client:
        posted = client.post("/challenges", json=HYDROGEN)
        assert posted.status_code == 201, posted.text
        assert posted.json()["source"] == "posted"
        assert client.post("/challenges", json=HYDROGEN).status_code == 409
        # Default parameters: the only rankings stored (a bounded set, issue 13).
        ranking = client.get(f"/challenges/{HYDROGEN['id']}/candidates")
        assert ranking.status_code == 200
        candidates = ranking.json()["candidates"]
        assert len(candidates) == 10
        narrower = client.get(f"/challenges/{HYDROGEN['id']}/candidates", params={"top": 5})
        assert narrower.json()["candidates"] == candidates[:5]
        assert all(c["evidence"] for c in candidates)
        scores = [c["score"] for c in candidates]
        assert scores == sorted(scores, reverse=True)

    server.restart()
    with server.client(api_key) as client:
        again = client.get(f"/challenges/{HYDROGEN['id']}")
        assert again.status_code == 200
        assert again.json()["text"] == HYDROGEN["text"]
        listed = client.get("/challenges").json()["challenges"]
        assert HYDROGEN["id"] in {c["id"] for c in listed}
        stored = client.get(f"/challenges/{HYDROGEN['id']}/results").json()
        assert [r["result"]["candidates"][0]["org_id"] for r in stored] == [candidates[0]["org_id"]]

        assert client.delete(f"/challenges/{HYDROGEN['id']}").status_code == 204
        assert client.get(f"/challenges/{HYDROGEN['id']}").status_code == 404
        builtin = client.delete("/challenges/ZJ2021-01-01")
        assert builtin.status_code == 409
        assert builtin.json()["error"]["code"] == "builtin_challenge"
        assert "内置" in builtin.json()["error"]["message"]


def test_added_and_deleted_organisations_stay_consistent_across_restarts(
    make_server, api_key: str
) -> None:
    server = make_server().start()
    with server.client(api_key) as client:
        demo_id = ranked_ids(client, "数控机床开放式数控系统", top=1)[0]
        assert NEW_ORG["id"] not in ranked_ids(client, HYDROGEN_QUERY)

        added = client.post("/organisations", json=NEW_ORG)
        assert added.status_code == 201, added.text
        assert client.post("/organisations", json=NEW_ORG).status_code == 409
        assert ranked_ids(client, HYDROGEN_QUERY)[0] == NEW_ORG["id"]
        assert client.delete(f"/organisations/{demo_id}").status_code == 204
        assert demo_id not in ranked_ids(client, "数控机床开放式数控系统", top=20)

    server.restart()
    with server.client(api_key) as client:
        assert client.get(f"/organisations/{NEW_ORG['id']}").json()["name"] == NEW_ORG["name"]
        assert ranked_ids(client, HYDROGEN_QUERY)[0] == NEW_ORG["id"]
        assert client.get(f"/organisations/{demo_id}").status_code == 404
        assert demo_id not in ranked_ids(client, "数控机床开放式数控系统", top=20)

        renamed = {**NEW_ORG, "name": "澜汀氢能科技有限公司（示例）"}
        updated = client.post("/organisations", json=renamed, params={"replace": True})
        assert updated.status_code == 200
        assert client.delete(f"/organisations/{NEW_ORG['id']}").status_code == 204

    server.restart()
    with server.client(api_key) as client:
        assert client.get(f"/organisations/{NEW_ORG['id']}").status_code == 404
        assert NEW_ORG["id"] not in ranked_ids(client, HYDROGEN_QUERY, top=20)
        assert demo_id not in ranked_ids(client, "数控机床开放式数控系统", top=20)


def test_stale_index_is_reconciled_with_the_database(make_server, api_key: str, tmp_path) -> None:
    """A stale index (e.g. rebuilt from the demo data) gets the API's changes re-applied."""
    server = make_server().start()
    with server.client(api_key) as client:
        assert client.post("/organisations", json=NEW_ORG).status_code == 201
        demo_id = ranked_ids(client, "数控机床开放式数控系统", top=1)[0]
        assert client.delete(f"/organisations/{demo_id}").status_code == 204
    server.stop()
    for path in (tmp_path / "index").iterdir():
        path.unlink()  # the next start builds the demo index afresh: the DB must win

    server.start()
    with server.client(api_key) as client:
        assert ranked_ids(client, HYDROGEN_QUERY)[0] == NEW_ORG["id"]
        assert client.get(f"/organisations/{demo_id}").status_code == 404
