"""Bulk patent matching: stream patents in, write the appendix areas each one addresses out.

Retrieval is the engine's: the catalogue's challenges sit in a vector index and a lexical index
(`ChallengeIndex`), each patent is a query through `matcher.retrieval`, and the two channels are
fused with the calibration's weights for the patent's length, as `MatchEngine.match` fuses them.
The decision is per area (`matcher.calibration.AreaModel`): P(the patent addresses the area) from
its best fused score over the area's challenges, the raw channel scores, and the area's
supervised direction; an area is reported when P reaches `min_confidence` (default: the
threshold fitted by cross-validation on `patent-area`), at most `top` areas per patent. Each
reported area names its best-matching challenge and evidence sentence.

Throughput: rows are read in windows; all passages of a window go to the embedder in one call
(sorted by length and batched there). Patents are encoded as passages, like evidence, so a
patent already indexed costs a cache lookup.

The best-matching sentence of each reported match is chosen by `EvidenceMode`:
- `lexical` (default): the sentence sharing the most character bigrams with the challenge text
  (Dice coefficient) — no extra encoding;
- `dense`: every sentence is embedded too and the one with the highest cosine wins — about twice
  the encoding work (see BENCHMARKS.md).

Memory is flat: one window is held at a time, and output is appended as it is produced.

Checkpoint (JSONL and CSV): after each window the output and rejects files are flushed and
fsynced, then `<out>.checkpoint.json` is replaced atomically with the number of input rows fully
written and both files' byte sizes. `resume=True` truncates both files to those sizes (dropping a
partially written tail), skips that many input rows and appends the rest, so a killed run resumed
yields exactly the rows of an uninterrupted one. XLSX cannot be appended to (a workbook is one zip
written at the end), so XLSX runs are not checkpointed and `resume` is refused for them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from corpus.errors import JiebangError
from corpus.models import Challenge, Patent
from embed.chunk import sentences
from embed.embedder import Embedder
from matcher.areas import ChallengeIndex, Retrieved
from matcher.calibration import Calibration
from matcher.patents.reader import PatentRow, iter_patent_rows
from matcher.spreadsheet import safe_row

OUTPUT_FORMATS = ("jsonl", "csv", "xlsx")
CSV_COLUMNS = (
    "line",
    "patent_id",
    "title",
    "applicants",
    "rank",
    "challenge_id",
    "area_no",
    "area",
    "challenge",
    "cosine",
    "confidence",
    "sentence",
)


class EvidenceMode(StrEnum):
    """How the best-matching sentence of a match is chosen."""

    lexical = "lexical"
    dense = "dense"


class ChallengeMatch(BaseModel):
    """An area a patent addresses: its best challenge there, and the evidence sentence.

    `confidence` is P(the patent addresses the area); `cosine` its raw cosine to the challenge.
    """

    rank: int
    challenge_id: str
    area_no: int | None
    area: str
    challenge: str
    cosine: float
    confidence: float
    sentence: str


class PatentMatches(BaseModel):
    """A patent and the areas it addresses (best first; empty when none passes)."""

    line: int
    patent_id: str
    title: str
    applicants: list[str]
    matches: list[ChallengeMatch]


class BulkMatcher:
    """Decides, batch by batch, which areas patents address; holds only the challenge index."""

    def __init__(
        self,
        embedder: Embedder,
        challenges: Sequence[Challenge],
        *,
        calibration: Calibration,
        top: int = 1,
        min_confidence: float | None = None,
        evidence: EvidenceMode = EvidenceMode.lexical,
    ) -> None:
        if not challenges:
            raise JiebangError("no challenges to match against")
        if top < 1:
            raise JiebangError(f"top must be at least 1, got {top}")
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise JiebangError(f"min_confidence must be in [0, 1], got {min_confidence}")
        calibration.require_model(embedder.model_id)
        if calibration.area is None:
            raise JiebangError("the calibration has no area model: bulk matching needs one")
        self.area_model = calibration.area
        self.embedder = embedder
        self.calibration = calibration
        # Decisions are per catalogue area: a challenge outside them (a posted one with an area
        # of its own) cannot be decided, and is left out and named in `skipped`.
        self.challenges = [c for c in challenges if c.area_no in self.area_model.areas]
        self.skipped = [c.id for c in challenges if c.area_no not in self.area_model.areas]
        if not self.challenges:
            raise JiebangError("none of the challenges is in a catalogue area")
        self.top = top
        self.min_confidence = (
            self.area_model.threshold if min_confidence is None else min_confidence
        )
        self.evidence = EvidenceMode(evidence)
        self.index = ChallengeIndex(
            embedder, self.challenges, calibration.ranking, self.area_model.areas
        )
        self._challenge_bigrams = [_bigrams(c.text) for c in self.challenges]

    def settings(self) -> dict[str, object]:
        """What decides the output; a checkpoint is only resumed under the same settings."""
        digest = hashlib.sha1(self.calibration.to_json().encode()).hexdigest()[:12]
        return {
            "model": self.embedder.model_id,
            "calibration": digest,
            "challenges": [c.id for c in self.challenges],
            "top": self.top,
            "min_confidence": self.min_confidence,
            "evidence": str(self.evidence),
        }

    def match(self, rows: Sequence[tuple[int, Patent]]) -> list[PatentMatches]:
        """Match (line, patent) pairs; encodes all their passages in one call."""
        if not rows:
            return []
        texts = [patent.text for _, patent in rows]
        retrieved = self.index.retrieve(texts)
        probability = self.probability(retrieved)
        picks = [self._pick(p) for p in probability]
        chosen = [
            [int(retrieved.best_challenge[i, a]) for a in areas] for i, areas in enumerate(picks)
        ]
        evidence = self._sentences(texts, chosen)
        results = []
        for i, ((line, patent), areas, js, said) in enumerate(
            zip(rows, picks, chosen, evidence, strict=True)
        ):
            matches = [
                ChallengeMatch(
                    rank=rank,
                    challenge_id=self.challenges[j].id,
                    area_no=self.challenges[j].area_no,
                    area=self.challenges[j].area,
                    challenge=self.challenges[j].text,
                    cosine=round(float(retrieved.cosine[i, j]), 4),
                    confidence=round(float(probability[i, a]), 4),
                    sentence=sentence,
                )
                for rank, (a, j, sentence) in enumerate(zip(areas, js, said, strict=True), start=1)
            ]
            results.append(
                PatentMatches(
                    line=line,
                    patent_id=patent.id,
                    title=patent.title,
                    applicants=patent.applicants,
                    matches=matches,
                )
            )
        return results

    def probability(self, retrieved: Retrieved) -> np.ndarray:
        """(texts × areas) P(the text addresses the area), from the area model."""
        supervised = self.area_model.supervised(retrieved.vectors)
        return self.area_model.probability(
            np.concatenate([retrieved.features, supervised[:, :, None]], axis=2)
        )

    def _pick(self, probability: np.ndarray) -> list[int]:
        """The most probable `top` areas, kept where P reaches the threshold."""
        order = np.argsort(-probability, kind="stable")[: self.top]
        return [int(a) for a in order if probability[a] >= self.min_confidence]

    def _sentences(self, texts: list[str], picks: list[list[int]]) -> list[list[str]]:
        split = [sentences(text) or [text] for text in texts]
        if self.evidence is EvidenceMode.dense:
            return self._dense_sentences(split, picks)
        return [
            [
                max(parts, key=lambda s, j=j: _dice(_bigrams(s), self._challenge_bigrams[j]))
                for j in js
            ]
            for parts, js in zip(split, picks, strict=True)
        ]

    def _dense_sentences(self, split: list[list[str]], picks: list[list[int]]) -> list[list[str]]:
        wanted = [parts if js else [] for parts, js in zip(split, picks, strict=True)]
        flat = [sentence for parts in wanted for sentence in parts]
        if not flat:
            return [[] for _ in split]
        challenge_vectors = self.embedder.encode_queries([c.query_text for c in self.challenges])
        scores = self.embedder.encode_passages(flat, progress=False) @ challenge_vectors.T
        chosen: list[list[str]] = []
        start = 0
        for parts, js in zip(wanted, picks, strict=True):
            block = scores[start : start + len(parts)]
            chosen.append([parts[int(np.argmax(block[:, j]))] for j in js])
            start += len(parts)
        return chosen


def _bigrams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


# --- streaming run, output and checkpoint -------------------------------------------------


@dataclass
class BulkSummary:
    """Counts of a bulk run (cumulative over resumed runs)."""

    output: str
    rejects: str
    rows_done: int = 0
    patents: int = 0
    patents_matched: int = 0
    match_rows: int = 0
    rejected: int = 0
    resumed_from: int = 0
    complete: bool = False
    seconds: float = 0.0


@dataclass
class _Checkpoint:
    fingerprint: dict[str, object]
    rows_done: int = 0
    output_bytes: int = 0
    rejects_bytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = False


def checkpoint_path(output: Path) -> Path:
    """Where the checkpoint of `output` lives."""
    return output.with_name(output.name + ".checkpoint.json")


def rejects_path(output: Path) -> Path:
    """Where the rejected rows of `output` are written."""
    return output.with_name(output.stem + ".rejects.jsonl")


def run_bulk(
    source: str | Path,
    output: str | Path,
    matcher: BulkMatcher,
    *,
    fmt: str = "jsonl",
    resume: bool = False,
    window: int = 256,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BulkSummary:
    """Match every row of `source` and write `output` (and its rejects file), streaming.

    `limit` stops after that many input rows (the checkpoint stays open, so `resume` continues).
    `on_progress(n)` is called with the number of input rows finished by each window, and once
    with the rows already done when resuming.
    """
    source, output = Path(source), Path(output)
    if fmt not in OUTPUT_FORMATS:
        raise JiebangError(f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    if fmt == "xlsx" and resume:
        raise JiebangError(
            "--resume is not supported for xlsx (a workbook cannot be appended to); "
            "write --format jsonl or csv for long runs"
        )
    rows = iter_patent_rows(source)  # raises now for a missing file or unknown type
    started = time.monotonic()
    fingerprint = {"input": str(source.resolve()), "format": fmt, **matcher.settings()}
    stat = source.stat()
    fingerprint |= {"input_bytes": stat.st_size, "input_mtime_ns": stat.st_mtime_ns}
    checkpoint = _open_checkpoint(output, fingerprint, resume)
    summary = BulkSummary(
        output=str(output),
        rejects=str(rejects_path(output)),
        resumed_from=checkpoint.rows_done,
        **{k: v for k, v in checkpoint.counts.items() if k in _COUNTS},
    )
    summary.rows_done = checkpoint.rows_done
    if on_progress and checkpoint.rows_done:
        on_progress(checkpoint.rows_done)
    if checkpoint.complete:
        summary.complete = True
        return summary

    writer = _open_writer(fmt, output, checkpoint.output_bytes)
    rejects = _open_truncated(rejects_path(output), checkpoint.rejects_bytes)
    try:
        remaining = None if limit is None else max(limit - checkpoint.rows_done, 0)
        for batch in _windows(rows, skip=checkpoint.rows_done, size=window, limit=remaining):
            patents = [(row.line, row.patent) for row in batch if row.patent is not None]
            results = matcher.match(patents)
            writer.write(results)
            for row in batch:
                if row.patent is None:
                    record = {"line": row.line, "file": str(source), "reason": row.reason}
                    rejects.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
            summary.rows_done += len(batch)
            summary.patents += len(results)
            summary.patents_matched += sum(1 for r in results if r.matches)
            summary.match_rows += sum(len(r.matches) for r in results)
            summary.rejected += len(batch) - len(results)
            if writer.checkpointable:
                checkpoint.output_bytes = writer.sync()
                checkpoint.rejects_bytes = _sync(rejects)
                checkpoint.rows_done = summary.rows_done
                checkpoint.counts = {k: getattr(summary, k) for k in _COUNTS}
                _save_checkpoint(checkpoint_path(output), checkpoint)
            if on_progress:
                on_progress(len(batch))
        summary.complete = limit is None or summary.rows_done < limit
        writer.close()
        _sync(rejects)
        if writer.checkpointable:
            checkpoint.complete = summary.complete
            _save_checkpoint(checkpoint_path(output), checkpoint)
    finally:
        rejects.close()
    summary.seconds = time.monotonic() - started
    return summary


_COUNTS = ("patents", "patents_matched", "match_rows", "rejected")


def _windows(
    rows: Iterator[PatentRow], *, skip: int, size: int, limit: int | None
) -> Iterator[list[PatentRow]]:
    taken = 0
    batch: list[PatentRow] = []
    for index, row in enumerate(rows):
        if index < skip:
            continue
        if limit is not None and taken >= limit:
            break
        batch.append(row)
        taken += 1
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _open_checkpoint(output: Path, fingerprint: dict[str, object], resume: bool) -> _Checkpoint:
    path = checkpoint_path(output)
    if not resume:
        path.unlink(missing_ok=True)
        return _Checkpoint(fingerprint)
    if not path.exists():
        if output.exists() and output.stat().st_size:
            raise JiebangError(
                f"cannot resume: {output} exists but has no checkpoint ({path.name}); "
                "rerun without --resume to start over"
            )
        return _Checkpoint(fingerprint)
    try:
        saved = _Checkpoint(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise JiebangError(f"cannot resume: unreadable checkpoint {path}: {error}") from None
    changed = sorted(
        k
        for k in fingerprint.keys() | saved.fingerprint.keys()
        if fingerprint.get(k) != saved.fingerprint.get(k)
    )
    if changed:
        raise JiebangError(
            f"cannot resume: {', '.join(changed)} changed since the checkpoint was written; "
            "rerun without --resume to start over"
        )
    for name, size in ((output, saved.output_bytes), (rejects_path(output), saved.rejects_bytes)):
        if (name.stat().st_size if name.exists() else 0) < size:
            raise JiebangError(f"cannot resume: {name} is shorter than its checkpoint says")
    return saved


def _save_checkpoint(path: Path, checkpoint: _Checkpoint) -> None:
    """Replace the checkpoint atomically: temporary file, fsync, rename, fsync the folder."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(asdict(checkpoint), handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _open_truncated(path: Path, size: int) -> io.BufferedWriter:
    """Open `path` for appending after cutting it to `size` bytes (0: a new, empty file)."""
    handle = path.open("r+b" if size and path.exists() else "wb")
    handle.truncate(size)
    handle.seek(size)
    return handle  # type: ignore[return-value]


