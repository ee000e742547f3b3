"""Illumina BeadChip probe profiles and Agilent Feature Extraction files from the planted design.

The true log2 expression comes from :mod:`sigrestore.simulate.experiment`
(the fulvestrant / cotreatment design with its planted restored fraction);
this module turns it into the raw files each platform's software exports:

* **Illumina** (GenomeStudio, non-normalized): a *Sample Probe Profile*
  (header block, ``PROBE_ID``, ``SYMBOL``, per sample ``<s>.AVG_Signal``,
  ``<s>.Detection Pval``, ``<s>.BEAD_STDERR``, ``<s>.Avg_NBEADS``) and a
  *Control Probe Profile* (``TargetID`` = ``NEGATIVE``, ``BIOTIN``,
  ``HOUSEKEEPING``, ...).  Intensity model per probe ``i`` and array ``j``:
  ``x = b + s_j 2^(e_ij + c) exp(eps)``, ``b ~ N(mu_j, tau_j)``; a share of
  extra probes is not expressed (``s = 0``); negative controls are
  background only.  Detection p-values are computed as GenomeStudio does:
  the share of the array's negative controls brighter than the probe.
* **Agilent** (Feature Extraction, one file per array): ``FEPARAMS``,
  ``STATS`` and ``FEATURES`` sections; ``gMedianSignal``/``gMeanSignal``
  foreground over a ``gBGMedianSignal`` local background, positive
  (``ControlType = 1``) and negative (``-1``) controls, replicate features
  of some probes, and ``gIsWellAboveBG`` from a 3-background-SD rule.

Same spec and seed: same bytes.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.simulate.experiment import ExampleSpec, gene_level_study

__all__ = [
    "AgilentSimSpec",
    "IlluminaSimSpec",
    "write_agilent_example",
    "write_illumina_example",
]


@dataclass(frozen=True)
class IlluminaSimSpec:
    """Illumina simulation settings.

    Attributes
    ----------
    design
        The planted experiment (probe count, replicates, effects).
    unexpressed_share
        Extra probes with no signal, as a share of the design's probes.
    n_negative
        Negative-control probes in the control profile.
    chip
        ``Array Content`` written in the header block.
    header
        Write GenomeStudio's header block above the table.
    seed
        Seed of the intensity noise.
    """

    design: ExampleSpec = field(default_factory=ExampleSpec)
    unexpressed_share: float = 0.25
    n_negative: int = 300
    chip: str = "HumanHT-12_V4_0_R2_15002873_B.bgx"
    header: bool = True
    seed: int = 13


@dataclass(frozen=True)
class AgilentSimSpec:
    """Agilent simulation settings.

    Attributes
    ----------
    design
        The planted experiment.
    unexpressed_share
        Extra probes with no signal, as a share of the design's probes.
    replicate_share
        Share of probes printed as 2-4 replicate features.
    n_negative, n_positive
        Negative (``ControlType = -1``) and positive (``1``) control features.
    grid
        ``Grid_Name`` (the array design) written in ``FEPARAMS``.
    gzip_every
        Write every k-th file gzipped (0: none).
    seed
        Seed of the intensity noise.
    """

    design: ExampleSpec = field(default_factory=ExampleSpec)
    unexpressed_share: float = 0.15
    replicate_share: float = 0.05
    n_negative: int = 150
    n_positive: int = 60
    grid: str = "039494_D_F_20120628"
    gzip_every: int = 3
    seed: int = 14


# --------------------------------------------------------------------------- shared


def _design(design: ExampleSpec, samples: pd.DataFrame | None):
    expr, table, truth = gene_level_study(design)
    truth = truth.reset_index()
    if samples is not None:
        table = table.set_index("sample").loc[samples["sample"]].reset_index()
        expr = expr[table["sample"]]
    return truth, expr.to_numpy(), table.drop(columns=["file", "format"], errors="ignore")


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "wt", encoding="utf-8", newline="\n", compresslevel=6)
    return open(path, "w", encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------- Illumina


@dataclass(frozen=True)
class IlluminaFiles:
    """What :func:`write_illumina_example` wrote."""

    probe_profile: Path
    control_profile: Path
    samples: Path
    truth: Path


def simulate_illumina(
    spec: IlluminaSimSpec = IlluminaSimSpec(), samples: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Regular and control probe tables (raw intensities, detection
    p-values), the sample table and the truth, in memory.

    Returns
    -------
    regular, control : DataFrame
        ``PROBE_ID``/``SYMBOL`` (regular) or ``TargetID``/``ProbeID``
        (control) and per sample ``<s>.AVG_Signal``, ``<s>.Detection Pval``,
        ``<s>.BEAD_STDERR``, ``<s>.Avg_NBEADS``.
    samples, truth : DataFrame
    """
    truth, expr, table = _design(spec.design, samples)
    rng = np.random.default_rng([spec.seed, 1])
    n_true, n_arr = expr.shape
    n_extra = round(spec.unexpressed_share * n_true)
    n_neg = spec.n_negative
    other = {"BIOTIN": 2, "HOUSEKEEPING": 7, "LABELING": 2, "HIGH_STRINGENCY_HYB": 1}
    n_other = sum(other.values())
    mu_j = rng.normal(85.0, 8.0, n_arr)
    tau_j = rng.uniform(6.0, 11.0, n_arr)
    scale = 2.0 ** rng.normal(0.0, 0.25, n_arr)
    probe_aff = rng.normal(0.0, 0.4, n_true)
    signal = np.zeros((n_true + n_extra + n_neg + n_other, n_arr))
    signal[:n_true] = scale * 2.0 ** (expr + probe_aff[:, None] + 1.0)
    hk = np.r_[
        np.full(other["BIOTIN"], 13.0),
        np.full(other["HOUSEKEEPING"], 13.5),
        np.full(other["LABELING"], 11.0),
        np.full(other["HIGH_STRINGENCY_HYB"], 14.0),
    ]
    signal[n_true + n_extra + n_neg :] = scale * 2.0 ** hk[:, None]
    noise = np.exp(rng.normal(0.0, 0.08, signal.shape))
    x = rng.normal(mu_j, tau_j, signal.shape) + signal * noise
    x = np.maximum(x, 1.0)
    x = np.round(x, 4)
    neg = np.sort(x[n_true + n_extra : n_true + n_extra + n_neg], axis=0)
    # Detection p-value: share of negative controls brighter than the probe.
    det = np.empty_like(x)
    for j in range(n_arr):
        det[:, j] = 1.0 - np.searchsorted(neg[:, j], x[:, j], side="right") / n_neg
    det = np.round(det, 5)
    nbeads = rng.integers(12, 40, x.shape)
    stderr = np.round(np.sqrt(tau_j**2 + (0.3 * signal) ** 2) / np.sqrt(nbeads), 4)

    names = table["sample"].tolist()
    n_reg = n_true + n_extra
    probe_ids = [f"ILMN_{1700000 + i}" for i in range(n_reg)]
    symbols = truth["gene"].tolist() + [f"LOC{300000 + i}" for i in range(n_extra)]

    def block(rows: slice) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for j, s in enumerate(names):
            cols[f"{s}.AVG_Signal"] = x[rows, j]
            cols[f"{s}.Detection Pval"] = det[rows, j]
            cols[f"{s}.BEAD_STDERR"] = stderr[rows, j]
            cols[f"{s}.Avg_NBEADS"] = nbeads[rows, j]
        return cols

    regular = pd.DataFrame({"PROBE_ID": probe_ids, "SYMBOL": symbols, **block(slice(0, n_reg))})
    target = ["NEGATIVE"] * n_neg + [k for k, v in other.items() for _ in range(v)]
    control = pd.DataFrame(
        {
            "TargetID": target,
            "ProbeID": [str(5000000 + i) for i in range(n_neg + n_other)],
            **block(slice(n_reg, None)),
        }
    )
    truth = truth.assign(probe=probe_ids[:n_true])
    return regular, control, table, truth


