"""Everything fitted per embedding model, in one file: ranking weights, confidence, area decisions.

- `RankingConfig` (`regimes.py`): fusion weights and the aggregation per query length.
- `CandidateModel` (`candidate.py`): confidence = P(this organisation can contribute to this
  challenge), a logistic model over a candidate's evidence features.
- `AreaModel` (`area.py`): bulk matching's decision whether a patent addresses an appendix area.
- `Calibration` (`store.py`): the three together, with the model id they were fitted for and
  what they were fitted on; saved as JSON, carried inside every saved index, and refused for
  another model.

`jiebang eval tune` fits all of it on the dev sets (`eval/tune.py`).
"""

from matcher.calibration.area import AREA_FEATURES, AreaModel
from matcher.calibration.candidate import CANDIDATE_FEATURES, CandidateModel
from matcher.calibration.regimes import RankingConfig
from matcher.calibration.store import (
    SHIPPED,
    Calibration,
    default_calibration,
    load_calibration,
    neutral_calibration,
)

__all__ = [
    "AREA_FEATURES",
    "CANDIDATE_FEATURES",
    "SHIPPED",
    "AreaModel",
    "Calibration",
    "CandidateModel",
    "RankingConfig",
    "default_calibration",
    "load_calibration",
    "neutral_calibration",
]
