"""Charts are values built from aggregated frames; the explorer recomputes when a control moves."""

from __future__ import annotations

import pandas as pd

from workbench import charts
from workbench.segments import overlap_matrix, segment_sizes
from workbench.widgets import AudienceExplorer


def _rows(chart) -> list[dict]:
    spec = chart.to_dict()
    datasets = spec.get("datasets", {})
    return [row for rows in datasets.values() for row in rows]


def test_charts_are_built_from_aggregates(assigned, sample_dataset):
    grid = charts.rfm_grid(assigned)
    assert len(grid) <= 25 and grid["customers"].sum() == assigned["r_score"].notna().sum()
    built = [
        charts.segment_sizes_chart(segment_sizes(assigned), kind="rule"),
        charts.rfm_grid_chart(grid),
        charts.lifecycle_by_reach_chart(charts.lifecycle_by_reach(assigned)),
        charts.recency_chart(assigned),
        charts.frequency_chart(assigned),
        charts.data_quality_chart(sample_dataset.quality),
        charts.overlap_chart(overlap_matrix(assigned)),
    ]
    for chart in built:
        rows = _rows(chart)
        assert 0 < len(rows) <= 200  # aggregated, far below Altair's 5,000-row guard
    freq = pd.DataFrame(_rows(charts.frequency_chart(assigned)))
    assert freq["customers"].sum() == len(assigned)
    assert freq.set_index("bin").loc["0", "customers"] == (assigned["orders_total"] == 0).sum()


def test_renderer_choice_is_checked():
    import pytest

    with pytest.raises(ValueError, match="svg"):
        charts.use_renderer("pdf")


def test_explorer_follows_threshold_and_segment(assigned, strategy):
    explorer = AudienceExplorer(assigned, thresholds=strategy.lifecycle)
    active_before = (explorer.assigned["lifecycle_stage"] == "active").sum()
    explorer.sliders["active_days"].value = 150
    assert explorer.thresholds.active_days == 150
    assert (explorer.assigned["lifecycle_stage"] == "active").sum() > active_before
    explorer.segment_picker.value = "vip"
    assert len(explorer.assigned) == assigned["segment_vip"].sum()
    assert "customers shown" in explorer.message.value
    explorer.sliders["lapsed_days"].value = 100  # below at_risk_days: refused, nothing recomputed
    assert "must grow" in explorer.message.value and explorer.thresholds.lapsed_days == 365


def test_explorer_off_in_static_reports(assigned):
    assert "off in this report" in AudienceExplorer.show(assigned, enabled=False)
