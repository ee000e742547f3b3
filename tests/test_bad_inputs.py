"""Issue 15: every bad input a new user tried stops before any job with a message naming
the file, line, key or samples -- or, for numeric covariates, gives R's model.

Each test is one case of docs/errors.md (case -> message); keep the two in step.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sigrestore.config import load_config, read_sample_sheet
from sigrestore.errors import ConfigError, DesignError
from sigrestore.io import write_cdf, write_cel
from sigrestore.simulate.chip import make_layout, synthesize_arrays

GROUPS = [("sens", "veh"), ("sens", "drug"), ("res", "veh"), ("res", "drug")]


@pytest.fixture()
def dataset(tmp_path: Path):
    """8 arrays (4 groups x 2) of a 12-probe-set chip, a sheet, an annotation and a config."""
    raw = tmp_path / "raw"
    raw.mkdir()
    names = [f"{c}_{t}_{r}" for c, t in GROUPS for r in (1, 2)]
    cdf = make_layout(12, probes_per_set=3, chip_type="TinyChip", seed=0)
    expr = np.random.default_rng(0).uniform(5, 10, (12, len(names)))
    for name, data in zip(names, synthesize_arrays(cdf, expr, seed=0, names=names), strict=True):
        write_cel(raw / f"{name}.CEL", data, format="xda-v4")
    write_cdf(raw / "TinyChip.CDF", cdf, format="ascii")
    annotation = pd.DataFrame(
        {"ID": cdf.probeset_names, "Gene Symbol": [f"G{i}" for i in range(12)]}
    )
    annotation.to_csv(raw / "annot.tsv", sep="\t", index=False)
    (raw / "sets.gmt").write_text("SET1\tdesc\tG1\tG2\tG3\nSET2\tdesc\tG4\tG5\n")
    sheet = pd.DataFrame(
        {
            "sample": names,
            "file": [f"../raw/{n}.CEL" for n in names],
            "cell_line": [n.split("_")[0] for n in names],
            "treatment": [n.split("_")[1] for n in names],
            "rin": ["7.1", "8.0", "6.5", "9.2", "7.7", "8.8", "6.9", "7.3"],
        }
    )
    (tmp_path / "config").mkdir()
    sheet.to_csv(tmp_path / "config" / "samples.tsv", sep="\t", index=False)
    config = {
        "samples": "config/samples.tsv",
        "platform": {"cdf": "raw/TinyChip.CDF", "annotation": "raw/annot.tsv"},
        "design": {"factors": ["cell_line", "treatment"]},
        "contrasts": {"drug_sens": "sens_drug - sens_veh", "drug_res": "res_drug - res_veh"},
        "comparisons": [{"name": "cmp", "reference": "drug_sens", "restoration": "drug_res"}],
        "gene_sets": ["raw/sets.gmt"],
    }
    return tmp_path, config


def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config" / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _check(tmp_path: Path, config: dict):
    """The validation `sigrestore check` and the workflow run (before any job)."""
    from sigrestore.frontend.validate import validate_config

    return validate_config(_write(tmp_path, config), workdir=tmp_path)


def _edit_sheet(tmp_path: Path, **columns) -> None:
    path = tmp_path / "config" / "samples.tsv"
    sheet = pd.read_csv(path, sep="\t", dtype=str)
    for column, values in columns.items():
        sheet[column] = values
    sheet.to_csv(path, sep="\t", index=False)


def test_valid_dataset_passes_and_reports_group_sizes(dataset):
    tmp_path, config = dataset
    checked = _check(tmp_path, config)
    assert checked.sizes.to_dict() == {"res_drug": 2, "res_veh": 2, "sens_drug": 2, "sens_veh": 2}


# --------------------------------------------------------------------------- silent wrong results


@pytest.mark.parametrize(
    ("expression", "total"), [("sens_drug + sens_veh", "2"), ("sens_drug", "1")]
)
def test_contrast_that_is_not_a_difference_stops(dataset, expression, total):
    tmp_path, config = dataset
    config["contrasts"]["drug_sens"] = expression
    with pytest.raises(ConfigError, match=f"'drug_sens'.*sum to {total}, not 0") as err:
        _check(tmp_path, config)
    assert "allow_non_difference" in str(err.value)


def test_non_difference_allowed_when_the_config_says_so(dataset):
    tmp_path, config = dataset
    config["contrasts"]["mean_level"] = "(sens_drug + sens_veh)/2"
    config["checks"] = {"allow_non_difference": ["mean_level"]}
    _check(tmp_path, config)


def test_level_differing_only_by_case_stops_and_lists_samples(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, treatment=["veh", "Veh", "drug", "drug", "veh", "veh", "drug", "drug"])
    with pytest.raises(ConfigError, match=r"column 'treatment'.*'Veh': sens_veh_2") as err:
        _check(tmp_path, config)
    assert "'veh': sens_veh_1, res_veh_1, res_veh_2" in str(err.value)


@pytest.mark.parametrize("variant", ["drug-x", "DRUG_X", " drug_x"])
def test_level_spelling_variants(variant):
    from sigrestore.diffexp.checks import similar_levels

    sheet = pd.DataFrame({"sample": ["a", "b", "c"], "treatment": ["drug_x", variant, "veh"]})
    # (The sheet reader strips spaces; a table given from Python may still carry them.)
    found = similar_levels(sheet, ["treatment"])
    assert found == [("treatment", {"drug_x": ["a"], variant: ["b"]})]


def test_similar_levels_can_be_allowed(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, treatment=["veh", "veh", "drug", "drug", "Veh", "Veh", "drug", "drug"])
    config["contrasts"] = {"a": "sens_drug - sens_veh", "b": "res_drug - res_Veh"}
    config["comparisons"][0].update(reference="a", restoration="b")
    config["checks"] = {"allow_similar_levels": True}
    _check(tmp_path, config)


def test_signature_covering_more_than_half_the_universe_stops():
    from sigrestore.restoration import analyze_comparison

    ids = [f"g{i}" for i in range(10)]
    table = pd.DataFrame(
        {"logFC": [2.0] * 6 + [0.1] * 4, "t": 5.0, "P.Value": 1e-6, "adj.P.Val": 1e-5},
        index=ids,
    )
    spec = {
        "name": "cmp",
        "reference": "ref",
        "restoration": "res",
        "bootstrap": {"n": 0},
        "connectivity": {"permutations": 0},
    }
    with pytest.raises(DesignError, match=r"comparison 'cmp'.*6 of the 10 features \(60%\)"):
        analyze_comparison({"ref": table, "res": table}, spec)


# --------------------------------------------------------------------------- readable errors


def test_latin1_sheet_names_file_line_column_and_fix(dataset):
    tmp_path, _ = dataset
    path = tmp_path / "config" / "samples.tsv"
    text = path.read_text().replace("sens_veh_2\t", "sens_v\u00e9h_2\t", 1)
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        read_sample_sheet(path)
    message = str(err.value)
    assert str(path) in message and "line 3, column 7" in message and "0xe9" in message
    assert "save it as UTF-8" in message


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_sheet_with_bom_or_utf16_is_read(dataset, encoding):
    tmp_path, config = dataset
    path = tmp_path / "config" / "samples.tsv"
    path.write_bytes(path.read_text().encode(encoding))
    sheet = read_sample_sheet(path)
    assert list(sheet.columns[:2]) == ["sample", "file"]
    _check(tmp_path, config)


def test_yaml_syntax_error_names_file_line_and_column(dataset):
    from sigrestore.config import read_config

    tmp_path, _ = dataset
    path = tmp_path / "bad.yaml"
    path.write_text("samples: config/samples.tsv\ndesign:\n  factors: [cell_line, treatment\n")
    with pytest.raises(ConfigError, match=rf"{path}, line 4, column 1: not valid YAML"):
        read_config(path)


def test_yaml_key_given_twice_names_both_lines(tmp_path):
    from sigrestore.textio import read_yaml

    path = tmp_path / "dup.yaml"
    path.write_text("seed: 1\ncontrasts:\n  a: x - y\n  a: y - x\n")
    with pytest.raises(
        ConfigError, match=r"line 4, column 3.*'a' is given twice \(lines 3 and 4\)"
    ):
        read_yaml(path)


def test_results_is_a_file(dataset):
    tmp_path, config = dataset
    (tmp_path / "results").write_text("not a folder")
    with pytest.raises(ConfigError, match="results is a file"):
        _check(tmp_path, config)


def test_file_where_a_results_folder_should_be(dataset):
    tmp_path, config = dataset
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "diffexp").write_text("")
    with pytest.raises(ConfigError, match=r"results/diffexp is a file"):
        _check(tmp_path, config)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_results_folder(dataset):
    tmp_path, config = dataset
    (tmp_path / "results" / "qc").mkdir(parents=True)
    (tmp_path / "results" / "qc").chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=r"results/qc is a folder this user cannot write"):
            _check(tmp_path, config)
    finally:
        (tmp_path / "results" / "qc").chmod(0o755)


def test_read_only_results_folder_message(tmp_path, monkeypatch):
    # Also as root (who may write anywhere): the message the check gives.
    from sigrestore import preflight

    (tmp_path / "results" / "qc").mkdir(parents=True)
    real = os.access
    monkeypatch.setattr(
        preflight.os, "access", lambda path, mode: not str(path).endswith("qc") and real(path, mode)
    )
    with pytest.raises(ConfigError, match=r"results/qc is a folder this user cannot write.*chmod"):
        preflight.check_output_folder(tmp_path / "results", ("qc",))


def test_missing_config_file_via_front_end(tmp_path, capsys, monkeypatch):
    from sigrestore.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "Snakefile").write_text("")
    assert main(["run", "--config", "nope.yaml"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sigrestore run: error: config nope.yaml does not exist")
    assert "Traceback" not in err


# --------------------------------------------------------------------------- wrong model


def test_numeric_covariate_is_one_slope_and_can_be_forced_to_a_factor(dataset):
    from sigrestore.diffexp import build_design

    tmp_path, config = dataset
    sheet = read_sample_sheet(tmp_path / "config" / "samples.tsv")  # all text
    slope = build_design(sheet, factors=["cell_line", "treatment"], covariates=["rin"])
    assert slope.coefficients[-1] == "rin" and len(slope.coefficients) == 5
    factor = build_design(
        sheet,
        factors=["cell_line", "treatment"],
        covariates=[{"name": "rin", "type": "factor"}],
    )
    assert len(factor.coefficients) == 4 + 7
    config["design"]["covariates"] = ["rin"]  # the old string form still works
    _check(tmp_path, config)
    config["design"]["covariates"] = [{"name": "rin", "type": "numeric"}]
    _check(tmp_path, config)


def test_covariate_declared_numeric_with_text_names_the_row(dataset):
    tmp_path, config = dataset
    _edit_sheet(tmp_path, rin=["7", "8", "6", "9", "n/a", "8", "6", "7"])
    config["design"]["covariates"] = [{"name": "rin", "type": "numeric"}]
    with pytest.raises(ConfigError, match=r"'rin' is declared numeric but row 5 holds 'n/a'"):
        _check(tmp_path, config)


# --------------------------------------------------------------------------- checked at validation


def test_undecodable_gmt_names_file_and_line(dataset):
    tmp_path, config = dataset
    gmt = tmp_path / "raw" / "sets.gmt"
    gmt.write_bytes(b"SET1\tdesc\tG1\tG2\nSET2\tdesc\tG\xe94\tG5\n")
    with pytest.raises(ConfigError, match=rf"{gmt}: GMT file, line 2, column 12: byte 0xe9"):
        _check(tmp_path, config)


def test_malformed_gmt_line_at_validation(dataset):
    tmp_path, config = dataset
    (tmp_path / "raw" / "sets.gmt").write_text("SET1\tdesc\tG1\nSET2 only a name\n")
    with pytest.raises(ConfigError, match=r"sets.gmt, line 2: expected name"):
        _check(tmp_path, config)


def test_annotation_of_another_platform(dataset):
    tmp_path, config = dataset
    other = pd.DataFrame({"ID": [f"{i}_at" for i in range(900, 950)], "Gene Symbol": "X"})
    other.to_csv(tmp_path / "raw" / "annot.tsv", sep="\t", index=False)
    with pytest.raises(ConfigError, match=r"platform.annotation .*annot.tsv: only 0.0%"):
        _check(tmp_path, config)


@pytest.mark.parametrize("expression", ["sens_drug - sens_drug", "0 * sens_drug"])
def test_zero_contrast(dataset, expression):
    tmp_path, config = dataset
    config["contrasts"]["drug_sens"] = expression
    with pytest.raises(ConfigError, match="identically zero"):
        _check(tmp_path, config)


def test_design_without_residual_degrees_of_freedom(dataset):
    tmp_path, config = dataset
    # 8 arrays, 4 groups + 4 numeric covariates: rank 8, every contrast estimable, df 0.
    rng = np.random.default_rng(5)
    _edit_sheet(tmp_path, **{f"x{i}": [f"{v:.3f}" for v in rng.normal(size=8)] for i in range(4)})
    config["design"]["covariates"] = [f"x{i}" for i in range(4)]
    with pytest.raises(ConfigError, match="no residual degrees of freedom: 8 arrays and 8"):
        _check(tmp_path, config)


def test_cel_whose_size_does_not_match_the_cdf(dataset):
    tmp_path, config = dataset
    other = make_layout(12, probes_per_set=5, chip_type="TinyChip", seed=1)
    big = synthesize_arrays(other, np.full((12, 1), 7.0), seed=1, names=["x"])[0]
    write_cel(tmp_path / "raw" / "res_drug_2.CEL", big, format="xda-v4")
    with pytest.raises(ConfigError, match=r"1 CEL file\(s\) do not have the dimensions") as err:
        _check(tmp_path, config)
    assert "sample 'res_drug_2'" in str(err.value)


def test_top_n_larger_than_the_features(dataset):
    tmp_path, config = dataset
    config["comparisons"][0].update(method="top", top_n=100000)
    with pytest.raises(ConfigError, match=r"top_n.*100000 is more than the 12 probe sets"):
        _check(tmp_path, config)


def test_top_n_in_a_nested_signature_block(dataset):
    tmp_path, config = dataset
    config["comparisons"][0]["signature"] = {"method": "top", "top_n": 13}
    with pytest.raises(ConfigError, match=r"top_n.*13 is more than the 12 probe sets"):
        _check(tmp_path, config)


def _fake_source(calls: list, *, count: tuple[int, str] | None):
    """A source module of another kind (as geo/counts will be): no CEL files, no CDF."""
    import types
    from dataclasses import dataclass

    module = types.ModuleType("fake_source_for_tests")

    @dataclass(frozen=True)
    class Settings:
        annotation: str | None = None

    module.KIND = "fake"
    module.Settings = Settings
    module.settings_from_config = lambda config, samples=None: Settings()
    module.input_files = lambda settings, samples: []
    module.check_inputs = lambda settings, samples, *, is_pending: calls.append(len(samples))
    module.load = lambda settings, samples, *, threads=1: None
    if count is not None:
        module.feature_count = lambda settings, *, is_pending: count
    return module


@pytest.mark.parametrize("count", [None, (5, "features")])
def test_checks_of_another_source_are_its_own(dataset, monkeypatch, count):
    """CEL/CDF checks belong to the Affymetrix source; another source runs its own
    check_inputs, the design checks still run, top_n meets its feature_count."""
    from sigrestore import sources
    from sigrestore.config import check_config, read_config, resolve_paths

    tmp_path, config = dataset
    # Not a CEL file: the Affymetrix checks would stop at its header.
    (tmp_path / "raw" / "res_drug_2.CEL").write_bytes(b"not a CEL file")
    config["comparisons"][0].update(method="top", top_n=6)
    calls: list = []
    monkeypatch.setitem(sys.modules, "fake_source_for_tests", _fake_source(calls, count=count))
    monkeypatch.setattr(sources, "SOURCES", {**sources.SOURCES, "fake": "fake_source_for_tests"})
    full = resolve_paths(read_config(_write(tmp_path, config)), tmp_path)
    with pytest.raises(ConfigError, match="res_drug_2"):
        check_config(full, read_sample_sheet(full["samples"]))
    full["data"]["source"] = "fake"
    sheet = read_sample_sheet(full["samples"])
    if count is None:
        settings = check_config(full, sheet)
        assert settings.source == "fake" and not settings.has_annotation
    else:
        with pytest.raises(ConfigError, match=r"top_n.*6 is more than the 5 features"):
            check_config(full, sheet)
    assert calls == [8]
    full["contrasts"]["drug_sens"] = "sens_drug + sens_veh"  # design checks: every source
    with pytest.raises(ConfigError, match="group coefficients sum to 2"):
        check_config(full, sheet)


# --------------------------------------------------------------------------- killed jobs


def test_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "out" / "table.tsv"
    code = textwrap.dedent(
        f"""
        import os, signal
        from sigrestore.atomic import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    leftovers = list(target.parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".table.tsv.")
    from sigrestore.atomic import write_tsv

    write_tsv(pd.DataFrame({"a": [1]}), target, index=False)
    assert [p.name for p in target.parent.iterdir()] == ["table.tsv"]


