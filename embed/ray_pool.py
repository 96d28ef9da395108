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

import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from corpus.errors import JiebangError

# Batches in flight per actor: enough to hide the round trip, few enough to bound memory.
_IN_FLIGHT_PER_ACTOR = 2


class _EncoderActor:
    """One worker: the configured model and backend, no cache (the driver caches)."""

    def __init__(self, model: str, backend: str, models_dir: str) -> None:
        from embed.embedder import Embedder

        home = Path(models_dir).parent
        self._embedder = Embedder(
            model, home=home, cache=False, models_dir=Path(models_dir), backend=backend
        )

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self._embedder.encode_batch(texts, prompt)

    def pid(self) -> int:
        return os.getpid()


class RayEncoderPool:
    """`workers` Ray actors encoding batches for one model and backend.

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
        try:
            import ray
        except ImportError:
            raise JiebangError(
                "the Ray engine needs Ray: pip install -e '.[ray]' (or choose --engine local)"
            ) from None
        if workers < 1:
            raise JiebangError(f"workers must be at least 1, got {workers}")
        if not ray.is_initialized():
            options: dict = {"include_dashboard": False, "log_to_driver": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=3)(_EncoderActor)
        self._ray = ray
        self.actors = [actor.remote(model, str(backend), str(models_dir)) for _ in range(workers)]

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
