"""What both faces (CLI and API) build from the settings: catalogue, embedder, calibration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.catalogue import Catalogue, builtin_catalogue
from corpus.loaders import load_challenges
from corpus.models import Challenge
from service.settings import Settings
from service.usecases.challenges import ChallengeBook, Origin

if TYPE_CHECKING:
    from embed.embedder import Embedder
    from matcher.calibration import Calibration
    from matcher.engine import EngineOptions


def catalogue(settings: Settings) -> Catalogue:
    """The built-in catalogue plus the configured user challenges file, if any.

    A user challenge without an area gets the nearest catalogue area (`area_inferred`); the
    model is only loaded when one needs it.
    """
    base = builtin_catalogue()
    if settings.challenges_file is None:
        return base
    index: list = []

    def infer(text: str) -> tuple[int | None, str]:
        from matcher.areas import AreaIndex

        if not index:
            index.append(AreaIndex(build_embedder(settings), base, build_calibration(settings)))
        return index[0].infer(text)

    def new_id(area: str, text: str) -> str:
        return ChallengeBook.new_id(Origin.challenges_file, area, text)

    found = load_challenges(settings.challenges_file, new_id=new_id, infer_area=infer)
    return base.with_user(found.records)


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (the bundled one is materialised on first use)."""
    from embed.embedder import Embedder

    return Embedder(
        settings.model,
        settings.home,
        settings.batch_size,
        models_dir=settings.models_dir,
        backend=settings.backend,
    )


MODEL_CALIBRATION = "jiebang-calibration.json"
"""A calibration saved inside a model folder is that model's default."""


def configured_calibration(settings: Settings) -> Calibration | None:
    """The calibration the settings choose, first found of: the `JIEBANG_CALIBRATION` file, the
    version adopted from the users' judgments (`jiebang feedback fit`), the model folder's own,
    the one shipped for the model; None for a model with none of them (an index built for it
    fits a neutral one on its own evidence: `MatchEngine.build`)."""
    from matcher.calibration import SHIPPED, default_calibration, load_calibration
    from service.usecases.calibrations import CalibrationVersions

    if settings.calibration is not None:
        return load_calibration(settings.calibration, settings.model)
    adopted = CalibrationVersions(settings.resolved_calibrations_dir, settings.model).active()
    if adopted is not None:
        return adopted
    beside = Path(settings.model) / MODEL_CALIBRATION
    if beside.is_file():  # an adapted model folder carries its own (`jiebang model adapt`)
        return load_calibration(beside, settings.model)
    return default_calibration(settings.model) if settings.model in SHIPPED else None


def build_calibration(settings: Settings) -> Calibration:
    """`configured_calibration`, required (bulk matching and area inference need one)."""
    from matcher.calibration import default_calibration

    return configured_calibration(settings) or default_calibration(settings.model)


def engine_options(settings: Settings) -> EngineOptions:
    """What a new `MatchEngine` takes from the settings: its calibration and index kind."""
    return {"calibration": configured_calibration(settings), "index_kind": settings.index_kind}


def stored_challenges(
    settings: Settings,
) -> tuple[Callable[[], list[Challenge]], Callable[[str], Challenge | None]]:
    """(list, get) over the challenges posted through the API, from the configured database.

    A SQLite file that does not exist yet means none were posted; nothing is created for it.
    """
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return list, lambda _id: None
    from service.db import Database

    database = Database(url)
    return database.list_challenges, database.get_challenge
