"""Attribution of orders to email and SMS touches: five rule-based models and a Markov-chain model.

A message *touches* a customer when it is opened, clicked or (for SMS)
delivered; an order counts for a touch when it is placed within that touch
type's window (:class:`~workbench.measure.settings.AttributionWindows`). The
touches that qualify for one order, in time order, are its *path*; each model
splits the order between them:

- ``last_touch``: all credit to the latest touch (what ESPs report);
- ``first_touch``: all credit to the earliest;
- ``linear``: equal shares;
- ``time_decay``: weights halve every ``time_decay_half_life_hours`` before the order;
- ``position_based``: 40% first, 40% last, 20% shared by the middle (weights configurable);
- ``markov``: the removal effect of each state (a journey, channel ... as grouped)
  in a first-order Markov chain over converting and non-converting paths,
  normalised so the effects add up to one.

Orders placed with no qualifying touch are *unattributed*: with
``include_unattributed`` they are credited to the state ``none`` so that every
model distributes the same total.

In the Markov model ``none`` is a state like any channel: each unattributed
order is a converting path of its own, ``start → none → conversion``. Its
removal effect is the share of conversions that no touch preceded, and the
shares are normalised over every state, ``none`` included, so the channels'
shares add up to one minus the share of ``none``.

Non-converting paths follow the windowing rule of converting ones
(``non_converting="window"``, the default): a converting path holds the
touches whose windows still cover its order, so a non-converting path holds
consecutive touches of one customer that no order followed, each still
covering the last (a new path starts once a window has closed without a
touch). ``non_converting="customer"`` makes each customer's touches that
led to no order one path over the whole history, as earlier versions did:
long paths that pile transitions onto the channels sent most often (on the
sample data, 15.8 touches on average against 1.3 for converting paths) and
shift Markov credit towards them.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from ..models.errors import MeasurementError
from ..models.measurement import AttributionWindows, MeasurementSettings
from ..money import CURRENCY_ATTR, orders_in_one_currency
from ._prep import US_PER_HOUR, Prepared, as_us, check_messages, join_segments, key_frame, valid_orders

__all__ = [
    "ATTRIBUTION_MODELS",
    "NON_CONVERTING_RULES",
    "RULE_MODELS",
    "attribute",
    "attribution_credits",
    "attribution_paths",
    "customer_values",
    "markov_attribution",
    "rule_credits",
]

RULE_MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based")
ATTRIBUTION_MODELS = (*RULE_MODELS, "markov")
NONE_STATE = "none"
NON_CONVERTING_RULES = ("window", "customer")


def rule_credits(
    pairs: pd.DataFrame,
    *,
    half_life_hours: float = 168.0,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> pd.DataFrame:
    """Credit columns for (order, touch) pairs under every rule-based model.

    Parameters
    ----------
    pairs
        One row per touch that qualifies for an order, with ``order_id``,
        ``touch_at`` and ``ordered_at`` (timestamps, or int64 microseconds).
    half_life_hours, position_weights
        Time-decay half-life; position-based weights of first, middle (shared) and last touch.

    Returns
    -------
    pandas.DataFrame
        The pairs sorted by order and touch time, with ``position`` (1 = first),
        ``touches`` (path length) and ``credit_<model>`` for each of
        :data:`RULE_MODELS`; each order's credits add up to 1 in every model.
    """
    out = pairs.sort_values(["order_id", "touch_at"], kind="stable", ignore_index=True)
    order = out["order_id"]
    n = order.groupby(order, sort=False).transform("size").to_numpy()
    pos = order.groupby(order, sort=False).cumcount().to_numpy() + 1
    out["position"] = pos
    out["touches"] = n
    out["credit_last_touch"] = (pos == n).astype(float)
    out["credit_first_touch"] = (pos == 1).astype(float)
    out["credit_linear"] = 1.0 / n
    touch_at, ordered_at = out["touch_at"], out["ordered_at"]
    t_us = touch_at.to_numpy() if pd.api.types.is_integer_dtype(touch_at.dtype) else as_us(touch_at)
    o_us = ordered_at.to_numpy() if pd.api.types.is_integer_dtype(ordered_at.dtype) else as_us(ordered_at)
    age_h = (o_us - t_us) / US_PER_HOUR
    weight = np.exp2(-age_h / half_life_hours)
    total = pd.Series(weight).groupby(order.to_numpy(), sort=False).transform("sum").to_numpy()
    out["credit_time_decay"] = weight / total
    w_first, w_mid, w_last = position_weights
    ends = w_first + w_last
    two = np.where(pos == 1, w_first / ends if ends else 0.5, w_last / ends if ends else 0.5)
    many = np.where(pos == 1, w_first, np.where(pos == n, w_last, w_mid / np.maximum(n - 2, 1)))
    out["credit_position_based"] = np.where(n == 1, 1.0, np.where(n == 2, two, many))
    return out


def _pairs(prep: Prepared, orders: pd.DataFrame, windows: AttributionWindows) -> pd.DataFrame:
    """(order row, message row) pairs where the message has a touch whose window covers the order."""
    touches = prep.touches(windows)
    m_ci, o_ci = prep.customer_code, prep.codes_for(orders["customer_id"])
    t = pd.DataFrame(
        {
            "mi": touches["mi"].to_numpy(),
            "ci": m_ci[touches["mi"].to_numpy()],
            "touch_us": touches["touch_us"].to_numpy(),
            "end_us": touches["end_us"].to_numpy(),
        }
    )
    o = pd.DataFrame({"oi": np.arange(len(orders), dtype=np.int64), "ci": o_ci, "at_us": as_us(orders["ordered_at"])})
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    try:
        con.register("t", t)
        con.register("o", o)
        got = con.execute(
            """
            select o.oi, t.mi, max(t.touch_us) as touch_us, any_value(o.at_us) as at_us
            from o join t on o.ci = t.ci and t.touch_us <= o.at_us and o.at_us < t.end_us
            group by o.oi, t.mi
            """
        ).fetchnumpy()
    finally:
        con.close()
    return pd.DataFrame({k: np.asarray(v) for k, v in got.items()}).astype(
        {"oi": "int64", "mi": "int64", "touch_us": "int64", "at_us": "int64"}
    )


def _period_orders(
    prep: Prepared,
    orders: pd.DataFrame,
    start: object | None,
    *,
    settings: MeasurementSettings | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    valid = orders_in_one_currency(valid_orders(orders), settings=settings, only=currency)
    at = as_us(valid["ordered_at"])
    begin = prep.sent_us.min() if start is None else as_us(pd.Series([pd.Timestamp(start)]))[0]
    if prep.n == 0:
        return valid.iloc[0:0]
    kept = valid.loc[at >= begin]
    kept.attrs.update(valid.attrs)
    return kept


def _core(
    messages: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    settings: MeasurementSettings,
    exclude_machine_opens: bool,
    start: object | None,
    currency: str | None = None,
) -> tuple[Prepared, pd.DataFrame, pd.DataFrame]:
    prep = Prepared(
        messages, machine_open_seconds=settings.machine_open_seconds, exclude_machine_opens=exclude_machine_opens
    )
    found = _period_orders(prep, orders, start, settings=settings, currency=currency)
    period = found.reset_index(drop=True)
    period.attrs.update(found.attrs)
    pairs = _pairs(prep, period, settings.attribution_windows)
    pairs = pairs.rename(columns={"oi": "order_id", "touch_us": "touch_at", "at_us": "ordered_at"})
    pairs = pairs.sort_values(["order_id", "touch_at", "mi"], kind="stable", ignore_index=True)
    credited = rule_credits(
        pairs, half_life_hours=settings.time_decay_half_life_hours, position_weights=settings.position_weights
    )
    credited["amount"] = period["amount"].to_numpy(dtype=float)[credited["order_id"].to_numpy()]
    return prep, period, credited


def _settings(settings: MeasurementSettings | None, windows: AttributionWindows | None) -> MeasurementSettings:
    base = settings or MeasurementSettings()
    return base if windows is None else base.model_copy(update={"attribution_windows": windows})


def attribution_credits(
    messages: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    windows: AttributionWindows | None = None,
    settings: MeasurementSettings | None = None,
    exclude_machine_opens: bool = False,
    start: object | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """Every (order, message) pair where the message touched the customer within its window before the order.

    Only placed orders with a positive amount from ``start`` on (default: the
    first message sent) are attributed. Amounts are in one currency, named in
    the ``currency`` column: the orders' own when they are all in one, else
    converted into ``settings.reporting_currency`` with
    ``settings.exchange_rates`` (:func:`workbench.money.orders_in_one_currency`;
    a currency without a rate is refused); ``currency=`` keeps only the orders
    in that currency.

    Returns
    -------
    pandas.DataFrame
        ``order_id``, ``customer_id``, ``ordered_at``, ``amount``, ``message_id``,
        ``channel``, ``touch_at`` (the message's latest qualifying touch before
        the order), ``position``, ``touches`` and one ``credit_<model>`` column per
        rule-based model (each order's credits add up to 1).
    """
    cfg = _settings(settings, windows)
    prep, period, credited = _core(
        messages, orders, settings=cfg, exclude_machine_opens=exclude_machine_opens, start=start, currency=currency
    )
    oi, mi = credited["order_id"].to_numpy(), credited["mi"].to_numpy()
    out = pd.DataFrame(
        {
            "order_id": period["order_id"].to_numpy()[oi],
            "customer_id": period["customer_id"].to_numpy()[oi],
            "ordered_at": period["ordered_at"].to_numpy()[oi],
            "amount": credited["amount"].to_numpy(),
            "message_id": messages["message_id"].to_numpy()[mi],
            "channel": prep.channel[mi],
            "touch_at": pd.to_datetime(credited["touch_at"].to_numpy(), unit="us", utc=True),
            "position": credited["position"].to_numpy(),
            "touches": credited["touches"].to_numpy(),
        }
    )
    out["ordered_at"] = pd.to_datetime(out["ordered_at"], utc=True)
    out.insert(4, "currency", period.attrs.get(CURRENCY_ATTR, ""))
    for model in RULE_MODELS:
        out[f"credit_{model}"] = credited[f"credit_{model}"].to_numpy()
    out.attrs[CURRENCY_ATTR] = period.attrs.get(CURRENCY_ATTR, "")
    out.attrs["exchange_rates"] = period.attrs.get("exchange_rates", [])
    return out


def _state_labels(
    messages: pd.DataFrame, by: Sequence[str]
) -> tuple[np.ndarray, list[str], dict[str, tuple[str, ...]]]:
    """A state code per message, the state labels (values of ``by`` joined with `` · ``) and label → key values."""
    if not by:
        return np.zeros(len(messages), dtype=np.int64), ["all"], {"all": ()}
    keys = key_frame(messages, by)
    codes: np.ndarray = keys.groupby(list(by), sort=True, dropna=False).ngroup().to_numpy().astype(np.int64)
    first = pd.Series(np.arange(len(keys))).groupby(codes).first()
    uniq = keys.iloc[first.to_numpy()]
    tuples = [tuple(str(v) for v in row) for row in uniq.itertuples(index=False, name=None)]
    labels = [" · ".join(t) for t in tuples]
    return codes, labels, dict(zip(labels, tuples, strict=True))


def customer_values(customer_value: pd.Series | pd.DataFrame) -> pd.Series:
    """A customer value Series indexed by ``customer_id`` from a Series or a predicted-value frame.

    A frame needs ``customer_id`` and exactly one ``clv_*`` column (as in
    ``workbench.value.customer_value(profiles).frame``); missing predictions count 0.
    """
    if isinstance(customer_value, pd.DataFrame):
        cols = [c for c in customer_value.columns if str(c).startswith("clv")]
        if "customer_id" not in customer_value.columns or len(cols) != 1:
            msg = (
                "customer_value: a frame needs customer_id and one clv_* column (columns found: "
                f"{', '.join(map(str, customer_value.columns[:12]))}). Fix: pass workbench.value.customer_value("
                "profiles).frame, or a Series of values indexed by customer_id"
            )
            raise MeasurementError(msg)
        values = pd.Series(
            pd.to_numeric(customer_value[cols[0]], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
            index=pd.Index(customer_value["customer_id"].astype("string"), name="customer_id"),
        )
    else:
        values = pd.to_numeric(customer_value, errors="coerce").astype(float)
        values.index = pd.Index(values.index.astype("string"), name="customer_id")
    if values.index.duplicated().any():
        dup = values.index[values.index.duplicated()].unique()[:5].tolist()
        msg = f"customer_value: customer ids appear more than once (e.g. {', '.join(dup)}). Fix: one value a customer"
        raise MeasurementError(msg)
    return values.fillna(0.0)


def _customer_values(
    period: pd.DataFrame, customer_value: pd.Series | pd.DataFrame | None, horizon_days: float
) -> pd.Series:
    """Value of each ordering customer: given, or observed revenue within the horizon from their first order."""
    if customer_value is not None:
        return customer_values(customer_value)
    at = as_us(period["ordered_at"])
    frame = pd.DataFrame({"c": period["customer_id"].to_numpy(), "at": at, "amount": period["amount"].to_numpy(float)})
    first = frame.groupby("c")["at"].transform("min").to_numpy()
    inside = at < first + int(horizon_days * 24 * US_PER_HOUR)
    return frame.loc[inside].groupby("c")["amount"].sum()


def attribution_paths(
    messages: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: Sequence[str] = ("channel",),
    windows: AttributionWindows | None = None,
    settings: MeasurementSettings | None = None,
    segments: pd.DataFrame | pd.Series | None = None,
    include_unattributed: bool = True,
    exclude_machine_opens: bool = False,
    start: object | None = None,
    non_converting: str = "window",
    currency: str | None = None,
) -> pd.DataFrame:
    """Customer paths for the Markov model: converting paths (touches before each order) and the rest.

    Each order gives one converting path: its qualifying touches in time order,
    or the single state ``none`` when it had none (if ``include_unattributed``).
    A customer's touches that led to no order form the non-converting paths:
    with ``non_converting="window"`` (the default) a path runs while each of
    its touches' windows still covers the latest touch, the rule a converting
    path follows for its order, and a touch after a closed window starts a new
    path; with ``"customer"`` all of them form one path. A touch's window is
    that of its message's latest touch type (an email opened and clicked is
    covered until the later of the two windows ends). A state is the
    message's values of ``by`` joined with `` · ``.

    Returns
    -------
    pandas.DataFrame
        ``path_id``, ``customer_id``, ``position`` (1 = first), ``state``,
        ``converted`` (bool, same on every row of a path) and ``value`` (the
        order amount on converting paths, 0 otherwise).
    """
    _check_rule(non_converting)
    cfg = _settings(settings, windows)
    msgs = join_segments(messages, segments)
    prep, period, credited = _core(
        msgs, orders, settings=cfg, exclude_machine_opens=exclude_machine_opens, start=start, currency=currency
    )
    return _paths(
        prep,
        period,
        credited,
        by=by,
        include_unattributed=include_unattributed,
        windows=cfg.attribution_windows,
        non_converting=non_converting,
    )


def _check_rule(non_converting: str) -> None:
    if non_converting not in NON_CONVERTING_RULES:
        msg = (
            f"unknown non_converting rule {non_converting!r}. Fix: use 'window' (paths split where an attribution "
            "window closes, like converting paths) or 'customer' (one path per customer)"
        )
        raise MeasurementError(msg)


def _window_breaks(ci: np.ndarray, at: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Where a new non-converting path starts, for touches sorted by customer and time.

    A path runs while every touch in it still covers the next one (the next
    touch comes before the earliest window end so far), so that each path is
    the set of touches an order at its last touch would credit: the rule of a
    converting path. A new customer, or a touch after a window has closed,
    starts a new path.
    """
    n = len(ci)
    breaks: np.ndarray = np.ones(n, dtype=bool)
    if n == 0:
        return breaks
    # The running minimum of window ends restarts at each break, which depends on the earlier breaks:
    # one pass in numpy per round, until no touch changes (rounds ~ the longest chain of overlapping touches).
    same = np.r_[False, ci[1:] == ci[:-1]]
    breaks = ~same | (at >= np.r_[np.iinfo(np.int64).min, end[:-1]])
    while True:
        group = np.cumsum(breaks) - 1
        first_end: np.ndarray = pd.Series(end).groupby(group).cummin().to_numpy()
        prev_min = np.r_[np.iinfo(np.int64).min, first_end[:-1]]
        new = ~same | (at >= prev_min)
        if np.array_equal(new, breaks):
            return breaks
        breaks = new


