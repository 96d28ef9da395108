"""Paths the eval tests share: the fixture set in this folder and the real data beside the repo."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not found; the built-in dev sets need it")
    return SHARED_DATA