def test_clean_up_spares_other_files(tmp_path):
    from sigrestore.atomic import remove_stale_temporaries

    keep = [".table.tsv.notes", ".table.tsv.abcdefgh.tmp.csv", "table.tsv.abcdefgh.tmp.tsv"]
    for name in keep:
        (tmp_path / name).write_text("")
    (tmp_path / ".table.tsv.abcd_fgh.tmp.tsv").write_text("")
    removed = remove_stale_temporaries(tmp_path / "table.tsv")
    assert [p.name for p in removed] == [".table.tsv.abcd_fgh.tmp.tsv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


# --------------------------------------------------------------------------- front end


def test_failed_job_prints_its_log_tail(tmp_path, capsys, monkeypatch):
    from sigrestore.frontend import run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "Snakefile").write_text("")
    log = tmp_path / "logs" / "diffexp" / "x.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(100)) + "sigrestore DesignError: bad\n")

    def failing(argv):
        from snakemake.logging import LogEvent

        logging.getLogger("snakemake.logging").error(
            "Error in rule diffexp",
            extra={"event": LogEvent.JOB_ERROR, "rule_name": "diffexp", "log": [str(log)]},
        )
        return False

    monkeypatch.setattr(run, "_snakemake", failing)
    monkeypatch.setattr("sigrestore.frontend.validate.validate_config", _fake_validated)
    from sigrestore.cli import main

    assert main(["run", "--config", "c.yaml", "--cores", "1"]) == 1
    err = capsys.readouterr().err
    assert f"job diffexp failed; from its log {log}" in err
    assert "line 99\nsigrestore DesignError: bad" in err and "line 70\n" not in err
    assert "--rerun-incomplete" in err and "Traceback" not in err


