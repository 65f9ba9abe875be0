"""The message preview notebook is thin and, run through papermill, writes the gallery and the lint table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_preview_messages.ipynb"


def test_notebook_is_thin_stripped_and_documents_its_parameters():
    import papermill

    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert {"data_path", "strategy_path", "output_dir", "moments", "sample_customers", "as_of"} <= set(params)
    assert all(p["help"] for p in params.values())
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in code) == 1
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert not any("def " in "".join(c["source"]) or "class " in "".join(c["source"]) for c in code)


@pytest.mark.slow
def test_notebook_writes_gallery_and_lint(tmp_path):
    import papermill

    out = tmp_path / "messages"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        parameters={
            "data_path": str(ROOT / "data" / "sample"),
            "strategy_path": str(ROOT / "data" / "strategy.yaml"),
            "output_dir": str(out),
            "moments": ["cart_abandonment", "welcome"],
            "sample_customers": 2,
        },
    )
    previews = sorted(p.name for p in (out / "previews").glob("*.html"))
    assert len(previews) == 8  # 2 moments x 2 variants x 2 customers
    assert previews[0].startswith("cart_abandonment__A__")
    index = (out / "index.html").read_text()
    assert all(f"previews/{name}" in index for name in previews)
    assert "Every template in this gallery is approved." in index
    lint = pd.read_csv(out / "lint.csv")
    assert list(lint.columns)[:4] == ["rule", "severity", "channel", "moment"] and lint.empty
    templates = pd.read_csv(out / "templates.csv")
    assert set(templates["moment"]) == {"cart_abandonment", "welcome"} and (templates["approval"] == "approved").all()
    page = (out / "previews" / previews[0]).read_text()
    assert "<iframe" in page and "Lint findings" in page
