"""Built-in dev sets, built on the fly from the real data in ``shared/data`` (never copied).

- ``patents-applicant``: a held-out patent (title + abstract) is the query; the corpus is the
  1,079 profile patents, grouped by applicant; the true applicant is the one relevant group.
  212 queries, 212 candidate applicants.
- ``csl-discipline``: CSL abstracts ranked against the 67 disciplines (一级学科). A discipline's
  document is its name and nothing else; the label space is taken from the FewCLUE *train*
  file, never from the queries' labels. Report hit@1/@5 as accuracy@1/@5.
- ``csl-discipline-evidence``: the same queries, but each discipline's evidence is the FewCLUE
  *train* abstracts labelled with it (minus the few that also occur in the CSL benchmark), so
  ranking goes evidence → group like the patents set.
- ``csl-title``: a CSL title is the query; its own abstract is the one relevant document among
  all 2,000 CSL abstracts.

The CSL queries come from one split of ``csl_benchmark.jsonl``: ``dev`` (1,000, the default and
the only one to tune on), ``test`` (1,000, for the final report) or ``all``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from corpus.errors import JiebangError
from eval.dataset import CorpusDoc, Dataset, Qrels, iter_jsonl

Split = Literal["dev", "test", "all"]

_PATENTS = Path("bdci2022_patents")
_CSL = Path("csl")
_FEWCLUE_TRAIN = "train_few"  # FewCLUE's `source` path contains train_few_all.json for train rows


def builtin_names() -> list[str]:
    """The names `load_builtin` accepts."""
    return list(_BUILDERS)


def load_builtin(name: str, data_dir: str | Path, split: Split = "dev") -> Dataset:
    """Build the named dev set from `data_dir` (the ``shared/data`` folder).

    `split` picks the CSL queries; ``patents-applicant`` has a single split and ignores it.
    """
    if name not in _BUILDERS:
        raise JiebangError(f"unknown dataset {name!r}; choose one of {', '.join(_BUILDERS)}")
    if split not in ("dev", "test", "all"):
        raise JiebangError(f"unknown split {split!r}; choose dev, test or all")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise JiebangError(f"{data_dir} not found; the built-in dev sets need it")
    return _BUILDERS[name](data_dir, split)


def patents_applicant(data_dir: Path, split: Split = "dev") -> Dataset:
    """Held-out patent → its applicant, among the 212 applicants with ≥ 3 patents."""
    patents = {record["id"]: record for record in _records(data_dir / _PATENTS / "patents.jsonl")}
    holdout = list(_records(data_dir / _PATENTS / "assignee_holdout_eval.jsonl"))
    corpus, queries, qrels = [], {}, {}
    for row in holdout:
        applicant = row["assignee"]
        query = patents[row["query_patent_id"]]
        queries[query["id"]] = f"{query['title']}\n{query['abstract']}"
        qrels[query["id"]] = {applicant: 1}
        corpus.extend(
            CorpusDoc(
                id=pid,
                title=patents[pid]["title"],
                text=patents[pid]["abstract"],
                group=applicant,
            )
            for pid in row["profile_patent_ids"]
        )
    return Dataset("patents-applicant", corpus, queries, qrels, source=str(data_dir / _PATENTS))


def csl_discipline(data_dir: Path, split: Split = "dev") -> Dataset:
    """CSL abstract → its discipline; each discipline's document is its bare name."""
    disciplines = sorted({row["discipline"] for row in _fewclue_train(data_dir)})
    corpus = [CorpusDoc(id=name, text=name) for name in disciplines]
    queries, qrels = _csl_abstract_queries(data_dir, split)
    return Dataset(f"csl-discipline/{split}", corpus, queries, qrels, source=str(data_dir / _CSL))


def csl_discipline_evidence(data_dir: Path, split: Split = "dev") -> Dataset:
    """CSL abstract → its discipline, with FewCLUE train abstracts as each discipline's evidence."""
    corpus = [
        CorpusDoc(id=row["id"], text=row["abstract"], group=row["discipline"])
        for row in _fewclue_train(data_dir)
        if not row["in_csl_benchmark"]
    ]
    queries, qrels = _csl_abstract_queries(data_dir, split)
    name = f"csl-discipline-evidence/{split}"
    return Dataset(name, corpus, queries, qrels, source=str(data_dir / _CSL))


def csl_title(data_dir: Path, split: Split = "dev") -> Dataset:
    """CSL title → its own abstract, among all 2,000 CSL abstracts."""
    rows = list(_records(data_dir / _CSL / "csl_benchmark.jsonl"))
    corpus = [CorpusDoc(id=row["id"], text=row["abstract"]) for row in rows]
    chosen = [row for row in rows if split == "all" or row["split"] == split]
    queries = {row["id"]: row["title"] for row in chosen}
    qrels = {row["id"]: {row["id"]: 1} for row in chosen}
    return Dataset(f"csl-title/{split}", corpus, queries, qrels, source=str(data_dir / _CSL))


def _csl_abstract_queries(data_dir: Path, split: Split) -> tuple[dict[str, str], Qrels]:
    rows = _records(data_dir / _CSL / "csl_benchmark.jsonl")
    chosen = [row for row in rows if split == "all" or row["split"] == split]
    queries = {row["id"]: row["abstract"] for row in chosen}
    qrels = {row["id"]: {row["discipline"]: 1} for row in chosen}
    return queries, qrels


def _fewclue_train(data_dir: Path) -> list[dict[str, Any]]:
    rows = _records(data_dir / _CSL / "fewclue_csldcp.jsonl")
    return [row for row in rows if _FEWCLUE_TRAIN in row["source"]]


def _records(path: Path) -> Iterator[dict[str, Any]]:
    return (record for _, record in iter_jsonl(path))


_BUILDERS: dict[str, Callable[[Path, Split], Dataset]] = {
    "patents-applicant": patents_applicant,
    "csl-discipline": csl_discipline,
    "csl-discipline-evidence": csl_discipline_evidence,
    "csl-title": csl_title,
}
