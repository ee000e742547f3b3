"""``sigrestore init``: a sample sheet and a commented config from a folder of CEL files."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pandas as pd

from sigrestore.errors import ConfigError, SigrestoreError

DESCRIPTION = """\
Write a sample sheet and a commented config to start an analysis.

Every CEL file in --cel-dir (.CEL, .cel, optionally .gz) becomes one row. The
sample name is the file name without its extensions. With --pattern, a regular
expression with named groups matched against that name, each named group
becomes a column of the sheet, and every group except "replicate" or "rep"
becomes a design factor. Example, for files like MCF7R_fulvestrant_2.CEL:

  sigrestore init --cel-dir raw --cdf HG-U133A.CDF \\
      --pattern '(?P<cell_line>[^_]+)_(?P<treatment>.+)_(?P<replicate>\\d+)'

Then edit the contrasts and comparisons in the config (the groups found are
listed in it), check it with "sigrestore check config/config.yaml" and run
"sigrestore run --config config/config.yaml". Existing files are not
overwritten unless --force is given.
"""

_CEL = re.compile(r"\.cel(\.gz)?$", re.IGNORECASE)
_REPLICATE = {"replicate", "rep"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "init",
        help="write a sample sheet and a commented config for a folder of CEL files",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--cel-dir", required=True, metavar="DIR", help="folder holding the CEL files")
    p.add_argument("--cdf", required=True, metavar="FILE", help="the CDF file of the arrays")
    p.add_argument(
        "--pattern",
        metavar="REGEX",
        help="regular expression with named groups, matched against each sample name",
    )
    p.add_argument(
        "--annotation", metavar="FILE", help="optional NetAffx CSV or GEO GPL annotation"
    )
    p.add_argument(
        "--out-dir", default="config", metavar="DIR", help="where to write (default: config)"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=main)


def sample_sheet(cel_dir: Path, pattern: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The sheet (sample, file, one column per named group) and the design factors."""
    if not cel_dir.is_dir():
        raise ConfigError(f"--cel-dir {cel_dir}: not a folder")
    files = sorted(p for p in cel_dir.iterdir() if p.is_file() and _CEL.search(p.name))
    if not files:
        raise ConfigError(f"--cel-dir {cel_dir}: no .CEL or .CEL.gz file in it")
    names = [_CEL.sub("", p.name) for p in files]
    table = pd.DataFrame({"sample": names, "file": [str(p.resolve()) for p in files]})
    if not pattern:
        table["group"] = ""
        return table, ["group"]
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"--pattern {pattern!r}: not a regular expression ({exc})") from None
    columns = list(regex.groupindex)
    if not columns:
        raise ConfigError(
            f"--pattern {pattern!r} has no named group; write (?P<treatment>...) for each factor"
        )
    rows, unmatched = [], []
    for name in names:
        m = regex.fullmatch(name) or regex.match(name)
        if m is None:
            unmatched.append(name)
            continue
        rows.append({c: (m.group(c) or "") for c in columns})
    if unmatched:
        listed = ", ".join(unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
        raise ConfigError(
            f"--pattern {pattern!r} does not match {len(unmatched)} of {len(names)} sample"
            f" names: {listed}"
        )
    for c in columns:
        table[c] = [r[c] for r in rows]
    factors = [c for c in columns if c.lower() not in _REPLICATE]
    if not factors:
        raise ConfigError(f"--pattern {pattern!r}: every named group is a replicate number")
    return table, factors


def config_text(
    sheet_path: Path, cdf: str, annotation: str | None, factors: list[str], sheet: pd.DataFrame
) -> str:
    """A commented config for the sheet, with the groups found listed."""
    from sigrestore.diffexp.design import sanitize_name

    if factors == ["group"] and (sheet["group"] == "").all():
        groups_note = "#   (fill the 'group' column of the sample sheet first)"
    else:
        labels = sheet[factors].astype(str).agg("_".join, axis=1).map(sanitize_name)
        counts = labels.value_counts().sort_index()
        groups_note = "\n".join(f"#   {g}  ({n} arrays)" for g, n in counts.items())
    ann = (
        f"  annotation: {annotation}"
        if annotation
        else (
            "  # annotation: path/to/annotation.csv   # NetAffx CSV or GEO GPL table -> gene level"
        )
    )
    return f"""# sigrestore configuration written by `sigrestore init`; edit, then run
#   sigrestore check {sheet_path.parent / "config.yaml"}
#   sigrestore run --config {sheet_path.parent / "config.yaml"}
# Every key and its default: workflow/schemas/config.schema.yaml, docs/pipeline.md.

samples: {sheet_path}

platform:
  cdf: {cdf}
{ann}

design:
  # Groups are the combinations of these sample-sheet columns, joined by "_".
  factors: [{", ".join(factors)}]
  # Numeric columns enter as one slope; {{name: batch, type: factor}} forces a factor.
  covariates: []
  block: null

# Groups found in the sample sheet:
{groups_note}

# Contrasts: differences between groups (coefficients summing to 0), e.g.
#   drug_sensitive: sensitive_drug - sensitive_vehicle
contrasts: {{}}

# Restoration analyses: the signature of `reference`, restored by `restoration`.
comparisons: []
#  - name: drug_modulator
#    reference: drug_sensitive            # e.g. drug vs vehicle in sensitive cells
#    resistance: drug_resistant           # optional
#    restoration: combination_resistant   # e.g. drug + modulator vs vehicle, resistant cells
#    modulator: modulator_resistant       # optional
#    fdr: 0.05
#    lfc: 1.0

# Gene-set collections (GMT) for the enrichment of every contrast.
gene_sets: []
"""


def main(args: argparse.Namespace) -> int:
    try:
        out = Path(args.out_dir)
        sheet_path = out / "samples.tsv"
        config_path = out / "config.yaml"
        if not args.force:
            existing = [str(p) for p in (sheet_path, config_path) if p.exists()]
            if existing:
                raise ConfigError(
                    f"{', '.join(existing)} already exist(s); use --force to overwrite"
                    " or --out-dir to write elsewhere"
                )
        if not os.path.isfile(args.cdf):
            raise ConfigError(f"--cdf {args.cdf}: no such file")
        sheet, factors = sample_sheet(Path(args.cel_dir), args.pattern)
        from sigrestore.atomic import atomic_path, write_tsv

        write_tsv(sheet, sheet_path, index=False)
        text = config_text(
            sheet_path,
            str(Path(args.cdf).resolve()),
            str(Path(args.annotation).resolve()) if args.annotation else None,
            factors,
            sheet,
        )
        with atomic_path(config_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except (SigrestoreError, OSError) as exc:
        print(f"sigrestore init: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {sheet_path} ({len(sheet)} arrays, factors {factors}) and {config_path}")
    print(f"next: add contrasts and comparisons to {config_path}, then:")
    print(f"  sigrestore check {config_path}")
    return 0
