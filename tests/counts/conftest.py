"""The simulated count fixture and its design, shared by the count-path tests.

See tests/data/counts/README.md for how the fixture and the R references were made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.counts import calc_norm_factors, filter_by_expr


@pytest.fixture(scope="session")
def counts_dir(data_dir) -> Path:
    return data_dir / "counts"


@pytest.fixture(scope="session")
def count_table(counts_dir) -> pd.DataFrame:
    return pd.read_csv(counts_dir / "sim_counts.tsv.gz", sep="\t", index_col=0)


@pytest.fixture(scope="session")
def count_samples(counts_dir) -> pd.DataFrame:
    return pd.read_csv(counts_dir / "sim_samples.tsv", sep="\t")


@pytest.fixture(scope="session")
def groups(count_samples) -> np.ndarray:
    return (count_samples["cell_line"] + "_" + count_samples["treatment"]).to_numpy()


@pytest.fixture(scope="session")
def group_design(groups) -> np.ndarray:
    """``model.matrix(~0 + group)``: one indicator column per sorted group level."""
    levels = np.array(sorted(set(groups)))
    return (groups[:, None] == levels[None, :]).astype(float)


@pytest.fixture(scope="session")
def filtered(count_table, count_samples, groups):
    """(kept gene ids, kept counts, library sizes, TMM factors), edgeR's workflow."""
    counts = count_table[count_samples["sample"]].to_numpy(dtype=float)
    keep = filter_by_expr(counts, group=groups)
    kept = counts[keep]
    lib = kept.sum(axis=0)
    factors, _ = calc_norm_factors(kept, lib)
    return count_table.index[keep], kept, lib, factors
