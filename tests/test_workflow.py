"""The Snakemake workflow: lint, format, dry runs, validation before any job, and
a full run of the bundled example in a temporary directory checked for every
expected output, the planted restored fraction, counts recomputed from the
pipeline's own DE tables, byte-identical reruns and the HTML report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sigrestore.simulate.experiment import ExampleSpec

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs")
PLANTED = ExampleSpec().planted_restored_fraction


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [_tool("snakemake"), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_workflow(target: Path) -> Path:
    """A fresh-clone-like copy of the workflow (no results, no example files)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target / name)
    return target


def expected_outputs(config: dict) -> list[str]:
    """Every file the example run must produce (written out independently of common.smk)."""
    formats = config.get("figures", {}).get("formats", ["png"])
    figs = lambda stem: [f"{stem}.{fmt}" for fmt in formats]  # noqa: E731
    out = [
        "results/normalized/expression.tsv",
        "results/normalized/expression.parquet",
        "results/normalized/provenance.json",
        "results/qc/array_quality.tsv",
        "results/restoration/summary.tsv",
        "results/design/groups.tsv",
    ]
    for name in (
        "raw_boxplot",
        "raw_density",
        "normalized_boxplot",
        "normalized_density",
        "rle",
        "nuse",
        "residual_images",
        "pca",
        "correlation",
        "ma_plots",
    ):
        out += figs(f"results/qc/{name}")
    for contrast in config["contrasts"]:
        out += [
            f"results/diffexp/{contrast}.tsv",
            f"results/diffexp/{contrast}.genes.tsv",
            f"results/enrichment/{contrast}.tsv",
            *figs(f"results/diffexp/{contrast}.volcano"),
            *figs(f"results/diffexp/{contrast}.ma"),
        ]
    for comparison in config["comparisons"]:
        base = f"results/restoration/{comparison['name']}"
        out += [
            f"{base}/summary.tsv",
            f"{base}/features.tsv",
            f"{base}/threshold_sensitivity.tsv",
            f"{base}/headline.tsv",
        ]
        for name in ("headline", "scatter", "status", "heatmap", "enrichment", "overlap"):
            out += figs(f"{base}/{name}")
        out += figs(f"{base}/sensitivity")
    return out


# --------------------------------------------------------------------------- static checks


def test_conda_envs_pin_the_versions_of_pyproject():
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = dict(dep.split("==") for dep in pyproject["project"]["dependencies"])
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        env = yaml.safe_load(path.read_text())
        listed: dict[str, str] = {}
        for dep in env["dependencies"]:
            entries = dep["pip"] if isinstance(dep, dict) else [dep]
            for entry in entries:
                if "==" in entry:
                    name, version = entry.split("==")
                    listed[name.strip()] = version.strip()
        assert listed == pins, f"{path.name} pins {listed}, pyproject.toml {pins}"


def test_every_rule_names_an_existing_conda_env():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        if "rule " in text:
            assert "CONDA_ENV" in text, smk.name
    assert (REPO / "workflow" / "rules" / "../../envs/sigrestore.yaml").resolve().is_file()


