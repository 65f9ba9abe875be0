"""Shared preparation of the messages and orders tables for measurement (internal)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..contracts import to_utc
from ..models.errors import DataContractError
from ..models.measurement import AttributionWindows
from ..models.tables import CHANNELS

NAT = np.iinfo(np.int64).min
US_PER_HOUR = 3_600_000_000
MESSAGE_KEYS = ("journey_id", "step_id", "channel", "variant", "segment")
_TRUE = {"true", "1", "yes", "y", "t"}
_VOID_STATUSES = ("cancelled", "canceled", "returned", "refunded", "void")


def as_us(values: pd.Series) -> np.ndarray:
    """Microseconds since the epoch (int64), ``NAT`` where missing."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = to_utc(values)
    us: np.ndarray = pd.DatetimeIndex(values).as_unit("us").asi8
    return us


def as_bool(values: pd.Series) -> np.ndarray:
    """A flag column (bool, 0/1 or text such as "True") as a numpy bool array; missing is False."""
    flags: np.ndarray
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = values.fillna(False).to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        flags = values.fillna(0).to_numpy() != 0
    else:
        flags = values.astype("string").str.strip().str.lower().isin(_TRUE).fillna(False).to_numpy(dtype=bool)
    return flags


def require_columns(df: pd.DataFrame, table: str, columns: Sequence[str], *, why: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:12])) or "none"
        raise DataContractError(
            table,
            missing[0],
            f"{why} needs column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (columns found: {have})",
            remedy=f"load the table with workbench.io.load_dataset or add {', '.join(missing)}",
        )


def join_segments(messages: pd.DataFrame, segments: pd.DataFrame | pd.Series | None) -> pd.DataFrame:
    """Add a ``segment`` column from a (customer_id, segment) frame or a Series indexed by customer_id."""
    if segments is None:
        return messages
    if isinstance(segments, pd.Series):
        mapping = segments
    else:
        require_columns(segments, "segments", ["customer_id", "segment"], why="joining segments")
        dup = segments["customer_id"].duplicated(keep=False)
        if dup.any():
            table = "segments"
            raise DataContractError(
                table,
                "customer_id",
                "a customer has more than one segment",
                count=int(dup.sum()),
                examples=segments.loc[dup, "customer_id"].head(5).tolist(),
                id_column="customer_id",
                remedy="pass one segment per customer (e.g. the lifecycle stage or one rule-based segment)",
            )
        mapping = segments.set_index("customer_id")["segment"]
    out = messages.copy()
    out["segment"] = out["customer_id"].map(mapping).astype("string").fillna("(no segment)")
    return out


def check_keys(messages: pd.DataFrame, by: Sequence[str]) -> None:
    """Raise a clear error when a grouping column is missing."""
    for key in by:
        if key not in messages.columns:
            hint = "pass segments=<frame of customer_id, segment>" if key == "segment" else f"add {key} to messages"
            table = "messages"
            raise DataContractError(
                table,
                key,
                f"cannot group by {key}: the column is missing",
                remedy=f"{hint}, or group by {', '.join(c for c in MESSAGE_KEYS if c in messages.columns)}",
            )


def check_messages(messages: pd.DataFrame, by: Sequence[str] = ()) -> None:
    """Required columns, grouping columns and channel values of the messages table."""
    require_columns(messages, "messages", ["message_id", "customer_id", "channel", "sent_at"], why="measurement")
    check_keys(messages, by)
    channel = messages["channel"].astype("string")
    bad = ~channel.isin(CHANNELS).fillna(False)
    if bad.any():
        table = "messages"
        raise DataContractError(
            table,
            "channel",
            f"unknown channel; allowed: {', '.join(CHANNELS)}",
            count=int(bad.sum()),
            examples=messages.loc[bad, "message_id"].head(5).tolist(),
            id_column="message_id",
            remedy="load messages with workbench.io.load_dataset (lower-cases channel) or map them to email/sms",
        )