def _sync(handle: io.BufferedWriter) -> int:
    handle.flush()
    os.fsync(handle.fileno())
    return handle.tell()


class _Writer(Protocol):
    checkpointable: bool

    def write(self, results: list[PatentMatches]) -> None: ...

    def sync(self) -> int: ...

    def close(self) -> None: ...


def _open_writer(fmt: str, output: Path, size: int) -> _Writer:
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        return _JsonlWriter(_open_truncated(output, size))
    if fmt == "csv":
        return _CsvWriter(_open_truncated(output, size), header=size == 0)
    return _XlsxWriter(output)


class _JsonlWriter:
    checkpointable = True

    def __init__(self, handle: io.BufferedWriter) -> None:
        self.handle = handle

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            self.handle.write((result.model_dump_json() + "\n").encode())

    def sync(self) -> int:
        return _sync(self.handle)

    def close(self) -> None:
        _sync(self.handle)
        self.handle.close()


def csv_records(result: PatentMatches) -> list[list[object]]:
    """The long-format rows of one patent: one per match, or one with empty match cells."""
    head = [result.line, result.patent_id, result.title, "；".join(result.applicants)]
    if not result.matches:
        return [head + [""] * (len(CSV_COLUMNS) - len(head))]
    return [
        [
            *head,
            m.rank,
            m.challenge_id,
            m.area_no,
            m.area,
            m.challenge,
            m.cosine,
            m.confidence,
            m.sentence,
        ]
        for m in result.matches
    ]


class _CsvWriter:
    checkpointable = True

    def __init__(self, handle: io.BufferedWriter, header: bool) -> None:
        self.handle = handle
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)
        if header:
            self.handle.write("\ufeff".encode())  # a BOM, so Excel opens the UTF-8 correctly
            self.csv.writerow(CSV_COLUMNS)

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            self.csv.writerows(csv_records(result))
        self.handle.write(self.buffer.getvalue().encode())
        self.buffer.seek(0)
        self.buffer.truncate()

    def sync(self) -> int:
        self.write([])
        return _sync(self.handle)

    def close(self) -> None:
        self.sync()
        self.handle.close()


class _XlsxWriter:
    checkpointable = False

    def __init__(self, output: Path) -> None:
        from openpyxl import Workbook

        self.output = output
        self.book = Workbook(write_only=True)  # rows stream to a temporary file, not memory
        self.sheet = self.book.create_sheet("matches")
        self.sheet.append(list(CSV_COLUMNS))

    def write(self, results: list[PatentMatches]) -> None:
        for result in results:
            for record in csv_records(result):
                self.sheet.append(safe_row(record))

    def sync(self) -> int:
        return 0

    def close(self) -> None:
        self.book.save(self.output)
