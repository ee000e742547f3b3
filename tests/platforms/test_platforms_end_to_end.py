"""Simulated Illumina and Agilent studies through the sources, limma and the
restoration analysis: the planted restored fraction (0.40) comes back."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from sigrestore.diffexp import differential_expression
from sigrestore.restoration import ComparisonSpec, analyze_comparison
from sigrestore.simulate.platforms import (
    AgilentSimSpec,
    IlluminaSimSpec,
    write_agilent_example,
    write_illumina_example,
)
from sigrestore.sources.agilent import AgilentSettings, load_agilent
from sigrestore.sources.illumina import IlluminaSettings, load_illumina

CONTRASTS = {
    "fulvestrant_sensitive": "sensitive_fulvestrant - sensitive_vehicle",
    "fulvestrant_resistant": "resistant_fulvestrant - resistant_vehicle",
    "cotreatment_resistant": "resistant_fulvestrant_rapamycin - resistant_vehicle",
}
FACTORS = ["cell_line", "treatment"]


def restored_fraction(ds) -> pd.Series:
    de = functools.partial(differential_expression, factors=FACTORS, contrasts=CONTRASTS)
    spec = ComparisonSpec.from_dict(
        {
            "name": "fulvestrant_rapamycin",
            "reference": "fulvestrant_sensitive",
            "resistance": "fulvestrant_resistant",
            "restoration": "cotreatment_resistant",
            "fdr": 0.05,
            "lfc": 1.0,
            "bootstrap": {"n": 0, "seed": 1},
            "connectivity": {"permutations": 0, "seed": 1},
        }
    )
    result = analyze_comparison(
        de(ds.expression, ds.samples), spec, expr=ds.expression, samples=ds.samples,
        de_function=de, factors=FACTORS,
    )  # fmt: skip
    return result.summary.iloc[0]


@pytest.mark.parametrize("platform", ["illumina", "agilent"])
def test_planted_restored_fraction_recovered(platform, tmp_path):
    if platform == "illumina":
        files = write_illumina_example(tmp_path, IlluminaSimSpec())
        sheet = pd.read_csv(files.samples, sep="\t")
        ds = load_illumina(
            IlluminaSettings(
                probe_profile=files.probe_profile.name,
                control_profile=files.control_profile.name,
            ),
            sheet,
            base_dir=tmp_path,
        )
    else:
        files = write_agilent_example(tmp_path, AgilentSimSpec())
        sheet = pd.read_csv(files.samples, sep="\t")
        ds = load_agilent(AgilentSettings(), sheet, base_dir=tmp_path)
    assert ds.shape[1] == 24
    summary = restored_fraction(ds)
    assert summary["signature_size"] > 200
    assert abs(summary["restored_fraction"] - 0.40) <= 0.08