def write_illumina_example(
    outdir: str | os.PathLike[str],
    spec: IlluminaSimSpec = IlluminaSimSpec(),
    samples: pd.DataFrame | None = None,
) -> IlluminaFiles:
    """Write ``sample_probe_profile.txt``, ``control_probe_profile.txt``,
    ``samples.tsv`` and ``truth.tsv`` under ``outdir``.

    Parameters
    ----------
    outdir
        Output directory.
    spec
        Simulation settings.
    samples
        Optional subset (rows with a ``sample`` column) of the design's arrays.
    """
    out = Path(outdir)
    regular, control, table, truth = simulate_illumina(spec, samples)
    files = IlluminaFiles(
        out / "sample_probe_profile.txt",
        out / "control_probe_profile.txt",
        out / "samples.tsv",
        out / "truth.tsv",
    )
    for frame, path in ((regular, files.probe_profile), (control, files.control_profile)):
        with atomic_path(path) as tmp, _open_text(tmp) as fh:
            if spec.header:
                fh.write(
                    "Illumina Inc. GenomeStudio version 2011.1\n"
                    "Normalization = none\n"
                    f"Array Content = {spec.chip}\n"
                    "Error Model = none\n"
                    "DateTime = 1/6/2008 10:00 AM\n"
                    "Local Settings = en-US\n\n"
                )
            frame.to_csv(fh, sep="\t", index=False, lineterminator="\n", float_format="%.10g")
    write_tsv(table.assign(array=table["sample"]), files.samples, index=False)
    write_tsv(truth, files.truth, index=False)
    return files


