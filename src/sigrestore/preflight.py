"""Checks of the design, the gene sets and the output folder that need no RMA.

Each function reads only what it needs (the sheet, the GMT files, the
number of features a source announces) so the workflow can run them at
validation and a mistake stops the run before hours of reading and
normalizing.  The checks of a source's own input files (for Affymetrix: one
chip type, CEL dimensions against the CDF, the annotation's platform) are the
source module's ``check_inputs`` (:mod:`sigrestore.sources`):

- :func:`check_experiment`: all of the below, with the design checks of
  :func:`sigrestore.diffexp.checks.check_design`;
- :func:`check_gene_set_files`: GMT files parse (errors name file and line);
- :func:`check_top_n`: a ``top`` signature asks for no more features than
  the platform has;
- :func:`check_output_folder`: ``results/`` (and its stage folders) are folders
  that can be written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigrestore.errors import ConfigError, FormatError

if TYPE_CHECKING:
    from sigrestore.config.settings import Settings
    from sigrestore.diffexp.checks import DesignCheck
    from sigrestore.restoration import ComparisonSpec

__all__ = [
    "check_experiment",
    "check_gene_set_files",
    "check_output_folder",
    "check_top_n",
]


def check_gene_set_files(paths: Sequence[str]) -> int:
    """Parse every GMT file (as the enrichment step will); return the number of sets."""
    from sigrestore.enrichment import load_gene_sets

    if not paths:
        return 0
    try:
        return len(load_gene_sets(paths))
    except FormatError as exc:
        raise ConfigError(f"gene_sets: {exc}") from None


def check_top_n(comparisons: Iterable[ComparisonSpec], n_features: int, *, what: str) -> None:
    """Raise ConfigError for a ``top`` signature larger than the ``n_features`` available."""
    for i, comp in enumerate(comparisons):
        top_n = comp.signature.top_n
        if comp.signature.method == "top" and top_n is not None and top_n > n_features:
            raise ConfigError(
                f"config key comparisons[{i}].top_n (comparison {comp.name!r}): {top_n}"
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
    settings: Settings,
    *,
    checks: Mapping[str, Any] | None = None,
    is_pending: Callable[[str], bool] = lambda path: False,
    check_files: bool = True,
    output_root: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> DesignCheck:
    """Every check of issue 15 that runs at validation and is not the source's own.

    The input files' own consistency (for Affymetrix: chip type, CEL
    dimensions against the CDF, the annotation's platform) is the data
    source's ``check_inputs`` (:mod:`sigrestore.sources`), which
    :func:`~sigrestore.config.check_config` runs before this.

    Parameters
    ----------
    settings
        The resolved settings (:func:`sigrestore.config.settings.resolve_settings`):
        the sheet (text columns, ``path`` resolved), the design, the contrasts,
        the comparisons, the gene sets and the source.
    checks
        The config's ``checks`` section (``allow_non_difference``,
        ``allow_similar_levels``).
    is_pending
        ``is_pending(path)`` is true for files a rule will create (the
        example's): they are neither required nor read.
    check_files
        Parse the GMT files and compare ``top`` signatures with the number of
        features the source will give (when its module offers
        ``feature_count``).
    output_root
        The results folder to check (None: not checked).
    log
        Callable taking one line (e.g. ``print``) for the design summary.

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
    from sigrestore.sources import source_module

    checks = checks or {}
    design = settings.de.design
    try:
        result = check_design(
            settings.samples,
            factors=list(design.factors),
            covariates=list(design.covariates),
            contrasts={k: str(v) for k, v in settings.contrasts.items()},
            block=design.block,
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
    # Optional in the source contract: a source that knows its number of
    # features before loading (Affymetrix: the CDF's probe sets) offers it.
    count = getattr(source_module(settings.source), "feature_count", None)
    known = count(settings.source_settings, is_pending=is_pending) if count else None
    if known is not None:
        n_features, what = known
        check_top_n(settings.comparisons, n_features, what=what)
    gene_sets = [p for p in settings.gene_sets if not is_pending(p)]
    check_gene_set_files([p for p in gene_sets if os.path.isfile(p)])
    return result