def _fake_validated(path, **kwargs):
    from sigrestore.frontend.validate import Validated

    return Validated(
        path=Path(path),
        config={"comparisons": []},
        samples=pd.DataFrame({"sample": ["a"]}),
        sizes=pd.Series({"g": 1}),
    )


def test_log_excerpt_shows_a_sigrestore_error_without_its_traceback():
    from sigrestore.frontend.run import log_excerpt

    text = (
        'reading tables\nTraceback (most recent call last):\n  File "x.py", line 3\n'
        "    f()\nsigrestore.errors.ConfigError: top_n 2900 is more than the 2772 features\n"
    )
    assert log_excerpt(text) == (
        "reading tables\nConfigError: top_n 2900 is more than the 2772 features"
    )
    bug = "Traceback (most recent call last):\n  File \"x.py\"\nKeyError: 'a'\n"
    assert log_excerpt(bug) == bug  # a bug keeps its traceback


@pytest.mark.parametrize(
    ("row", "sentence"),
    [
        (
            {
                "level": "gene",
                "signature_size": 300,
                "restored_fraction": 0.40333,
                "ci_low": 0.349,
                "ci_high": 0.46,
            },
            "cmp: the cotreatment restores 40.3% (95% CI 34.9%-46.0%) of the 300-gene"
            " reference signature.",
        ),
        (
            {
                "level": "probeset",
                "signature_size": 50,
                "restored_fraction": 0.2,
                "ci_low": 0.1,
                "ci_high": 0.3,
                "restored_fraction_corrected": 0.5,
                "corrected_low": 0.4,
                "corrected_high": 0.6,
            },
            "cmp: the cotreatment restores 50.0% (95% CI 40.0%-60.0%) of the 50-probe-set"
            " reference signature after correcting for power.",
        ),
        (
            {"level": "gene", "signature_size": 0, "restored_fraction": float("nan")},
            "cmp: the 0-gene reference signature is empty",
        ),
    ],
)
def test_headline_sentence(row, sentence):
    from sigrestore.frontend.headline import comparison_sentence

    assert comparison_sentence("cmp", row).startswith(sentence)


