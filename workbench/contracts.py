"""The data contract, enforced: normalise each table, assemble a :class:`Dataset`, count what is not fatal.

Every table is a pandas DataFrame. Ids are strings, timestamps are
timezone-aware UTC, extra columns are kept and ignored (the contract itself is
data: :mod:`workbench.models.tables`). :func:`validate` normalises one table to
that shape or raises :class:`DataContractError` naming the table, column,
number of bad rows and a few example ids; :func:`from_frames` validates every
table and builds the dataset; :func:`quality_checks` counts what does not stop
a run (invalid emails or phones, returns, orphan rows).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .models.dataset import Dataset, arrow_strings, customer_positions
from .models.errors import DataContractError
from .models.tables import CANCELLED_STATUSES, CONTRACTS, EMAIL_PATTERN, QUALITY_COLUMNS

__all__ = [
    "contact_validity",
    "derive_customers",
    "from_frames",
    "quality_checks",
    "quality_row",
    "to_utc",
    "valid_emails",
    "valid_phones",
    "validate",
]


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

    Each distinct number is parsed once.
    """
    import phonenumbers

    from .timezones import map_distinct

    def check(text: str) -> str | None:
        if not text.startswith("+"):
            return None
        try:
            return "valid" if phonenumbers.is_valid_number(phonenumbers.parse(text, None)) else None
        except phonenumbers.NumberParseException:
            return None

    verdict = map_distinct(values.astype("string").reset_index(drop=True), check)
    return pd.Series(verdict.notna().to_numpy(), index=values.index)


# ---------------------------------------------------------------- a dataset from frames


def from_frames(
    orders: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    consents: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
    *,
    quality: pd.DataFrame | None = None,
    source: str = "",
) -> Dataset:
    """Validate in-memory tables and build a :class:`Dataset` (customers derived from orders when absent)."""
    v_orders = validate("orders", orders)
    if customers is None:
        v_customers, keys = _derive_customers(v_orders)
    else:
        v_customers = validate("customers", customers)
        keys = customer_positions(v_orders["customer_id"], v_customers["customer_id"])
    found_quality = [] if quality is None else [quality]
    if (keys < 0).any():
        unknown = v_orders[keys < 0]
        missing_ids = unknown["customer_id"].unique()
        known = len(v_customers)
        v_customers = pd.concat([v_customers, derive_customers(unknown)], ignore_index=True)
        keys = customer_positions(v_orders["customer_id"], v_customers["customer_id"])
        found_quality.append(
            quality_row(
                "orders",
                "customer_id",
                "customer not in customers table",
                len(missing_ids),
                known,
                missing_ids[:5],
                "added to customers with only an id",
            )
        )
    dataset = Dataset(
        orders=v_orders,
        customers=v_customers,
        events=None if events is None else validate("events", events),
        consents=None if consents is None else validate("consents", consents),
        messages=None if messages is None else validate("messages", messages),
        source=source,
    )
    dataset.derived("keys:orders", ("customers", "orders"), lambda: keys)
    checks = quality_checks(dataset)
    all_quality = pd.concat([*found_quality, checks], ignore_index=True) if found_quality else checks
    out = replace(dataset, quality=all_quality[QUALITY_COLUMNS])
    out._derived.update(dataset._derived)  # same tables, same derived values
    return out


def contact_validity(dataset: Dataset) -> dict[str, np.ndarray]:
    """Per customer (in the order of ``customers``): is the ``email`` usable, is the ``phone`` valid E.164?

    Checked once per dataset (parsing phone numbers is the costly part):
    loading counts the invalid ones in ``quality`` and profiles reuse the
    same answers for ``has_valid_email`` and ``has_valid_phone``. A
    missing column means no valid address.
    """
    return dataset.derived("contacts", ("customers",), lambda: _contact_validity(dataset.customers))


