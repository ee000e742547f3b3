"""Validation of a config the way the workflow does it, with the project's own readers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Validated", "validate_config"]

DEFAULT_CONFIG = Path("config") / "config.yaml"


@dataclass(frozen=True)
class Validated:
    """A config that passed every check.

    Attributes
    ----------
    path
        The config file.
    config
        Its content with schema defaults filled in and paths made absolute.
    samples
        The sample sheet with ``path`` and ``group`` columns.
    sizes
        Arrays per group.
    """

    path: Path
    config: dict[str, Any]
    samples: pd.DataFrame
    sizes: pd.Series


def validate_config(
    path: str | os.PathLike[str],
    *,
    workdir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Validated:
    """Read and check ``path`` as the workflow will (before any job).

    The YAML is read with :func:`sigrestore.textio.read_yaml` (errors name the
    line and column), then :func:`sigrestore.config.load_config` runs the
    schema and the sheet checks, and
    :func:`sigrestore.preflight.check_experiment` the design, file and output
    folder checks.  The example's raw files count as pending (the workflow's
    first rule writes them).

    Raises
    ------
    SigrestoreError
        The first problem found, naming the file, line, key or row.
    """
    from sigrestore.config import apply_schema, load_config, load_schema, resolve_paths
    from sigrestore.errors import ConfigError
    from sigrestore.preflight import check_experiment
    from sigrestore.simulate.experiment import example_files
    from sigrestore.textio import read_yaml

    path = Path(path)
    base = Path(workdir) if workdir is not None else Path.cwd()
    raw = read_yaml(path, what="config")
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    config = resolve_paths(apply_schema(raw, load_schema("config"), what=f"config {path}"), base)
    outdir = config.get("example", {}).get("outdir", "resources/example")
    pending = [str(p) for p in example_files(base / outdir).all()]
    experiment = load_config(path, pending=pending, workdir=base)
    pending_set = {os.path.normpath(p) for p in pending}
    result = check_experiment(
        experiment.config,
        experiment.samples,
        is_pending=lambda p: os.path.normpath(os.path.abspath(p)) in pending_set,
        output_root=base / "results",
        log=log,
    )
    return Validated(
        path=path, config=experiment.config, samples=experiment.samples, sizes=result.sizes
    )
