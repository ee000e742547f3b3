"""``sigrestore check CONFIG``: validate a config and its sample sheet, run nothing."""

from __future__ import annotations

import argparse
import sys

from sigrestore.errors import SigrestoreError

DESCRIPTION = """\
Check a configuration and everything it names, as the workflow does before any
job: the YAML itself (errors give the line and column), the schema, the sample
sheet (encoding, columns, rows), the design (group sizes, contrasts that are
differences, level spellings, residual degrees of freedom, numeric covariates),
the raw files (present, one chip type, dimensions equal to the CDF's), the
annotation's platform, the gene-set files and the results folder. Prints the
groups with their sizes; exit status 0 when everything is fine, 1 otherwise.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="validate a config and its sample sheet without running anything",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", metavar="CONFIG", help="the YAML config to check")
    p.add_argument(
        "--directory",
        metavar="DIR",
        default=None,
        help="directory relative paths in the config are taken from (default: current)",
    )
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sigrestore.frontend.validate import validate_config

    try:
        checked = validate_config(args.config, workdir=args.directory, log=print)
    except SigrestoreError as exc:
        print(f"sigrestore check: error: {exc}", file=sys.stderr)
        return 1
    n_contrasts = len(checked.settings.contrasts)
    n_comparisons = len(checked.settings.comparisons)
    print(
        f"{checked.path}: OK ({len(checked.samples)} arrays in {len(checked.sizes)} groups,"
        f" {n_contrasts} contrasts, {n_comparisons} comparisons)"
    )
    return 0
