"""Charts of the results readout: lifts with intervals, lift by segment, channel metrics, attribution, health."""

from __future__ import annotations

import html
from typing import Any

import altair as alt
import pandas as pd

from ..measure import metrics_table
from ..vega import svg
from .render import PAGE_WIDTH, legend_highlight, to_vega

__all__ = [
    "attribution_chart",
    "channel_metrics_chart",
    "health_chart",
    "lift_chart",
    "readout_html",
    "segment_lift_chart",
]

_WIDTH = 420
_LEVEL_COLORS = alt.Scale(
    domain=["critical", "warning", "ok", "too few"], range=["#d62728", "#ff7f0e", "#2ca02c", "#bbbbbb"]
)


def _empty(message: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"text": [message]}))
        .mark_text(align="left", fontSize=13, color="#666")
        .encode(text="text:N")
        .properties(width=_WIDTH, height=30)
    )


def _join(frame: pd.DataFrame, cols: list[str], default: str | None = None) -> pd.Series:
    """The values of ``cols`` joined with `` · ``; ``default`` on every row when ``cols`` is empty."""
    if not cols and default is not None:
        return pd.Series(default, index=frame.index)
    label = frame[cols[0]].astype(str)
    for c in cols[1:]:
        label = label + " · " + frame[c].astype(str)
    return label


def _label(frame: pd.DataFrame, *, arm: str = "arm") -> pd.Series:
    parts = [c for c in ("journey_id", "step_id") if c in frame.columns]
    return _join(frame, [*parts, arm])