def _paths(
    prep: Prepared,
    period: pd.DataFrame,
    credited: pd.DataFrame,
    *,
    by: Sequence[str],
    include_unattributed: bool,
    windows: AttributionWindows,
    non_converting: str = "window",
) -> pd.DataFrame:
    codes, labels, _ = _state_labels(prep.messages, by)
    categories = [*labels, NONE_STATE] if NONE_STATE not in labels else labels
    none_code = categories.index(NONE_STATE)
    oi = credited["order_id"].to_numpy()
    amount = period["amount"].to_numpy(float)
    order_customer = period["customer_id"].astype("string").reset_index(drop=True)
    path_ids = [oi]
    customers = [order_customer.take(oi).to_numpy()]
    positions = [credited["position"].to_numpy()]
    states = [codes[credited["mi"].to_numpy()]]
    converted = [np.ones(len(oi), dtype=bool)]
    values = [amount[oi]]
    if include_unattributed:
        lone = np.setdiff1d(np.arange(len(period)), oi)
        path_ids.append(lone)
        customers.append(order_customer.take(lone).to_numpy())
        positions.append(np.ones(len(lone), dtype=np.int64))
        states.append(np.full(len(lone), none_code))
        converted.append(np.ones(len(lone), dtype=bool))
        values.append(amount[lone])
    touches = prep.touches(windows)
    spans = touches.groupby("mi").agg(touch_us=("touch_us", "min"), end_us=("end_us", "max"))
    rest = spans[~spans.index.isin(np.unique(credited["mi"].to_numpy()))]
    mi = rest.index.to_numpy()
    if len(mi):
        ci = prep.customer_code[mi]
        at, end = rest["touch_us"].to_numpy(), rest["end_us"].to_numpy()
        order = np.lexsort((mi, at, ci))
        mi, ci, at, end = mi[order], ci[order], at[order], end[order]
        per_customer = np.r_[True, ci[1:] != ci[:-1]]
        new_path = _window_breaks(ci, at, end) if non_converting == "window" else per_customer
        starts = np.flatnonzero(new_path)
        pos = np.arange(len(ci)) - np.repeat(starts, np.diff(np.r_[starts, len(ci)])) + 1
        path_ids.append(len(period) + np.cumsum(new_path) - 1)
        customers.append(prep.customers.take(ci).to_numpy())
        positions.append(pos)
        states.append(codes[mi])
        converted.append(np.zeros(len(mi), dtype=bool))
        values.append(np.zeros(len(mi)))
    out = pd.DataFrame(
        {
            "path_id": np.concatenate(path_ids).astype(np.int64),
            "customer_id": pd.array(np.concatenate(customers), dtype="string"),
            "position": np.concatenate(positions).astype(np.int64),
            "state": pd.Categorical.from_codes(np.concatenate(states), categories=categories),
            "converted": np.concatenate(converted),
            "value": np.concatenate(values),
        }
    )
    return out


