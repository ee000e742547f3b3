"""Affymetrix source: CEL files + CDF, RMA, optional probe-set annotation.

Config (schema branch ``data.affymetrix``; the legacy ``platform:`` and
``normalization:`` sections stay valid)::

    data:
      source: affymetrix            # the default
      affymetrix:
        cdf: chip.CDF               # null: platform.cdf
        annotation: annot.csv       # null: platform.annotation
    normalization: {method: rma, background: true, normalize: true}

:func:`load` reads the CEL files named by the sample sheet's ``path`` column,
streaming, through :func:`sigrestore.preprocess.run_rma`, and returns an
:class:`~sigrestore.dataset.ExpressionDataset` (probe sets x arrays, log2 RMA)
whose ``features`` are the annotation's ``gene_symbol`` and ``entrez_id`` for
every probe set (NaN where unannotated), after checking that the annotation is
of the arrays' platform.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError, FormatError
from sigrestore.sources import SourceResult

__all__ = [
    "KIND",
    "Settings",
    "check_annotation_platform",
    "check_cel_dimensions",
    "check_inputs",
    "feature_count",
    "input_files",
    "load",
    "settings_from_config",
]

KIND = "affymetrix"


@dataclass(frozen=True)
class Settings:
    """The Affymetrix source's options (defaults equal the schema's).

    Attributes
    ----------
    cdf : str
        The CDF file (ASCII or XDA, optionally gzipped).
    annotation : str or None
        NetAffx CSV / GEO GPL / TSV probe-set annotation; None: probe-set level only.
    method : str
        Normalization method (``rma``).
    background, normalize : bool
        RMA's background correction and quantile normalization.
    """

    cdf: str = "resources/example/SigrestoreSim.CDF"
    annotation: str | None = None
    method: str = "rma"
    background: bool = True
    normalize: bool = True


def settings_from_config(
    config: Mapping[str, Any], samples: pd.DataFrame | None = None
) -> Settings:
    """``data.affymetrix`` over the legacy ``platform`` section, and ``normalization``.

    A key of ``data.affymetrix`` that is null (its default) falls back to the
    same key of ``platform``.
    """
    platform = config.get("platform", {}) or {}
    branch = (config.get("data", {}) or {}).get(KIND, {}) or {}
    norm = config.get("normalization", {}) or {}
    default = Settings()

    def pick(key: str, fallback: Any) -> Any:
        value = branch.get(key)
        return platform.get(key, fallback) if value is None else value

    return Settings(
        cdf=str(pick("cdf", default.cdf)),
        annotation=pick("annotation", None) or None,
        method=norm.get("method", default.method),
        background=bool(norm.get("background", default.background)),
        normalize=bool(norm.get("normalize", default.normalize)),
    )


def input_files(settings: Settings, samples: pd.DataFrame) -> list[tuple[str, str]]:
    """``(where, path)`` of the CDF, the annotation and every CEL file."""
    empty = [i for i, f in enumerate(samples["path"]) if not f]
    if empty and len(empty) == len(samples):
        raise ConfigError(
            "sample sheet: required column 'file' is missing or empty (the affymetrix"
            " source reads each array's CEL file)"
        )
    if empty:
        raise ConfigError(
            f"sample sheet {_row(empty[0])}: no file (the CEL file of every array is needed;"
            f" {len(empty)} row(s) without one)"
        )
    files = [("platform.cdf", settings.cdf)]
    if settings.annotation:
        files.append(("platform.annotation", settings.annotation))
    files += [
        (f"sample sheet {_row(i)} (sample {s!r})", p)
        for i, (s, p) in enumerate(zip(samples["sample"], samples["path"], strict=True))
    ]
    return files


def check_inputs(
    settings: Settings, samples: pd.DataFrame, *, is_pending: Callable[[str], bool]
) -> None:
    """The CEL files and the CDF fit together, and the annotation fits the CDF.

    - one chip type across the CEL files, equal to the CDF's (as affy requires);
    - every CEL's rows x cols equal the CDF's (a truncated file or one of
      another array type otherwise fails only after hours of RMA);
    - the annotation lists the CDF's probe sets (an annotation of another
      array type otherwise empties every gene-level result).

    Reads the CEL headers, the CDF (through its cache,
    :func:`sigrestore.io.load_cdf`) and the annotation.  Files a rule will
    create (``is_pending``) are skipped.
    """
    from sigrestore.io import read_cel_header
    from sigrestore.io.cdf import read_cdf_chip_type

    present = [
        (i, s, p)
        for i, (s, p) in enumerate(zip(samples["sample"], samples["path"], strict=True))
        if not is_pending(p)
    ]
    headers = []
    for i, sample, path in present:
        try:
            header = read_cel_header(path)
        except FormatError as exc:
            raise ConfigError(f"sample sheet {_row(i)} (sample {sample!r}): {exc}") from None
        headers.append((i, sample, path, header))
    chips: dict[str, list[str]] = {}
    for _, sample, path, header in headers:
        chips.setdefault(str(header["chip_type"]), []).append(f"{sample} ({path})")
    if len(chips) > 1:
        detail = "; ".join(f"{chip}: {', '.join(files[:5])}" for chip, files in chips.items())
        raise ConfigError(f"CEL files are of more than one chip type: {detail}")
    if is_pending(settings.cdf):
        return
    if chips:
        (chip,) = chips
        try:
            cdf_chip = read_cdf_chip_type(settings.cdf)
        except FormatError as exc:
            raise ConfigError(f"platform.cdf {settings.cdf}: cannot be read ({exc})") from None
        if _norm_chip(cdf_chip) != _norm_chip(chip):
            raise ConfigError(
                f"platform.cdf {settings.cdf} is for chip type {cdf_chip!r} but the CEL files"
                f" are {chip!r}"
            )
    if not os.path.isfile(settings.cdf):  # no CEL file to compare; the file check names it
        return
    layout = _layout(settings.cdf)
    check_cel_dimensions(
        layout.rows,
        layout.cols,
        [(f"{_row(i)} (sample {sample!r}, {path})", h) for i, sample, path, h in headers],
        cdf_path=settings.cdf,
    )
    annotation = settings.annotation
    if annotation and not is_pending(annotation) and os.path.isfile(annotation):
        check_annotation_platform(layout.probeset_names, annotation)


def feature_count(
    settings: Settings, *, is_pending: Callable[[str], bool] = lambda path: False
) -> tuple[int, str] | None:
    """The number of probe sets the dataset will have (the CDF's), before any RMA.

    None when the CDF does not exist yet (a rule creates it).  Optional in the
    source contract: the config check compares ``top`` signatures with it.
    """
    if is_pending(settings.cdf) or not os.path.isfile(settings.cdf):
        return None
    return len(_layout(settings.cdf).probeset_names), "probe sets"


def check_cel_dimensions(
    cdf_rows: int, cdf_cols: int, cels: Iterable[tuple[str, Mapping]], *, cdf_path: str = "CDF"
) -> None:
    """Raise ConfigError listing the CEL files whose rows x cols differ from the CDF's.

    Parameters
    ----------
    cdf_rows, cdf_cols
        The CDF's dimensions.
    cels
        (label, header) pairs, the header as
        :func:`~sigrestore.io.read_cel_header` returns it.
    cdf_path
        The CDF, for the message.
    """
    bad = [
        f"  {label}: {header['rows']} x {header['cols']}"
        for label, header in cels
        if (int(header["rows"]), int(header["cols"])) != (int(cdf_rows), int(cdf_cols))
    ]
    if bad:
        raise ConfigError(
            f"{len(bad)} CEL file(s) do not have the dimensions of platform.cdf {cdf_path}"
            f" ({cdf_rows} x {cdf_cols} cells, rows x cols):\n"
            + "\n".join(bad[:20])
            + ("\n  ..." if len(bad) > 20 else "")
            + "\nThe files are probably truncated or of another array type."
        )


def check_annotation_platform(probeset_names: Sequence[str], annotation_path: str) -> float:
    """The fraction of the CDF's probe sets the annotation lists; ConfigError if too few."""
    from sigrestore.annotation import check_platform, read_annotation

    try:
        annotation = read_annotation(annotation_path)
        return check_platform(pd.Index(probeset_names), annotation)
    except FormatError as exc:
        raise ConfigError(f"platform.annotation {annotation_path}: {exc}") from None


def _layout(path: str):
    # Through the .npz cache: parsed once, then milliseconds for every later
    # check and for the rma job.
    from sigrestore.io import load_cdf

    try:
        return load_cdf(path)
    except FormatError as exc:
        raise ConfigError(f"platform.cdf {path}: {exc}") from None


def load(
    settings: Settings,
    samples: pd.DataFrame,
    *,
    threads: int = 1,
    cdf: Any = None,
) -> SourceResult:
    """RMA of the sheet's CEL files (column ``path``), named by its ``sample`` column.

    Parameters
    ----------
    settings : Settings
    samples : DataFrame
        The checked sample sheet (``sample``, ``path`` and the design columns).
    threads : int
        Workers reading (inflating, parsing) the CEL files and running RMA's
        per-array pass: ``run_rma``'s ``n_jobs`` (the workflow passes the
        ``rma`` rule's threads).
    cdf : CdfData, optional
        The parsed layout (e.g. the workflow's cache); read from
        ``settings.cdf`` when not given.

    Returns
    -------
    SourceResult
        The dataset, the per-array quality table and the QC figures' data
        (:func:`sigrestore.preprocess.qcdata.qc_arrays`).
    """
    from sigrestore.annotation import check_platform, read_annotation
    from sigrestore.io import read_cdf
    from sigrestore.preprocess import run_rma
    from sigrestore.preprocess.qcdata import qc_arrays

    if settings.method != "rma":
        raise ConfigError(f"normalization.method: {settings.method!r} is not supported (rma)")
    layout = cdf if cdf is not None else read_cdf(settings.cdf)
    result = run_rma(
        [os.fspath(p) for p in samples["path"]],
        layout,
        sample_names=[str(s) for s in samples["sample"]],
        background=settings.background,
        normalize=settings.normalize,
        n_jobs=threads,
    )
    expression = result.expression.rename_axis("probeset")
    features = None
    if settings.annotation:
        frame = read_annotation(settings.annotation)
        check_platform(expression.index, frame)
        features = frame[["gene_symbol", "entrez_id"]].reindex(expression.index)
    dataset = ExpressionDataset(
        expression=expression,
        samples=samples.reset_index(drop=True),
        features=features,
        provenance={
            "source": KIND,
            "cdf": settings.cdf,
            "chip_type": layout.chip_type,
            "annotation": settings.annotation,
            "normalization": "rma",
            "background": settings.background,
            "quantile_normalize": settings.normalize,
        },
    )
    return SourceResult(dataset=dataset, quality=result.qc, qc=qc_arrays(result))


def _row(i: int) -> str:
    # Row numbers as a spreadsheet shows them: the header is line 1.
    return f"row {i + 1} (line {i + 2})"


def _norm_chip(name: str) -> str:
    # affy compares cleaned names: case, "-" / "_" and ".CDF" do not matter.
    name = re.sub(r"\.cdf(\.gz)?$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[-_ ]", "", name).lower()
