"""Calibrated confidence: the query-relative feature, the fit, and the engine's use of both."""

import numpy as np
import pytest

from matcher.calibrate import calibration_feature, default_calibrator, fit_calibrator


def test_cosine_z_is_standardised_over_the_query_cosines():
    cosines = np.array([0.80, 0.82, 0.84, 0.86, 0.88])
    z = calibration_feature("cosine_z", 0.88, cosines)
    assert z == pytest.approx((0.88 - 0.84) / cosines.std())
    assert calibration_feature("cosine", 0.88, cosines) == 0.88


def test_cosine_z_ignores_the_task_level_and_spread_of_cosines():
    """Patent→patent cosines sit higher than challenge→capability ones; z must not care."""
    cosines = np.array([0.80, 0.81, 0.83, 0.86, 0.90])
    z = calibration_feature("cosine_z", 0.90, cosines)
    shifted = calibration_feature("cosine_z", 0.90 + 0.07, cosines + 0.07)
    squeezed = calibration_feature("cosine_z", 0.90 * 0.5, cosines * 0.5)
    assert shifted == pytest.approx(z) and squeezed == pytest.approx(z)


def test_features_and_confidences_of_many_organisations_match_one_at_a_time():
    """The engine scores every reached organisation in one vectorised call."""
    cosines = np.array([0.80, 0.81, 0.83, 0.86, 0.90, 0.84])
    best = np.array([0.90, 0.86, 0.80])
    calibrator = default_calibrator()
    features = calibration_feature("cosine_z", best, cosines)
    assert features.tolist() == pytest.approx(
        [calibration_feature("cosine_z", float(b), cosines) for b in best]
    )
    assert calibrator.confidence(features).tolist() == pytest.approx(
        [calibrator.confidence(float(x)) for x in features]
    )
    assert calibration_feature("cosine_z", best, np.full(4, 0.9)).tolist() == [0.0, 0.0, 0.0]
    assert 0.0 < calibrator.confidence(-1e9) < 1e-20 and calibrator.confidence(1e9) == 1.0


def test_cosine_z_is_zero_without_spread_and_unknown_inputs_raise():
    assert calibration_feature("cosine_z", 0.9, np.array([0.9, 0.9, 0.9])) == 0.0
    assert calibration_feature("cosine_z", 0.9, np.array([0.9])) == 0.0
    with pytest.raises(ValueError, match="no cosine feature"):
        calibration_feature("fused", 0.9, np.array([0.8, 0.9]))
    with pytest.raises(ValueError, match="unknown calibration input"):
        fit_calibrator([0.0, 1.0], [False, True], "x", input="raw")


def test_fit_recovers_a_known_logistic():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, 20_000)
    y = rng.random(x.size) < 1 / (1 + np.exp(-1.5 * (x - 3.0)))
    calibrator = fit_calibrator(x.tolist(), y.tolist(), "synthetic", input="cosine_z")
    assert calibrator.slope == pytest.approx(1.5, rel=0.1)
    assert calibrator.midpoint == pytest.approx(3.0, abs=0.15)
    with pytest.raises(ValueError, match="both relevant and non-relevant"):
        fit_calibrator([0.1, 0.2], [True, True], "x")


def test_shipped_calibrator_is_query_relative_and_monotone():
    calibrator = default_calibrator()
    assert calibrator.input == "cosine_z" and "patents-applicant" in calibrator.fitted_on
    values = [calibrator.confidence(z) for z in (-2.0, 0.0, 2.0, 5.0, 8.0)]
    assert values == sorted(values) and values[0] < 0.01 and values[-1] > 0.9


def test_match_and_score_organisations_agree_on_confidence(demo_engine):
    text = "工业互联网平台边缘计算网关的实时数据采集与协议转换"
    result = demo_engine.match(text, top=5, explain=False)
    scored = demo_engine.score_organisations(text)
    assert result.candidates
    for candidate in result.candidates:
        assert candidate.confidence == pytest.approx(scored[candidate.org_id], abs=1e-4)
    # The best organisation stands out from the rest of the corpus: higher confidence than median.
    assert result.candidates[0].confidence > float(np.median(list(scored.values())))
