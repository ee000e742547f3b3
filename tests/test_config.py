"""Config and sample-sheet validation: every bad input gives a ConfigError naming it."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sigrestore.config import (
    check_config,
    comparison_level,
    comparison_spec,
    contrast_terms,
    load_config,
    load_schema,
    read_config,
    read_sample_sheet,
)
from sigrestore.errors import ConfigError
from sigrestore.io import read_cdf, write_cdf, write_cel
from sigrestore.simulate.chip import make_layout, synthesize_arrays
from sigrestore.simulate.experiment import example_files

REPO = Path(__file__).resolve().parents[1]

GROUPS = [("sens", "veh"), ("sens", "drug"), ("res", "veh"), ("res", "drug")]


def _write_chip(directory: Path, chip_type: str, names: list[str], *, seed: int = 0) -> list[Path]:
    cdf = make_layout(12, probes_per_set=3, chip_type=chip_type, seed=seed)
    expr = np.random.default_rng(seed).uniform(5, 10, (12, len(names)))
    arrays = synthesize_arrays(cdf, expr, seed=seed, names=names)
    paths = []
    for i, (name, data) in enumerate(zip(names, arrays, strict=True)):
        path = directory / f"{name}.CEL" if i % 2 else directory / f"{name}.CEL.gz"
        write_cel(path, data, format="xda-v4" if i % 3 else "text-v3")
        paths.append(path)
    write_cdf(directory / f"{chip_type}.CDF", cdf, format="ascii")
    return paths


@pytest.fixture()
def dataset(tmp_path: Path):
    """A small valid dataset: 8 arrays (4 groups x 2), CDF, sheet and config."""
    raw = tmp_path / "raw"
    raw.mkdir()
    names = [f"{c}_{t}_{r}" for c, t in GROUPS for r in (1, 2)]
    paths = _write_chip(raw, "TinyChip", names)
    sheet = pd.DataFrame(
        {
            "sample": names,
            "file": [f"../raw/{p.name}" for p in paths],
            "cell_line": [n.split("_")[0] for n in names],
            "treatment": [n.split("_")[1] for n in names],
            "batch": ["b1", "b2"] * 4,
        }
    )
    (tmp_path / "config").mkdir()
    sheet.to_csv(tmp_path / "config" / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "config/samples.tsv",
        "platform": {"cdf": "raw/TinyChip.CDF"},
        "design": {"factors": ["cell_line", "treatment"]},
        "contrasts": {
            "drug_sens": "sens_drug - sens_veh",
            "drug_res": "res_drug - res_veh",
            "interaction": "(res_drug - res_veh) - (sens_drug - sens_veh)",
        },
        "comparisons": [{"name": "cmp", "reference": "drug_sens", "restoration": "drug_res"}],
        "gene_sets": [],
    }
    return tmp_path, config


def _load(tmp_path: Path, config: dict, **kwargs):
    path = tmp_path / "config" / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, workdir=tmp_path, **kwargs)


def _sheet(tmp_path: Path) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "config" / "samples.tsv", sep="\t", dtype=str)


def _save_sheet(tmp_path: Path, sheet: pd.DataFrame) -> None:
    sheet.to_csv(tmp_path / "config" / "samples.tsv", sep="\t", index=False)


def _edit_sheet(tmp_path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of the dataset's sample sheet."""
    sheet = _sheet(tmp_path)
    sheet.loc[row, column] = value
    _save_sheet(tmp_path, sheet)


# --------------------------------------------------------------------------- valid input


def test_valid_dataset_loads_with_defaults_and_groups(dataset):
    tmp_path, config = dataset
    exp = _load(tmp_path, config)
    assert exp.config["normalization"]["method"] == "rma"
    assert exp.config["comparisons"][0]["fdr"] == 0.05
    assert exp.config["seed"] == 20080601
    assert list(exp.samples["group"].unique()) == ["sens_veh", "sens_drug", "res_veh", "res_drug"]
    assert all(Path(p).is_absolute() or Path(p).exists() for p in exp.samples["path"])


