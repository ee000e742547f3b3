"""One entry point per comparison: counts, fractions, intervals, tests and scores.

See ``docs/restoration.md`` for every number's definition and formula.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.enrichment import gene_column_of
from sigrestore.errors import DesignError
from sigrestore.restoration.bootstrap import DEFunction, bootstrap_fraction, sample_groups
from sigrestore.restoration.calls import (
    classify_signature,
    comparison_calls,
    status_counts,
    status_fractions,
)
from sigrestore.restoration.connectivity import connectivity_score
from sigrestore.restoration.corrected import corrected_columns
from sigrestore.restoration.headline import headline_table
from sigrestore.restoration.sensitivity import SENSITIVITY_COLUMNS, threshold_sensitivity
from sigrestore.restoration.spec import ComparisonSpec
from sigrestore.restoration.statistics import (
    hypergeometric_test,
    percentile_interval,
    restoration_slope,
    spearman_correlation,
    wilson_interval,
)

#: The summary columns every comparison has, in this order (issue 5).
SUMMARY_COLUMNS = (
    "signature_size",
    "signature_up",
    "signature_down",
    "restored",
    "reversed",
    "not_restored",
    "restored_fraction",
    "ci_low",
    "ci_high",
    "bootstrap_low",
    "bootstrap_high",
    "restored_fraction_corrected",
    "corrected_low",
    "corrected_high",
    "hypergeom_p",
    "slope",
    "spearman",
    "connectivity",
    "connectivity_p",
)


@dataclass
class RestorationResult:
    """Everything computed for one comparison.

    Attributes
    ----------
    spec : ComparisonSpec
    summary : DataFrame
        One row (index: the comparison name, index name ``comparison``);
        :data:`SUMMARY_COLUMNS` first, then the per-direction, lost-part,
        modulator, test and provenance columns (see docs/restoration.md).
    features : DataFrame
        One row per signature feature (index ``id``): ``gene`` (if the reference
        table has an annotation column), ``direction`` ("up"/"down"),
        ``logFC_<c>``, ``t_<c>``, ``adj.P.Val_<c>`` for every contrast c involved,
        ``status``, and ``resistance_status`` / ``modulator`` when applicable.
    calls : DataFrame
        int8 calls (+1/-1/0) of every role over all features (index ``id``).
    connectivity : dict
        Output of :func:`connectivity_score` (running scores for the plots).
    bootstrap : DataFrame or None
        Per-resample fractions (None when the bootstrap was not run).
    groups : Series or None
        sample -> group used to resample (and to annotate the heatmap).
    sensitivity : DataFrame or None
        The threshold-sensitivity table
        (:func:`~sigrestore.restoration.sensitivity.threshold_sensitivity`).
    """

    spec: ComparisonSpec
    summary: pd.DataFrame
    features: pd.DataFrame
    calls: pd.DataFrame
    connectivity: dict = field(repr=False)
    bootstrap: pd.DataFrame | None = field(default=None, repr=False)
    groups: pd.Series | None = field(default=None, repr=False)
    sensitivity: pd.DataFrame | None = field(default=None, repr=False)


#: A signature covering more than this share of the universe is refused.
MAX_SIGNATURE_SHARE = 0.5


def check_signature_size(spec: ComparisonSpec, size: int, universe: int) -> None:
    """Raise DesignError when the signature covers more than half of the universe.

    A drug signature is a minority of the features.  One that covers most of
    them comes from a reference contrast that does not compare groups (a
    ``+`` typed for ``-``, one group alone: every expressed feature differs
    from 0) or from thresholds that select everything, and any restored
    fraction computed from it is meaningless.
    """
    if universe <= 0 or size <= MAX_SIGNATURE_SHARE * universe:
        return
    raise DesignError(
        f"comparison {spec.name!r}: the signature of contrast {spec.reference!r} has {size} of"
        f" the {universe} features ({size / universe:.0%}), more than half. A signature that"
        " large usually means the reference contrast does not compare two groups (a '+' typed"
        " for '-', or one group alone) or the thresholds select everything (fdr"
        f" {spec.signature.fdr}, lfc {spec.signature.lfc}); check contrasts."
        f"{spec.reference} in the config"
    )


def analyze_comparison(
    tables: Mapping[str, pd.DataFrame],
    spec: ComparisonSpec | Mapping[str, Any],
    *,
    expr: pd.DataFrame | None = None,
    samples: pd.DataFrame | None = None,
    de_function: DEFunction | None = None,
    factors: Sequence[str] | None = None,
    sample_column: str = "sample",
) -> RestorationResult:
    """Analyse one comparison.

    Parameters
    ----------
    tables : mapping
        contrast name -> limma table (index feature id; logFC, t, P.Value,
        adj.P.Val, optionally a gene annotation column).  The reference table's
        features are the universe.
    spec : ComparisonSpec or mapping
        The comparison (a mapping is validated with ``ComparisonSpec.from_dict``).
    expr, samples : DataFrame, optional
        Expression matrix (features x arrays) and sample sheet; with
        ``de_function`` they enable the array bootstrap (``spec.bootstrap.n > 0``).
        Without them the bootstrap columns are NaN.
    de_function : callable, optional
        ``de_function(expr, samples) -> {contrast: table}`` rerun on each resample.
    factors : sequence of str, optional
        Sample-sheet columns whose level combinations are the groups arrays are
        resampled within (default: the sheet's ``group`` column).
    sample_column : str
        The sample sheet's column of array names (the columns of ``expr``).

    Returns
    -------
    RestorationResult
    """
    if not isinstance(spec, ComparisonSpec):
        spec = ComparisonSpec.from_dict(spec)
    calls = comparison_calls(tables, spec)
    calls.index.name = "id"
    classified = classify_signature(calls)
    counts = status_counts(classified)
    fractions = status_fractions(counts)
    confidence = spec.bootstrap.confidence

    ref = tables[spec.reference]
    res = tables[spec.restoration].reindex(ref.index)
    in_s = classified.index
    x = ref.loc[in_s, "logFC"].to_numpy(dtype=float)
    y = res.loc[in_s, "logFC"].to_numpy(dtype=float)

    # Hypergeometric universe: every feature with a finite reference logFC (S is
    # part of it); a "hit" is a restoration call in the direction of the
    # reference logFC, which for a signature feature is exactly "restored".
    ref_sign = np.sign(ref["logFC"].to_numpy(dtype=float))
    universe_mask = np.isfinite(ref_sign)
    hit = universe_mask & (calls["restoration"].to_numpy() == ref_sign) & (ref_sign != 0)
    universe = int(universe_mask.sum())
    universe_hits = int(hit.sum())
    check_signature_size(spec, counts["signature_size"], universe)

    conn = connectivity_score(
        res["t"],
        [str(i) for i in classified.index[classified["direction"] > 0]],
        [str(i) for i in classified.index[classified["direction"] < 0]],
        permutations=spec.connectivity.permutations,
        seed=spec.connectivity.seed,
    )

    boot = None
    groups = None
    run_bootstrap = expr is not None and samples is not None and spec.bootstrap.n > 0
    if samples is not None:
        try:
            groups = sample_groups(samples, factors=factors, sample_column=sample_column)
        except DesignError:
            if run_bootstrap:
                raise
            # Groups only annotate the heatmap when there is no bootstrap.
    if run_bootstrap:
        if de_function is None:
            raise DesignError(
                f"comparison {spec.name!r}: the bootstrap needs de_function to refit resamples"
            )
        boot = bootstrap_fraction(
            expr, samples, spec, de_function=de_function, groups=groups, sample_column=sample_column
        )

    def intervals(k: int, n: int, column: str) -> tuple[float, float, float, float]:
        """Wilson interval of k / n, then the bootstrap percentile interval of ``column``."""
        low, high = wilson_interval(k, n, confidence=confidence)
        if boot is None or column not in boot:
            return low, high, float("nan"), float("nan")
        return low, high, *percentile_interval(boot[column].to_numpy(), confidence=confidence)

    row: dict[str, Any] = {k: counts[k] for k in SUMMARY_COLUMNS[:6]}
    row["restored_fraction"] = fractions["restored_fraction"]
    row["ci_low"], row["ci_high"], row["bootstrap_low"], row["bootstrap_high"] = intervals(
        counts["restored"], counts["signature_size"], "restored_fraction"
    )
    corrected = corrected_columns(
        ref,
        res,
        classified,
        spec,
        modulator_calls=calls.get("modulator"),
    )
    for key in ("restored_fraction_corrected", "corrected_low", "corrected_high"):
        row[key] = corrected.pop(key)
    row["hypergeom_p"] = hypergeometric_test(
        counts["restored"], counts["signature_size"], universe_hits, universe
    )
    row["slope"] = restoration_slope(x, y)
    row["spearman"] = spearman_correlation(x, y)
    row["connectivity"] = conn["score"]
    row["connectivity_p"] = conn["p"]

    # Per direction.
    for side in ("up", "down"):
        row[f"restored_{side}"] = counts[f"restored_{side}"]
        row[f"reversed_{side}"] = counts[f"reversed_{side}"]
        row[f"restored_fraction_{side}"] = fractions[f"restored_fraction_{side}"]
        (
            row[f"ci_low_{side}"],
            row[f"ci_high_{side}"],
            row[f"bootstrap_low_{side}"],
            row[f"bootstrap_high_{side}"],
        ) = intervals(
            counts[f"restored_{side}"], counts[f"signature_{side}"], f"restored_fraction_{side}"
        )

    # Lost part (resistance given).
    if spec.resistance is not None:
        lost = classified.index[classified["resistance_status"].to_numpy() == "lost"]
        for key in (
            "retained",
            "lost",
            "lost_up",
            "lost_down",
            "lost_restored",
            "lost_reversed",
            "lost_not_restored",
        ):
            row[key] = counts[key]
        row["lost_restored_fraction"] = fractions["lost_restored_fraction"]
        (
            row["lost_ci_low"],
            row["lost_ci_high"],
            row["lost_bootstrap_low"],
            row["lost_bootstrap_high"],
        ) = intervals(counts["lost_restored"], counts["lost"], "lost_restored_fraction")
        row["lost_hypergeom_p"] = hypergeometric_test(
            counts["lost_restored"], counts["lost"], universe_hits, universe
        )
        xl = ref.loc[lost, "logFC"].to_numpy(dtype=float)
        yl = res.loc[lost, "logFC"].to_numpy(dtype=float)
        row["lost_slope"] = restoration_slope(xl, yl)
        row["lost_spearman"] = spearman_correlation(xl, yl)

    # Modulator (given).
    if spec.modulator is not None:
        row["modulator_flagged"] = counts["modulator_flagged"]
        row["restored_beyond_modulator"] = counts["restored_beyond_modulator"]
        row["restored_beyond_modulator_fraction"] = fractions["restored_beyond_modulator_fraction"]
        (
            row["beyond_modulator_ci_low"],
            row["beyond_modulator_ci_high"],
            row["beyond_modulator_bootstrap_low"],
            row["beyond_modulator_bootstrap_high"],
        ) = intervals(
            counts["restored_beyond_modulator"],
            counts["signature_size"],
            "restored_beyond_modulator_fraction",
        )

    # The other corrected fractions and their details.
    row |= corrected

    # Test and score details, then provenance.
    row |= {
        "universe": universe,
        "universe_hits": universe_hits,
        "hypergeom_expected": (
            counts["signature_size"] * universe_hits / universe if universe else float("nan")
        ),
        "es_up": conn["es_up"],
        "es_down": conn["es_down"],
        "nes_up": conn["nes_up"],
        "nes_down": conn["nes_down"],
        "es_up_p": conn["p_up"],
        "es_down_p": conn["p_down"],
        "bootstrap_resamples": 0 if boot is None else len(boot),
        "bootstrap_valid": (
            0 if boot is None else int(np.isfinite(boot["restored_fraction"]).sum())
        ),
        "bootstrap_mean": (
            float(np.nanmean(boot["restored_fraction"])) if _has_bootstrap(boot) else float("nan")
        ),
        "confidence": confidence,
        "level": spec.level,
        "reference": spec.reference,
        "restoration": spec.restoration,
        "resistance": spec.resistance or "",
        "modulator": spec.modulator or "",
        "signature_method": spec.signature.method,
        "signature_fdr": spec.signature.fdr,
        "signature_lfc": spec.signature.lfc,
        "signature_top_n": spec.signature.top_n if spec.signature.top_n is not None else "",
        "restoration_fdr": spec.restoration_call.fdr,
        "restoration_lfc": spec.restoration_call.lfc,
        "bootstrap_seed": spec.bootstrap.seed,
        "bootstrap_duplicates": spec.bootstrap.duplicates,
        "connectivity_permutations": spec.connectivity.permutations,
        "connectivity_seed": spec.connectivity.seed,
        "corrected_pi0_method": spec.corrected.pi0_method,
        "corrected_resamples": spec.corrected.resamples,
        "corrected_seed": spec.corrected.seed,
        "corrected_power_correction": spec.corrected.power_correction,
    }
    summary = pd.DataFrame([row], index=pd.Index([spec.name], name="comparison"))

    features = _feature_table(tables, spec, classified)
    return RestorationResult(
        spec=spec,
        summary=summary,
        features=features,
        calls=calls,
        connectivity=conn,
        bootstrap=boot,
        groups=groups,
        sensitivity=threshold_sensitivity(ref, res, spec),
    )


def _has_bootstrap(boot: pd.DataFrame | None) -> bool:
    """True when the bootstrap ran and gave at least one defined fraction."""
    return boot is not None and bool(np.isfinite(boot["restored_fraction"]).any())


def _feature_table(
    tables: Mapping[str, pd.DataFrame], spec: ComparisonSpec, classified: pd.DataFrame
) -> pd.DataFrame:
    ids = classified.index
    ref = tables[spec.reference]
    columns: dict[str, Any] = {}
    gene = gene_column_of(ref)
    if gene is not None:
        columns["gene"] = ref.loc[ids, gene].to_numpy()
    columns["direction"] = np.where(classified["direction"].to_numpy() > 0, "up", "down")
    for contrast in spec.contrasts:
        table = tables[contrast].reindex(ids)
        for stat in ("logFC", "t", "adj.P.Val"):
            columns[f"{stat}_{contrast}"] = table[stat].to_numpy(dtype=float)
    columns["status"] = classified["status"].to_numpy()
    if "resistance_status" in classified:
        columns["resistance_status"] = classified["resistance_status"].to_numpy()
    if "modulator" in classified:
        columns["modulator"] = classified["modulator"].to_numpy(dtype=bool)
    out = pd.DataFrame(columns, index=pd.Index(ids, name="id"))
    return out


#: Tables of a result whose rows are positional (written without an index column).
UNINDEXED_TABLES = frozenset({"threshold_sensitivity", "headline"})


def result_tables(result: RestorationResult) -> dict[str, pd.DataFrame]:
    """The tables of a result by output name.

    ``summary``, ``features``, ``bootstrap``, ``threshold_sensitivity`` and
    ``headline``.  Without a bootstrap (``bootstrap.n`` 0) ``bootstrap`` is an
    empty table with its header, so a table from an earlier run with
    resamples never survives next to a summary that has none; likewise
    ``threshold_sensitivity`` when the result has no sensitivity table.
    """
    bootstrap = result.bootstrap
    if bootstrap is None:
        bootstrap = pd.DataFrame(
            {"restored_fraction": pd.Series(dtype=float)},
            index=pd.Index([], dtype=int, name="resample"),
        )
    sensitivity = result.sensitivity
    if sensitivity is None:
        sensitivity = pd.DataFrame(columns=list(SENSITIVITY_COLUMNS))
    return {
        "summary": result.summary,
        "features": result.features,
        "bootstrap": bootstrap,
        "threshold_sensitivity": sensitivity,
        "headline": headline_table(result.summary),
    }


def write_result_table(name: str, table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write one table of :func:`result_tables` atomically.

    Floats with 10 significant digits and NaN as ``NA``, so the same inputs and
    seeds give byte-identical files; the positional tables
    (:data:`UNINDEXED_TABLES`) without their index.
    """
    write_tsv(table, path, index=name not in UNINDEXED_TABLES, na_rep="NA")


def write_result(result: RestorationResult, outdir: str | os.PathLike[str]) -> list[Path]:
    """Write every table of :func:`result_tables` into ``outdir`` as ``<name>.tsv``.

    ``summary.tsv``, ``features.tsv``, ``bootstrap.tsv``,
    ``threshold_sensitivity.tsv`` and ``headline.tsv``, atomically
    (:func:`write_result_table`).  Returns the paths written.
    """
    outdir = Path(outdir)
    paths = []
    for name, table in result_tables(result).items():
        path = outdir / f"{name}.tsv"
        write_result_table(name, table, path)
        paths.append(path)
    return paths
