"""The seed's lead-unit (牵头单位) criteria, section 四（一）, checked per organisation.

The criteria are data (`lead_unit_rules.json`, or a user's copy via
`load_lead_unit_rules(path)`), so a user changes a threshold without touching code. Each
criterion is met, not met, or unknown — a missing figure is never counted as met.

Interpretation of the seed, where it needs one:

- Strategic emerging industries (战略性新兴产业): the revenue floor drops to 5亿元 and "研发经费
  支出占主营业务收入比例不低于4%" becomes binding; "其它指标适当放宽" is read as: the absolute R&D
  spend, R&D staff and equipment figures are still shown but are advisory (they do not decide
  the verdict). A rules file can instead give them a lower `min` and keep them binding.
- When an organisation's strategic-emerging flag is unknown, both readings are checked; the
  verdict is decided only where both agree.
- The national-level base (国家级创新载体) may be held by the lead "或制造业创新中心核心成员单位",
  so it is `team_satisfiable`: alone, an organisation without one is "unknown" (a partner may
  hold one); with `partners` given, any partner's base satisfies it.
- Enterprises lead (企业牵头). A research institute may lead when "其主要参与单位营业收入不低于
  10亿元": checked against the partners' revenue; the enterprise R&D figures do not apply.
  Other kinds cannot lead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from corpus.errors import DataError
from corpus.models import Organisation, OrgKind

RULES_RESOURCE = "lead_unit_rules.json"


class Status(StrEnum):
    """Outcome of one criterion."""

    met = "met"
    not_met = "not_met"
    unknown = "unknown"

    @property
    def label_zh(self) -> str:
        return {"met": "满足", "not_met": "不满足", "unknown": "未知"}[self.value]


class Verdict(StrEnum):
    """Overall outcome: every binding criterion met, one not met, or not decidable from data."""

    eligible = "eligible"
    not_eligible = "not_eligible"
    undetermined = "undetermined"

    @property
    def label_zh(self) -> str:
        return {"eligible": "符合", "not_eligible": "不符合", "undetermined": "待定"}[self.value]

    @property
    def rank(self) -> int:
        """Higher is better: eligible 2, undetermined 1, not eligible 0."""
        return {"eligible": 2, "undetermined": 1, "not_eligible": 0}[self.value]


class EligibilityRegime(StrEnum):
    """Which set of thresholds applies."""

    general = "general"
    strategic_emerging = "strategic_emerging"
    institute = "institute"

    @property
    def label_zh(self) -> str:
        return {
            "general": "一般企业",
            "strategic_emerging": "战略性新兴产业企业",
            "institute": "科研院所牵头",
        }[self.value]


class RegimeOverride(BaseModel):
    """How a criterion changes for strategic-emerging enterprises."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    binding: bool | None = None


class Criterion(BaseModel):
    """One criterion of the rules file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    label: str
    kind: Literal["min", "ratio_min", "any_of"]
    field: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    multiplier: float = 1.0
    unit: str = ""
    min: float | None = None
    any_of: list[str] = []
    accept_prefix: str | None = None
    applies_to: Literal["all", "general", "strategic_emerging"] = "all"
    binding: bool = True
    strategic_emerging: RegimeOverride | None = None
    team_satisfiable: bool = False
    basis: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Criterion:
        needs = {
            "min": ("field", "min"),
            "ratio_min": ("numerator", "denominator", "min"),
            "any_of": ("field",),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"criterion '{self.id}' ({self.kind}) lacks {', '.join(missing)}")
        for name in (self.field, self.numerator, self.denominator):
            if name is not None and name not in Organisation.model_fields:
                raise ValueError(f"criterion '{self.id}': no organisation field '{name}'")
        return self

    def threshold(self, regime: EligibilityRegime) -> float | None:
        override = (
            self.strategic_emerging if regime is EligibilityRegime.strategic_emerging else None
        )
        return override.min if override and override.min is not None else self.min

    def is_binding(self, regime: EligibilityRegime) -> bool:
        override = (
            self.strategic_emerging if regime is EligibilityRegime.strategic_emerging else None
        )
        return override.binding if override and override.binding is not None else self.binding

    def applies(self, regime: EligibilityRegime) -> bool:
        return self.applies_to in ("all", regime.value)


class InstituteLead(BaseModel):
    """The seed's condition for an institute as lead: its main partner's revenue."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[OrgKind]
    participant_revenue_min_yi: float
    basis: str = ""


