"""Background jobs: bulk patent matching of an uploaded file, with leases, cancel and retention.

A job's row in the database holds its status, progress and lease; its files live in
`<home>/jobs/<id>/`. Several processes may share one database: a job runs in the process that
holds its lease (`Database.claim_job`, one conditional UPDATE, taken when its worker reaches
it), renewed by a heartbeat while it runs; a lease left to expire (a killed process) is taken
over by the next process that looks (`poll`, at start-up and every few seconds). Bulk matching
checkpoints every window, so a job taken over, or resumed after a shutdown, continues where its
checkpoint is.

Shutdown (SIGTERM) asks the running job to stop after its current window: it checkpoints,
releases its lease (the job stays queued) and the next start resumes it.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from corpus.errors import JiebangError
from corpus.files import sync_folder
from matcher.patents.bulk import BulkMatcher
from matcher.patents.reader import count_rows, detect_format, iter_patent_rows
from service.api.errors import (
    ErrorCode,
    InvalidInput,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)
from service.api.limits import megabytes
from service.api.security import key_hash
from service.api.state import ServiceState
from service.db import JobRow, JobStatus, utcnow
from service.usecases.bulk import rejects_path, run_bulk

log = logging.getLogger("jiebang.jobs")

PATENT_MATCH = "patents.match"
CHUNK_BYTES = 1 << 20
PREFLIGHT_ROWS = 20
POLL_SECONDS = 5.0


class JobRunner:
    """Runs this process's jobs on one worker thread; a poller takes over abandoned ones."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.settings = state.settings
        self.root = state.settings.resolved_jobs_dir
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiebang-job")
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Clean expired jobs, claim what is left unfinished, then keep polling for more."""
        self.poll()
        self._poller = threading.Thread(target=self._poll_loop, name="jiebang-jobs", daemon=True)
        self._poller.start()

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop after the running window (checkpointed, lease released) and wait for it."""
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._poller is not None:
            self._poller.join(timeout=timeout)

    def _poll_loop(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:  # the poller must outlive a database hiccup
                log.exception("polling for jobs failed")

    def poll(self) -> None:
        """Delete jobs past retention; claim unfinished jobs nobody holds a live lease on."""
        self._expire()
        for job_id in self.state.db.claimable_jobs():
            self._submit(job_id)

    def _submit(self, job_id: str) -> None:
        """Queue a job here; it is claimed (leased) only when the worker reaches it."""
        with self._lock:
            if job_id in self._queued or self._stopping.is_set():
                return
            self._queued.add(job_id)
        self._pool.submit(self._run, job_id)

    def _expire(self) -> None:
        before = utcnow() - timedelta(hours=self.settings.job_retention_hours)
        for job in self.state.db.expired_jobs(before):
            shutil.rmtree(self.root / job.id, ignore_errors=True)
            self.state.db.delete_job(job.id)
            log.info("job %s deleted (past retention)", job.id)

    # -- creating ---------------------------------------------------------------------------

    def create_patent_match(
        self, upload: BinaryIO, filename: str, params: dict[str, Any], key: str | None = None
    ) -> JobRow:
        """Store the upload (durably), check it has patent rows, queue the job; 4xx if bad."""
        suffix = Path(filename or "").suffix.lower()
        try:
            detect_format(Path(f"upload{suffix}"))
        except JiebangError:
            raise UnsupportedMediaType(
                ErrorCode.unsupported_media_type,
                f"不支持的文件类型「{suffix or '无扩展名'}」："
                "请上传 .jsonl、.csv 或 .xlsx 专利文件",
            ) from None
        owner_key = key_hash(key)
        jobs, used = self.state.db.key_usage(owner_key)
        if jobs >= self.settings.max_jobs_per_key:
            raise TooManyRequests(
                ErrorCode.quota_exceeded,
                f"已有 {jobs} 个未完成的任务：每个密钥最多 {self.settings.max_jobs_per_key} 个",
            )
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        source = folder / f"input{suffix}"
        try:
            size = self._store(upload, source, self.settings.max_job_bytes_per_key - used)
            total = self._preflight(source)
        except BaseException:
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
            key_hash=owner_key,
            input_bytes=size,
        )
        self.state.db.add_job(job)
        self._submit(job_id)
        return job

    def cancel(self, job_id: str) -> bool:
        """Cancel an unfinished job; its runner (in any process) stops at the next window."""
        return self.state.db.cancel_job(job_id)

    def _store(self, upload: BinaryIO, target: Path, quota: int) -> int:
        """Copy the upload to `target`, fsynced before the job is acknowledged."""
        limit = min(self.settings.max_upload_bytes, max(quota, 0))
        written = 0
        with target.open("wb") as out:
            while chunk := upload.read(CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    if limit < self.settings.max_upload_bytes:
                        raise TooManyRequests(
                            ErrorCode.quota_exceeded,
                            "此密钥未完成任务的上传总量将超过上限"
                            f"（{megabytes(self.settings.max_job_bytes_per_key)}）",
                        )
                    raise PayloadTooLarge(
                        ErrorCode.payload_too_large, f"上传文件超过 {megabytes(limit)} 上限"
                    )
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sync_folder(target.parent)
        if not written:
            raise InvalidInput(ErrorCode.invalid_upload, "上传的文件是空的")
        return written

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
            raise InvalidInput(ErrorCode.invalid_upload, "上传的文件里没有专利记录")
        raise InvalidInput(
            ErrorCode.invalid_upload,
            f"上传文件的前 {len(reasons)} 行里没有一条可读的专利（{reasons[0]}）",
            detail=reasons[:5],
        )

    # -- running ----------------------------------------------------------------------------

    def _run(self, job_id: str) -> None:
        db = self.state.db
        try:
            if self._stopping.is_set():
                return
            if not db.claim_job(job_id, self.owner, self.settings.job_lease_seconds):
                return  # finished, cancelled, or another process holds it
            job = db.get_job(job_id)
            if job is not None:
                self._execute(job)
        finally:
            with self._lock:
                self._queued.discard(job_id)

    def _execute(self, job: JobRow) -> None:
        db, lease = self.state.db, self.settings.job_lease_seconds
        heartbeat = _Heartbeat(lambda: db.renew_lease(job.id, self.owner, lease), lease / 3)

        def stop() -> bool:
            current = db.get_job(job.id)
            if self._stopping.is_set() or heartbeat.lost:
                return True
            if current is None or current.owner != self.owner:  # the lease is someone else's
                return True
            return current.status == JobStatus.cancelled

        done = {"rows": 0}

        def advance(rows: int) -> None:
            done["rows"] += rows
            db.update_job(job.id, progress=done["rows"])

        heartbeat.start()
        try:
            if job.result_path is None:  # `submit` gives every job one
                raise RuntimeError(f"job {job.id} has no result path")
            output = job.result_path
            matcher = BulkMatcher(
                self.state.embedder,
                [self.state.challenge(cid) for cid in job.params["challenges"]],
                calibration=self.state.engine.calibration,
                top=job.params["top"],
                min_confidence=job.params["min_confidence"],
            )
            summary = run_bulk(
                job.input_path,
                output,
                matcher,
                fmt=job.params["format"],
                resume=True,
                window=self.settings.job_window_rows,
                on_progress=advance,
                should_stop=stop,
            )
        except JiebangError as error:
            db.release_job(job.id, self.owner, status=JobStatus.failed, error=str(error))
            return
        except Exception as error:  # a job must end in a state the user can read
            log.exception("job %s failed", job.id)
            db.release_job(
                job.id,
                self.owner,
                status=JobStatus.failed,
                error=f"internal error: {type(error).__name__}",
            )
            return
        finally:
            heartbeat.stop()
        current = db.get_job(job.id)
        if current is not None and current.status == JobStatus.cancelled:
            db.release_job(job.id, self.owner)
            shutil.rmtree(self.root / job.id, ignore_errors=True)
            return
        if summary.stopped:  # shutdown or lease lost: the checkpoint holds; someone resumes it
            db.release_job(job.id, self.owner, status=JobStatus.queued)
            log.warning("job %s stopped after %d rows, checkpointed", job.id, summary.rows_done)
            return
        totals = {k: v for k, v in asdict(summary).items() if k not in ("output", "rejects")}
        db.release_job(
            job.id, self.owner, status=JobStatus.done, progress=summary.rows_done, totals=totals
        )

    @staticmethod
    def rejects_file(job: JobRow) -> Path:
        return rejects_path(Path(job.result_path or ""))


class _Heartbeat:
    """Calls `renew()` every `every` seconds on a thread; `lost` once renewal fails."""

    def __init__(self, renew, every: float) -> None:
        self._renew = renew
        self._every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jiebang-lease", daemon=True)
        self.lost = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._done.wait(self._every):
            try:
                if not self._renew():
                    self.lost = True
                    return
            except Exception:
                log.exception("renewing a job lease failed")
