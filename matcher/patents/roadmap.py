"""Technology roadmap: each challenge's capability coverage and patent activity → one of the
seed's three batches (应用替代一批 / 应急攻关一批 / 前瞻部署一批), by rules kept as data.

Per challenge:
- `strong_orgs`: organisations whose calibrated match confidence is ≥ `strong_confidence`
  (by default the calibration's capable level: more likely able to contribute than not);
- `best_confidence` (and `best_org`): the strongest organisation;
- `strong_orgs_percentile`: the share of challenges with fewer strong organisations;
- `patents`: patents matched to it (from a bulk matches file); `patent_percentile`: the share
  of challenges with fewer patents (0 = least active, → 1 = most active);
- `coverage` = best_confidence × min(1, strong_orgs / coverage_target), in [0, 1];
- `gap` = 1 − coverage: how far local capability is from covering the challenge.

Rules (`DEFAULT_RULES`, overridable by a JSON or TOML file with the same keys) are tried in
order; the first whose every condition holds gives the batch. A condition is `min_<metric>`
(metric ≥ value) or `max_<metric>` (metric ≤ value) for any metric above. The last rule must have
no condition, so every challenge lands somewhere. Defaults, as the issue puts it:
1. 应用替代一批: strong coverage — ≥ 3 strong organisations, best ≥ 0.8, and more strong
   organisations than half of the challenges;
2. 应急攻关一批: otherwise, where patenting is active (top half of challenges, ≥ 1 patent);
3. 前瞻部署一批: everything else — sparse everywhere.
The defaults are partly relative (percentiles) on purpose: how high calibrated confidences run
depends on the organisation corpus and the engine's calibration, and a relative rule still
spreads the challenges over the batches. Put absolute thresholds in a rules file to pin them.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.errors import JiebangError
from corpus.models import Challenge

BATCHES = ("应用替代一批", "应急攻关一批", "前瞻部署一批")
MARKS = dict(zip(BATCHES, "替急瞻", strict=True))  # one-character labels in the heatmap
METRICS = (
    "strong_orgs",
    "strong_orgs_percentile",
    "best_confidence",
    "patents",
    "patent_percentile",
    "coverage",
    "gap",
)

DEFAULT_RULES: dict[str, object] = {
    "strong_confidence": None,  # None: the engine calibration's capable level
    "coverage_target": 3,
    "rules": [
        {
            "batch": "应用替代一批",
            "why": "本地已有多家强匹配单位：以应用推广、替代进口为主",
            "when": {
                "min_strong_orgs": 3,
                "min_best_confidence": 0.8,
                "min_strong_orgs_percentile": 0.5,
            },
        },
        {
            "batch": "应急攻关一批",
            "why": "本地能力不足而专利活跃：技术路线已明、亟需集中攻关",
            "when": {"min_patent_percentile": 0.5, "min_patents": 1},
        },
        {"batch": "前瞻部署一批", "why": "能力与专利均稀疏：前瞻布局、长期培育", "when": {}},
    ],
}


@dataclass(frozen=True)
class Rule:
    """Batch `batch` when every condition in `when` holds; `why` explains it to readers."""

    batch: str
    why: str
    when: dict[str, float]

    def holds(self, metrics: Mapping[str, float]) -> bool:
        for condition, bound in self.when.items():
            bound_kind, metric = condition.split("_", 1)
            value = metrics[metric]
            if (bound_kind == "min" and value < bound) or (bound_kind == "max" and value > bound):
                return False
        return True

    def describe(self) -> str:
        parts = [
            f"{metric} {'≥' if kind == 'min' else '≤'} {bound:g}"
            for kind, metric, bound in (
                (*condition.split("_", 1), bound) for condition, bound in self.when.items()
            )
        ]
        return " 且 ".join(parts) or "其余全部"


def _rule(data: Mapping[str, object]) -> Rule:
    when = dict(data.get("when") or {})  # type: ignore[call-overload]
    return Rule(
        str(data["batch"]), str(data.get("why", "")), {k: float(v) for k, v in when.items()}
    )


@dataclass(frozen=True)
class RoadmapRules:
    """Thresholds and ordered rules; see the module docstring."""

    strong_confidence: float
    coverage_target: int
    rules: tuple[Rule, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, capable: float) -> RoadmapRules:
        """Rules from a dict shaped like `DEFAULT_RULES`; missing keys keep their defaults.

        `capable` (the calibration's capable level) stands in for a null `strong_confidence`.
        """
        merged = {**DEFAULT_RULES, **data}
        if merged["strong_confidence"] is None:
            merged["strong_confidence"] = capable
        unknown = set(data) - set(DEFAULT_RULES)
        if unknown:
            raise JiebangError(f"unknown roadmap setting(s): {', '.join(sorted(unknown))}")
        if not isinstance(merged["rules"], list) or not all(
            isinstance(r, dict) for r in merged["rules"]
        ):
            raise JiebangError("invalid roadmap rules: 'rules' must be a list of objects")
        try:
            rules = tuple(_rule(r) for r in merged["rules"])
            strong = float(merged["strong_confidence"])  # type: ignore[arg-type]
            target = int(merged["coverage_target"])  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError) as error:
            raise JiebangError(f"invalid roadmap rules: {error}") from None
        for rule in rules:
            for condition in rule.when:
                kind, _, metric = condition.partition("_")
                if kind not in ("min", "max") or metric not in METRICS:
                    raise JiebangError(
                        f"invalid roadmap condition {condition!r} in rule {rule.batch}: use "
                        f"min_/max_ with one of {', '.join(METRICS)}"
                    )
        if not rules or rules[-1].when:
            raise JiebangError("roadmap rules must end with a rule without conditions")
        if not 0 <= strong <= 1 or target < 1:
            raise JiebangError("strong_confidence must be in [0, 1] and coverage_target ≥ 1")
        return cls(strong, target, rules)

    def to_dict(self) -> dict[str, object]:
        return {
            "strong_confidence": self.strong_confidence,
            "coverage_target": self.coverage_target,
            "rules": [asdict(rule) for rule in self.rules],
        }


def load_roadmap_rules(path: str | Path | None, *, capable: float) -> RoadmapRules:
    """`DEFAULT_RULES`, overridden by a .json or .toml file when `path` is given.

    `capable` is the engine calibration's capable level, the default `strong_confidence`.
    """
    if path is None:
        return RoadmapRules.from_dict({}, capable=capable)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except OSError as error:
        raise JiebangError(f"{path}: cannot read rules: {error.strerror or error}") from None
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise JiebangError(f"{path}: invalid rules file: {error}") from None
    if not isinstance(data, dict):
        raise JiebangError(f"{path}: rules must be an object")
    return RoadmapRules.from_dict(data, capable=capable)


@dataclass
class ChallengeStatus:
    """One roadmap row."""

    challenge_id: str
    area_no: int | None
    area: str
    text: str
    strong_orgs: int
    best_confidence: float
    best_org: str
    patents: int
    patent_percentile: float = 0.0
    strong_orgs_percentile: float = 0.0
    coverage: float = 0.0
    gap: float = 1.0
    batch: str = ""
    why: str = ""
    rule: str = ""
    metrics: dict[str, float] = field(default_factory=dict, repr=False)


def assess(
    challenges: Sequence[Challenge],
    rules: RoadmapRules,
    *,
    confidences: Callable[[Challenge], Mapping[str, float]] | None = None,
    org_names: Mapping[str, str] | None = None,
    patent_counts: Mapping[str, int] | None = None,
) -> list[ChallengeStatus]:
    """Measure and classify every challenge.

    `confidences(challenge)` gives calibrated confidences per organisation id (e.g.
    `MatchEngine.confidences` of its `query_text` and area); without it coverage is zero.
    `patent_counts` maps challenge ids to matched patents (e.g. from a landscape); without it
    activity is zero.
    """
    org_names = org_names or {}
    patent_counts = patent_counts or {}
    statuses = []
    for challenge in challenges:
        scores = confidences(challenge) if confidences else {}
        best_org = max(scores, key=scores.__getitem__, default="")
        statuses.append(
            ChallengeStatus(
                challenge_id=challenge.id,
                area_no=challenge.area_no,
                area=challenge.area,
                text=challenge.text,
                strong_orgs=sum(1 for s in scores.values() if s >= rules.strong_confidence),
                best_confidence=round(float(scores.get(best_org, 0.0)), 4),
                best_org=org_names.get(best_org, best_org),
                patents=int(patent_counts.get(challenge.id, 0)),
            )
        )
    return classify(statuses, rules)


def classify(statuses: list[ChallengeStatus], rules: RoadmapRules) -> list[ChallengeStatus]:
    """Fill the derived metrics and the batch of each status (in place; also returned)."""
    patents = [status.patents for status in statuses]
    strong = [status.strong_orgs for status in statuses]
    for status in statuses:
        status.patent_percentile = _share_below(patents, status.patents)
        status.strong_orgs_percentile = _share_below(strong, status.strong_orgs)
        share = min(1.0, status.strong_orgs / rules.coverage_target)
        status.coverage = round(status.best_confidence * share, 4)
        status.gap = round(1 - status.coverage, 4)
        status.metrics = {metric: float(getattr(status, metric)) for metric in METRICS}
        rule = next(rule for rule in rules.rules if rule.holds(status.metrics))
        status.batch, status.why, status.rule = rule.batch, rule.why, rule.describe()
    return statuses


def _share_below(values: list[int], value: int) -> float:
    return round(sum(1 for other in values if other < value) / len(values), 4)
