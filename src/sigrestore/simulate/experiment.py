"""The bundled example: a simulated restoration experiment with a known answer.

It mirrors the reference study (Ghayad et al. 2008): endocrine-sensitive and
resistant cells, each treated with vehicle, fulvestrant, rapamycin and
fulvestrant + rapamycin, in replicate.  A fulvestrant signature is planted in
the sensitive cells; resistance removes most of it and the cotreatment brings
back a chosen share, so the pipeline's ``restored_fraction`` (restored features
over the signature size, as :mod:`sigrestore.restoration` defines it) has a
known target.

Planted truth, per probe set (``truth.tsv``):

* ``signature`` features change by ``direction * effect`` under fulvestrant in
  sensitive cells (with or without rapamycin);
* ``retained`` ones change the same way under fulvestrant in resistant cells;
* ``restored`` ones (the retained ones plus part of the lost ones) change the
  same way under the cotreatment in resistant cells, so the planted restored
  fraction is ``n_restored / signature_size``;
* ``reversed`` ones change the opposite way under the cotreatment;
* ``modulator`` ones (part of the restored, lost ones) also change under
  rapamycin alone in resistant cells;
* ``mtorc1`` features (disjoint from the signature) respond to rapamycin in
  both cell lines.

Responding features come in pairs with the same low level ``L`` and effect
``e``: the up member goes ``L -> L + e``, the down member ``L + e -> L``, and
both members share their status.  Every treatment therefore leaves the
distribution of true expression values unchanged, as quantile normalization
assumes; without this, a small chip with many strong changes would show
normalization artefacts that real 22,000-probe-set arrays do not.

The raw files are written the way a lab would hand them over: one CDF, and CEL
files in a mix of text v3, binary XDA v4 and gzipped copies of both, so every
reader is exercised.  An Affymetrix NetAffx-style annotation CSV and a GMT
with an estrogen-response-like and an mTORC1-like gene set complete it.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv

CELL_LINES: tuple[str, ...] = ("sensitive", "resistant")
TREATMENTS: tuple[str, ...] = ("vehicle", "fulvestrant", "rapamycin", "fulvestrant_rapamycin")

# The CEL formats cycled over the arrays: (writer format, gzip?).
CEL_FORMATS: tuple[tuple[str, bool], ...] = (
    ("text-v3", False),
    ("xda-v4", False),
    ("text-v3", True),
    ("xda-v4", True),
)

# Hybridization and housekeeping controls, as on real 3' arrays.
CONTROL_NAMES: tuple[str, ...] = (
    "AFFX-BioB-5_at",
    "AFFX-BioB-M_at",
    "AFFX-BioB-3_at",
    "AFFX-BioC-5_at",
    "AFFX-BioC-3_at",
    "AFFX-BioDn-5_at",
    "AFFX-BioDn-3_at",
    "AFFX-CreX-5_at",
    "AFFX-CreX-3_at",
    "AFFX-HUMGAPDH/M33197_5_at",
    "AFFX-HUMGAPDH/M33197_M_at",
    "AFFX-HUMGAPDH/M33197_3_at",
    "AFFX-HSAC07/X00351_5_at",
    "AFFX-HSAC07/X00351_M_at",
    "AFFX-HSAC07/X00351_3_at",
    "AFFX-r2-P1-cre-5_at",
)

ESTROGEN_SET = "EXAMPLE_ESTROGEN_RESPONSE"
MTORC1_SET = "EXAMPLE_MTORC1_SIGNALING"
RANDOM_SET = "EXAMPLE_RANDOM_CONTROL"


@dataclass(frozen=True)
class ExampleSpec:
    """Size and planted effects of the simulated experiment.

    Attributes
    ----------
    n_probesets
        Probe sets measuring genes (the AFFX- controls come on top).
    probes_per_set
        PM/MM pairs per probe set.
    replicates
        Arrays per cell line x treatment group.
    signature_size
        Probe sets changed by fulvestrant in sensitive cells (even: half go
        up, half down, in pairs; see the module docstring).
    retained_fraction
        Share of the signature still changed by fulvestrant in resistant cells.
    restored_fraction
        Share of the signature that the cotreatment changes in the signature's
        direction in resistant cells (retained features included): the number
        the pipeline should report.
    reversed_fraction
        Share of the signature the cotreatment moves the opposite way.
    modulator_share
        Share of the restored, lost features that rapamycin alone also moves.
    n_mtorc1
        Probe sets responding to rapamycin (disjoint from the signature).
    effect_range
        Range of the planted absolute log2 fold changes.
    noise_sd
        Biological standard deviation (log2) of every gene on every array.
    restored_share
        Range of the share of its reference effect that a restored, lost
        feature is moved by the cotreatment (drawn uniformly per pair);
        ``(1.0, 1.0)`` restores every effect in full, ``(0.3, 1.0)`` is a
        partial restoration.  Retained features keep their full effect.
    duplicate_share
        Share of non-signature genes measured by a second probe set.
    chip_type
        Name of the custom chip (CDF name and CEL chip type).
    seed
        Seed of everything random.
    """

    n_probesets: int = 3000
    probes_per_set: int = 11
    replicates: int = 3
    signature_size: int = 300
    retained_fraction: float = 0.15
    restored_fraction: float = 0.40
    reversed_fraction: float = 0.03
    modulator_share: float = 0.25
    n_mtorc1: int = 120
    effect_range: tuple[float, float] = (1.6, 2.6)
    noise_sd: float = 0.25
    restored_share: tuple[float, float] = (1.0, 1.0)
    duplicate_share: float = 0.08
    chip_type: str = "SigrestoreSim"
    seed: int = 20080601

    def __post_init__(self) -> None:
        if self.signature_size < 2 or self.signature_size % 2:
            raise ValueError("signature_size must be a positive even number")
        if self.n_mtorc1 % 2:
            raise ValueError("n_mtorc1 must be even")
        counts = self.pair_counts
        if counts["retained"] > counts["restored"]:
            raise ValueError("retained_fraction cannot exceed restored_fraction")
        if counts["restored"] + counts["reversed"] > self.signature_size // 2:
            raise ValueError("restored_fraction + reversed_fraction cannot exceed 1")
        if self.signature_size + self.n_mtorc1 > self.n_probesets:
            raise ValueError("signature and mTORC1 features exceed n_probesets")
        low, high = self.restored_share
        if not 0.0 < low <= high <= 1.0:
            raise ValueError("restored_share must be a range (low, high) with 0 < low <= high <= 1")

    @property
    def pair_counts(self) -> dict[str, int]:
        """Number of signature pairs planted as retained (and restored), restored
        (retained included) and reversed."""
        pairs = self.signature_size // 2
        return {
            "retained": round(self.retained_fraction * pairs),
            "restored": round(self.restored_fraction * pairs),
            "reversed": round(self.reversed_fraction * pairs),
        }

    @property
    def planted_restored_fraction(self) -> float:
        """The restored fraction the simulation plants (after rounding to pairs)."""
        return 2 * self.pair_counts["restored"] / self.signature_size


@dataclass(frozen=True)
class ExampleFiles:
    """Where :func:`write_example` put each file (paths under ``outdir``)."""

    cdf: Path
    cels: list[Path]
    annotation: Path
    gene_sets: Path
    samples: Path
    truth: Path

    def all(self) -> list[Path]:
        """Every file written, CDF first."""
        return [self.cdf, *self.cels, self.annotation, self.gene_sets, self.samples, self.truth]


# --------------------------------------------------------------------------- layout


def sample_table(spec: ExampleSpec = ExampleSpec()) -> pd.DataFrame:
    """The example's arrays: ``sample``, ``file`` (relative to the example
    directory), ``cell_line``, ``treatment``, ``replicate`` and ``format``.

    Formats cycle over text v3, XDA v4 and their gzipped copies, so every
    group holds more than one format.
    """
    rows = []
    i = 0
    for cell_line in CELL_LINES:
        for treatment in TREATMENTS:
            for rep in range(1, spec.replicates + 1):
                fmt, gz = CEL_FORMATS[i % len(CEL_FORMATS)]
                name = f"{cell_line}_{treatment}_{rep}"
                suffix = ".CEL.gz" if gz else ".CEL"
                rows.append(
                    {
                        "sample": name,
                        "file": f"cel/{name}{suffix}",
                        "cell_line": cell_line,
                        "treatment": treatment,
                        "replicate": rep,
                        "format": fmt,
                    }
                )
                i += 1
    return pd.DataFrame(rows)


def example_spec(
    options: Mapping[str, Any] | None = None, *, seed: int | None = None
) -> ExampleSpec:
    """The :class:`ExampleSpec` of a config's ``example:`` block (and its ``seed``).

    ``replicates`` (arrays per cell line x treatment group, default 3) scales
    the example: 8 groups x ``replicates`` arrays.
    """
    options = dict(options or {})
    kwargs: dict[str, Any] = {}
    if seed is not None:
        kwargs["seed"] = int(seed)
    replicates = options.get("replicates")
    if replicates is not None:
        if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2:
            raise ValueError(f"example.replicates must be an integer >= 2, got {replicates!r}")
        kwargs["replicates"] = replicates
    return ExampleSpec(**kwargs)


def example_sheet(spec: ExampleSpec = ExampleSpec()) -> pd.DataFrame:
    """The sample sheet :func:`write_example` writes (``file`` relative to its folder)."""
    return sample_table(spec).drop(columns="format")


def example_files(
    outdir: str | os.PathLike[str], spec: ExampleSpec = ExampleSpec()
) -> ExampleFiles:
    """The paths :func:`write_example` writes under ``outdir`` (nothing is read)."""
    out = Path(outdir)
    table = sample_table(spec)
    return ExampleFiles(
        cdf=out / f"{spec.chip_type}.CDF",
        cels=[out / f for f in table["file"]],
        annotation=out / f"{spec.chip_type}.annot.csv",
        gene_sets=out / "gene_sets.gmt",
        samples=out / "samples.tsv",
        truth=out / "truth.tsv",
    )


# --------------------------------------------------------------------------- truth


def _probeset_names(spec: ExampleSpec) -> list[str]:
    # Affymetrix-like names; a few "_s_at" and "_x_at" suffixes as on real chips.
    suffixes = np.array(["_at"] * 8 + ["_s_at", "_x_at"])
    return [f"{100001 + i}{suffixes[i % len(suffixes)]}" for i in range(spec.n_probesets)]


def plan_truth(spec: ExampleSpec = ExampleSpec()) -> pd.DataFrame:
    """Per probe set: gene, baseline, planted roles and effect sizes.

    Columns: ``probeset``, ``gene``, ``baseline``, ``resistant_shift``,
    ``signature`` (bool), ``direction`` (+1/-1, 0 outside the signature),
    ``effect`` (absolute log2 fold change), ``restored_effect`` (absolute log2
    change under the cotreatment in resistant cells: ``effect`` for retained
    features, ``effect`` times a share drawn from ``spec.restored_share`` for
    the restored lost ones, else 0), ``status`` (``retained_restored``,
    ``restored``, ``reversed``, ``not_restored`` or ``""``), ``modulator``
    (bool), ``mtorc1_effect`` (log2 change under rapamycin, 0 if none).
    AFFX- controls are the last rows, with no gene.
    """
    rng = np.random.default_rng([spec.seed, 1])
    n = spec.n_probesets
    names = _probeset_names(spec)

    # Roles: a random, disjoint choice of signature and mTORC1 features.
    order = rng.permutation(n)
    sig_idx = np.sort(order[: spec.signature_size])
    mtor_idx = np.sort(order[spec.signature_size : spec.signature_size + spec.n_mtorc1])
    other_idx = np.sort(order[spec.signature_size + spec.n_mtorc1 :])

    baseline = np.clip(rng.normal(6.5, 1.5, n), 3.0, 11.5)
    direction = np.zeros(n, dtype=np.int64)
    effect = np.zeros(n)
    status = np.full(n, "", dtype=object)
    modulator = np.zeros(n, dtype=bool)
    mtorc1_effect = np.zeros(n)

    # Signature pairs: (up member, down member) share level, effect and status.
    pairs = spec.signature_size // 2
    up, down = sig_idx[rng.permutation(sig_idx.size)].reshape(2, pairs)
    low = rng.uniform(6.5, 8.5, pairs)
    size = rng.uniform(*spec.effect_range, pairs)
    baseline[up], baseline[down] = low, low + size
    direction[up], direction[down] = 1, -1
    effect[up] = effect[down] = size
    counts = spec.pair_counts
    pair_status = np.full(pairs, "not_restored", dtype=object)
    pair_status[: counts["retained"]] = "retained_restored"
    pair_status[counts["retained"] : counts["restored"]] = "restored"
    pair_status[counts["restored"] : counts["restored"] + counts["reversed"]] = "reversed"
    lost_restored = np.arange(counts["retained"], counts["restored"])
    pair_modulator = np.zeros(pairs, dtype=bool)
    pair_modulator[lost_restored[: round(spec.modulator_share * lost_restored.size)]] = True
    status[up] = status[down] = pair_status
    modulator[up] = modulator[down] = pair_modulator

    # mTORC1 pairs: one member lowered by rapamycin, one raised, same sizes.
    mpairs = spec.n_mtorc1 // 2
    m_up, m_down = mtor_idx[rng.permutation(mtor_idx.size)].reshape(2, mpairs)
    low = rng.uniform(6.5, 8.5, mpairs)
    size = rng.uniform(*spec.effect_range, mpairs)
    baseline[m_up], baseline[m_down] = low, low + size
    mtorc1_effect[m_up], mtorc1_effect[m_down] = size, -size

    # Resistant cells differ at baseline in some other genes.
    resistant_shift = np.zeros(n)
    shifted = rng.choice(other_idx, size=other_idx.size // 10, replace=False)
    resistant_shift[shifted] = rng.normal(0.0, 0.8, shifted.size)

    genes = _gene_symbols(spec, rng, sig_idx, mtor_idx, other_idx)
    # Partial restoration: its own generator, so the default (full) restoration
    # leaves every other draw, and hence the bundled example, unchanged.
    restored_effect = np.zeros(n)
    share = np.ones(pairs)
    low_share, high_share = spec.restored_share
    if (low_share, high_share) != (1.0, 1.0):
        share = np.random.default_rng([spec.seed, 4]).uniform(low_share, high_share, pairs)
        share[: counts["retained"]] = 1.0
    moved = np.isin(pair_status, ["retained_restored", "restored"])
    restored_effect[up] = restored_effect[down] = np.where(moved, effect[up] * share, 0.0)
    signature = np.zeros(n, dtype=bool)
    signature[sig_idx] = True
    table = pd.DataFrame(
        {
            "probeset": names,
            "gene": genes,
            "baseline": baseline,
            "resistant_shift": resistant_shift,
            "signature": signature,
            "direction": direction,
            "effect": effect,
            "restored_effect": restored_effect,
            "status": status.astype(str),
            "modulator": modulator,
            "mtorc1_effect": mtorc1_effect,
        }
    )
    controls = pd.DataFrame(
        {
            "probeset": list(CONTROL_NAMES),
            "gene": "",
            "baseline": np.linspace(7.0, 11.0, len(CONTROL_NAMES)),
            "resistant_shift": 0.0,
            "signature": False,
            "direction": 0,
            "effect": 0.0,
            "restored_effect": 0.0,
            "status": "",
            "modulator": False,
            "mtorc1_effect": 0.0,
        }
    )
    return pd.concat([table, controls], ignore_index=True)


def _gene_symbols(
    spec: ExampleSpec,
    rng: np.random.Generator,
    sig_idx: np.ndarray,
    mtor_idx: np.ndarray,
    other_idx: np.ndarray,
) -> list[str]:
    # One gene per probe set, except that some non-responding genes are
    # measured twice (as on real chips) and a few probe sets have no gene.
    n = spec.n_probesets
    genes = np.array([f"SIM{i + 1:05d}" for i in range(n)], dtype=object)
    n_dup = round(spec.duplicate_share * other_idx.size)
    chosen = rng.choice(other_idx, size=2 * n_dup, replace=False)
    genes[chosen[n_dup:]] = genes[chosen[:n_dup]]
    rest = np.setdiff1d(other_idx, chosen)
    genes[rng.choice(rest, size=max(1, n // 200), replace=False)] = ""
    return genes.tolist()


def expression_matrix(
    truth: pd.DataFrame, spec: ExampleSpec = ExampleSpec()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """True log2 expression (probe sets x arrays) and the sample table.

    Every array gets the group's planted mean plus independent Gaussian
    biological noise (``spec.noise_sd``).
    """
    samples = sample_table(spec)
    rng = np.random.default_rng([spec.seed, 2])
    base = truth["baseline"].to_numpy()
    sig_effect = truth["direction"].to_numpy() * truth["effect"].to_numpy()
    restored_shift = truth["direction"].to_numpy() * truth["restored_effect"].to_numpy()
    status = truth["status"].to_numpy()
    retained = status == "retained_restored"
    restored = retained | (status == "restored")
    reversed_ = status == "reversed"
    modulator = truth["modulator"].to_numpy()
    mtor = truth["mtorc1_effect"].to_numpy()
    shift = truth["resistant_shift"].to_numpy()

    means: dict[tuple[str, str], np.ndarray] = {}
    for cell_line in CELL_LINES:
        for treatment in TREATMENTS:
            fulv = "fulvestrant" in treatment
            rapa = "rapamycin" in treatment
            mu = base.copy()
            if cell_line == "sensitive":
                if fulv:
                    mu += sig_effect
            else:
                mu += shift
                if fulv and not rapa:
                    mu += np.where(retained, sig_effect, 0.0)
                if fulv and rapa:
                    mu += np.where(restored, restored_shift, 0.0)
                    mu -= np.where(reversed_, sig_effect, 0.0)
                if rapa and not fulv:
                    mu += np.where(modulator, sig_effect, 0.0)
            if rapa:
                mu += mtor
            means[cell_line, treatment] = mu

    columns = []
    for row in samples.itertuples(index=False):
        noise = rng.normal(0.0, spec.noise_sd, base.size)
        columns.append(means[row.cell_line, row.treatment] + noise)
    expr = pd.DataFrame(
        np.column_stack(columns), index=truth["probeset"].to_numpy(), columns=samples["sample"]
    )
    return expr, samples


def gene_level_study(
    spec: ExampleSpec = ExampleSpec(),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One simulated study measured directly at gene level (no chip, no CEL files).

    The planted truth and the true expression of :func:`plan_truth` and
    :func:`expression_matrix`, without the AFFX- controls: every feature is
    one gene (its probe-set name is its id), observed as its true log2 level
    plus the biological noise.  This is what the calibration benchmark fits,
    thousands of times, at a fraction of the cost of the CEL route.

    Returns
    -------
    expr : DataFrame
        Features x arrays (log2).
    samples : DataFrame
        As :func:`sample_table`.
    truth : DataFrame
        As :func:`plan_truth` without the controls, indexed by feature id.
    """
    truth = plan_truth(spec)
    expr, samples = expression_matrix(truth, spec)
    keep = ~truth["probeset"].str.startswith("AFFX-").to_numpy()
    truth = truth.loc[keep].set_index("probeset")
    return expr.loc[truth.index], samples, truth