def test_bundled_config_is_valid_before_the_example_exists(tmp_path):
    # The example's raw files are created by a rule: they are pending, not missing.
    pending = [REPO / p for p in example_files("resources/example").all()]
    exp = load_config(REPO / "config" / "config.yaml", workdir=REPO, pending=pending)
    assert len(exp.samples) == 24
    assert exp.samples.groupby("group").size().eq(3).all()
    spec = comparison_spec(exp.config["comparisons"][0], seed=exp.config["seed"])
    assert spec.bootstrap.seed == exp.config["seed"]


def test_pending_files_skip_only_themselves(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    os.remove(tmp_path / "config" / sheet["file"][0])
    missing = os.path.normpath(tmp_path / "config" / sheet["file"][0])
    _load(tmp_path, config, pending=[missing])
    with pytest.raises(ConfigError, match="does not exist"):
        _load(tmp_path, config)


def test_pending_files_may_follow_from_the_config(dataset):
    # load_config reads the file once; a function of that config names the
    # files a rule will create (sigrestore check: the example's raw files).
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    os.remove(tmp_path / "config" / sheet["file"][0])
    missing = os.path.normpath(tmp_path / "config" / sheet["file"][0])
    seen = []

    def pending(read):
        seen.append(read)
        return [missing]

    _load(tmp_path, config, pending=pending)
    assert len(seen) == 1 and seen[0]["samples"] == config["samples"]


# --------------------------------------------------------------------------- schema


def test_schemas_describe_and_default_every_key():
    def walk(schema, where):
        for key, sub in schema.get("properties", {}).items():
            assert "description" in sub, f"{where}.{key} has no description"
            assert "default" in sub, f"{where}.{key} has no default"
            walk(sub, f"{where}.{key}")
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]")

    for name in ("config", "samples"):
        schema = load_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        walk(schema, name)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.update(colour="red"), "Additional properties"),
        (lambda c: c["comparisons"][0].update(fdr=2), "comparisons.0.fdr"),
        (lambda c: c["comparisons"][0].pop("reference"), "'reference' is a required"),
        (lambda c: c.update(normalization={"method": "mas5"}), "normalization.method"),
        (lambda c: c["design"].update(factors="cell_line"), "design.factors"),
        (lambda c: c.pop("contrasts"), "at least one contrast"),
        (lambda c: c.update(seed="abc"), "key seed"),
    ],
)
def test_schema_errors_name_the_key(dataset, mutate, message):
    tmp_path, config = dataset
    bad = copy.deepcopy(config)
    mutate(bad)
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, bad)


