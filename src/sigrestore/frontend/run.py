"""``sigrestore run``: validate, run the workflow through Snakemake's API, say what happened."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sigrestore.errors import ConfigError, SigrestoreError

DESCRIPTION = """\
Run the whole analysis: check the config (as "sigrestore check" does), run the
Snakemake workflow, build results/report.html, and print one sentence per
comparison (restored fraction, interval, signature size).

Every option sigrestore does not know is passed to Snakemake, for example:

  sigrestore run                          the bundled example (config/config.yaml)
  sigrestore run --config my.yaml         your data (the file replaces the example's config)
  sigrestore run --config my.yaml -n      dry run: list the jobs, run nothing
  sigrestore run --cores 4                at most 4 cores (default: all)
  sigrestore run --unlock                 after a killed run left the folder locked
  sigrestore run --rerun-incomplete       redo the jobs a killed run left unfinished

When a job fails, the end of its log is printed.
"""

TAIL_LINES = 25
_CORE_FLAGS = ("--cores", "-c", "--jobs", "-j", "--profile", "--workflow-profile")
_NO_RUN_FLAGS = (
    "-n", "--dry-run", "--dryrun", "--unlock", "--lint", "--list-rules", "-l",
    "--summary", "-S", "--detailed-summary", "-D", "--dag", "--rulegraph", "--filegraph",
    "--report", "--cleanup-metadata", "--list-changes", "--lc", "--delete-all-output",
    "--delete-temp-output", "--touch", "-t", "--help", "-h",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="check the config, run the workflow and print the results in plain words",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument(
        "--config",
        "--configfile",
        dest="config",
        metavar="FILE",
        help="the YAML config (default: config/config.yaml, the bundled example)",
    )
    p.add_argument(
        "--no-report", action="store_true", help="do not build results/report.html at the end"
    )
    p.set_defaults(func=main, accepts_extra=True)


def find_snakefile(workdir: Path) -> Path:
    """``./Snakefile`` when there is one, else the one of the sigrestore checkout."""
    local = workdir / "Snakefile"
    if local.is_file():
        return local
    installed = Path(__file__).resolve().parents[3] / "Snakefile"
    if installed.is_file():
        return installed
    raise ConfigError(
        f"no Snakefile in {workdir} and none beside the sigrestore package; run from the"
        " sigrestore checkout"
    )


class _JobErrors(logging.Handler):
    """Collects the rule names and log files of failed jobs from Snakemake's log records."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.failed: list[tuple[str, list[str]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        if event is None or str(getattr(event, "value", event)) != "job_error":
            return
        logs = getattr(record, "log", None) or []
        if isinstance(logs, str):
            logs = [logs]
        # Output files may carry flag annotations ("x.log (temp)").
        paths = [str(x).split(" (", 1)[0].strip() for x in logs]
        self.failed.append((str(getattr(record, "rule_name", "?")), paths))


@contextlib.contextmanager
def _capture_job_errors() -> Iterator[_JobErrors]:
    handler = _JobErrors()
    # Snakemake replaces the handlers of its own logger at setup; records
    # still propagate to the parent "snakemake" logger, which it leaves alone.
    parent = logging.getLogger("snakemake")
    parent.addHandler(handler)
    try:
        yield handler
    finally:
        parent.removeHandler(handler)


def tail(path: str | os.PathLike[str], lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a text file (undecodable bytes replaced)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(size - 64 * 1024, 0))
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


_ERROR_LINE = re.compile(r"^sigrestore\.errors\.(\w+Error): (.*)$")


def log_excerpt(text: str) -> str:
    """What to show of a failed job's log tail.

    A job stopped by one of sigrestore's own errors (bad input the user can
    fix) logs a Python traceback ending in ``sigrestore.errors.XError: msg``:
    show the lines before the traceback and the message, not the traceback.
    Anything else (a bug) is shown as it is.
    """
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")),
        None,
    )
    if start is None:
        return text
    for i in range(len(lines) - 1, start, -1):
        match = _ERROR_LINE.match(lines[i])
        if match:
            message = "\n".join([match.group(2), *lines[i + 1 :]]).rstrip()
            return "\n".join([*lines[:start], f"{match.group(1)}: {message}"]).strip("\n")
    return text


