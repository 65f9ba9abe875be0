"""Engagement score, adaptive cadence tiers and each customer's own outcome rates.

The score adds up recent signals, each weighted and halved every
``half_life_days``: email opens and clicks, SMS clicks, site visits and
orders. :func:`engagement_score` computes it exactly from the dataset's
tables; :func:`engagement_from_profiles` approximates it from the profile
columns when only profiles are at hand. A tier (engaged, steady, fading,
dormant) follows from the thresholds of :class:`~workbench.policy.AdaptiveCadence`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..models.dataset import Dataset
from ..models.errors import SimulationError
from ..models.tables import CANCELLED_STATUSES
from ..policy import AdaptiveCadence, EngagementWeights
from ..profiles import resolve_as_of

__all__ = [
    "TIERS",
    "engagement_from_profiles",
    "engagement_score",
    "engagement_tier",
    "engagement_tier_codes",
    "outcome_priors",
    "outcome_rates",
]

TIERS = ("engaged", "steady", "fading", "dormant")
_LN2 = float(np.log(2.0))


def _decayed(customer_id: pd.Series, when: pd.Series, as_of: pd.Timestamp, half_life_days: float) -> pd.Series:
    t = pd.to_datetime(when, utc=True)
    age = (as_of - t).dt.total_seconds().to_numpy(dtype=float) / 86_400
    keep = np.isfinite(age) & (age >= 0)
    weight = np.exp(-_LN2 * age[keep] / half_life_days)
    return pd.Series(weight, index=pd.Index(customer_id.to_numpy()[keep], name="customer_id")).groupby(level=0).sum()


def engagement_score(
    dataset: Dataset, *, as_of: object, weights: EngagementWeights | None = None, half_life_days: float = 30.0
) -> pd.DataFrame:
    """Decayed engagement per customer from the messages, events and orders tables.

    Parameters
    ----------
    dataset
        A :class:`~workbench.models.dataset.Dataset`.
    as_of
        Signals after it are ignored; a signal ``a`` days old counts
        ``0.5 ** (a / half_life_days)`` times its weight.
    weights
        Weight of each signal (:class:`~workbench.policy.EngagementWeights`).

    Returns
    -------
    DataFrame
        ``customer_id`` and ``engagement_score`` for every customer (0 without signals).
    """
    ts = resolve_as_of(as_of)
    w = weights or EngagementWeights()
    customers = dataset.customers["customer_id"]
    total = pd.Series(0.0, index=pd.Index(customers.to_numpy(), name="customer_id"))
    parts: list[pd.Series] = []
    messages = dataset.messages
    if messages is not None and len(messages):
        email = messages["channel"] == "email"
        for col, mask, weight in (
            ("opened_at", email, w.email_open),
            ("clicked_at", email, w.email_click),
            ("clicked_at", ~email, w.sms_click),
        ):
            if col in messages.columns and weight > 0:
                sub = messages.loc[mask & messages[col].notna(), ["customer_id", col]]
                parts.append(_decayed(sub["customer_id"], sub[col], ts, half_life_days) * weight)
    events = dataset.events
    if events is not None and len(events) and w.site_visit > 0:
        sub = events.loc[events["event"] == "site_visit", ["customer_id", "occurred_at"]]
        parts.append(_decayed(sub["customer_id"], sub["occurred_at"], ts, half_life_days) * w.site_visit)
    orders = dataset.orders
    if len(orders) and w.order > 0:
        placed = orders["amount"] > 0
        if "status" in orders.columns:
            placed &= ~orders["status"].astype("string").str.lower().isin(CANCELLED_STATUSES).fillna(False)
        sub = orders.loc[placed, ["customer_id", "ordered_at"]]
        parts.append(_decayed(sub["customer_id"], sub["ordered_at"], ts, half_life_days) * w.order)
    for part in parts:
        total = total.add(part.reindex(total.index).fillna(0.0), fill_value=0.0)
    return pd.DataFrame({"customer_id": total.index.to_numpy(), "engagement_score": total.to_numpy()})


def _col(df: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), default, dtype=float)
    out: np.ndarray = pd.to_numeric(df[name], errors="coerce").fillna(default).to_numpy(dtype=float)
    return out


def _age_days(df: pd.DataFrame, name: str, as_of: pd.Timestamp | None) -> np.ndarray:
    if name not in df.columns or as_of is None:
        return np.full(len(df), np.inf)
    when = pd.to_datetime(df[name], utc=True)
    out: np.ndarray = ((as_of - when).dt.total_seconds() / 86_400).fillna(np.inf).to_numpy(dtype=float)
    return out


def engagement_from_profiles(
    profiles: pd.DataFrame,
    *,
    as_of: object | None = None,
    weights: EngagementWeights | None = None,
    half_life_days: float = 30.0,
) -> np.ndarray:
    """An approximate engagement score from profile columns (counts decayed by the age of the last signal).

    Message counts are decayed by the age of the last engagement on that
    channel, site visits of the last 7/30 days by 3.5/15 days, and recent
    orders by the days since the last order. Missing columns count as zero.
    """
    w = weights or EngagementWeights()
    ts = resolve_as_of(as_of) if as_of is not None else None

    def decay(age: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(age), np.exp(-_LN2 * np.clip(age, 0, None) / half_life_days), 0.0)

    if ts is None:  # without a date, assume signals are a fortnight old
        email_decay = sms_decay = np.full(len(profiles), float(np.exp(-_LN2 * 14 / half_life_days)))
    else:
        email_decay = decay(_age_days(profiles, "email_last_engaged_at", ts))
        sms_decay = decay(_age_days(profiles, "sms_last_engaged_at", ts))
    since_order = _col(profiles, "days_since_last_order", np.inf)
    recent_visits = _col(profiles, "site_visits_7d")
    older_visits = np.clip(_col(profiles, "site_visits_30d") - recent_visits, 0, None)
    score: np.ndarray = (
        w.email_open * _col(profiles, "email_opens") * email_decay * 0.25
        + w.email_click * _col(profiles, "email_clicks") * email_decay * 0.25
        + w.sms_click * _col(profiles, "sms_clicks") * sms_decay * 0.25
        + w.site_visit
        * (
            recent_visits * float(np.exp(-_LN2 * 3.5 / half_life_days))
            + older_visits * float(np.exp(-_LN2 * 18.5 / half_life_days))
        )
        + w.order * np.minimum(_col(profiles, "orders_90d"), 3) * decay(since_order)
    )
    return score


def engagement_tier(scores: np.ndarray | pd.Series, adaptive: AdaptiveCadence) -> np.ndarray:
    """``engaged``, ``steady``, ``fading`` or ``dormant`` for each score (all ``steady`` when disabled)."""
    tiers: np.ndarray = np.array(TIERS, dtype=object)[engagement_tier_codes(scores, adaptive)]
    return tiers


def engagement_tier_codes(scores: np.ndarray | pd.Series, adaptive: AdaptiveCadence) -> np.ndarray:
    """The position in :data:`TIERS` of each score's tier (int8; see :func:`engagement_tier`)."""
    s = np.asarray(scores, dtype=float)
    if not adaptive.enabled:
        return np.full(len(s), TIERS.index("steady"), dtype=np.int8)
    return np.select(
        [s >= adaptive.engaged_at, s < adaptive.dormant_below, s < adaptive.fading_below],
        [TIERS.index("engaged"), TIERS.index("dormant"), TIERS.index("fading")],
        default=TIERS.index("steady"),
    ).astype(np.int8)


