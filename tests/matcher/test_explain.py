"""Explanations name terms that really occur in the query and in the evidence."""

from __future__ import annotations

import re

from corpus.catalogue import builtin_catalogue
from corpus.models import Organisation
from matcher.engine import MatchEngine

MARKED = re.compile(r"<mark>(.*?)</mark>")


def test_highlights_channels_and_shared_terms_are_real(demo_engine) -> None:
    query = builtin_catalogue().get("ZJ2021-15-01").query_text  # waste lithium-battery recycling
    result = demo_engine.match(query, top=5)
    assert result.candidates
    marked_any = False
    for candidate in result.candidates:
        org = demo_engine.organisations[candidate.org_id]
        for hit in candidate.evidence:
            marks = MARKED.findall(hit.highlighted or "")
            marked_any |= bool(marks)
            for term in marks:
                assert term.lower() in hit.text.lower() and term.lower() in query.lower()
            assert MARKED.sub(r"\1", hit.highlighted) == hit.text.replace("&", "&amp;")
        for term in candidate.shared_terms:
            assert term in query and term in org.capability
        assert {"dense", "lexical", "fused", "cosine"} <= set(candidate.channels)
        assert candidate.channels["fused"] == candidate.evidence[0].score
    assert marked_any
    top = result.candidates[0]
    assert set(top.shared_terms) & {"锂电池", "回收", "电池", "废旧锂电"}


def test_a_purely_lexical_match_is_explained_by_the_lexical_channel(embedder) -> None:
    orgs = [
        Organisation(id="x", name="甲（示例）", capability="研制TX-9000型磁流变抛光机床。"),
        Organisation(id="y", name="乙（示例）", capability="食品包装材料的生产与销售。"),
    ]
    engine = MatchEngine.build(orgs, embedder, progress=False)
    candidate = engine.match("TX-9000", top=1).candidates[0]
    assert candidate.org_id == "x"
    assert "<mark>TX-9000</mark>" in candidate.evidence[0].highlighted
    assert candidate.channels["lexical"] > 0 and candidate.channels["tfidf"] > 0
    dense_only = engine.match("TX-9000", top=2, method="dense").candidates
    assert all("lexical" not in c.channels for c in dense_only)
