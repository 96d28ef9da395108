"""Shared loaders for the bulk-matching scripts: CSL abstracts → disciplines as a labelled proxy.

Reads ../shared/data (never copied into the repository). The 67 disciplines become pseudo
challenges written like catalogue challenges ("门类：学科", e.g. "工学：计算机科学与技术").
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from corpus.models import Challenge

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CSL_BENCHMARK = DATA / "csl" / "csl_benchmark.jsonl"
CSL_FEWCLUE = DATA / "csl" / "fewclue_csldcp.jsonl"
BDCI_PATENTS = DATA / "bdci2022_patents" / "patents.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise SystemExit(f"{path} is absent: these scripts need ../shared/data (see its README)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def discipline_challenges() -> list[Challenge]:
    """One pseudo challenge per CSL discipline, with its 门类 as the area."""
    category = {row["discipline"]: row["category"] for row in read_jsonl(CSL_BENCHMARK)}
    return [
        Challenge(id=f"CSL-{i:02d}", area=category[name], text=name)
        for i, name in enumerate(sorted(category))
    ]


def fit_rows(n: int, seed: int = 0) -> list[dict]:
    """`n` FewCLUE CSL abstracts, none of which appear in the CSL benchmark (the test side)."""
    held_out = {row["abstract"] for row in read_jsonl(CSL_BENCHMARK)}
    rows = [row for row in read_jsonl(CSL_FEWCLUE) if row["abstract"] not in held_out]
    return random.Random(seed).sample(rows, n)


def test_rows() -> list[dict]:
    """The 2,000 CSL benchmark abstracts (never used for fitting)."""
    return read_jsonl(CSL_BENCHMARK)
