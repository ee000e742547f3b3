"""``sigrestore geo fetch`` and ``sigrestore geo sheet``."""

from __future__ import annotations

import argparse
import sys

from sigrestore.errors import SigrestoreError

__all__ = ["register"]

_SHEET_EPILOG = """\
title pattern: a Python regular expression matched against the whole title;
each named group becomes a column, e.g. for titles like MCF7F_FULV_rep1:
  --title-pattern '(?P<cell_line>MCF7F?)_(?P<treatment>[A-Z]+)_rep(?P<replicate>\\d+)'
"""


def _fetch(args: argparse.Namespace) -> int:
    from sigrestore.geo.download import DownloadOptions
    from sigrestore.geo.fetch import FetchSettings, fetch_geo

    status = 0
    for accession in args.accessions:
        settings = FetchSettings(
            accession=accession,
            cache_dir=args.out,
            platform=args.platform,
            raw=args.raw,
            annotation=not args.no_annotation,
            base_url=args.base_url,
            download=DownloadOptions(timeout=args.timeout, retries=args.retries),
        )
        try:
            files = fetch_geo(settings)
        except SigrestoreError as exc:
            print(f"sigrestore geo fetch: error: {exc}", file=sys.stderr)
            status = 1
            continue
        for f in files:
            print(f"{args.out}/{accession}/{f.name}\t{f.role}\t{f.size}\t{f.url}")
    return status


def _sheet(args: argparse.Namespace) -> int:
    from sigrestore.atomic import atomic_path
    from sigrestore.geo.raw import cel_members
    from sigrestore.geo.series_matrix import read_series_matrix
    from sigrestore.geo.sheet import SheetOptions, build_sheet

    try:
        matrix = read_series_matrix(args.matrix)
        cels = cel_members(args.raw_tar) if args.raw_tar else None
        sheet = build_sheet(
            matrix,
            cel_files=cels,
            options=SheetOptions(title_pattern=args.title_pattern, keep_all=args.all_columns),
        )
    except SigrestoreError as exc:
        print(f"sigrestore geo sheet: error: {exc}", file=sys.stderr)
        return 1
    if args.output:
        with atomic_path(args.output) as tmp:
            sheet.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    else:
        sheet.to_csv(sys.stdout, sep="\t", index=False, lineterminator="\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``geo`` command group to the ``sigrestore`` parser."""
    from sigrestore.geo.accession import DEFAULT_BASE_URL

    p_geo = sub.add_parser("geo", help="fetch GEO series and build sample sheets from them")
    geo = p_geo.add_subparsers(dest="geo_command", required=True)
    p_fetch = geo.add_parser(
        "fetch",
        help="download series matrices, platform annotation and RAW tars by accession",
        description=(
            "Download from GEO's HTTPS layout into OUT/<accession>/: the series matrix "
            "(one per platform), the platform annotation (GPL.annot.gz) and, with --raw, "
            "<GSE>_RAW.tar. Complete files are not downloaded again; interrupted ones "
            "resume. Prints one line per file: path, role, size, URL."
        ),
    )
    p_fetch.add_argument("accessions", nargs="+", metavar="ACCESSION", help="GSE... or GDS...")
    p_fetch.add_argument("--out", required=True, help="cache folder (e.g. resources/geo)")
    p_fetch.add_argument("--platform", help="only this GPL when the series has several")
    p_fetch.add_argument("--raw", action="store_true", help="also fetch <GSE>_RAW.tar")
    p_fetch.add_argument(
        "--no-annotation", action="store_true", help="do not fetch the platform annotation"
    )
    p_fetch.add_argument("--base-url", default=DEFAULT_BASE_URL, help="GEO root URL or mirror")
    p_fetch.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    p_fetch.add_argument("--retries", type=int, default=3, help="retries per file (default 3)")
    p_fetch.set_defaults(func=_fetch)
    p_sheet = geo.add_parser(
        "sheet",
        help="write a sample sheet (TSV) from a series matrix",
        description=(
            "Write sample, title and one column per characteristics key of a series "
            "matrix; with --raw-tar the CEL file of each GSM (column file)."
        ),
        epilog=_SHEET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_sheet.add_argument("matrix", metavar="SERIES_MATRIX")
    p_sheet.add_argument("--raw-tar", help="the series' _RAW.tar: adds the CEL file column")
    p_sheet.add_argument("--title-pattern", help="regex with named groups parsed from titles")
    p_sheet.add_argument(
        "--all-columns", action="store_true", help="keep source_name, files and platform"
    )
    p_sheet.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    p_sheet.set_defaults(func=_sheet)
