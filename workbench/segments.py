"""Segments: RFM, lifecycle stage, intent, channel reach, and rule-based segments from the strategy.

Every function takes the profiles DataFrame first and returns a new frame with
columns added; nothing is modified in place, so ``profiles.pipe(rfm_scores)``
chains. The new frames are shallow copies: with pandas' copy-on-write they
share the unchanged columns and never write back into their input. Rules and
thresholds are plain data (see :data:`RFM_SEGMENT_RULES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .models.errors import StrategyError, WorkbenchError
from .models.segments import (
    BUILTIN_SEGMENTS,
    CHANNEL_REACH,
    INTENTS,
    LIFECYCLE_STAGES,
    RFM_SEGMENT_RULES,
    RFM_SEGMENTS,
    resolve_segment,
)
from .models.strategy import LifecycleThresholds, SegmentDefinition, Strategy
from .rules import check_rules, evaluate

__all__ = [
    "BUILTIN_SEGMENTS",
    "CHANNEL_REACH",
    "INTENTS",
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "RFM_SEGMENT_RULES",
    "assign",
    "audience",
    "channel_reach",
    "evaluate_rules",
    "intent",
    "lifecycle_stage",
    "membership",
    "overlap_matrix",
    "rfm_scores",
    "rfm_segments",
    "segment_sizes",
]


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"{what} needs profile column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
            "Fix: pass the output of profiles.build_profiles"
        )
        raise WorkbenchError(msg)


def _quintile(values: pd.Series, *, ascending: bool) -> pd.Series:
    """Scores 1..5 by rank (ties broken by order, as pandas' qcut on ranks does)."""
    out = pd.Series(np.nan, index=values.index)
    present = values.dropna()
    if present.empty:
        return out
    ranks = present.rank(method="first", ascending=ascending)
    bins = min(5, len(present))
    scores = pd.qcut(ranks, bins, labels=False) + 1
    if bins < 5:  # stretch fewer bins over 1..5
        scores = np.ceil(scores * 5 / bins)
    out.loc[present.index] = scores.astype(float)
    return out


def rfm_scores(profiles: pd.DataFrame) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score`` (1 = worst, 5 = best quintile) and ``fm_score``.

    Scored over customers with at least one purchase: recency on days since the
    last order (fewer is better), frequency on the number of orders, monetary
    on revenue. Customers without a purchase get missing scores.
    """
    _require(profiles, ["orders_total", "days_since_last_order", "revenue_total"], "rfm_scores")
    buyers = profiles["orders_total"] > 0
    out = profiles.copy(deep=False)
    out["r_score"] = _quintile(profiles["days_since_last_order"].where(buyers), ascending=False)
    out["f_score"] = _quintile(profiles["orders_total"].where(buyers).astype(float), ascending=True)
    out["m_score"] = _quintile(profiles["revenue_total"].where(buyers), ascending=True)
    fm = np.floor((out["f_score"] + out["m_score"]) / 2 + 0.5)
    out["fm_score"] = fm
    for col in ("r_score", "f_score", "m_score", "fm_score"):
        out[col] = out[col].astype("Int64")
    return out


def rfm_segments(
    profiles: pd.DataFrame, *, rules: Sequence[tuple[str, tuple[int, int], tuple[int, int]]] = RFM_SEGMENT_RULES
) -> pd.DataFrame:
    """Add ``rfm_segment`` from ``r_score`` and ``fm_score`` by the first matching rule.

    Customers without a purchase are ``prospects``. Scores are computed first
    when missing.
    """
    df = profiles if "fm_score" in profiles.columns else rfm_scores(profiles)
    r = df["r_score"].astype("float")
    fm = df["fm_score"].astype("float")
    labels = pd.Series(pd.NA, index=df.index, dtype="string")
    for name, (r_lo, r_hi), (f_lo, f_hi) in rules:
        hit = labels.isna() & r.between(r_lo, r_hi) & fm.between(f_lo, f_hi)
        labels = labels.mask(hit, name)
    out = df.copy(deep=False)
    out["rfm_segment"] = labels.fillna("prospects")
    return out


def lifecycle_stage(profiles: pd.DataFrame, *, thresholds: LifecycleThresholds | None = None) -> pd.DataFrame:
    """Add ``lifecycle_stage``: prospect, new, active, at_risk, lapsed or churned.

    ``new``: first purchase within ``new_days``; then by days since the last
    purchase: ``active`` up to ``active_days``, ``at_risk`` up to
    ``at_risk_days``, ``lapsed`` up to ``lapsed_days``, else ``churned``.
    ``prospect``: no purchase yet.
    """
    t = thresholds or LifecycleThresholds()
    _require(profiles, ["orders_total", "days_since_last_order", "T"], "lifecycle_stage")
    since_last = profiles["days_since_last_order"].astype("float64").fillna(np.inf).to_numpy()
    since_first = profiles["T"].astype("float64").to_numpy()
    bought = (profiles["orders_total"] > 0).to_numpy(dtype=bool)
    stage = np.select(
        [
            ~bought,
            since_first <= t.new_days,
            since_last <= t.active_days,
            since_last <= t.at_risk_days,
            since_last <= t.lapsed_days,
        ],
        ["prospect", "new", "active", "at_risk", "lapsed"],
        default="churned",
    )
    out = profiles.copy(deep=False)
    out["lifecycle_stage"] = pd.Series(stage, index=profiles.index, dtype="string")
    return out


def intent(profiles: pd.DataFrame, *, high_intent_visits: int = 3, high_intent_views: int = 3) -> pd.DataFrame:
    """Add ``intent``: cart_abandoner, high_intent, browse_abandoner or none.

    - ``cart_abandoner``: added to cart or started checkout in the last 7 days
      and has not ordered since;
    - ``high_intent``: at least ``high_intent_visits`` site visits and
      ``high_intent_views`` product views in the last 7 days;
    - ``browse_abandoner``: viewed a product in the last 7 days without
      ordering in that time.
    """
    _require(
        profiles, ["cart_adds_7d", "product_views_7d", "site_visits_7d", "last_cart_at", "last_order_at"], "intent"
    )
    last_cart = profiles["last_cart_at"]
    last_order = profiles["last_order_at"]
    recent_cart = profiles["cart_adds_7d"] > 0
    no_order_since = last_order.isna() | (last_cart.notna() & (last_order < last_cart))
    cart = recent_cart & no_order_since
    high = (profiles["site_visits_7d"] >= high_intent_visits) & (profiles["product_views_7d"] >= high_intent_views)
    ordered_7d = profiles["days_since_last_order"].astype("float64").fillna(np.inf) < 7
    browse = (profiles["product_views_7d"] > 0) & ~ordered_7d
    conditions = [np.asarray(pd.Series(c).fillna(False), dtype=bool) for c in (cart, high, browse)]
    label = np.select(conditions, ["cart_abandoner", "high_intent", "browse_abandoner"], default="none")
    out = profiles.copy(deep=False)
    out["intent"] = pd.Series(label, index=profiles.index, dtype="string")
    return out


def channel_reach(profiles: pd.DataFrame) -> pd.DataFrame:
    """Add ``channel_reach`` from consent and valid addresses: email_and_sms, email_only, sms_only, neither."""
    _require(profiles, ["can_email", "can_sms"], "channel_reach")
    e = profiles["can_email"].astype(bool)
    s = profiles["can_sms"].astype(bool)
    label = np.select([e & s, e, s], ["email_and_sms", "email_only", "sms_only"], default="neither")
    out = profiles.copy(deep=False)
    out["channel_reach"] = pd.Series(label, index=profiles.index, dtype="string")
    return out


def evaluate_rules(profiles: pd.DataFrame, definitions: Sequence[SegmentDefinition]) -> pd.DataFrame:
    """Add one boolean column ``segment_<name>`` per rule-based segment of the strategy.

    Every rule goes through :func:`workbench.rules.check_rules` (one boolean expression over the
    columns of :data:`workbench.rules.RULE_COLUMNS`, literals, operators and allow-listed pure
    functions) and is evaluated from its checked form on a DuckDB connection that cannot reach
    files or change its settings. A customer for whom the rule is NULL is not in the segment.

    Raises
    ------
    StrategyError
        A rule that does not parse, reads something other than profile columns, calls a function
        that is not allowed, names an unknown column (with the close matches) or is not boolean;
        the message names the segment, the rule and the fix.
    """
    out = profiles.copy(deep=False)
    if not definitions:
        return out
    masks = evaluate(profiles, check_rules(definitions))
    for seg in definitions:
        out[f"segment_{seg.name}"] = masks[seg.name]
    return out


def assign(
    profiles: pd.DataFrame,
    strategy: Strategy | Sequence[SegmentDefinition] | None = None,
    *,
    thresholds: LifecycleThresholds | None = None,
) -> pd.DataFrame:
    """All segment columns at once: RFM scores and segment, lifecycle, intent, channel reach, rule segments.

    Adds ``r_score``, ``f_score``, ``m_score``, ``fm_score``, ``rfm_segment``, ``lifecycle_stage``,
    ``intent`` and ``channel_reach`` (:data:`workbench.rules.ASSIGNED_COLUMNS`, which rules may
    read), then one ``segment_<name>`` column per rule of the strategy (:func:`evaluate_rules`).

    Examples
    --------
    >>> assigned = profiles.pipe(assign, strategy)                 # doctest: +SKIP
    >>> assigned["lifecycle_stage"].value_counts()                  # doctest: +SKIP
    """
    if isinstance(strategy, Strategy):
        definitions: Sequence[SegmentDefinition] = strategy.segments
        thresholds = thresholds or strategy.lifecycle
    else:
        definitions = strategy or ()
    out = (
        profiles.pipe(rfm_scores)
        .pipe(rfm_segments)
        .pipe(lifecycle_stage, thresholds=thresholds)
        .pipe(intent)
        .pipe(channel_reach)
    )
    return evaluate_rules(out, definitions)


def segment_columns(assigned: pd.DataFrame) -> list[str]:
    """Names of the rule-based segments present (without the ``segment_`` prefix)."""
    return [c.removeprefix("segment_") for c in assigned.columns if c.startswith("segment_")]


def segment_sizes(assigned: pd.DataFrame) -> pd.DataFrame:
    """Customers per segment and how many each channel reaches.

    One row per rule-based segment, RFM segment, lifecycle stage, intent and
    channel reach: ``kind``, ``segment``, ``customers``, ``share``,
    ``emailable``, ``smsable``.
    """
    n = len(assigned)
    rows = []
    for name in segment_columns(assigned):
        mask = assigned[f"segment_{name}"]
        rows.append(("rule", name, mask))
    for kind, col, order in (
        ("rfm", "rfm_segment", RFM_SEGMENTS),
        ("lifecycle", "lifecycle_stage", LIFECYCLE_STAGES),
        ("intent", "intent", INTENTS),
        ("reach", "channel_reach", CHANNEL_REACH),
    ):
        if col in assigned.columns:
            for value in order:
                rows.append((kind, value, assigned[col] == value))
    return pd.DataFrame(
        [
            {
                "kind": kind,
                "segment": name,
                "customers": int(mask.sum()),
                "share": float(mask.sum() / n) if n else 0.0,
                "emailable": int((mask & assigned["can_email"]).sum()),
                "smsable": int((mask & assigned["can_sms"]).sum()),
            }
            for kind, name, mask in rows
        ]
    )


def overlap_matrix(assigned: pd.DataFrame, segments: Sequence[str] | None = None) -> pd.DataFrame:
    """Customers in both of each pair of rule-based segments (the diagonal is each segment's size)."""
    names = list(segments) if segments is not None else segment_columns(assigned)
    missing = [s for s in names if f"segment_{s}" not in assigned.columns]
    if missing:
        msg = f"no segment {', '.join(missing)} in the assigned profiles (have: {', '.join(segment_columns(assigned))})"
        raise StrategyError(msg)
    m = assigned[[f"segment_{s}" for s in names]].to_numpy(dtype=np.int64)
    return pd.DataFrame(m.T @ m, index=pd.Index(names, name="segment"), columns=names)


def membership(assigned: pd.DataFrame, segment: str) -> np.ndarray:
    """Which rows of assigned profiles are in a segment: the one rule every reader of membership uses.

    The name resolves by :func:`~workbench.models.segments.resolve_segment`
    over the ``segment_<name>`` columns present. Raises
    :class:`StrategyError` for a name that is unknown or ambiguous.
    """
    ref = resolve_segment(segment, segment_columns(assigned))
    if ref.column not in assigned.columns:
        msg = f"segment {segment!r} needs the {ref.column} column. Fix: pass profiles through segments.assign first"
        raise StrategyError(msg)
    values = assigned[ref.column]
    hit = values if ref.kind == "rule" else values == ref.value
    mask: np.ndarray = pd.Series(hit).fillna(False).to_numpy(dtype=bool)
    return mask


AUDIENCE_COLUMNS = (
    "customer_id",
    "email",
    "phone",
    "email_consent",
    "sms_consent",
    "can_email",
    "can_sms",
    "timezone",
    "preferred_channel",
    "lifecycle_stage",
    "rfm_segment",
    "intent",
)


def audience(assigned: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The customers of one segment (see :func:`membership`) with their contact and consent state."""
    mask = membership(assigned, segment)
    cols = [c for c in AUDIENCE_COLUMNS if c in assigned.columns]
    return assigned.loc[mask, cols].reset_index(drop=True)