def markov_attribution(paths: pd.DataFrame) -> pd.DataFrame:
    """Removal effects of a first-order Markov chain over paths (start → states → conversion or null).

    Transition probabilities are counted from the paths; the probability of
    reaching conversion from the start is solved as an absorbing chain,
    ``(I − Q) x = r``. Removing a state sends every visit to it to null; its
    removal effect is ``1 − P(conversion without it) / P(conversion)``.

    Parameters
    ----------
    paths
        ``path_id``, ``position``, ``state`` and ``converted`` as from
        :func:`attribution_paths` (or built by hand); ``value`` optional.

    Returns
    -------
    pandas.DataFrame
        One row per state: ``state``, ``removal_effect``, ``share`` (removal
        effects normalised to add up to 1), ``conversions`` and ``value`` (the
        totals over converting paths times ``share``). The frame's ``attrs``
        hold ``conversion_probability``.
    """
    if paths.empty:
        out = pd.DataFrame(
            {"state": pd.Series(dtype="string"), "removal_effect": [], "share": [], "conversions": [], "value": []}
        )
        out.attrs["conversion_probability"] = 0.0
        return out
    p = paths.sort_values(["path_id", "position"], kind="stable", ignore_index=True)
    state = p["state"]
    if isinstance(state.dtype, pd.CategoricalDtype):
        state = state.cat.remove_unused_categories()
        states = [str(c) for c in state.cat.categories]
        code = state.cat.codes.to_numpy().astype(np.int64)
    else:
        states = sorted(state.astype(str).unique())
        code = pd.Categorical(state.astype(str), categories=states).codes.astype(np.int64)
    k = len(states)
    start, conv, null = k, k + 1, k + 2
    pid = p["path_id"].to_numpy()
    new_path = np.r_[True, pid[1:] != pid[:-1]]
    last = np.r_[new_path[1:], True]
    prev = np.r_[start, code[:-1]]
    src = np.where(new_path, start, prev)
    converted = p["converted"].to_numpy(dtype=bool)
    ends = np.where(converted[last], conv, null)
    from_all = np.r_[src, code[last]]
    to_all = np.r_[code, ends]
    counts = np.bincount(from_all * (k + 3) + to_all, minlength=(k + 3) ** 2).reshape(k + 3, k + 3).astype(float)

    def p_conversion(removed: int | None) -> float:
        m = counts.copy()
        if removed is not None:
            m[removed, :] = 0.0
            m[removed, null] = 1.0
        transient = k + 1  # states and start
        rows = m[:transient]
        totals = rows.sum(axis=1, keepdims=True)
        probs = np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)
        q = probs[:, :transient]
        r = probs[:, conv]
        x = np.linalg.solve(np.eye(transient) - q + np.diag((totals[:, 0] == 0).astype(float)), r)
        return float(x[start])

    base = p_conversion(None)
    effects = np.array([1 - p_conversion(i) / base if base > 0 else 0.0 for i in range(k)])
    effects = np.clip(effects, 0.0, None)
    share = effects / effects.sum() if effects.sum() > 0 else np.zeros(k)
    first_rows = p.loc[new_path]
    n_conv = float(first_rows["converted"].sum())
    total_value = float(first_rows.loc[first_rows["converted"], "value"].sum()) if "value" in p.columns else 0.0
    out = pd.DataFrame(
        {
            "state": pd.Series(states, dtype="string"),
            "removal_effect": effects,
            "share": share,
            "conversions": share * n_conv,
            "value": share * total_value,
        }
    )
    out.attrs["conversion_probability"] = base
    return out


