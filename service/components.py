"""What both faces (CLI and API) build from the settings: the catalogue and the embedder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpus.catalogue import Catalogue, builtin_catalogue
from corpus.loaders import load_challenges
from service.settings import Settings

if TYPE_CHECKING:
    from embed.embedder import Embedder


def catalogue(settings: Settings) -> Catalogue:
    """The built-in catalogue plus the configured user challenges file, if any."""
    base = builtin_catalogue()
    if settings.challenges_file is None:
        return base
    return base.with_user(load_challenges(settings.challenges_file).records)


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (the bundled one is materialised on first use)."""
    from embed.embedder import Embedder

    return Embedder(
        settings.model, settings.home, settings.batch_size, models_dir=settings.models_dir
    )
