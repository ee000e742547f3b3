"""The bladderbatch subset and its limma design, shared by the R-reference tests here.

See tests/data/limma/README.md for where the data and the R references come from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sigrestore.diffexp import build_design, make_contrasts

CONTRASTS = {"CancerVsNormal": "Cancer - Normal", "BiopsyVsNormal": "Biopsy - Normal"}


@pytest.fixture(scope="session")
def limma_dir(data_dir) -> Path:
    return data_dir / "limma"


@pytest.fixture(scope="session")
def expr(limma_dir) -> pd.DataFrame:
    return pd.read_csv(limma_dir / "bladder_subset_expr.tsv.gz", sep="\t", index_col=0)


@pytest.fixture(scope="session")
def samples(limma_dir) -> pd.DataFrame:
    return pd.read_csv(limma_dir / "bladder_samples.tsv", sep="\t")


@pytest.fixture(scope="session")
def design(samples):
    # batch is numeric in the sheet; C() makes it a treatment-coded factor as in R.
    return build_design(samples, factors=["group"], covariates=["C(batch)"])


@pytest.fixture(scope="session")
def contrasts(design):
    return make_contrasts(CONTRASTS, design)
