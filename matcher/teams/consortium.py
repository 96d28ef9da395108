"""公司+联盟 consortia and 赛马制: teams that jointly cover a challenge's facets.

A facet is *covered* when a member's calibrated confidence for it (the same P(can contribute)
the candidates show) reaches the capable level. A team first covers as many facets as it can,
then maximises Σ_f w_f · max_{m ∈ team} cov[m, f] (see `optimise`), under:

- 产学研: at least one enterprise and at least one university, institute or new R&D institution;
- a lead unit (牵头单位): an enterprise, preferably one meeting the seed's criteria
  (`eligibility`) within the team. Every enterprise among the most relevant is tried as the fixed
  lead; the team covering the most facets wins, then the one whose lead has the best verdict,
  then the higher coverage. A lead that is not confirmed eligible is flagged;
- members are organisations capable for at least one facet; one that covers none joins only
  where the size or the 产学研 rule cannot be met otherwise, and is marked (`Member.filler`);
- optionally a region preference: coverage is discounted by region tier while optimising
  (浙江 1.0, 长三角 上海/江苏/安徽 0.9, elsewhere 0.8); reported coverage is never discounted.

`teams = T` builds T disjoint teams one after another from what is left (赛马制), ranked by
facets covered, then coverage; a team that would cover no facet is not offered. Whatever cannot
be satisfied — too few candidates, no university with any coverage,
no facets — is explained in `notes` next to the best partial answer; nothing raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from corpus.models import Organisation, OrgKind
from matcher.teams.coverage import CoverageMatrix
from matcher.teams.eligibility import (
    EligibilityReport,
    LeadUnitRules,
    Verdict,
    check_lead_unit,
    load_lead_unit_rules,
)
from matcher.teams.facets import Facet
from matcher.teams.optimise import SearchMethod, best_team, team_value

ACADEMIC_KINDS = frozenset({OrgKind.university, OrgKind.institute, OrgKind.new_rd_institution})
REGION_TIERS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("浙江",), 1.0),
    (("上海", "江苏", "安徽"), 0.9),
)
OTHER_REGION_FACTOR = 0.8
_ALWAYS_IN_POOL = 5  # per kind, so 产学研 stays satisfiable beyond the top of the pool


class ConsortiumOptions(BaseModel):
    """How to build teams."""

    size: int = Field(default=4, description="Members per team.")
    teams: int = Field(default=1, description="Disjoint teams to propose (赛马制).")
    require_enterprise: bool = Field(default=True, description="An enterprise lead is required.")
    require_academic: bool = Field(default=True, description="A university/institute is required.")
    prefer_region: bool = Field(default=False, description="Prefer 浙江, then 长三角.")
    gap_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Below this confidence a facet is a gap; default: the calibration's "
        "capable level.",
    )
    pool_size: int = Field(default=40, description="Most relevant organisations considered.")
    lead_candidates: int = Field(default=8, description="Enterprises tried as the fixed lead.")
    exhaustive_limit: int = Field(default=200_000, description="Enumerate when this few teams.")


class FacetCover(BaseModel):
    """Who in the team covers one facet best."""

    facet_id: str
    facet: str
    org_id: str | None
    name: str | None
    coverage: float
    evidence: str | None = None
    gap: bool


class Member(BaseModel):
    """One member: role, the facets it is capable for, its confidence for each facet."""

    org_id: str
    name: str
    kind: OrgKind
    region: str
    role: Literal["lead", "member"]
    covers: list[str] = Field(description="Facets whose confidence reaches the gap threshold.")
    filler: bool = Field(
        default=False,
        description="Covers no facet: joined only because the size or the 产学研 rule needed it.",
    )
    coverage: dict[str, float]
    evidence: dict[str, str]


class LeadUnit(BaseModel):
    """The lead and why: its eligibility within this team."""

    org_id: str
    name: str
    verdict: Verdict
    flagged: bool
    why: str
    report: EligibilityReport


class Team(BaseModel):
    """One proposed consortium."""

    rank: int
    coverage: float = Field(description="Weighted mean over facets of the best member's coverage.")
    covered_share: float = Field(description="Share of facets at or above the gap threshold.")
    covered_facets: int = Field(description="Facets some member is capable for.")
    members: list[Member]
    facets: list[FacetCover]
    gaps: list[str]
    lead: LeadUnit | None
    method: SearchMethod
    notes: list[str] = []


class ConsortiumResult(BaseModel):
    """Ranked disjoint teams; `notes` explains whatever could not be satisfied."""

    query: str
    facets: list[Facet]
    options: ConsortiumOptions
    teams: list[Team]
    notes: list[str] = []


def region_factor(org: Organisation) -> float:
    """The preference factor of an organisation's region (`REGION_TIERS`)."""
    for names, factor in REGION_TIERS:
        if any(org.region.matches(name) for name in names):
            return factor
    return OTHER_REGION_FACTOR


