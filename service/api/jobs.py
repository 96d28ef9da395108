"""Background jobs: bulk patent matching of an uploaded file, one job at a time.

A job's row in the database holds its status and progress; its files live in
`<home>/jobs/<id>/`. The bulk matcher checkpoints, so jobs left unfinished by a stopped server are
resumed at the next start-up rather than restarted.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from corpus.errors import JiebangError
from matcher.patents.bulk import BulkMatcher
from matcher.patents.reader import count_rows, detect_format, iter_patent_rows
from service.api.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from service.api.state import ServiceState
from service.db import JobRow, JobStatus
from service.usecases.bulk import rejects_path, run_bulk

log = logging.getLogger("jiebang.jobs")

PATENT_MATCH = "patents.match"
CHUNK_BYTES = 1 << 20
PREFLIGHT_ROWS = 20


class JobRunner:
    """Runs jobs on one worker thread and records their progress in the database."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.root = state.settings.resolved_jobs_dir
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiebang-job")

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def create_patent_match(
        self, upload: BinaryIO, filename: str, params: dict[str, Any]
    ) -> JobRow:
        """Store the upload, check it has patent rows, queue the job; 4xx errors for bad files."""
        suffix = Path(filename or "").suffix.lower()
        try:
            detect_format(Path(f"upload{suffix}"))
        except JiebangError:
            raise UnsupportedMediaType(
                f"unsupported file type {suffix or '(none)'!r}: upload .jsonl or .csv patents"
            ) from None
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        source = folder / f"input{suffix}"
        try:
            self._store(upload, source)
            total = self._preflight(source)
        except JiebangError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        output = folder / f"result.{params['format']}"
        params = {**params, "challenges": [c.id for c in self.state.all_challenges()]}
        job = JobRow(
            id=job_id,
            kind=PATENT_MATCH,
            status=JobStatus.queued,
            progress=0,
            total=total,
            totals={},
            params=params,
            input_path=str(source),
            result_path=str(output),
        )
        self.state.db.add_job(job)
        self._pool.submit(self._run, job_id)
        return job

    def resume_unfinished(self) -> None:
        """Queue again the jobs a previous server left queued or running."""
        for job in self.state.db.unfinished_jobs():
            log.info("resuming job %s (%d of %s rows done)", job.id, job.progress, job.total)
            self._pool.submit(self._run, job.id)

    def _store(self, upload: BinaryIO, target: Path) -> None:
        limit = self.state.settings.max_upload_bytes
        written = 0
        with target.open("wb") as out:
            while chunk := upload.read(CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise PayloadTooLarge(f"upload larger than {limit} bytes")
                out.write(chunk)
        if not written:
            raise InvalidInput("the uploaded file is empty")

    def _preflight(self, source: Path) -> int:
        """The row count; 422 when the first rows hold no readable patent at all."""
        reasons: list[str] = []
        for index, row in enumerate(iter_patent_rows(source)):
            if row.patent is not None:
                return count_rows(source)
            reasons.append(f"line {row.line}: {row.reason}")
            if index + 1 >= PREFLIGHT_ROWS:
                break
        if not reasons:
            raise InvalidInput("the uploaded file has no patent rows")
        raise InvalidInput(
            f"the uploaded file has no readable patent in its first {len(reasons)} rows",
            detail=reasons[:5],
        )

    def _run(self, job_id: str) -> None:
        db = self.state.db
        job = db.get_job(job_id)
        if job is None or job.status in (JobStatus.done, JobStatus.failed):
            return
        db.update_job(job_id, status=JobStatus.running, progress=0, error=None)
        done = 0

        def progressed(rows: int) -> None:
            nonlocal done
            done += rows
            db.update_job(job_id, progress=done)

        try:
            matcher = BulkMatcher(
                self.state.embedder,
                [self.state.challenge(cid) for cid in job.params["challenges"]],
                calibration=self.state.engine.calibration,
                top=job.params["top"],
                min_confidence=job.params["min_confidence"],
            )
            summary = run_bulk(
                job.input_path,
                job.result_path,
                matcher,
                fmt=job.params["format"],
                resume=True,
                window=self.state.settings.job_window_rows,
                on_progress=progressed,
            )
        except JiebangError as error:
            db.update_job(job_id, status=JobStatus.failed, error=str(error))
            return
        except Exception as error:  # a job must end in a state the user can read
            log.exception("job %s failed", job_id)
            db.update_job(job_id, status=JobStatus.failed, error=f"internal error: {error}")
            return
        totals = {k: v for k, v in asdict(summary).items() if k not in ("output", "rejects")}
        db.update_job(job_id, status=JobStatus.done, progress=summary.rows_done, totals=totals)

    @staticmethod
    def rejects_file(job: JobRow) -> Path:
        return rejects_path(Path(job.result_path or ""))