def _recent_logs(workdir: Path, since: float) -> list[str]:
    logs = workdir / "logs"
    if not logs.is_dir():
        return []
    found = [p for p in logs.rglob("*.log") if p.is_file() and p.stat().st_mtime >= since]
    return [str(p) for p in sorted(found, key=lambda p: p.stat().st_mtime)[-1:]]


def _snakemake(argv: Sequence[str]) -> bool:
    """Run Snakemake's own argument handling and API; True on success."""
    from snakemake.cli import args_to_api, parse_args

    parser, args = parse_args(list(argv))
    return bool(args_to_api(args, parser))


def main(args: argparse.Namespace) -> int:
    from sigrestore.frontend.headline import headlines
    from sigrestore.frontend.validate import DEFAULT_CONFIG, validate_config

    extra = list(getattr(args, "extra", []) or [])
    workdir = Path.cwd()
    config_path = Path(args.config) if args.config else workdir / DEFAULT_CONFIG
    try:
        snakefile = find_snakefile(workdir)
        if "--unlock" not in extra:
            checked = validate_config(config_path, workdir=workdir)
            print(
                f"sigrestore: {config_path} is valid: {len(checked.samples)} arrays in"
                f" {len(checked.sizes)} groups ("
                + ", ".join(f"{g} {n}" for g, n in checked.sizes.items())
                + ")",
                flush=True,
            )
            comparisons = checked.settings.comparisons if checked.settings else ()
        else:
            comparisons = ()
    except SigrestoreError as exc:
        print(f"sigrestore run: error: {exc}", file=sys.stderr)
        return 1

    argv = ["--snakefile", str(snakefile)]
    if args.config:
        argv += ["--configfile", str(config_path)]
    if not any(a == f or a.startswith(f + "=") for a in extra for f in _CORE_FLAGS):
        argv += ["--cores", "all"]
    argv += extra
    started = time.time()
    with _capture_job_errors() as errors:
        try:
            ok = _snakemake(argv)
        except SystemExit as exc:  # argparse inside Snakemake (bad option, --help)
            return int(exc.code or 0)
        except Exception as exc:
            print(f"sigrestore run: Snakemake stopped: {exc}", file=sys.stderr)
            ok = False
    if not ok:
        failed = errors.failed or [("(unknown rule)", _recent_logs(workdir, started))]
        for rule, logs in failed:
            for log in logs:
                if os.path.isfile(log):
                    print(
                        f"\nsigrestore run: job {rule} failed; from its log {log}:\n"
                        + log_excerpt(tail(log)),
                        file=sys.stderr,
                    )
        print(
            "sigrestore run: the workflow failed (see above). After fixing the cause, run the"
            " same command again: finished steps are kept. If a run was killed, add"
            " --rerun-incomplete (and --unlock first if Snakemake says the folder is locked).",
            file=sys.stderr,
        )
        return 1
    if any(a in _NO_RUN_FLAGS or a.split("=", 1)[0] in _NO_RUN_FLAGS for a in extra):
        return 0
    report = workdir / "results" / "report.html"
    if not args.no_report:
        report_argv = [a for a in argv if a not in ("--rerun-incomplete", "--forceall", "-F")]
        with _capture_job_errors():
            try:
                made = _snakemake([*report_argv, "--report", str(report)])
            except Exception as exc:
                print(f"sigrestore run: the report could not be built: {exc}", file=sys.stderr)
                made = False
        if not made:
            report = None
    print()
    for sentence in headlines(comparisons, workdir):
        print(sentence)
    print(f"Tables and figures: {workdir / 'results'}")
    if report is not None:
        print(f"Report: {report}")
    return 0
