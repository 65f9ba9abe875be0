"""The cadence notebook is thin and, run through papermill, writes the send plan and its summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_plan_cadence.ipynb"


def test_parameters_are_documented():
    import papermill

    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert {"data_path", "strategy_path", "output_dir", "as_of", "start", "days", "seed", "policy_overrides"} <= set(
        params
    )
    assert all(p["help"] for p in params.values())


@pytest.mark.slow
def test_notebook_writes_the_plan_and_summaries(tmp_path, execute_notebook):
    out = tmp_path / "run"
    execute_notebook(
        "03_plan_cadence",
        tmp_path / "executed.ipynb",
        output_dir=str(out),
        as_of="2026-10-31",
        start="2026-11-01",
        days=21,
        seed=3,
        policy_overrides={"caps": [{"channel": "sms", "max": 1, "per": "7d"}]},
    )
    plan = pd.read_parquet(out / "send_plan.parquet")
    assert {
        "customer_id",
        "journey_id",
        "step_id",
        "channel",
        "scheduled_at",
        "local_time",
        "timezone",
        "status",
        "reason",
    } <= set(plan.columns)
    assert set(plan["status"].astype(str)) <= {"kept", "deferred", "suppressed"} and len(plan) > 100
    sms = plan[(plan["channel"] == "sms") & plan["status"].isin(["kept", "deferred"]) & ~plan["transactional"]]
    weekly = sms.set_index("scheduled_at").groupby("customer_id")["step_id"].rolling("7D").count()
    assert weekly.max() <= 1  # the override reached the simulation
    for name in ("touches_per_week", "collisions", "suppressions_by_reason", "daily_volume", "send_hours"):
        assert (out / "cadence" / f"{name}.csv").exists(), name
    reasons = pd.read_csv(out / "cadence" / "suppressions_by_reason.csv")
    assert reasons["touches"].sum() == (plan["status"] != "kept").sum()
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    outputs = "".join(str(o) for c in executed["cells"] for o in c.get("outputs", []))
    assert "application/vnd.vega.v5+json" in outputs  # interactive charts Lab draws offline
    assert "Cadence at a glance" in outputs
