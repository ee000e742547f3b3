"""The workflow on every data source: each example config (config/examples/) runs to
the end in a temporary copy of the workflow and gives the outputs its source
promises (and no probe-level QC for a matrix source), the provenance in the
restoration summary and, on the simulated studies, the planted restored fraction.
GEO is fetched from a local HTTP server on 127.0.0.1 serving a mirror of GEO's
layout built from tests/data/geo (started and stopped by the test), and, as the
example config does, from the committed local mirror tests/data/geo/mirror.
Sources with gene symbols (counts' gene_name column, GEO's fetched platform
table) give gene-level tables carrying the symbols, and enrichment by symbol."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from geo_server import ServerState, serve
from test_workflow import REPO, copy_workflow, snakemake

from sigrestore.simulate.experiment import ExampleSpec, write_example

#: The simulated studies' planted fraction (make_fixtures.py's design).
PLANTED = ExampleSpec(n_probesets=1000, signature_size=200, n_mtorc1=40).planted_restored_fraction
DATA = ("tests/data/workflow_sources", "tests/data/geo", "tests/data/annotation")
MATRIX_QC = ("normalized_boxplot", "normalized_density", "pca", "correlation", "ma_plots")
PROBE_QC = ("raw_boxplot", "raw_density", "rle", "nuse", "residual_images")


def _workdir(root: Path) -> Path:
    work = copy_workflow(root / "wf")
    for rel in DATA:
        shutil.copytree(REPO / rel, work / rel, ignore=shutil.ignore_patterns("make", "reference"))
    return work


def _expected(config: dict, *, weights: bool, genes: bool, probe_qc: bool) -> list[str]:
    """What a run must produce, written out independently of common.smk."""
    figs = config.get("figures", {}).get("formats", ["png"])
    out = [
        "results/normalized/expression.tsv",
        "results/normalized/expression.parquet",
        "results/normalized/probeset.parquet",
        "results/normalized/provenance.json",
        "results/qc/array_quality.tsv",
        "results/restoration/summary.tsv",
    ]
    if weights:
        out.append("results/normalized/weights.parquet")
    if genes:
        out += ["results/normalized/features.parquet", "results/normalized/gene.parquet"]
    qc = MATRIX_QC + (PROBE_QC if probe_qc else ())
    out += [f"results/qc/{name}.{fmt}" for name in qc for fmt in figs]
    for contrast in config["contrasts"]:
        out.append(f"results/diffexp/{contrast}.tsv")
        if genes:
            out.append(f"results/diffexp/{contrast}.genes.tsv")
        out += [f"results/diffexp/{contrast}.{k}.{fmt}" for k in ("volcano", "ma") for fmt in figs]
    for comp in config["comparisons"]:
        base = f"results/restoration/{comp['name']}"
        out += [f"{base}/summary.tsv", f"{base}/features.tsv"]
        for name in ("scatter", "status", "heatmap", "enrichment", "overlap"):
            out += [f"{base}/{name}.{fmt}" for fmt in figs]
    return out


def _check_run(work: Path, config_file: str, *, source: str, **kinds) -> pd.DataFrame:
    config = yaml.safe_load((work / config_file).read_text())
    for rel in _expected(config, **kinds):
        assert (work / rel).is_file() and (work / rel).stat().st_size > 0, rel
    if not kinds["probe_qc"]:  # a matrix has no probe-level QC
        for name in PROBE_QC:
            assert not (work / f"results/qc/{name}.png").exists(), name
    for rel in _expected(config, **kinds):  # each format is what its name says
        head = (work / rel).read_bytes()[:8]
        magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}.get(Path(rel).suffix)
        assert magic is None or head.startswith(magic), rel
    provenance = json.loads((work / "results/normalized/provenance.json").read_text())
    assert provenance["source"] == source
    summary = pd.read_csv(work / "results/restoration/summary.tsv", sep="\t")
    assert list(summary["source"]) == [source]
    assert summary["transformation"].iloc[0] == provenance["transformation"]
    expression = pd.read_parquet(work / "results/normalized/expression.parquet")
    sheet = pd.read_csv(work / config["samples"], sep="\t", dtype=str)
    assert list(expression.columns) == list(sheet["sample"])
    quality = pd.read_csv(work / "results/qc/array_quality.tsv", sep="\t", index_col=0)
    assert list(quality.index) == list(sheet["sample"])
    return summary


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "transformation"),
    [
        ("counts", "voom log2-CPM"),
        ("illumina", "neqc"),
        ("agilent", "normexp"),
    ],
)
def test_simulated_source_runs_to_the_end(tmp_path, kind, transformation):
    work = _workdir(tmp_path)
    config_file = f"config/examples/{kind}.yaml"
    if kind == "agilent":  # vector copies of every figure (figures.formats)
        config = yaml.safe_load((work / config_file).read_text())
        config["figures"] = {"formats": ["svg", "png", "pdf"]}
        (work / config_file).write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(work, "--cores", "2", "--configfile", config_file)
    counts = kind == "counts"
    summary = _check_run(
        work, config_file, source=kind, weights=counts, genes=counts, probe_qc=False
    )
    assert transformation in summary["transformation"].iloc[0]
    # The planted 40 % comes back through every source's normalization.
    assert abs(summary["restored_fraction"].iloc[0] - PLANTED) <= 0.08
    assert summary["ci_low"].iloc[0] < summary["restored_fraction"].iloc[0]
    assert summary["bootstrap_low"].notna().all()
    if counts:  # the bootstrap refits through voom (its own log line)
        log = (work / "logs/restoration/fulvestrant_rapamycin.log").read_text()
        assert "bootstrap refit: voom" in log
        _check_count_gene_level(work)
        # ... and the run goes on to the report, which names the source.
        snakemake(work, "--report", "results/report.html", "--configfile", config_file)
        report = (work / "results/report.html").read_text(errors="replace")
        assert "Quality control" in report and "Restoration" in report


def _check_count_gene_level(work: Path) -> None:
    """Counts with a gene_name column: symbols in the tables, one row per gene
    with its voom weights, the comparison at gene level, enrichment by symbol."""
    table = pd.read_csv(
        work / "tests/data/workflow_sources/counts/counts.tsv.gz",
        sep="\t",
        index_col=0,
        keep_default_na=False,
    )
    features = pd.read_parquet(work / "results/normalized/features.parquet")
    named = features["gene_symbol"].dropna()
    assert len(named) > 0.9 * len(features)
    assert (named == table.loc[named.index, "gene_name"]).all()
    rows = pd.read_csv(work / "results/normalized/gene_rows.tsv", sep="\t", index_col=0)
    genes = pd.read_csv(
        work / "results/diffexp/fulvestrant_sensitive.genes.tsv", sep="\t", index_col=0
    )
    assert genes.index.is_unique and set(genes.index) == set(rows.index)
    assert set(genes.index) <= set(named)
    weights = pd.read_parquet(work / "results/normalized/weights.parquet")
    gene_weights = pd.read_parquet(work / "results/normalized/gene_weights.parquet")
    assert (gene_weights.to_numpy() == weights.loc[rows["probeset"]].to_numpy()).all()
    probe_table = pd.read_csv(
        work / "results/diffexp/fulvestrant_sensitive.tsv", sep="\t", index_col=0
    )
    assert "gene_symbol" in probe_table.columns
    summary = pd.read_csv(work / "results/restoration/summary.tsv", sep="\t")
    assert list(summary["level"]) == ["gene"]
    gene_sets = (work / "tests/data/workflow_sources/counts/gene_sets.gmt").read_text()
    names = {line.split("\t")[0] for line in gene_sets.splitlines()}
    for contrast in ("fulvestrant_sensitive", "cotreatment_resistant"):
        enrichment = pd.read_csv(work / f"results/enrichment/{contrast}.tsv", sep="\t")
        assert len(enrichment) > 0 and set(enrichment["term"]) <= names


def _mirror(root: Path, raw_tar: bytes | None = None) -> Path:
    """GEO's layout for GSE999999 and GPL97's annotation, from the fixtures."""
    series = root / "geo/series/GSE999nnn/GSE999999"
    (series / "matrix").mkdir(parents=True)
    shutil.copy(REPO / "tests/data/geo/GSE999999_series_matrix.txt.gz", series / "matrix")
    annot = root / "geo/platforms/GPLnnn/GPL97/annot"
    annot.mkdir(parents=True)
    shutil.copy(REPO / "tests/data/annotation/GPL97_subset.annot.gz", annot / "GPL97.annot.gz")
    if raw_tar is not None:
        (series / "suppl").mkdir()
        (series / "suppl/GSE999999_RAW.tar").write_bytes(raw_tar)
    return root


def _geo_config(work: Path, base_url: str, **changes) -> str:
    config = yaml.safe_load((work / "config/examples/geo.yaml").read_text())
    config["data"]["geo"]["base_url"] = base_url
    config["data"]["geo"].update(changes.pop("geo", {}))
    config.update(changes)
    (work / "config/geo_test.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return "config/geo_test.yaml"


def _check_geo_gene_level(work: Path) -> None:
    """The gene level from the platform annotation the fetch rule cached."""
    cached = work / "resources/geo/GSE999999/GPL97.annot.gz"
    assert cached.is_file()
    provenance = json.loads((work / "results/normalized/provenance.json").read_text())
    assert str(cached.relative_to(work)) in provenance["files"]
    genes = pd.read_csv(work / "results/diffexp/fulvestrant.genes.tsv", sep="\t", index_col=0)
    features = pd.read_parquet(work / "results/normalized/features.parquet")
    assert genes.index.is_unique and len(genes) > 0
    assert set(genes.index) <= set(features["gene_symbol"].dropna())
    summary = pd.read_csv(work / "results/restoration/summary.tsv", sep="\t")
    assert list(summary["level"]) == ["gene"]


@pytest.mark.slow
def test_geo_series_is_fetched_and_analysed(tmp_path):
    work = _workdir(tmp_path)
    state = ServerState()
    with serve(_mirror(tmp_path / "mirror"), state) as base:
        config_file = _geo_config(work, base)
        snakemake(work, "--cores", "2", "--configfile", config_file)
    manifest = work / "resources/geo/GSE999999/manifest.json"
    assert manifest.is_file()
    assert state.gets("GSE999999_series_matrix.txt.gz"), "the fetch rule did not download"
    assert state.gets("GPL97.annot.gz"), "the platform annotation was not fetched"
    summary = _check_run(work, config_file, source="geo", weights=False, genes=True, probe_qc=False)
    assert "already log2" in summary["transformation"].iloc[0]
    assert summary["signature_size"].iloc[0] > 0
    _check_geo_gene_level(work)


@pytest.mark.slow
def test_geo_example_runs_offline_from_the_committed_mirror(tmp_path):
    """config/examples/geo.yaml as it is: fetched from tests/data/geo/mirror (no network)."""
    work = _workdir(tmp_path)
    config_file = "config/examples/geo.yaml"
    snakemake(work, "--cores", "2", "--configfile", config_file)
    manifest = json.loads((work / "resources/geo/GSE999999/manifest.json").read_text())
    assert {f["role"] for f in manifest["files"]} == {"series_matrix", "annotation"}
    assert all(f["url"].startswith("file://") for f in manifest["files"])
    _check_run(work, config_file, source="geo", weights=False, genes=True, probe_qc=False)
    _check_geo_gene_level(work)


def _cel_tar(cels: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for gsm, path in cels.items():
            suffix = ".CEL.gz" if path.name.endswith(".gz") else ".CEL"
            tar.add(path, arcname=f"{gsm}_{path.name.split('.')[0]}{suffix}")
    return buf.getvalue()


@pytest.mark.slow
def test_geo_raw_series_goes_through_rma(tmp_path):
    """raw: true: the CEL files of the RAW tar (simulated arrays under GSM names) -> RMA."""
    spec = ExampleSpec(n_probesets=300, signature_size=60, n_mtorc1=10)
    files = write_example(tmp_path / "arrays", spec=spec)
    sheet = pd.read_csv(files.samples, sep="\t", dtype=str)
    wanted = ["vehicle", "fulvestrant", "fulvestrant_rapamycin"]
    rows = sheet[(sheet["cell_line"] == "resistant") & sheet["treatment"].isin(wanted)]
    rows = rows.reset_index(drop=True)
    original = rows["sample"].tolist()
    rows = rows.assign(sample=[f"GSM99990{i}" for i in range(len(rows))])
    by_name = {p.name.split(".")[0]: p for p in files.cels}
    cels = {gsm: by_name[o] for gsm, o in zip(rows["sample"], original, strict=True)}
    work = _workdir(tmp_path)
    rows[["sample", "cell_line", "treatment"]].to_csv(
        work / "config/geo_raw_samples.tsv", sep="\t", index=False
    )
    state = ServerState()
    with serve(_mirror(tmp_path / "mirror", _cel_tar(cels)), state) as base:
        config_file = _geo_config(
            work,
            base,
            samples="config/geo_raw_samples.tsv",
            data={
                "source": "geo",
                "geo": {"accession": "GSE999999", "raw": True, "base_url": base},
                "affymetrix": {"cdf": str(files.cdf)},
            },
            contrasts={
                "fulvestrant": "resistant_fulvestrant - resistant_vehicle",
                "cotreatment": "resistant_fulvestrant_rapamycin - resistant_vehicle",
            },
        )
        snakemake(work, "--cores", "2", "--configfile", config_file)
    assert state.gets("GSE999999_RAW.tar")
    summary = _check_run(
        work, config_file, source="affymetrix", weights=False, genes=False, probe_qc=True
    )
    assert summary["transformation"].iloc[0].startswith("RMA")
