"""Validation of a config the way the workflow does it, with the project's own readers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from sigrestore.config import Settings

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
    settings
        The typed settings the workflow will use (:class:`sigrestore.config.Settings`).
    """

    path: Path
    config: dict[str, Any]
    samples: pd.DataFrame
    sizes: pd.Series
    settings: Settings | None = None


def validate_config(
    path: str | os.PathLike[str],
    *,
    workdir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Validated:
    """Read and check ``path`` as the workflow will (before any job).

    :func:`sigrestore.config.load_config` with the workflow's settings: the
    example's raw files count as pending (the workflow's first rule writes
    them) and ``results/`` under ``workdir`` must be a writable folder.

    Raises
    ------
    SigrestoreError
        The first problem found, naming the file, line, key or row.
    """
    from sigrestore.config import load_config
    from sigrestore.simulate.experiment import example_files, example_spec

    path = Path(path)
    base = Path(workdir) if workdir is not None else Path.cwd()

    def example_raw_files(config: dict) -> list[str]:
        """The example's raw files, which the workflow's first rule writes."""
        outdir = base / config.get("example", {}).get("outdir", "resources/example")
        spec = example_spec(config.get("example"), seed=config.get("seed"))
        return [str(p) for p in example_files(outdir, spec).all()]

    experiment = load_config(
        path, pending=example_raw_files, workdir=base, output_root=base / "results", log=log
    )
    sizes = experiment.samples["group"].value_counts().sort_index().rename("arrays")
    return Validated(
        path=path,
        config=experiment.config,
        samples=experiment.samples,
        sizes=sizes,
        settings=experiment.settings,
    )