# --------------------------------------------------------------------------- files


def simulate_experiment(spec: ExampleSpec = ExampleSpec()):
    """Build the example in memory.

    Returns
    -------
    cdf : CdfData
        The custom chip's layout (probe-set names as in ``truth``).
    arrays : list[CelData]
        One synthesized scan per row of ``samples``.
    samples : pandas.DataFrame
        As :func:`sample_table`.
    truth : pandas.DataFrame
        As :func:`plan_truth`.
    """
    from sigrestore.simulate.chip import make_layout, synthesize_arrays

    truth = plan_truth(spec)
    expr, samples = expression_matrix(truth, spec)
    cdf = make_layout(
        len(truth),
        probes_per_set=spec.probes_per_set,
        chip_type=spec.chip_type,
        seed=spec.seed,
    )
    # The layout's own probe-set names are replaced by Affymetrix-like ones.
    cdf = dataclasses.replace(cdf, probeset_names=truth["probeset"].tolist())
    arrays = synthesize_arrays(
        cdf, expr.to_numpy(), seed=spec.seed, names=samples["sample"].tolist()
    )
    return cdf, arrays, samples, truth


def write_example(
    outdir: str | os.PathLike[str], *, spec: ExampleSpec = ExampleSpec()
) -> ExampleFiles:
    """Simulate the example and write its raw files under ``outdir``.

    Writes the CDF (ASCII), the CEL files (text v3, XDA v4, gzipped copies),
    the NetAffx-style annotation CSV, the GMT, the sample sheet (paths
    relative to ``outdir``) and ``truth.tsv``.  Same ``spec``: same bytes.
    """
    from sigrestore.io import write_cdf, write_cel

    files = example_files(outdir, spec)
    cdf, arrays, samples, truth = simulate_experiment(spec)
    write_cdf(files.cdf, cdf, format="ascii")
    for data, path, fmt in zip(arrays, files.cels, samples["format"], strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_cel(path, data, format=fmt)
    write_annotation(truth, files.annotation, chip_type=spec.chip_type)
    write_gmt(gene_sets(truth, spec), files.gene_sets)
    write_tsv(example_sheet(spec), files.samples, index=False)
    write_tsv(truth, files.truth, index=False)
    return files


def write_annotation(truth: pd.DataFrame, path: str | os.PathLike[str], *, chip_type: str) -> None:
    """Write an Affymetrix NetAffx-style annotation CSV.

    ``#%`` comment lines, then quoted columns ``"Probe Set ID"``, ...,
    ``"Gene Symbol"``, ``"Entrez Gene"``; missing values are ``---`` and
    multi-gene entries are joined by `` /// `` as NetAffx does.
    """
    genes = truth["gene"].to_numpy()
    symbols = np.where(genes == "", "---", genes)
    entrez = ["---" if g == "" else str(900000 + int(g[3:])) for g in truth["gene"].astype(str)]
    titles = ["---" if g == "" else f"simulated gene {g}" for g in truth["gene"].astype(str)]
    # A handful of probe sets hit two genes, written the NetAffx way.
    symbols = symbols.astype(object)
    entrez = np.array(entrez, dtype=object)
    for i in range(7, len(truth) - len(CONTROL_NAMES), 397):
        if symbols[i] != "---" and not bool(truth["signature"].iat[i]):
            symbols[i] = f"{symbols[i]} /// {symbols[i]}L"
            entrez[i] = f"{entrez[i]} /// {int(entrez[i]) + 500000}"
    header = [
        "Probe Set ID",
        "GeneChip Array",
        "Species Scientific Name",
        "Annotation Date",
        "Sequence Type",
        "Gene Title",
        "Gene Symbol",
        "Entrez Gene",
    ]
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        fh.write(f'#%create_date=simulated by sigrestore (seeded)\n#%chip_type="{chip_type}"\n')
        fh.write("#%netaffx-annotation-tabular-format-version=1.0\n")
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(header)
        for row in zip(truth["probeset"], symbols, entrez, titles, strict=True):
            probeset, symbol, gene_id, title = row
            writer.writerow(
                [
                    probeset,
                    chip_type,
                    "Homo sapiens",
                    "Jan 1, 2008",
                    "Simulated",
                    title,
                    symbol,
                    gene_id,
                ]
            )


def gene_sets(truth: pd.DataFrame, spec: ExampleSpec = ExampleSpec()) -> dict[str, list[str]]:
    """Three gene sets: estrogen-response-like (genes fulvestrant lowers),
    mTORC1-like (genes rapamycin lowers) and a random control set."""
    rng = np.random.default_rng([spec.seed, 3])
    genes = truth["gene"].astype(str)
    named = genes != ""
    down = named & (truth["direction"] == -1)
    mtor = named & (truth["mtorc1_effect"] < 0)
    quiet = named & ~truth["signature"] & (truth["mtorc1_effect"] == 0)
    pool = genes[quiet].drop_duplicates().to_numpy()
    estrogen = sorted(set(genes[down]) | set(rng.choice(pool, 15, replace=False)))
    mtorc1 = sorted(set(genes[mtor]) | set(rng.choice(pool, 15, replace=False)))
    control = sorted(set(rng.choice(pool, 80, replace=False)))
    return {ESTROGEN_SET: estrogen, MTORC1_SET: mtorc1, RANDOM_SET: control}


def write_gmt(sets: dict[str, list[str]], path: str | os.PathLike[str]) -> None:
    """Write gene sets in GMT format (name, description, genes; tab-separated)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for name, members in sets.items():
            fh.write("\t".join([name, "simulated by sigrestore", *members]) + "\n")
