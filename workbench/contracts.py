"""The data contract: which tables the workbench reads and what they hold.

Every table is a pandas DataFrame. Ids are strings, timestamps are
timezone-aware UTC, extra columns are kept and ignored. :func:`validate`
normalises one table to that shape or raises :class:`DataContractError`
naming the table, column, number of bad rows and a few example ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .errors import DataContractError

__all__ = ["CANCELLED_STATUSES", "CHANNELS", "CONSENT_STATUSES", "CONTRACTS", "TableContract", "to_utc", "validate"]

CHANNELS = ("email", "sms")
#: An address a sender can use: something@domain.tld (a syntax check, not a deliverability check).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
CONSENT_STATUSES = ("subscribed", "unsubscribed")
#: Order statuses that make an order a cancellation or return (so is a negative amount), case-insensitive.
CANCELLED_STATUSES = ("cancelled", "canceled", "returned", "refunded", "void")


@dataclass(frozen=True)
class TableContract:
    """What one table must and may hold."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: str | None = None  # unique id column, if any
    ids: tuple[str, ...] = ()  # columns held as strings
    timestamps: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required_table: bool = False

    @property
    def example_column(self) -> str:
        return self.key or "customer_id"


CONTRACTS: dict[str, TableContract] = {
    "customers": TableContract(
        name="customers",
        required=("customer_id",),
        optional=(
            "email",
            "phone",
            "first_name",
            "country",
            "region",
            "timezone",
            "created_at",
            "loyalty_tier",
            "preferred_channel",
        ),
        key="customer_id",
        ids=("customer_id",),
        timestamps=("created_at",),
    ),
    "orders": TableContract(
        name="orders",
        required=("order_id", "customer_id", "ordered_at", "amount"),
        optional=("currency", "status"),
        key="order_id",
        ids=("order_id", "customer_id"),
        timestamps=("ordered_at",),
        numeric=("amount",),
        required_table=True,
    ),
    "events": TableContract(
        name="events",
        required=("customer_id", "occurred_at", "event"),
        optional=("product_id", "url", "properties"),
        ids=("customer_id",),
        timestamps=("occurred_at",),
    ),
    "consents": TableContract(
        name="consents",
        required=("customer_id", "channel", "status", "recorded_at"),
        optional=("source", "keyword"),
        ids=("customer_id",),
        timestamps=("recorded_at",),
        enums={"channel": CHANNELS, "status": CONSENT_STATUSES},
    ),
    "messages": TableContract(
        name="messages",
        required=("message_id", "customer_id", "channel", "sent_at"),
        optional=(
            "journey_id",
            "step_id",
            "variant",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "converted_at",
            "revenue",
            "unsubscribed_at",
            "bounced",
        ),
        key="message_id",
        ids=("message_id", "customer_id"),
        timestamps=(
            "sent_at",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "converted_at",
            "unsubscribed_at",
        ),
        numeric=("revenue",),
        enums={"channel": CHANNELS},
    ),
}


