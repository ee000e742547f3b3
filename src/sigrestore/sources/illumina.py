"""Illumina BeadChip source: GenomeStudio probe profiles -> neqc -> ExpressionDataset.

Reads the sample probe profile(s) and the control probe profile named in the
settings, takes the sheet's arrays, normalizes with limma's ``neqc``
(normexp by negative controls, offset 16, quantile, log2, controls removed;
or normexp from detection p-values when there are no controls, as limma's
``nec``) and keeps probes detected on at least as many arrays as the
smallest group (configurable).  Symbols come from the profile (``SYMBOL``,
``ILMN_Gene``) or from an annotation / GPL table.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError, FormatError
from sigrestore.platforms.illumina import (
    combine_profiles,
    detection_filter,
    neqc,
    read_probe_profile,
)
from sigrestore.sources._platform_common import (
    annotation_features,
    check_sheet,
    clean_symbols,
    min_arrays,
    resolve,
    settings_from_mapping,
)
from sigrestore.sources._platform_common import settings_from_config as _settings_from_config

__all__ = [
    "KIND",
    "IlluminaSettings",
    "Settings",
    "check_inputs",
    "input_files",
    "load",
    "load_illumina",
    "settings_from_config",
]

NORMALIZATIONS = ("auto", "neqc", "nec")


@dataclass(frozen=True)
class IlluminaSettings:
    """Settings of the Illumina source (config ``data.illumina``).

    Attributes
    ----------
    probe_profile
        Sample probe profile file(s) (GenomeStudio non-normalized export or
        GEO ``..._non-normalized.txt.gz``); several files are bound by array.
    control_profile
        Control probe profile (``TargetID`` = ``NEGATIVE`` rows), or None.
    normalization
        ``"auto"`` (neqc with the negative controls; without them, warn and
        infer the background from detection p-values), ``"neqc"`` (controls
        required: an error without them) or ``"nec"`` (detection p-values
        only, the control profile ignored).
    offset
        Added after background correction (limma: 16).
    detection_p
        A probe is detected on an array when its detection p-value is below this.
    min_detected
        Keep probes detected on at least this many arrays; None: the size of
        the smallest group of ``group_columns``; 0: no filter.
    group_columns
        Sheet columns whose combinations are the groups (for ``min_detected``).
    array_column
        Sheet column naming each sample's array in the profile (the
        ``<name>`` of ``<name>.AVG_Signal``); the ``sample`` column when the
        sheet has no such column.
    status_column
        Control-profile column holding ``NEGATIVE`` (default: the column with
        the most of them, as limma's ``read.ilmn``).
    annotation
        Annotation / GPL table (``ID`` + gene symbol) used for symbols instead
        of the profile's own columns, or None.
    allow_negative
        Accept negative AVG_Signal values (background-subtracted exports);
        when False they are an error.
    """

    probe_profile: tuple[str, ...] | str = ()
    control_profile: str | None = None
    normalization: str = "auto"
    offset: float = 16.0
    detection_p: float = 0.05
    min_detected: int | None = None
    group_columns: tuple[str, ...] = ("cell_line", "treatment")
    array_column: str = "array"
    status_column: str | None = None
    annotation: str | None = None
    allow_negative: bool = True

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {', '.join(NORMALIZATIONS)},"
                f" got {self.normalization!r}"
            )
        if not (0.0 < self.detection_p <= 1.0):
            raise ValueError(f"detection_p must be in (0, 1], got {self.detection_p}")
        if not np.isfinite(self.offset) or self.offset < 0:
            raise ValueError(f"offset must be a non-negative number, got {self.offset}")

    @property
    def profiles(self) -> tuple[str, ...]:
        """``probe_profile`` as a tuple."""
        p = self.probe_profile
        return (p,) if isinstance(p, str) else tuple(p)

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any] | None) -> IlluminaSettings:
        """Settings from the config's ``data.illumina`` mapping."""
        return settings_from_mapping(cls, mapping, "data.illumina")


def load_illumina(
    settings: IlluminaSettings,
    samples: pd.DataFrame,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> ExpressionDataset:
    """Read, normalize and filter Illumina probe profiles for the sheet's samples.

    Parameters
    ----------
    settings
        :class:`IlluminaSettings`.
    samples
        Sample sheet: ``sample`` and, optionally, ``settings.array_column``.
    base_dir
        Directory relative paths are taken from.  The config reader has
        already made them absolute against the working directory (Snakemake's,
        or ``load_config``'s ``workdir``), not the config's directory.

    Returns
    -------
    ExpressionDataset
        Detected regular probes x samples (log2, neqc), features with
        ``gene_symbol`` (and ``entrez_id`` with an annotation table).

    Raises
    ------
    ConfigError
        No probe profile, a sheet column missing, repeated samples.
    FormatError
        Unreadable profiles, an array without its AVG_Signal / Detection Pval
        column, mixed BeadChip manifests or probe lists, non-finite signals,
        no negative controls when ``normalization = "neqc"``.
    """
    if not settings.profiles:
        raise ConfigError("data.illumina.probe_profile: no sample probe profile given")
    check_sheet(samples, (), "illumina")
    samples = samples.reset_index(drop=True)
    col = settings.array_column if settings.array_column in samples.columns else "sample"
    arrays = samples[col].astype(str).tolist()
    paths = [resolve(p, base_dir) for p in settings.profiles]
    profiles = [read_probe_profile(p) for p in paths]
    profile = combine_profiles(profiles) if len(profiles) > 1 else profiles[0]
    missing = [a for a in arrays if a not in profile.signal.columns]
    if missing:
        raise FormatError(
            f"{', '.join(map(str, paths))}: no column {missing[0] + '.AVG_Signal'!r} for sample"
            f" {samples['sample'].iat[arrays.index(missing[0])]!r} ({len(missing)} sheet"
            " array(s) missing)"
        )
    # Detection p-values serve the filter and the background fit without controls.
    need_detection = (
        settings.min_detected != 0
        or settings.normalization == "nec"
        or (settings.normalization == "auto" and settings.control_profile is None)
    )
    if need_detection:
        have = set() if profile.detection is None else set(profile.detection.columns)
        no_det = [a for a in arrays if a not in have]
        if no_det:
            raise FormatError(
                f"{profile.path}: no column {no_det[0] + '.Detection Pval'!r} for array"
                f" {no_det[0]!r} ({len(no_det)} sheet array(s) without detection p-values,"
                " needed by the detection filter and the nec fallback)"
            )
    regular = _select(profile, arrays)
    control = None
    if settings.control_profile is not None and settings.normalization != "nec":
        control = read_probe_profile(resolve(settings.control_profile, base_dir))
        if profile.platform and control.platform and profile.platform != control.platform:
            raise FormatError(
                f"mixed platforms: {profile.path} is {profile.platform!r},"
                f" {control.path} is {control.platform!r}"
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = neqc(
            regular,
            control,
            offset=settings.offset,
            require_controls=settings.normalization == "neqc",
            status_column=settings.status_column,
            allow_negative=settings.allow_negative,
        )
    if settings.normalization != "nec":  # the fallback is news only when not asked for
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)

    k = min_arrays(samples, settings.min_detected, settings.group_columns)
    expression = res.expression
    n_probes = len(expression)
    if k > 0:
        keep = detection_filter(
            res.detection, regular.signal, threshold=settings.detection_p, min_arrays=k
        )
        expression = expression.loc[keep]
    expression.columns = samples["sample"].astype(str).tolist()
    features = _features(regular.annotation.loc[expression.index], settings, base_dir)
    provenance = {
        "source": "illumina",
        "files": [str(p) for p in paths] + ([str(control.path)] if control is not None else []),
        "platform": profile.platform,
        "normalization": {
            "method": "neqc" if res.method == "control" else "nec (detection p-values)",
            "background": "normexp",
            "normexp_parameters_from": res.method,
            "negative_controls": res.n_negative,
            "offset": settings.offset,
            "between_arrays": "quantile (regular and control probes), then log2",
            "normexp_parameters": res.parameters.reset_index().to_dict(orient="list"),
        },
        "filter": {
            "detection_p": settings.detection_p,
            "min_detected_arrays": k,
            "probes_read": n_probes,
            "probes_kept": len(expression),
        },
    }
    return ExpressionDataset(
        expression=expression.astype(np.float64),
        samples=samples,
        features=features,
        provenance=provenance,
    )


def _select(profile, arrays: list[str]):
    from dataclasses import replace

    return replace(
        profile,
        signal=profile.signal[arrays],
        detection=None
        if profile.detection is None or any(a not in profile.detection.columns for a in arrays)
        else profile.detection[arrays],
    )


def _features(annotation: pd.DataFrame, settings: IlluminaSettings, base_dir) -> pd.DataFrame:
    index = annotation.index
    if settings.annotation is not None:
        out = annotation_features(settings.annotation, base_dir, index)
        out.index.name = "probe"
        return out
    upper = {c.upper(): c for c in annotation.columns}
    col = upper.get("SYMBOL") or upper.get("ILMN_GENE")
    symbols = clean_symbols(annotation[col]) if col else pd.Series(np.nan, index=index)
    return pd.DataFrame({"gene_symbol": symbols.to_numpy()}, index=index)


# --------------------------------------------------------------------------- source contract
# (docs/architecture.md, "Adding a source").

KIND = "illumina"
Settings = IlluminaSettings


def settings_from_config(
    config: Mapping[str, Any], samples: pd.DataFrame | None = None
) -> IlluminaSettings:
    """``data.illumina`` of the schema-checked config (null keys: the defaults).

    ``group_columns`` null means the design's factors (``design.factors``).
    """
    return _settings_from_config(IlluminaSettings, config, KIND)


def input_files(settings: IlluminaSettings, samples: pd.DataFrame) -> list[tuple[str, str]]:
    """``(where, path)`` of the probe profile(s), control profile and annotation."""
    files = [(f"data.illumina.probe_profile[{i}]", p) for i, p in enumerate(settings.profiles)]
    if settings.control_profile:
        files.append(("data.illumina.control_profile", settings.control_profile))
    if settings.annotation:
        files.append(("data.illumina.annotation", settings.annotation))
    return files


def check_inputs(
    settings: IlluminaSettings, samples: pd.DataFrame, *, is_pending: Callable[[str], bool]
) -> None:
    """A probe profile is given and the sheet's arrays are unique."""
    if not settings.profiles:
        raise ConfigError("data.illumina.probe_profile: no sample probe profile given")
    check_sheet(samples, (), "illumina")


def load(settings: IlluminaSettings, samples: pd.DataFrame, *, threads: int = 1) -> Any:
    """:func:`load_illumina` as a :class:`~sigrestore.sources.SourceResult`."""
    from sigrestore.sources import SourceResult

    return SourceResult(dataset=load_illumina(settings, samples))
