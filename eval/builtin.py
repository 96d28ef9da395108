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
- ``challenge-org``: the product's real task. 95 real published challenges (揭榜挂帅 榜单
  items, technology demands; none from Zhejiang) rank the 2,787 BDCI applicants, whose evidence
  is their 4,097 patents; organisations graded 0/1/2 by pooled judgement (``challenge_org/``).
  Unjudged organisations count as not relevant: report how many of a run's top 10 are unjudged
  (`unjudged_at`).

The CSL queries come from one split of ``csl_benchmark.jsonl``: ``dev`` (1,000, the default and
the only one to tune on), ``test`` (1,000, for the final report) or ``all``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from corpus.errors import JiebangError
from corpus.loaders import iter_records
from eval.dataset import CorpusDoc, Dataset, Qrels, load_qrels, load_queries

Split = Literal["dev", "test", "all"]

_PATENTS = Path("bdci2022_patents")
_CHALLENGES = Path("challenge_org")
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
    corpus: list[CorpusDoc] = []
    queries: dict[str, str] = {}
    qrels: Qrels = {}
    for row in holdout:
        applicant = row["assignee"]
        query = patents[row["query_patent_id"]]
        queries[query["id"]] = f"{query['title']}。{query['abstract']}"
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


def challenge_org(data_dir: Path, split: Split = "dev") -> Dataset:
    """Real published challenge → the BDCI applicants able to solve it (graded 0/1/2)."""
    corpus = [
        CorpusDoc(
            id=row["id"], title=row["title"], text=row["abstract"], group=row["assignee_norm"]
        )
        for row in _records(data_dir / _PATENTS / "patents.jsonl")
    ]
    folder = data_dir / _CHALLENGES
    queries = load_queries(folder / "queries.jsonl")
    qrels = load_qrels(folder / "qrels.jsonl")
    return Dataset("challenge-org", corpus, queries, qrels, source=str(folder / "qrels.jsonl"))


def challenge_domains(data_dir: str | Path) -> dict[str, str]:
    """`challenge-org` query id → its coarse domain label (新能源, 环保, …)."""
    path = Path(data_dir) / _CHALLENGES / "queries.jsonl"
    return {row["id"]: row.get("domain") or "unknown" for row in _records(path)}


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
    return (record for _, record in iter_records(path))


_BUILDERS: dict[str, Callable[[Path, Split], Dataset]] = {
    "challenge-org": challenge_org,
    "patents-applicant": patents_applicant,
    "csl-discipline": csl_discipline,
    "csl-discipline-evidence": csl_discipline_evidence,
    "csl-title": csl_title,
}
