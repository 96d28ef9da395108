"""Where an `Embedder` may send its batches instead of encoding them here.

`Embedder.distribute` takes any `BatchPool`; `embed.ray_pool.RayEncoderPool` is one (Ray
actors). The protocol lives apart so that the embedder never imports the Ray pool, which
itself builds embedders on its workers: no import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np


class BatchPool(Protocol):
    """Encodes batches elsewhere: one float32 (len(batch), dim) array per batch, in order."""

    def map(self, batches: Iterable[list[str]], prompt: str) -> Iterator[np.ndarray]:
        """Vectors for each batch (`prompt` prefixed to every text), in the order given."""
        ...
