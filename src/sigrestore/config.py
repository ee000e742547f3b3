"""Load and validate a workflow configuration and its sample sheet.

Two layers of checks, both before any job runs:

1. the JSON schemas under ``workflow/schemas/`` (types, allowed values,
   defaults filled in) — the same schemas the Snakefile applies with
   ``snakemake.utils.validate``;
2. what a per-row schema cannot express: unique sample names and file base
   names, every input file present and readable (all missing files in one
   error), design columns present, contrasts that parse and name existing
   groups, at least two arrays in every group a contrast uses, comparisons
   naming existing contrasts, a comparison ``level`` of ``gene`` only with an
   annotation (and a collapse method), a finite expression-filter threshold
   and a filter ``min_samples`` no larger than the number of arrays, one chip
   type across the CEL files equal to the CDF's.

Every problem is a :class:`~sigrestore.errors.ConfigError` whose message names
the row, key or file.  The Snakefile calls :func:`check_config` (through
``workflow/rules/common.smk``); from Python, :func:`load_config` does all of it.
"""

from __future__ import annotations

import ast
import copy
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sigrestore.errors import ConfigError, FormatError

SCHEMA_DIR_ENV = "SIGRESTORE_SCHEMA_DIR"


@dataclass(frozen=True)
class Experiment:
    """A validated configuration.

    Attributes
    ----------
    config
        The config with schema defaults filled in.
    samples
        The sample sheet, one row per array, indexed like the file (0-based),
        with an extra ``path`` column (the file resolved against the sheet's
        directory) and ``group`` (the factor levels joined by ``_``).
    """

    config: dict[str, Any]
    samples: pd.DataFrame


# --------------------------------------------------------------------------- schemas


def schema_dir() -> Path:
    """Directory of the JSON schemas (``workflow/schemas`` of the repository).

    ``$SIGRESTORE_SCHEMA_DIR`` overrides it (for installs without the workflow).
    """
    env = os.environ.get(SCHEMA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "workflow" / "schemas"


def load_schema(name: str) -> dict[str, Any]:
    """Read ``<name>.schema.yaml`` from :func:`schema_dir`."""
    import yaml

    path = schema_dir() / f"{name}.schema.yaml"
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read the {name} schema {path}: {exc.strerror}") from None


def _default_validator(schema: Mapping[str, Any]):
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(sub, Mapping) and "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return cls(schema)


def apply_schema(instance: Any, schema: Mapping[str, Any], *, what: str) -> Any:
    """Validate ``instance`` (filling defaults in place); raise ConfigError naming the key."""
    validator = _default_validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
            lines.append(f"  key {key}: {err.message}")
        raise ConfigError(f"{what} is invalid:\n" + "\n".join(lines))
    return instance


# --------------------------------------------------------------------------- reading


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML config and apply the config schema (defaults filled in)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            config = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read the config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"config {path} must be a mapping of keys to values")
    return apply_schema(config, load_schema("config"), what=f"config {path}")