def attribute(
    messages: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: Sequence[str] = ("journey_id", "channel"),
    models: Sequence[str] = ATTRIBUTION_MODELS,
    windows: AttributionWindows | None = None,
    settings: MeasurementSettings | None = None,
    segments: pd.DataFrame | pd.Series | None = None,
    include_unattributed: bool = True,
    exclude_machine_opens: bool = False,
    customer_value: pd.Series | pd.DataFrame | None = None,
    clv_horizon_days: float = 365.0,
    start: object | None = None,
    non_converting: str = "window",
    currency: str | None = None,
) -> pd.DataFrame:
    """Conversions, revenue and customer-lifetime value credited to each group under each model, side by side.

    Revenue is in one currency, named in the ``currency`` column: the orders'
    own when they are all in one, else converted into
    ``settings.reporting_currency`` with ``settings.exchange_rates`` (the rates
    used are in ``attrs["exchange_rates"]``; a currency without a rate is
    refused); ``currency=`` keeps only the orders in that currency (figures per
    currency). The CLV column is in the currency of the customer values given.

    Parameters
    ----------
    messages, orders
        The messages and orders tables (validated, as from ``load_dataset``).
    by
        Message columns that define a credited group (and a Markov state):
        any of ``journey_id``, ``step_id``, ``channel``, ``variant``, ``segment``.
    models
        Any of :data:`ATTRIBUTION_MODELS`.
    windows, settings
        Attribution windows (override ``settings.attribution_windows``), the
        time-decay half-life and position weights.
    segments
        ``customer_id``, ``segment`` frame (or Series) joined as ``segment``.
    include_unattributed
        Credit orders without a qualifying touch to a group whose keys are all
        ``none`` (so every model splits the same total).
    customer_value
        Value of each customer (e.g. a predicted CLV) indexed by ``customer_id``,
        or a frame with ``customer_id`` and one ``clv_*`` column, such as
        ``workbench.value.customer_value(profiles).frame`` (customers without a
        prediction count 0); default: the customer's observed revenue within
        ``clv_horizon_days`` of their first order in the period. Each
        customer's value is split in proportion to the credit each group
        earned on that customer's orders.
    start
        First order time attributed (default: the first message sent).
    non_converting
        How the Markov model cuts non-converting paths: ``window`` (default,
        the converting paths' rule) or ``customer`` (one path per customer);
        see :func:`attribution_paths`.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``model``, ``conversions`` (credited orders),
        ``revenue``, ``clv``, ``conversion_share`` and ``revenue_share``
        (shares of the model's total), ``orders_total`` and ``revenue_total``
        (the denominators of the shares).
    """
    unknown = [m for m in models if m not in ATTRIBUTION_MODELS]
    if unknown:
        msg = f"unknown attribution model {unknown[0]!r}. Fix: use any of {', '.join(ATTRIBUTION_MODELS)}"
        raise MeasurementError(msg)
    by = list(by)
    _check_rule(non_converting)
    cfg = _settings(settings, windows)
    msgs = join_segments(messages, segments)
    check_messages(msgs, by)
    prep, period, credited = _core(
        msgs, orders, settings=cfg, exclude_machine_opens=exclude_machine_opens, start=start, currency=currency
    )
    codes, labels, lookup = _state_labels(msgs, by)
    lookup[NONE_STATE] = tuple(NONE_STATE for _ in by)
    label_array = np.asarray(labels, dtype=object)
    oi = credited["order_id"].to_numpy()
    amount = period["amount"].to_numpy(float)
    cust = period["customer_id"].astype("string").to_numpy(dtype=object)
    values = _customer_values(period, customer_value, clv_horizon_days)
    orders_per_customer = pd.Series(cust).value_counts()
    cust_weight = values.reindex(cust).fillna(0.0).to_numpy() / orders_per_customer.reindex(cust).to_numpy()
    frame = pd.DataFrame(
        {"state": label_array[codes[credited["mi"].to_numpy()]], "amount": amount[oi], "cw": cust_weight[oi]}
    )
    if include_unattributed:
        lone = np.setdiff1d(np.arange(len(period)), oi)
        extra = pd.DataFrame({"state": NONE_STATE, "amount": amount[lone], "cw": cust_weight[lone]})
    rows = []
    for model in models:
        if model == "markov":
            continue
        credit = credited[f"credit_{model}"].to_numpy()
        f = frame.assign(c=credit)
        if include_unattributed:
            f = pd.concat([f, extra.assign(c=1.0)], ignore_index=True)
        f["r"] = f["c"] * f["amount"]
        f["v"] = f["c"] * f["cw"]
        g = f.groupby("state", sort=True)[["c", "r", "v"]].sum()
        rows.append(
            pd.DataFrame(
                {
                    "state": g.index,
                    "model": model,
                    "conversions": g["c"].to_numpy(),
                    "revenue": g["r"].to_numpy(),
                    "clv": g["v"].to_numpy(),
                }
            )
        )
    if "markov" in models:
        paths = _paths(
            prep,
            period,
            credited,
            by=by,
            include_unattributed=include_unattributed,
            windows=cfg.attribution_windows,
            non_converting=non_converting,
        )
        mk = markov_attribution(paths)
        n_orders = len(period) if include_unattributed else len(np.unique(oi))
        covered = np.ones(len(period), dtype=bool)
        if not include_unattributed:
            covered[:] = False
            covered[np.unique(oi)] = True
        total_revenue = float(amount[covered].sum())
        total_clv = float(np.nansum(cust_weight[covered]))
        rows.append(
            pd.DataFrame(
                {
                    "state": mk["state"].astype(object),
                    "model": "markov",
                    "conversions": mk["share"].to_numpy() * n_orders,
                    "revenue": mk["share"].to_numpy() * total_revenue,
                    "clv": mk["share"].to_numpy() * total_clv,
                }
            )
        )
    out = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["state", "model", "conversions", "revenue", "clv"])
    )
    keys = pd.DataFrame([lookup.get(s, tuple(s for _ in by)) for s in out["state"]], columns=by, index=out.index)
    out = pd.concat([keys.astype("string"), out.drop(columns="state")], axis=1)
    totals = out.groupby("model")[["conversions", "revenue"]].transform("sum")
    out["orders_total"] = totals["conversions"]
    out["revenue_total"] = totals["revenue"]
    out["conversion_share"] = np.where(totals["conversions"] > 0, out["conversions"] / totals["conversions"], 0.0)
    out["revenue_share"] = np.where(totals["revenue"] > 0, out["revenue"] / totals["revenue"], 0.0)
    out["currency"] = period.attrs.get(CURRENCY_ATTR, "")
    out.attrs[CURRENCY_ATTR] = period.attrs.get(CURRENCY_ATTR, "")
    out.attrs["exchange_rates"] = period.attrs.get("exchange_rates", [])
    order = {m: i for i, m in enumerate(models)}
    out = out.sort_values(["model", *by], key=lambda s: s.map(order) if s.name == "model" else s, ignore_index=True)
    return out