def test_config_that_is_not_yaml_mapping(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        read_config(path)
    path.write_text("samples: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_config(path)


# --------------------------------------------------------------------------- sample sheet


def test_sheet_missing_column(dataset):
    tmp_path, config = dataset
    _save_sheet(tmp_path, _sheet(tmp_path).drop(columns="file"))
    with pytest.raises(ConfigError, match="required column 'file'"):
        _load(tmp_path, config)


def test_sheet_bad_sample_name_names_the_row(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, 3, "sample", "3 bad name")
    with pytest.raises(ConfigError, match=r"row 4 \(line 5\)"):
        _load(tmp_path, config)


def test_sheet_does_not_exist(dataset):
    tmp_path, config = dataset
    with pytest.raises(ConfigError, match="does not exist"):
        _load(tmp_path, {**config, "samples": "config/nope.tsv"})


def test_duplicate_sample_names(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    sheet.loc[5, "sample"] = sheet.loc[1, "sample"]
    _save_sheet(tmp_path, sheet)
    with pytest.raises(ConfigError, match=r"sample names must be unique: 'sens_veh_2' in row 2"):
        _load(tmp_path, config)


def test_duplicate_file_base_names(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    # Same scan in another directory (and gzipped): same base name.
    other = tmp_path / "copy"
    other.mkdir()
    src = tmp_path / "config" / sheet.loc[0, "file"]
    target = other / (Path(sheet.loc[0, "file"]).name.removesuffix(".gz"))
    target.write_bytes(src.read_bytes())
    sheet.loc[1, "file"] = f"../copy/{target.name}"
    _save_sheet(tmp_path, sheet)
    with pytest.raises(ConfigError, match=r"file base names must be unique.*row 1.*row 2"):
        _load(tmp_path, config)


def test_all_missing_files_in_one_error(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    for i in (2, 6):
        os.remove(tmp_path / "config" / sheet.loc[i, "file"])
    config = {**config, "gene_sets": ["sets/missing.gmt"]}
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, config)
    text = str(err.value)
    assert "3 input file(s) missing" in text
    assert "row 3 (line 4) (sample 'sens_drug_1')" in text
    assert "row 7 (line 8) (sample 'res_drug_1')" in text
    assert "gene_sets[0]" in text


def test_missing_cdf_and_annotation(dataset):
    tmp_path, config = dataset
    config = {**config, "platform": {"cdf": "raw/Other.CDF", "annotation": "raw/ann.csv"}}
    with pytest.raises(ConfigError, match=r"(?s)platform.cdf.*platform.annotation"):
        _load(tmp_path, config)


def test_directory_instead_of_file(dataset):
    tmp_path, config = dataset
    config = {**config, "platform": {"cdf": "raw"}}
    with pytest.raises(ConfigError, match="is a directory"):
        _load(tmp_path, config)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(dataset):
    tmp_path, config = dataset
    path = tmp_path / "config" / _sheet(tmp_path).loc[0, "file"]
    path.chmod(0)
    try:
        with pytest.raises(ConfigError, match="not readable"):
            _load(tmp_path, config)
    finally:
        path.chmod(0o644)


def test_design_column_missing(dataset):
    tmp_path, config = dataset
    config = {**config, "design": {"factors": ["cell_line", "dose"]}}
    with pytest.raises(ConfigError, match=r"design.factors: column 'dose'"):
        _load(tmp_path, config)
    config = {**config, "design": {"factors": ["cell_line"], "block": "pair"}}
    with pytest.raises(ConfigError, match=r"design.block: column 'pair'"):
        _load(tmp_path, config)


def test_empty_factor_value(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, 4, "treatment", "")
    with pytest.raises(ConfigError, match=r"column 'treatment' is empty in row 5"):
        _load(tmp_path, config)


# --------------------------------------------------------------------------- contrasts


def test_contrast_with_unknown_group(dataset):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["contrasts"]["drug_res"] = "res_drugs - res_veh"
    with pytest.raises(ConfigError, match=r"contrasts.drug_res: group\(s\) \['res_drugs'\]"):
        _load(tmp_path, config)


@pytest.mark.parametrize("expression", ["a ** b", "__import__('os')", "a -", "a < b", "2 - 1"])
def test_contrast_that_is_not_linear_arithmetic(expression):
    with pytest.raises(ConfigError, match="contrast 'c'"):
        contrast_terms("c", expression)


def test_contrast_terms():
    assert contrast_terms("c", "(a + b)/2 - c_1") == {"a", "b", "c_1"}


@pytest.mark.parametrize(
    ("rows", "levels"),
    [
        # Two spellings of one cell line that clean up to the same group name.
        ([0, 1], ("sens-x", "drug")),
        # Levels whose "_" join collides with another combination's.
        ([0, 1], ("sens_drug", "")),
    ],
)
def test_level_combinations_that_make_the_same_group(dataset, rows, levels):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    if levels[1]:
        sheet.loc[rows, ["cell_line", "treatment"]] = levels
        sheet.loc[[2, 3], ["cell_line", "treatment"]] = ("sens.x", "drug")
    else:
        sheet["extra"] = "veh"
        sheet.loc[rows, ["cell_line", "treatment"]] = ("sens_drug", "veh")
        sheet.loc[[2, 3], ["cell_line", "treatment"]] = ("sens", "drug_veh")
    _save_sheet(tmp_path, sheet)
    with pytest.raises(ConfigError, match=r"design\.factors.*both"):
        _load(tmp_path, config)


def test_group_with_one_array(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, 7, "treatment", "other")  # res_drug keeps a single array
    with pytest.raises(ConfigError, match=r"at least two arrays.*res_drug has 1"):
        _load(tmp_path, config)


def test_unused_small_group_is_fine(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, 7, "treatment", "other")
    config = {**config, "contrasts": {"drug_sens": "sens_drug - sens_veh"}}
    config["comparisons"] = [{"name": "c", "reference": "drug_sens", "restoration": "drug_sens"}]
    _load(tmp_path, config)


def test_no_contrast(dataset):
    tmp_path, config = dataset
    with pytest.raises(ConfigError, match="at least one contrast"):
        _load(tmp_path, {**config, "contrasts": {}, "comparisons": []})


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize("role", ["reference", "restoration", "resistance", "modulator"])
def test_comparison_naming_unknown_contrast(dataset, role):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"][0][role] = "nope"
    with pytest.raises(ConfigError, match=rf"comparisons\[0\].{role} .*contrast 'nope'"):
        _load(tmp_path, config)


def test_duplicate_comparison_names(dataset):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"].append(dict(config["comparisons"][0]))
    with pytest.raises(ConfigError, match=r"names \['cmp'\] are used more than once"):
        _load(tmp_path, config)


def test_comparison_method_top_needs_top_n(dataset):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"][0]["method"] = "top"
    with pytest.raises(ConfigError, match="top_n"):
        _load(tmp_path, config)


def test_treat_signature_needs_treat_tables(dataset):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"][0].update(method="treat", lfc=1.0)
    with pytest.raises(ConfigError, match=r"treat_lfc equal to its lfc \(1.0\), got 0"):
        _load(tmp_path, config)
    config["differential_expression"] = {"treat_lfc": 1.0}
    _load(tmp_path, config)


# --------------------------------------------------------------------------- chip types


def test_cel_files_of_two_chip_types(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    (other,) = _write_chip(tmp_path / "raw", "OtherChip", ["intruder"], seed=3)
    sheet.loc[2, "file"] = f"../raw/{other.name}"
    _save_sheet(tmp_path, sheet)
    with pytest.raises(ConfigError, match=r"more than one chip type.*OtherChip: sens_drug_1"):
        _load(tmp_path, config)


def test_cel_chip_type_differs_from_cdf(dataset):
    tmp_path, config = dataset
    _write_chip(tmp_path / "raw", "OtherChip", ["x"], seed=3)
    config = {**config, "platform": {"cdf": "raw/OtherChip.CDF"}}
    with pytest.raises(ConfigError, match="chip type 'OtherChip' but the CEL files are 'TinyChip'"):
        _load(tmp_path, config)


def test_corrupt_cel_names_the_row(dataset):
    tmp_path, config = dataset
    sheet = _sheet(tmp_path)
    (tmp_path / "config" / sheet.loc[1, "file"]).write_bytes(b"<html>not a CEL</html>")
    with pytest.raises(ConfigError, match=r"row 2 \(line 3\) \(sample 'sens_veh_2'\)"):
        _load(tmp_path, config)


def test_chip_check_can_be_skipped(dataset):
    tmp_path, config = dataset
    _write_chip(tmp_path / "raw", "OtherChip", ["x"], seed=3)
    config = {**config, "platform": {"cdf": "raw/OtherChip.CDF"}}
    _load(tmp_path, config, check_chip=False)


def test_check_config_direct_call(dataset):
    tmp_path, config = dataset
    full = read_config_from(tmp_path, config)
    samples = read_sample_sheet(tmp_path / "config" / "samples.tsv")
    checked = check_config(full, samples, check_files=False, check_chip=False)
    assert "group" in checked.samples


def read_config_from(tmp_path: Path, config: dict) -> dict:
    path = tmp_path / "config" / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return read_config(path)


# --------------------------------------------------------------------------- comparison level


def _with_annotation(tmp_path: Path, config: dict) -> dict:
    # The annotation of the chip's own probe sets (another platform's is an error).
    names = read_cdf(tmp_path / "raw" / "TinyChip.CDF").probeset_names
    rows = "".join(f"{name}\tG{i}\n" for i, name in enumerate(names))
    (tmp_path / "raw" / "annot.tsv").write_text("ID\tGene Symbol\n" + rows)
    config["platform"]["annotation"] = "raw/annot.tsv"
    return config


def test_level_defaults_to_gene_with_an_annotation_else_probeset(dataset):
    tmp_path, config = dataset
    exp = _load(tmp_path, config)
    assert exp.config["comparisons"][0]["level"] is None  # schema default: "resolve"
    entry = exp.config["comparisons"][0]
    assert comparison_spec(entry, seed=1).level == "probeset"
    exp = _load(tmp_path, _with_annotation(tmp_path, config))
    assert comparison_spec(entry, seed=1, has_annotation=True).level == "gene"
    assert comparison_level({"level": "probeset"}, has_annotation=True) == "probeset"


def test_gene_level_without_annotation_names_the_key(dataset):
    tmp_path, config = dataset
    config["comparisons"][0]["level"] = "gene"
    with pytest.raises(ConfigError, match=r"comparisons\[0\]\.level.*platform\.annotation"):
        _load(tmp_path, config)
    with pytest.raises(ConfigError, match=r"level.*platform\.annotation"):
        comparison_spec(config["comparisons"][0], seed=1)
    _load(tmp_path, _with_annotation(tmp_path, config))  # fine with one


def test_gene_level_needs_a_collapse_method(dataset):
    tmp_path, config = dataset
    config = _with_annotation(tmp_path, config)
    config["differential_expression"] = {"collapse": "none"}
    with pytest.raises(ConfigError, match=r"comparisons\[0\]\.level.*collapse"):
        _load(tmp_path, config)
    config["comparisons"][0]["level"] = "probeset"
    _load(tmp_path, config)


def test_unknown_level_is_rejected_by_the_schema(dataset):
    tmp_path, config = dataset
    config["comparisons"][0]["level"] = "transcript"
    with pytest.raises(ConfigError, match=r"comparisons\.0\.level"):
        _load(tmp_path, config)


# --------------------------------------------------------------------------- expression filter


def test_expression_filter_is_off_by_default(dataset):
    tmp_path, config = dataset
    exp = _load(tmp_path, config)
    assert exp.config["differential_expression"]["filter"] == {
        "enabled": False,
        "min_expr": 4.0,
        "min_samples": None,
    }
    bundled = read_config(REPO / "config" / "config.yaml")
    assert bundled["differential_expression"]["filter"]["enabled"] is False


def test_expression_filter_values_are_accepted(dataset):
    tmp_path, config = dataset
    config["differential_expression"] = {
        "filter": {"enabled": True, "min_expr": 5, "min_samples": 8}
    }
    exp = _load(tmp_path, config)
    assert exp.config["differential_expression"]["filter"]["min_samples"] == 8
    config["differential_expression"] = {"filter": {"enabled": True}}
    exp = _load(tmp_path, config)
    assert exp.config["differential_expression"]["filter"]["min_expr"] == 4.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"enabled": "yes"}, r"key differential_expression\.filter\.enabled: 'yes' is not"),
        ({"min_expr": "low"}, r"key differential_expression\.filter\.min_expr: 'low' is not"),
        ({"min_samples": 0}, r"key differential_expression\.filter\.min_samples: 0 is less"),
        ({"min_samples": 2.5}, r"key differential_expression\.filter\.min_samples: 2\.5 is not"),
        ({"min_count": 2}, r"key differential_expression\.filter: Additional properties"),
        (
            {"min_samples": 9},
            r"differential_expression\.filter\.min_samples: must be between 1 and the number"
            r" of arrays \(8\), got 9",
        ),
        (
            {"enabled": False, "min_samples": 9},  # checked even when off
            r"differential_expression\.filter\.min_samples",
        ),
        ({"min_expr": float("nan")}, r"differential_expression\.filter\.min_expr: must be finite"),
        ({"min_expr": float("inf")}, r"differential_expression\.filter\.min_expr: must be finite"),
    ],
)
def test_expression_filter_errors_name_the_key(dataset, options, message):
    tmp_path, config = dataset
    config["differential_expression"] = {"filter": {"enabled": True, **options}}
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, config)


