"""Bulk matching: streaming equals batch, rejects are reported, resume after a real SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook

from corpus.errors import JiebangError
from embed.chunk import sentences
from matcher.patents.bulk import BulkMatcher, EvidenceMode
from matcher.patents.reader import iter_patent_rows
from service.export.bulk import CSV_COLUMNS, csv_records
from service.usecases.bulk import checkpoint_path, rejects_path, run_bulk

from .conftest import BAD_LINES, PATENTS, write_patents

JIEBANG = [str(Path(sys.executable).parent / "jiebang")]


def batch_results(matcher: BulkMatcher, source: Path):
    rows = [(row.line, row.patent) for row in iter_patent_rows(source) if row.patent]
    return matcher.match(rows)


@pytest.mark.parametrize("overlap", [True, False])
def test_streaming_jsonl_equals_batch(bulk_matcher, patents_file, tmp_path, overlap):
    """Windows encoded one ahead on a worker thread, or in turn: the rows of one batch call."""
    out = tmp_path / "out.jsonl"
    summary = run_bulk(patents_file, out, bulk_matcher, window=3, overlap=overlap)
    expected = [r.model_dump_json() for r in batch_results(bulk_matcher, patents_file)]
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert summary.complete and summary.patents == len(PATENTS) and summary.rejected == 0
    assert summary.match_rows == 3 * len(PATENTS)  # min_confidence 0: always the top 3


def test_streaming_csv_equals_batch(bulk_matcher, patents_file, tmp_path):
    out = tmp_path / "out.csv"
    run_bulk(patents_file, out, bulk_matcher, fmt="csv", window=5)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    expected = [
        [str(cell) for cell in record]
        for result in batch_results(bulk_matcher, patents_file)
        for record in csv_records(result)
    ]
    assert written[0] == list(CSV_COLUMNS)
    assert written[1:] == expected


def test_xlsx_output_has_every_match(bulk_matcher, patents_file, tmp_path):
    out = tmp_path / "out.xlsx"
    summary = run_bulk(patents_file, out, bulk_matcher, fmt="xlsx", window=4)
    sheet = load_workbook(out, read_only=True)["matches"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == CSV_COLUMNS
    assert len(rows) - 1 == summary.match_rows
    with pytest.raises(JiebangError, match="not supported for xlsx"):
        run_bulk(patents_file, out, bulk_matcher, fmt="xlsx", resume=True)


def test_matches_are_topical_with_evidence_from_the_patent(bulk_matcher, patents_file, tmp_path):
    results = {r.patent_id: r for r in batch_results(bulk_matcher, patents_file)}
    best = {pid: r.matches[0] for pid, r in results.items()}
    # A photoresist resin is 集成电路's 光刻胶 or 先进高分子材料's resin: either area is right.
    assert any("光刻胶" in m.challenge for m in results["CN-T-001"].matches)
    assert best["CN-T-001"].area_no in (5, 10)
    assert "高温合金" in best["CN-T-002"].challenge  # superalloy smelting
    assert "电主轴" in best["CN-T-003"].challenge  # spindle cooling
    assert best["CN-T-005"].area.startswith("资源循环利用")  # battery recycling
    assert best["CN-T-007"].area == "分析仪器"  # mass spectrometer
    text = {p["id"]: f"{p['title']}。{p['abstract']}" for p in PATENTS}
    for pid, result in results.items():
        assert all(m.sentence in sentences(text[pid]) for m in result.matches)
        assert [m.rank for m in result.matches] == [1, 2, 3]
        assert len({m.area_no for m in result.matches}) == 3  # one match per area
        confidences = [m.confidence for m in result.matches]
        assert confidences == sorted(confidences, reverse=True)


def test_dense_evidence_picks_a_sentence_of_the_patent(embedder, bulk_matcher, patents_file):
    dense = BulkMatcher(
        embedder,
        bulk_matcher.challenges,
        calibration=bulk_matcher.calibration,
        top=2,
        min_confidence=0.0,
        evidence=EvidenceMode.dense,
    )
    text = {p["id"]: f"{p['title']}。{p['abstract']}" for p in PATENTS}
    for result in batch_results(dense, patents_file):
        assert all(m.sentence in sentences(text[result.patent_id]) for m in result.matches)


def test_default_threshold_is_the_fitted_one_and_decides_by_area(embedder, bulk_matcher):
    from corpus.models import Patent

    default = BulkMatcher(embedder, bulk_matcher.challenges, calibration=bulk_matcher.calibration)
    assert default.min_confidence == bulk_matcher.calibration.area.threshold and default.top == 1
    machine_tool = Patent(
        id="P1",
        title="一种五轴数控机床热误差补偿方法",
        abstract="本发明通过温度传感器实时采集主轴与丝杠温度，建立热误差预测模型，对数控系统进行"
        "实时补偿，提高加工精度。",
    )
    packaging = Patent(
        id="P2", title="一种月饼包装盒", abstract="盒体由纸板折叠而成，盖上设有提手，便于携带。"
    )
    found, nothing = default.match([(1, machine_tool), (2, packaging)])
    assert [m.area_no for m in found.matches] == [6]  # 数控机床
    assert found.matches[0].confidence >= default.min_confidence
    assert nothing.matches == []


def test_calibrated_threshold_filters_matches(embedder, bulk_matcher, patents_file):
    strict = BulkMatcher(
        embedder,
        bulk_matcher.challenges,
        calibration=bulk_matcher.calibration,
        top=3,
        min_confidence=0.99,
    )
    loose = batch_results(bulk_matcher, patents_file)
    for kept, every in zip(batch_results(strict, patents_file), loose, strict=True):
        assert all(m.confidence >= 0.99 for m in kept.matches)
        dropped = [m for m in every.matches if m.confidence < 0.99]
        assert len(kept.matches) == len(every.matches) - len(dropped)


def test_rejects_are_reported_and_never_silent(bulk_matcher, patents_with_rejects, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = run_bulk(patents_with_rejects, out, bulk_matcher, window=4)
    assert (summary.rows_done, summary.patents, summary.rejected) == (12, 8, 4)
    rejects = [json.loads(line) for line in rejects_path(out).read_text().splitlines()]
    reasons = {r["line"]: r["reason"] for r in rejects}
    assert list(reasons) == [2, 4, 6, 8]
    assert reasons[2].startswith("broken JSON")
    assert reasons[4].startswith("invalid UTF-8")
    assert reasons[6].startswith("no text")
    assert reasons[8] == "missing title"
    ids = [json.loads(line)["patent_id"] for line in out.read_text().splitlines()]
    assert ids == [p["id"] for p in PATENTS]


def test_csv_input_rejects_wrong_field_count_and_encoding(tmp_path):
    source = tmp_path / "p.csv"
    source.write_bytes(
        "\ufeff标题,摘要,申请人\n".encode()
        + "一种光刻胶,本发明公开了一种光刻胶。,甲公司；乙大学\n".encode()
        + "多一列,摘要,申请人,多余\n".encode()
        + b"\xd2\xbb\xd6\xd6,\xd5\xaa\xd2\xaa,GBK\n"  # 一种,摘要 in GBK
        + '"跨行\n标题",摘要,丙研究所\n'.encode()
    )
    rows = list(iter_patent_rows(source))
    assert [row.line for row in rows] == [2, 3, 4, 5]
    assert rows[0].patent.applicants == ["甲公司", "乙大学"] and rows[0].patent.id == "p:2"
    assert rows[1].reason == "expected 3 fields, got 4"
    assert rows[2].reason == "invalid UTF-8"
    assert rows[3].patent.title == "跨行\n标题"


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*JIEBANG, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_resume_after_sigkill_gives_exactly_the_uninterrupted_rows(cli_env, tmp_path):
    # Unique text, so nothing is in the embedding cache and the first run is slow enough to kill.
    nonce = uuid.uuid4().hex[:8]
    patents = [
        {**p, "id": f"{p['id']}-{i}", "abstract": f"{p['abstract']}实施例{i}（{nonce}）。"}
        for i in range(5)
        for p in PATENTS
    ]
    source = write_patents(tmp_path / "many.jsonl", patents, BAD_LINES)
    env = cli_env
    out = tmp_path / "killed.jsonl"
    args = ["patents", "match", str(source), "--top", "2", "--window", "2"]
    process = _cli([*args, "--out", str(out)], env, tmp_path)
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint_path(out).exists():
            done = json.loads(checkpoint_path(out).read_text())["rows_done"]
            if done >= 6:
                break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    checkpoint = json.loads(checkpoint_path(out).read_text())
    assert not checkpoint["complete"] and 6 <= checkpoint["rows_done"] < len(patents) + 4

    resumed = _cli([*args, "--out", str(out), "--resume"], env, tmp_path)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()
    assert f"resumed after {checkpoint['rows_done']} rows" in resumed.stdout.read().decode()

    reference = tmp_path / "reference.jsonl"
    whole = _cli([*args, "--out", str(reference)], env, tmp_path)
    assert whole.wait(timeout=600) == 0, whole.stderr.read().decode()
    assert out.read_bytes() == reference.read_bytes()
    assert rejects_path(out).read_text() == rejects_path(reference).read_text()
    assert len(out.read_text().splitlines()) == len(patents)

    changed = _cli(
        [*args[:-2], "--window", "2", "--top", "3", "--out", str(out), "--resume"], env, tmp_path
    )
    assert changed.wait(timeout=600) == 1
    message = changed.stderr.read().decode()
    assert "cannot resume: top changed" in message and "Traceback" not in message


def test_a_challenge_outside_the_catalogue_areas_is_skipped_and_named(embedder, bulk_matcher):
    from corpus.models import Challenge

    own = Challenge(id="U-1", area="氢能装备", text="高压储氢瓶缠绕工艺", source="posted")
    matcher = BulkMatcher(
        embedder, [*bulk_matcher.challenges, own], calibration=bulk_matcher.calibration
    )
    assert matcher.skipped == ["U-1"] and "U-1" not in {c.id for c in matcher.challenges}
    with pytest.raises(JiebangError, match="none of the challenges"):
        BulkMatcher(embedder, [own], calibration=bulk_matcher.calibration)
