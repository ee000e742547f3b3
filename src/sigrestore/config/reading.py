"""Reading a config (YAML) and a sample sheet (TSV), and resolving their paths."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sigrestore.config.schema import apply_schema, load_schema
from sigrestore.errors import ConfigError
from sigrestore.textio import read_tsv_text, read_yaml


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML config and apply the config schema (defaults filled in).

    Errors name the file, and for YAML syntax errors and keys given twice the
    line and column (:func:`sigrestore.textio.read_yaml`).
    """
    config = read_yaml(path, what="config")
    if not isinstance(config, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    return apply_schema(config, load_schema("config"), what=f"config {path}")


def read_sample_sheet(
    path: str | os.PathLike[str], *, table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read the sample sheet (TSV) and apply the row schema.

    All columns are read as text (:func:`sigrestore.textio.read_tsv_text`:
    UTF-8 with or without BOM, UTF-16 with BOM; other encodings are an error
    naming the line, column and byte).  Adds ``path``: ``file`` resolved
    against the sheet's directory (absolute paths kept), as a string.

    ``table`` stands in for the content of a sheet a workflow rule will write
    (the example's, see :func:`example_sheet_table`): it is checked as if it
    had been read from ``path``.
    """
    sheet = Path(path)
    table = read_tsv_text(sheet, what="sample sheet") if table is None else table.astype(str)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.apply(lambda col: col.str.strip())
    # "file" names each sample's raw file for the sources that read one per
    # sample (Affymetrix CEL, Agilent FE); matrix sources need no such column.
    if "sample" not in table.columns:
        raise ConfigError(
            f"sample sheet {sheet}: required column 'sample' is missing"
            f" (columns: {list(table.columns)})"
        )
    if table.empty:
        raise ConfigError(f"sample sheet {sheet} has no rows")
    schema = load_schema("samples")
    for i, record in enumerate(table.to_dict("records")):
        record = {k: v for k, v in record.items() if v != ""}
        try:
            apply_schema(record, schema, what=f"sample sheet {sheet}, {_row(i)}")
        except ConfigError as exc:
            raise ConfigError(str(exc)) from None
    base = sheet.parent
    if "file" not in table.columns:
        table["file"] = ""
    table["path"] = [os.path.normpath(_resolve(base, f)) if f else "" for f in table["file"]]
    return table


#: File keys of each source's branch ``data.<kind>`` (resolved against the
#: ``base`` of :func:`resolve_paths`: the working directory, as Snakemake
#: does, not the config's folder; a list value is resolved item by item).
SOURCE_PATH_KEYS = {
    "affymetrix": ("cdf", "annotation"),
    "counts": ("table", "annotation"),
    "geo": ("cache_dir", "matrix", "annotation"),
    "illumina": ("probe_profile", "control_profile", "annotation"),
    "agilent": ("annotation",),
}


def _resolve_source_paths(data: dict[str, Any], base: Path) -> None:
    for kind, keys in SOURCE_PATH_KEYS.items():
        branch = data.get(kind)
        if not isinstance(branch, dict):  # absent, or the GEO shorthand (an accession)
            continue
        for key in keys:
            value = branch.get(key)
            if isinstance(value, list | tuple):
                branch[key] = [str(_resolve(base, v)) for v in value]
            elif value:
                branch[key] = str(_resolve(base, value))


def _resolve(base: Path, file: str) -> Path:
    p = Path(os.path.expanduser(file))
    return p if p.is_absolute() else base / p


def _row(i: int) -> str:
    # Row numbers as a spreadsheet shows them: the header is line 1.
    return f"row {i + 1} (line {i + 2})"


def resolve_paths(config: dict[str, Any], base: str | os.PathLike[str]) -> dict[str, Any]:
    """A copy of ``config`` with its file paths made absolute against ``base``."""
    base = Path(base)
    out = copy.deepcopy(config)
    out["samples"] = str(_resolve(base, out["samples"]))
    out["platform"]["cdf"] = str(_resolve(base, out["platform"]["cdf"]))
    if out["platform"].get("annotation"):
        out["platform"]["annotation"] = str(_resolve(base, out["platform"]["annotation"]))
    _resolve_source_paths(out.get("data", {}) or {}, base)
    out["gene_sets"] = [str(_resolve(base, p)) for p in out.get("gene_sets", [])]
    if out.get("example", {}).get("outdir"):
        out["example"]["outdir"] = str(_resolve(base, out["example"]["outdir"]))
    return out


def example_sheet_table(config: Mapping[str, Any]) -> pd.DataFrame | None:
    """The example's sample sheet when the config's ``samples`` is the example's own.

    The example rule writes ``<example.outdir>/samples.tsv``; a config naming
    that file (the bundled one does) gets its content from the simulator,
    whether or not the rule has run yet, so the sheet always matches the
    ``example.replicates`` the rule will write.  None for any other sheet.
    """
    from sigrestore.simulate.experiment import example_files, example_sheet, example_spec

    options = config.get("example", {}) or {}
    spec = example_spec(options, seed=config.get("seed"))
    own = example_files(options.get("outdir", "resources/example"), spec).samples
    if os.path.abspath(str(config.get("samples", ""))) != os.path.abspath(own):
        return None
    return example_sheet(spec)