def lift_chart(results: pd.DataFrame, *, value: str = "lift_vs_control") -> alt.Chart:
    """Lift of each arm against the control with its interval, one panel per metric.

    ``value`` is ``lift_vs_control`` (absolute, interval ``ci_low``–``ci_high``)
    or ``relative_lift`` (interval ``relative_ci_low``–``relative_ci_high``).
    Takes the table of :func:`workbench.measure.compare_arms`.
    """
    if results is None or results.empty or "test" not in results.columns:
        return _empty("No experiment to show.")
    low, high = ("ci_low", "ci_high") if value == "lift_vs_control" else ("relative_ci_low", "relative_ci_high")
    data = results[results["test"] != "control"].copy()
    data = data[data[value].notna()]
    if data.empty:
        return _empty("No arm to compare with the control.")
    data["label"] = _label(data)
    data["significant"] = data["significant"].map({True: "yes", False: "no"}).fillna("n/a")
    data = data[["label", "metric", value, low, high, "p_adjusted", "significant", "n"]]
    fmt = ".1%" if value == "relative_lift" else ".4f"
    base = alt.Chart().encode(y=alt.Y("label:N", title=None, sort=None))
    axis_title = "relative lift (arm ÷ control − 1)" if value == "relative_lift" else "lift vs control (arm − control)"
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{low}:Q", title=axis_title), x2=f"{high}:Q")
    points = base.mark_point(filled=True, size=70).encode(
        x=f"{value}:Q",
        color=alt.Color(
            "significant:N",
            scale=alt.Scale(domain=["yes", "no", "n/a"], range=["#d62728", "#4c78a8", "#999999"]),
            title="significant",
        ),
        tooltip=[
            "label",
            "metric",
            alt.Tooltip(f"{value}:Q", format=fmt),
            alt.Tooltip(f"{low}:Q", format=fmt),
            alt.Tooltip(f"{high}:Q", format=fmt),
            alt.Tooltip("p_adjusted:Q", format=".4f"),
            "n",
        ],
    )
    zero = alt.Chart().mark_rule(color="#888", strokeDash=[4, 3]).encode(x=alt.datum(0))
    layered = alt.layer(bars, points, zero, data=data).properties(width=_WIDTH // 2 + 40, height=alt.Step(22))
    return (
        layered.facet(column=alt.Column("metric:N", title=None))
        .resolve_scale(x="independent")
        .properties(
            title=("Relative lift" if value == "relative_lift" else "Lift") + " against the control with intervals"
        )
    )


def segment_lift_chart(by_segment: pd.DataFrame, *, value: str = "lift_vs_control") -> alt.Chart:
    """Lift with intervals within each segment, one panel per metric, one colour per arm.

    Takes the table of :func:`workbench.measure.lift_by_segment`.
    """
    if by_segment is None or by_segment.empty:
        return _empty("No lift by segment (no segment column).")
    low, high = ("ci_low", "ci_high") if value == "lift_vs_control" else ("relative_ci_low", "relative_ci_high")
    data = by_segment[(by_segment["test"] != "control") & by_segment[value].notna()].copy()
    if data.empty:
        return _empty("No arm to compare within segments.")
    data["arm_label"] = _label(data)
    data = data[["segment", "arm_label", "metric", value, low, high, "p_adjusted", "n"]]
    if data["arm_label"].nunique() > 12:  # many experiments: keep the twelve largest
        top = data.groupby("arm_label")["n"].sum().nlargest(12).index
        data = data[data["arm_label"].isin(top)]
    title = f"Lift by {by_segment['segment_by'].iat[0]}" if "segment_by" in by_segment.columns else "Lift by segment"
    base = alt.Chart().encode(
        y=alt.Y("segment:N", title=None), yOffset="arm_label:N", color=alt.Color("arm_label:N", title="arm")
    )
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{low}:Q", title="lift vs control"), x2=f"{high}:Q")
    points = base.mark_point(filled=True, size=50).encode(
        x=f"{value}:Q",
        tooltip=[
            "segment",
            "arm_label",
            "metric",
            alt.Tooltip(f"{value}:Q", format=".4f"),
            alt.Tooltip(f"{low}:Q", format=".4f"),
            alt.Tooltip(f"{high}:Q", format=".4f"),
            alt.Tooltip("p_adjusted:Q", format=".4f"),
            "n",
        ],
    )
    zero = alt.Chart().mark_rule(color="#888", strokeDash=[4, 3]).encode(x=alt.datum(0))
    layered = alt.layer(bars, points, zero, data=data).properties(width=_WIDTH // 2 + 40, height=alt.Step(14))
    return (
        layered.facet(column=alt.Column("metric:N", title=None)).resolve_scale(x="independent").properties(title=title)
    )


def channel_metrics_chart(
    metrics: pd.DataFrame,
    *,
    shown: tuple[str, ...] = ("open_rate", "click_rate", "conversion_rate", "unsubscribe_rate"),
) -> alt.Chart:
    """Bars of the chosen metrics per group, one panel per metric, coloured by channel.

    Takes the long table of :func:`workbench.measure.channel_metrics`; the
    denominator of each metric is in its panel title.
    """
    if metrics is None or metrics.empty:
        return _empty("No message history: cross-channel metrics need a messages table.")
    keys = [c for c in ("journey_id", "step_id", "variant", "segment") if c in metrics.columns]
    data = metrics[metrics["metric"].isin(shown) & metrics["value"].notna()].copy()
    if data.empty:
        return _empty("None of the chosen metrics has a value.")
    data["group"] = _join(data, keys or ["channel"])
    data["panel"] = data["metric"] + " (÷ " + data["denominator_name"] + ")"
    data = data[["group", "channel", "panel", "value", "numerator", "denominator"]]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None),
            x=alt.X("value:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("channel:N", scale=alt.Scale(domain=["email", "sms"], range=["#4c78a8", "#f58518"])),
            tooltip=["group", "channel", "panel", alt.Tooltip("value:Q", format=".2%"), "numerator", "denominator"],
        )
        .properties(width=(PAGE_WIDTH - 420) // 2, height=alt.Step(12))
        .facet(facet=alt.Facet("panel:N", title=None), columns=2)
        .resolve_scale(x="independent")
        .properties(title="Cross-channel metrics (each panel names its denominator)")
    )


NO_TOUCH_LABEL = "no qualifying touch (none)"


def attribution_chart(attribution: pd.DataFrame, *, value: str = "revenue_share") -> alt.Chart:
    """Share credited to each journey and channel by every model, side by side.

    Takes the long table of :func:`workbench.measure.attribute`. The orders no message can claim (no
    qualifying touch within any attribution window: the state ``none``) are a bar of their own, labelled
    so; every model splits the same total, so each model's bars add up to 100%. Click a model in the
    legend to highlight it.
    """
    if attribution is None or attribution.empty:
        return _empty("No attribution: it needs a messages table and orders.")
    keys = [c for c in attribution.columns if c in ("journey_id", "step_id", "channel", "variant", "segment")]
    data = attribution.copy()
    data["group"] = _join(data, keys, "all")
    if keys:
        nobody = (data[keys].astype(str) == "none").all(axis=1)
        data.loc[nobody, "group"] = NO_TOUCH_LABEL
    data = data[["group", "model", value, "conversions", "revenue"]]
    code = str(attribution["currency"].iloc[0]) if "currency" in attribution.columns else ""
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, axis=alt.Axis(labelLimit=220)),
            yOffset=alt.YOffset("model:N"),
            x=alt.X(
                f"{value}:Q", title=value.replace("_", " ") + " (of all orders' revenue)", axis=alt.Axis(format="%")
            ),
            color=alt.Color("model:N", title="model"),
            tooltip=[
                "group",
                "model",
                alt.Tooltip(f"{value}:Q", format=".1%"),
                alt.Tooltip("conversions:Q", format=".1f"),
                alt.Tooltip("revenue:Q", format=",.0f", title=f"revenue{' (' + code + ')' if code else ''}"),
            ],
        )
        .properties(
            width=PAGE_WIDTH - 400,
            height=alt.Step(6),
            title=alt.Title(
                "Attribution by model",
                subtitle="'none': orders with no qualifying touch in any attribution window (no message claims them)"
                + (f"; revenue in {code}" if code else ""),
            ),
        )
    )
    return legend_highlight(chart, "model")


