"""Cross-checks a per-row schema cannot express: the sheet, the design, the
contrasts, the comparisons, the filter, the input files and the chip type."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sigrestore.config.reading import _row
from sigrestore.config.settings import (
    DEFAULT_SEED,
    Settings,
    annotation_given,
    comparison_level,
    comparison_spec,
    resolve_settings,
    source_settings,
)
from sigrestore.diffexp.checks import check_similar_levels, spelling_columns
from sigrestore.diffexp.design import covariate_spec
from sigrestore.errors import ConfigError, DesignError, FormatError
from sigrestore.preflight import check_experiment
from sigrestore.sources import source_module


def _design_groups(samples: pd.DataFrame, factors: list[str], covariates: list[str]) -> pd.Series:
    """Group of every array, from the design the DE step will build.

    Building the design here makes its errors stop the run at validation:
    different level combinations that make the same group name (``MCF-7`` and
    ``MCF.7``; ``a_b`` + ``c`` and ``a`` + ``b_c``) and groups that collide
    with covariate levels.  The groups are the design's own (levels joined by
    ``_``, made identifiers), so contrasts see exactly the names limma fits.
    """
    from sigrestore.diffexp import build_design

    try:
        design = build_design(samples, factors=factors, covariates=covariates)
    except DesignError as exc:
        raise ConfigError(f"config key design.factors {factors}: {exc}") from None
    return pd.Series(design.groups.to_numpy(), index=samples.index)


def contrast_terms(name: str, expression: str) -> set[str]:
    """The group names an expression uses; ConfigError if the DE step would reject it.

    The grammar is the DE step's own (:func:`sigrestore.diffexp.contrast_groups`:
    group names, numbers, ``+ - * /``, parentheses, linear), so an expression
    passing here never fails later for its form.
    """
    from sigrestore.diffexp import contrast_groups

    try:
        return contrast_groups(name, expression)
    except DesignError as exc:
        raise ConfigError(f"config key contrasts.{name}: {exc}") from None


# --------------------------------------------------------------------------- checks


def check_config(
    config: Mapping[str, Any],
    samples: pd.DataFrame,
    *,
    pending: Iterable[str | os.PathLike[str]] = (),
    check_files: bool = True,
    check_chip: bool = True,
    output_root: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Settings:
    """Run every check a schema cannot express; return the config's typed settings.

    The returned :class:`~sigrestore.config.settings.Settings` holds the sheet
    with a ``group`` column (``.samples``) and every section resolved once.

    Parameters
    ----------
    config
        The config, schema defaults filled in.
    samples
        As returned by :func:`read_sample_sheet`.
    pending
        Files a rule of the workflow will create (the example's raw files):
        they are neither required to exist nor read.
    check_files
        Check that every input file exists and is readable.
    check_chip
        Run the source's own input checks (:func:`check_inputs` of the
        source module; Affymetrix: the CEL headers and the CDF share one chip
        type, the CEL dimensions equal the CDF's, the annotation lists the
        CDF's probe sets) and, with ``check_files``, the checks that read file
        contents (GMT files parsed, a ``top_n`` no larger than the source's
        features).
    output_root
        The results folder: checked to be a writable folder (None: not checked).
    log
        Called with each line of the design summary (arrays per group,
        residual degrees of freedom, how covariates enter).

    The design checks of :func:`sigrestore.preflight.check_experiment` (issue
    15: contrasts that are differences, level spellings, zero contrasts,
    residual degrees of freedom) run whatever the flags.
    """
    pending_set = {os.path.normpath(os.path.abspath(p)) for p in pending}

    def is_pending(path: str | os.PathLike[str]) -> bool:
        return os.path.normpath(os.path.abspath(path)) in pending_set

    samples = samples.copy()
    seed = config.get("seed", DEFAULT_SEED)
    _check_unique(samples)
    design = config.get("design", {})
    factors = list(design.get("factors", []))
    covariates = list(design.get("covariates") or [])
    used = [("design.factors", c) for c in factors] + [
        ("design.covariates", covariate_spec(c).name) for c in covariates
    ]
    if design.get("block"):
        used.append(("design.block", design["block"]))
    for key, column in used:
        if column not in samples.columns:
            raise ConfigError(
                f"config key {key}: column {column!r} is not in the sample sheet"
                f" (columns: {list(samples.columns)})"
            )
    for _, column in used:
        empty = samples.index[samples[column] == ""].tolist()
        if empty:
            rows = ", ".join(_row(i) for i in empty)
            raise ConfigError(f"sample sheet column {column!r} is empty in {rows}")
    # Before the groups are counted: a mislabelled replicate ("Vehicle") would
    # otherwise first show up as a group too small for its contrast.
    if not (config.get("checks", {}) or {}).get("allow_similar_levels", False):
        columns = spelling_columns(samples, factors, covariates, design.get("block"))
        try:
            check_similar_levels(samples, columns)
        except DesignError as exc:
            raise ConfigError(str(exc)) from None
    samples["group"] = _design_groups(samples, factors, covariates)

    contrasts = config.get("contrasts", {}) or {}
    if not contrasts:
        raise ConfigError("config key contrasts: at least one contrast is needed")
    sizes = samples["group"].value_counts()
    for name, expression in contrasts.items():
        terms = contrast_terms(name, str(expression))
        unknown = sorted(t for t in terms if t not in sizes.index)
        if unknown:
            raise ConfigError(
                f"config key contrasts.{name}: group(s) {unknown} do not exist; groups are the"
                f" combinations of {factors}: {sorted(sizes.index)}"
            )
        small = sorted(t for t in terms if sizes[t] < 2)
        if small:
            detail = ", ".join(f"{t} has {sizes[t]}" for t in small)
            raise ConfigError(
                f"config key contrasts.{name}: every group a contrast uses needs at least two"
                f" arrays ({detail})"
            )

    names = [c.get("name") for c in config.get("comparisons", [])]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"config key comparisons: names {duplicated} are used more than once")
    for i, comp in enumerate(config.get("comparisons", [])):
        for role in ("reference", "restoration", "resistance", "modulator"):
            target = comp.get(role)
            if target is not None and target not in contrasts:
                raise ConfigError(
                    f"config key comparisons[{i}].{role} (comparison {comp.get('name')!r}):"
                    f" contrast {target!r} is not defined under contrasts"
                    f" ({sorted(contrasts)})"
                )
        _check_level(config, comp, i)
        spec = comparison_spec(comp, seed=seed, has_annotation=annotation_given(config))
        # The pipeline's tables test against differential_expression.treat_lfc;
        # a TREAT signature needs them to test against the comparison's lfc.
        treat_lfc = config.get("differential_expression", {}).get("treat_lfc", 0)
        if spec.signature.method == "treat" and treat_lfc != spec.signature.lfc:
            raise ConfigError(
                f"config key comparisons[{i}].method (comparison {comp.get('name')!r}): 'treat'"
                f" needs differential_expression.treat_lfc equal to its lfc"
                f" ({spec.signature.lfc}), got {treat_lfc}"
            )

    _check_filter(config, samples)
    kind, source = source_settings(config, samples)
    _check_weighted_collapse(config, kind)
    _check_count_array_weights(config, kind)
    module = source_module(kind)
    if check_files:
        _check_files(config, module.input_files(source, samples), is_pending)
    if check_chip:
        module.check_inputs(source, samples, is_pending=is_pending)
    settings = resolve_settings(config, samples)
    check_experiment(
        settings,
        checks=config.get("checks") or {},
        is_pending=is_pending,
        check_files=check_files and check_chip,
        output_root=output_root,
        log=log,
    )
    return settings


def _check_level(config: Mapping[str, Any], comp: Mapping[str, Any], i: int) -> None:
    where = f"config key comparisons[{i}].level (comparison {comp.get('name')!r})"
    resolved = comparison_level(comp, has_annotation=annotation_given(config), where=where)
    collapse = config.get("differential_expression", {}).get("collapse", "max_mean")
    if resolved == "gene" and collapse == "none":
        raise ConfigError(
            f"{where}: gene level needs differential_expression.collapse other than 'none'"
            " (with 'none' the .genes.tsv tables stay at probe-set level); set"
            " level: probeset or choose a collapse method"
        )


def _check_weighted_collapse(config: Mapping[str, Any], kind: str) -> None:
    # The count source's gene level keeps one row per gene with its voom
    # weights: a mean of rows has no weights (sigrestore.pipeline.gene_level_matrix).
    collapse = (config.get("differential_expression") or {}).get("collapse", "max_mean")
    if kind == "counts" and collapse == "mean" and annotation_given(config):
        raise ConfigError(
            "config key differential_expression.collapse: 'mean' cannot carry the count"
            " source's voom weights to genes; use max_mean (the row with the highest mean"
            " log-CPM, the default) or max_iqr"
        )


def _check_count_array_weights(config: Mapping[str, Any], kind: str) -> None:
    # The restoration jobs refit the count source through voom
    # (sigrestore.sources.counts.VoomRefit), which has no limma arrayWeights
    # step: refused here, before normalize/diffexp run, rather than by every
    # restoration job. voomWithQualityWeights is the voom way to sample weights.
    options = config.get("differential_expression") or {}
    if kind == "counts" and options.get("array_weights", False):
        raise ConfigError(
            "config key differential_expression.array_weights: not available with the count"
            " source (its restoration refits run voom, without limma's arrayWeights); set it"
            " to false and use data.counts.quality_weights: true (voomWithQualityWeights:"
            " sample weights estimated with voom's observation weights)"
        )


def _check_filter(config: Mapping[str, Any], samples: pd.DataFrame) -> None:
    # Checked whether or not the filter is enabled: switching it on later
    # should not reveal a mistake the config carried all along.
    options = config.get("differential_expression", {}).get("filter", {}) or {}
    key = "config key differential_expression.filter"
    min_expr = options.get("min_expr", 4.0)
    if isinstance(min_expr, bool) or not isinstance(min_expr, int | float):
        raise ConfigError(f"{key}.min_expr: must be a number (log2 scale), got {min_expr!r}")
    if not math.isfinite(min_expr):
        raise ConfigError(f"{key}.min_expr: must be finite (log2 scale), got {min_expr!r}")
    min_samples = options.get("min_samples")
    if min_samples is None:
        return
    n_arrays = len(samples)
    if isinstance(min_samples, bool) or not isinstance(min_samples, int):
        raise ConfigError(f"{key}.min_samples: must be an integer or null, got {min_samples!r}")
    if not 1 <= min_samples <= n_arrays:
        raise ConfigError(
            f"{key}.min_samples: must be between 1 and the number of arrays ({n_arrays}),"
            f" got {min_samples}"
        )


def _check_unique(samples: pd.DataFrame) -> None:
    dup = samples["sample"][samples["sample"].duplicated(keep=False)]
    if not dup.empty:
        detail = "; ".join(
            f"{name!r} in " + ", ".join(_row(i) for i in dup.index[dup == name])
            for name in dict.fromkeys(dup)
        )
        raise ConfigError(f"sample sheet: sample names must be unique: {detail}")
    given = samples["file"][samples["file"] != ""]  # matrix sources need no files
    base = given.map(_base_name)
    dup = base[base.duplicated(keep=False)]
    if not dup.empty:
        detail = "; ".join(
            f"{name!r} in " + ", ".join(_row(i) for i in dup.index[dup == name])
            for name in dict.fromkeys(dup)
        )
        raise ConfigError(f"sample sheet: file base names must be unique: {detail}")


def _base_name(file: str) -> str:
    # "a.CEL" and "a.CEL.gz" elsewhere are the same scan twice.
    name = Path(file).name
    return name[:-3] if name.lower().endswith(".gz") else name


def _check_files(config: Mapping[str, Any], files: list[tuple[str, str]], is_pending) -> None:
    wanted = list(files)
    wanted += [(f"gene_sets[{i}]", p) for i, p in enumerate(config.get("gene_sets", []))]
    problems = []
    for where, path in wanted:
        if is_pending(path):
            continue
        if not os.path.exists(path):
            problems.append(f"  {where}: {path} does not exist")
        elif os.path.isdir(path):
            problems.append(f"  {where}: {path} is a directory, not a file")
        elif not os.access(path, os.R_OK):
            problems.append(f"  {where}: {path} is not readable")
    if problems:
        raise ConfigError(
            f"{len(problems)} input file(s) missing or unreadable:\n" + "\n".join(problems)
        )


def cdf_chip_type(path: str | os.PathLike[str]) -> str:
    """The chip type a CDF describes (:func:`sigrestore.io.cdf.read_cdf_chip_type`).

    The readers' own rules: gzip detected from the content, ``[Chip] Name=``
    of an ASCII CDF, the stored chip type of an XDA version-4 CDF, the file
    name for XDA versions 1-3 (which store none).
    """
    from sigrestore.io.cdf import read_cdf_chip_type

    try:
        return read_cdf_chip_type(path)
    except FormatError as exc:
        raise ConfigError(f"platform.cdf {path}: cannot be read ({exc})") from None