# --------------------------------------------------------------------------- regressions (issue 11)


@pytest.mark.parametrize("expression", ["res_drug * res_veh", "res_drug / res_veh"])
def test_nonlinear_contrast_fails_at_validation_not_in_the_job(dataset, expression):
    """config.py's own parser accepted products and quotients of groups that the DE
    step's parser rejects; the config check now uses the DE step's grammar."""
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["contrasts"]["drug_res"] = expression
    with pytest.raises(ConfigError, match=r"contrasts\.drug_res: contrast 'drug_res'.*not linear"):
        _load(tmp_path, config)


def test_gzipped_cdf_without_gz_suffix_passes_the_chip_check(dataset):
    """The chip check detected gzip by suffix while the reader uses magic bytes: a
    gzipped ASCII CDF named .CDF failed with a false chip-type mismatch."""
    import gzip

    tmp_path, config = dataset
    cdf = tmp_path / "raw" / "TinyChip.CDF"
    cdf.write_bytes(gzip.compress(cdf.read_bytes()))
    exp = _load(tmp_path, config)
    assert len(exp.samples) == 8


def test_cdf_chip_type_follows_the_readers(tmp_path):
    """Chip type of ASCII and XDA CDFs, plain or gzipped, is the reader's: the [Chip]
    name of an ASCII CDF, the file name of an XDA CDF of a version that stores none."""
    import gzip

    from sigrestore.config import cdf_chip_type
    from sigrestore.io import read_cdf

    layout = make_layout(6, probes_per_set=2, chip_type="Chip-A_1", seed=0)
    for fmt in ("ascii", "xda"):
        path = tmp_path / f"renamed.{fmt}.cdf"
        write_cdf(path, layout, format=fmt)
        zipped = tmp_path / f"zipped.{fmt}.CDF"
        zipped.write_bytes(gzip.compress(path.read_bytes()))
        for p, stem in ((path, "renamed"), (zipped, "zipped")):
            expected = "Chip-A_1" if fmt == "ascii" else stem
            assert cdf_chip_type(p) == read_cdf(p).chip_type == expected