def test_headline_sentence_with_an_na_corrected_fraction_names_the_called_share():
    from sigrestore.frontend.headline import comparison_sentence

    row = {
        "level": "gene",
        "signature_size": 12,
        "restored_fraction": 0.25,
        "ci_low": 0.09,
        "ci_high": 0.53,
        "restored_fraction_corrected": float("nan"),
        "corrected_note": "fewer than 20 features",
    }
    assert comparison_sentence("cmp", row) == (
        "cmp: 25.0% (95% CI 9.0%-53.0%) of the 12-gene reference signature are called"
        " restored; the power-corrected fraction is NA (fewer than 20 features)."
    )


def test_headlines_print_the_reports_sentence(tmp_path):
    from sigrestore.frontend.headline import headlines
    from sigrestore.restoration import ComparisonSpec

    folder = tmp_path / "results" / "restoration" / "cmp"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {"comparison": ["cmp"], "sentence": ["The cotreatment restores 42% (95% CI 35%-56%)."]}
    ).to_csv(folder / "headline.tsv", sep="\t", index=False)
    spec = ComparisonSpec.from_dict({"name": "cmp", "reference": "a", "restoration": "b"})
    assert headlines([spec], tmp_path) == ["cmp: The cotreatment restores 42% (95% CI 35%-56%)."]


