"""Shared test fixtures: paths to the committed reference data under tests/data/."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session", autouse=True)
def cdf_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """The CDF cache of the tests (and of the workflows they run) in a temporary
    folder, not in the user's ~/.cache/sigrestore."""
    import os

    old = os.environ.get("SIGRESTORE_CACHE")
    path = tmp_path_factory.mktemp("cdf-cache")
    os.environ["SIGRESTORE_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SIGRESTORE_CACHE", None)
    else:
        os.environ["SIGRESTORE_CACHE"] = old
