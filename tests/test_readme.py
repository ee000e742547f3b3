"""The README's Python example runs as written and finds the planted fraction."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(blocks[0], str(README), "exec"), namespace)
    summary = namespace["result"].summary.iloc[0]
    # The example plants a restored fraction of 0.40 (sigrestore.simulate.experiment).
    assert abs(summary["restored_fraction"] - 0.40) <= 0.08
    assert summary["ci_low"] <= summary["restored_fraction"] <= summary["ci_high"]
    assert "restored_fraction" in printed.getvalue()
    assert os.path.isdir(tmp_path / "example")
