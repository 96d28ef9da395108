"""Encoding on a Ray cluster: a pool of actors, each holding the model once.

An `Embedder` with a pool attached (`Embedder.distribute`) still does everything else itself
(cache, length-sorted batching, progress); only the batches go out, in order, and come back in
order. So a bulk run or an index build on Ray produces the same batches, hence the same vectors
and the same output, as a local one, and the driver's checkpoints work unchanged.

Actors are restarted by Ray when their process dies and the batch in flight is retried
(`max_restarts`, `max_task_retries`), so a lost worker costs time, not rows. Ray is an optional
extra (`pip install -e '.[ray]'`); nothing imports this module unless `--engine ray` or
`JIEBANG_RAY_ADDRESS` asks for it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from corpus.errors import JiebangError
from embed.embedder import Embedder

# Batches in flight per actor: enough to hide the round trip, few enough to bound memory.
_IN_FLIGHT_PER_ACTOR = 2
# How long a cluster's address may take to accept a connection before it counts as absent.
_PROBE_TIMEOUT_S = 5.0
# Ray's switch for "this node's address is loopback" (named for laptops, honoured everywhere).
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class _EncoderActor:
    """One worker: the configured model and backend, no cache (the driver caches)."""

    def __init__(self, model: str, backend: str, models_dir: str) -> None:
        home = Path(models_dir).parent
        self._embedder = Embedder(
            model, home=home, cache=False, models_dir=Path(models_dir), backend=backend
        )

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self._embedder.encode_batch(texts, prompt)

    def pid(self) -> int:
        return os.getpid()


class RayEncoderPool:
    """`workers` Ray actors encoding batches for one model and backend (a `BatchPool`).

    `address` is a Ray address ("auto", "ray://host:10001", "host:6379") or None for a local
    cluster started here (as many CPUs as workers). Models must exist on every node: the bundled
    one is materialised on first use; a custom model folder must be on shared storage.
    """

    def __init__(
        self,
        model: str,
        backend: str,
        models_dir: Path,
        *,
        workers: int = 2,
        address: str | None = None,
    ) -> None:
        if workers < 1:
            raise JiebangError(f"workers must be at least 1, got {workers}")
        host, port = _host_port(address)
        if address is None or (host is not None and _is_loopback(host)):
            # Read by Ray when it is imported: keep this driver (and a local cluster) on loopback.
            os.environ.setdefault(_LOOPBACK_ONLY, "0")
        try:
            import ray
        except ImportError:
            raise JiebangError(
                "the Ray engine needs Ray: pip install -e '.[ray]' (or choose --engine local)"
            ) from None
        if not ray.is_initialized():
            _join_cluster(ray, address, host, port, workers)
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=3)(_EncoderActor)
        self._ray = ray
        handles = [actor.remote(model, str(backend), str(models_dir)) for _ in range(workers)]
        self.actors: list[Any] = handles  # Ray actor handles: `.encode.remote(…)`

    def map(self, batches: Iterable[list[str]], prompt: str) -> Iterator[np.ndarray]:
        """Vectors for each batch, in the order given; a bounded number in flight."""
        pending: deque = deque()
        limit = _IN_FLIGHT_PER_ACTOR * len(self.actors)
        for n, texts in enumerate(batches):
            pending.append(self.actors[n % len(self.actors)].encode.remote(texts, prompt))
            if len(pending) >= limit:
                yield self._ray.get(pending.popleft())
        while pending:
            yield self._ray.get(pending.popleft())

    def pids(self) -> list[int]:
        """The worker processes' ids (for operators and the worker-failure test)."""
        return self._ray.get([a.pid.remote() for a in self.actors])


def _join_cluster(
    ray, address: str | None, host: str | None, port: int | None, workers: int
) -> None:
    """Connect to the cluster at `address` (`host`:`port`), or start a local one on `workers` CPUs.

    Ray rewrites a loopback address into this machine's outward one before it connects, where a
    head started on 127.0.0.1 does not listen, and then retries for minutes; the caller has
    kept Ray on loopback for such an address, which works whether the head was started on
    loopback or on every interface. An address where nothing listens fails within seconds.
    Failures become one line naming the address.
    """
    if host is not None and port is not None:
        try:
            socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S).close()
        except OSError as error:
            raise JiebangError(
                f"no Ray cluster answers at {address} ({error.strerror or error}); start one "
                "with `ray start --head` and pass the address it prints, or --address auto"
            ) from None
    options: dict = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    with _stderr_held() as held:
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
            failure = None
        except (ConnectionError, ray.exceptions.AuthenticationError, RuntimeError) as error:
            failure = " ".join(str(error).split())[:300]
    said = "".join(held)
    where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
    if failure is None:
        sys.stderr.write(said)
    elif "InvalidAuthToken" in said:
        raise JiebangError(
            f"{where} refused this shell's token: set RAY_AUTH_TOKEN (or ~/.ray/auth_token) to "
            "the cluster's token (`ray get-auth-token` on its head)"
        )
    else:
        raise JiebangError(f"cannot join {where}: {failure}")


@contextmanager
def _stderr_held() -> Iterator[list[str]]:
    """Hold back what this process writes to stderr while the block runs; the list receives it.

    Ray's core retries a failing connection with a warning a second, for as long as it tries,
    which would bury the one line the failure becomes.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    written: list[str] = []
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield written
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            written.append(held.read().decode("utf-8", "replace"))


def _host_port(address: str | None) -> tuple[str | None, int | None]:
    """The host and port of a "host:port" address; (None, None) for "auto", ray://, or None."""
    if not address or address == "auto" or "://" in address:
        return None, None
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise JiebangError(f"a Ray address is host:port, auto or ray://host:port, not {address!r}")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
