"""What a programme officer reads must hold: a confidence that does not move when unrelated
documents are indexed, never rises down a list, and credits a specialist for its facet."""

from __future__ import annotations

import json
from itertools import islice

import pytest

import matcher.engine as engine_module
from corpus.catalogue import builtin_catalogue
from corpus.models import Patent
from eval.invariance import measure, rises
from matcher.engine import MatchEngine
from matcher.teams.plan import challenge_facets, find_solvers
from tests.conftest import SHARED_DATA

PATENTS = SHARED_DATA / "bdci2022_patents" / "patents.jsonl"
MAKERS = {"光刻胶": "demo-031", "大硅片": "demo-030", "高纯度电化学品": "demo-074"}


@pytest.fixture(scope="module")
def catalogue():
    return builtin_catalogue()


@pytest.fixture(scope="module")
def demo_plus_patents(embedder, demo_organisations) -> MatchEngine:
    """The demo organisations plus 300 real patents of other organisations."""
    if not PATENTS.is_file():
        pytest.skip(f"{PATENTS} not found; the invariance check adds real patents from it")
    with PATENTS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 300)]
    patents = [
        Patent(id=r["id"], title=r["title"], abstract=r["abstract"], applicants=[r["assignee"]])
        for r in rows
    ]
    return MatchEngine.build(demo_organisations, embedder, patents, progress=False)


def test_a_confidence_does_not_move_when_unrelated_patents_are_indexed(
    demo_engine, demo_plus_patents, catalogue
):
    challenges = [catalogue.get("ZJ2021-05-04"), *catalogue.challenges[::6]]
    report = measure(demo_engine, demo_plus_patents, challenges)
    assert len(report.shifts) == 10 * len(challenges)
    assert report.summary()["max_shift"] <= 0.10, [s for s in report.shifts if s.delta > 0.10]
    assert not report.rising
    added = set(demo_plus_patents.organisations) - set(demo_engine.organisations)
    assert len(added) > 100  # the patents did join, as organisations of their own


def test_no_list_shows_a_confidence_rising_down_it(demo_engine, catalogue):
    rising = []
    for challenge in catalogue.challenges:
        result = demo_engine.match(challenge.query_text, area=challenge.area, explain=False)
        if rises([c.confidence for c in result.candidates]):
            rising.append(challenge.id)
    assert not rising


def test_each_maker_covers_its_facet_of_the_challenge(demo_engine, catalogue):
    challenge = catalogue.get("ZJ2021-05-04")  # 光刻胶、大硅片、高纯度电化学品等关键材料
    result = demo_engine.match(challenge.query_text, area=challenge.area, top=20)
    assert [f.text for f in result.facets] == list(MAKERS)
    by_id = {c.org_id: c for c in result.candidates}
    for facet, maker in MAKERS.items():
        candidate = by_id[maker]
        covered = {f.facet for f in candidate.facets if f.covered}
        assert facet in covered, (maker, [(f.facet, f.confidence) for f in candidate.facets])
        assert candidate.confidence >= demo_engine.capable_confidence
        assert next(f for f in candidate.facets if f.facet == facet).evidence


def test_a_facet_scores_every_organisation_the_challenge_reaches_as_it_would_alone(
    demo_engine, catalogue, monkeypatch
):
    """A facet searches shallower than the whole text but is scored over every passage the
    challenge reaches: each organisation's facet confidence is the one the facet alone gives
    it, even where the facet's own search (three passages deep here) did not reach it."""
    monkeypatch.setattr(engine_module, "FACET_PASSAGES", 3)
    challenge = catalogue.get("ZJ2021-05-04")
    assessment = demo_engine.assess(challenge.query_text, area=challenge.area)
    assert len(assessment.facets) == 3 and len(assessment.whole.confidence) > 20
    for facet, variant in zip(assessment.facets, assessment.variants, strict=True):
        alone = demo_engine.confidences(facet.query, facets=False)
        for org in assessment.whole.confidence:
            assert variant.confidence[org] == pytest.approx(alone[org], abs=1e-9), (facet, org)


def test_solvers_that_cover_a_facet_rank_above_those_that_cover_none(demo_engine, catalogue):
    challenge = catalogue.get("ZJ2021-05-04")
    facets = challenge_facets(challenge.text, area=challenge.area, engine=demo_engine)
    result = find_solvers(demo_engine, facets, query=challenge.query_text, top=30)
    covered = [s.covered_facets for s in result.solvers]
    assert covered == sorted(covered, reverse=True) and covered[0] >= 1
    ranked = [s.org_id for s in result.solvers]
    for facet, maker in MAKERS.items():
        solver = result.solvers[ranked.index(maker)]
        assert any(f.covered for f in solver.facets if f.facet == facet), (maker, facet)
