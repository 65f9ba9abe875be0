"""One strategy, one truth: every way of asking for a segment's customers gives the same customers.

For the sample strategy and for a copy with other lifecycle thresholds, each segment has exactly the same
customers in ``workbench segments``, in the audience CSVs notebook 01 writes in a pipeline run, in the
exported audience files, and in the simulator's entry membership.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.cadence.traverse import membership as simulator_membership
from workbench.cli import main
from workbench.io import load_dataset, load_strategy, open_workspace
from workbench.reports import pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
pytestmark = pytest.mark.slow


def _strategy_file(tmp_path: Path, thresholds: dict[str, int] | None) -> Path:
    """The sample strategy (optionally with other thresholds) plus one journey per segment, for the exports."""
    data = yaml.safe_load((ROOT / "data" / "strategy.yaml").read_text())
    if thresholds:
        data["lifecycle"] = {**data["lifecycle"], **thresholds}
    names = [s["name"] for s in data["segments"]] + ["lifecycle:new", "lifecycle:lapsed", "rfm:at_risk"]
    for i, name in enumerate(names):
        data["journeys"].append(
            {
                "id": f"audience_{i}",
                "graph": {
                    "name": f"Audience of {name}",
                    "trigger": {"type": "segment", "segment": name},
                    "audience": name,
                    "entry": "email",
                    "nodes": [
                        {"id": "email", "type": "send_email", "template": "win_back", "next": "end"},
                        {"id": "end", "type": "end"},
                    ],
                },
            }
        )
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def _ids(path: Path) -> set[str]:
    return set(pd.read_csv(path, dtype={"customer_id": str})["customer_id"])


@pytest.mark.parametrize("thresholds", [None, {"new_days": 45, "active_days": 60, "lapsed_days": 200}])
def test_every_segment_has_the_same_customers_everywhere(tmp_path, thresholds):
    strategy_path = _strategy_file(tmp_path, thresholds)
    strategy = load_strategy(strategy_path)
    rule_names = [s.name for s in strategy.segments]

    # workbench segments
    assert main(["segments", str(SAMPLE), "--strategy", str(strategy_path), "--out", str(tmp_path / "seg")]) == 0
    (seg_run,) = (tmp_path / "seg").iterdir()
    from_command = {n: _ids(seg_run / "audiences" / f"{n}.csv") for n in rule_names}

    # notebook 01 in a pipeline run
    run_dir = pipeline(strategy=strategy_path, data=SAMPLE, out=tmp_path / "runs", notebooks=["01_explore_audiences"])
    from_notebook = {n: _ids(run_dir / "audiences" / f"{n}.csv") for n in rule_names}

    # the exported audience files, one per journey, each journey's audience a segment
    out = tmp_path / "exports"
    args = ["export", "--strategy", str(strategy_path), "--data", str(SAMPLE), "--target", "audience"]
    assert main([*args, "--out", str(out)]) == 0
    journeys = {
        j.id: j.graph.audience for j in strategy.journeys if j.graph is not None and j.id.startswith("audience_")
    }
    from_export = {audience: _ids(out / "audience" / f"{jid}.csv") for jid, audience in journeys.items()}

    # the simulator's entry membership, on the audience it plans for
    ws = open_workspace(SAMPLE, strategy_path)
    plan = ws.plan(days=3, seed=1)
    member = simulator_membership(plan.audience)
    ids = plan.audience["customer_id"].astype(str).to_numpy()
    from_simulator = {name: set(ids[member(name)]) for name in from_export}

    for name in rule_names:
        assert from_command[name] == from_notebook[name] == from_export[name] == from_simulator[name], name
    for name in ("lifecycle:new", "lifecycle:lapsed", "rfm:at_risk"):
        assert from_export[name] == from_simulator[name], name
        column, value = {"lifecycle": "lifecycle_stage", "rfm": "rfm_segment"}[name.split(":")[0]], name.split(":")[1]
        assert from_export[name] == set(ws.assigned.loc[ws.assigned[column] == value, "customer_id"])
    # the thresholds reached every reader: the rule segment on the lifecycle stage follows them
    new_days = (thresholds or {}).get("new_days", 30)
    profiles = ws.profiles
    expected_new = set(profiles.loc[(profiles["orders_total"] > 0) & (profiles["T"] <= new_days), "customer_id"])
    assert from_command["new_customers"] == expected_new
    assert len(from_command["new_customers"]) > 0


def test_an_ambiguous_segment_name_is_refused_with_the_choices(tmp_path, capsys):
    data = yaml.safe_load((ROOT / "data" / "strategy.yaml").read_text())
    data["journeys"][-1]["graph"]["trigger"]["segment"] = "at_risk"
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "segment 'at_risk' is ambiguous: it is rfm:at_risk and lifecycle:at_risk" in err
    assert "Fix: write rfm:at_risk or lifecycle:at_risk" in err


def test_a_rule_segment_may_not_shadow_a_built_in_one(tmp_path, capsys):
    text = (ROOT / "data" / "strategy.yaml").read_text()
    path = tmp_path / "strategy.yaml"
    path.write_text(text.replace("  - name: unreachable\n", "  - name: lapsed\n"))
    assert main(["validate", str(path)]) == 2
    assert "segment name 'lapsed' is also a built-in lifecycle segment" in capsys.readouterr().err
    dataset = load_dataset(SAMPLE)
    assert len(dataset.customers) == 5000
