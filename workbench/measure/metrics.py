"""Cross-channel metrics from the messages, orders and events tables, with named denominators.

Definitions follow DOMAIN.md section 4 (as a major ESP defines them). Every
rate in the long table carries its numerator and denominator and names both,
because vendors divide by different things (some by recipients, some by
delivered). A *recipient* here is one delivered message: a customer who gets
the weekly newsletter ten times is ten recipients of that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..models.errors import MeasurementError
from ..models.measurement import AttributionWindows, HealthThresholds, MeasurementSettings
from ..money import CURRENCY_ATTR
from ._prep import NAT, US_PER_HOUR, Prepared, as_us, check_keys, check_messages, join_segments
from .attribution import _core, _settings

__all__ = [
    "DEFAULT_BY",
    "METRIC_DEFINITIONS",
    "channel_metrics",
    "health_alerts",
    "message_outcomes",
    "metric_definitions",
    "metrics_table",
    "summarise_outcomes",
]

DEFAULT_BY = ("journey_id", "step_id", "channel", "variant")

# metric, numerator, denominator, notes
METRIC_DEFINITIONS: tuple[tuple[str, str, str, str], ...] = (
    ("sent", "messages sent", "", "count"),
    ("delivered", "sent − bounced − suppressed", "", "count"),
    ("recipients", "unique customers with a delivered message", "", "count"),
    ("delivery_rate", "delivered", "sent", ""),
    ("bounce_rate", "bounced", "sent", "health check"),
    (
        "open_rate",
        "unique opens",
        "delivered emails",
        "email only; inflated by privacy proxies: never the sole success metric",
    ),
    ("machine_open_share", "machine opens", "all unique opens", "opens flagged as machine opens"),
    ("click_rate", "unique clicks", "delivered", ""),
    ("click_to_open_rate", "unique email clicks", "unique opens", "email only"),
    (
        "conversion_rate",
        "recipients who converted within the attribution window",
        "recipients (delivered)",
        "last touch wins",
    ),
    ("revenue_per_recipient", "attributed revenue", "recipients (delivered)", "last touch wins"),
    ("unsubscribe_rate", "unique unsubscribes or opt-outs", "delivered", "health check"),
    ("spam_complaint_rate", "spam complaints", "delivered emails", "health check; empty when not tracked"),
    (
        "clicks_per_engaged_recipient",
        "unique clicks",
        "engaged recipients (customers who opened or clicked)",
        "engagement depth",
    ),
    (
        "site_visits_per_recipient",
        "site visits within the visit window after delivery",
        "recipients (delivered)",
        "engagement depth; needs events",
    ),
    ("visit_rate", "recipients with a site visit within the visit window", "recipients (delivered)", "needs events"),
)


def metric_definitions() -> pd.DataFrame:
    """The metric definitions as a table: ``metric``, ``numerator``, ``denominator``, ``notes``."""
    return pd.DataFrame(METRIC_DEFINITIONS, columns=["metric", "numerator", "denominator", "notes"])


def _visits(prep: Prepared, events: pd.DataFrame, window_hours: float) -> np.ndarray:
    """Site visits within the window after each delivered message (0 for undelivered)."""
    out = np.zeros(prep.n, dtype=np.int64)
    if events is None or events.empty:
        return out
    ev = events[events["event"].astype("string") == "site_visit"]
    if ev.empty:
        return out
    m_ci, e_ci = prep.customer_code, prep.codes_for(ev["customer_id"])
    idx = np.flatnonzero(prep.delivered)
    t = pd.DataFrame({"mi": idx.astype(np.int64), "ci": m_ci[idx], "at": prep.delivered_us[idx]})
    e = pd.DataFrame({"ci": e_ci, "at": as_us(ev["occurred_at"])})
    e = e[e["ci"] >= 0]
    width = int(window_hours * US_PER_HOUR)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    try:
        con.register("t", t)
        con.register("e", e)
        got = con.execute(
            f"select t.mi, count(*) as n from t join e on t.ci = e.ci and e.at >= t.at and e.at < t.at + {width} "
            "group by t.mi"
        ).fetchnumpy()
    finally:
        con.close()
    out[np.asarray(got["mi"], dtype=np.int64)] = np.asarray(got["n"], dtype=np.int64)
    return out


def message_outcomes(
    messages: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    windows: AttributionWindows | None = None,
    settings: MeasurementSettings | None = None,
    segments: pd.DataFrame | pd.Series | None = None,
    exclude_machine_opens: bool = False,
    start: object | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """One row per message with what happened to it: delivery, engagement, attributed orders, site visits.

    Conversions come from ``orders`` through last-touch attribution with the
    windows of ``settings`` (an order counts once, for its latest qualifying
    touch); without ``orders`` they come from the messages' own
    ``converted_at`` and ``revenue`` (as the sending tool recorded them).

    Returns
    -------
    pandas.DataFrame
        ``message_id``, ``customer_id``, ``channel`` and the present grouping
        columns (``journey_id``, ``step_id``, ``variant``, ``segment``), then 0/1
        ints ``sent``, ``bounced``, ``suppressed``, ``delivered``, ``opened``
        (all opens), ``machine_open``, ``open`` (counted opens: human only when
        ``exclude_machine_opens``), ``click``, ``unsubscribe``, ``conversion``;
        floats ``complaint`` (NaN when complaints are not tracked), ``orders``,
        ``revenue``, ``site_visits`` (NaN without events) and ``visit``.
        ``attrs["conversion_source"]`` says where conversions came from;
        ``attrs["currency"]`` the currency of ``revenue``: the orders' own
        when they are all in one, else ``settings.reporting_currency`` with the
        amounts converted by ``settings.exchange_rates`` (a currency without a
        rate is refused, never added up); ``currency=`` keeps only the orders
        in that currency. Revenue recorded by the sending tool is read as
        given, in the currency the tool records (``attrs["currency"]`` empty
        unless the messages carry a ``currency`` column of one value).
    """
    cfg = _settings(settings, windows)
    msgs = join_segments(messages, segments)
    if orders is not None:
        prep, period, credited = _core(
            msgs, orders, settings=cfg, exclude_machine_opens=exclude_machine_opens, start=start, currency=currency
        )
        revenue_currency = period.attrs.get(CURRENCY_ATTR, "")
        rates = period.attrs.get("exchange_rates", [])
        last = credited[credited["credit_last_touch"] > 0]
        mi = last["mi"].to_numpy()
        n_orders = np.bincount(mi, minlength=prep.n).astype(float)
        # numpy's stub types bincount as int, but with weights it counts in float
        revenue: np.ndarray = np.bincount(mi, weights=last["amount"].to_numpy(float), minlength=prep.n)
        converted = n_orders > 0
        source = "orders, last touch within the attribution windows"
    else:
        prep = Prepared(
            msgs, machine_open_seconds=cfg.machine_open_seconds, exclude_machine_opens=exclude_machine_opens
        )
        converted = (
            (as_us(msgs["converted_at"]) != NAT) if "converted_at" in msgs.columns else np.zeros(prep.n, dtype=bool)
        )
        converted &= prep.delivered
        n_orders = converted.astype(float)
        revenue = (
            pd.to_numeric(msgs["revenue"], errors="coerce").fillna(0.0).to_numpy(float) * converted
            if "revenue" in msgs.columns
            else np.zeros(prep.n)
        )
        source = "messages (converted_at and revenue as recorded by the sending tool)"
        revenue_currency, rates = _recorded_currency(msgs, converted, cfg)
    cols = {
        "message_id": msgs["message_id"].astype("string"),
        "customer_id": msgs["customer_id"].astype("string"),
        "channel": msgs["channel"].astype("string"),
    }
    for key in ("journey_id", "step_id", "variant", "segment"):
        if key in msgs.columns:
            cols[key] = msgs[key].astype("string").fillna("(none)")
    out = pd.DataFrame({k: v.reset_index(drop=True) for k, v in cols.items()})
    delivered = prep.delivered
    out["sent"] = np.ones(prep.n, dtype=np.int8)
    out["bounced"] = prep.bounced.astype(np.int8)
    out["suppressed"] = prep.suppressed.astype(np.int8)
    out["delivered"] = delivered.astype(np.int8)
    out["opened"] = (prep.opened & delivered).astype(np.int8)
    out["machine_open"] = (prep.machine_open & delivered).astype(np.int8)
    out["open"] = (prep.counted_open & delivered).astype(np.int8)
    out["click"] = (prep.clicked & delivered).astype(np.int8)
    out["unsubscribe"] = (prep.unsubscribed & delivered).astype(np.int8)
    out["complaint"] = (prep.complained & delivered).astype(float) if prep.has_complaints else np.nan
    out["conversion"] = converted.astype(np.int8)
    out["orders"] = n_orders
    out["revenue"] = revenue
    if events is not None:
        visits = _visits(prep, events, cfg.visit_window_hours)
        out["site_visits"] = visits.astype(float)
        out["visit"] = (visits > 0).astype(float)
    else:
        out["site_visits"] = np.nan
        out["visit"] = np.nan
    out.attrs["conversion_source"] = source
    out.attrs[CURRENCY_ATTR] = revenue_currency
    out.attrs["exchange_rates"] = rates
    out.attrs["exclude_machine_opens"] = exclude_machine_opens
    return out


def _recorded_currency(
    messages: pd.DataFrame, converted: np.ndarray, settings: MeasurementSettings
) -> tuple[str, list[dict[str, Any]]]:
    """The currency of the revenue the sending tool recorded: the messages' ``currency`` column when it has
    one value among converted messages; several are refused (the metrics would add them up)."""
    if "currency" not in messages.columns or "revenue" not in messages.columns:
        return "", []
    code = messages.loc[converted, "currency"].astype("string").str.strip().str.upper().dropna()
    found = sorted(set(code) - {""})
    if len(found) > 1:
        counts = code.value_counts()
        msg = (
            f"messages.revenue is recorded in {len(found)} currencies "
            f"({', '.join(f'{c} {n:,}' for c, n in counts.items())}), which the metrics would add up. Fix: pass "
            "the orders table (measured in the reporting currency at the strategy's exchange rates), or "
            "measure one currency's messages at a time"
        )
        raise MeasurementError(msg)
    return (found[0] if found else ""), []


_COUNTS = (
    "sent",
    "bounced",
    "suppressed",
    "delivered",
    "opened",
    "machine_open",
    "open",
    "click",
    "unsubscribe",
    "conversion",
    "orders",
    "revenue",
)


def summarise_outcomes(outcomes: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY) -> pd.DataFrame:
    """Aggregate :func:`message_outcomes` into the long metrics table.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``metric`` (see :data:`METRIC_DEFINITIONS`), ``value``,
        ``numerator``, ``numerator_name``, ``denominator``, ``denominator_name``
        (empty for counts), ``currency`` (the currency of an amount: set on
        ``revenue_per_recipient``, empty for counts and rates).
    """
    by = list(by)
    check_keys(outcomes, by)
    o = outcomes
    email = (o["channel"] == "email").to_numpy()
    # keys as categories (sorted, as groupby sorts text): grouping by codes instead of text
    frame = pd.DataFrame({k: o[k].astype("string").fillna("(none)").astype("category") for k in by})
    for c in _COUNTS:
        frame[c] = o[c].to_numpy(dtype=float)
    frame["email_delivered"] = o["delivered"].to_numpy(float) * email
    frame["email_click"] = o["click"].to_numpy(float) * email
    frame["complaint"] = o["complaint"].to_numpy(float)
    frame["site_visits"] = o["site_visits"].to_numpy(float)
    frame["visit"] = o["visit"].to_numpy(float)
    frame["_c"] = pd.factorize(o["customer_id"])[0]
    frame["_engaged"] = ((o["open"] + o["click"]) > 0).to_numpy()
    frame["_deliv"] = o["delivered"].to_numpy() > 0
    if by:
        grouped = frame.groupby(by, sort=True, dropna=False, observed=True)
        sums = grouped[[*_COUNTS, "email_delivered", "email_click"]].sum()
        nan_sums = grouped[["complaint", "site_visits", "visit"]].sum(min_count=1)
        recipients = frame[frame["_deliv"]].groupby(by, dropna=False, observed=True)["_c"].nunique()
        engaged = frame[frame["_engaged"]].groupby(by, dropna=False, observed=True)["_c"].nunique()
    else:
        sums = frame[[*_COUNTS, "email_delivered", "email_click"]].sum().to_frame().T
        nan_sums = frame[["complaint", "site_visits", "visit"]].sum(min_count=1).to_frame().T
        recipients = pd.Series([frame.loc[frame["_deliv"], "_c"].nunique()])
        engaged = pd.Series([frame.loc[frame["_engaged"], "_c"].nunique()])
    s = sums.join(nan_sums)
    s["recipients"] = recipients.reindex(s.index).fillna(0).to_numpy() if by else recipients.to_numpy()
    s["engaged"] = engaged.reindex(s.index).fillna(0).to_numpy() if by else engaged.to_numpy()
    human = "unique human opens" if outcomes.attrs.get("exclude_machine_opens") else "unique opens"
    specs = [
        ("sent", "sent", "messages sent", None, ""),
        ("delivered", "delivered", "delivered", None, ""),
        ("recipients", "recipients", "unique customers delivered", None, ""),
        ("delivery_rate", "delivered", "delivered", "sent", "sent"),
        ("bounce_rate", "bounced", "bounced", "sent", "sent"),
        ("open_rate", "open", human, "email_delivered", "delivered emails"),
        ("machine_open_share", "machine_open", "machine opens", "opened", "all unique opens"),
        ("click_rate", "click", "unique clicks", "delivered", "delivered"),
        ("click_to_open_rate", "email_click", "unique email clicks", "open", human),
        ("conversion_rate", "conversion", "recipients who converted", "delivered", "recipients (delivered)"),
        ("revenue_per_recipient", "revenue", "attributed revenue", "delivered", "recipients (delivered)"),
        ("unsubscribe_rate", "unsubscribe", "unique unsubscribes", "delivered", "delivered"),
        ("spam_complaint_rate", "complaint", "spam complaints", "email_delivered", "delivered emails"),
        ("clicks_per_engaged_recipient", "click", "unique clicks", "engaged", "engaged recipients"),
        (
            "site_visits_per_recipient",
            "site_visits",
            "site visits after delivery",
            "delivered",
            "recipients (delivered)",
        ),
        ("visit_rate", "visit", "recipients with a site visit", "delivered", "recipients (delivered)"),
    ]
    keys = s.index.to_frame(index=False) if by else pd.DataFrame(index=[0])
    parts = []
    for metric, num, num_name, den, den_name in specs:
        numerator = s[num].to_numpy(float)
        if den is None:
            value, denominator = numerator, np.full(len(s), np.nan)
        else:
            denominator = s[den].to_numpy(float)
            value = np.divide(numerator, denominator, out=np.full(len(s), np.nan), where=denominator > 0)
        part = keys.copy()
        part["metric"] = metric
        part["value"] = value
        part["numerator"] = numerator
        part["numerator_name"] = num_name
        part["denominator"] = denominator
        part["denominator_name"] = den_name
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for k in by:
        out[k] = out[k].astype("string")
    money = out["metric"] == "revenue_per_recipient"
    out["currency"] = pd.Series(pd.NA, index=out.index, dtype="string").mask(
        money, outcomes.attrs.get(CURRENCY_ATTR, "") or "(as recorded)"
    )
    out.attrs.update(outcomes.attrs)
    return out


def channel_metrics(
    messages: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    by: Sequence[str] = DEFAULT_BY,
    windows: AttributionWindows | None = None,
    settings: MeasurementSettings | None = None,
    segments: pd.DataFrame | pd.Series | None = None,
    exclude_machine_opens: bool = False,
    start: object | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """The cross-channel metrics of DOMAIN.md section 4 by journey, step, channel, segment or variant.

    A shortcut for ``summarise_outcomes(message_outcomes(...), by=by)``; see
    both for the options and :data:`METRIC_DEFINITIONS` for each formula.

    Returns
    -------
    pandas.DataFrame
        Long table: ``by`` columns, ``metric``, ``value``, ``numerator``,
        ``numerator_name``, ``denominator``, ``denominator_name``.

    Examples
    --------
    >>> from workbench.synth import synthesize
    >>> ds = synthesize(100, seed=3)
    >>> rates = [{"currency": c, "rate": r, "date": "2026-10-31", "source": "example"}
    ...          for c, r in {"GBP": 1.3, "EUR": 1.1, "CAD": 0.7, "AUD": 0.65}.items()]
    >>> settings = MeasurementSettings(reporting_currency="USD", exchange_rates=rates)
    >>> m = channel_metrics(ds.messages, ds.orders, by=["channel"], settings=settings)
    >>> m.loc[m["metric"] == "open_rate", "denominator_name"].iat[0]
    'delivered emails'
    >>> m.loc[m["metric"] == "revenue_per_recipient", "currency"].iat[0]
    'USD'
    """
    msgs = join_segments(messages, segments)
    check_messages(msgs, by)
    outcomes = message_outcomes(
        msgs,
        orders,
        events,
        windows=windows,
        settings=settings,
        exclude_machine_opens=exclude_machine_opens,
        start=start,
        currency=currency,
    )
    return summarise_outcomes(outcomes, by=by)


_VALUE_COLUMNS = frozenset(
    {"metric", "value", "numerator", "numerator_name", "denominator", "denominator_name", "currency"}
)


def _metric_labels(data: pd.DataFrame) -> np.ndarray:
    """``metric (÷ denominator)``, with the currency of an amount: ``revenue_per_recipient in USD (÷ ...)``."""
    name = data["metric"].astype(str)
    if "currency" in data.columns:
        code = data["currency"].astype("string").fillna("")
        name = name.where(code == "", name + " in " + code)
    labels: np.ndarray = np.where(
        data["denominator_name"].astype(str) != "",
        name + " (÷ " + data["denominator_name"].astype(str) + ")",
        name,
    )
    return labels


def _group_columns(metrics: pd.DataFrame) -> list[str]:
    """The grouping columns of the long metrics table: every column but the metric and its value columns."""
    return [c for c in metrics.columns if c not in _VALUE_COLUMNS]


def metrics_table(metrics: pd.DataFrame, *, metrics_shown: Sequence[str] | None = None) -> pd.DataFrame:
    """The long metrics table pivoted for reading: one row per group, one column per metric.

    Column headers name the denominator, e.g. ``open_rate (÷ delivered emails)``, and the currency of
    an amount, e.g. ``revenue_per_recipient in USD (÷ recipients (delivered))``.
    """
    if metrics is None or metrics.empty:
        return pd.DataFrame()
    keys = _group_columns(metrics)
    data = metrics if metrics_shown is None else metrics[metrics["metric"].isin(list(metrics_shown))]
    label = _metric_labels(data)
    order = list(dict.fromkeys(label))
    wide = (
        data.assign(_label=label).pivot_table(
            index=keys, columns="_label", values="value", aggfunc="first", dropna=False, observed=True
        )
        if keys
        else data.assign(_label=label).set_index("_label")["value"].to_frame().T
    )
    wide = wide.reindex(columns=order)
    wide.columns.name = None
    return wide.reset_index() if keys else wide.reset_index(drop=True)


_CHECKS = (
    # metric, check name, email prefix, sms prefix
    ("bounce_rate", "bounce", "email_bounce", "sms_bounce"),
    ("unsubscribe_rate", "unsubscribe / opt-out", "email_unsubscribe", "sms_opt_out"),
    ("spam_complaint_rate", "spam complaints", "spam_complaint", "spam_complaint"),
)

NEXT_ACTIONS = {
    ("bounce", "warning"): "clean the list: drop hard bounces, re-verify addresses collected since the last send",
    ("bounce", "critical"): "pause the step and audit the audience source; resume only after list cleaning",
    ("unsubscribe / opt-out", "warning"): "review frequency and relevance for this audience; tighten the caps",
    ("unsubscribe / opt-out", "critical"): "pause the step; check consent capture, cadence caps and the content",
    ("spam complaints", "warning"): "send only to recently engaged recipients; check the one-click unsubscribe",
    ("spam complaints", "critical"): "stop the step now (mailbox providers reject senders above 0.3%); escalate "
    "to deliverability",
}


def health_alerts(
    metrics: pd.DataFrame,
    *,
    thresholds: HealthThresholds | None = None,
    all_checks: bool = False,
) -> pd.DataFrame:
    """Steps whose bounce, unsubscribe/opt-out or spam-complaint rate crosses a threshold, with the next action.

    Parameters
    ----------
    metrics
        The long table of :func:`channel_metrics` grouped by at least ``channel``
        (typically ``journey_id``, ``step_id``, ``channel``).
    thresholds
        Warning and critical levels per channel (defaults: :class:`HealthThresholds`).
    all_checks
        Return every check (level ``ok`` or ``too few`` included), not only the flagged ones.

    Returns
    -------
    pandas.DataFrame
        The group columns, ``check``, ``rate``, ``numerator``, ``denominator``,
        ``denominator_name``, ``warning``, ``critical``, ``level`` (``critical``,
        ``warning``, ``ok`` or ``too few``) and ``next_action``, critical first.
    """
    th = thresholds or HealthThresholds()
    if "channel" not in metrics.columns:
        msg = (
            "health_alerts needs metrics grouped by channel. Fix: channel_metrics(..., "
            "by=['journey_id', 'step_id', 'channel'])"
        )
        raise MeasurementError(msg)
    keys = _group_columns(metrics)
    delivered = metrics[metrics["metric"] == "delivered"].set_index(keys)["value"]
    rows = []
    for metric, check, email_prefix, sms_prefix in _CHECKS:
        part = metrics[metrics["metric"] == metric]
        if part.empty:
            continue
        part = part[part["value"].notna()]
        is_email = (part["channel"] == "email").to_numpy()
        if metric == "spam_complaint_rate":
            warn = np.full(len(part), th.spam_complaint_warning)
            crit = np.full(len(part), th.spam_complaint_critical)
        else:
            warn = np.where(is_email, getattr(th, f"{email_prefix}_warning"), getattr(th, f"{sms_prefix}_warning"))
            crit = np.where(is_email, getattr(th, f"{email_prefix}_critical"), getattr(th, f"{sms_prefix}_critical"))
        n_deliv = delivered.reindex(pd.MultiIndex.from_frame(part[keys]) if len(keys) > 1 else part[keys[0]])
        enough = n_deliv.to_numpy(float) >= th.min_delivered
        rate = part["value"].to_numpy(float)
        level = np.where(
            ~enough, "too few", np.where(rate >= crit, "critical", np.where(rate >= warn, "warning", "ok"))
        )
        out = part[keys].copy()
        out["check"] = check
        out["rate"] = rate
        out["numerator"] = part["numerator"].to_numpy()
        out["denominator"] = part["denominator"].to_numpy()
        out["denominator_name"] = part["denominator_name"].to_numpy()
        out["warning"] = warn
        out["critical"] = crit
        out["level"] = level
        out["next_action"] = [NEXT_ACTIONS.get((check, lv), "") for lv in level]
        rows.append(out)
    columns = [
        *keys,
        "check",
        "rate",
        "numerator",
        "denominator",
        "denominator_name",
        "warning",
        "critical",
        "level",
        "next_action",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    res = pd.concat(rows, ignore_index=True)
    if not all_checks:
        res = res[res["level"].isin(["warning", "critical"])]
    rank = res["level"].map({"critical": 0, "warning": 1, "ok": 2, "too few": 3})
    return (
        res.assign(_r=rank)
        .sort_values(["_r", "rate"], ascending=[True, False])
        .drop(columns="_r")
        .reset_index(drop=True)[columns]
    )
