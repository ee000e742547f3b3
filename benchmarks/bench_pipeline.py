"""The whole workflow on a synthetic study of N full-size arrays, side by side with R.

Run::

    python benchmarks/bench_pipeline.py [--arrays 24,102] [--format text-v3]
                                        [--cores 2] [--workdir DIR] [--no-r] [--keep]

For each N (default 24; the issue's sizes are 24, 102 and 500):

1. writes a study of N HG-U133A-size arrays (22,283 probe sets on 712 x 712
   cells) with the project's simulator (:mod:`sigrestore.simulate`: the
   bundled example's design, 2 cell lines x 4 treatments, its planted
   fulvestrant signature and restoration, ``ceil(N / 8)`` replicates with the
   surplus arrays dropped from the last groups) as text v3, XDA v4 or
   Command Console CEL files (``--format``; ``mixed`` cycles the three), plus
   the CDF, annotation, gene sets, a sample sheet and a config (the bundled
   config's analysis, pointed at these files);
2. runs the whole workflow on a copy of the repository's workflow with
   ``snakemake --cores 2`` (a subprocess), measuring its wall time, CPU time
   (user + system of all its processes: on a machine shared with other work
   the wall time also counts waiting for a core) and peak memory (the
   resident memory of the whole process tree, sampled every 0.2 s with
   psutil, and the largest single process's);
3. prints every rule's jobs, summed and longest job time (from the job
   records Snakemake keeps in ``.snakemake/metadata``) and, for rules with a
   ``benchmark:`` file, its peak RSS and CPU time; the time from the start
   to the normalized matrix (CEL to matrix);
4. when ``Rscript`` with affy, makecdfenv and limma is present, runs R's
   ``make.cdf.env`` + ``ReadAffy`` + ``rma`` + limma (``lmFit``,
   ``contrasts.fit``, ``eBayes`` and ``topTable`` of every contrast) on the
   same files in the same run, and prints the ratios (wall and CPU).

Nothing here asserts a time; it prints what it measured.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs")
N_PROBESETS = 22283  # HG-U133A; make_layout puts 22,283 x 11 PM/MM pairs on 712 x 712 cells
FORMATS = ("text-v3", "xda-v4", "calvin")


# --------------------------------------------------------------------------- the study


def write_study(study: Path, n_arrays: int, fmt: str) -> dict:
    """Write the raw files, sample sheet and config of an ``n_arrays`` study."""
    from sigrestore.atomic import write_tsv
    from sigrestore.io import write_cdf, write_cel
    from sigrestore.simulate.chip import iter_arrays, make_layout
    from sigrestore.simulate.experiment import (
        ExampleSpec,
        expression_matrix,
        gene_sets,
        plan_truth,
        write_annotation,
        write_gmt,
    )

    spec = ExampleSpec(
        n_probesets=N_PROBESETS, replicates=math.ceil(n_arrays / 8), chip_type="SimU133A"
    )
    done = study / "study.json"
    if done.exists():
        info = json.loads(done.read_text())
        if info.get("n") == n_arrays and info.get("format") == fmt:
            return info
    study.mkdir(parents=True, exist_ok=True)
    truth = plan_truth(spec)
    expr, samples = expression_matrix(truth, spec)
    # Drop the surplus arrays: the last replicates of the last groups.
    surplus = len(samples) - n_arrays
    drop = samples.sort_values(["replicate"], kind="stable").index[::-1][:surplus]
    samples = samples.drop(index=drop).reset_index(drop=True)
    expr = expr[samples["sample"]]
    cdf = make_layout(
        len(truth), probes_per_set=spec.probes_per_set, chip_type=spec.chip_type, seed=spec.seed
    )
    import dataclasses

    cdf = dataclasses.replace(cdf, probeset_names=truth["probeset"].tolist())
    write_cdf(study / f"{spec.chip_type}.CDF", cdf, format="ascii")
    files = []
    for j, arr in enumerate(
        iter_arrays(cdf, expr.to_numpy(), seed=spec.seed, names=samples["sample"].tolist())
    ):
        f = FORMATS[j % 3] if fmt == "mixed" else fmt
        path = study / "cel" / f"{samples['sample'][j]}.CEL"
        path.parent.mkdir(exist_ok=True)
        write_cel(path, arr, format=f)
        files.append(str(path))
    write_annotation(truth, study / f"{spec.chip_type}.annot.csv", chip_type=spec.chip_type)
    write_gmt(gene_sets(truth, spec), study / "gene_sets.gmt")
    sheet = samples.drop(columns="format").assign(file=files)
    write_tsv(sheet, study / "samples.tsv", index=False)
    info = {
        "n": n_arrays,
        "format": fmt,
        "cdf": str(study / f"{spec.chip_type}.CDF"),
        "annotation": str(study / f"{spec.chip_type}.annot.csv"),
        "gene_sets": str(study / "gene_sets.gmt"),
        "samples": str(study / "samples.tsv"),
        "bytes": sum(os.path.getsize(f) for f in files),
    }
    done.write_text(json.dumps(info))
    return info


def prepare_workflow(run: Path, info: dict) -> Path:
    """A fresh copy of the workflow whose config points at the study."""
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, run / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, run / name)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["samples"] = info["samples"]
    config["platform"] = {"cdf": info["cdf"], "annotation": info["annotation"]}
    config["gene_sets"] = [info["gene_sets"]]
    (run / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return run


# --------------------------------------------------------------------------- measuring


class PeakMemory:
    """Peak resident memory of a process tree, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.tree_peak = 0
        self.process_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            rss = []
            for p in procs:
                with contextlib.suppress(psutil.Error):  # ended meanwhile
                    rss.append(p.memory_info().rss)
            if rss:
                self.tree_peak = max(self.tree_peak, sum(rss))
                self.process_peak = max(self.process_peak, max(rss))
            time.sleep(interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(cmd: list[str], cwd: Path, log: Path) -> dict:
    """Run ``cmd``, return wall time, CPU time and peak memory (bytes); fail loudly on error.

    CPU time (user + system of the whole process tree, from ``getrusage`` of
    the waited-for children) is what the run costs whatever else the machine
    runs; wall time on a loaded machine also counts waiting for a core.
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        mem = PeakMemory(proc.pid)
        rc = proc.wait()
        mem.stop()
    wall = time.perf_counter() - t0
    if rc != 0:
        tail = log.read_text().splitlines()[-30:]
        raise SystemExit(f"{' '.join(cmd)} failed (exit {rc}) in {cwd}:\n" + "\n".join(tail))
    return {
        "wall_s": wall,
        "cpu_s": _children_cpu() - cpu0,
        "tree_peak": mem.tree_peak,
        "process_peak": mem.process_peak,
    }


def _children_cpu() -> float:
    """User + system CPU seconds of every waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def job_records(run: Path) -> pd.DataFrame:
    """One row per job: rule, start, end (from Snakemake's metadata records)."""
    rows = {}
    meta = run / ".snakemake" / "metadata"
    for path in meta.rglob("*"):
        if not path.is_file():
            continue
        try:
            rec = json.loads(path.read_text())
            # The file's name is the output path, urlsafe-base64 encoded (long
            # names split into directories).
            output = base64.urlsafe_b64decode("".join(path.relative_to(meta).parts)).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        if rec.get("starttime") is None or rec.get("endtime") is None:
            continue
        # One record per output file; a job's outputs share its job hash.
        key = (rec["rule"], rec.get("job_hash"))
        row = rows.setdefault(
            key,
            {"rule": rec["rule"], "start": rec["starttime"], "end": rec["endtime"], "outputs": []},
        )
        row["start"] = min(row["start"], rec["starttime"])
        row["end"] = max(row["end"], rec["endtime"])
        row["outputs"].append(output)
    return pd.DataFrame(list(rows.values()))


def benchmark_stats(run: Path, log: Path) -> dict[str, dict[str, float]]:
    """Per rule, the largest ``max_rss`` (MB) and the summed ``cpu_time`` (s) of
    its jobs' ``benchmark:`` files.

    Snakemake's log names each job's rule and benchmark file, which ties the
    file to the rule without knowing the workflow's file layout.
    """
    out: dict[str, dict[str, float]] = {}
    rule = None
    for line in log.read_text(errors="replace").splitlines():
        head = line.strip()
        if head.endswith(":") and head.split()[0] in ("rule", "localrule"):
            rule = head.split()[1].rstrip(":")
        elif head.startswith("benchmark:") and rule is not None:
            path = run / head.split(":", 1)[1].strip()
            if not path.is_file():
                continue
            table = pd.read_csv(path, sep="\t")
            rss = pd.to_numeric(table.get("max_rss"), errors="coerce").max()
            cpu = pd.to_numeric(table.get("cpu_time"), errors="coerce").sum()
            stats = out.setdefault(rule, {"rss": 0.0, "cpu": 0.0})
            if np.isfinite(rss):
                stats["rss"] = max(stats["rss"], float(rss))
            if np.isfinite(cpu):
                stats["cpu"] += float(cpu)
    return out


# --------------------------------------------------------------------------- R

R_SCRIPT = r"""
suppressPackageStartupMessages({library(affy); library(makecdfenv); library(limma)})
args <- commandArgs(trailingOnly = TRUE)
sheet <- read.delim(args[2], stringsAsFactors = FALSE)
contrasts <- readLines(args[3])
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]
env <- make.cdf.env(basename(args[1]), cdf.path = dirname(args[1]), compress = FALSE)
assign("SimU133A", env, envir = .GlobalEnv)
t1 <- proc.time()[["elapsed"]]
c1 <- cpu()
ab <- ReadAffy(filenames = sheet$file, cdfname = "SimU133A", sampleNames = sheet$sample)
t2 <- proc.time()[["elapsed"]]
e <- exprs(rma(ab, verbose = FALSE))
t3 <- proc.time()[["elapsed"]]
c3 <- cpu()
group <- factor(paste(sheet$cell_line, sheet$treatment, sep = "_"))
design <- model.matrix(~ 0 + group)
colnames(design) <- levels(group)
cm <- makeContrasts(contrasts = contrasts, levels = design)
fit <- eBayes(contrasts.fit(lmFit(e, design), cm))
tabs <- lapply(seq_along(contrasts), function(k) topTable(fit, coef = k, number = Inf))
t4 <- proc.time()[["elapsed"]]
cat(sprintf(paste0("{\"cdf_s\": %.3f, \"read_s\": %.3f, \"rma_s\": %.3f, \"limma_s\": %.3f, ",
                   "\"read_rma_cpu_s\": %.3f}\n"),
            t1 - t0, t2 - t1, t3 - t2, t4 - t3, c3 - c1))
"""


def run_r(info: dict, work: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        print("  R: Rscript not found, R side skipped")
        return None
    script = work / "bench_pipeline.R"
    script.write_text(R_SCRIPT)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    contrasts = work / "contrasts.txt"
    contrasts.write_text("\n".join(config["contrasts"].values()) + "\n")
    cmd = ["Rscript", str(script), info["cdf"], info["samples"], str(contrasts)]
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    mem = PeakMemory(proc.pid)
    out, err = proc.communicate()
    mem.stop()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"  R run failed: {err.strip().splitlines()[-3:]}")
        return None
    times = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    return {**times, "wall_s": wall, "cpu_s": _children_cpu() - cpu0, "peak": mem.tree_peak}


# --------------------------------------------------------------------------- report


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) + " (1/5/15 min)"