def _contact_validity(customers: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for column, check in (("email", valid_emails), ("phone", valid_phones)):
        present = column in customers.columns and customers[column].notna().any()
        out[column] = check(customers[column]).to_numpy(dtype=bool) if present else np.zeros(len(customers), dtype=bool)
    return out


def derive_customers(orders: pd.DataFrame) -> pd.DataFrame:
    """One customer row per id seen in orders (sorted by id), created at the first order."""
    return _derive_customers(orders)[0]


def _derive_customers(orders: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`derive_customers` and the position of each order's customer in it (Arrow hashing, no groupby)."""
    encoded = pc.dictionary_encode(arrow_strings(orders["customer_id"]))
    by_id = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(by_id), dtype=np.int32)
    rank[by_id] = np.arange(len(by_id), dtype=np.int32)
    keys = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    when = np.asarray(orders["ordered_at"].dt.tz_convert(None), dtype="datetime64[us]").view(np.int64)
    first = np.full(len(by_id), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, keys, when)
    customers = pd.DataFrame(
        {
            "customer_id": pd.arrays.ArrowStringArray(encoded.dictionary.take(pa.array(by_id))),
            "created_at": pd.Series(first.view("datetime64[us]")).dt.tz_localize("UTC"),
        }
    )
    return customers, keys


# ---------------------------------------------------------------- data quality


def quality_row(
    table: str, column: str, check: str, rows: int, total: int, examples: object, action: str
) -> pd.DataFrame:
    """One row of ``Dataset.quality``: a check, how many of ``total`` rows it concerns, examples and the action."""
    return pd.DataFrame(
        [
            {
                "table": table,
                "column": column,
                "check": check,
                "rows": int(rows),
                "share": (rows / total) if total else 0.0,
                "examples": ", ".join(map(str, list(examples)[:5])),
                "action": action,
            }
        ]
    )


def quality_checks(dataset: Dataset) -> pd.DataFrame:
    """Checks that are counted, not fatal: invalid emails and phone numbers, returns, orphan rows.

    Returns one row per check (``table``, ``column``, ``check``, ``rows``,
    ``share``, ``examples``, ``action``); a check that finds nothing is
    still listed with ``rows`` 0 so the report shows it was run.
    """
    frames = []
    c = dataset.customers
    n = len(c)
    valid = contact_validity(dataset)
    for column, invalid, unused, absent, unreachable in (
        ("email", "invalid email address", "email not used for sends", "no email address", "email not reachable"),
        (
            "phone",
            "invalid phone number (E.164)",
            "SMS not used for this customer",
            "no phone number",
            "SMS not reachable",
        ),
    ):
        if column not in c.columns:
            continue
        text = c[column].astype("string")
        given = text.notna() & (text.str.strip() != "")
        bad = given & ~valid[column]
        frames.append(
            quality_row("customers", column, invalid, bad.sum(), n, c.loc[bad, "customer_id"].head(5), unused)
        )
        frames.append(
            quality_row(
                "customers", column, absent, (~given).sum(), n, c.loc[~given, "customer_id"].head(5), unreachable
            )
        )
    o = dataset.orders
    negative = o["amount"] < 0
    if "status" in o.columns:
        negative = negative | o["status"].astype("string").str.lower().isin(CANCELLED_STATUSES).fillna(False)
    frames.append(
        quality_row(
            "orders",
            "amount",
            "cancellations and returns",
            negative.sum(),
            len(o),
            o.loc[negative, "order_id"].head(5),
            "excluded from purchase counts and revenue",
        )
    )
    for name in ("events", "consents", "messages"):
        df = getattr(dataset, name)
        if df is None:
            continue
        orphan = dataset.customer_keys(name) < 0
        frames.append(
            quality_row(
                name,
                "customer_id",
                "customer not in customers table",
                orphan.sum(),
                len(df),
                df.loc[orphan, "customer_id"].head(5),
                "ignored in profiles",
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUALITY_COLUMNS)