def propose_consortia(
    coverage: CoverageMatrix,
    organisations: Mapping[str, Organisation],
    *,
    options: ConsortiumOptions | None = None,
    rules: LeadUnitRules | None = None,
    query: str = "",
) -> ConsortiumResult:
    """`options.teams` disjoint teams covering `coverage.facets`, best first, with notes."""
    options = options or ConsortiumOptions()
    if options.gap_threshold is None:
        options = options.model_copy(update={"gap_threshold": coverage.capable})
    rules = rules or load_lead_unit_rules()
    result = ConsortiumResult(query=query, facets=list(coverage.facets), options=options, teams=[])
    if not coverage.facets:
        result.notes.append("挑战文本没有分解出任何技术要点（facet），无法组建联合体")
        return result
    if options.size < 1 or options.teams < 1:
        result.notes.append(f"团队规模（{options.size}）和队伍数（{options.teams}）都须至少为1")
        return result
    builder = _TeamBuilder(coverage, organisations, options, rules)
    if builder.pool.size == 0:
        result.notes.append("没有任何单位对该挑战的要点有证据命中，无法组建联合体")
        return result
    if options.prefer_region:
        result.notes.append(
            "地域偏好：优化时浙江单位系数1.0、长三角（上海/江苏/安徽）0.9、其他0.8；报告的覆盖度为原值"
        )
    used: set[int] = set()
    teams: list[Team] = []
    for number in range(1, options.teams + 1):
        allowed = np.zeros(len(coverage.org_ids), dtype=bool)
        allowed[[row for row in builder.pool if row not in used]] = True
        if not (allowed & builder.capable).any():
            result.notes.append(
                f"剩余单位对任何要点都达不到可承担水平：只组成了{number - 1}支互不重叠的队伍"
                f"（要求{options.teams}支）"
            )
            break
        team = builder.build(allowed)
        if not team.covered_facets:
            result.notes.append(f"第{number}支队伍的成员对任何要点都达不到可承担水平，未列出")
            break
        used.update(builder.rows_of(team))
        teams.append(team)
    teams.sort(key=lambda team: (-team.covered_facets, -team.coverage))
    for rank, team in enumerate(teams, start=1):
        team.rank = rank
    result.teams = teams
    return result


