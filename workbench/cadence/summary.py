"""Summary tables of a send plan: pure functions, a plan in and a small frame out (ready to chart)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..policy import duration_minutes

__all__ = [
    "collisions",
    "daily_volume",
    "send_hours",
    "summarize",
    "suppressions_by_reason",
    "touches_per_customer_week",
    "touches_per_week",
]

_SENT = ("kept", "deferred")
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _sent(plan: pd.DataFrame) -> pd.DataFrame:
    return plan[plan["status"].isin(_SENT)]


def touches_per_customer_week(plan: pd.DataFrame, audience: pd.DataFrame | None = None, *, days: int) -> pd.DataFrame:
    """Touches that go out (kept or deferred) per customer per week of the horizon.

    Returns ``customer_id``, ``touches``, ``email``, ``sms`` and
    ``per_week``; every customer of ``audience`` appears (0 without touches).
    """
    sent = _sent(plan)
    counts = pd.crosstab(sent["customer_id"].astype("string"), sent["channel"].astype("string"))
    for ch in ("email", "sms"):
        if ch not in counts.columns:
            counts[ch] = 0
    counts = counts[["email", "sms"]]
    if audience is not None:
        counts = counts.reindex(pd.Index(audience["customer_id"].astype("string"), name="customer_id"), fill_value=0)
    counts.index.name = "customer_id"
    out = counts.reset_index()
    out.columns.name = None
    out["touches"] = out["email"] + out["sms"]
    out["per_week"] = out["touches"] / (days / 7.0)
    return out[["customer_id", "touches", "email", "sms", "per_week"]]


def touches_per_week(
    plan: pd.DataFrame, audience: pd.DataFrame | None = None, *, days: int, segments: Sequence[str] | None = None
) -> pd.DataFrame:
    """Distribution of touches per customer per week, for everyone and by segment.

    ``segments`` names ``segment_<name>`` columns of the audience (default:
    all of them). Returns ``segment``, ``customers``, ``mean``, ``median``,
    ``p90``, ``max`` and ``share_none`` (customers without a touch).
    """
    per = touches_per_customer_week(plan, audience, days=days)
    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(len(per), dtype=bool))]
    if audience is not None:
        names = (
            list(segments)
            if segments is not None
            else [c.removeprefix("segment_") for c in audience.columns if c.startswith("segment_")]
        )
        aligned = audience.set_index(audience["customer_id"].astype("string")).reindex(per["customer_id"])
        for name in names:
            col = f"segment_{name}"
            if col in aligned.columns:
                groups.append((name, aligned[col].fillna(False).to_numpy(dtype=bool)))
    rows = []
    for name, mask in groups:
        x = per["per_week"].to_numpy()[mask]
        rows.append(
            {
                "segment": name,
                "customers": int(mask.sum()),
                "mean": float(x.mean()) if x.size else 0.0,
                "median": float(np.median(x)) if x.size else 0.0,
                "p90": float(np.quantile(x, 0.9)) if x.size else 0.0,
                "max": float(x.max()) if x.size else 0.0,
                "share_none": float((x == 0).mean()) if x.size else 0.0,
            }
        )
    return pd.DataFrame(rows)


def suppressions_by_reason(plan: pd.DataFrame) -> pd.DataFrame:
    """Touches deferred or suppressed, by status, reason and channel, with the customers concerned."""
    moved = plan[plan["status"] != "kept"]
    if moved.empty:
        return pd.DataFrame(columns=["status", "reason", "channel", "touches", "customers", "share"])
    g = moved.groupby(
        [moved["status"].astype("string"), moved["reason"].astype("string"), moved["channel"].astype("string")],
        observed=True,
    )
    out = g.agg(touches=("customer_id", "size"), customers=("customer_id", "nunique")).reset_index()
    out["share"] = out["touches"] / max(len(plan), 1)
    return out.sort_values(["status", "touches"], ascending=[False, False], ignore_index=True)


def daily_volume(plan: pd.DataFrame) -> pd.DataFrame:
    """Touches per UTC day and channel: ``sent`` (kept or deferred, on the day they go out) and ``suppressed``."""
    day_sent = plan["scheduled_at"].dt.floor("D")
    sent_mask = plan["status"].isin(_SENT).to_numpy()
    frame = pd.DataFrame(
        {
            "date": day_sent.dt.tz_localize(None),
            "channel": plan["channel"].astype("string"),
            "sent": sent_mask.astype(int),
            "suppressed": (~sent_mask).astype(int),
        }
    )
    out = frame.groupby(["date", "channel"], observed=True)[["sent", "suppressed"]].sum().reset_index()
    return out.sort_values(["date", "channel"], ignore_index=True)


def send_hours(plan: pd.DataFrame) -> pd.DataFrame:
    """Touches that go out by local weekday and hour and channel (the send-hour heat map)."""
    sent = _sent(plan)
    local = sent["local_time"]
    frame = pd.DataFrame(
        {
            "weekday": pd.Categorical(np.array(_WEEKDAYS)[local.dt.day_of_week.to_numpy()], categories=_WEEKDAYS),
            "hour": local.dt.hour.to_numpy(),
            "channel": sent["channel"].astype("string").to_numpy(),
        }
    )
    out = frame.groupby(["channel", "weekday", "hour"], observed=True).size().rename("touches").reset_index()
    return out


def collisions(plan: pd.DataFrame, *, window: str = "24h") -> pd.DataFrame:
    """Where journeys meet: pairs of journeys whose touches to one customer are planned within ``window``.

    ``overlaps`` counts consecutive planned touches of a customer from the two
    journeys less than ``window`` apart; ``deferred`` and ``suppressed`` count
    touches of ``journey`` held back by a kept touch of ``other`` (caps,
    spacing, frequency).
    """
    cols = ["journey", "other", "overlaps", "deferred", "suppressed"]
    if plan.empty:
        return pd.DataFrame(columns=cols)
    p = plan.sort_values(["customer_id", "planned_at"], kind="stable")
    cust = p["customer_id"].to_numpy()
    j = p["journey_id"].astype("string").to_numpy()
    t = p["planned_at"].dt.as_unit("s").astype("int64").to_numpy() // 60
    same = (cust[1:] == cust[:-1]) & (j[1:] != j[:-1]) & (t[1:] - t[:-1] < duration_minutes(window))
    a, b = j[:-1][same], j[1:][same]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = ["journey", "other"]
    overlaps = pd.DataFrame({"journey": lo, "other": hi}).value_counts().rename("overlaps")
    held = plan[plan["blocked_by"].notna() & (plan["status"] != "kept")]
    held = held[held["blocked_by"].astype("string") != held["journey_id"].astype("string")]
    by_status = pd.DataFrame(
        {
            "journey": held["journey_id"].astype("string").reset_index(drop=True),
            "other": held["blocked_by"].astype("string").reset_index(drop=True),
            "status": held["status"].astype("string").reset_index(drop=True),
        }
    )
    # (no crosstab: on no held touches it returns a frame without the two key levels, which cannot be aligned)
    blocked = by_status.groupby([*keys, "status"]).size().unstack("status", fill_value=0)
    out = pd.concat([overlaps, blocked], axis=1).fillna(0) if len(blocked) else overlaps.to_frame()
    for c in ("deferred", "suppressed"):
        if c not in out.columns:
            out[c] = 0
    out = out[["overlaps", "deferred", "suppressed"]].astype(int).reset_index()
    out.columns = cols
    return out.sort_values(["overlaps", "suppressed"], ascending=False, ignore_index=True)


def summarize(plan: pd.DataFrame, audience: pd.DataFrame | None = None, *, days: int) -> dict[str, pd.DataFrame]:
    """All summary tables of a plan, by name (the file stem they are written under)."""
    return {
        "touches_per_week": touches_per_week(plan, audience, days=days),
        "collisions": collisions(plan),
        "suppressions_by_reason": suppressions_by_reason(plan),
        "daily_volume": daily_volume(plan),
        "send_hours": send_hours(plan),
    }
