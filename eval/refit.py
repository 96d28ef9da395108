"""Refit the confidence on a programme's own judgments, and measure it before adopting it.

Users grade candidates (2 能承担, 1 相关, 0 不相关); each graded pair is featurised as the engine
scores it today (`MatchEngine.assess`: whole text and facets; the pair takes the variant where
the current model is most confident). The refit is the maximum a posteriori logistic model with
the current calibration's candidate model as the prior (`fit_logistic_with_prior`): a few dozen
judgments move it a little, hundreds move it far. It is cross-validated over challenges and
adopted only when its CV log-loss on the judgments surely beats the current model's (in 90 % of
resamples of the challenges); ECE, AUC and
nDCG@10 (candidates ordered by confidence, graded by the judgments) are reported with bootstrap
95 % intervals over challenges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.errors import JiebangError
from eval.confidence import ScoredQuery, Variant, expected_calibration_error, ordered_run
from eval.cv import query_folds
from eval.dataset import Qrels
from eval.feedback import FeedbackSet
from eval.metrics import per_query
from matcher.calibration import CandidateModel
from matcher.calibration.candidate import candidate_features
from matcher.calibration.logistic import Logistic, fit_logistic_with_prior
from matcher.engine import MatchEngine

PRIOR_STRENGTHS = ((30.0, 1.0), (30.0, 3.0), (30.0, 10.0))
"""The prior's precision on each standardised coefficient and on the intercept: the refit picks
the one with the best cross-validated log-loss on the judgments. Coefficients stay close to the
prior (what evidence means changes little between programmes); the intercept may move (how often
a programme's assessors call a candidate capable does): EVALUATION.md, "Learning from
judgments"."""
NEUTRAL_STRENGTHS = ((1.0, 1.0),)
"""For a model without a calibration the prior is neutral and weak."""
ADOPT_QUANTILE = 0.10
"""A refit is adopted when its CV log-loss gain, resampled by challenge, stays above zero at this
lower quantile: better in 90 % of resamples, not by the luck of a few judgments."""
NDCG_TOLERANCE = 0.01
"""...and when its CV nDCG@10 (each list ordered by confidence) is no more than this below the
current one's: a refit that calibrates better by ordering a list worse would move capable
organisations down it. (Within lists, not pooled AUC: CV folds' intercepts differ, so pooled
AUC moves even when no list's order does.)"""
MIN_JUDGMENTS = 40
"""Below this the CV cannot tell a refit's gain from luck: with 30 judgments in a domain, one
refit passed the gate and calibrated the domain's unseen challenges worse (EVALUATION.md)."""
MIN_JUDGMENTS_NEUTRAL = 60
MIN_CHALLENGES = 5
BOOTSTRAP = 1000


def score_feedback(engine: MatchEngine, feedback: FeedbackSet) -> dict[str, ScoredQuery]:
    """Each judged challenge of `feedback` scored by `engine`: whole text and facets."""
    scored = {}
    for cid, text in feedback.queries.items():
        assessment = engine.assess(text, area=feedback.areas.get(cid))
        variants = [_variant(v.ranking.scores, v.hits) for v in [assessment.whole,
                                                                *assessment.variants]]  # fmt: skip
        scored[cid] = ScoredQuery(variants[0], variants[1:])
    return scored


def _variant(scores: Mapping[str, float], hits) -> Variant:
    orgs = sorted(scores, key=lambda g: (-scores[g], g))
    return Variant(orgs, candidate_features(np.array([scores[g] for g in orgs]), hits))


@dataclass(frozen=True)
class Measure:
    """Calibration and ranking quality on judged pairs, each with a 95 % bootstrap interval."""

    pairs: int
    challenges: int
    log_loss: tuple[float, float, float]
    ece: tuple[float, float, float]
    auc: tuple[float, float, float] | None
    ndcg_at_10: tuple[float, float, float] | None

    def to_dict(self) -> dict:
        return {
            "pairs": self.pairs,
            "challenges": self.challenges,
            "log_loss": list(self.log_loss),
            "ece": list(self.ece),
            "auc": list(self.auc) if self.auc else None,
            "ndcg@10": list(self.ndcg_at_10) if self.ndcg_at_10 else None,
        }


@dataclass(frozen=True)
class Refit:
    """The refitted model (on every judgment), and what CV says of it against the current one."""

    model: CandidateModel
    before: Measure
    after: Measure
    adopted: bool
    reason: str
    unscored: list[tuple[str, str]] = field(default_factory=list)  # judged, no evidence found

    def to_dict(self) -> dict:
        return {
            "adopted": self.adopted,
            "reason": self.reason,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "unscored_pairs": len(self.unscored),
            "model": self.model.logistic.model_dump(),
        }


def refit(
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    current: CandidateModel,
    *,
    neutral: bool = False,
    folds: int = 5,
    seed: int = 0,
) -> Refit:
    """Refit `current` on the judgments (`qrels`) of the `scored` challenges, cross-validated.

    Refused (a `JiebangError` saying how many are needed) on too few judgments, too few
    challenges or judgments of a single kind (all capable or none).
    """
    pairs, unscored = _pairs(scored, qrels, current)
    needed = MIN_JUDGMENTS_NEUTRAL if neutral else MIN_JUDGMENTS
    capable = sum(grade > 0 for *_, grade in pairs)
    challenges = sorted({cid for cid, *_ in pairs})
    if len(pairs) < needed or len(challenges) < MIN_CHALLENGES:
        raise JiebangError(
            f"a refit needs at least {needed} judged candidates over {MIN_CHALLENGES} challenges "
            f"(with evidence in the index); there are {len(pairs)} over {len(challenges)}"
            + (" (no calibration exists for this model: the prior is neutral)" if neutral else "")
        )
    if capable in (0, len(pairs)):
        raise JiebangError(
            f"all {len(pairs)} judgments say the same ({'capable' if capable else 'not capable'}"
            "): a refit needs both, grade 0 and grade 1 or 2"
        )
    k = min(folds, len(challenges))
    splits = query_folds(challenges, k, seed)
    before = {cid: scored[cid].confidence(current) for cid in challenges}
    measured_before = measure(before, scored, qrels)
    best: tuple[float, tuple[float, float], Measure, dict] | None = None
    for strength in NEUTRAL_STRENGTHS if neutral else PRIOR_STRENGTHS:
        after: dict[str, dict[str, float]] = {}
        for train, test in splits:
            model = _fit(pairs, set(train), current, strength)
            after.update({cid: scored[cid].confidence(model) for cid in test})
        measured = measure(after, scored, qrels)
        if best is None or measured.log_loss[0] < best[0]:
            best = (measured.log_loss[0], strength, measured, after)
    assert best is not None
    _, strength, measured_after, after = best
    gain, sure = _paired_gain(before, after, qrels)
    ndcg_before, ndcg_after = (
        m.ndcg_at_10[0] if m.ndcg_at_10 else None for m in (measured_before, measured_after)
    )
    orders_as_well = (
        ndcg_before is None or ndcg_after is None or ndcg_after >= ndcg_before - NDCG_TOLERANCE
    )
    adopted = sure > 0 and orders_as_well
    reason = (
        f"cross-validated log-loss {measured_after.log_loss[0]:.4f} against the current "
        f"{measured_before.log_loss[0]:.4f} (prior strength {strength[0]:g} on coefficients, "
        f"{strength[1]:g} on the intercept); gain per judgment {gain:.4f}, "
        f"{ADOPT_QUANTILE:.0%} bootstrap bound {sure:.4f}: "
        + ("better, adopted" if adopted else "not surely better, not adopted")
        + (
            ""
            if orders_as_well
            else f" (its nDCG@10 {ndcg_after:.3f} is below the current {ndcg_before:.3f} by "
            f"more than {NDCG_TOLERANCE})"
        )
    )
    final = _fit(pairs, set(challenges), current, strength)
    return Refit(final, measured_before, measured_after, adopted, reason, unscored)


def _paired_gain(
    before: Mapping[str, Mapping[str, float]],
    after: Mapping[str, Mapping[str, float]],
    qrels: Qrels,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean log-loss gain per judged pair of `after` over `before`, and its `ADOPT_QUANTILE`
    bootstrap quantile (challenges resampled)."""
    losses = []
    for cid, grades in qrels.items():
        rows = [(before[cid][o], after[cid][o], g > 0) for o, g in grades.items()
                if o in before.get(cid, {}) and o in after.get(cid, {})]  # fmt: skip
        if rows:
            b, a, y = (np.array(v) for v in zip(*rows, strict=True))
            losses.append((_log_loss(b, y).sum() - _log_loss(a, y).sum(), len(rows)))
    gains = np.array([g for g, _ in losses])
    counts = np.array([n for _, n in losses])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(gains), (BOOTSTRAP, len(gains)))
    sampled = gains[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return float(gains.sum() / counts.sum()), float(np.quantile(sampled, ADOPT_QUANTILE))


def _log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return -(y * np.log(clipped) + (~y) * np.log(1 - clipped))


def _pairs(
    scored: Mapping[str, ScoredQuery], qrels: Qrels, current: CandidateModel
) -> tuple[list[tuple[str, str, dict[str, float], int]], list[tuple[str, str]]]:
    """(challenge, organisation, features of its most confident variant, grade) per judgment."""
    pairs, unscored = [], []
    for cid, grades in sorted(qrels.items()):
        query = scored[cid]
        for org, grade in sorted(grades.items()):
            features = _features(query, org, current)
            if features is None:
                unscored.append((cid, org))
            else:
                pairs.append((cid, org, features, grade))
    return pairs, unscored


def _features(query: ScoredQuery, org: str, model: CandidateModel) -> dict[str, float] | None:
    best, chosen = -1.0, None
    for variant in [query.whole, *query.facets]:
        if org not in variant.orgs:
            continue
        row = variant.orgs.index(org)
        features = {name: float(values[row]) for name, values in variant.features.items()}
        value = float(model.confidence({k: np.array([v]) for k, v in features.items()})[0])
        if value > best:
            best, chosen = value, features
    return chosen


def fit_on(
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    current: CandidateModel,
    strength: tuple[float, float] = PRIOR_STRENGTHS[-1],
) -> CandidateModel:
    """`current` refitted on every judgment in `qrels` (no CV, no checks)."""
    pairs, _ = _pairs(scored, qrels, current)
    return _fit(pairs, {cid for cid, *_ in pairs}, current, strength)


def _fit(
    pairs, challenges: set[str], current: CandidateModel, strength: tuple[float, float]
) -> CandidateModel:
    rows = [(f, g) for cid, _, f, g in pairs if cid in challenges]
    names = current.logistic.features
    x = np.array([[f[name] for name in names] for f, _ in rows])
    y = np.array([g > 0 for _, g in rows])
    logistic: Logistic = fit_logistic_with_prior(
        x, y, current.logistic, strength=strength[0], intercept_strength=strength[1]
    )
    return CandidateModel(logistic=logistic, capable=current.capable).require_monotone()


def measure(
    confidence: Mapping[str, Mapping[str, float]],
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    seed: int = 0,
) -> Measure:
    """Log-loss, ECE and AUC over the judged pairs that have a confidence, and nDCG@10 of the
    confidence order; intervals by resampling challenges."""
    challenges = sorted(c for c in confidence if c in qrels)
    per: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for cid in challenges:
        shown = confidence[cid]
        judged = [(shown[o], g > 0) for o, g in qrels[cid].items() if o in shown]
        if judged:
            values, labels = zip(*judged, strict=True)
            per[cid] = (np.array(values), np.array(labels))
    ndcg = per_query(qrels, ordered_run(confidence, scored), ["ndcg@10"])["ndcg@10"]
    rng = np.random.default_rng(seed)
    keys = list(per)

    def statistics(sample: Sequence[str] | np.ndarray) -> tuple[float, float, float, float]:
        p = np.concatenate([per[c][0] for c in sample])
        y = np.concatenate([per[c][1] for c in sample])
        loss = float(_log_loss(p, y).mean())
        return (
            loss,
            expected_calibration_error(p, y),
            _auc(p, y),
            float(np.mean([ndcg[c] for c in sample if c in ndcg] or [np.nan])),
        )

    point = statistics(keys)
    draws = np.array([statistics(rng.choice(keys, len(keys))) for _ in range(BOOTSTRAP)])

    def interval(i: int) -> tuple[float, float, float] | None:
        if np.isnan(point[i]):
            return None
        low, high = np.nanpercentile(draws[:, i], [2.5, 97.5])
        return (round(point[i], 4), round(float(low), 4), round(float(high), 4))

    def defined(i: int, name: str) -> tuple[float, float, float]:
        """The interval of a measure any judged pair defines (log-loss, ECE)."""
        value = interval(i)
        if value is None:
            raise ValueError(f"{name} is undefined: no judged pair has a confidence")
        return value

    return Measure(
        pairs=int(sum(len(v[0]) for v in per.values())),
        challenges=len(keys),
        log_loss=defined(0, "log-loss"),
        ece=defined(1, "ECE"),
        auc=interval(2),
        ndcg_at_10=interval(3),
    )


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    """The probability a capable pair outranks an incapable one (ties count half); NaN when
    one class is missing."""
    positives, negatives = p[y], p[~y]
    if not len(positives) or not len(negatives):
        return float("nan")
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + 0.5 * ties)


SIMULATED_JUDGMENTS = (10, 30, 100, None)  # None: all of the half's judgments


def simulate_programmes(
    scored: Mapping[str, ScoredQuery],
    qrels: Qrels,
    domain_of: Mapping[str, str],
    *,
    prior_qrels: Qrels | None = None,
    sizes: Sequence[int | None] = SIMULATED_JUDGMENTS,
    seed: int = 0,
) -> list[dict]:
    """A programme adopting the tool, played out on a labelled set, domain by domain.

    For each domain with at least two challenges: the calibration it starts from is fitted on
    the other domains only (so it never saw this kind of challenge); half the domain's
    challenges are judged (their graded pairs, subsampled to each size of `sizes`) and `refit`
    runs on them exactly as `jiebang feedback fit` does (refused below its minimum, adopted only
    when its CV says so: otherwise the calibration stays); the other half measures the
    calibration before and after. Rows pool every domain's unseen half and count the domains
    whose refit was adopted. `prior_qrels` grades the starting calibration's data when the
    programme's assessors grade differently from `qrels` (default: the same).
    """
    from eval.confidence import fit_model

    rng = np.random.default_rng(seed)
    plans = []
    for domain in sorted({domain_of[q] for q in scored}):
        members = sorted(q for q in scored if domain_of[q] == domain)
        if len(members) < 2:
            continue
        others = [q for q in scored if domain_of[q] != domain]
        prior = fit_model(scored, qrels if prior_qrels is None else prior_qrels, others)
        judged, unseen = members[0::2], members[1::2]
        pool = [(q, o, g) for q in judged for o, g in sorted(qrels.get(q, {}).items())]
        plans.append((prior, pool, unseen))
    rows = []
    for size in sizes:
        before: dict[str, dict[str, float]] = {}
        after: dict[str, dict[str, float]] = {}
        adopted = 0
        for prior, pool, unseen in plans:
            pick = pool if size is None or size >= len(pool) else [
                pool[i] for i in sorted(rng.choice(len(pool), size, replace=False))
            ]  # fmt: skip
            feedback: Qrels = {}
            for q, o, g in pick:
                feedback.setdefault(q, {})[o] = g
            model = prior
            try:
                result = refit({q: scored[q] for q in feedback}, feedback, prior)
                if result.adopted:
                    model, adopted = result.model, adopted + 1
            except JiebangError:
                pass  # too few judgments, or all alike: the calibration stays
            before.update({q: scored[q].confidence(prior) for q in unseen})
            after.update({q: scored[q].confidence(model) for q in unseen})
        rows.append({
            "judgments": size or "all of the half",
            "domains": len(plans),
            "refits_adopted": adopted,
            "before": measure(before, scored, qrels),
            "after": measure(after, scored, qrels),
        })  # fmt: skip
    return rows