def health_chart(checks: pd.DataFrame) -> alt.Chart:
    """Each step's health rates against its warning level, coloured by level (critical, warning, ok).

    Takes :func:`workbench.measure.health_alerts` with ``all_checks=True``.
    """
    if checks is None or checks.empty:
        return _empty("No health checks: they need a message history.")
    data = checks.copy()
    keys = [c for c in ("journey_id", "step_id", "channel") if c in data.columns]
    data["step"] = _join(data, keys)
    data["ratio"] = data["rate"] / data["warning"]
    data = data[["step", "check", "rate", "warning", "critical", "level", "ratio"]]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", title=None),
            x=alt.X("ratio:Q", title="rate ÷ warning level"),
            color=alt.Color("level:N", scale=_LEVEL_COLORS),
            tooltip=[
                "step",
                "check",
                alt.Tooltip("rate:Q", format=".3%"),
                alt.Tooltip("warning:Q", format=".3%"),
                alt.Tooltip("critical:Q", format=".3%"),
                "level",
            ],
        )
        .properties(width=_WIDTH // 2, height=alt.Step(14))
        .facet(column=alt.Column("check:N", title=None))
        .properties(title="Health checks (1 = warning level)")
    )


def _svg(chart: alt.TopLevelMixin) -> str:
    return svg(to_vega(chart))


def _table(df: pd.DataFrame, *, max_rows: int = 60) -> str:
    if df is None or df.empty:
        return "<p><em>none</em></p>"
    shown = df.head(max_rows)
    html: str = shown.to_html(index=False, float_format=_number, na_rep="", border=0, classes="t")
    return html


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def readout_html(readout: Any, *, title: str = "Experiment readout") -> str:
    """A self-contained HTML page of a :class:`workbench.measure.Readout` (charts as inline SVG, no scripts).

    Opens offline: nothing is loaded from the network.
    """
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in readout.notes) + "</ul>",
    ]
    sections += ["<h2>Results</h2>", _svg(lift_chart(readout.results)), _table(readout.summary())]
    sections += ["<h2>Lift by segment</h2>", _svg(segment_lift_chart(readout.by_segment))]
    if readout.kind == "messages":
        sections += ["<h2>Health alerts</h2>", _table(readout.alerts), _svg(health_chart(readout.health_checks))]
        sections += [
            "<h2>Cross-channel metrics</h2>",
            _table(metrics_table(readout.channel_summary)),
            _svg(channel_metrics_chart(readout.metrics)),
        ]
        if not readout.segment_metrics.empty:
            sections += [
                f"<h3>By {html.escape(str(readout.segment))}</h3>",
                _table(metrics_table(readout.segment_metrics)),
            ]
        pivot = readout.attribution.pivot_table(
            index=[c for c in ("journey_id", "channel") if c in readout.attribution.columns],
            columns="model",
            values="revenue_share",
        ).reset_index()
        sections += [
            "<h2>Attribution (share of revenue)</h2>",
            _table(pivot),
            _svg(attribution_chart(readout.attribution)),
        ]
        sections += ["<h2>Metric definitions</h2>", _table(readout.definitions)]
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
        "table.t{border-collapse:collapse;font-size:12px}table.t td,table.t th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}h2{margin-top:1.6em}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