def to_utc(values: pd.Series) -> pd.Series:
    """Parse a column to timezone-aware UTC; naive values are taken as UTC.

    Unparseable values become ``NaT``; the caller decides whether that is an
    error (see :func:`validate`).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        out = values.dt.tz_localize("UTC")
    else:
        # no cache: pandas' cache of distinct strings costs more than it saves on timestamps, which rarely repeat
        text = values.astype("string").str.strip()
        out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601", cache=False)
        retry = out.isna() & text.notna() & (text != "")
        if retry.any():
            out = out.copy()
            out[retry] = pd.to_datetime(text[retry], utc=True, errors="coerce", format="mixed", cache=False)
    return out.astype("datetime64[us, UTC]")


def _examples(df: pd.DataFrame, mask: pd.Series, column: str) -> list[str]:
    if column in df.columns:
        return df.loc[mask, column].astype("string").fillna("<missing>").head(5).tolist()
    return [f"row {i}" for i in df.index[mask][:5]]


def validate(name: str, df: pd.DataFrame, *, required: bool | None = None) -> pd.DataFrame:
    """Check one table against its contract and return it normalised.

    Ids become strings, timestamps UTC, numeric columns floats, channel and
    status lower case. Raises :class:`DataContractError` for a missing required
    column, an empty required table, missing ids, an unparseable timestamp, a
    non-numeric amount, a duplicate key, or an unknown channel or status.
    The input frame is never modified.
    """
    contract = CONTRACTS[name]
    must_have_rows = contract.required_table if required is None else required
    missing = [c for c in contract.required if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:12])) or "none"
        raise DataContractError(
            name,
            missing[0],
            f"required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing (columns found: {have})",
            remedy="rename the source column with column_map={'"
            + name
            + "': {'<source name>': '"
            + missing[0]
            + "'}} or add the column",
        )
    if must_have_rows and len(df) == 0:
        raise DataContractError(name, None, "the table is empty", remedy=f"provide at least one row of {name}")
    out = df.copy()
    ex_col = contract.example_column

    for col in contract.ids:
        if col not in out.columns:
            continue
        text = out[col].astype("string").str.strip()
        bad = text.isna() | (text == "")
        if bad.any():
            raise DataContractError(
                name,
                col,
                f"{col} is empty",
                count=int(bad.sum()),
                examples=[f"row {i}" for i in out.index[bad][:5]],
                id_column="position",
                remedy=f"drop or fill the rows without {col} before loading",
            )
        out[col] = text

    parsers = (
        (
            contract.timestamps,
            to_utc,
            "timestamp cannot be parsed",
            "use ISO 8601 (2024-03-01T09:30:00Z); values without a zone are read as UTC",
        ),
        (
            contract.numeric,
            lambda v: pd.to_numeric(v, errors="coerce").astype("float64"),
            "value is not a number",
            "write amounts as plain numbers with a dot for decimals (12.50), no currency sign",
        ),
    )
    for columns, parse, problem, remedy in parsers:
        for col in columns:
            if col not in out.columns:
                continue
            original = out[col]
            parsed = parse(original)
            given = original.notna()
            if original.dtype == object or pd.api.types.is_string_dtype(original.dtype):
                given = given & (original.astype("string").str.strip() != "")
            given = given.fillna(False).astype(bool)
            bad = (parsed.isna() & given) | (~given if col in contract.required else False)
            if bad.any():
                raise DataContractError(
                    name,
                    col,
                    problem,
                    count=int(bad.sum()),
                    examples=_examples(out, bad, ex_col),
                    id_column=ex_col,
                    remedy=remedy,
                )
            out[col] = parsed

    for col, allowed in contract.enums.items():
        if col not in out.columns:
            continue
        norm = out[col].astype("string").str.strip().str.lower()
        bad = ~norm.isin(allowed)
        if bad.any():
            seen = ", ".join(sorted(norm[bad].fillna("<missing>").unique().tolist())[:5])
            raise DataContractError(
                name,
                col,
                f"unknown {col} ({seen}); allowed: {', '.join(allowed)}",
                count=int(bad.sum()),
                examples=_examples(out, bad, ex_col),
                id_column=ex_col,
                remedy=f"map the values to {' or '.join(allowed)} before loading",
            )
        out[col] = norm

    if contract.key and contract.key in out.columns:
        repeated = _repeated_values(out[contract.key])
        if repeated:
            dup = out[contract.key].isin(repeated)
            raise DataContractError(
                name,
                contract.key,
                f"duplicate {contract.key}",
                count=int(dup.sum()),
                examples=out.loc[dup, contract.key].drop_duplicates().head(5).tolist(),
                id_column=contract.key,
                remedy=f"each {contract.key} must appear once; drop or merge the duplicates",
            )
    return out


def _repeated_values(values: pd.Series) -> list[str]:
    """The values that appear more than once (hashed in DuckDB: pandas takes seconds on millions of ids)."""
    import duckdb
    import pyarrow as pa

    with duckdb.connect(":memory:") as con:
        con.execute("set enable_progress_bar = false")
        con.register("ids", pa.table({"id": pa.array(values.astype("string").array)}))
        return [row[0] for row in con.sql("select id from ids group by id having count(*) > 1").fetchall()]


def valid_emails(values: pd.Series) -> pd.Series:
    """True where the value is a usable email address (:data:`EMAIL_PATTERN`); missing is False."""
    return values.astype("string").str.match(EMAIL_PATTERN).fillna(False).astype(bool)


def valid_phones(values: pd.Series) -> pd.Series:
    """True where the value is a valid E.164 number (phonenumbers); missing is False.

    The text must start with ``+``; validity is ``phonenumbers.is_valid_number(phonenumbers.parse(text,
    None))``, computed for the whole column at once (:func:`workbench.phones.is_valid`).
    """
    from .phones import is_valid as is_valid_phone

    text = values.astype("string")
    international = text.str.startswith("+").fillna(False).astype(bool)
    return pd.Series(is_valid_phone(text.where(international)).to_numpy(), index=values.index)
