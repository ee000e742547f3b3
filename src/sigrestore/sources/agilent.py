"""Agilent single-colour source: Feature Extraction files -> limma's recipe -> ExpressionDataset.

One FE text file per sample (sheet column ``file``); normexp background
correction (saddle-point fit, offset 16), quantile normalization, log2,
control features dropped, the ``gIsWellAboveBG`` filter (well above
background on at least as many arrays as the smallest group, configurable)
and replicate features averaged by ``ProbeName`` (limma's ``avereps``).
Symbols from the files' ``GeneName`` (or an annotation table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError
from sigrestore.platforms.agilent import normalize_agilent, read_fe_files
from sigrestore.sources._platform_common import (
    annotation_features,
    check_sheet,
    check_unique,
    clean_symbols,
    min_arrays,
    resolve,
    settings_from_mapping,
)
from sigrestore.sources._platform_common import settings_from_config as _settings_from_config

__all__ = [
    "KIND",
    "AgilentSettings",
    "Settings",
    "check_inputs",
    "input_files",
    "load",
    "load_agilent",
    "settings_from_config",
]


@dataclass(frozen=True)
class AgilentSettings:
    """Settings of the Agilent source (config ``data.agilent``).

    Attributes
    ----------
    file_column
        Sheet column with each sample's FE file (relative to ``base_dir``).
    signal
        ``"median"`` (``gMedianSignal``, limma's ``source = "agilent"``) or
        ``"mean"`` (``gMeanSignal``, ``"agilent.mean"``); the background is
        ``gBGMedianSignal`` in both.
    offset
        Added after normexp background correction (limma guide: 16).
    min_well_above
        Keep probes whose features are ``gIsWellAboveBG`` on at least this
        many arrays; None: the smallest group of ``group_columns``; 0: no filter.
    group_columns
        Sheet columns whose combinations are the groups.
    annotation
        Annotation table (``ProbeName`` ids + gene symbols) used instead of
        the files' ``GeneName``, or None.
    threads
        Arrays whose normexp fits run at the same time (the workflow rule's
        ``threads``); the result does not depend on it.
    """

    file_column: str = "file"
    signal: str = "median"
    offset: float = 16.0
    min_well_above: int | None = None
    group_columns: tuple[str, ...] = ("cell_line", "treatment")
    annotation: str | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        if self.signal not in ("median", "mean"):
            raise ValueError(f"signal must be 'median' or 'mean', got {self.signal!r}")
        if not np.isfinite(self.offset) or self.offset < 0:
            raise ValueError(f"offset must be a non-negative number, got {self.offset}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any] | None) -> AgilentSettings:
        """Settings from the config's ``data.agilent`` mapping."""
        return settings_from_mapping(cls, mapping, "data.agilent")


def load_agilent(
    settings: AgilentSettings,
    samples: pd.DataFrame,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> ExpressionDataset:
    """Read and normalize the sheet's Agilent FE files.

    Parameters
    ----------
    settings
        :class:`AgilentSettings`.
    samples
        Sample sheet with ``sample`` and ``settings.file_column``.
    base_dir
        Directory relative file paths are taken from.

    Returns
    -------
    ExpressionDataset
        Probes (replicates averaged) x samples, log2; features
        ``gene_symbol``, ``systematic_name``.

    Raises
    ------
    ConfigError
        Sheet columns missing, repeated samples or files.
    FormatError
        A file without a FEATURES section or a needed column, files of
        different designs or probe lists, missing/non-finite/negative signals.
    """
    check_sheet(samples, (settings.file_column,), "agilent")
    samples = samples.reset_index(drop=True)
    files = samples[settings.file_column].astype(str)
    check_unique(files, "file")
    paths = [resolve(f, base_dir) for f in files]
    fe = read_fe_files(paths, signal=settings.signal)
    names = samples["sample"].astype(str).tolist()
    k = min_arrays(samples, settings.min_well_above, settings.group_columns)
    res = normalize_agilent(
        fe, names, offset=settings.offset, well_above_min_arrays=k, threads=settings.threads
    )
    if settings.annotation is not None:
        features = annotation_features(settings.annotation, base_dir, res.expression.index)
    else:
        info = res.features
        gene = info["GeneName"] if "GeneName" in info else pd.Series(np.nan, index=info.index)
        # FE files repeat the probe name as GeneName when there is no gene.
        symbols = clean_symbols(gene).mask(gene.to_numpy() == info.index.to_numpy())
        features = pd.DataFrame({"gene_symbol": symbols.to_numpy()}, index=info.index)
        if "SystematicName" in info:
            features["systematic_name"] = info["SystematicName"].to_numpy()
    features.index.name = "probe"
    provenance = {
        "source": "agilent",
        "files": [str(p) for p in paths],
        "platform": fe[0].design,
        "normalization": {
            "method": "limma: normexp (saddle) + offset, quantile, log2, avereps",
            "foreground": "gMedianSignal" if settings.signal == "median" else "gMeanSignal",
            "background": "gBGMedianSignal subtracted, then normexp (saddle)",
            "offset": settings.offset,
            "between_arrays": "quantile (all features), then log2",
            "normexp_parameters": res.parameters.reset_index().to_dict(orient="list"),
        },
        "filter": {
            "control_features_dropped": res.n_controls,
            "gIsWellAboveBG_min_arrays": k,
            "features_read": res.n_features,
            "regular_features_filtered": res.n_filtered,
            "probes_kept": len(res.expression),
        },
    }
    return ExpressionDataset(
        expression=res.expression,
        samples=samples,
        features=features,
        provenance=provenance,
    )


# --------------------------------------------------------------------------- source contract
# (docs/architecture.md, "Adding a source").  The sheet's ``file`` column (its
# ``path``, resolved against the sheet's folder) names the FE files, as the
# CEL files of the Affymetrix source.

KIND = "agilent"
Settings = AgilentSettings


def settings_from_config(
    config: Mapping[str, Any], samples: pd.DataFrame | None = None
) -> AgilentSettings:
    """``data.agilent`` of the schema-checked config (null keys: the defaults).

    ``group_columns`` null means the design's factors (``design.factors``).
    """
    return _settings_from_config(AgilentSettings, config, KIND)


def _sheet_files(settings: AgilentSettings, samples: pd.DataFrame) -> pd.Series:
    # The sheet's "file" is resolved by the sheet reader (column "path").
    column = (
        "path" if settings.file_column == "file" and "path" in samples else settings.file_column
    )
    if column not in samples.columns:
        raise ConfigError(f"sample sheet: no column {settings.file_column!r} (the FE files)")
    files = samples[column].astype(str)
    empty = [i for i, f in enumerate(files) if not f]
    if empty:
        raise ConfigError(
            f"sample sheet row {empty[0] + 1}: no FE file in column {settings.file_column!r}"
            f" (the agilent source reads one per sample; {len(empty)} row(s) without one)"
        )
    return files


def input_files(settings: AgilentSettings, samples: pd.DataFrame) -> list[tuple[str, str]]:
    """``(where, path)`` of every FE file and the annotation."""
    files = [
        (f"sample sheet row {i + 1} (sample {s!r})", p)
        for i, (s, p) in enumerate(
            zip(samples["sample"], _sheet_files(settings, samples), strict=True)
        )
    ]
    if settings.annotation:
        files.append(("data.agilent.annotation", settings.annotation))
    return files


def check_inputs(
    settings: AgilentSettings, samples: pd.DataFrame, *, is_pending: Callable[[str], bool]
) -> None:
    """The sheet names one FE file per sample, no file twice."""
    check_sheet(samples, (), "agilent")
    files = _sheet_files(settings, samples)
    check_unique(files, "file")


def load(settings: AgilentSettings, samples: pd.DataFrame, *, threads: int = 1) -> Any:
    """:func:`load_agilent` of the sheet's FE files as a :class:`~sigrestore.sources.SourceResult`.

    ``threads`` (the job's) runs that many normexp fits at a time (same result).
    """
    from dataclasses import replace

    from sigrestore.sources import SourceResult

    sheet = samples.assign(**{settings.file_column: _sheet_files(settings, samples).to_numpy()})
    return SourceResult(dataset=load_agilent(replace(settings, threads=max(1, threads)), sheet))