def test_nested_signature_block_is_accepted_by_the_schema(dataset):
    """The nested signature: block that ComparisonSpec and docs/restoration.md call
    canonical was rejected by the workflow schema."""
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"][0]["signature"] = {"fdr": 0.1, "lfc": 0.5, "method": "threshold"}
    exp = _load(tmp_path, config)
    spec = exp.settings.comparison("cmp")
    assert (spec.signature.fdr, spec.signature.lfc) == (0.1, 0.5)
    # Calls inherit the nested fdr, as they inherit a top-level one.
    assert spec.restoration_call.fdr == 0.1
    # A top-level key set to another non-default value conflicts.
    config["comparisons"][0]["fdr"] = 0.2
    with pytest.raises(ConfigError, match="both at top level"):
        _load(tmp_path, config)


def test_check_config_returns_typed_settings(dataset):
    """One resolution: DE settings, specs (seeds resolved), enrichment, source."""
    from sigrestore.diffexp import DESettings
    from sigrestore.enrichment import EnrichmentSettings
    from sigrestore.restoration import ComparisonSpec
    from sigrestore.sources import affymetrix

    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["seed"] = 7
    config["differential_expression"] = {"trend": True, "filter": {"enabled": True}}
    settings = _load(tmp_path, config).settings
    assert isinstance(settings.de, DESettings)
    assert settings.de.limma.trend and settings.de.filter.enabled
    assert settings.de.design.factors == ("cell_line", "treatment")
    (spec,) = settings.comparisons
    assert isinstance(spec, ComparisonSpec)
    assert spec.bootstrap.seed == spec.connectivity.seed == spec.corrected.seed == 7
    assert spec.level == "probeset"
    assert settings.enrichment == EnrichmentSettings(seed=7)
    assert settings.source == "affymetrix"
    assert isinstance(settings.source_settings, affymetrix.Settings)
    assert settings.source_settings.cdf == str(tmp_path / "raw" / "TinyChip.CDF")


