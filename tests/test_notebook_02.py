"""The message preview notebook is thin and, run through papermill, writes the gallery and the lint table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_preview_messages.ipynb"


def test_notebook_documents_its_parameters():
    import papermill

    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert {"data_path", "strategy_path", "output_dir", "moments", "sample_customers", "as_of"} <= set(params)
    assert all(p["help"] for p in params.values())


@pytest.mark.slow
def test_notebook_writes_gallery_and_lint(tmp_path, execute_notebook):
    out = tmp_path / "messages"
    execute_notebook(
        "02_preview_messages",
        tmp_path / "executed.ipynb",
        output_dir=str(out),
        moments=["cart_abandonment", "welcome"],
        sample_customers=2,
    )
    previews = sorted(p.name for p in (out / "previews").glob("*.html"))
    # 2 moments x 2 variants x (2 sampled customers + one customer of every other locale)
    customers = {name.rsplit("__", 1)[1] for name in previews}
    assert len(previews) == 4 * len(customers) and len(customers) >= 2 + 6
    assert previews[0].startswith("cart_abandonment__A__")
    index = (out / "index.html").read_text()
    assert all(f"previews/{name}" in index for name in previews)
    assert "Every template in this gallery is approved." in index
    lint = pd.read_csv(out / "lint.csv")
    assert list(lint.columns)[:4] == ["rule", "severity", "channel", "moment"]
    assert not (lint["severity"] == "error").any() and set(lint["rule"]) <= {
        "template-locale-fallback",
        "market-language",
        "sms-non-gsm",
    }
    templates = pd.read_csv(out / "templates.csv")
    assert set(templates["moment"]) == {"cart_abandonment", "welcome"} and (templates["approval"] == "approved").all()
    page = (out / "previews" / previews[0]).read_text()
    assert "<iframe" in page and "Lint findings" in page
