"""The ``sigrestore`` command line."""

from __future__ import annotations

import argparse
import json
import sys

from sigrestore.errors import SigrestoreError


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
        print(json.dumps(summary), flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sigrestore", description=__doc__)
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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