class LeadUnitRules(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid")

    source: str = ""
    lead_kinds: list[OrgKind]
    institute_lead: InstituteLead | None = None
    strategic_emerging_note: str = ""
    criteria: list[Criterion]


class CriterionCheck(BaseModel):
    """One criterion checked for one organisation."""

    id: str
    label: str
    status: Status
    binding: bool
    value: float | str | None = None
    threshold: float | None = None
    unit: str = ""
    reason: str


class RegimeCheck(BaseModel):
    """All criteria under one regime, and the verdict they give."""

    regime: EligibilityRegime
    verdict: Verdict
    checks: list[CriterionCheck]


class EligibilityReport(BaseModel):
    """Can this organisation lead? Verdict, a one-line reason, and every check behind it."""

    org_id: str
    name: str
    kind: OrgKind
    verdict: Verdict
    reason: str
    regimes: list[RegimeCheck]
    source: str = ""


def load_lead_unit_rules(path: str | Path | None = None) -> LeadUnitRules:
    """The rules file at `path`, or the shipped one; a malformed file is a `DataError`."""
    if path is None:
        where: str | Path = RULES_RESOURCE
        text = files("matcher.teams").joinpath(RULES_RESOURCE).read_text(encoding="utf-8")
    else:
        where = Path(path)
        text = where.read_text(encoding="utf-8-sig")
    try:
        return LeadUnitRules.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise DataError(where, error.lineno, f"not valid JSON: {error.msg}") from error
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise DataError(where, None, f"bad lead-unit rules at {place}: {first['msg']}") from error


def check_lead_unit(
    org: Organisation,
    rules: LeadUnitRules | None = None,
    *,
    partners: Sequence[Organisation] | None = None,
) -> EligibilityReport:
    """Check `org` against the 牵头单位 criteria.

    `partners` (the other members of a proposed team) may satisfy team-satisfiable criteria;
    `None` means "alone", where such a criterion without the organisation's own figure is unknown.
    """
    rules = rules or load_lead_unit_rules()
    if org.kind in rules.lead_kinds:
        if org.strategic_emerging is None:
            regimes = [EligibilityRegime.general, EligibilityRegime.strategic_emerging]
        else:
            regimes = [
                EligibilityRegime.strategic_emerging
                if org.strategic_emerging
                else EligibilityRegime.general
            ]
        results = [_check_regime(org, rules, regime, partners) for regime in regimes]
    elif rules.institute_lead and org.kind in rules.institute_lead.kinds:
        results = [_check_institute(org, rules, partners)]
    else:
        allowed = "、".join(kind.label_zh for kind in rules.lead_kinds)
        check = CriterionCheck(
            id="kind",
            label="单位类型",
            status=Status.not_met,
            binding=True,
            value=org.kind.label_zh,
            reason=f"{org.kind.label_zh}不能作为牵头单位（须为{allowed}）",
        )
        results = [
            RegimeCheck(
                regime=EligibilityRegime.general, verdict=Verdict.not_eligible, checks=[check]
            )
        ]
    verdict, reason = _combine(results)
    return EligibilityReport(
        org_id=org.id,
        name=org.name,
        kind=org.kind,
        verdict=verdict,
        reason=reason,
        regimes=results,
        source=rules.source,
    )


def _check_regime(
    org: Organisation,
    rules: LeadUnitRules,
    regime: EligibilityRegime,
    partners: Sequence[Organisation] | None,
) -> RegimeCheck:
    checks = [
        _check(criterion, org, regime, partners)
        for criterion in rules.criteria
        if criterion.applies(regime)
    ]
    return RegimeCheck(regime=regime, verdict=_verdict(checks), checks=checks)


def _check_institute(
    org: Organisation, rules: LeadUnitRules, partners: Sequence[Organisation] | None
) -> RegimeCheck:
    assert rules.institute_lead is not None
    floor = rules.institute_lead.participant_revenue_min_yi
    known = [p for p in partners or () if p.revenue_yi is not None]
    best = max(known, key=lambda p: p.revenue_yi or 0.0, default=None)
    if best is not None and (best.revenue_yi or 0.0) >= floor:
        status = Status.met
        reason = f"主要参与单位{best.name}营业收入{_num(best.revenue_yi)}亿元 ≥ {_num(floor)}亿元"
    elif partners is None:
        status = Status.unknown
        reason = f"须由主要参与单位满足营业收入 ≥ {_num(floor)}亿元（未指定参与单位）"
    elif best is None:
        status = Status.unknown
        reason = f"参与单位均未提供营业收入（门槛 ≥ {_num(floor)}亿元）"
    else:
        status = Status.not_met
        reason = f"参与单位最高营业收入{_num(best.revenue_yi)}亿元 < {_num(floor)}亿元"
    checks = [
        CriterionCheck(
            id="participant_revenue",
            label="主要参与单位营业收入",
            status=status,
            binding=True,
            value=best.revenue_yi if best else None,
            threshold=floor,
            unit="亿元",
            reason=reason,
        )
    ]
    checks += [
        _check(criterion, org, EligibilityRegime.institute, partners)
        for criterion in rules.criteria
        if criterion.team_satisfiable
    ]
    return RegimeCheck(regime=EligibilityRegime.institute, verdict=_verdict(checks), checks=checks)


def _check(
    criterion: Criterion,
    org: Organisation,
    regime: EligibilityRegime,
    partners: Sequence[Organisation] | None,
) -> CriterionCheck:
    binding = criterion.is_binding(regime)
    threshold = criterion.threshold(regime)
    value: float | str | None  # the figure checked, or the basis an any_of was met on
    if criterion.kind == "any_of":
        status, value, reason = _check_bases(criterion, org, partners)
    else:
        figure = value = _figure(criterion, org)
        assert threshold is not None
        bound = f"{_num(threshold)}{criterion.unit}"
        if figure is None:
            status, reason = Status.unknown, f"未提供数据（门槛 ≥ {bound}）"
            if criterion.kind == "ratio_min":
                reason = f"缺少研发经费支出或主营业务收入，无法计算（门槛 ≥ {bound}）"
        elif figure >= threshold:
            status, reason = Status.met, f"{_num(figure)}{criterion.unit} ≥ {bound}"
        else:
            status, reason = Status.not_met, f"{_num(figure)}{criterion.unit} < {bound}"
    if not binding:
        reason += "（战略性新兴产业适当放宽，仅作参考）"
    return CriterionCheck(
        id=criterion.id,
        label=criterion.label,
        status=status,
        binding=binding,
        value=value,
        threshold=threshold,
        unit=criterion.unit,
        reason=reason,
    )


def _figure(criterion: Criterion, org: Organisation) -> float | None:
    if criterion.kind == "min":
        return getattr(org, criterion.field or "")
    numerator = getattr(org, criterion.numerator or "")
    denominator = getattr(org, criterion.denominator or "")
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator * criterion.multiplier, 2)


