"""Charts of the audience: segment sizes, the RFM grid, lifecycle by channel reach, distributions, data quality."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..segments import CHANNEL_REACH, LIFECYCLE_STAGES
from .render import legend_highlight

__all__ = [
    "data_quality_chart",
    "distribution_table",
    "frequency_chart",
    "lifecycle_by_reach",
    "lifecycle_by_reach_chart",
    "overlap_chart",
    "recency_chart",
    "rfm_grid",
    "rfm_grid_chart",
    "segment_sizes_chart",
]

_WIDTH = 520


def segment_sizes_chart(sizes: pd.DataFrame, *, kind: str | None = None) -> alt.Chart:
    """Horizontal bars of customers per segment, from :func:`workbench.segments.segment_sizes`."""
    data = sizes if kind is None else sizes[sizes["kind"] == kind]
    base = alt.Chart(data).encode(
        y=alt.Y("segment:N", sort="-x", title=None),
        x=alt.X("customers:Q", title="customers"),
        tooltip=["kind", "segment", "customers", alt.Tooltip("share:Q", format=".1%"), "emailable", "smsable"],
    )
    bars = base.mark_bar(color="#4c78a8")
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(text=alt.Text("share:Q", format=".1%"))
    title = "Customers per segment" + (f" ({kind})" if kind else "") + ", labels: share of all customers"
    return (bars + labels).properties(width=_WIDTH, height=alt.Step(18), title=title)


def rfm_grid(assigned: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per (recency score, frequency-monetary score) cell, with the cell's RFM segment."""
    buyers = assigned.dropna(subset=["r_score", "fm_score"])
    grid = (
        buyers.groupby(["r_score", "fm_score"], observed=True)
        .agg(
            customers=("customer_id", "size"),
            revenue=("revenue_total", "sum"),
            segment=("rfm_segment", lambda s: s.mode().iat[0] if len(s) else ""),
        )
        .reset_index()
    )
    grid["segment"] = grid["segment"].astype("string").str.replace("_", " ")
    grid["r_score"] = grid["r_score"].astype(int)
    grid["fm_score"] = grid["fm_score"].astype(int)
    return grid


def rfm_grid_chart(grid: pd.DataFrame) -> alt.LayerChart:
    """Heat map of the RFM grid (from :func:`rfm_grid`): recency score across, frequency-monetary up."""
    base = alt.Chart(grid).encode(
        x=alt.X("r_score:O", title="recency score (5 = most recent)"),
        y=alt.Y("fm_score:O", sort="descending", title="frequency-monetary score"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues"), title="customers"),
        tooltip=["r_score", "fm_score", "segment", "customers", alt.Tooltip("revenue:Q", format=",.0f")],
    )
    text = base.mark_text(fontSize=10).encode(
        text="segment:N",
        color=alt.condition(
            alt.datum.customers > (grid["customers"].max() / 2 if len(grid) else 0),
            alt.value("white"),
            alt.value("black"),
        ),
    )
    return (cells + text).properties(width=500, height=300, title="RFM grid")


def lifecycle_by_reach(assigned: pd.DataFrame) -> pd.DataFrame:
    """Customers per lifecycle stage and channel reach."""
    table = assigned.groupby(["lifecycle_stage", "channel_reach"], observed=True).size().rename("customers")
    return table.reset_index()


def lifecycle_by_reach_chart(table: pd.DataFrame) -> alt.Chart:
    """Stacked bars: lifecycle stages, split by which channels can reach the customers (click the legend)."""
    chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("lifecycle_stage:N", sort=list(LIFECYCLE_STAGES), title="lifecycle stage"),
            y=alt.Y("customers:Q", title="customers"),
            color=alt.Color(
                "channel_reach:N",
                sort=list(CHANNEL_REACH),
                title="reachable by",
                scale=alt.Scale(domain=list(CHANNEL_REACH), range=["#2ca02c", "#4c78a8", "#f58518", "#bab0ac"]),
            ),
            order=alt.Order("channel_reach:N"),
            tooltip=["lifecycle_stage", "channel_reach", "customers"],
        )
        .properties(width=_WIDTH, height=260, title="Customers by lifecycle stage and channel reach")
    )
    return legend_highlight(chart, "channel_reach")


def distribution_table(values: pd.Series, *, bins: list[float], labels: list[str]) -> pd.DataFrame:
    """Counts of ``values`` in the given bins (right-closed), in bin order."""
    cut = pd.cut(values.astype("float64"), bins=bins, labels=labels, right=True, include_lowest=True)
    counts = cut.value_counts(sort=False)
    return pd.DataFrame(
        {
            "bin": pd.Categorical(counts.index.astype(str), categories=labels, ordered=True),
            "customers": counts.to_numpy(),
            "order": np.arange(len(counts)),
        }
    )


def _histogram(table: pd.DataFrame, *, title: str, x_title: str) -> alt.Chart:
    return (
        alt.Chart(table)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("bin:N", sort=alt.SortField("order"), title=x_title),
            y=alt.Y("customers:Q", title="customers"),
            tooltip=["bin", "customers"],
        )
        .properties(width=_WIDTH, height=220, title=title)
    )


def recency_chart(profiles: pd.DataFrame) -> alt.Chart:
    """Customers by days since their last order (buyers only)."""
    bins = [0, 7, 30, 60, 90, 180, 365, 730, np.inf]
    labels = ["0-7", "8-30", "31-60", "61-90", "91-180", "181-365", "366-730", "730+"]
    table = distribution_table(profiles["days_since_last_order"].dropna(), bins=bins, labels=labels)
    return _histogram(table, title="Recency: days since last order", x_title="days")


def frequency_chart(profiles: pd.DataFrame) -> alt.Chart:
    """Customers by number of orders."""
    bins = [-0.5, 0.5, 1.5, 2.5, 3.5, 5.5, 10.5, np.inf]
    labels = ["0", "1", "2", "3", "4-5", "6-10", "11+"]
    table = distribution_table(profiles["orders_total"], bins=bins, labels=labels)
    return _histogram(table, title="Frequency: orders per customer", x_title="orders")


def data_quality_chart(quality: pd.DataFrame) -> alt.Chart:
    """Rows concerned by each data-quality check (checks that found nothing show as zero)."""
    data = quality.assign(label=quality["table"] + "." + quality["column"] + ": " + quality["check"])
    return (
        alt.Chart(data)
        .mark_bar(color="#e45756")
        .encode(
            y=alt.Y("label:N", sort="-x", title=None),
            x=alt.X("rows:Q", title="rows"),
            tooltip=["table", "column", "check", "rows", alt.Tooltip("share:Q", format=".2%"), "action"],
        )
        .properties(width=_WIDTH, height=alt.Step(18), title="Data quality")
    )


def overlap_chart(overlap: pd.DataFrame) -> alt.LayerChart:
    """Heat map of customers shared by each pair of segments (from :func:`workbench.segments.overlap_matrix`)."""
    long = overlap.reset_index().melt(id_vars="segment", var_name="other", value_name="customers")
    base = alt.Chart(long).encode(x=alt.X("other:N", title=None), y=alt.Y("segment:N", title=None))
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="greens")), tooltip=["segment", "other", "customers"]
    )
    text = base.mark_text(fontSize=9).encode(text="customers:Q")
    return (cells + text).properties(width=alt.Step(40), height=alt.Step(22), title="Segment overlap")
