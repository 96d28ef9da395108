"""Where encoding runs: here (`local`) or on a Ray cluster (`ray`), for both faces."""

from __future__ import annotations

from enum import StrEnum

from embed.embedder import Embedder
from service.settings import Settings


class ExecutionEngine(StrEnum):
    local = "local"
    ray = "ray"


def use_ray(embedder: Embedder, settings: Settings, address: str | None, workers: int) -> None:
    """Hand `embedder`'s batches to `workers` Ray actors (`address`, or a local cluster).

    Everything but the encoding stays in this process: the output, its order and its
    checkpoints are the ones a local run writes.
    """
    from embed.ray_pool import RayEncoderPool

    pool = RayEncoderPool(
        settings.model,
        embedder.backend,
        settings.resolved_models_dir,
        workers=workers,
        address=address,
    )
    embedder.distribute(pool)