def _init_args(pattern: str, out_dir: str) -> list[str]:
    """``sigrestore init`` of the dataset fixture's CEL files (run in its directory)."""
    return [
        "init",
        "--cel-dir",
        "raw",
        "--cdf",
        "raw/TinyChip.CDF",
        "--pattern",
        pattern,
        "--out-dir",
        out_dir,
    ]


def test_init_writes_a_sheet_and_a_config_that_checks(dataset, capsys, monkeypatch):
    from sigrestore.cli import main

    tmp_path, _ = dataset
    monkeypatch.chdir(tmp_path)
    args = _init_args(r"(?P<cell_line>[a-z]+)_(?P<treatment>[a-z]+)_(?P<replicate>\d+)", "mine")
    assert main(args) == 0
    sheet = pd.read_csv(tmp_path / "mine" / "samples.tsv", sep="\t", dtype=str)
    assert list(sheet.columns) == ["sample", "file", "cell_line", "treatment", "replicate"]
    assert sheet["treatment"].tolist().count("veh") == 4
    text = (tmp_path / "mine" / "config.yaml").read_text()
    assert "factors: [cell_line, treatment]" in text and "#   res_drug  (2 arrays)" in text
    config = yaml.safe_load(text)
    config["contrasts"] = {"d": "sens_drug - sens_veh"}
    (tmp_path / "mine" / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["check", "mine/config.yaml"]) == 0
    assert main(args) == 1  # no silent overwrite
    assert "already exist" in capsys.readouterr().err