# --------------------------------------------------------------------------- Agilent


@dataclass(frozen=True)
class AgilentFiles:
    """What :func:`write_agilent_example` wrote."""

    arrays: list[Path]
    samples: Path
    truth: Path


def simulate_agilent(
    spec: AgilentSimSpec = AgilentSimSpec(), samples: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Feature annotation, one ``FEATURES`` table per array, samples, truth."""
    truth, expr, table = _design(spec.design, samples)
    rng = np.random.default_rng([spec.seed, 1])
    n_true, n_arr = expr.shape
    n_extra = round(spec.unexpressed_share * n_true)
    n_probe = n_true + n_extra
    n_rep = round(spec.replicate_share * n_probe)
    rep_probes = rng.choice(n_probe, n_rep, replace=False)
    copies = np.ones(n_probe, dtype=np.int64)
    copies[rep_probes] = rng.integers(2, 5, n_rep)
    probe_of_feature = np.repeat(np.arange(n_probe), copies)
    n_reg = probe_of_feature.size
    n_feat = n_reg + spec.n_negative + spec.n_positive
    # Features are printed in random order, controls mixed in.
    layout = rng.permutation(n_feat)
    ncol = 96
    row = layout // ncol + 1
    col = layout % ncol + 1
    order = np.lexsort((col, row))

    probe_names = np.array([f"A_23_P{100000 + 7 * i}" for i in range(n_probe)], dtype=object)
    genes = np.array(truth["gene"].tolist() + [""] * n_extra, dtype=object)
    systematic = np.array(
        [f"NM_{500000 + i}" for i in range(n_true)] + [f"ENST{i:011d}" for i in range(n_extra)],
        dtype=object,
    )
    ctype = np.r_[np.zeros(n_reg, int), np.full(spec.n_negative, -1), np.full(spec.n_positive, 1)]
    pname = np.r_[
        probe_names[probe_of_feature],
        np.full(spec.n_negative, "(-)3xSLv1", dtype=object),
        np.array([f"(+)E1A_r60_a{i % 20 + 1}" for i in range(spec.n_positive)], dtype=object),
    ]
    gname = np.r_[genes[probe_of_feature], pname[n_reg:]]
    sname = np.r_[systematic[probe_of_feature], pname[n_reg:]]
    annot = pd.DataFrame(
        {
            "Row": row,
            "Col": col,
            "ControlType": ctype,
            "ProbeName": pname,
            "GeneName": np.where(gname == "", pname, gname),
            "SystematicName": sname,
        }
    ).iloc[order]
    feat_idx = order  # feature i of the file is simulated feature order[i]

    probe_aff = rng.normal(0.0, 0.5, n_probe)
    signal = np.zeros((n_feat, n_arr))
    true_rows = np.flatnonzero(probe_of_feature < n_true)
    signal[true_rows] = 2.0 ** (
        expr[probe_of_feature[true_rows]] + probe_aff[probe_of_feature[true_rows], None] + 1.5
    )
    signal[n_reg + spec.n_negative :] = 2.0 ** rng.uniform(8, 15, (spec.n_positive, 1))
    scale = 2.0 ** rng.normal(0.0, 0.3, n_arr)
    signal *= scale
    bg_level = rng.normal(32.0, 4.0, n_arr)
    bg_sd = rng.uniform(2.5, 4.0, n_arr)
    bg = rng.normal(bg_level, bg_sd, (n_feat, n_arr))
    fg_med = (
        bg
        + rng.normal(0.0, 1.2 * bg_sd, (n_feat, n_arr))
        + signal * np.exp(rng.normal(0.0, 0.1, (n_feat, n_arr)))
    )
    fg_mean = fg_med + rng.normal(0.0, 0.6, (n_feat, n_arr)) + 0.01 * signal
    # Scanner values are never negative (a ~5-SD draw in a big simulation would be).
    bg, fg_med, fg_mean = (np.maximum(v, 0.0) for v in (bg, fg_med, fg_mean))
    bg_pix_sd = np.broadcast_to(bg_sd, (n_feat, n_arr))
    well_above = (fg_med - bg) > 3.0 * bg_pix_sd
    saturated = fg_med > 60000
    nonunif = rng.random((n_feat, n_arr)) < 0.002

    tables = []
    for j in range(n_arr):
        f = feat_idx
        tables.append(
            pd.DataFrame(
                {
                    "FeatureNum": np.arange(1, n_feat + 1),
                    "Row": annot["Row"].to_numpy(),
                    "Col": annot["Col"].to_numpy(),
                    "ControlType": annot["ControlType"].to_numpy(),
                    "ProbeName": annot["ProbeName"].to_numpy(),
                    "GeneName": annot["GeneName"].to_numpy(),
                    "SystematicName": annot["SystematicName"].to_numpy(),
                    "gProcessedSignal": np.round(np.maximum(fg_med[f, j] - bg[f, j], 1.0), 4),
                    "gMeanSignal": np.round(fg_mean[f, j], 4),
                    "gMedianSignal": np.round(fg_med[f, j], 1),
                    "gBGMedianSignal": np.round(bg[f, j], 1),
                    "gBGPixSDev": np.round(bg_pix_sd[f, j], 4),
                    "gIsSaturated": saturated[f, j].astype(int),
                    "gIsFeatNonUnifOL": nonunif[f, j].astype(int),
                    "gIsWellAboveBG": well_above[f, j].astype(int),
                }
            )
        )
    truth = truth.assign(probe=probe_names[:n_true])
    return annot, tables, table, truth


def write_fe_file(
    path: str | os.PathLike[str],
    features: pd.DataFrame,
    *,
    grid: str,
    array_name: str,
) -> None:
    """Write one Feature Extraction text file (gzipped when ``path`` ends in ``.gz``)."""
    fe_params = {
        "Protocol_Name": ("text", "GE1_107_Sep09 (Read Only)"),
        "Scan_ScannerName": ("text", "SG12345678"),
        "Scan_NumChannels": ("integer", "1"),
        "Grid_Name": ("text", grid),
        "FeatureExtractor_Barcode": ("text", array_name),
        "FeatureExtractor_Version": ("text", "10.7.3.1"),
    }
    stats = {
        "gDarkOffsetAverage": ("float", "12.5"),
        "gNumSatFeat": ("integer", str(int(features["gIsSaturated"].sum()))),
        "gNonCtrlNumWellAboveBG": ("integer", str(int(features["gIsWellAboveBG"].sum()))),
    }
    types = {"integer": "integer", "float": "float", "object": "text"}
    with atomic_path(path) as tmp, _open_text(tmp) as fh:
        for name, section in (("FEPARAMS", fe_params), ("STATS", stats)):
            fh.write("\t".join(["TYPE", *(t for t, _ in section.values())]) + "\n")
            fh.write("\t".join([name, *section]) + "\n")
            fh.write("\t".join(["DATA", *(v for _, v in section.values())]) + "\n")
            fh.write("*\n")
        col_types = [
            types["integer"]
            if np.issubdtype(dt, np.integer)
            else types["float"]
            if np.issubdtype(dt, np.floating)
            else "text"
            for dt in features.dtypes
        ]
        fh.write("\t".join(["TYPE", *col_types]) + "\n")
        fh.write("\t".join(["FEATURES", *features.columns]) + "\n")
        features.insert(0, "DATA", "DATA")
        features.to_csv(
            fh, sep="\t", index=False, header=False, lineterminator="\n", float_format="%.10g"
        )
        features.pop("DATA")


def write_agilent_example(
    outdir: str | os.PathLike[str],
    spec: AgilentSimSpec = AgilentSimSpec(),
    samples: pd.DataFrame | None = None,
) -> AgilentFiles:
    """Write one FE file per array under ``outdir/fe/``, ``samples.tsv``
    (with a ``file`` column relative to ``outdir``) and ``truth.tsv``."""
    out = Path(outdir)
    _, tables, table, truth = simulate_agilent(spec, samples)
    paths = []
    for j, (name, features) in enumerate(zip(table["sample"], tables, strict=True)):
        gz = spec.gzip_every > 0 and j % spec.gzip_every == spec.gzip_every - 1
        path = out / "fe" / f"US_{j + 1:02d}_{name}.txt{'.gz' if gz else ''}"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_fe_file(path, features, grid=spec.grid, array_name=f"2539494{j:05d}")
        paths.append(path)
    sheet = table.assign(file=[str(p.relative_to(out)) for p in paths])
    files = AgilentFiles(paths, out / "samples.tsv", out / "truth.tsv")
    write_tsv(sheet, files.samples, index=False)
    write_tsv(truth, files.truth, index=False)
    return files


def main(argv: list[str] | None = None) -> None:
    """``python -m sigrestore.simulate.platforms {illumina,agilent} OUTDIR``:
    write the full simulated study (24 arrays) in that platform's format."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    ap.add_argument("platform", choices=["illumina", "agilent"])
    ap.add_argument("outdir")
    args = ap.parse_args(argv)
    if args.platform == "illumina":
        files = write_illumina_example(args.outdir)
        print(files.probe_profile, files.control_profile, files.samples, sep="\n")
    else:
        written = write_agilent_example(args.outdir)
        print(written.samples, f"{len(written.arrays)} FE files under {written.arrays[0].parent}")


if __name__ == "__main__":
    main()
