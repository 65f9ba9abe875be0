"""Charts of a send plan: touches per customer per week, send-hour heat map, suppressions, daily volume.

Each chart takes a summary table of :mod:`workbench.cadence` (small, already
aggregated), never the plan itself.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .render import legend_highlight, zoom_x

__all__ = [
    "daily_volume_chart",
    "send_hour_heatmap",
    "suppressions_chart",
    "touches_per_week_chart",
]

_WIDTH = 520
_STATUS_COLORS = alt.Scale(domain=["deferred", "suppressed"], range=["#f2b447", "#d6604d"])
_CHANNEL_COLORS = alt.Scale(domain=["email", "sms"], range=["#4c78a8", "#59a14f"])


def _empty(message: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"text": [message]}))
        .mark_text(fontSize=13)
        .encode(text="text:N")
        .properties(width=_WIDTH, height=40)
    )


def touches_per_week_chart(per_customer: pd.DataFrame, *, bins: int = 20) -> alt.Chart:
    """Histogram of touches per customer per week, from :func:`workbench.cadence.touches_per_customer_week`."""
    if per_customer.empty:
        return _empty("No customers")
    x = per_customer["per_week"].to_numpy(dtype=float)
    top = max(float(x.max()), 1.0)
    edges = np.linspace(0, top, bins + 1)
    counts, _ = np.histogram(x, bins=edges)
    data = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "customers": counts})
    return (
        alt.Chart(data)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("from:Q", bin="binned", title="touches per customer per week"),
            x2="to:Q",
            y=alt.Y("customers:Q", title="customers"),
            tooltip=[alt.Tooltip("from:Q", format=".2f"), alt.Tooltip("to:Q", format=".2f"), "customers:Q"],
        )
        .properties(width=_WIDTH, height=220, title="Touches per customer per week (kept and deferred)")
    )


def send_hour_heatmap(hours: pd.DataFrame, *, channel: str | None = None) -> alt.Chart:
    """Touches by local weekday and hour, from :func:`workbench.cadence.send_hours` (one channel or both)."""
    data = hours if channel is None else hours[hours["channel"] == channel]
    if data.empty:
        return _empty("No touches go out")
    data = data.groupby(["weekday", "hour"], observed=True)["touches"].sum().reset_index()
    data["weekday"] = data["weekday"].astype(str)
    title = "Send hours in the recipient's local time" + (f" ({channel})" if channel else "")
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="local hour"),
            y=alt.Y("weekday:N", sort=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], title=None),
            color=alt.Color("touches:Q", scale=alt.Scale(scheme="blues"), title="touches"),
            tooltip=["weekday:N", "hour:O", "touches:Q"],
        )
        .properties(width=_WIDTH, height=alt.Step(22), title=title)
    )


def suppressions_chart(by_reason: pd.DataFrame) -> alt.Chart:
    """Deferred and suppressed touches by reason, from :func:`workbench.cadence.suppressions_by_reason`."""
    if by_reason.empty:
        return _empty("Every touch is kept on time")
    data = by_reason.groupby(["status", "reason"], observed=True)[["touches", "customers"]].sum().reset_index()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None),
            x=alt.X("touches:Q", title="touches"),
            color=alt.Color("status:N", scale=_STATUS_COLORS, title=None),
            tooltip=["status:N", "reason:N", "touches:Q", "customers:Q"],
        )
        .properties(width=_WIDTH, height=alt.Step(20), title="Why touches were deferred or suppressed")
    )


def daily_volume_chart(daily: pd.DataFrame) -> alt.Chart:
    """Touches sent per day and channel, from :func:`workbench.cadence.daily_volume`."""
    if daily.empty:
        return _empty("No touches in the horizon")
    chart = (
        alt.Chart(daily)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(date):T", title="day (UTC)"),
            y=alt.Y("sent:Q", stack=True, title="touches sent"),
            color=alt.Color("channel:N", scale=_CHANNEL_COLORS, title=None),
            tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), "channel:N", "sent:Q", "suppressed:Q"],
        )
        .properties(width=_WIDTH, height=220, title="Daily volume by channel (touches that go out)")
    )
    return zoom_x(legend_highlight(chart, "channel"))