def test_init_pattern_that_does_not_match_lists_the_files(dataset, capsys, monkeypatch):
    from sigrestore.cli import main

    tmp_path, _ = dataset
    monkeypatch.chdir(tmp_path)
    assert main(_init_args(r"(?P<cell_line>sens)_(?P<treatment>\w+)_\d", "x")) == 1
    assert "does not match 4 of 8 sample names: res_drug_1" in capsys.readouterr().err


def test_help_texts_have_no_rst_markup(capsys):
    from sigrestore.cli import main

    for command in (["--help"], ["run", "--help"], ["check", "--help"], ["init", "--help"]):
        with pytest.raises(SystemExit):
            main(command)
        out = capsys.readouterr().out
        assert "``" not in out and ":func:" not in out and ".. " not in out


def test_check_prints_group_sizes_and_exit_status(dataset, capsys):
    from sigrestore.cli import main

    tmp_path, config = dataset
    path = _write(tmp_path, config)
    assert main(["check", str(path), "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "arrays per group: res_drug 2, res_veh 2, sens_drug 2, sens_veh 2" in out
    config["contrasts"]["drug_sens"] = "sens_drug + sens_veh"
    _write(tmp_path, config)
    assert main(["check", str(path), "--directory", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sigrestore check: error:") and "Traceback" not in err


def test_load_config_runs_the_new_checks(dataset):
    """The config package's own entry point (the workflow's) runs the issue-15 checks."""
    tmp_path, config = dataset
    config["contrasts"]["drug_sens"] = "sens_drug + sens_veh"
    with pytest.raises(ConfigError, match="sum to 2"):
        load_config(_write(tmp_path, config), workdir=tmp_path)
