"""Reading and cross-checking corpus/queries/qrels files in the BEIR/FlagEmbedding format."""

import json
from pathlib import Path

import pytest

from corpus.errors import DataError, JiebangError
from eval.dataset import CorpusDoc, Dataset, load_dataset, load_qrels, load_queries

FIXTURES = Path(__file__).parent / "fixtures"


def write_jsonl(path, *rows, prefix=b""):
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_bytes(prefix + "\n".join(lines).encode("utf-8"))
    return path


def test_fixture_set_is_grouped_and_judges_groups():
    dataset = load_dataset(
        FIXTURES / "corpus.jsonl", FIXTURES / "queries.jsonl", FIXTURES / "qrels.jsonl"
    )
    assert dataset.grouped
    assert dataset.summary() == {
        "name": "fixtures",
        "corpus": 11,
        "candidates": 5,
        "grouped": True,
        "queries": 5,
        "judged_queries": 5,
        "qrels": 7,
    }
    first = dataset.corpus[0]
    assert first.full_text.startswith("ArF光刻胶树脂。开发193nm")
    assert dataset.qrels["q5"] == {"虚构·明湖光刻材料": 2, "虚构·澄江质谱仪器": 1}


def test_bom_blank_lines_beir_ids_and_integer_ids_are_accepted(tmp_path):
    corpus = write_jsonl(
        tmp_path / "corpus.jsonl",
        {"_id": "d1", "text": "光刻胶"},
        "",
        {"id": 7, "text": "高温合金", "title": "合金"},
        prefix=b"\xef\xbb\xbf",
    )
    queries = write_jsonl(tmp_path / "queries.jsonl", {"id": "q1", "text": "光刻"})
    qrels = write_jsonl(tmp_path / "qrels.jsonl", {"qid": "q1", "docid": "7", "relevance": 1})
    dataset = load_dataset(corpus, queries, qrels, name="mine")
    assert [doc.id for doc in dataset.corpus] == ["d1", "7"]
    assert not dataset.grouped
    assert dataset.candidate_ids == {"d1", "7"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "d2", "text": "缺右括号"', "invalid JSON"),
        ('["d2", "text"]', "expected a JSON object"),
        ('{"id": "d2"}', "missing or empty 'text'"),
        ('{"id": "", "text": "空编号"}', "missing or empty 'id'"),
        ('{"id": "d1", "text": "重复"}', "duplicate id 'd1'"),
        ('{"id": "d2", "text": "t", "title": 3}', "'title' must be a string"),
    ],
)
def test_bad_corpus_line_names_file_and_line(tmp_path, line, reason):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", {"id": "d1", "text": "好的一行"}, line)
    with pytest.raises(DataError) as caught:
        load_dataset(corpus, corpus, corpus)
    assert caught.value.line == 2
    assert reason in str(caught.value)
    assert str(corpus) in str(caught.value)


def test_invalid_utf8_names_its_line(tmp_path):
    path = tmp_path / "queries.jsonl"
    good, bad = '{"id": "q1", "text": "好"}\n', '{"id": "q2", "text": "坏"}'
    path.write_bytes(good.encode() + bad.encode("gbk"))
    with pytest.raises(DataError, match=r"queries.jsonl:2: not UTF-8 text"):
        load_queries(path)


@pytest.mark.parametrize("relevance", [-1, 1.5, "2", True, None])
def test_relevance_must_be_a_non_negative_integer(tmp_path, relevance):
    path = write_jsonl(tmp_path / "qrels.jsonl", {"qid": "q", "docid": "d", "relevance": relevance})
    with pytest.raises(DataError, match=r"qrels\.jsonl:1: 'relevance' must be"):
        load_qrels(path)


def test_repeated_judgement_is_an_error(tmp_path):
    row = {"qid": "q", "docid": "d", "relevance": 1}
    path = write_jsonl(tmp_path / "qrels.jsonl", row, row)
    with pytest.raises(DataError, match=r":2: duplicate judgement for \('q', 'd'\)"):
        load_qrels(path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read file"):
        load_qrels(tmp_path / "absent.jsonl")


def test_unknown_references_are_listed_in_one_error():
    corpus = [CorpusDoc(id=f"d{i}", text="文本") for i in range(3)]
    queries = {"q1": "查询"}
    qrels = {"q1": {"d0": 1, "x1": 1}, "q9": {"d1": 1}}
    qrels["q1"] |= {f"z{i:02d}": 1 for i in range(12)}
    with pytest.raises(DataError) as caught:
        Dataset("t", corpus, queries, qrels, source="qrels.jsonl")
    message = str(caught.value)
    assert message.startswith("qrels.jsonl: qrels reference unknown query ids 'q9'")
    assert "unknown docids 'x1', 'z00'" in message
    assert "(+3 more, 13 in all)" in message
    assert "'z11'" not in message


def test_grouped_qrels_must_name_groups_not_documents():
    corpus = [CorpusDoc(id="d1", text="光刻胶", group="甲公司")]
    assert Dataset("t", corpus, {"q": "光刻"}, {"q": {"甲公司": 1}}).candidate_ids == {"甲公司"}
    with pytest.raises(DataError, match="unknown docids 'd1'"):
        Dataset("t", corpus, {"q": "光刻"}, {"q": {"d1": 1}})


def test_groups_on_some_records_only_is_an_error():
    corpus = [CorpusDoc(id="d1", text="a", group="g"), CorpusDoc(id="d2", text="b")]
    with pytest.raises(JiebangError, match="first without one: 'd2'"):
        Dataset("t", corpus, {"q": "a"}, {"q": {"g": 1}})


def test_only_queries_with_a_relevant_candidate_are_judged():
    corpus = [CorpusDoc(id="d1", text="a"), CorpusDoc(id="d2", text="b")]
    queries = {"q1": "a", "q2": "b", "q3": "c"}
    dataset = Dataset("t", corpus, queries, {"q1": {"d1": 1}, "q2": {"d2": 0}})
    assert dataset.judged_qids == ["q1"]
    with pytest.raises(DataError, match="no qrels line has relevance > 0"):
        Dataset("t", corpus, {"q2": "b"}, {"q2": {"d2": 0}})
