"""The package's layers (docs/architecture.md): import rules checked on the source,
and the package's defaults checked against the config schema (the single source
of defaults)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from sigrestore.config import load_schema

SRC = Path(__file__).resolve().parents[1] / "src" / "sigrestore"

#: Modules that compute (no figures, no workflow engine).
COMPUTATION = ("sources", "preprocess", "diffexp", "restoration", "annotation", "enrichment")


def _imports(path: Path) -> set[str]:
    """Every module an AST imports (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(("sigrestore", *path.relative_to(SRC).parts[:-1]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _files(*parts: str) -> list[Path]:
    out = []
    for part in parts:
        target = SRC / part
        out += sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
    return out


def _package_imports(path: Path) -> set[str]:
    return {m for m in _imports(path) if m == "sigrestore" or m.startswith("sigrestore.")}


def test_io_imports_only_errors_and_atomic():
    allowed = ("sigrestore.io", "sigrestore.errors", "sigrestore.atomic")
    for path in _files("io"):
        bad = {m for m in _package_imports(path) if not m.startswith(allowed)}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


@pytest.mark.parametrize("part", COMPUTATION)
def test_computation_never_imports_plotting_snakemake_or_config(part):
    for path in _files(part):
        imports = _imports(path)
        bad = {
            m
            for m in imports
            if m.startswith(("sigrestore.plotting", "snakemake", "sigrestore.config"))
            or m.startswith("sigrestore.pipeline")
            or m in ("matplotlib.pyplot",)
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_plotting_imports_no_computation_glue_or_workflow():
    for path in _files("plotting"):
        bad = {
            m
            for m in _imports(path)
            if m.startswith(("snakemake", "sigrestore.config", "sigrestore.pipeline"))
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


#: The one module that may use Snakemake: ``sigrestore run`` runs the workflow
#: through Snakemake's API (issue 15), importing it inside the function that does.
SNAKEMAKE_LAUNCHER = SRC / "frontend" / "run.py"


def test_nothing_in_the_package_imports_snakemake():
    for path in _files("."):
        if path == SNAKEMAKE_LAUNCHER:
            continue
        bad = {m for m in _imports(path) if m.startswith("snakemake")}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_the_launcher_imports_snakemake_only_when_it_runs():
    """Importing sigrestore.frontend.run (hence ``sigrestore --help``) needs no Snakemake."""
    tree = ast.parse(SNAKEMAKE_LAUNCHER.read_text(encoding="utf-8"))
    top_level = set()
    for node in tree.body:  # module-level statements only, not function bodies
        if isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top_level.add(node.module or "")
    assert not {m for m in top_level if m.startswith("snakemake")}
    assert any(m.startswith("snakemake") for m in _imports(SNAKEMAKE_LAUNCHER))


def test_the_check_itself_sees_imports(tmp_path):
    """The import scanner finds absolute, relative and function-level imports."""
    module = SRC / "plotting" / "samples.py"
    assert "sigrestore.plotting.save.save_figure" in _imports(module)
    assert "sigrestore.preprocess.qc" in _imports(SRC / "preprocess" / "qcdata.py")
    assert "sigrestore.config.comparison_spec" in _imports(SRC / "pipeline.py")


# --------------------------------------------------------------------------- defaults


def _schema():
    return load_schema("config")["properties"]


def _same_defaults(cls, schema_properties, *, skip=()):
    """Every dataclass field with a default equals the schema default of the same key."""
    compared = 0
    for f in dataclasses.fields(cls):
        if f.name in skip or f.name not in schema_properties:
            continue
        default = schema_properties[f.name].get("default")
        if default is None:  # null: "inherit" (resolved from another key)
            continue
        value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(value):
            continue
        if isinstance(value, tuple):  # frozen dataclasses hold the schema's lists as tuples
            value = list(value)
        assert value == default, f"{cls.__name__}.{f.name} = {value!r}, schema {default!r}"
        compared += 1
    assert compared, f"no default of {cls.__name__} was compared"


def test_de_defaults_equal_the_schema():
    from sigrestore.diffexp import DESettings, ExpressionFilter, LimmaOptions

    de = _schema()["differential_expression"]["properties"]
    _same_defaults(LimmaOptions, de)
    _same_defaults(DESettings, de)
    _same_defaults(ExpressionFilter, de["filter"]["properties"])


def test_restoration_defaults_equal_the_schema():
    from sigrestore.restoration.spec import (
        BootstrapSettings,
        CallThresholds,
        ConnectivitySettings,
        CorrectedSettings,
        SensitivityGrid,
        SignatureThresholds,
    )

    entry = _schema()["comparisons"]["items"]["properties"]
    _same_defaults(SignatureThresholds, entry)
    _same_defaults(CallThresholds, entry["calls"]["properties"]["restoration"]["properties"])
    _same_defaults(BootstrapSettings, entry["bootstrap"]["properties"])
    _same_defaults(ConnectivitySettings, entry["connectivity"]["properties"])
    _same_defaults(CorrectedSettings, entry["corrected"]["properties"])
    _same_defaults(SensitivityGrid, entry["sensitivity"]["properties"])
    # The null seeds mean "the config's seed": the package's default is its default.
    seed = _schema()["seed"]["default"]
    assert BootstrapSettings().seed == ConnectivitySettings().seed == seed
    assert CorrectedSettings().seed == seed


def test_enrichment_and_connectivity_function_defaults_equal_the_schema():
    import inspect

    from sigrestore.enrichment import EnrichmentSettings, enrichment_tables, prerank
    from sigrestore.restoration import connectivity_score

    schema = _schema()
    _same_defaults(EnrichmentSettings, schema["enrichment"]["properties"])
    assert EnrichmentSettings().seed == schema["seed"]["default"]
    for fn in (prerank, enrichment_tables):
        params = inspect.signature(fn).parameters
        for key in ("permutations", "min_size", "max_size"):
            assert params[key].default == schema["enrichment"]["properties"][key]["default"]
        assert params["seed"].default == schema["seed"]["default"]
    conn = schema["comparisons"]["items"]["properties"]["connectivity"]["properties"]
    params = inspect.signature(connectivity_score).parameters
    assert params["permutations"].default == conn["permutations"]["default"]


def test_source_defaults_equal_the_schema():
    from sigrestore.sources import affymetrix

    schema = _schema()
    _same_defaults(affymetrix.Settings, schema["platform"]["properties"])
    _same_defaults(affymetrix.Settings, schema["normalization"]["properties"])
    assert schema["data"]["properties"]["source"]["default"] == affymetrix.KIND


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("geo", "GeoSettings"),
        ("counts", "CountsSettings"),
        ("illumina", "IlluminaSettings"),
        ("agilent", "AgilentSettings"),
    ],
)
def test_matrix_source_defaults_equal_the_schema(kind, cls):
    import importlib

    from sigrestore.sources import SOURCES, source_module

    module = importlib.import_module(SOURCES[kind])
    settings = getattr(module, cls)
    assert source_module(kind).Settings is settings and kind == module.KIND
    data = _schema()["data"]["properties"]
    assert kind in data["source"]["enum"]
    branch = data[kind]["properties"]
    # Every option of the source is a key of its branch, and back (the
    # workflow's threads are the rule's, not a config key).
    fields = {f.name for f in dataclasses.fields(settings)} - {"threads"}
    assert fields == set(branch), kind
    _same_defaults(settings, branch)
    for name, prop in branch.items():
        assert prop.get("description"), f"data.{kind}.{name} has no description"
        assert "default" in prop, f"data.{kind}.{name} has no default"


def test_the_schema_defaults_make_each_source_s_settings():
    """A branch filled with its schema defaults gives the dataclass defaults."""
    from sigrestore.sources import source_module

    data = _schema()["data"]["properties"]
    required = {
        "geo": {"accession": "GSE999999"},
        "counts": {"table": "counts.tsv"},
        "illumina": {"probe_profile": "profile.txt"},
        "agilent": {},
    }
    for kind, given in required.items():
        branch = {k: p["default"] for k, p in data[kind]["properties"].items()} | given
        config = {"data": {"source": kind, kind: branch}, "design": {"factors": ["a"]}}
        module = source_module(kind)
        settings = module.settings_from_config(config)
        fields = {f.name: f for f in dataclasses.fields(module.Settings)}
        for key, default in branch.items():
            if key in given or default is None:
                continue
            value = getattr(settings, key)
            assert value == default or (isinstance(value, tuple) and list(value) == default), (
                kind,
                key,
            )
            assert fields[key].default == value or isinstance(value, tuple)


def test_config_seed_fallback_is_the_schema_default():
    from sigrestore.config.settings import DEFAULT_SEED

    assert _schema()["seed"]["default"] == DEFAULT_SEED


def test_qc_panel_cap_default_equals_the_schema():
    from sigrestore.plotting.selection import PanelCap

    _same_defaults(PanelCap, _schema()["qc"]["properties"])


def test_figure_formats_default_equals_the_schema():
    from sigrestore.config.settings import Settings
    from sigrestore.plotting.save import DEFAULT_FIGURE_FORMATS, FIGURE_FORMATS

    formats = _schema()["figures"]["properties"]["formats"]
    assert tuple(formats["default"]) == DEFAULT_FIGURE_FORMATS
    assert Settings.__dataclass_fields__["figure_formats"].default == DEFAULT_FIGURE_FORMATS
    assert tuple(formats["items"]["enum"]) == FIGURE_FORMATS
