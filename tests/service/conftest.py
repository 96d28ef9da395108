"""A real uvicorn server in a subprocess, on a free loopback port, with its own database,
index and jobs folders; the model and the embedding cache come from the shared test home."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

API_KEY = "test-key-0123456789"
START_TIMEOUT_S = 300
APP_FACTORY = "service.api.app:app_from_environment"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """`python -m uvicorn --factory service.api.app:app_from_environment` as a child process."""

    def __init__(self, env: dict[str, str], log_path: Path, *, cli: bool = False) -> None:
        self.env = env
        self.cli = cli
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def command(self) -> list[str]:
        """`jiebang serve` (the CLI), or uvicorn on the app factory."""
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.cli:
            return [sys.executable, "-m", "service.cli", "serve", *address]
        return [sys.executable, "-m", "uvicorn", "--factory", APP_FACTORY, *address]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready: bool = True) -> LiveServer:
        """Start and wait for /readyz 200 (or, with `ready=False`, for /healthz: it answers)."""
        probe = "/readyz" if ready else "/healthz"
        self.port = free_port()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}{probe}", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"server not ready after {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> LiveServer:
        self.stop()
        return self.start()

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=120)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]


def server_env(test_home: Path, data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The shared test home (model, embedding cache) with private db/index/jobs in `data_dir`."""
    env = dict(os.environ)
    env.update(
        JIEBANG_HOME=str(test_home),
        JIEBANG_INDEX_DIR=str(data_dir / "index"),
        JIEBANG_DATABASE_URL=database_url,
        JIEBANG_JOBS_DIR=str(data_dir / "jobs"),
        JIEBANG_CALIBRATIONS_DIR=str(data_dir / "calibrations"),
        JIEBANG_API_KEY=API_KEY,
        JIEBANG_JOB_WINDOW_ROWS="4",
        JIEBANG_DEMO="true",
        # One padded length: the suite starts dozens of servers; test_api_startup keeps the
        # default.
        JIEBANG_WARM_TOKENS="8",
        HF_HUB_OFFLINE="1",
    )
    env.update(extra)
    return env


BACKEND = os.environ.get("JIEBANG_TEST_DB", "sqlite")
"""The database the service tests run on: `sqlite` (default) or `postgresql` (`make test` runs
the database-bound tests on both, `make test-postgresql` the whole service suite on PostgreSQL)."""


@pytest.fixture(scope="session")
def new_database(request) -> Callable[[Path], str]:
    """A fresh, empty database URL for each call: SQLite in the folder, or a new PostgreSQL db."""
    if BACKEND != "postgresql":
        return lambda folder: f"sqlite:///{folder / 'jiebang.db'}"
    server = request.getfixturevalue("postgres_url")
    made: dict[Path, str] = {}

    def create(folder: Path) -> str:
        if folder not in made:
            from sqlalchemy import create_engine

            name = f"jiebang_{uuid.uuid4().hex[:12]}"
            engine = create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
            engine.dispose()
            made[folder] = server.rsplit("/", 1)[0] + f"/{name}"
        return made[folder]

    return create


@pytest.fixture(scope="session")
def live_server(
    test_home: Path, tmp_path_factory: pytest.TempPathFactory, new_database
) -> Iterator[LiveServer]:
    """One server shared by the tests that do not restart it."""
    data_dir = tmp_path_factory.mktemp("live-server")
    env = server_env(test_home, data_dir, new_database(data_dir))
    server = LiveServer(env, data_dir / "server.log").start()
    yield server
    server.stop()


@pytest.fixture
def make_server(test_home: Path, tmp_path: Path, new_database) -> Iterator:
    """Build servers with their own data folder (for restarts and special settings); servers
    made in one test share that folder and database."""
    servers: list[LiveServer] = []

    def make(*, cli: bool = False, **extra: str) -> LiveServer:
        env = server_env(test_home, tmp_path, new_database(tmp_path), **extra)
        server = LiveServer(env, tmp_path / "server.log", cli=cli)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """JIEBANG_TEST_POSTGRES_URL, or a throwaway PostgreSQL server started on loopback."""
    if url := os.environ.get("JIEBANG_TEST_POSTGRES_URL"):
        yield url
        return
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (Debian: postgresql) and no test URL")
    # PostgreSQL refuses to run as root; as root, run it as the `postgres` system user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="jiebang-pg-"))
    data.chmod(0o755)
    if as_user:
        shutil.chown(data, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        [*as_user, initdb, "-D", str(data / "db"), "-A", "trust", "-U", "jiebang"], **run
    )
    options = f"-p {port} -k {data} -h 127.0.0.1"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data / "db"), "-o", options, "-l", str(data / "log"), "-w",
         "start"], **run,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://jiebang@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-m", "fast", "stop"], **run)
        shutil.rmtree(data, ignore_errors=True)
