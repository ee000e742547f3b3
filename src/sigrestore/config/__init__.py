"""Load and validate a workflow configuration and its sample sheet.

Two layers of checks, both before any job runs:

1. the JSON schemas under ``workflow/schemas/`` (types, allowed values,
   defaults filled in) — the same schemas the Snakefile applies with
   ``snakemake.utils.validate``;
2. what a per-row schema cannot express: unique sample names and file base
   names, every input file present and readable (all missing files in one
   error), design columns present, contrasts that parse and name existing
   groups, at least two arrays in every group a contrast uses, comparisons
   naming existing contrasts, a comparison ``level`` of ``gene`` only with an
   annotation (and a collapse method), a finite expression-filter threshold
   and a filter ``min_samples`` no larger than the number of arrays, the
   data source's own input checks (Affymetrix: one chip type across the CEL
   files equal to the CDF's, CEL dimensions, the annotation's platform), and
   the design checks of :func:`sigrestore.preflight.check_experiment`
   (contrasts that are differences, level spellings, residual degrees of
   freedom, GMT files, the results folder).

Every problem is a :class:`~sigrestore.errors.ConfigError` whose message names
the row, key or file.  The Snakefile calls :func:`check_config` (through
``workflow/rules/common.smk``); from Python, :func:`load_config` does all of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sigrestore.config.checks import cdf_chip_type, check_config, contrast_terms
from sigrestore.config.reading import (
    example_sheet_table,
    read_config,
    read_sample_sheet,
    resolve_paths,
)
from sigrestore.config.schema import SCHEMA_DIR_ENV, apply_schema, load_schema, schema_dir
from sigrestore.config.settings import (
    Settings,
    annotation_given,
    comparison_dict,
    comparison_level,
    comparison_spec,
    resolve_settings,
)

__all__ = [
    "SCHEMA_DIR_ENV",
    "Experiment",
    "Settings",
    "annotation_given",
    "apply_schema",
    "cdf_chip_type",
    "check_config",
    "comparison_dict",
    "comparison_level",
    "comparison_spec",
    "contrast_terms",
    "example_sheet_table",
    "load_config",
    "load_schema",
    "read_config",
    "read_sample_sheet",
    "resolve_paths",
    "resolve_settings",
    "schema_dir",
]


@dataclass(frozen=True)
class Experiment:
    """A validated configuration.

    Attributes
    ----------
    config
        The config with schema defaults filled in.
    samples
        The sample sheet, one row per array, indexed like the file (0-based),
        with an extra ``path`` column (the file resolved against the sheet's
        directory) and ``group`` (the factor levels joined by ``_``).
    settings
        The typed settings :func:`check_config` resolved (``settings.samples``
        is ``samples``).
    """

    config: dict[str, Any]
    samples: pd.DataFrame
    settings: Settings | None = None


def load_config(
    path: str | os.PathLike[str],
    *,
    pending: Iterable[str | os.PathLike[str]]
    | Callable[[dict[str, Any]], Iterable[str | os.PathLike[str]]] = (),
    check_files: bool = True,
    check_chip: bool = True,
    workdir: str | os.PathLike[str] | None = None,
    output_root: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Experiment:
    """Read, schema-check and check a config and its sample sheet.

    Relative paths in the config are taken relative to ``workdir`` (default:
    the current directory), as Snakemake does; the sheet's ``file`` column
    relative to the sheet.  A config naming the example's own sheet gets it
    from the simulator (:func:`example_sheet_table`).  ``output_root`` and
    ``log`` are passed to :func:`check_config`.  ``pending`` (files a rule
    will create) may be a function of the config as read, so a caller need not
    read the file a second time to know them.
    """
    config = read_config(path)
    if callable(pending):
        pending = list(pending(config))
    base = Path(workdir) if workdir is not None else Path.cwd()
    config = resolve_paths(config, base)
    samples = read_sample_sheet(config["samples"], table=example_sheet_table(config))
    settings = check_config(
        config,
        samples,
        pending=pending,
        check_files=check_files,
        check_chip=check_chip,
        output_root=output_root,
        log=log,
    )
    return Experiment(config=config, samples=settings.samples, settings=settings)
