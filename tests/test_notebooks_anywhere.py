"""Every notebook runs with plain papermill from any working directory, on the bundled sample by default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_plain_papermill_from_another_folder(notebook, tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    out = tmp_path / "outputs"
    executed = elsewhere / "executed.ipynb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(notebook),
            executed.name,
            "-p",
            "output_dir",
            str(out),
            "-p",
            "interactive",
            "False",
            "--kernel",
            "python3",
            "--no-progress-bar",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    nb = json.loads(executed.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    text = json.dumps(nb)
    assert "wb-summary" in text  # the headline was shown
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written, "the notebook wrote its outputs into output_dir"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["executed.ipynb"]  # nothing lands in the working folder
