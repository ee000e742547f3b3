"""``sigrestore inspect``: one JSON object per file, one-line errors for bad files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sigrestore.cli import main

TEST3 = Path(__file__).parent / "data" / "affymetrix" / "Test3"
CEL_REF = json.loads((TEST3 / "cel_reference.json").read_text())


def test_inspect_every_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    files = [TEST3 / n for n in sorted(CEL_REF)] + [
        TEST3 / "Test3.ascii.CDF",
        TEST3 / "Test3.xda.CDF",
    ]
    assert main(["inspect", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in records] == [str(f) for f in files]
    for rec in records[:-2]:
        ref = CEL_REF[Path(rec["file"]).name]
        assert rec["kind"] == "CEL"
        assert (rec["chip_type"], rec["rows"], rec["cols"], rec["n_cells"]) == (
            ref["chip_type"],
            ref["rows"],
            ref["cols"],
            ref["cells"],
        )
        assert rec["intensity_sum"] == pytest.approx(ref["intensity_sum"], rel=1e-7)
        assert (rec["n_masks"], rec["n_outliers"]) == (ref["n_masks"], ref["n_outliers"])
    for rec, fmt in zip(records[-2:], ["ascii", "xda"], strict=True):
        assert rec["kind"] == "CDF"
        assert rec["format"] == fmt
        assert (rec["n_probesets"], rec["n_pm"], rec["n_mm"]) == (345, 6354, 6354)


def test_inspect_bad_file_keeps_going(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html = tmp_path / "GSM123.CEL"
    html.write_text("<html><body>Not found</body></html>\n")
    good = TEST3 / "Test3-3.xda.CEL"
    assert main(["inspect", str(html), str(good), str(tmp_path / "missing.CEL")]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(good)]
    lines = err.splitlines()
    assert len(lines) == 2
    assert str(html) in lines[0] and "HTML" in lines[0]
    assert "missing.CEL" in lines[1]


def test_console_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sigrestore.cli", "inspect", str(TEST3 / "Test3-1.calvin.CEL")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["format"] == "calvin"


def test_inspect_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["inspect"])
    assert info.value.code == 2


def test_inspect_empty_and_gzipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.CEL"
    empty.write_bytes(b"")
    gz = tmp_path / "Test3.CDF.gz"
    gz.write_bytes(gzip.compress((TEST3 / "Test3.xda.CDF").read_bytes()))
    assert main(["inspect", str(empty), str(gz)]) == 1
    out, err = capsys.readouterr()
    rec = json.loads(out)
    assert (rec["kind"], rec["format"], rec["gzipped"]) == ("CDF", "xda", True)
    assert err.strip() == f"sigrestore inspect: error: {empty}: file is empty"


def test_inspect_into_a_closed_pipe_exits_quietly() -> None:
    # `sigrestore inspect ... | head -1`: enough output to fill the pipe
    # buffer, so the command is still writing when the reader goes away.
    files = [str(TEST3 / "Test3-3.xda.CEL")] * 400
    proc = subprocess.Popen(
        [sys.executable, "-m", "sigrestore.cli", "inspect", *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert json.loads(first)["format"] == "xda-v4"
    assert "Traceback" not in err and "BrokenPipe" not in err, err
