"""Stream a patent file through bulk matching: windows, output, rejects, checkpoint, resume.

Rows are read in windows (`window` rows); all passages of a window go to the embedder in one
call. While a window is retrieved, decided and written, the next one is already being encoded
on a worker thread (the encoders release the GIL), so encoding never waits for the rest, nor
the rest for encoding (BENCHMARKS.md, "ONNX Runtime backends"). Memory is flat: two windows
are held at a time, and output is appended as it is produced.

Checkpoint (JSONL and CSV): after each window the output and rejects files are flushed and
fsynced, then `<out>.checkpoint.json` is replaced atomically (`corpus.files.atomic_write`) with the
number of input rows fully written and both files' byte sizes. `resume=True` truncates both files
to those sizes (dropping a partially written tail), skips that many input rows and appends the
rest, so a killed run resumed yields exactly the rows of an uninterrupted one. XLSX cannot be
appended to (a workbook is one zip written at the end), so XLSX runs are not checkpointed and
`resume` is refused for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.errors import JiebangError
from corpus.faults import point
from corpus.files import atomic_write
from corpus.models import Patent
from matcher.areas import EncodedTexts
from matcher.patents.bulk import BulkMatcher
from matcher.patents.reader import PatentRow, iter_patent_rows
from service.export.bulk import OUTPUT_FORMATS, open_truncated, open_writer, sync_handle


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
    started_over: bool = False
    stopped: bool = False
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
    should_stop: Callable[[], bool] | None = None,
    overlap: bool = True,
) -> BulkSummary:
    """Match every row of `source` and write `output` (and its rejects file), streaming.

    `limit` stops after that many input rows (the checkpoint stays open, so `resume` continues).
    `on_progress(n)` is called with the number of input rows finished by each window, and once
    with the rows already done when resuming. `should_stop()` is asked after each window: when
    it says so the run stops there, checkpointed, and `resume` continues it (a service's
    shutdown). `resume` with nothing to resume starts from the beginning
    (`BulkSummary.started_over`). `overlap=False` encodes each window only when its turn comes
    (one thread; the benchmark's "before").
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
    fingerprint = {"input": str(source.resolve()), "format": fmt, **matcher.fingerprint()}
    stat = source.stat()
    fingerprint |= {"input_bytes": stat.st_size, "input_mtime_ns": stat.st_mtime_ns}
    checkpoint, started_over = _open_checkpoint(output, fingerprint, resume)
    counts = checkpoint.counts  # the _COUNTS, as saved
    summary = BulkSummary(
        started_over=started_over,
        output=str(output),
        rejects=str(rejects_path(output)),
        resumed_from=checkpoint.rows_done,
        patents=counts.get("patents", 0),
        patents_matched=counts.get("patents_matched", 0),
        match_rows=counts.get("match_rows", 0),
        rejected=counts.get("rejected", 0),
    )
    summary.rows_done = checkpoint.rows_done
    if on_progress and checkpoint.rows_done:
        on_progress(checkpoint.rows_done)
    if checkpoint.complete:
        summary.complete = True
        return summary

    writer = open_writer(fmt, output, checkpoint.output_bytes)
    rejects = open_truncated(rejects_path(output), checkpoint.rejects_bytes)
    if writer.checkpointable and not checkpoint.rows_done:
        # Before the first byte: a crash in the first window still leaves a checkpoint.
        _save_checkpoint(checkpoint_path(output), checkpoint)
    ahead = ThreadPoolExecutor(1, thread_name_prefix="bulk-encode") if overlap else None
    try:
        remaining = None if limit is None else max(limit - checkpoint.rows_done, 0)
        windows = _windows(rows, skip=checkpoint.rows_done, size=window, limit=remaining)
        for batch, patents, encoded in _encoded_ahead(windows, matcher, ahead):
            results = matcher.match(patents, encoded.result() if encoded else None)
            writer.write(results)
            point("bulk-window")
            for row in batch:
                if row.patent is None:
                    record = {"line": row.line, "file": source.name, "reason": row.reason}
                    rejects.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
            summary.rows_done += len(batch)
            summary.patents += len(results)
            summary.patents_matched += sum(1 for r in results if r.matches)
            summary.match_rows += sum(len(r.matches) for r in results)
            summary.rejected += len(batch) - len(results)
            if writer.checkpointable:
                checkpoint.output_bytes = writer.sync()
                checkpoint.rejects_bytes = sync_handle(rejects)
                checkpoint.rows_done = summary.rows_done
                checkpoint.counts = {k: getattr(summary, k) for k in _COUNTS}
                _save_checkpoint(checkpoint_path(output), checkpoint)
            if on_progress:
                on_progress(len(batch))
            if should_stop is not None and should_stop() and writer.checkpointable:
                summary.stopped = True
                break
        summary.complete = not summary.stopped and (limit is None or summary.rows_done < limit)
        writer.close()
        sync_handle(rejects)
        if writer.checkpointable:
            checkpoint.complete = summary.complete
            _save_checkpoint(checkpoint_path(output), checkpoint)
    finally:
        if ahead is not None:
            ahead.shutdown(cancel_futures=True)
        rejects.close()
    summary.seconds = time.monotonic() - started
    return summary


_COUNTS = ("patents", "patents_matched", "match_rows", "rejected")


def _encoded_ahead(
    windows: Iterator[list[PatentRow]], matcher: BulkMatcher, ahead: ThreadPoolExecutor | None
) -> Iterator[tuple[list[PatentRow], list[tuple[int, Patent]], Future[EncodedTexts] | None]]:
    """Each window with its patents and, with `ahead`, their encoding started one window early:
    the next window is read and sent to encoding before this one is handed out."""
    upcoming = None
    for batch in windows:
        patents = [(row.line, row.patent) for row in batch if row.patent is not None]
        started = ahead.submit(matcher.encode, patents) if ahead is not None else None
        if upcoming is not None:
            yield upcoming
        upcoming = (batch, patents, started)
    if upcoming is not None:
        yield upcoming


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


def _open_checkpoint(
    output: Path, fingerprint: dict[str, object], resume: bool
) -> tuple[_Checkpoint, bool]:
    """The checkpoint to continue from, and whether a resume found nothing and starts over."""
    path = checkpoint_path(output)
    if not resume:
        path.unlink(missing_ok=True)
        return _Checkpoint(fingerprint), False
    if not path.exists():
        return _Checkpoint(fingerprint), True
    try:
        saved = _Checkpoint(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise JiebangError(f"cannot resume: unreadable checkpoint {path.name}: {error}") from None
    changed = sorted(
        k
        for k in fingerprint.keys() | saved.fingerprint.keys()
        if fingerprint.get(k) != saved.fingerprint.get(k)
    )
    if changed:
        raise JiebangError(
            f"cannot resume: {', '.join(changed)} changed since the checkpoint was written; "
            "start over without resuming"
        )
    for name, size in ((output, saved.output_bytes), (rejects_path(output), saved.rejects_bytes)):
        if (name.stat().st_size if name.exists() else 0) < size:
            raise JiebangError(f"cannot resume: {name.name} is shorter than its checkpoint says")
    return saved, False


def _save_checkpoint(path: Path, checkpoint: _Checkpoint) -> None:
    """Replace the checkpoint atomically."""
    atomic_write(path, json.dumps(asdict(checkpoint), ensure_ascii=False))