def test_corrected_and_sensitivity_sections_resolve_through_the_config(dataset):
    """The comparison's corrected/sensitivity keys reach its spec; bad ones name the key."""
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    config["comparisons"][0]["corrected"] = {"seed": 5, "resamples": 10}
    config["comparisons"][0]["sensitivity"] = {"signature_lfc": [1, 0]}
    (spec,) = _load(tmp_path, config).settings.comparisons
    assert spec.corrected.seed == 5 and spec.corrected.resamples == 10
    assert spec.sensitivity.signature_lfc == (0.0, 1.0)
    config["comparisons"][0]["sensitivity"] = {"restoration_fdr": [0.05, 2]}
    with pytest.raises(ConfigError, match="restoration_fdr"):
        _load(tmp_path, config)


def test_data_block_selects_the_source_and_overrides_platform(dataset):
    tmp_path, config = dataset
    config = copy.deepcopy(config)
    from sigrestore.io import read_cdf

    # An annotation of another platform under data.affymetrix is refused at
    # validation like one under platform: (issue 15: the CDF's probe sets).
    (tmp_path / "raw" / "annot.tsv").write_text("ID\tGene Symbol\nps1\tA\n")
    config["data"] = {"source": "affymetrix", "affymetrix": {"annotation": "raw/annot.tsv"}}
    with pytest.raises(ConfigError, match=r"annot\.tsv: only 0\.0%"):
        _load(tmp_path, config)
    names = read_cdf(tmp_path / "raw" / "TinyChip.CDF").probeset_names
    rows = "".join(f"{name}\tG{i}\n" for i, name in enumerate(names))
    (tmp_path / "raw" / "annot.tsv").write_text("ID\tGene Symbol\n" + rows)
    settings = _load(tmp_path, config).settings
    assert settings.source_settings.annotation == str(tmp_path / "raw" / "annot.tsv")
    assert settings.source_settings.cdf == str(tmp_path / "raw" / "TinyChip.CDF")
    assert settings.has_annotation
    config["data"] = {"source": "nanostring"}
    with pytest.raises(ConfigError, match=r"data\.source"):
        _load(tmp_path, config)


