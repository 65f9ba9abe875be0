"""The experiment readout: one pure function from loaded data to every table the results report shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import pandas as pd

from ..models.dataset import Dataset
from ..models.errors import MeasurementError
from ..models.measurement import READOUT_DATASETS, MeasurementSettings
from ..money import CURRENCY_ATTR, orders_in_one_currency
from ..profiles import order_summary
from ..value import customer_value as predict_customer_value
from .attribution import attribute, customer_values
from .experiments import compare_arms, lift_by_segment
from .metrics import DEFAULT_BY, health_alerts, message_outcomes, metric_definitions, summarise_outcomes

__all__ = [
    "READOUT_DATASETS",
    "READOUT_DEFAULTS",
    "Readout",
    "experiment_readout",
    "incremental_clv",
]

# kind of data -> (arm column, control, metrics, segment column)
READOUT_DEFAULTS = {
    "experiment": ("arm", "control", ("visit", "conversion", "spend"), "zip_code"),
    "messages": ("variant", "A", ("click", "conversion", "revenue"), "loyalty_tier"),
}


@dataclass(frozen=True)
class Readout:
    """Everything the results report shows. Tables of a part that does not apply are empty.

    ``results`` is the experiment table written as ``experiment_results.csv``;
    ``by_segment`` the same comparison within each segment; ``metrics``,
    ``channel_summary``, ``segment_metrics``, ``alerts`` and ``attribution``
    exist only for a message history (the journeys' own sends), and
    ``incremental_clv`` (predicted customer value compared between the arms
    of each step, see :func:`incremental_clv`) only where customer values
    could be predicted or were given.
    """

    kind: str
    arm: str
    control: str
    metrics_compared: tuple[str, ...]
    segment: str | None
    results: pd.DataFrame
    by_segment: pd.DataFrame
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    channel_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    segment_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    health_checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    attribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    incremental_clv: pd.DataFrame = field(default_factory=pd.DataFrame)
    definitions: pd.DataFrame = field(default_factory=metric_definitions)
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """The treated arms only, with lift, interval and adjusted p-value (for a quick read)."""
        keep = [
            c
            for c in self.results.columns
            if c
            in {
                "journey_id",
                "step_id",
                "arm",
                "metric",
                "n",
                "rate",
                "mean",
                "control_value",
                "lift_vs_control",
                "ci_low",
                "ci_high",
                "relative_lift",
                "p_adjusted",
                "significant",
            }
        ]
        return self.results.loc[self.results["test"] != "control", keep].reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables a run writes, by file name (``experiment_results.csv`` first); empty parts are left out."""
        named = {
            "experiment_results.csv": self.results,
            "lift_by_segment.csv": self.by_segment,
            "channel_metrics.csv": self.metrics,
            "health_alerts.csv": self.health_checks,
            "attribution.csv": self.attribution,
            "incremental_clv.csv": self.incremental_clv,
        }
        return {name: df for name, df in named.items() if name == "experiment_results.csv" or not df.empty}

    def notes_markdown(self) -> str:
        """The notes as a Markdown list (for ``IPython.display.Markdown``)."""
        return "\n".join(f"- {n}" for n in self.notes)


def incremental_clv(
    units: pd.DataFrame,
    values: pd.Series | pd.DataFrame,
    *,
    arm: str = "variant",
    control: str = "A",
    by: Sequence[str] = ("journey_id", "step_id"),
    alpha: float = 0.05,
    correction: str = "holm",
    mean_test: str = "welch",
    seed: int = 0,
) -> pd.DataFrame:
    """Predicted customer value of each arm against the control, and the value the arm added.

    Each unit (a delivered message, or a customer) carries its customer's
    predicted value, 0 for a customer with none; arms are compared on its mean
    as any mean metric (:func:`workbench.measure.compare_arms`), and the
    incremental value of an arm is its lift times its units.

    Parameters
    ----------
    units
        One row per unit with ``customer_id``, the ``arm`` column and the ``by`` columns.
    values
        Predicted value per customer: a Series indexed by ``customer_id`` or the
        frame of ``workbench.value.customer_value(profiles).frame`` (its ``clv_*`` column).

    Returns
    -------
    pandas.DataFrame
        :func:`~workbench.measure.compare_arms`' columns for the metric ``clv``,
        plus ``incremental_clv``, ``incremental_ci_low`` and ``incremental_ci_high``
        (lift and its interval times ``n``; missing on the control's rows).
    """
    per_customer = customer_values(values)
    keys = [k for k in by if k in units.columns]
    scored = units.assign(clv=per_customer.reindex(units["customer_id"].astype("string")).fillna(0.0).to_numpy())
    out = compare_arms(
        scored,
        arm=arm,
        control=control,
        metrics=["clv"],
        kinds={"clv": "mean"},
        by=keys,
        alpha=alpha,
        correction=correction,
        mean_test=mean_test,  # type: ignore[arg-type]
        seed=seed,
    )
    out["incremental_clv"] = out["lift_vs_control"] * out["n"]
    out["incremental_ci_low"] = out["ci_low"] * out["n"]
    out["incremental_ci_high"] = out["ci_high"] * out["n"]
    return out


def _predicted_values(
    orders: pd.DataFrame | None, given: pd.Series | pd.DataFrame | None
) -> tuple[pd.Series | None, str]:
    """Customer values for incremental CLV: given, or predicted from the orders (in one currency); and a note."""
    if given is not None:
        return customer_values(given), "Incremental CLV: the customer values given to the readout"
    if orders is None or orders.empty:
        return None, "No incremental CLV: the data has no orders to predict customer value from."
    as_of = pd.Timestamp(orders["ordered_at"].max()).tz_convert("UTC").normalize().date()
    profiles = order_summary(orders, as_of=as_of)
    cv = predict_customer_value(profiles)
    if cv.bg is None or cv.gg is None:
        reason = " ".join(n for n in cv.notes if n.startswith("No "))
        return None, f"No incremental CLV: {reason}"
    values = cv.frame.set_index("customer_id")[f"clv_{cv.horizon_days:g}d"]
    return values, (
        f"Incremental CLV: {cv.horizon_days:g}-day CLV predicted by BG/NBD and Gamma-Gamma from the orders up to "
        f"{as_of} (after the sends, so it is an outcome of them), discounted at {cv.discount_rate:.0%} a month; "
        "customers without a purchase count 0"
        + (f"; in {orders.attrs[CURRENCY_ATTR]}" if orders.attrs.get(CURRENCY_ATTR) else "")
    )


def _currency_note(orders: pd.DataFrame | None, attrs: dict[str, Any]) -> str:
    """Which currency the revenue figures are in, and the rates they were converted with."""
    code = attrs.get(CURRENCY_ATTR) or (orders.attrs.get(CURRENCY_ATTR) if orders is not None else "")
    if not code:
        return "Revenue is in the currency the amounts were recorded in (the data does not say which)."
    rates = (orders.attrs.get("exchange_rates") if orders is not None else None) or []
    if not rates:
        return f"Revenue and CLV are in {code}: every order is in {code}."
    listed = "; ".join(f"1 {r['currency']} = {r['rate']:g} {code} on {r['date']} ({r['source']})" for r in rates)
    return f"Revenue and CLV are in {code}, orders in other currencies converted at the strategy's rates: {listed}."


class _Comparison(TypedDict):
    """How arms are compared, the same for the whole table and by segment."""

    alpha: float
    correction: str
    mean_test: Literal["welch", "bootstrap"]
    seed: int


def experiment_readout(
    data: pd.DataFrame | Dataset,
    *,
    control: str | None = None,
    metrics: Sequence[str] | None = None,
    segment: str | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    mean_test: Literal["welch", "bootstrap"] = "welch",
    seed: int = 0,
    settings: MeasurementSettings | None = None,
    exclude_machine_opens: bool = False,
    customer_value: pd.Series | pd.DataFrame | None = None,
    non_converting: str = "window",
) -> Readout:
    """Build the results readout from a unit-level experiment or from a dataset's message history.

    Parameters
    ----------
    data
        Either a DataFrame with one row per unit, an ``arm`` column and outcome
        columns (e.g. :func:`workbench.io.load_hillstrom`), or a
        :class:`workbench.models.dataset.Dataset` with a messages table (variants of
        each journey step are compared, one delivered message per unit).
    control, metrics, segment
        Control arm, outcomes to compare and the column for lift by segment;
        defaults in :data:`READOUT_DEFAULTS` (``control``; visit, conversion,
        spend; zip_code for an experiment table, ``A``; click, conversion,
        revenue; the customers' loyalty_tier for messages). Pass ``segment=""``
        to skip lift by segment.
    alpha, correction, mean_test, seed
        As in :func:`workbench.measure.compare_arms`.
    settings
        Attribution windows and health thresholds (default :class:`MeasurementSettings`).
    customer_value
        Predicted value per customer (a Series indexed by ``customer_id`` or
        ``workbench.value.customer_value(profiles).frame``) for the incremental
        CLV of each arm and the CLV column of attribution. By default, for a
        message history, it is predicted from the dataset's orders up to the
        last order (:func:`workbench.value.customer_value`); an experiment
        table has no order history, so no incremental CLV.
    non_converting
        How the Markov model cuts non-converting paths (see
        :func:`workbench.measure.attribution_paths`).
    """
    cfg = settings or MeasurementSettings()
    options: _Comparison = {"alpha": alpha, "correction": correction, "mean_test": mean_test, "seed": seed}
    if isinstance(data, pd.DataFrame):
        arm, default_control, default_metrics, default_segment = READOUT_DEFAULTS["experiment"]
        if arm not in data.columns:
            msg = (
                "an experiment table needs an 'arm' column (one row per unit). "
                "Fix: load it with workbench.io.load_hillstrom or add the column"
            )
            raise MeasurementError(msg)
        ctrl = control or default_control
        wanted = list(metrics or [m for m in default_metrics if m in data.columns])
        if not wanted:
            msg = "no metrics to compare. Fix: pass metrics=[...] naming outcome columns"
            raise MeasurementError(msg)
        seg: str | None = default_segment if segment is None else segment
        seg = seg if seg and seg in data.columns else None
        results = compare_arms(data, arm=arm, control=ctrl, metrics=wanted, **options)
        by_segment = (
            lift_by_segment(data, segment=seg, arm=arm, control=ctrl, metrics=wanted, **options)
            if seg
            else pd.DataFrame()
        )
        notes: tuple[str, ...] = (
            f"{len(data):,} units; arms {', '.join(sorted(data[arm].astype(str).unique()))}; control '{ctrl}'.",
            "Lift is the absolute difference arm − control with its "
            f"{1 - alpha:.0%} interval; relative lift is arm ÷ control − 1.",
            f"Rates: two-proportion score test and interval (statsmodels). Means: {mean_test}.",
            f"p-values adjusted with {correction} across the arms of each metric; by segment, across segments "
            "and arms of each metric.",
            "No incremental CLV: an experiment table has no order history to predict customer value from.",
        )
        return Readout(
            kind="experiment",
            arm=arm,
            control=ctrl,
            metrics_compared=tuple(wanted),
            segment=seg,
            results=results,
            by_segment=by_segment,
            notes=notes,
        )
    messages = getattr(data, "messages", None)
    if messages is None:
        msg = (
            "the dataset has no messages table: nothing to measure. "
            "Fix: add messages.csv (message_id, customer_id, channel, sent_at ...) to the data folder"
        )
        raise MeasurementError(msg)
    arm, default_control, default_metrics, default_segment = READOUT_DEFAULTS["messages"]
    customers = getattr(data, "customers", None)
    seg = default_segment if segment is None else segment
    segments = None
    if seg and customers is not None and seg in customers.columns:
        segments = pd.DataFrame(
            {"customer_id": customers["customer_id"], "segment": customers[seg].astype("string").fillna("(none)")}
        )
    else:
        seg = None
    orders = orders_in_one_currency(data.orders, settings=cfg) if data.orders is not None else None
    outcomes = message_outcomes(
        messages,
        orders,
        getattr(data, "events", None),
        settings=cfg,
        segments=segments,
        exclude_machine_opens=exclude_machine_opens,
    )
    by = [k for k in DEFAULT_BY if k in outcomes.columns]
    metrics_long = summarise_outcomes(outcomes, by=by)
    channel_summary = summarise_outcomes(outcomes, by=["channel"])
    segment_metrics = summarise_outcomes(outcomes, by=["channel", "segment"]) if seg else pd.DataFrame()
    step_keys = [k for k in ("journey_id", "step_id", "channel") if k in outcomes.columns]
    checks = health_alerts(summarise_outcomes(outcomes, by=step_keys), thresholds=cfg.health, all_checks=True)
    alerts = checks[checks["level"].isin(["warning", "critical"])].reset_index(drop=True)
    values, value_note = _predicted_values(orders, customer_value)
    attribution = attribute(
        messages,
        orders,
        by=[k for k in ("journey_id", "channel") if k in messages.columns],
        settings=cfg,
        exclude_machine_opens=exclude_machine_opens,
        customer_value=values,
        non_converting=non_converting,
    )
    if arm not in outcomes.columns:
        msg = (
            "messages have no 'variant' column, so there are no arms to compare. "
            "Fix: add variant (A, B, ...) to messages"
        )
        raise MeasurementError(msg)
    units = outcomes[outcomes["delivered"] == 1]
    exp_by = [k for k in ("journey_id", "step_id") if k in units.columns]
    arms_per = units.groupby(exp_by)[arm].transform("nunique") if exp_by else units[arm].nunique()
    units = units[arms_per > 1]
    ctrl = control or default_control
    wanted = list(metrics or default_metrics)
    clv_table = pd.DataFrame()
    if units.empty:
        results = pd.DataFrame()
        by_segment = pd.DataFrame()
    else:
        if values is not None:
            clv_table = incremental_clv(
                units,
                values,
                arm=arm,
                control=ctrl,
                by=exp_by,
                alpha=alpha,
                correction=correction,
                mean_test=mean_test,
                seed=seed,
            )
            value_note += f"; compared between the arms of {len(clv_table[clv_table['test'] != 'control']):,} variants."
        results = compare_arms(units, arm=arm, control=ctrl, metrics=wanted, by=exp_by, **options)
        by_segment = (
            lift_by_segment(units, segment="segment", arm=arm, control=ctrl, metrics=wanted, by=exp_by, **options)
            if seg
            else pd.DataFrame()
        )
        if seg and not by_segment.empty:
            by_segment["segment_by"] = seg
    w = cfg.attribution_windows
    notes = (
        f"{len(messages):,} messages ({(messages['channel'] == 'email').sum():,} email, "
        f"{(messages['channel'] == 'sms').sum():,} SMS); conversions from {outcomes.attrs['conversion_source']}.",
        f"Attribution windows: email open {w.email_open_hours:g} h, email click {w.email_click_hours:g} h, "
        f"SMS click {w.sms_click_hours:g} h, SMS delivery {w.sms_delivery_hours:g} h; last touch wins in the metrics.",
        "Denominators: open rate ÷ delivered emails; click, conversion, revenue per recipient and unsubscribe "
        "rate ÷ delivered messages (one recipient per delivered message); bounce rate ÷ sent.",
        "Opens are "
        + (
            "human only (machine opens excluded)."
            if exclude_machine_opens
            else "all opens (machine opens included, see machine_open_share)."
        ),
        f"Experiments: variants of each journey step against '{ctrl}', one delivered message per unit "
        f"(a customer can appear several times); p-values adjusted with {correction}.",
        f"Health: {len(checks)} checks, {int((checks['level'] == 'critical').sum())} critical, "
        f"{int((checks['level'] == 'warning').sum())} warnings.",
        "Markov attribution: non-converting paths "
        + (
            "are cut where an attribution window closes, the rule of converting paths"
            if non_converting == "window"
            else "are each customer's whole history without an order"
        )
        + "; orders without a qualifying touch are the state 'none', a converting path of their own, which "
        "takes its share of the credit like a channel.",
        value_note if value_note.endswith(".") else value_note + ".",
        _currency_note(orders, outcomes.attrs),
    )
    return Readout(
        kind="messages",
        arm=arm,
        control=ctrl,
        metrics_compared=tuple(wanted),
        segment=seg,
        results=results,
        by_segment=by_segment,
        metrics=metrics_long,
        channel_summary=channel_summary,
        segment_metrics=segment_metrics,
        alerts=alerts,
        health_checks=checks,
        attribution=attribution,
        incremental_clv=clv_table,
        notes=notes,
    )
