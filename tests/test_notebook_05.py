"""The results notebook runs through papermill on the sample data and on the Hillstrom experiment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion as smp

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_measure_results.ipynb"
RESULT_COLUMNS = ["arm", "metric", "n", "rate", "mean", "lift_vs_control", "ci_low", "ci_high", "p_value", "p_adjusted"]


def execute(run, tmp_path: Path, **parameters: object) -> Path:
    out = tmp_path / "out"
    run("05_measure_results", tmp_path / "executed.ipynb", output_dir=str(out), **parameters)
    return out


def test_notebook_declares_the_parameters():
    import nbformat
    from papermill.translators import PythonTranslator

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    names = {p.name for p in PythonTranslator.inspect(cell)}
    assert {
        "dataset",
        "data_path",
        "strategy_path",
        "control_arm",
        "metrics",
        "alpha",
        "correction",
        "output_dir",
    } <= names


@pytest.mark.slow
@pytest.mark.real
def test_hillstrom_readout(tmp_path, real_data, execute_notebook):
    path = real_data / "hillstrom_email" / "hillstrom.csv.gz"
    out = execute(execute_notebook, tmp_path, dataset="hillstrom", data_path=str(path), correction="bh")
    res = pd.read_csv(out / "experiment_results.csv")
    assert set(RESULT_COLUMNS) <= set(res.columns)
    assert set(res["arm"]) == {"mens", "womens", "control"}
    assert set(res["metric"]) == {"visit", "conversion", "spend"}
    visit = res[res["metric"] == "visit"].set_index("arm")
    assert visit.loc["mens", "rate"] == pytest.approx(0.1828, abs=5e-4)
    assert visit.loc["womens", "rate"] == pytest.approx(0.1514, abs=5e-4)
    assert visit.loc["control", "rate"] == pytest.approx(0.1062, abs=5e-4)
    raw = pd.read_csv(path)
    arms = {"mens": "Mens E-Mail", "womens": "Womens E-Mail"}
    ctrl = raw[raw["segment"] == "No E-Mail"]
    p_by_metric: dict[str, list[float]] = {}
    for arm, label in arms.items():
        x = raw[raw["segment"] == label]
        for metric in ("visit", "conversion"):
            row = res[(res["arm"] == arm) & (res["metric"] == metric)].iloc[0]
            ref = smp.test_proportions_2indep(x[metric].sum(), len(x), ctrl[metric].sum(), len(ctrl), method="score")
            low, high = smp.confint_proportions_2indep(
                x[metric].sum(), len(x), ctrl[metric].sum(), len(ctrl), method="score"
            )
            assert row["n"] == len(x)
            assert row["lift_vs_control"] == pytest.approx(x[metric].mean() - ctrl[metric].mean())
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
            assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
            p_by_metric.setdefault(metric, []).append(ref.pvalue)
        spend = res[(res["arm"] == arm) & (res["metric"] == "spend")].iloc[0]
        welch = stats.ttest_ind(x["spend"], ctrl["spend"], equal_var=False)
        ci = welch.confidence_interval(0.95)
        assert spend["mean"] == pytest.approx(x["spend"].mean())
        assert (spend["ci_low"], spend["ci_high"]) == pytest.approx((ci.low, ci.high))
        assert spend["p_value"] == pytest.approx(welch.pvalue)
        p_by_metric.setdefault("spend", []).append(welch.pvalue)
    from statsmodels.stats.multitest import multipletests

    for metric, ps in p_by_metric.items():
        got = res[(res["metric"] == metric) & (res["arm"] != "control")].set_index("arm").loc[["mens", "womens"]]
        assert got["p_adjusted"].tolist() == pytest.approx(multipletests(ps, method="fdr_bh")[1], rel=1e-6)
    seg = pd.read_csv(out / "lift_by_segment.csv")
    assert set(seg["segment"]) == {"Urban", "Surburban", "Rural"}
    page = (out / "measure_readout.html").read_text()
    assert page.count("<svg") >= 2 and "http://" not in page.split("<body>")[1].replace("http://www.w3.org", "")


@pytest.mark.slow
def test_sample_readout_reports_channels_and_attribution(tmp_path, execute_notebook):
    out = execute(execute_notebook, tmp_path, dataset="sample", data_path=str(ROOT / "data" / "sample"))
    res = pd.read_csv(out / "experiment_results.csv")
    assert set(RESULT_COLUMNS) <= set(res.columns)
    assert {"journey_id", "step_id"} <= set(res.columns)
    assert set(res["metric"]) == {"click", "conversion", "revenue"}
    assert (res.loc[res["arm"] != "A", "p_adjusted"] >= res.loc[res["arm"] != "A", "p_value"] - 1e-12).all()
    metrics = pd.read_csv(out / "channel_metrics.csv")
    assert set(metrics["channel"]) == {"email", "sms"}
    assert (metrics.loc[metrics["metric"] == "open_rate", "denominator_name"] == "delivered emails").all()
    attribution = pd.read_csv(out / "attribution.csv")
    assert set(attribution["model"]) == {
        "last_touch",
        "first_touch",
        "linear",
        "time_decay",
        "position_based",
        "markov",
    }
    shares = attribution.groupby("model")["revenue_share"].sum()
    assert np.allclose(shares, 1)
    assert (out / "health_alerts.csv").exists()
    assert (out / "measure_readout.html").stat().st_size > 20_000
