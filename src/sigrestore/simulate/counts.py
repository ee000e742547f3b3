"""The example as an RNA-seq experiment: negative-binomial counts with a known answer.

Same design and planted truth as :mod:`sigrestore.simulate.experiment`
(sensitive/resistant cells x vehicle, fulvestrant, rapamycin, fulvestrant +
rapamycin, a fulvestrant signature of which ``restored_fraction`` is restored
by the cotreatment), drawn as read counts:

* every gene's log2 relative abundance in a group is the array example's
  planted group mean (so the planted log2 fold changes are the same), plus a
  gene constant: genes outside the signature and the mTORC1 set are, with
  probability ``low_share``, lowered by 6-14 log2 units (the long tail of
  barely expressed genes that ``filterByExpr`` removes);
* replicate series share a batch effect: every gene moves by
  ``N(0, batch_sd^2)`` log2 units in all samples of the same replicate number
  (the libraries of one series prepared together), which a blocked design
  (``block: replicate``) absorbs;
* library sizes are log-uniform between ``lib_size_range`` (10-40 million
  reads by default);
* the expected count ``m = L * p`` (``p`` the abundances normalised to sum 1
  per sample) is drawn as a gamma-Poisson (negative binomial) count with
  dispersion ``phi = (phi_asymptote + phi_scale / sqrt(m_gene)) * exp(N(0,
  0.3^2))`` clipped to ``[0.005, 0.5]`` (``m_gene`` the gene's average
  expected count): about 0.2 for genes with ~10 reads, ~0.02 for highly
  expressed ones, the trend edgeR fits to real cell-line data.

Gene ids are Ensembl-like (``ENSG...``); ``gene_name`` is the array
example's symbol (empty for the few unnamed genes).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.simulate.experiment import (
    ExampleSpec,
    gene_level_study,
    gene_sets,
    write_gmt,
)

__all__ = [
    "CountExampleFiles",
    "CountSpec",
    "simulate_counts",
    "write_count_example",
]


@dataclass(frozen=True)
class CountSpec:
    """The count experiment: the array example's design plus sequencing parameters.

    Attributes
    ----------
    design
        The planted experiment (genes = ``design.n_probesets``; its
        ``noise_sd`` is not used: the noise is the negative binomial's).
    lib_size_range
        Range of the library sizes (reads), drawn log-uniformly.
    low_share
        Share of non-responding genes that are barely expressed.
    batch_sd
        Standard deviation (log2) of the replicate-series batch effect.
    phi_asymptote, phi_scale
        Dispersion trend ``phi_asymptote + phi_scale / sqrt(mean count)``.
    phi_log_sd
        Gene-to-gene spread (log scale) of the dispersions around the trend.
    seed
        Seed of the counts (the truth uses ``design.seed``).
    """

    design: ExampleSpec = field(default_factory=ExampleSpec)
    lib_size_range: tuple[float, float] = (10e6, 40e6)
    low_share: float = 0.4
    batch_sd: float = 0.2
    phi_asymptote: float = 0.015
    phi_scale: float = 0.6
    phi_log_sd: float = 0.3
    seed: int = 20150101


@dataclass(frozen=True)
class CountExampleFiles:
    """Where :func:`write_count_example` put each file."""

    counts: Path
    samples: Path
    truth: Path
    gene_sets: Path

    def all(self) -> list[Path]:
        """Every file written."""
        return [self.counts, self.samples, self.truth, self.gene_sets]


def simulate_counts(
    spec: CountSpec = CountSpec(),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Simulate the count experiment in memory.

    Returns
    -------
    counts
        Genes x samples integer counts; index ``gene_id``; a first column
        ``gene_name`` (symbols).
    samples
        The sample sheet (``sample``, ``cell_line``, ``treatment``,
        ``replicate``, ``lib_size``: the simulated sequencing depth).
    truth
        The planted truth (:func:`~sigrestore.simulate.experiment.plan_truth`
        without the AFFX- controls) with ``gene_id``, ``dispersion`` and
        ``mean_count`` columns.
    """
    design = dataclasses.replace(spec.design, noise_sd=0.0)
    means, samples, truth = gene_level_study(design)  # noise-free group means, log2
    truth = truth.reset_index()
    rng = np.random.default_rng([spec.seed, 11])
    n = len(truth)
    responding = truth["signature"].to_numpy() | (truth["mtorc1_effect"].to_numpy() != 0)
    low = ~responding & (rng.random(n) < spec.low_share)
    offset = np.where(low, -rng.uniform(6.0, 14.0, n), 0.0)
    replicate = samples["replicate"].to_numpy()
    series = np.unique(replicate)
    batch = rng.normal(0.0, spec.batch_sd, (n, series.size))
    log_abundance = (
        means.to_numpy() + offset[:, None] + batch[:, np.searchsorted(series, replicate)]
    )
    abundance = 2.0**log_abundance
    prop = abundance / abundance.sum(axis=0)
    lo, hi = np.log(spec.lib_size_range[0]), np.log(spec.lib_size_range[1])
    lib = np.exp(rng.uniform(lo, hi, prop.shape[1]))
    mu = prop * lib
    gene_mean = mu.mean(axis=1)
    phi = (spec.phi_asymptote + spec.phi_scale / np.sqrt(np.maximum(gene_mean, 1e-3))) * np.exp(
        rng.normal(0.0, spec.phi_log_sd, n)
    )
    phi = np.clip(phi, 0.005, 0.5)
    shape = 1.0 / phi[:, None]
    lam = rng.gamma(shape, mu / shape)  # gamma with mean mu, variance phi mu^2
    counts = rng.poisson(lam).astype(np.int64)
    gene_id = [f"ENSG{900000000 + i:011d}" for i in range(n)]
    table = pd.DataFrame(counts, index=pd.Index(gene_id, name="gene_id"), columns=samples["sample"])
    table.columns.name = None
    table.insert(0, "gene_name", truth["gene"].to_numpy())
    truth = truth.assign(gene_id=gene_id, dispersion=phi, mean_count=gene_mean)
    samples = samples.drop(columns="format").assign(lib_size=np.round(lib).astype(np.int64))
    return table, samples, truth


def write_count_example(
    outdir: str | os.PathLike[str], *, spec: CountSpec = CountSpec()
) -> CountExampleFiles:
    """Simulate the count example and write it under ``outdir``.

    Files: ``counts.tsv.gz`` (``gene_id``, ``gene_name``, one column per
    sample), ``samples.tsv`` (with a ``column`` naming each sample's column),
    ``truth.tsv`` and ``gene_sets.gmt`` (symbols, as the array example's).
    """
    out = Path(outdir)
    files = CountExampleFiles(
        counts=out / "counts.tsv.gz",
        samples=out / "samples.tsv",
        truth=out / "truth.tsv",
        gene_sets=out / "gene_sets.gmt",
    )
    counts, samples, truth = simulate_counts(spec)
    write_tsv(counts, files.counts, index=True)
    write_tsv(
        samples.drop(columns="lib_size").assign(column=samples["sample"]),
        files.samples,
        index=False,
    )
    write_tsv(truth, files.truth, index=False)
    write_gmt(gene_sets(truth, spec.design), files.gene_sets)
    return files
