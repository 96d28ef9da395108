"""Consortia on crafted and random coverage matrices: constraints, 赛马制, lead units, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.models import Organisation, OrgKind
from matcher.teams.consortium import (
    ACADEMIC_KINDS,
    ConsortiumOptions,
    propose_consortia,
    region_factor,
)
from matcher.teams.coverage import CoverageMatrix
from matcher.teams.eligibility import Verdict
from matcher.teams.facets import user_facets
from matcher.teams.solvers import rank_solvers

ELIGIBLE = dict(
    revenue_yi=12.0,
    rd_spend_wan=3000.0,
    rd_staff=200,
    equipment_wan=2500.0,
    national_bases=["国家企业技术中心"],
    strategic_emerging=False,
)
PROVINCES = ["浙江省", "江苏省", "上海市", "广东省"]


def org(i: int, kind: str, province: str = "浙江省", **figures) -> Organisation:
    return Organisation(
        id=f"o{i:02d}", name=f"示例单位{i}", kind=kind, region={"province": province}, **figures
    )


def matrix(orgs: list[Organisation], values, facet_names=None) -> CoverageMatrix:
    values = np.asarray(values, dtype=float)
    names = facet_names or [f"要点{j}" for j in range(values.shape[1])]
    return CoverageMatrix(tuple(user_facets(names)), tuple(o.id for o in orgs), values)


def random_case(seed: int, n: int = 16, facets: int = 5):
    rng = np.random.default_rng(seed)
    kinds = rng.choice(
        ["enterprise", "university", "institute", "other"], size=n, p=[0.55, 0.2, 0.15, 0.1]
    )
    orgs = []
    for i, kind in enumerate(kinds):
        figures = ELIGIBLE if rng.random() < 0.3 else {"revenue_yi": float(rng.choice([1.0, 20.0]))}
        orgs.append(org(i, kind, str(rng.choice(PROVINCES)), **figures))
    values = rng.random((n, facets)) * (rng.random((n, facets)) < 0.6)
    return orgs, matrix(orgs, values)


@pytest.mark.parametrize("seed", range(25))
def test_random_instances_keep_every_constraint_and_teams_are_disjoint(seed):
    orgs, coverage = random_case(seed)
    by_id = {o.id: o for o in orgs}
    options = ConsortiumOptions(size=4, teams=3, prefer_region=bool(seed % 2))
    result = propose_consortia(coverage, by_id, options=options)
    assert result.teams
    seen: set[str] = set()
    for team in result.teams:
        ids = [m.org_id for m in team.members]
        assert not seen & set(ids), "赛马制 teams must not share members"
        seen |= set(ids)
        kinds = {by_id[i].kind for i in ids}
        has_enterprise = any(o.kind == OrgKind.enterprise for o in orgs)
        has_academic = any(o.kind in ACADEMIC_KINDS for o in orgs)
        if not team.notes:
            assert len(ids) == 4
            assert OrgKind.enterprise in kinds or not has_enterprise
            assert kinds & ACADEMIC_KINDS or not has_academic
        assert team.lead is not None and by_id[team.lead.org_id].kind == OrgKind.enterprise
        assert [m.role for m in team.members].count("lead") == 1
        assert team.lead.flagged == (team.lead.verdict is not Verdict.eligible)
        best = coverage.values[[coverage.org_ids.index(i) for i in ids]].max(axis=0)
        assert team.coverage == pytest.approx(best.mean(), abs=1e-4)
        assert team.gaps == [
            f.id for f, v in zip(coverage.facets, best, strict=True) if v < coverage.capable
        ]
        assert team.covered_facets == len(coverage.facets) - len(team.gaps) > 0
        for member in team.members:
            row = coverage.values[coverage.org_ids.index(member.org_id)]
            capable_for = [f.id for f, v in zip(coverage.facets, row, strict=True)
                           if v >= coverage.capable]  # fmt: skip
            assert member.covers == capable_for and member.filler == (not capable_for)
    ranked = [(team.covered_facets, team.coverage) for team in result.teams]
    assert ranked == sorted(ranked, reverse=True)


def test_an_eligible_enterprise_leads_even_when_another_covers_more():
    orgs = [
        org(0, "enterprise", revenue_yi=1.0),  # covers everything, cannot lead
        org(1, "enterprise", **ELIGIBLE),
        org(2, "university"),
        org(3, "institute"),
    ]
    values = [[0.9, 0.9, 0.9], [0.6, 0.1, 0.1], [0.2, 0.8, 0.1], [0.1, 0.1, 0.8]]
    by_id = {o.id: o for o in orgs}
    result = propose_consortia(matrix(orgs, values), by_id, options=ConsortiumOptions(size=3))
    team = result.teams[0]
    assert team.lead.org_id == "o01" and team.lead.verdict is Verdict.eligible
    assert "符合牵头单位条件" in team.lead.why
    assert {m.org_id for m in team.members} == {"o00", "o01", "o02"}
    facet_owner = {c.facet_id: c.org_id for c in team.facets}
    assert facet_owner == {"F1": "o00", "F2": "o00", "F3": "o00"}
    assert team.members[0].role == "lead"


def test_without_an_eligible_enterprise_the_best_one_leads_flagged():
    orgs = [org(0, "enterprise", revenue_yi=2.0), org(1, "university")]
    result = propose_consortia(matrix(orgs, [[0.9], [0.7]]), {o.id: o for o in orgs})
    lead = result.teams[0].lead
    assert lead.org_id == "o00" and lead.flagged and "暂列牵头单位" in lead.why


def test_no_university_with_coverage_is_explained_with_the_best_partial_team():
    orgs = [org(i, "enterprise", **ELIGIBLE) for i in range(3)] + [org(3, "university")]
    values = [[0.9, 0.1], [0.1, 0.8], [0.5, 0.5], [0.0, 0.0]]
    result = propose_consortia(matrix(orgs, values), {o.id: o for o in orgs})
    team = result.teams[0]
    assert any("产学研约束无法满足" in note for note in team.notes)
    assert {m.org_id for m in team.members} == {"o00", "o01", "o02"}
    assert any("团队规模由4降为3" in note for note in team.notes)


def test_size_larger_than_candidates_and_too_many_teams_are_explained():
    orgs = [org(0, "enterprise", **ELIGIBLE), org(1, "university"), org(2, "enterprise")]
    values = [[0.9], [0.8], [0.7]]
    result = propose_consortia(
        matrix(orgs, values), {o.id: o for o in orgs}, options=ConsortiumOptions(size=2, teams=3)
    )
    assert len(result.teams) == 2
    assert {m.org_id for t in result.teams for m in t.members} == {"o00", "o01", "o02"}
    assert any("只组成了2支" in note for note in result.notes)
    assert any("团队规模由2降为1" in note for note in result.teams[1].notes)


def test_team_of_one_explains_that_产学研_cannot_fit():
    orgs = [org(0, "enterprise", **ELIGIBLE), org(1, "university")]
    result = propose_consortia(
        matrix(orgs, [[0.6], [0.9]]), {o.id: o for o in orgs}, options=ConsortiumOptions(size=1)
    )
    team = result.teams[0]
    assert [m.org_id for m in team.members] == ["o00"]
    assert any("团队规模为1" in note for note in team.notes)


def test_no_facets_no_hits_and_bad_sizes_explain_instead_of_raising():
    orgs = [org(0, "enterprise")]
    empty = CoverageMatrix((), (), np.zeros((0, 0)))
    assert "没有分解出任何技术要点" in propose_consortia(empty, {}).notes[0]
    assert "没有分解出任何技术要点" in rank_solvers(empty, {}).notes[0]
    no_hits = CoverageMatrix(tuple(user_facets(["甲"])), (), np.zeros((0, 1)))
    assert "没有任何单位" in propose_consortia(no_hits, {}).notes[0]
    assert "没有任何单位" in rank_solvers(no_hits, {}).notes[0]
    zero = propose_consortia(
        matrix(orgs, [[0.5]]), {"o00": orgs[0]}, options=ConsortiumOptions(size=0)
    )
    assert zero.teams == [] and "至少为1" in zero.notes[0]


def test_region_preference_breaks_near_ties_towards_zhejiang_without_changing_reported_coverage():
    orgs = [
        org(0, "enterprise", "广东省", **ELIGIBLE),
        org(1, "enterprise", "浙江省", **ELIGIBLE),
        org(2, "university", "浙江省"),
    ]
    values = [[0.9, 0.0], [0.85, 0.0], [0.0, 0.8]]
    by_id = {o.id: o for o in orgs}
    plain = propose_consortia(matrix(orgs, values), by_id, options=ConsortiumOptions(size=2))
    preferred = propose_consortia(
        matrix(orgs, values), by_id, options=ConsortiumOptions(size=2, prefer_region=True)
    )
    assert plain.teams[0].lead.org_id == "o00"
    assert preferred.teams[0].lead.org_id == "o01"
    assert preferred.teams[0].coverage == pytest.approx((0.85 + 0.8) / 2)
    assert (
        region_factor(orgs[1])
        > region_factor(org(9, "enterprise", "江苏省"))
        > region_factor(orgs[0])
    )


def test_solvers_rank_by_facets_covered_then_expected_share():
    orgs = [org(0, "enterprise"), org(1, "university"), org(2, "institute"), org(3, "other")]
    values = [[0.95, 0.01, 0.01], [0.6, 0.6, 0.6], [0.7, 0.7, 0.1], [0.45, 0.45, 0.45]]
    result = rank_solvers(matrix(orgs, values), {o.id: o for o in orgs}, top=4)
    # 3 facets, 2, 1 (a specialist), then 0 however evenly close it comes: capable is 0.5.
    assert [s.org_id for s in result.solvers] == ["o01", "o02", "o00", "o03"]
    assert [s.covered_facets for s in result.solvers] == [3, 2, 1, 0]
    top = result.solvers[0]
    assert (
        top.expected_share == pytest.approx(0.6) and [f.coverage for f in top.facets] == [0.6] * 3
    )
    assert result.solvers[2].expected_share == pytest.approx(0.97 / 3, abs=1e-4)
    assert not result.notes
    narrow = rank_solvers(matrix(orgs[:1], values[:1]), {"o00": orgs[0]})
    assert "没有单一单位覆盖全部3个要点（最多覆盖1个" in narrow.notes[0]


def test_a_maker_whose_capability_is_the_facet_is_never_its_gap(demo_engine):
    from corpus.catalogue import builtin_catalogue
    from matcher.teams.plan import challenge_facets, find_consortia

    challenge = builtin_catalogue().get("ZJ2021-05-04")  # 光刻胶、大硅片、高纯度电化学品等关键材料
    facets = challenge_facets(challenge.text, area=challenge.area, engine=demo_engine)
    result = find_consortia(
        demo_engine, facets, query=challenge.query_text, options=ConsortiumOptions(size=4, teams=2)
    )
    makers = {"光刻胶": "曜光光刻材料有限公司（示例）", "大硅片": "晶汐硅材料股份有限公司（示例）"}
    checked = 0
    for team in result.teams:
        names = {m.name for m in team.members}
        for cover in team.facets:
            if makers.get(cover.facet) in names:
                assert not cover.gap, (cover.facet, cover.coverage)
                checked += 1
    assert checked >= 2


def test_members_that_cover_nothing_join_only_to_fill_the_size_and_are_marked():
    orgs = [
        org(0, "enterprise", **ELIGIBLE),  # covers F1
        org(1, "university"),  # covers F2
        org(2, "enterprise", **ELIGIBLE),  # evenly weak: covers nothing
        org(3, "institute"),  # covers F2 less well than o01: still capable
    ]
    values = [[0.9, 0.1], [0.1, 0.8], [0.45, 0.45], [0.0, 0.6]]
    by_id = {o.id: o for o in orgs}
    three = propose_consortia(matrix(orgs, values), by_id, options=ConsortiumOptions(size=3))
    team = three.teams[0]
    assert {m.org_id for m in team.members} == {"o00", "o01", "o03"}  # not the evenly weak one
    assert not any(m.filler for m in team.members) and team.covered_facets == 2
    four = propose_consortia(matrix(orgs, values), by_id, options=ConsortiumOptions(size=4))
    filler = next(m for m in four.teams[0].members if m.org_id == "o02")
    assert filler.filler and filler.covers == []


def test_a_team_that_would_cover_nothing_is_not_offered():
    orgs = [org(i, kind, **ELIGIBLE) for i, kind in enumerate(["enterprise", "university"] * 3)]
    values = [[0.9, 0.1], [0.1, 0.8], [0.2, 0.3], [0.3, 0.2], [0.1, 0.1], [0.2, 0.2]]
    result = propose_consortia(
        matrix(orgs, values), {o.id: o for o in orgs}, options=ConsortiumOptions(size=2, teams=3)
    )
    assert len(result.teams) == 1 and result.teams[0].covered_facets == 2
    assert any("只组成了1支" in note for note in result.notes)