def _is_national(criterion: Criterion, base: str) -> bool:
    prefix = criterion.accept_prefix
    return any(name in base for name in criterion.any_of) or bool(
        prefix and base.startswith(prefix)
    )


def _check_bases(
    criterion: Criterion, org: Organisation, partners: Sequence[Organisation] | None
) -> tuple[Status, str | None, str]:
    own = [b for b in getattr(org, criterion.field or "") if _is_national(criterion, b)]
    if own:
        return Status.met, "、".join(own), "、".join(own)
    if criterion.team_satisfiable and partners:
        for partner in partners:
            held = [
                b for b in getattr(partner, criterion.field or "") if _is_national(criterion, b)
            ]
            if held:
                return Status.met, held[0], f"由核心成员单位{partner.name}的{held[0]}满足"
    listed = getattr(org, criterion.field or "")
    if criterion.team_satisfiable and partners is None:
        what = f"所列载体非国家级（{'、'.join(listed)}）" if listed else "未登记国家级创新载体"
        return Status.unknown, None, f"{what}；也可由创新中心核心成员单位满足"
    if listed:
        return Status.not_met, None, f"所列载体非国家级：{'、'.join(listed)}"
    if partners is not None:
        return Status.not_met, None, "本单位及团队成员均未登记国家级创新载体"
    return Status.unknown, None, "未登记国家级创新载体"


def _verdict(checks: Sequence[CriterionCheck]) -> Verdict:
    binding = [c.status for c in checks if c.binding]
    if Status.not_met in binding:
        return Verdict.not_eligible
    if Status.unknown in binding:
        return Verdict.undetermined
    return Verdict.eligible


def _combine(results: Sequence[RegimeCheck]) -> tuple[Verdict, str]:
    verdicts = {r.verdict for r in results}
    if len(verdicts) == 1:
        verdict = results[0].verdict
        failing = [c for r in results for c in r.checks if c.binding and c.status != Status.met]
        if verdict is Verdict.eligible:
            reason = "全部硬性条件满足"
        else:
            word = "不满足" if verdict is Verdict.not_eligible else "数据不足"
            wanted = Status.not_met if verdict is Verdict.not_eligible else Status.unknown
            labels = dict.fromkeys(c.label for c in failing if c.status == wanted)
            reason = f"{word}：{'、'.join(labels)}"
        if len(results) > 1:
            reason += "（无论是否属于战略性新兴产业）"
        return verdict, reason
    parts = "；".join(f"按{r.regime.label_zh}{r.verdict.label_zh}" for r in results)
    return Verdict.undetermined, f"是否属于战略性新兴产业未知：{parts}"


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"
