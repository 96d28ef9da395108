"""Segmentation throughput (issue 14): our jieba cut against rjieba and two processes.

    .venv/bin/pip install rjieba   # only for this benchmark; not a dependency of jiebang
    .venv/bin/python benchmarks/bench_segment.py [--rounds 3]

On the 4,097 real BDCI abstracts, the Han runs `embed.segment.Segmenter` cuts (the same regex
pass), three ways, each given the same dictionary (jieba's base dictionary plus the glossary at
the frequencies `Segmenter` gives them), HMM off:
1. jieba: `Segmenter`'s private `jieba.Tokenizer` (what jiebang runs);
2. rjieba (jieba-rs): a private `rjieba.Jieba` with the same added words;
3. jieba in two processes: jieba's own "parallel mode" is a process pool over the global
   tokenizer only, so this is the same thing over ours (a `multiprocessing` pool of 2).
Reports characters per second (median of the rounds), the ratio to 1, and the share of texts
whose token lists are identical to 1. Prints Markdown for BENCHMARKS.md. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
import unicodedata

from embed.segment import _TOKEN_RE, Segmenter
from service.settings import Settings

PATENTS = Settings().data_dir / "bdci2022_patents" / "patents.jsonl"


def han_runs(text: str) -> list[str]:
    """The runs of Han characters `Segmenter` hands to jieba."""
    normal = unicodedata.normalize("NFKC", text)
    return [m[0] for m in _TOKEN_RE.finditer(normal) if m.lastgroup == "han"]


def jieba_cut(texts: list[list[str]]) -> list[list[str]]:
    tokenizer, _ = Segmenter()._dictionary()
    return [[w for run in runs for w in tokenizer.cut(run, HMM=False)] for runs in texts]


def rjieba_tokenizer():
    """rjieba's dictionary plus the glossary at the frequencies `Segmenter` gave them."""
    import rjieba

    segmenter = Segmenter()
    ours, _ = segmenter._dictionary()
    tokenizer = rjieba.Jieba()
    for term in segmenter._terms:
        tokenizer.add_word(term, ours.FREQ[term], None)
    return tokenizer


def rjieba_cut(texts: list[list[str]], tokenizer) -> list[list[str]]:
    return [[w for run in runs for w in tokenizer.cut(run, False)] for runs in texts]


def parallel_cut(texts: list[list[str]], pool) -> list[list[str]]:
    chunks = [texts[i : i + 256] for i in range(0, len(texts), 256)]
    return [row for part in pool.map(jieba_cut, chunks) for row in part]


def timed(function, rounds: int) -> tuple[float, list[list[str]]]:
    seconds, out = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        out = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    abstracts = [json.loads(line)["abstract"] for line in PATENTS.open(encoding="utf-8")]
    texts = [han_runs(a) for a in abstracts]
    chars = sum(len(run) for runs in texts for run in runs)
    jieba_cut(texts[:1])  # load outside the timing
    rj = rjieba_tokenizer()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parallel_cut(texts[:2], pool)  # fork and load the dictionary in both workers
        runs = {
            "jieba (jiebang's cut)": timed(lambda: jieba_cut(texts), args.rounds),
            "rjieba, same dictionary": timed(lambda: rjieba_cut(texts, rj), args.rounds),
            "jieba, 2 processes": timed(lambda: parallel_cut(texts, pool), args.rounds),
        }
    reference_s, reference = runs["jieba (jiebang's cut)"]
    print(f"{len(texts)} abstracts, {chars:,} Han characters, median of {args.rounds} rounds\n")
    print("| segmenter | seconds | chars/s | vs jieba | texts with identical tokens |")
    print("|---|---|---|---|---|")
    for name, (seconds, out) in runs.items():
        same = sum(a == b for a, b in zip(out, reference, strict=True))
        print(
            f"| {name} | {seconds:.2f} | {chars / seconds:,.0f} | "
            f"{reference_s / seconds:.2f}× | {same:,} / {len(reference):,} |"
        )


if __name__ == "__main__":
    main()
