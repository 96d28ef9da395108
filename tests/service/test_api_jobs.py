"""A bulk patent job runs in the background, reports progress, and its output is fetched."""

from __future__ import annotations

import json
import time
import uuid

PATENTS = [
    ("一种高温合金真空感应熔炼方法", "通过真空感应熔炼与电渣重熔降低高温合金中的氧氮含量。"),
    ("一种KrF光刻胶树脂及其制备方法", "提供一种用于248nm光刻的树脂，提高分辨率与抗刻蚀性能。"),
    ("基于边缘计算的设备故障诊断系统", "在边缘网关部署轻量化模型，对设备振动信号实时诊断。"),
    ("一种锂离子电池高镍正极材料包覆方法", "采用原子层沉积在高镍正极表面包覆氧化铝。"),
    ("数控机床热误差补偿方法", "建立主轴热变形模型，实时补偿机床加工误差，提高加工精度。"),
]


def patents_file(rows: int) -> bytes:
    # Unique text per run: cached embeddings would finish the job between two progress polls.
    run = uuid.uuid4().hex[:8]
    lines = []
    for i in range(rows):
        title, abstract = PATENTS[i % len(PATENTS)]
        record = {"id": f"CN{i:06d}A", "title": title, "abstract": f"{abstract}（{run}-{i}）"}
        lines.append(json.dumps(record, ensure_ascii=False))
    lines.insert(7, "{this row is broken")
    return ("\n".join(lines) + "\n").encode()


def test_bulk_job_reports_progress_and_completes(live_server, api_key: str) -> None:
    with live_server.client(api_key) as client:
        started = client.post(
            "/patents/match",
            files={"file": ("patents.jsonl", patents_file(40))},
            data={"top": "2", "format": "jsonl"},
        )
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["total"] == 41
        assert started.headers["Location"] == f"/jobs/{job['id']}"

        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 300
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
            job = client.get(f"/jobs/{job['id']}").json()
            seen.append((job["status"], job["progress"]))
        assert job["status"] == "done", job
        progress = [p for _, p in seen]
        assert progress == sorted(progress)
        assert any(0 < p < 41 for status, p in seen if status == "running"), seen
        assert job["progress"] == 41
        assert job["totals"]["patents"] == 40
        assert job["totals"]["rejected"] == 1

        result = client.get(job["result_url"])
        assert result.status_code == 200
        rows = [json.loads(line) for line in result.text.splitlines()]
        assert len(rows) == 40
        first = next(r for r in rows if r["patent_id"] == "CN000000A")
        assert first["matches"] and len(first["matches"]) <= 2
        rejects = client.get(f"/jobs/{job['id']}/result", params={"part": "rejects"})
        assert json.loads(rejects.text.splitlines()[0])["line"] == 8

        roadmap = client.get("/roadmap", params={"job": job["id"]}).json()
        assert sum(c["patents"] for c in roadmap["challenges"]) == sum(
            len(r["matches"]) for r in rows
        )