def key_frame(messages: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The grouping columns as strings, missing values shown as ``(none)``."""
    return pd.DataFrame({k: messages[k].astype("string").fillna("(none)").to_numpy() for k in by}, index=messages.index)


def valid_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Placed orders with a positive amount (cancellations, returns and refunds left out)."""
    require_columns(orders, "orders", ["order_id", "customer_id", "ordered_at", "amount"], why="attribution")
    keep = pd.to_numeric(orders["amount"], errors="coerce").fillna(0) > 0
    if "status" in orders.columns:
        keep &= ~orders["status"].astype("string").str.lower().isin(_VOID_STATUSES).fillna(False)
    return orders.loc[keep]


class Prepared:
    """The messages table as numpy arrays: flags, times in microseconds and integer customer codes."""

    def __init__(self, messages: pd.DataFrame, *, machine_open_seconds: float, exclude_machine_opens: bool) -> None:
        check_messages(messages)
        m = messages
        n = len(m)
        self.messages = m
        self.n = n
        channel = m["channel"].astype("string")
        self.email = (channel == "email").fillna(False).to_numpy(dtype=bool)
        self.sms = (channel == "sms").fillna(False).to_numpy(dtype=bool)
        codes, uniques = pd.factorize(m["customer_id"].astype("string"))
        self.customer_code = codes.astype(np.int64)
        self.customers = pd.Index(uniques)
        self.sent_us = as_us(m["sent_at"])
        missing_sent = self.sent_us == NAT
        if missing_sent.any():
            table = "messages"
            raise DataContractError(
                table,
                "sent_at",
                "sent_at is missing",
                count=int(missing_sent.sum()),
                examples=m.loc[missing_sent, "message_id"].head(5).tolist(),
                id_column="message_id",
                remedy="every message row needs the time it was sent (ISO 8601, UTC)",
            )
        self.bounced = as_bool(m["bounced"]) if "bounced" in m.columns else np.zeros(n, dtype=bool)
        self.suppressed = as_bool(m["suppressed"]) if "suppressed" in m.columns else np.zeros(n, dtype=bool)
        if "delivered_at" in m.columns:
            deliv = as_us(m["delivered_at"])
            self.delivered = (deliv != NAT) & ~self.bounced & ~self.suppressed
            self.delivered_us = np.where(deliv != NAT, deliv, self.sent_us)
        else:
            self.delivered = ~self.bounced & ~self.suppressed
            self.delivered_us = self.sent_us.copy()
        self.open_us = as_us(m["opened_at"]) if "opened_at" in m.columns else np.full(n, NAT)
        self.click_us = as_us(m["clicked_at"]) if "clicked_at" in m.columns else np.full(n, NAT)
        self.opened = (self.open_us != NAT) & self.email
        if "machine_open" in m.columns:
            self.machine_open = as_bool(m["machine_open"]) & self.opened
        else:
            lag = self.open_us - self.delivered_us
            self.machine_open = self.opened & (lag >= 0) & (lag <= machine_open_seconds * 1_000_000)
        self.counted_open = self.opened & ~self.machine_open if exclude_machine_opens else self.opened
        self.clicked = self.click_us != NAT
        self.unsubscribed = (
            as_us(m["unsubscribed_at"]) != NAT if "unsubscribed_at" in m.columns else np.zeros(n, dtype=bool)
        )
        if "complained_at" in m.columns:
            self.complained = as_us(m["complained_at"]) != NAT
            self.has_complaints = True
        elif "spam_complaint" in m.columns:
            self.complained = as_bool(m["spam_complaint"])
            self.has_complaints = True
        else:
            self.complained = np.zeros(n, dtype=bool)
            self.has_complaints = False

    @property
    def channel(self) -> np.ndarray:
        """Channel per message as an object array (built on demand: it is slow for millions of rows)."""
        return np.where(self.email, "email", "sms").astype(object)

    def codes_for(self, customer_ids: pd.Series) -> np.ndarray:
        """Codes of other tables' customer ids in this table's coding (-1: no message for that customer)."""
        codes: np.ndarray = self.customers.get_indexer(pd.Index(customer_ids.astype("string"))).astype(np.int64)
        return codes

    def touches(self, windows: AttributionWindows) -> pd.DataFrame:
        """One row per (message, touch type) with a window: ``mi`` (row position), ``touch_us``, ``end_us``."""
        frames = []
        for channel, kind, column, hours in windows.touch_types():
            on = self.email if channel == "email" else self.sms
            if column == "opened_at":
                at, ok = self.open_us, self.counted_open
            elif column == "clicked_at":
                at, ok = self.click_us, self.clicked
            else:
                at, ok = self.delivered_us, self.delivered
            mask = on & ok & (at != NAT)
            idx = np.flatnonzero(mask)
            frames.append(
                pd.DataFrame(
                    {
                        "mi": idx.astype(np.int64),
                        "touch_us": at[idx],
                        "end_us": at[idx] + int(hours * US_PER_HOUR),
                        "touch": kind,
                    }
                )
            )
        if not frames:
            return pd.DataFrame({"mi": [], "touch_us": [], "end_us": [], "touch": []}).astype(
                {"mi": "int64", "touch_us": "int64", "end_us": "int64"}
            )
        return pd.concat(frames, ignore_index=True)