def outcome_priors(audience: pd.DataFrame) -> dict[str, float]:
    """The audience-wide figures each customer's rates are shrunk towards (see :func:`outcome_rates`).

    Open and click rates per send over the whole audience and its mean orders
    over 365 days. They are sums of counts, so any engine or partitioning that
    adds up the same customers gets the same numbers; an engine that simulates
    part of the audience at a time passes them to each part.
    """
    es, eo, ec = _col(audience, "email_sends"), _col(audience, "email_opens"), _col(audience, "email_clicks")
    ss, sc = _col(audience, "sms_sends"), _col(audience, "sms_clicks")
    orders_365 = _col(audience, "orders_365d")
    return {
        "email_sends": float(es.sum()),
        "email_opens": float(eo.sum()),
        "email_clicks": float(ec.sum()),
        "sms_sends": float(ss.sum()),
        "sms_clicks": float(sc.sum()),
        "orders_365d": float(orders_365.sum()),
        "customers": float(len(audience)),
    }


def outcome_rates(
    audience: pd.DataFrame, *, prior_strength: float = 10.0, priors: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Each customer's own chances, from their history shrunk towards the audience mean.

    Returns ``p_open`` (email open per send), ``p_click_email`` and
    ``p_click_sms`` (click per send), ``p_convert`` (order after a click),
    ``orders_per_day`` and ``<event>_per_day`` for site visits, product views,
    cart adds, checkouts and support tickets (from the last 30 days).
    ``priors`` (:func:`outcome_priors` of the whole audience) when ``audience``
    is a part of it; default: this audience's own.
    """
    if "customer_id" not in audience.columns:
        msg = "outcome_rates needs customer_id. Fix: pass profiles from profiles.build_profiles"
        raise SimulationError(msg)
    a = prior_strength
    total = dict(priors) if priors is not None else outcome_priors(audience)

    def shrunk(hits: np.ndarray, sends: np.ndarray, hits_all: float, sends_all: float, floor: float) -> np.ndarray:
        mean = hits_all / sends_all if sends_all > 0 else floor
        mean = max(float(mean), floor)
        return np.clip((hits + a * mean) / (sends + a), 0.0, 0.99)

    es, eo, ec = _col(audience, "email_sends"), _col(audience, "email_opens"), _col(audience, "email_clicks")
    ss, sc = _col(audience, "sms_sends"), _col(audience, "sms_clicks")
    orders_365 = _col(audience, "orders_365d")
    mean_orders = max(total["orders_365d"] / total["customers"] if total["customers"] else 0.0, 0.1)
    p_open = shrunk(eo, es, total["email_opens"], total["email_sends"], 0.15)
    p_click_email = shrunk(ec, es, total["email_clicks"], total["email_sends"], 0.02)
    p_click_sms = shrunk(sc, ss, total["sms_clicks"], total["sms_sends"], 0.03)
    out = pd.DataFrame(
        {
            "customer_id": audience["customer_id"].to_numpy(),
            "p_open": p_open,
            "p_click_email": p_click_email,
            "p_click_sms": p_click_sms,
            "p_convert": np.clip(0.06 * (1.0 + orders_365) / (1.0 + mean_orders), 0.01, 0.6),
            "orders_per_day": np.clip(orders_365 / 365.0, 0.0, 0.5),
        }
    )
    for event, col in (
        ("site_visit", "site_visits_30d"),
        ("product_view", "product_views_30d"),
        ("add_to_cart", "cart_adds_30d"),
        ("checkout_started", "checkouts_30d"),
        ("support_ticket", "support_tickets_30d"),
    ):
        out[f"{event}_per_day"] = np.clip(_col(audience, col) / 30.0, 0.0, 3.0)
    return out