def test_snakemake_lint_reports_nothing():
    proc = snakemake(REPO, "--lint", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    assert "Lints for" not in text, text


def test_snakefmt_leaves_files_unchanged():
    proc = subprocess.run(
        [_tool("snakefmt"), "--check", "."], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_report_captions_exist():
    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    import re

    for caption in set(re.findall(r'caption="\.\./report/([^"]+)"', rules)):
        assert (REPO / "workflow" / "report" / caption).is_file(), caption
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    names = re.findall(r'^    "([a-z_]+)",$', common, flags=re.MULTILINE)
    for name in names:
        assert (REPO / "workflow" / "report" / f"{name}.rst").is_file(), name


# --------------------------------------------------------------------------- dry runs


def test_dry_run_of_a_fresh_clone(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    proc = snakemake(work, "-n", "--cores", "2")
    assert "simulate_example" in proc.stdout
    assert "rma" in proc.stdout
    assert not (work / "results").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["contrasts"].update(bad="resistant_fulvestrant - nogroup"), "nogroup"),
        (lambda c: c["comparisons"][0].update(restoration="nope"), "contrast 'nope'"),
        (lambda c: c["design"].update(factors=["cell_line", "dose"]), "column 'dose'"),
        (lambda c: c.update(unknown_key=1), "unknown_key"),
        (
            lambda c: (
                c["platform"].update(annotation=None),
                c["comparisons"][0].update(level="gene"),
            ),
            "comparisons[0].level",
        ),
        (
            lambda c: c["differential_expression"]["filter"].update(min_samples=25),
            "differential_expression.filter.min_samples",
        ),
        # Issue 15: typos that used to run to the end with a wrong number.
        (
            lambda c: c["contrasts"].update(
                fulvestrant_sensitive="sensitive_fulvestrant + sensitive_vehicle"
            ),
            "group coefficients sum to 2, not 0",
        ),
        (
            lambda c: c["contrasts"].update(fulvestrant_sensitive="sensitive_fulvestrant"),
            "group coefficients sum to 1, not 0",
        ),
        (lambda c: c.update(results_is_a_file=None), "results is a file"),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, edit, message):
    work = copy_workflow(tmp_path / "wf")
    path = work / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    edit(config)
    if config.pop("results_is_a_file", False) is None:
        (work / "results").write_text("")
    path.write_text(yaml.safe_dump(config))
    proc = snakemake(work, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (work / "results").is_dir()
    assert not (work / "resources").exists()


def test_mislabelled_replicate_stops_before_any_job(tmp_path):
    """One replicate labelled 'Vehicle' beside 'vehicle' (issue 15) names its samples."""
    work = copy_workflow(tmp_path / "wf")
    sheet = pd.read_csv(work / "config" / "samples.tsv", sep="\t")
    sheet.loc[sheet["sample"] == "resistant_vehicle_2", "treatment"] = "Vehicle"
    sheet.to_csv(work / "config" / "mislabelled.tsv", sep="\t", index=False)
    proc = snakemake(
        work, "-n", "--cores", "1", "--config", "samples=config/mislabelled.tsv", check=False
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "'Vehicle': resistant_vehicle_2" in text and "checks.allow_similar_levels" in text
    assert text.count("sigrestore: error:") == 1 and 'File "' not in text  # no traceback
    assert not (work / "results").exists()


def test_example_scales_with_replicates_from_the_config(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["example"]["replicates"] = 4
    (work / "config" / "big.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "-n", "--cores", "1", "--configfile", "config/big.yaml")
    assert "resistant_vehicle_4" in proc.stdout
    # The rma job reads every CEL file itself: 8 groups x 4 replicates as its input.
    assert len(_job_inputs(proc.stdout, "rma", (".CEL", ".CEL.gz"))) == 32
    assert "arrays per group: resistant_fulvestrant 4," in proc.stderr


def _job_inputs(dry_run: str, rule: str, suffixes: tuple[str, ...]) -> list[str]:
    """The input files ending in ``suffixes`` of the one job of ``rule`` in a dry run."""
    lines = dry_run.splitlines()
    starts = [
        i for i, line in enumerate(lines) if line.strip() in (f"rule {rule}:", f"localrule {rule}:")
    ]
    assert len(starts) == 1, f"{len(starts)} jobs of rule {rule}"
    for line in lines[starts[0] + 1 :]:
        if line.strip().startswith("input:"):
            files = [f.strip() for f in line.split(":", 1)[1].split(",")]
            return [f for f in files if f.endswith(suffixes)]
        if not line.startswith(" "):
            break
    raise AssertionError(f"rule {rule} has no input line in the dry run")


def test_missing_raw_files_are_listed_together_before_any_job(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    sheet = pd.read_csv(work / "config" / "samples.tsv", sep="\t")
    sheet["file"] = sheet["file"].str.replace("resources/example", "data/mine", regex=False)
    sheet.to_csv(work / "config" / "mine.tsv", sep="\t", index=False)
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["samples"] = "config/mine.tsv"
    config["platform"] = {"cdf": "data/mine/X.CDF", "annotation": None}
    config["gene_sets"] = []
    (work / "config" / "mine.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "-n", "--configfile", "config/mine.yaml", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "25 input file(s) missing" in text
    assert "sensitive_vehicle_1" in text and "resistant_fulvestrant_rapamycin_3" in text


def test_configfile_replaces_the_example_config(tmp_path):
    """A dataset's --configfile is the whole config: nothing of the example's leaks in."""
    work = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["contrasts"] = {
        "fulv": "sensitive_fulvestrant - sensitive_vehicle",
        "combo": "resistant_fulvestrant_rapamycin - resistant_vehicle",
    }
    config["comparisons"] = [{"name": "mine", "reference": "fulv", "restoration": "combo"}]
    (work / "config" / "mine.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "-n", "--cores", "1", "--configfile", "config/mine.yaml")
    planned = proc.stdout
    assert "results/diffexp/fulv.tsv" in planned and "results/diffexp/combo.tsv" in planned
    assert "results/restoration/mine/summary.tsv" in planned
    # Merged (Snakemake's default), the example's contrasts would be planned too.
    assert "fulvestrant_sensitive" not in planned
    assert "results/restoration/fulvestrant_rapamycin" not in planned


# --------------------------------------------------------------------------- full run


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("example") / "wf")
    snakemake(work, "--cores", "2")
    return work


def _config(work: Path) -> dict:
    return yaml.safe_load((work / "config" / "config.yaml").read_text())


@pytest.mark.slow
def test_example_run_produces_every_output(example_run):
    work = example_run
    for rel in expected_outputs(_config(work)):
        path = work / rel
        assert path.is_file(), rel
        assert path.stat().st_size > 0, rel
        head = path.read_bytes()[:8]
        if rel.endswith(".png"):
            assert head == b"\x89PNG\r\n\x1a\n", rel
        elif rel.endswith(".svg"):
            assert head.startswith(b"<?xml"), rel
        elif rel.endswith(".pdf"):
            assert head.startswith(b"%PDF"), rel
    # Large intermediates are temporary.
    assert not list((work / "results").glob("intensities/*.npy"))
    assert not (work / "results" / "qc" / "rma_qc.pkl").exists()
    assert not (work / "results" / "qc" / "rma_qc.npz").exists()
    # No leftovers of atomic writes.
    assert not [p for p in (work / "results").rglob(".*.tmp*")]
    # Every job logged (the RMA job reads the CEL files itself: no per-array jobs).
    config = _config(work)
    expected_logs = {
        "example/simulate_example.log",
        "preprocess/rma.log",
        "preprocess/feature_matrices.log",
        "qc/qc_figures.log",
        "enrichment/enrichment.log",
        "report/summarize_restoration.log",
        "design/design_table.log",
        "diffexp/diffexp.log",
        *(f"restoration/{c['name']}.log" for c in config["comparisons"]),
    }
    logs = {p.relative_to(work / "logs").as_posix() for p in (work / "logs").rglob("*.log")}
    assert logs == expected_logs


@pytest.mark.slow
def test_example_expression_matrix(example_run):
    work = example_run
    tsv = pd.read_csv(work / "results/normalized/expression.tsv", sep="\t", index_col=0)
    parquet = pd.read_parquet(work / "results/normalized/expression.parquet")
    sheet = pd.read_csv(work / "config/samples.tsv", sep="\t")
    assert list(tsv.columns) == sheet["sample"].tolist()
    assert tsv.shape == (ExampleSpec().n_probesets + 16, 24)
    np.testing.assert_allclose(tsv.to_numpy(), parquet.loc[tsv.index].to_numpy(), rtol=1e-9)
    quality = pd.read_csv(work / "results/qc/array_quality.tsv", sep="\t", index_col=0)
    assert len(quality) == 24


@pytest.mark.slow
def test_example_restored_fraction_is_the_planted_one(example_run):
    summary = pd.read_csv(
        example_run / "results/restoration/fulvestrant_rapamycin/summary.tsv", sep="\t"
    )
    fraction = float(summary["restored_fraction"].iloc[0])
    assert abs(fraction - PLANTED) <= 0.08, fraction
    assert summary["ci_low"].iloc[0] < fraction < summary["ci_high"].iloc[0]
    assert summary["hypergeom_p"].iloc[0] < 1e-6
    # The power-corrected fraction recovers the planted one, inside its interval.
    corrected = float(summary["restored_fraction_corrected"].iloc[0])
    assert abs(corrected - PLANTED) <= 0.05, corrected
    assert summary["corrected_low"].iloc[0] <= PLANTED <= summary["corrected_high"].iloc[0]
    headline = pd.read_csv(
        example_run / "results/restoration/fulvestrant_rapamycin/headline.tsv", sep="\t"
    )
    assert (
        headline["sentence"]
        .iloc[0]
        .startswith(f"The cotreatment restores {100 * corrected:.0f}% (95% CI ")
    )
    combined = pd.read_csv(example_run / "results/restoration/summary.tsv", sep="\t")
    assert combined["restored_fraction"].iloc[0] == pytest.approx(fraction)


def _calls(table: pd.DataFrame, fdr: float, lfc: float) -> pd.Series:
    called = (table["adj.P.Val"] < fdr) & (table["logFC"].abs() >= lfc)
    return pd.Series(np.where(called, np.sign(table["logFC"]), 0), index=table.index)


@pytest.mark.slow
def test_example_counts_equal_those_recomputed_from_the_de_tables(example_run):
    work = example_run
    config = _config(work)
    (comparison,) = config["comparisons"]
    # The example gives an annotation and no level: the comparison is gene level,
    # so its counts come from the gene tables (one row per gene, no AFFX- controls).
    assert config["platform"]["annotation"] and comparison.get("level") is None
    read = lambda c: pd.read_csv(  # noqa: E731
        work / f"results/diffexp/{c}.genes.tsv", sep="\t", index_col=0
    )
    ref = read(comparison["reference"])
    rest = read(comparison["restoration"]).reindex(ref.index)
    resist = read(comparison["resistance"]).reindex(ref.index)
    modulator = read(comparison["modulator"]).reindex(ref.index)
    fdr, lfc = comparison["fdr"], comparison["lfc"]
    call_fdr = comparison["calls"]["restoration"]["fdr"]
    call_lfc = comparison["calls"]["restoration"]["lfc"]

    signature = _calls(ref, fdr, lfc)
    s = signature[signature != 0]
    restoration = _calls(rest, call_fdr, call_lfc)[s.index]
    resistance = _calls(resist, fdr, 0.0)[s.index]
    mod = _calls(modulator, fdr, 0.0)[s.index]
    restored = restoration == s
    reversed_ = restoration == -s
    retained = resistance == s

    summary = pd.read_csv(work / "results/restoration/fulvestrant_rapamycin/summary.tsv", sep="\t")
    row = summary.iloc[0]
    assert row["level"] == "gene"
    assert row["universe"] == len(ref)
    assert ref.index.is_unique and not ref.index.str.startswith("AFFX").any()
    assert row["signature_size"] == len(s)
    assert row["signature_up"] == (s > 0).sum()
    assert row["signature_down"] == (s < 0).sum()
    assert row["restored"] == restored.sum()
    assert row["reversed"] == reversed_.sum()
    assert row["not_restored"] == len(s) - restored.sum() - reversed_.sum()
    assert row["restored_fraction"] == pytest.approx(restored.sum() / len(s), rel=1e-9)
    assert row["retained"] == retained.sum()
    assert row["lost"] == (~retained).sum()
    assert row["lost_restored"] == (restored & ~retained).sum()
    assert row["modulator_flagged"] == (restored & (mod == s)).sum()

    features = pd.read_csv(
        work / "results/restoration/fulvestrant_rapamycin/features.tsv", sep="\t", index_col=0
    )
    assert set(features.index) == set(s.index)
    status = features["status"]
    assert (status == "restored").sum() == restored.sum()
    assert set(status[status == "restored"].index) == set(restored[restored].index)


@pytest.mark.slow
def test_example_restoration_job_ran_with_one_blas_thread(example_run):
    log = (example_run / "logs/restoration/fulvestrant_rapamycin.log").read_text()
    assert "level gene:" in log
    assert "OPENBLAS_NUM_THREADS=1" in log  # the rule's threads


def test_snakemake_sets_blas_threads_to_the_rule_threads(tmp_path):
    # The bootstrap refits limma hundreds of times; multi-threaded BLAS on busy
    # cores makes that several times slower.  Snakemake (>= 9) exports the
    # thread variables of every BLAS/OpenMP library as the rule's threads to
    # script jobs; this guards that behaviour the workflow relies on.
    (tmp_path / "Snakefile").write_text(
        "rule all:\n    input: 'one.txt', 'two.txt'\n\n"
        "rule job:\n    output: '{n}.txt'\n"
        "    threads: lambda wildcards: 1 if wildcards.n == 'one' else 2\n"
        "    script: 'env.py'\n"
    )
    (tmp_path / "env.py").write_text(
        "import os\n"
        "names = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')\n"
        "with open(snakemake.output[0], 'w') as fh:\n"
        "    fh.write(' '.join(os.environ.get(n, 'unset') for n in names))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    subprocess.run(
        [_tool("snakemake"), "--cores", "2", "-q"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "one.txt").read_text() == "1 1 1"
    assert (tmp_path / "two.txt").read_text() == "2 2 2"


@pytest.mark.slow
def test_example_rerun_gives_byte_identical_tables(example_run):
    work = example_run
    base = work / "results/restoration/fulvestrant_rapamycin"
    before = {p.name: p.read_bytes() for p in base.glob("*.tsv")}
    enrichment = (work / "results/enrichment/fulvestrant_sensitive.tsv").read_bytes()
    stamp = (base / "summary.tsv").stat().st_mtime_ns
    snakemake(
        work,
        "--cores",
        "2",
        "--forcerun",
        "restoration",
        "enrichment",
        "--until",
        "summarize_restoration",
        "enrichment",
    )
    assert (base / "summary.tsv").stat().st_mtime_ns != stamp, "the rule did not rerun"
    after = {p.name: p.read_bytes() for p in base.glob("*.tsv")}
    assert after == before
    assert (work / "results/enrichment/fulvestrant_sensitive.tsv").read_bytes() == enrichment


@pytest.mark.slow
def test_example_diffexp_log_says_the_filter_is_off(example_run):
    log = (example_run / "logs/diffexp/diffexp.log").read_text()
    table = pd.read_csv(example_run / "results/diffexp/fulvestrant_sensitive.tsv", sep="\t")
    assert "expression filter: off" in log
    assert f"{len(table)} probe sets tested" in log


@pytest.mark.slow
def test_example_with_the_expression_filter(example_run, tmp_path):
    # A copy of the finished run (mtimes kept), so the example's own outputs stay as they are.
    work = tmp_path / "wf"
    shutil.copytree(example_run, work, symlinks=True)
    full = pd.read_csv(work / "results/diffexp/fulvestrant_sensitive.tsv", sep="\t", index_col=0)
    config = _config(work)
    config["differential_expression"]["filter"] = {"enabled": True, "min_expr": 6.0}
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/restoration/fulvestrant_rapamycin/summary.tsv"
    snakemake(work, "--cores", "2", "--forcerun", "diffexp", "restoration", "--", target)
    table = pd.read_csv(work / "results/diffexp/fulvestrant_sensitive.tsv", sep="\t", index_col=0)
    removed = len(full) - len(table)
    assert 0 < removed < len(full) // 2
    assert set(table.index) < set(full.index)
    line = f"expression filter: removed {removed} of {len(full)} probe sets"
    assert line in (work / "logs/diffexp/diffexp.log").read_text()
    assert line in (work / "logs/restoration/fulvestrant_rapamycin.log").read_text()
    genes = pd.read_csv(work / "results/diffexp/fulvestrant_sensitive.genes.tsv", sep="\t")
    summary = pd.read_csv(work / target, sep="\t")
    assert summary["universe"].iloc[0] == len(genes)


@pytest.mark.slow
def test_example_html_report(example_run):
    work = example_run
    snakemake(work, "--report", "results/report.html")
    report = work / "results" / "report.html"
    assert report.is_file()
    text = report.read_text(errors="replace")
    for needle in (
        "Headline",
        "Quality control",
        "Differential expression",
        "Restoration",
        "Enrichment",
    ):
        assert needle in text, needle


@pytest.mark.slow
def test_real_data_config_never_triggers_the_example_rule(example_run, tmp_path):
    work = example_run
    data = tmp_path / "data"
    shutil.copytree(work / "resources" / "example", data)
    sheet = pd.read_csv(work / "config" / "samples.tsv", sep="\t")
    sheet["file"] = [str(data / "cel" / Path(f).name) for f in sheet["file"]]
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    config = _config(work)
    config["samples"] = str(tmp_path / "samples.tsv")
    config["platform"] = {"cdf": str(data / "SigrestoreSim.CDF"), "annotation": None}
    config["gene_sets"] = [str(data / "gene_sets.gmt")]
    (tmp_path / "real.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(
        work, "-n", "--cores", "1", "--configfile", str(tmp_path / "real.yaml"), "--forceall"
    )
    assert "rma" in proc.stdout
    assert "simulate_example" not in proc.stdout
