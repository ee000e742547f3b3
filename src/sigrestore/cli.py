"""The ``sigrestore`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys

from sigrestore.errors import SigrestoreError
from sigrestore.geo.cli import register as register_geo


def _inspect(args: argparse.Namespace) -> int:
    """Print one JSON object per file; report bad files on stderr, keep going."""
    from sigrestore.io.summary import inspect_file

    status = 0
    for path in args.files:
        try:
            summary = inspect_file(path)
        except SigrestoreError as exc:
            # One line per bad file, naming it (the message starts with the path).
            print(f"sigrestore inspect: error: {' '.join(str(exc).split())}", file=sys.stderr)
            status = 1
            continue
        try:
            print(json.dumps(summary), flush=True)
        except BrokenPipeError:
            # The reader went away (``sigrestore inspect ... | head -1``): not an
            # error. Point stdout at devnull so the interpreter's final flush
            # does not fail again, and stop quietly with the status so far.
            _silence_stdout()
            return status
    return status


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sigrestore",
        description=(
            "sigrestore: how much of a drug's expression signature a combination restores,"
            " from raw Affymetrix arrays. Start with 'sigrestore init' (a sample sheet and a"
            " config for your CEL files), then 'sigrestore check CONFIG' and"
            " 'sigrestore run --config CONFIG'. 'sigrestore SUBCOMMAND --help' explains each."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_inspect = sub.add_parser(
        "inspect",
        help="summarize CEL and CDF files as JSON (one object per file)",
        description=(
            "Print, for each CEL or CDF file, one JSON object: format, chip type, "
            "dimensions, cell count, intensity sum, masks and outliers (CEL) or probe "
            "sets and PM/MM cells (CDF). A file that cannot be read gives a one-line "
            "error on stderr and a non-zero exit status; the others are still printed."
        ),
    )
    p_inspect.add_argument("files", nargs="+", metavar="FILE")
    p_inspect.set_defaults(func=_inspect)
    from sigrestore.frontend import register

    register(sub)
    register_geo(sub)
    # `sigrestore run` passes the options it does not know to Snakemake.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
