"""Checks of the input files and the output folder that need no RMA.

Each function reads only what it needs (headers, the CDF through its cache,
the annotation, the GMT files) so the workflow can run them at validation and
a mistake stops the run before hours of reading and normalizing:

- :func:`check_cel_dimensions`: every CEL's rows x cols equal the CDF's;
- :func:`check_annotation_platform`: the annotation shares the CDF's probe-set
  names (an annotation of another array type otherwise empties every
  gene-level result after RMA);
- :func:`check_gene_set_files`: GMT files parse (errors name file and line);
- :func:`check_top_n`: a ``top`` signature asks for no more features than
  the platform has;
- :func:`check_output_folder`: ``results/`` (and its stage folders) are folders
  that can be written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sigrestore.errors import ConfigError, FormatError

__all__ = [
    "check_annotation_platform",
    "check_cel_dimensions",
    "check_gene_set_files",
    "check_output_folder",
    "check_top_n",
]


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
    import pandas as pd

    from sigrestore.annotation import check_platform, read_annotation

    try:
        annotation = read_annotation(annotation_path)
        return check_platform(pd.Index(probeset_names), annotation)
    except FormatError as exc:
        raise ConfigError(f"platform.annotation {annotation_path}: {exc}") from None


def check_gene_set_files(paths: Sequence[str]) -> int:
    """Parse every GMT file (as the enrichment step will); return the number of sets."""
    from sigrestore.enrichment import load_gene_sets

    if not paths:
        return 0
    try:
        return len(load_gene_sets(paths))
    except FormatError as exc:
        raise ConfigError(f"gene_sets: {exc}") from None


def check_top_n(comparisons: Iterable[Mapping], n_features: int, *, what: str) -> None:
    """Raise ConfigError for a ``top`` signature larger than the ``n_features`` available."""
    for i, comp in enumerate(comparisons):
        top_n = comp.get("top_n")
        if comp.get("method") == "top" and top_n is not None and top_n > n_features:
            raise ConfigError(
                f"config key comparisons[{i}].top_n (comparison {comp.get('name')!r}): {top_n}"
                f" is more than the {n_features} {what}; the signature would silently be every"
                " feature. Choose a smaller top_n."
            )


def check_output_folder(root: str | os.PathLike[str], subfolders: Iterable[str] = ()) -> None:
    """Raise ConfigError unless ``root`` and its ``subfolders`` are (or can be) writable folders.

    A file where a folder is expected, or a folder the user cannot write
    (read-only after a copy, another user's), otherwise ends in a traceback
    from deep inside a job.
    """
    root = Path(root)
    for path in [root, *(root / s for s in subfolders)]:
        if path.exists() and not path.is_dir():
            raise ConfigError(
                f"{path} is a file, but the workflow writes its results into a folder of that"
                " name; move or rename the file"
            )
        if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(
                f"{path} is a folder this user cannot write (permissions"
                f" {oct(path.stat().st_mode & 0o777)}); make it writable (chmod -R u+w {path})"
                " or run in another directory"
            )
    parent = root.parent
    if not root.exists() and not os.access(parent if str(parent) else ".", os.W_OK | os.X_OK):
        raise ConfigError(f"cannot create {root}: {parent.resolve()} is not writable")


def check_experiment(
    config: Mapping,
    samples,
    *,
    is_pending=lambda path: False,
    check_files: bool = True,
    output_root: str | os.PathLike[str] | None = None,
    log=None,
    cdf: str | None = None,
    annotation: str | None = None,
):
    """Every check of issue 15 that runs at validation, in one call.

    Parameters
    ----------
    config
        The config, schema defaults filled in, paths resolved.
    samples
        The sample sheet (text columns, ``path`` resolved).
    is_pending
        ``is_pending(path)`` is true for files a rule will create (the
        example's): they are neither required nor read.
    check_files
        Read the CEL headers, the CDF (through its cache), the annotation and
        the GMT files.
    output_root
        The results folder to check (None: not checked).
    log
        Callable taking one line (e.g. ``print``) for the design summary.
    cdf, annotation
        The platform files (default: ``platform.cdf`` and
        ``platform.annotation`` of ``config``); a data source that keeps them
        elsewhere passes them here.

    Returns
    -------
    sigrestore.diffexp.checks.DesignCheck

    Raises
    ------
    ConfigError
        Naming the key, contrast, column, row or file at fault.
    """
    from sigrestore.diffexp.checks import check_design
    from sigrestore.errors import DesignError

    design_cfg = config.get("design", {}) or {}
    checks = config.get("checks", {}) or {}
    try:
        result = check_design(
            samples,
            factors=list(design_cfg.get("factors", [])),
            covariates=list(design_cfg.get("covariates") or []),
            contrasts={k: str(v) for k, v in (config.get("contrasts") or {}).items()},
            block=design_cfg.get("block"),
            allow_non_difference=checks.get("allow_non_difference") or (),
            allow_similar_levels=bool(checks.get("allow_similar_levels", False)),
        )
    except DesignError as exc:
        raise ConfigError(f"design and contrasts: {exc}") from None
    if log is not None:
        for line in result.describe().splitlines():
            log(line)
    if output_root is not None:
        check_output_folder(output_root, ("cache", "normalized", "qc", "diffexp", "restoration"))
    if not check_files:
        return result
    platform = config.get("platform", {}) or {}
    cdf_path = cdf if cdf is not None else platform.get("cdf")
    if cdf_path and not is_pending(cdf_path) and os.path.isfile(cdf_path):
        from sigrestore.io import load_cdf, read_cel_header

        try:
            cdf = load_cdf(cdf_path)
        except FormatError as exc:
            raise ConfigError(f"platform.cdf {cdf_path}: {exc}") from None
        headers = []
        for i, (sample, path) in enumerate(zip(samples["sample"], samples["path"], strict=True)):
            if is_pending(path) or not os.path.isfile(path):
                continue
            try:
                headers.append((f"row {i + 1} (sample {sample!r}, {path})", read_cel_header(path)))
            except FormatError as exc:
                raise ConfigError(f"sample sheet row {i + 1} (sample {sample!r}): {exc}") from None
        check_cel_dimensions(cdf.rows, cdf.cols, headers, cdf_path=cdf_path)
        if annotation is None:
            annotation = platform.get("annotation")
        if annotation and not is_pending(annotation) and os.path.isfile(annotation):
            check_annotation_platform(cdf.probeset_names, annotation)
        check_top_n(config.get("comparisons") or [], len(cdf.probeset_names), what="probe sets")
    gene_sets = [p for p in config.get("gene_sets") or [] if not is_pending(p)]
    check_gene_set_files([p for p in gene_sets if os.path.isfile(p)])
    return result
