"""The journey notebook is thin and, run through papermill, writes the journey's configs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_generate_journeys.ipynb"


def test_parameters_are_the_standard_ones():
    import papermill

    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert {"data_path", "strategy_path", "output_dir", "journey_id", "targets", "blueprint_params", "as_of"} <= set(
        params
    )
    assert params["deploy_target"]["default"] == '"dittofeed"'
    assert all(p["help"] for p in params.values())


def test_notebook_is_thin_stripped_and_has_one_parameters_cell():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    sources = ["".join(c["source"]) for c in code]
    assert not any(line.lstrip().startswith(("def ", "class ")) for s in sources for line in s.splitlines())
    assert sources[-1] == "print(deploy(ws.strategy_source, target=deploy_target).text())"  # one call: the plan


@pytest.mark.slow
def test_notebook_builds_validates_and_writes_configs(tmp_path, execute_notebook):
    out = tmp_path / "run"
    execute_notebook(
        "04_generate_journeys",
        tmp_path / "executed.ipynb",
        output_dir=str(out),
        journey_id="cart_recovery",
        blueprint_params={"first_delay": "2h", "holdout_percent": 5},
        targets=["klaviyo", "dittofeed", "mermaid", "audience"],
    )
    canonical = json.loads((out / "journeys" / "cart_recovery.json").read_text())
    split = next(n for n in canonical["journey"]["nodes"] if n["id"] == "holdout_split")
    assert [b["share"] for b in split["branches"]] == [95, 5]
    body = json.loads((out / "exports" / "klaviyo" / "cart_recovery.json").read_text())
    assert body["data"]["attributes"]["name"] == "Cart abandonment"
    assert (out / "exports" / "dittofeed" / "cart_recovery.json").exists()
    assert (out / "exports" / "mermaid" / "cart_recovery.mmd").read_text().startswith("flowchart TD")
    assert len(pd.read_csv(out / "exports" / "audience" / "cart_recovery.csv")) > 0
    report = json.loads((out / "exports" / "klaviyo" / "report.json").read_text())
    assert report["summary"]["emulated"] > 0
    assert not (out / "exports" / "canonical").exists()
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    outputs = "".join(str(o) for c in executed["cells"] for o in c.get("outputs", []))
    assert "flowchart TD" in outputs and "Journeys at a glance" in outputs and "Export verdict per target" in outputs
    assert "application/vnd.vega.v5+json" in outputs  # the diagram, drawn offline
    # the deploy plan of the whole strategy, changing nothing
    assert "deploy plan for dittofeed" in outputs and "create       journey 'Cart abandonment'" in outputs
    assert not (ROOT / "data" / "strategy.dittofeed.deploy.json").exists()