class _TeamBuilder:
    """Shared state for building the teams of one challenge."""

    def __init__(
        self,
        coverage: CoverageMatrix,
        organisations: Mapping[str, Organisation],
        options: ConsortiumOptions,
        rules: LeadUnitRules,
    ) -> None:
        if options.gap_threshold is None:  # `propose_consortia` sets it before building
            raise ValueError("a team builder needs options.gap_threshold")
        self.coverage = coverage
        self.options = options
        self.threshold: float = options.gap_threshold
        self.rules = rules
        self.orgs = [
            organisations.get(org_id) or Organisation(id=org_id, name=org_id)
            for org_id in coverage.org_ids
        ]
        self.weights = coverage.weights
        self.relevance = coverage.values @ (self.weights / self.weights.sum())
        kinds = [org.kind for org in self.orgs]
        self.enterprise = np.array([k == OrgKind.enterprise for k in kinds], dtype=bool)
        self.academic = np.array([k in ACADEMIC_KINDS for k in kinds], dtype=bool)
        self.pool = self._pool()
        reached = coverage.values >= self.threshold
        self.capable = reached.any(axis=1)
        factors = np.array(
            [region_factor(org) if options.prefer_region else 1.0 for org in self.orgs]
        )
        # A covered facet is worth more than any amount of coverage below the threshold, so the
        # optimiser covers the most facets first, then the most coverage.
        self.objective = np.where(reached, 1.0, 0.0) + coverage.values * factors[:, None]
        self._alone: dict[int, EligibilityReport] = {}

    def _pool(self) -> np.ndarray:
        relevant = [i for i in np.argsort(-self.relevance, kind="stable") if self.relevance[i] > 0]
        chosen = relevant[: self.options.pool_size]
        for mask in (self.enterprise, self.academic):
            chosen += [i for i in relevant if mask[i]][:_ALWAYS_IN_POOL]
        return np.array(sorted(set(chosen), key=lambda i: -self.relevance[i]), dtype=int)

    def rows_of(self, team: Team) -> list[int]:
        index = {org_id: i for i, org_id in enumerate(self.coverage.org_ids)}
        return [index[member.org_id] for member in team.members]

    def alone(self, row: int) -> EligibilityReport:
        if row not in self._alone:
            self._alone[row] = check_lead_unit(self.orgs[row], self.rules)
        return self._alone[row]

    def build(self, allowed: np.ndarray) -> Team:
        notes: list[str] = []
        size = self.options.size
        available = int(allowed.sum())
        if size > available:
            notes.append(f"候选单位只剩{available}家，团队规模由{size}降为{available}")
            size = available
        allowed = self._members_allowed(allowed, size)
        has_enterprise = bool((self.enterprise & allowed).any())
        need_academic = self.options.require_academic
        if need_academic and not (self.academic & allowed).any():
            notes.append(
                "没有任何高校/科研院所对本挑战的要点有覆盖：产学研约束无法满足，以下为不含学研单位的最佳组合"
            )
            need_academic = False
        if self.options.require_enterprise and not has_enterprise:
            notes.append(
                "没有任何企业对本挑战的要点有覆盖：无法指定企业牵头单位，以下为不含企业的最佳组合"
            )
        lead_first = self.options.require_enterprise and has_enterprise
        if need_academic and lead_first and size < 2:
            notes.append("团队规模为1，无法同时包含企业与高校/科研院所：保留牵头企业")
            need_academic = False
        requirements = [self.academic] if need_academic else []
        if lead_first:
            rows, method, lead = self._best_with_lead(size, allowed, requirements)
        else:
            rows, method = best_team(
                self.objective,
                self.weights,
                size,
                allowed=allowed,
                requirements=requirements,
                exhaustive_limit=self.options.exhaustive_limit,
            )
            lead = self._choose_lead(rows)
        return self._describe(rows, lead, method, notes)

    def _members_allowed(self, allowed: np.ndarray, size: int) -> np.ndarray:
        """Capable organisations, plus those that cover nothing only where the team needs them:
        all of them when too few are capable to fill `size`, else those of a kind the 产学研 rule
        needs and no capable organisation has."""
        capable = allowed & self.capable
        if capable.sum() < size:
            return allowed
        for kind in (self.enterprise, self.academic):
            if not (capable & kind).any():
                capable |= allowed & kind
        return capable

    def _best_with_lead(
        self, size: int, allowed: np.ndarray, requirements: Sequence[np.ndarray]
    ) -> tuple[list[int], SearchMethod, tuple[int, EligibilityReport] | None]:
        enterprises = [i for i in self.pool if allowed[i] and self.enterprise[i]]
        enterprises.sort(key=lambda i: (-self.alone(i).verdict.rank, -self.relevance[i]))
        best: tuple[
            tuple[int, int, float], list[int], SearchMethod, tuple[int, EligibilityReport] | None
        ]
        best = ((-1, -1, -1.0), [], "greedy", None)
        for lead_row in enterprises[: self.options.lead_candidates]:
            rows, method = best_team(
                self.objective,
                self.weights,
                size,
                fixed=[lead_row],
                allowed=allowed,
                requirements=requirements,
                exhaustive_limit=self.options.exhaustive_limit,
            )
            lead = self._choose_lead(rows)
            rank = lead[1].verdict.rank if lead else -1
            key = (self._covered(rows), rank, team_value(self.objective, self.weights, rows))
            if key > best[0]:
                best = (key, rows, method, lead)
        return best[1], best[2], best[3]

    def _covered(self, rows: Sequence[int]) -> int:
        """Facets some member of `rows` is capable for."""
        reached = self.coverage.values[list(rows)] >= self.threshold
        return int(reached.any(axis=0).sum()) if len(rows) else 0

    def _choose_lead(self, rows: Sequence[int]) -> tuple[int, EligibilityReport] | None:
        """The enterprise member with the best verdict within the team, then the most relevant."""
        reports = []
        for row in rows:
            if not self.enterprise[row]:
                continue
            partners = [self.orgs[other] for other in rows if other != row]
            reports.append((row, check_lead_unit(self.orgs[row], self.rules, partners=partners)))
        if not reports:
            return None
        return max(reports, key=lambda pair: (pair[1].verdict.rank, self.relevance[pair[0]]))

    def _describe(
        self,
        rows: Sequence[int],
        lead: tuple[int, EligibilityReport] | None,
        method: SearchMethod,
        notes: list[str],
    ) -> Team:
        threshold = self.threshold
        values = self.coverage.values
        facets = self.coverage.facets
        covers: list[FacetCover] = []
        for j, facet in enumerate(facets):
            best_row = max(rows, key=lambda r: values[r, j]) if rows else None
            value = float(values[best_row, j]) if best_row is not None else 0.0
            gap = value < threshold
            org_id = self.coverage.org_ids[best_row] if best_row is not None else None
            covers.append(
                FacetCover(
                    facet_id=facet.id,
                    facet=facet.text,
                    org_id=org_id,
                    name=self.orgs[best_row].name if best_row is not None else None,
                    coverage=round(value, 4),
                    evidence=self.coverage.evidence_for(org_id, facet.id) if org_id else None,
                    gap=gap,
                )
            )
        lead_row = lead[0] if lead else None
        members = []
        for row in sorted(rows, key=lambda r: (r != lead_row, -self.relevance[r])):
            org = self.orgs[row]
            capable_for = [f.id for j, f in enumerate(facets) if values[row, j] >= threshold]
            members.append(
                Member(
                    org_id=org.id,
                    name=org.name,
                    kind=org.kind,
                    region=org.region.label(),
                    role="lead" if row == lead_row else "member",
                    covers=capable_for,
                    filler=not capable_for,
                    coverage={f.id: round(float(values[row, j]), 4) for j, f in enumerate(facets)},
                    evidence={
                        f.id: text
                        for f in facets
                        if (text := self.coverage.evidence_for(org.id, f.id)) is not None
                    },
                )
            )
        weights = self.weights / self.weights.sum()
        return Team(
            rank=0,
            coverage=round(team_value(values, weights, rows), 4),
            covered_share=round(sum(not c.gap for c in covers) / len(covers), 4),
            covered_facets=sum(not c.gap for c in covers),
            members=members,
            facets=covers,
            gaps=[c.facet_id for c in covers if c.gap],
            lead=self._lead_unit(lead),
            method=method,
            notes=notes,
        )

    def _lead_unit(self, lead: tuple[int, EligibilityReport] | None) -> LeadUnit | None:
        if lead is None:
            return None
        row, report = lead
        if report.verdict is Verdict.eligible:
            why = f"符合牵头单位条件（{report.reason}）"
        else:
            why = (
                f"未确认符合牵头单位条件（{report.verdict.label_zh}：{report.reason}），"
                "作为团队中条件最好的企业暂列牵头单位"
            )
        return LeadUnit(
            org_id=self.orgs[row].id,
            name=self.orgs[row].name,
            verdict=report.verdict,
            flagged=report.verdict is not Verdict.eligible,
            why=why,
            report=report,
        )