def read_sample_sheet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the sample sheet (TSV) and apply the row schema.

    All columns are read as text.  Adds ``path``: ``file`` resolved against the
    sheet's directory (absolute paths kept), as a string.
    """
    sheet = Path(path)
    try:
        table = pd.read_csv(
            sheet, sep="\t", dtype=str, keep_default_na=False, comment=None, skip_blank_lines=True
        )
    except FileNotFoundError:
        raise ConfigError(f"sample sheet {sheet} does not exist") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"sample sheet {sheet} cannot be read as TSV: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    table = table.apply(lambda col: col.str.strip())
    for column in ("sample", "file"):
        if column not in table.columns:
            raise ConfigError(
                f"sample sheet {sheet}: required column {column!r} is missing"
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
    table["path"] = [os.path.normpath(_resolve(base, f)) for f in table["file"]]
    return table


def _resolve(base: Path, file: str) -> Path:
    p = Path(os.path.expanduser(file))
    return p if p.is_absolute() else base / p


def _row(i: int) -> str:
    # Row numbers as a spreadsheet shows them: the header is line 1.
    return f"row {i + 1} (line {i + 2})"


# --------------------------------------------------------------------------- groups & contrasts


def _design_groups(samples: pd.DataFrame, factors: list[str], covariates: list[str]) -> pd.Series:
    """Group of every array, from the design the DE step will build.

    Building the design here makes its errors stop the run at validation:
    different level combinations that make the same group name (``MCF-7`` and
    ``MCF.7``; ``a_b`` + ``c`` and ``a`` + ``b_c``) and groups that collide
    with covariate levels.  The groups are the design's own (levels joined by
    ``_``, made identifiers), so contrasts see exactly the names limma fits.
    """
    from sigrestore.diffexp import build_design
    from sigrestore.errors import DesignError

    try:
        design = build_design(samples, factors=factors, covariates=covariates)
    except DesignError as exc:
        raise ConfigError(f"config key design.factors {factors}: {exc}") from None
    return pd.Series(design.groups.to_numpy(), index=samples.index)


def contrast_terms(name: str, expression: str) -> set[str]:
    """The group names an expression uses; ConfigError if it is not linear arithmetic.

    Allowed: group names, numbers, ``+ - * /`` and parentheses.
    """
    where = f"contrast {name!r} ({expression!r})"
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ConfigError(f"{where}: not a valid expression over group names") from None
    names: set[str] = set()
    allowed_ops = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.UAdd, ast.USub)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise ConfigError(f"{where}: constant {node.value!r} is not a number")
        elif isinstance(node, ast.BinOp | ast.UnaryOp):
            if not isinstance(node.op, allowed_ops):
                raise ConfigError(f"{where}: only + - * / are allowed")
        elif not isinstance(node, ast.Expression | ast.operator | ast.unaryop | ast.Load):
            raise ConfigError(f"{where}: {type(node).__name__} is not allowed in a contrast")
    if not names:
        raise ConfigError(f"{where}: names no group")
    return names


# --------------------------------------------------------------------------- checks


def check_config(
    config: Mapping[str, Any],
    samples: pd.DataFrame,
    *,
    pending: Iterable[str | os.PathLike[str]] = (),
    check_files: bool = True,
    check_chip: bool = True,
) -> pd.DataFrame:
    """Run every check a schema cannot express; return the sheet with a ``group`` column.

    Parameters
    ----------
    config
        The config, schema defaults filled in.
    samples
        As returned by :func:`read_sample_sheet`.
    pending
        Files a rule of the workflow will create (the example's raw files):
        they are neither required to exist nor read.
    check_files
        Check that every input file exists and is readable.
    check_chip
        Read the CEL headers and the CDF and check they share one chip type.
    """
    pending_set = {os.path.normpath(os.path.abspath(p)) for p in pending}

    def is_pending(path: str | os.PathLike[str]) -> bool:
        return os.path.normpath(os.path.abspath(path)) in pending_set

    samples = samples.copy()
    _check_unique(samples)
    design = config.get("design", {})
    factors = list(design.get("factors", []))
    covariates = list(design.get("covariates") or [])
    used = [("design.factors", c) for c in factors] + [("design.covariates", c) for c in covariates]
    if design.get("block"):
        used.append(("design.block", design["block"]))
    for key, column in used:
        if column not in samples.columns:
            raise ConfigError(
                f"config key {key}: column {column!r} is not in the sample sheet"
                f" (columns: {list(samples.columns)})"
            )
    for _, column in used:
        empty = samples.index[samples[column] == ""].tolist()
        if empty:
            rows = ", ".join(_row(i) for i in empty)
            raise ConfigError(f"sample sheet column {column!r} is empty in {rows}")
    samples["group"] = _design_groups(samples, factors, covariates)

    contrasts = config.get("contrasts", {}) or {}
    if not contrasts:
        raise ConfigError("config key contrasts: at least one contrast is needed")
    sizes = samples["group"].value_counts()
    for name, expression in contrasts.items():
        terms = contrast_terms(name, str(expression))
        unknown = sorted(t for t in terms if t not in sizes.index)
        if unknown:
            raise ConfigError(
                f"config key contrasts.{name}: group(s) {unknown} do not exist; groups are the"
                f" combinations of {factors}: {sorted(sizes.index)}"
            )
        small = sorted(t for t in terms if sizes[t] < 2)
        if small:
            detail = ", ".join(f"{t} has {sizes[t]}" for t in small)
            raise ConfigError(
                f"config key contrasts.{name}: every group a contrast uses needs at least two"
                f" arrays ({detail})"
            )

    names = [c.get("name") for c in config.get("comparisons", [])]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"config key comparisons: names {duplicated} are used more than once")
    for i, comp in enumerate(config.get("comparisons", [])):
        for role in ("reference", "restoration", "resistance", "modulator"):
            target = comp.get(role)
            if target is not None and target not in contrasts:
                raise ConfigError(
                    f"config key comparisons[{i}].{role} (comparison {comp.get('name')!r}):"
                    f" contrast {target!r} is not defined under contrasts"
                    f" ({sorted(contrasts)})"
                )
        _check_level(config, comp, i)
        comparison_spec(comp, seed=config.get("seed", 0), has_annotation=annotation_given(config))
        # The pipeline's tables test against differential_expression.treat_lfc;
        # a TREAT signature needs them to test against the comparison's lfc.
        treat_lfc = config.get("differential_expression", {}).get("treat_lfc", 0)
        if comp.get("method") == "treat" and treat_lfc != comp.get("lfc"):
            raise ConfigError(
                f"config key comparisons[{i}].method (comparison {comp.get('name')!r}): 'treat'"
                f" needs differential_expression.treat_lfc equal to its lfc ({comp.get('lfc')}),"
                f" got {treat_lfc}"
            )

    _check_filter(config, samples)
    platform = config.get("platform", {})
    if check_files:
        _check_files(config, samples, is_pending)
    if check_chip:
        _check_chip_types(platform["cdf"], samples, is_pending)
    return samples


def annotation_given(config: Mapping[str, Any]) -> bool:
    """True when the config gives ``platform.annotation`` (gene-level results possible)."""
    return bool(config.get("platform", {}).get("annotation"))


def _check_level(config: Mapping[str, Any], comp: Mapping[str, Any], i: int) -> None:
    where = f"config key comparisons[{i}].level (comparison {comp.get('name')!r})"
    resolved = comparison_level(comp, has_annotation=annotation_given(config), where=where)
    collapse = config.get("differential_expression", {}).get("collapse", "max_mean")
    if resolved == "gene" and collapse == "none":
        raise ConfigError(
            f"{where}: gene level needs differential_expression.collapse other than 'none'"
            " (with 'none' the .genes.tsv tables stay at probe-set level); set"
            " level: probeset or choose a collapse method"
        )


def _check_filter(config: Mapping[str, Any], samples: pd.DataFrame) -> None:
    # Checked whether or not the filter is enabled: switching it on later
    # should not reveal a mistake the config carried all along.
    options = config.get("differential_expression", {}).get("filter", {}) or {}
    key = "config key differential_expression.filter"
    min_expr = options.get("min_expr", 4.0)
    if isinstance(min_expr, bool) or not isinstance(min_expr, int | float):
        raise ConfigError(f"{key}.min_expr: must be a number (log2 scale), got {min_expr!r}")
    if not math.isfinite(min_expr):
        raise ConfigError(f"{key}.min_expr: must be finite (log2 scale), got {min_expr!r}")
    min_samples = options.get("min_samples")
    if min_samples is None:
        return
    n_arrays = len(samples)
    if isinstance(min_samples, bool) or not isinstance(min_samples, int):
        raise ConfigError(f"{key}.min_samples: must be an integer or null, got {min_samples!r}")
    if not 1 <= min_samples <= n_arrays:
        raise ConfigError(
            f"{key}.min_samples: must be between 1 and the number of arrays ({n_arrays}),"
            f" got {min_samples}"
        )


def _check_unique(samples: pd.DataFrame) -> None:
    dup = samples["sample"][samples["sample"].duplicated(keep=False)]
    if not dup.empty:
        detail = "; ".join(
            f"{name!r} in " + ", ".join(_row(i) for i in dup.index[dup == name])
            for name in dict.fromkeys(dup)
        )
        raise ConfigError(f"sample sheet: sample names must be unique: {detail}")
    base = samples["file"].map(_base_name)
    dup = base[base.duplicated(keep=False)]
    if not dup.empty:
        detail = "; ".join(
            f"{name!r} in " + ", ".join(_row(i) for i in dup.index[dup == name])
            for name in dict.fromkeys(dup)
        )
        raise ConfigError(f"sample sheet: file base names must be unique: {detail}")


def _base_name(file: str) -> str:
    # "a.CEL" and "a.CEL.gz" elsewhere are the same scan twice.
    name = Path(file).name
    return name[:-3] if name.lower().endswith(".gz") else name


def _check_files(config: Mapping[str, Any], samples: pd.DataFrame, is_pending) -> None:
    wanted: list[tuple[str, str]] = [("platform.cdf", config["platform"]["cdf"])]
    if config["platform"].get("annotation"):
        wanted.append(("platform.annotation", config["platform"]["annotation"]))
    wanted += [(f"gene_sets[{i}]", p) for i, p in enumerate(config.get("gene_sets", []))]
    wanted += [
        (f"sample sheet {_row(i)} (sample {s!r})", p)
        for i, (s, p) in enumerate(zip(samples["sample"], samples["path"], strict=True))
    ]
    problems = []
    for where, path in wanted:
        if is_pending(path):
            continue
        if not os.path.exists(path):
            problems.append(f"  {where}: {path} does not exist")
        elif os.path.isdir(path):
            problems.append(f"  {where}: {path} is a directory, not a file")
        elif not os.access(path, os.R_OK):
            problems.append(f"  {where}: {path} is not readable")
    if problems:
        raise ConfigError(
            f"{len(problems)} input file(s) missing or unreadable:\n" + "\n".join(problems)
        )


def _check_chip_types(cdf_path: str, samples: pd.DataFrame, is_pending) -> None:
    from sigrestore.io import read_cel_header

    present = [
        (i, s, p)
        for i, (s, p) in enumerate(zip(samples["sample"], samples["path"], strict=True))
        if not is_pending(p)
    ]
    if not present:
        return
    chips: dict[str, list[str]] = {}
    for i, sample, path in present:
        try:
            header = read_cel_header(path)
        except FormatError as exc:
            raise ConfigError(f"sample sheet {_row(i)} (sample {sample!r}): {exc}") from None
        chips.setdefault(str(header["chip_type"]), []).append(f"{sample} ({path})")
    if len(chips) > 1:
        detail = "; ".join(f"{chip}: {', '.join(files[:5])}" for chip, files in chips.items())
        raise ConfigError(f"CEL files are of more than one chip type: {detail}")
    (chip,) = chips
    if is_pending(cdf_path):
        return
    cdf_chip = cdf_chip_type(cdf_path)
    if _norm_chip(cdf_chip) != _norm_chip(chip):
        raise ConfigError(
            f"platform.cdf {cdf_path} is for chip type {cdf_chip!r} but the CEL files are {chip!r}"
        )


def _norm_chip(name: str) -> str:
    # affy compares cleaned names: case, "-" / "_" and ".CDF" do not matter.
    name = re.sub(r"\.cdf(\.gz)?$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[-_ ]", "", name).lower()


def cdf_chip_type(path: str | os.PathLike[str]) -> str:
    """The chip type a CDF describes.

    The ``[Chip] Name=`` of an ASCII CDF; binary XDA CDFs carry no name, so
    (as makecdfenv does) the file name without ``.CDF``/``.gz`` is used.
    """
    import gzip

    p = Path(path)
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as fh:
            head = fh.read(4096)
    except (OSError, EOFError) as exc:
        raise ConfigError(f"platform.cdf {p}: cannot be read ({exc})") from None
    if head.startswith(b"[CDF]"):
        text = head.decode("latin-1")
        section = text.split("[Chip]", 1)
        if len(section) == 2:
            match = re.search(r"^Name=(.*)$", section[1], flags=re.MULTILINE)
            if match and match.group(1).strip():
                return match.group(1).strip()
    return re.sub(r"\.cdf(\.gz)?$", "", p.name, flags=re.IGNORECASE)


# --------------------------------------------------------------------------- comparisons


def comparison_spec(entry: Mapping[str, Any], *, seed: int, has_annotation: bool = False):
    """The :class:`~sigrestore.restoration.ComparisonSpec` of one config entry.

    Schema defaults that mean "inherit" (``null`` seeds, call thresholds and
    level) are resolved here: seeds from the config's ``seed``, call ``fdr``
    from the signature's, ``level`` from ``has_annotation`` (see
    :func:`comparison_level`).
    """
    from sigrestore.restoration.spec import ComparisonSpec

    return ComparisonSpec.from_dict(
        comparison_dict(entry, seed=seed, has_annotation=has_annotation)
    )


def comparison_level(
    entry: Mapping[str, Any], *, has_annotation: bool, where: str | None = None
) -> str:
    """The level (``"gene"`` or ``"probeset"``) of a comparison entry.

    ``level`` null or absent means ``"gene"`` when the config gives
    ``platform.annotation`` and ``"probeset"`` otherwise.  ``where`` names the
    entry in the error message (default: by its name).

    Raises
    ------
    ConfigError
        ``level`` is ``"gene"`` but there is no annotation to map probe sets to genes.
    """
    level = entry.get("level")
    if level is None:
        return "gene" if has_annotation else "probeset"
    if level == "gene" and not has_annotation:
        if where is None:
            where = f"config key comparisons.level (comparison {entry.get('name')!r})"
        raise ConfigError(
            f"{where}: 'gene' needs platform.annotation to map probe sets to genes; give an"
            " annotation or set level: probeset"
        )
    return level


def comparison_dict(
    entry: Mapping[str, Any], *, seed: int, has_annotation: bool = False
) -> dict[str, Any]:
    """One config entry as :meth:`ComparisonSpec.from_dict` takes it (nulls resolved)."""
    d = _drop_none(copy.deepcopy(dict(entry)))
    for section in ("bootstrap", "connectivity", "corrected"):
        d.setdefault(section, {}).setdefault("seed", seed)
    d["level"] = comparison_level(entry, has_annotation=has_annotation)
    return d


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


# --------------------------------------------------------------------------- one call


def load_config(
    path: str | os.PathLike[str],
    *,
    pending: Iterable[str | os.PathLike[str]] = (),
    check_files: bool = True,
    check_chip: bool = True,
    workdir: str | os.PathLike[str] | None = None,
) -> Experiment:
    """Read, schema-check and check a config and its sample sheet.

    Relative paths in the config are taken relative to ``workdir`` (default:
    the current directory), as Snakemake does; the sheet's ``file`` column
    relative to the sheet.
    """
    config = read_config(path)
    base = Path(workdir) if workdir is not None else Path.cwd()
    config = resolve_paths(config, base)
    samples = read_sample_sheet(config["samples"])
    samples = check_config(
        config, samples, pending=pending, check_files=check_files, check_chip=check_chip
    )
    return Experiment(config=config, samples=samples)


def resolve_paths(config: dict[str, Any], base: str | os.PathLike[str]) -> dict[str, Any]:
    """A copy of ``config`` with its file paths made absolute against ``base``."""
    base = Path(base)
    out = copy.deepcopy(config)
    out["samples"] = str(_resolve(base, out["samples"]))
    out["platform"]["cdf"] = str(_resolve(base, out["platform"]["cdf"]))
    if out["platform"].get("annotation"):
        out["platform"]["annotation"] = str(_resolve(base, out["platform"]["annotation"]))
    out["gene_sets"] = [str(_resolve(base, p)) for p in out.get("gene_sets", [])]
    return out