# --------------------------------------------------------------------------- QC panel cap


def test_qc_panel_cap_is_typed_from_the_config(dataset):
    from sigrestore.plotting.selection import PanelCap

    tmp_path, config = dataset
    full = read_config_from(tmp_path, config)
    samples = read_sample_sheet(tmp_path / "config" / "samples.tsv")
    checked = check_config(full, samples, check_files=False, check_chip=False)
    assert checked.qc == PanelCap()  # the schema default
    full = read_config_from(tmp_path, {**config, "qc": {"max_panels": 12}})
    checked = check_config(full, samples, check_files=False, check_chip=False)
    assert checked.qc == PanelCap(max_panels=12)


@pytest.mark.parametrize(
    ("qc", "message"),
    [({"max_panels": 0}, "qc.max_panels"), ({"max_panel": 12}, "Additional properties")],
)
def test_qc_panel_cap_errors_name_the_key(dataset, qc, message):
    tmp_path, config = dataset
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, {**config, "qc": qc})


# --------------------------------------------------------------------------- figure formats


def test_figure_formats_default_to_png_and_put_png_first(dataset):
    tmp_path, config = dataset
    samples = read_sample_sheet(tmp_path / "config" / "samples.tsv")
    full = read_config_from(tmp_path, config)
    assert check_config(full, samples, check_files=False, check_chip=False).figure_formats == (
        "png",
    )
    full = read_config_from(tmp_path, {**config, "figures": {"formats": ["svg", "png", "pdf"]}})
    checked = check_config(full, samples, check_files=False, check_chip=False)
    assert checked.figure_formats == ("png", "svg", "pdf")


@pytest.mark.parametrize(
    "formats", [["svg"], ["png", "jpg"], ["png", "png"], []], ids=["no-png", "jpg", "twice", "none"]
)
def test_figure_format_errors_name_the_key(dataset, formats):
    tmp_path, config = dataset
    with pytest.raises(ConfigError, match=r"figures\.formats"):
        _load(tmp_path, {**config, "figures": {"formats": formats}})
