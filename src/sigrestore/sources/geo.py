"""The GEO data source: a series matrix (or GDS SOFT) from the cache -> ExpressionDataset.

Inputs are the files ``sigrestore geo fetch`` (:func:`sigrestore.geo.fetch_geo`)
put in ``<cache_dir>/<accession>/`` — or that a user placed there by hand
under GEO's names — so this step never touches the network.  Values are
treated as GEO2R treats them: log2 by GEO2R's quantile rule unless forced,
values <= 0 missing before the log, optional quantile normalization; missing
values stay NaN for limma's missing-value path.

``raw: true`` series are analysed from their CEL files by the Affymetrix
source; :func:`raw_inputs` unpacks the RAW tar (and a zipped CDF) and gives
that source its sample sheet with a ``file`` column.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError, FormatError
from sigrestore.geo import accession as acc
from sigrestore.geo.download import DownloadOptions
from sigrestore.geo.fetch import FetchSettings, read_manifest
from sigrestore.geo.platform import read_platform_table
from sigrestore.geo.raw import cel_members, extract_cdf_zip, extract_raw_tar
from sigrestore.geo.series_matrix import read_series_matrix
from sigrestore.geo.sheet import SheetOptions, build_sheet
from sigrestore.geo.soft import read_soft
from sigrestore.geo.transform import (
    LOG2_CHOICES,
    NORMALIZE_CHOICES,
    apply_log2,
    decide_log2,
    normalize_quantiles,
)

__all__ = [
    "KIND",
    "GeoSettings",
    "RawInputs",
    "Settings",
    "check_inputs",
    "find_files",
    "input_files",
    "load",
    "load_geo",
    "manifest_path",
    "raw_inputs",
    "settings_from_config",
]

log = logging.getLogger("sigrestore.geo")


@dataclass(frozen=True)
class GeoSettings:
    """The ``data.geo`` settings.

    Attributes
    ----------
    accession : str
        ``GSE...`` (series matrix) or ``GDS...`` (GDS SOFT).
    platform : str or None
        The GPL to use when the series has several (required then).
    raw : bool
        Analyse the CEL files of ``<GSE>_RAW.tar`` (Affymetrix source) instead
        of the submitter's matrix.
    normalize : str
        ``"none"`` (GEO2R's default) or ``"quantile"`` (limma's
        ``normalizeBetweenArrays(method = "quantile")`` after the log).
    log2 : str
        ``"auto"`` (GEO2R's rule), ``"yes"`` or ``"no"``.
    cache_dir : str
        The cache folder of ``sigrestore geo fetch``; files are read from
        ``<cache_dir>/<accession>/``.
    base_url : str
        GEO's root URL (used by the fetch step only).
    annotation : str or None
        A probe annotation file (GPL ``.annot.gz``, GPL SOFT, NetAffx CSV,
        TSV); None: the platform annotation in the cache folder when there is
        one, else no gene annotation.
    matrix : str or None
        An explicit series-matrix (or GDS SOFT) path instead of the cache lookup.
    title_pattern : str or None
        Regular expression with named groups: columns parsed from the titles
        when the series' own sample table is used (:mod:`sigrestore.geo.sheet`).
    """

    accession: str
    platform: str | None = None
    raw: bool = False
    normalize: str = "none"
    log2: str = "auto"
    cache_dir: str = "resources/geo"
    base_url: str = acc.DEFAULT_BASE_URL
    annotation: str | None = None
    matrix: str | None = None
    title_pattern: str | None = None

    def __post_init__(self) -> None:
        acc.check_accession(self.accession, what="data.geo.accession")
        if self.platform is not None:
            acc.check_platform_id(self.platform, what="data.geo.platform")
        if self.normalize not in NORMALIZE_CHOICES:
            raise ConfigError(
                f"data.geo.normalize {self.normalize!r} is not one of {list(NORMALIZE_CHOICES)}"
            )
        if self.log2 not in LOG2_CHOICES:
            raise ConfigError(f"data.geo.log2 {self.log2!r} is not one of {list(LOG2_CHOICES)}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | str, *, key: str = "data.geo") -> GeoSettings:
        """Settings from the config's ``data.geo`` mapping (or a bare accession string).

        The accession may be given as ``accession`` or ``geo``; an unknown key
        is a ConfigError naming it (a misspelt ``platfrom`` must not be ignored).
        """
        if isinstance(data, str):
            return cls(accession=data)
        if not isinstance(data, Mapping):
            raise ConfigError(f"{key} must be a mapping or an accession, not {type(data).__name__}")
        values = dict(data)
        if "geo" in values:
            if "accession" in values:
                raise ConfigError(f"{key}: give the accession once (accession or geo)")
            values["accession"] = values.pop("geo")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{key}: unknown key(s) {unknown}; known: {sorted(known)}")
        if "accession" not in values:
            raise ConfigError(f"{key}.accession is required (GSE... or GDS...)")
        for flag in ("raw",):
            if flag in values and not isinstance(values[flag], bool):
                raise ConfigError(f"{key}.{flag} must be true or false, not {values[flag]!r}")
        return cls(**values)

    def fetch_settings(self, download: DownloadOptions | None = None) -> FetchSettings:
        """What the fetch step downloads for these settings.

        The platform annotation is fetched unless an annotation file is given.
        """
        return FetchSettings(
            accession=self.accession,
            cache_dir=self.cache_dir,
            platform=self.platform,
            raw=self.raw,
            annotation=self.annotation is None,
            base_url=self.base_url,
            download=download or DownloadOptions(),
        )

    @property
    def folder(self) -> Path:
        """``<cache_dir>/<accession>``."""
        return Path(self.cache_dir) / self.accession

    @property
    def gene_level(self) -> bool:
        """Whether the workflow has gene-level results, known before any job runs.

        True with an ``annotation`` file, and by default for a matrix read from
        the cache: the fetch step downloads the platform's annotation table
        (``GPL....annot.gz``, or the platform SOFT) with the series matrix and
        fails when it cannot, so its gene symbols are there when the matrix is
        read.  An explicit ``matrix`` without ``annotation`` has no fetch step
        (no gene level); ``raw: true`` (RMA on the CEL files) has a gene level
        only with ``annotation``.
        """
        if self.annotation:
            return True
        return self.matrix is None and not self.raw


def _matrix_platform(name: str) -> str | None:
    stem = name.split("_series_matrix", 1)[0]
    return stem.split("-", 1)[1] if "-" in stem else None


def find_files(settings: GeoSettings) -> tuple[Path, Path | None]:
    """The expression file and the annotation file (or None) to use.

    Raises
    ------
    ConfigError
        Nothing cached for the accession (the message says how to fetch it or
        where to put it by hand); several platforms and no ``platform``; no
        file for the chosen platform.
    """
    folder = settings.folder
    if settings.matrix is not None:
        matrix = Path(settings.matrix)
        if not matrix.is_file():
            raise ConfigError(f"data.geo.matrix: {matrix} does not exist")
    elif settings.accession.startswith("GDS"):
        matrix = folder / f"{settings.accession}.soft.gz"
        if not matrix.is_file():
            raise ConfigError(_not_cached(settings, matrix.name))
    else:
        manifest = read_manifest(folder)
        if manifest is not None:
            names = [f.name for f in manifest if f.role == "series_matrix"]
        else:
            names = sorted(p.name for p in folder.glob(f"{settings.accession}*_series_matrix.txt*"))
            names = [n for n in names if not n.endswith(".part")]
        if not names:
            raise ConfigError(_not_cached(settings, f"{settings.accession}_series_matrix.txt.gz"))
        by_platform = {_matrix_platform(n): n for n in names}
        if settings.platform is None:
            if len(names) > 1:
                platforms = sorted(p or "?" for p in by_platform)
                raise ConfigError(
                    f"series {settings.accession} has matrices for several platforms "
                    f"({', '.join(platforms)}); set data.geo.platform to one of them"
                )
            matrix = folder / names[0]
        else:
            name = by_platform.get(settings.platform) or by_platform.get(None)
            if name is None:
                raise ConfigError(
                    f"series {settings.accession} has no matrix for platform {settings.platform} "
                    f"in {folder} (found {names})"
                )
            matrix = folder / name
    annotation: Path | None = None
    if settings.annotation is not None:
        annotation = Path(settings.annotation)
        if not annotation.is_file():
            raise ConfigError(f"data.geo.annotation: {annotation} does not exist")
    return matrix, annotation


def _not_cached(settings: GeoSettings, name: str) -> str:
    return (
        f"{settings.accession}: {name} is not in the cache folder {settings.folder}; run "
        f"`sigrestore geo fetch {settings.accession} --out {settings.cache_dir}` on a machine "
        f"with internet access (e.g. a login node), or download the file from GEO by hand and "
        f"put it there under that name"
    )


def _cached_annotation(folder: Path, platform: str) -> Path | None:
    for name in (f"{platform}.annot.gz", f"{platform}_family.soft.gz", f"{platform}.annot"):
        if (folder / name).is_file():
            return folder / name
    return None


def _align_sheet(sheet: pd.DataFrame, expression: pd.DataFrame, source: str) -> pd.DataFrame:
    if "sample" not in sheet.columns:
        raise ConfigError("the sample sheet has no 'sample' column (the GSM ids)")
    names = sheet["sample"].astype(str)
    dup = names[names.duplicated()]
    if len(dup):
        raise ConfigError(f"the sample sheet lists {dup.iloc[0]} twice")
    missing = [s for s in names if s not in expression.columns]
    if missing:
        row = int(names.tolist().index(missing[0]))
        raise FormatError(
            f"the sample sheet's row {row + 1} names {missing[0]}, which is not a sample of "
            f"{source} (its samples: {', '.join(map(str, expression.columns[:6]))}"
            f"{', ...' if expression.shape[1] > 6 else ''})"
        )
    return sheet.assign(sample=names).reset_index(drop=True)


def load_geo(settings: GeoSettings, samples: pd.DataFrame | None = None) -> ExpressionDataset:
    """Read, transform and annotate a cached GEO matrix.

    Parameters
    ----------
    settings
        The ``data.geo`` settings (``raw`` must be false: see :func:`raw_inputs`).
    samples
        The sample sheet (``sample`` = GSM ids, plus the design columns); the
        dataset keeps its samples in its order.  None: the matrix's own sample
        table (:func:`sigrestore.geo.build_sheet`, with ``title_pattern``).

    Returns
    -------
    ExpressionDataset
        log2 values (NaN where missing), the sheet, the platform annotation
        (``gene_symbol``, ``entrez_id``, ``gene_title``) when available, and
        provenance ``source="geo"``, ``accession``, ``platform``, ``files``,
        ``log2`` (decision, quantiles, reason), ``normalization``,
        ``non_numeric_cells``, ``missing_values``.
    """
    if settings.raw:
        raise ConfigError(
            "data.geo.raw is true: the CEL files are analysed by the Affymetrix source "
            "(sigrestore.sources.geo.raw_inputs gives it the sheet and CEL folder)"
        )
    matrix_path, annotation_path = find_files(settings)
    files = [str(matrix_path)]
    if matrix_path.name.endswith((".soft.gz", ".soft")):
        soft = read_soft(matrix_path)
        values = soft.expression(settings.platform)
        own_sheet = soft.sample_table(settings.platform)
        platform = settings.platform or (soft.platform_ids or [""])[0]
        non_numeric: dict[str, int] = {}
    else:
        sm = read_series_matrix(matrix_path)
        values = sm.expression
        platform = sm.platform
        if settings.platform is not None and platform and platform != settings.platform:
            raise FormatError(
                f"{matrix_path}: the samples are on {platform}, not on data.geo.platform "
                f"{settings.platform}"
            )
        own_sheet = build_sheet(sm, options=SheetOptions(title_pattern=settings.title_pattern))
        non_numeric = sm.non_numeric
    sheet = own_sheet if samples is None else samples
    sheet = _align_sheet(sheet, values, str(matrix_path))
    values = values.loc[:, sheet["sample"].tolist()]
    decision = decide_log2(values, settings.log2)
    log.info("%s: %s", settings.accession, decision.reason)
    expression = apply_log2(values, decision)
    if settings.normalize == "quantile":
        expression = normalize_quantiles(expression)
        log.info("%s: quantile normalization between arrays", settings.accession)
    if annotation_path is None and platform:
        annotation_path = _cached_annotation(matrix_path.parent, platform)
    features = None
    if annotation_path is not None:
        table = read_platform_table(annotation_path, expression_ids=expression.index)
        features = table.reindex(expression.index)
        features.index.name = expression.index.name
        files.append(str(annotation_path))
    provenance = {
        "source": "geo",
        "accession": settings.accession,
        "platform": platform,
        "files": files,
        "log2": decision.as_dict(),
        "normalization": settings.normalize,
        "non_numeric_cells": non_numeric,
        "missing_values": int(expression.isna().to_numpy().sum()),
    }
    return ExpressionDataset(
        expression=expression, samples=sheet, features=features, provenance=provenance
    )


@dataclass(frozen=True)
class RawInputs:
    """What the Affymetrix source needs for a ``raw: true`` GEO series.

    Attributes
    ----------
    samples : DataFrame
        The sheet with a ``file`` column (paths of the extracted CEL files).
    cel_dir : Path
        Where the CEL files were unpacked.
    cdf : Path or None
        The CDF (unpacked from its zip when a zip was given).
    """

    samples: pd.DataFrame
    cel_dir: Path
    cdf: Path | None


def raw_inputs(
    settings: GeoSettings,
    samples: pd.DataFrame | None = None,
    *,
    cdf: str | os.PathLike[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
) -> RawInputs:
    """Unpack ``<GSE>_RAW.tar`` (and a zipped CDF) for the Affymetrix source.

    The sheet is ``samples`` (or the series matrix's own table when cached);
    its GSMs get the path of their CEL file; a GSM without one is an error.
    """
    folder = settings.folder
    tar = folder / f"{settings.accession}_RAW.tar"
    if not tar.is_file():
        raise ConfigError(_not_cached(settings, tar.name))
    members = cel_members(tar)
    if samples is None:
        matrix, _ = find_files(settings)
        sm = read_series_matrix(matrix)
        samples = build_sheet(sm, options=SheetOptions(title_pattern=settings.title_pattern))
    out = Path(dest) if dest is not None else folder / "cel"
    paths = extract_raw_tar(tar, out)
    sheet = samples.copy()
    sheet["sample"] = sheet["sample"].astype(str)
    lacking = [s for s in sheet["sample"] if s not in members.index]
    if lacking:
        raise FormatError(
            f"{tar}: no CEL file for {', '.join(lacking[:5])} (the archive has "
            f"{len(members)} CEL files)"
        )
    sheet["file"] = sheet["sample"].map(paths).to_numpy()
    cdf_path: Path | None = None
    if cdf is not None:
        cdf_path = Path(cdf)
        if cdf_path.suffix.lower() == ".zip":
            cdf_path = extract_cdf_zip(cdf_path, out)
    return RawInputs(samples=sheet, cel_dir=out, cdf=cdf_path)


# --------------------------------------------------------------------------- source contract
# (docs/architecture.md, "Adding a source").  The workflow's fetch rule
# (fetch_geo, manifest.json written last) fills the cache; load reads it.

KIND = "geo"
Settings = GeoSettings


def settings_from_config(
    config: Mapping[str, Any], samples: pd.DataFrame | None = None
) -> GeoSettings:
    """``data.geo`` of the schema-checked config: a mapping, or the accession alone.

    Null keys are the defaults.  ``data: {geo: GSE...}`` (the shorthand) is
    ``data: {source: geo, geo: {accession: GSE...}}``.
    """
    from sigrestore.sources import drop_unset

    branch = (config.get("data") or {}).get(KIND)
    if isinstance(branch, str):
        return GeoSettings.from_mapping(branch)
    return GeoSettings.from_mapping(drop_unset(branch))


def manifest_path(settings: GeoSettings) -> str:
    """``<cache_dir>/<accession>/manifest.json``: what the fetch step writes last."""
    return str(settings.folder / "manifest.json")


def input_files(settings: GeoSettings, samples: pd.DataFrame) -> list[tuple[str, str]]:
    """Files the user gives: an explicit matrix and annotation (the cache is fetched)."""
    files = []
    if settings.matrix is not None:
        files.append(("data.geo.matrix", settings.matrix))
    if settings.annotation is not None:
        files.append(("data.geo.annotation", settings.annotation))
    return files


def check_inputs(settings: GeoSettings, samples: pd.DataFrame, *, is_pending: Any) -> None:
    """The sheet's samples are GSM accessions (GEO's column names), unique."""
    import re

    bad = [
        (i, s)
        for i, s in enumerate(samples["sample"].astype(str))
        if not re.fullmatch(r"GSM\d+", s)
    ]
    if bad and not settings.accession.startswith("GDS"):
        i, s = bad[0]
        raise ConfigError(
            f"sample sheet row {i + 1} (line {i + 2}): sample {s!r} is not a GSM accession;"
            f" with data.source geo the sheet's samples are the series' GSMs"
            f" ({len(bad)} such row(s))"
        )


def load(settings: GeoSettings, samples: pd.DataFrame, *, threads: int = 1) -> Any:
    """:func:`load_geo` of the sheet's GSMs as a :class:`~sigrestore.sources.SourceResult`.

    The dataset's features are reduced to ``gene_symbol`` and ``entrez_id``
    (the workflow's gene level) when the platform annotation has them.
    """
    from sigrestore.sources import SourceResult

    sheet = samples.drop(columns=[c for c in ("path", "file") if c in samples.columns])
    dataset = load_geo(settings, sheet)
    if dataset.features is not None:
        cols = [c for c in ("gene_symbol", "entrez_id") if c in dataset.features.columns]
        features = dataset.features[cols]
        features.index.name = "probeset"
        dataset = ExpressionDataset(
            expression=dataset.expression.rename_axis("probeset"),
            samples=samples.reset_index(drop=True),
            features=features,
            weights=None,
            provenance=dataset.provenance,
        )
    return SourceResult(dataset=dataset)
