"""Reading bring-your-own files (issue 26): patent exports by format, challenge lists by format.

    .venv/bin/python benchmarks/bench_documents.py [--rounds 3] [--copies 5]

1. Patents: the 4,097 real BDCI patents, `--copies` times over (ids and texts made unique), as
   JSONL, CSV and an XLSX export with Chinese patent-database headers. Each format is read
   whole through `matcher.patents.reader.iter_patent_rows` (what `patents match` and the bulk
   API stream) in a fresh process: rows per second (median of the rounds) and the process's
   peak resident memory (VmHWM), against JSONL. XLSX is read in read-only mode: rows stream.
   openpyxl writes its text inline; a workbook saved by Excel keeps text in a shared-strings
   table, which openpyxl reads whole, so there memory grows with the text (not measured here).
2. Challenge lists: the 95 real challenges of challenge_org as an XLSX table, a DOCX table and
   numbered list, a typeset PDF ruled table and numbered list (tests/files.py; the PDFs run over
   several pages), read by `read_challenge_items`: seconds per file (median), items read, and
   how many texts came back exactly as written.

Prints Markdown for BENCHMARKS.md. Needs ../shared/data; writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service.settings import Settings

DATA = Settings().data_dir
# VmHWM, not ru_maxrss: that one starts from the parent's size at fork.
READ_PATENTS = """
import re, sys, time
from matcher.patents.reader import iter_patent_rows
started = time.perf_counter()
rows = sum(1 for row in iter_patent_rows(sys.argv[1]) if row.patent is not None)
seconds = time.perf_counter() - started
status = open("/proc/self/status").read()
print(rows, seconds, int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024)
"""


def patent_files(folder: Path, copies: int) -> dict[str, Path]:
    from openpyxl import Workbook

    lines = (DATA / "bdci2022_patents" / "patents.jsonl").read_text("utf-8").splitlines()
    rows = []
    for copy in range(copies):
        for n, line in enumerate(lines):
            p = json.loads(line)
            tag = f"（{copy}）" if copy else ""  # unique texts: no sharing between copies
            rows.append({"id": f"CN{copy}{n:07d}A", "title": p["title"] + tag,
                         "abstract": p["abstract"] + tag, "applicants": p["assignee"],
                         "date": f"{2015 + n % 8}-0{1 + n % 9}-1{n % 10}"})  # fmt: skip
    paths = {fmt: folder / f"patents.{fmt}" for fmt in ("jsonl", "csv", "xlsx")}
    with paths["jsonl"].open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row | {"applicants": [row["applicants"]]}, ensure_ascii=False))
            handle.write("\n")
    with paths["csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "abstract", "applicants", "date"])
        writer.writerows([r["id"], r["title"], r["abstract"], r["applicants"], r["date"]]
                         for r in rows)  # fmt: skip
    book = Workbook(write_only=True)
    sheet = book.create_sheet("检索结果")
    sheet.append(["公开（公告）号", "标题", "摘要", "申请（专利权）人", "申请日"])
    for r in rows:
        sheet.append([r["id"], r["title"], r["abstract"], r["applicants"], r["date"]])
    book.save(paths["xlsx"])
    return paths


def read_in_fresh_process(path: Path) -> tuple[int, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", READ_PATENTS, str(path)], capture_output=True, text=True, check=True
    )
    rows, seconds, peak_mb = out.stdout.split()
    return int(rows), float(seconds), float(peak_mb)


def challenge_lists(folder: Path) -> dict[str, Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.files import (
        challenge_docx_list,
        challenge_docx_table,
        challenge_pdf_list,
        challenge_pdf_table,
        challenge_xlsx,
        real_challenges,
    )

    sources = real_challenges(DATA, count=95)
    return {
        "xlsx table": challenge_xlsx(folder / "list.xlsx", sources),
        "docx table": challenge_docx_table(folder / "table.docx", sources),
        "docx numbered list": challenge_docx_list(folder / "list.docx", sources, "（一）"),
        "pdf ruled table": challenge_pdf_table(folder / "table.pdf", sources),
        "pdf numbered list": challenge_pdf_list(folder / "list.pdf", sources, "1."),
    }, [s.text for s in sources]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    from corpus.documents.challenges import read_challenge_items

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = patent_files(folder, args.copies)
        print("| patents file | size | rows | rows/s (median) | vs JSONL | peak RSS |")
        print("|---|---|---|---|---|---|")
        base = None
        for fmt, path in paths.items():
            runs = [read_in_fresh_process(path) for _ in range(args.rounds)]
            rows = runs[0][0]
            rate = statistics.median(rows / seconds for _, seconds, _ in runs)
            peak = statistics.median(mb for _, _, mb in runs)
            base = base or rate
            size = path.stat().st_size / 2**20
            print(f"| {fmt} | {size:.0f} MB | {rows:,} | {rate:,.0f} | {rate / base:.2f}× "
                  f"| {peak:.0f} MB |")  # fmt: skip
        lists, texts = challenge_lists(folder)
        print()
        print(
            "| challenge list (95 real challenges) | seconds (median) | items | texts as written |"
        )
        print("|---|---|---|---|")
        for name, path in lists.items():
            seconds = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                items = read_challenge_items(path).items
                seconds.append(time.perf_counter() - started)
            same = sum(i.text == t for i, t in zip(items, texts, strict=False))
            print(f"| {name} | {statistics.median(seconds):.2f} | {len(items)} | {same}/95 |")


if __name__ == "__main__":
    main()
