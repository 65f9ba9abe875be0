"""Every notebook is thin and committed clean; the audience notebook and the pipeline run through papermill."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "01_explore_audiences.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean_and_thin(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip the outputs"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert not any("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
    params = "".join(tagged[0]["source"])
    for node in ast.parse(params).body:
        assert isinstance(node, ast.Assign | ast.AnnAssign), "the parameters cell holds assignments only"
        value = node.value
        assert value is not None
        ast.literal_eval(value)  # literals only
    for line in params.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "  # " in line, f"parameter without a help comment: {line}"
    for cell in code:
        tree = ast.parse("".join(cell["source"]))
        assert not any(isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) for n in ast.walk(tree)), (
            "logic belongs in the package, not in a notebook"
        )


@pytest.mark.slow
def test_audience_notebook_runs_and_writes_audiences(tmp_path):
    from workbench.reports import run

    run_dir = run(
        ROOT / "notebooks" / "01_explore_audiences.ipynb",
        out=tmp_path,
        parameters={
            "data_path": str(ROOT / "data" / "sample"),
            "strategy_path": str(ROOT / "data" / "strategy.yaml"),
            "active_days": 60,
        },
    )
    sizes = pd.read_csv(run_dir / "audiences" / "segment_sizes.csv")
    assert set(sizes["kind"]) == {"rule", "rfm", "lifecycle", "intent", "reach"}
    assert (run_dir / "audiences" / "cart_abandoners_sms.csv").exists()
    assert (run_dir / "01_explore_audiences.html").stat().st_size > 50_000
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["notebooks"][0]["status"] == "ok"
    assert manifest["parameters"]["active_days"] == 60
    executed = json.loads((run_dir / "notebooks" / "01_explore_audiences.ipynb").read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "active_days = 60" in "".join(injected[0]["source"])


@pytest.mark.slow
def test_failing_cell_is_reported_with_notebook_and_cell(tmp_path):
    from workbench.models.errors import RunError
    from workbench.reports import run

    with pytest.raises(RunError) as info:
        run(
            ROOT / "notebooks" / "01_explore_audiences.ipynb",
            out=tmp_path,
            parameters={"data_path": str(tmp_path / "missing")},
        )
    msg = str(info.value)
    assert "01_explore_audiences.ipynb" in msg and "cell" in msg and "does not exist" in msg
    (run_dir,) = list(tmp_path.iterdir())
    assert "failed" in (run_dir / "index.html").read_text()


def test_unknown_parameter_is_refused(tmp_path):
    from workbench.models.errors import RunError
    from workbench.reports import run

    with pytest.raises(RunError, match="unknown parameter colour"):
        run(ROOT / "notebooks" / "01_explore_audiences.ipynb", out=tmp_path, parameters={"colour": "red"})
