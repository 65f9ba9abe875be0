"""Charts of predictive customer value: the calibration/holdout check of the purchase model."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

__all__ = ["calibration_chart"]

_WIDTH = 420
_SERIES = alt.Scale(domain=["actual", "predicted (BG/NBD)"], range=["#4c78a8", "#f58518"])


def calibration_chart(calibration: Any, *, n: int = 7) -> alt.Chart:
    """Mean purchases in the holdout period, actual and predicted, by purchases in the calibration period.

    lifetimes' ``plot_calibration_purchases_vs_holdout_purchases`` as a value:
    one line per series over the first ``n`` calibration frequencies (0, 1,
    2, ... repeat purchases), with the number of customers behind each point
    in the tooltip. Takes a :class:`workbench.value.CalibrationHoldout`.
    """
    by = getattr(calibration, "by_frequency", None)
    if by is None or by.empty:
        return (
            alt.Chart(pd.DataFrame({"text": ["No calibration/holdout check: it needs orders in both periods."]}))
            .mark_text(align="left", fontSize=13, color="#666")
            .encode(text="text:N")
            .properties(width=_WIDTH, height=30)
        )
    shown = by.head(n)
    data = pd.concat(
        [
            pd.DataFrame(
                {
                    "frequency_cal": shown["frequency_cal"].to_numpy(),
                    "series": label,
                    "purchases": shown[column].to_numpy(),
                    "customers": shown["customers"].to_numpy(),
                }
            )
            for label, column in (("actual", "actual"), ("predicted (BG/NBD)", "predicted"))
        ],
        ignore_index=True,
    )
    days = getattr(calibration, "holdout_days", None)
    title = "Purchases in the holdout period: actual and predicted"
    if days is not None:
        title += f" ({days:g} days)"
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "frequency_cal:Q", title="repeat purchases in the calibration period", axis=alt.Axis(tickMinStep=1)
            ),
            y=alt.Y("purchases:Q", title="mean purchases in the holdout period"),
            color=alt.Color("series:N", scale=_SERIES, title=None),
            tooltip=["frequency_cal", "series", alt.Tooltip("purchases:Q", format=".3f"), "customers"],
        )
        .properties(width=_WIDTH, height=260, title=title)
    )
