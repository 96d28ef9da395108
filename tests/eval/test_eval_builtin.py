"""The built-in dev sets, built from the real data in ../shared/data (skipped where absent)."""

import json

import pytest

from corpus.errors import JiebangError
from eval.builtin import builtin_names, load_builtin


def test_patents_applicant_has_212_queries_over_212_applicants(shared_data):
    dataset = load_builtin("patents-applicant", shared_data)
    assert dataset.summary() == {
        "name": "patents-applicant",
        "corpus": 1079,
        "candidates": 212,
        "grouped": True,
        "queries": 212,
        "judged_queries": 212,
        "qrels": 212,
    }
    evidence_ids = {doc.id for doc in dataset.corpus}
    assert evidence_ids.isdisjoint(dataset.queries), "held-out patents must not be evidence"
    owners = {doc.group for doc in dataset.corpus}
    assert all(set(judged) <= owners for judged in dataset.qrels.values())
    huawei = [doc for doc in dataset.corpus if doc.group == "华为技术有限公司"]
    assert huawei and all(doc.title and doc.text for doc in huawei)


@pytest.mark.parametrize("split", ["dev", "test"])
def test_csl_discipline_ranks_1000_abstracts_against_67_names(shared_data, split):
    dataset = load_builtin("csl-discipline", shared_data, split)
    assert (len(dataset.queries), len(dataset.corpus), dataset.grouped) == (1000, 67, False)
    assert all(doc.text == doc.id for doc in dataset.corpus), "a discipline's document is its name"
    labels = _csl_labels(shared_data, split)
    assert {qid: next(iter(judged)) for qid, judged in dataset.qrels.items()} == labels


def test_dev_and_test_splits_do_not_overlap(shared_data):
    dev = load_builtin("csl-title", shared_data, "dev")
    test = load_builtin("csl-title", shared_data, "test")
    assert dev.queries.keys().isdisjoint(test.queries)
    assert len(load_builtin("csl-title", shared_data, "all").queries) == 2000


def test_csl_discipline_evidence_comes_from_fewclue_train_only(shared_data):
    dataset = load_builtin("csl-discipline-evidence", shared_data)
    assert (len(dataset.corpus), len(dataset.candidate_ids), dataset.grouped) == (2029, 67, True)
    assert all(doc.id.startswith("csldcp-") for doc in dataset.corpus)
    query_texts = set(dataset.queries.values())
    assert not any(doc.text in query_texts for doc in dataset.corpus)


def test_csl_title_finds_its_own_abstract_among_2000(shared_data):
    dataset = load_builtin("csl-title", shared_data)
    assert (len(dataset.queries), len(dataset.corpus)) == (1000, 2000)
    assert all(judged == {qid: 1} for qid, judged in dataset.qrels.items())


def test_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(JiebangError, match="absent not found; the built-in dev sets need it"):
        load_builtin("csl-title", tmp_path / "absent")


def test_unknown_name_or_split_is_an_error(tmp_path):
    with pytest.raises(JiebangError, match="unknown dataset 'nope'"):
        load_builtin("nope", tmp_path)
    with pytest.raises(JiebangError, match="unknown split 'train'"):
        load_builtin(builtin_names()[0], tmp_path, "train")


def _csl_labels(data_dir, split):
    with (data_dir / "csl" / "csl_benchmark.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return {row["id"]: row["discipline"] for row in rows if row["split"] == split}


def test_challenge_org_loads_real_graded_judgements(shared_data):
    dataset = load_builtin("challenge-org", shared_data)
    summary = dataset.summary()
    assert (summary["queries"], summary["judged_queries"]) == (95, 82)
    assert summary["corpus"] == 4097 and summary["candidates"] == 2787 and summary["grouped"]
    grades = {r for judged in dataset.qrels.values() for r in judged.values()}
    assert grades == {0, 1, 2}


def test_patent_area_loads_and_joins_the_patents(shared_data):
    from eval.areas import AREAS, load_patent_area

    labelled = load_patent_area(shared_data)
    assert len(labelled.patents) == 600 and labelled.gold.shape == (600, len(AREAS))
    assert int(labelled.gold.any(axis=1).sum()) == 118
    assert all(p.title and p.abstract for p in labelled.patents)


def test_bad_lines_of_the_new_dev_sets_name_their_file_and_line(shared_data, tmp_path):
    import shutil

    from corpus.errors import DataError
    from eval.areas import load_patent_area

    data = tmp_path / "data"
    for name in ("bdci2022_patents", "challenge_org", "patent_area"):
        shutil.copytree(shared_data / name, data / name)
    qrels = data / "challenge_org" / "qrels.jsonl"
    qrels.chmod(0o644)
    lines = qrels.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"qid": "R001", "docid": "上海交通大学", "relevance": "high"}'
    qrels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"qrels.jsonl:3: 'relevance' must be"):
        load_builtin("challenge-org", data)
    labels = data / "patent_area" / "labels.jsonl"
    labels.chmod(0o644)
    rows = labels.read_text(encoding="utf-8").splitlines()
    rows[4] = '{"id": "no-such-patent", "area_nos": [], "areas": []}'
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"labels.jsonl:5: unknown patent id"):
        load_patent_area(data)
