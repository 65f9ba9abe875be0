"""Charts are values built from aggregated frames; the explorer recomputes when a control moves."""

from __future__ import annotations

import itertools

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


def test_rfm_grid_chart_of_no_customers_is_an_empty_chart(assigned):
    # the label colour compares with half the largest cell; with no cells that is 0, not a crash
    empty = charts.rfm_grid(assigned.iloc[:0])
    assert len(empty) == 0
    spec = charts.rfm_grid_chart(empty).to_dict()
    test = spec["layer"][1]["encoding"]["color"]["condition"]["test"]
    assert test == "(datum.customers > 0)"
    assert _rows(charts.rfm_grid_chart(empty)) == []


def test_renderer_choice_is_checked():
    import pytest

    with pytest.raises(ValueError, match="svg"):
        charts.use_renderer("pdf")


def test_charts_display_as_vega_lab_draws_offline_and_reports_add_svg(assigned):
    chart = charts.lifecycle_by_reach_chart(charts.lifecycle_by_reach(assigned))
    try:
        charts.use_renderer(interactive=True)
        lab = chart._repr_mimebundle_()
        lab = lab[0] if isinstance(lab, tuple) else lab
        charts.use_renderer(interactive=False)
        report = chart._repr_mimebundle_()
        report = report[0] if isinstance(report, tuple) else report
    finally:
        charts.use_renderer("svg")
    spec = lab[charts.VEGA_MIME]
    assert spec["$schema"].endswith("/vega/v5.json")  # what JupyterLab's own renderer draws
    assert "image/svg+xml" not in lab and "<svg" in report["image/svg+xml"]
    assert report[charts.VEGA_MIME] == spec
    # the legend selection survives compilation: clicking a legend entry highlights a series
    assert any(s["name"].startswith("pick") for s in spec["signals"])
    values = [v for d in spec["data"] if "values" in d for v in d["values"]]
    assert sum(v["customers"] for v in values if "customers" in v) == len(assigned)


def test_journey_layout_keeps_rows_apart_and_links_going_down(strategy):
    from workbench.application import strategy_journeys
    from workbench.charts.journey import NODE_HEIGHT, NODE_WIDTH

    for journey in strategy_journeys(strategy):
        nodes, links = charts.journey_layout(journey)
        assert set(nodes["id"]) == {"__trigger__", *[n.id for n in journey.nodes]}
        assert (nodes["x"] >= NODE_WIDTH / 2 - 1e-9).all() and (nodes["y"] >= NODE_HEIGHT / 2).all()
        row = nodes.set_index("id")["row"]
        assert (row[links["target"]].to_numpy() > row[links["source"]].to_numpy()).all(), journey.id
        for _, members in nodes.groupby("row"):
            xs = sorted(members["x"])
            assert all(b - a >= NODE_WIDTH for a, b in itertools.pairwise(xs)), journey.id
        expected = 1 + sum(1 for n in journey.nodes for _label, target in _links(n) if target is not None)
        assert len(links) == expected
        svg = charts.journey_chart(journey).to_svg()
        assert svg.count("<path") >= len(links) and journey.id in svg


def _links(node):
    from workbench.models.journey import links

    return links(node)


def _workspace(sample_dataset, strategy):
    from workbench.application import Workspace

    return Workspace.create(sample_dataset, strategy, as_of="2026-10-31")


def test_explorer_follows_threshold_and_segment(assigned, strategy, sample_dataset):
    explorer = AudienceExplorer(_workspace(sample_dataset, strategy))
    active_before = (explorer.assigned["lifecycle_stage"] == "active").sum()
    explorer.sliders["active_days"].value = 150
    assert explorer.thresholds.active_days == 150
    assert (explorer.assigned["lifecycle_stage"] == "active").sum() > active_before
    explorer.segment_picker.value = "vip"
    assert len(explorer.assigned) == assigned["segment_vip"].sum()
    assert "customers shown" in explorer.message.value
    explorer.sliders["lapsed_days"].value = 100  # below at_risk_days: refused, nothing recomputed
    assert "must grow" in explorer.message.value and explorer.thresholds.lapsed_days == 365


def test_explorer_recomputes_rule_segments_that_read_the_lifecycle(strategy, sample_dataset):
    """A rule segment defined on lifecycle_stage follows the slider: what is explored is what is planned."""
    ws = _workspace(sample_dataset, strategy)
    explorer = AudienceExplorer(ws)
    explorer.segment_picker.value = "new_customers"  # rule: lifecycle_stage = 'new'
    before = len(explorer.assigned)
    explorer.sliders["new_days"].value = 60
    moved = explorer.workspace
    assert moved.overrides == {"lifecycle.new_days": 60} and moved.replaced == {"lifecycle.new_days": 30}
    assert len(explorer.assigned) == (moved.assigned["lifecycle_stage"] == "new").sum() > before
    sizes = explorer.sizes.set_index(["kind", "segment"])["customers"]
    assert sizes[("rule", "new_customers")] == sizes[("lifecycle", "new")] == len(explorer.assigned)
    assert ws.segment_sizes.set_index(["kind", "segment"]).loc[("rule", "new_customers"), "customers"] == before


def test_explorer_saves_its_thresholds_into_a_copy_of_the_strategy(strategy, sample_dataset, tmp_path, root):
    import shutil

    from workbench.io import file_sha256, load_strategy

    source = tmp_path / "strategy.yaml"
    shutil.copy(root / "data" / "strategy.yaml", source)
    before = file_sha256(source)
    explorer = AudienceExplorer(_workspace(sample_dataset, strategy))
    explorer.sliders["lapsed_days"].value = 300
    written = explorer.save(source, tmp_path / "edited")
    assert file_sha256(source) == before  # the original is never changed
    assert load_strategy(written).lifecycle.lapsed_days == 300
    _, diff = explorer.strategy_diff(source)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-  lapsed_days: 365", "+  lapsed_days: 300"]
    assert "lapsed_days: 300" in explorer.saved.value


def test_explorer_off_in_static_reports(strategy, sample_dataset):
    note = AudienceExplorer.show(_workspace(sample_dataset, strategy), enabled=False)
    assert "needs a live kernel" in note.data and "make lab" in note.data
