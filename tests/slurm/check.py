"""Compare the SLURM run of the example with the local run (called by tests/slurm/run.sh).

Usage: check.py LOCAL_DIR SLURM_DIR SLURM_SNAKEMAKE_LOG

Independent of rule names: the expected outputs are the files the local run
produced under results/ (benchmark records excepted), and the scheduler's
view comes from sacct.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Results that must be byte-identical: the numbers.
IDENTICAL = (
    "results/normalized/expression.tsv",
    "results/restoration/*/summary.tsv",
    "results/restoration/summary.tsv",
    "results/diffexp/*.tsv",
)


def main(local: Path, slurm: Path, log: Path) -> int:
    problems: list[str] = []
    produced = sorted(
        p.relative_to(local)
        for p in (local / "results").rglob("*")
        if p.is_file() and "benchmarks" not in p.parts
    )
    if len(produced) < 20:
        problems.append(f"the local run produced only {len(produced)} files")
    missing = [str(p) for p in produced if not (slurm / p).is_file()]
    if missing:
        problems.append(f"{len(missing)} outputs missing in the SLURM run: {missing[:10]}")
    compared = 0
    for pattern in IDENTICAL:
        for ref in sorted(local.glob(pattern)):
            rel = ref.relative_to(local)
            other = slurm / rel
            compared += 1
            if other.is_file() and other.read_bytes() != ref.read_bytes():
                problems.append(f"{rel} differs between the local and the SLURM run")
    if not list(local.glob("results/restoration/*/summary.tsv")):
        problems.append("no results/restoration/*/summary.tsv in the local run")
    probe = slurm / "results" / "slurm_timelimit_probe.txt"
    if not probe.is_file():
        problems.append("the time-limit probe's output is missing")

    # The scheduler's view: every job this test submitted, with its end state.
    acct = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-S", "now-2hours", "-o", "JobID,JobName%80,State,Timelimit"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    rows = [line.split("|") for line in acct if line.strip()]
    jobs = [r for r in rows if r[1] != "wrap"]  # the smoke test's job is named "wrap"
    states: dict[str, int] = {}
    for r in jobs:
        state = r[2].split()[0]
        states[state] = states.get(state, 0) + 1
    print(f"sacct: {len(jobs)} workflow jobs submitted through sbatch, end states {states}")
    timeouts = [r for r in jobs if r[2].startswith("TIMEOUT")]
    if len(timeouts) != 1:
        problems.append(f"expected one job killed for its time limit, sacct shows {timeouts}")
    bad = {s: n for s, n in states.items() if s not in ("COMPLETED", "TIMEOUT")}
    if bad:
        problems.append(f"jobs ended in unexpected states: {bad}")
    # Snakemake prints a rule block for every attempt of a job.
    text = log.read_text(errors="replace")
    attempts = text.count("rule slurm_timelimit_probe:")
    if attempts < 2:
        problems.append(f"the time-limit probe ran {attempts} time(s) in the log, expected a retry")
    print(
        f"compared {len(produced)} outputs for presence and {compared} result tables byte for "
        "byte with the local run"
    )
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