def bench_one(n: int, args: argparse.Namespace, work: Path) -> dict:
    print(f"\n=== {n} arrays ({args.format}); load average {_load()} ===", flush=True)
    t0 = time.perf_counter()
    info = write_study(work / f"study_{n}_{args.format}", n, args.format)
    print(
        f"study: {n} arrays, {info['bytes'] / 2**20:,.0f} MB of CEL files "
        f"(written in {time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    run = prepare_workflow(work / f"run_{n}_{args.format}", info)
    cmd = [str(Path(sys.executable).parent / "snakemake"), "--cores", str(args.cores)]
    print(f"$ cd {run} && {' '.join(cmd)}", flush=True)
    py = run_measured(cmd, run, run / "snakemake.out")
    jobs = job_records(run)
    jobs["secs"] = jobs["end"] - jobs["start"]
    start = jobs["start"].min()
    matrix = jobs[jobs["outputs"].map(lambda o: "results/normalized/expression.tsv" in o)]
    to_matrix = float(matrix["end"].max() - start) if not matrix.empty else float("nan")
    stats = benchmark_stats(run, run / "snakemake.out")
    per_rule = jobs.groupby("rule").agg(
        jobs=("secs", "size"), total_s=("secs", "sum"), max_s=("secs", "max")
    )
    per_rule = per_rule.sort_values("total_s", ascending=False)
    print(f"{'rule':<24}{'jobs':>6}{'sum s':>9}{'max s':>9}{'cpu s':>9}  benchmark max_rss")
    for rule, row in per_rule.iterrows():
        st = stats.get(rule)
        cpu = f"{st['cpu']:>9.1f}" if st else f"{'':>9}"
        mem = f"{st['rss']:,.0f} MB" if st else ""
        print(
            f"{rule:<24}{row['jobs']:>6.0f}{row['total_s']:>9.1f}{row['max_s']:>9.1f}{cpu}  {mem}"
        )
    print(
        f"sigrestore workflow: {py['wall_s']:.1f} s wall, {py['cpu_s']:.1f} s CPU (user + "
        f"system, all processes), {len(jobs)} jobs, CEL to normalized "
        f"matrix {to_matrix:.1f} s; peak RSS {_mb(py['tree_peak'])} (process tree), "
        f"{_mb(py['process_peak'])} (largest process); load average now {_load()}",
        flush=True,
    )
    result = {
        "n": n,
        "format": args.format,
        "wall_s": py["wall_s"],
        "cpu_s": py["cpu_s"],
        "jobs": len(jobs),
        "to_matrix_s": to_matrix,
        "tree_peak_mb": py["tree_peak"] / 2**20,
        "process_peak_mb": py["process_peak"] / 2**20,
        "rules": per_rule.reset_index().to_dict("records"),
        "rule_stats": stats,
    }
    if not args.no_r:
        r = run_r(info, work)
        if r is not None:
            r_rma = r["read_s"] + r["rma_s"]  # make.cdf.env: a CDF package on a real chip
            rma_cpu = stats.get("rma", {}).get("cpu", float("nan"))
            print(
                f"R: make.cdf.env {r['cdf_s']:.1f} s, ReadAffy {r['read_s']:.1f} s, rma "
                f"{r['rma_s']:.1f} s, limma {r['limma_s']:.1f} s; {r['wall_s']:.1f} s wall "
                f"with start-up, peak RSS {_mb(r['peak'])}; CPU: ReadAffy + rma "
                f"{r['read_rma_cpu_s']:.1f} s, whole R run {r['cpu_s']:.1f} s"
            )
            print(
                f"ratios: whole workflow / R (ReadAffy + rma) = {py['wall_s'] / r_rma:.2f}; "
                f"whole workflow / R (wall, incl. limma) = {py['wall_s'] / r['wall_s']:.2f}; "
                f"CEL to matrix / R (ReadAffy + rma) = {to_matrix / r_rma:.2f}; CPU time: "
                f"whole workflow / R (ReadAffy + rma) = {py['cpu_s'] / r['read_rma_cpu_s']:.2f}, "
                f"rma job / R (ReadAffy + rma) = {rma_cpu / r['read_rma_cpu_s']:.2f}",
                flush=True,
            )
            result["r"] = r
    if not args.keep:
        shutil.rmtree(run, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrays", default="24", help="comma-separated study sizes (24,102,500)")
    parser.add_argument("--format", default="text-v3", choices=[*FORMATS, "mixed"])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="keeps the studies for reruns")
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the workflow runs' directories")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.arrays.split(",")]
    if min(sizes) < 16:
        parser.error("--arrays: at least 16 (8 groups x 2 replicates: limma needs residual df)")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sigrestore-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"python {' '.join(sys.argv)}\nworkdir {work}; {psutil.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}"
    )
    results = [bench_one(n, args, work) for n in sizes]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
