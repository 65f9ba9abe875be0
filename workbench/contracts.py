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

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .locales import canonical_locale
from .models.dataset import Dataset, arrow_strings, customer_positions
from .models.errors import DataContractError
from .models.tables import (
    CANCELLED_STATUSES,
    CONTRACTS,
    EMAIL_PATTERN,
    EVENT_ALIASES,
    FORMULA_START,
    KNOWN_EVENTS,
    QUALITY_COLUMNS,
)
from .phones import is_valid as is_valid_phone

__all__ = [
    "contact_validity",
    "date_order",
    "derive_customers",
    "from_frames",
    "normalize_events",
    "numeric_date_parts",
    "quality_checks",
    "quality_row",
    "to_utc",
    "valid_emails",
    "valid_phones",
    "validate",
]


#: Dates written as numbers separated by / . or - with the year last (03/04/2026): day and month can swap.
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b"
#: The span of timestamps the contract accepts; anything outside is a data error (a year 0001, a 9999 sentinel).
EARLIEST, LATEST = pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC")


class AmbiguousDates(ValueError):
    """Dates written day and month first in one column, or only in a form that could be either."""

    def __init__(self, problem: str, mask: pd.Series) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mask = mask


def to_utc(values: pd.Series, *, day_first: bool | None = None) -> pd.Series:
    """Parse a column to timezone-aware UTC; naive values are taken as UTC.

    ISO 8601 is read as it is. Dates written with numbers only (``03/04/2026``)
    are read in one order for the whole column: day first when some value has a
    day above 12 (``13/04/2026``), month first when some value has a month
    position above 12 (``04/13/2026``); a column that has both, or only values
    that could be either, raises :class:`AmbiguousDates` rather than guessing.
    ``day_first`` gives the order decided for the whole column elsewhere (an
    engine that parses a column in parts: see :func:`numeric_date_parts`).
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
            parts = text[retry].str.extract(_NUMERIC_DATE).astype("Float64")
            numeric = parts[0].notna()
            other = retry.copy()
            other[retry] = ~numeric.to_numpy(dtype=bool)
            if other.any():
                out[other] = pd.to_datetime(text[other], utc=True, errors="coerce", format="mixed", cache=False)
            if numeric.any():
                where = retry.copy()
                where[retry] = numeric.to_numpy(dtype=bool)
                if day_first is None:
                    first, second = parts.loc[numeric, 0], parts.loc[numeric, 1]
                    day_first = date_order(
                        bool((first > 12).any()), bool((second > 12).any()), bool((first != second).any()), where
                    )
                out[where] = pd.to_datetime(
                    text[where], utc=True, errors="coerce", format="mixed", dayfirst=day_first, cache=False
                )
    return out.astype("datetime64[us, UTC]")


def date_order(day_first: bool, month_first: bool, differ: bool, where: pd.Series) -> bool:
    """Whether a column's numeric dates are day first, from what its rows show (see :func:`to_utc`).

    ``day_first``: some date has a first number above 12; ``month_first``: some has a second number
    above 12; ``differ``: some has two different numbers. Raises :class:`AmbiguousDates` (with ``where``,
    the rows written with numbers) when the rows show both orders, or neither while the order matters.
    """
    if day_first and month_first:
        msg = "dates are written day first in some rows (13/04/2026) and month first in others (04/13/2026)"
        raise AmbiguousDates(msg, where)
    if not day_first and not month_first and differ:
        msg = "dates such as 03/04/2026 could be day/month or month/day, and no row tells which"
        raise AmbiguousDates(msg, where)
    return day_first


def numeric_date_parts(values: pd.Series) -> pd.DataFrame:
    """For each value that :func:`to_utc` reads as a date written with numbers only (``03/04/2026``): its
    first and second number (``first``, ``second``, missing for every other value).

    From these a column read in parts decides its order once (:func:`date_order`) and parses each part
    with ``to_utc(part, day_first=...)``, as :func:`to_utc` does for a whole column.
    """
    empty = pd.DataFrame({"first": pd.Series(pd.NA, index=values.index, dtype="Float64")})
    empty["second"] = empty["first"]
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values.dtype):
        return empty
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601", cache=False)
    retry = iso.isna() & text.notna() & (text != "")
    if not retry.any():
        return empty
    parts = text[retry].str.extract(_NUMERIC_DATE).astype("Float64")
    empty.loc[retry, "first"] = parts[0]
    empty.loc[retry, "second"] = parts[1]
    return empty


_TIMESTAMP_FIX = "use ISO 8601 (2024-03-01T09:30:00Z); values without a zone are read as UTC"


def _given(values: pd.Series) -> pd.Series:
    """Where a value is present (not missing, not blank text)."""
    given = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        given = given & (values.astype("string").str.strip() != "")
    return given.fillna(False).astype(bool)


def _refuse(table: str, col: str, df: pd.DataFrame, bad: pd.Series, ex_col: str, problem: str, remedy: str) -> None:
    if bad.any():
        raise DataContractError(
            table,
            col,
            problem,
            count=int(bad.sum()),
            examples=_examples(df, bad, ex_col),
            id_column=ex_col,
            remedy=remedy,
        )


def _examples(df: pd.DataFrame, mask: pd.Series, column: str) -> list[str]:
    if column in df.columns:
        return [str(v) for v in df.loc[mask, column].astype("string").fillna("<missing>").head(5)]
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

    for col in contract.timestamps:
        if col not in out.columns:
            continue
        original = out[col]
        given = _given(original)
        try:
            parsed = to_utc(original)
        except AmbiguousDates as exc:
            raise DataContractError(
                name,
                col,
                exc.problem,
                count=int(exc.mask.sum()),
                examples=out.loc[exc.mask.to_numpy(dtype=bool), col].astype("string").head(5).tolist(),
                id_column="value",
                remedy="write timestamps in ISO 8601 (2026-04-03 or 2026-04-03T09:30:00Z)",
            ) from None
        bad = (parsed.isna() & given) | (~given if col in contract.required else False)
        _refuse(name, col, out, bad, ex_col, "timestamp cannot be parsed", _TIMESTAMP_FIX)
        outside = parsed.notna() & ((parsed < EARLIEST) | (parsed >= LATEST))
        _refuse(
            name,
            col,
            out,
            outside,
            ex_col,
            f"timestamp outside {EARLIEST.year}-{LATEST.year - 1}",
            "correct the dates, or drop rows that carry a placeholder date such as 0001-01-01 or 9999-12-31",
        )
        out[col] = parsed

    for col in contract.numeric:
        if col not in out.columns:
            continue
        original = out[col]
        given = _given(original)
        parsed = pd.to_numeric(original, errors="coerce").astype("float64")
        bad = (parsed.isna() & given) | (~given if col in contract.required else False)
        _refuse(
            name,
            col,
            out,
            bad,
            ex_col,
            "value is not a number",
            "write amounts as plain numbers with a dot for decimals (12.50), no currency sign",
        )
        infinite = pd.Series(np.isinf(parsed.to_numpy()), index=out.index)
        _refuse(
            name,
            col,
            out,
            infinite,
            ex_col,
            "value is infinite (inf, Infinity or a number too large to hold, such as 1e309)",
            "write the real amount; a missing amount stays empty",
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
    text = values.astype("string")
    international = text.str.startswith("+").fillna(False).astype(bool)
    return pd.Series(is_valid_phone(text.where(international)).to_numpy(), index=values.index)


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
    if customers is not None and len(customers) == 0:
        raise DataContractError(
            "customers",
            None,
            f"the customers table has no rows while orders name {v_orders['customer_id'].nunique():,} customers",
            remedy="fill the customers table, or remove the file so customers are derived from orders",
        )
    if customers is None:
        v_customers, keys = _derive_customers(v_orders)
    else:
        v_customers = validate("customers", customers)
        keys = customer_positions(v_orders["customer_id"], v_customers["customer_id"])
    found_quality = [] if quality is None else [quality]
    v_events = None
    if events is not None:
        v_events, notes = normalize_events(validate("events", events))
        found_quality.extend(notes)
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
        events=v_events,
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


def normalize_events(events: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Event names in the workbench's words, and quality rows saying what was renamed and what is not read.

    Names are lower-cased with words joined by ``_`` (``Add To Cart`` becomes
    ``add_to_cart``) and the common names of other tools map to the workbench's
    (:data:`~workbench.models.tables.EVENT_ALIASES`); names the workbench does
    not read are kept and counted, so an intent segment at zero is explained.
    """
    raw = events["event"].astype("string")
    norm = raw.str.strip().str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    norm = norm.replace(EVENT_ALIASES)
    out = events.copy(deep=False)
    out["event"] = norm
    notes = []
    renamed = (norm != raw).fillna(False).astype(bool) & norm.isin(KNOWN_EVENTS)
    if renamed.any():
        pairs = pd.DataFrame({"from": raw[renamed], "to": norm[renamed]}).drop_duplicates()
        notes.append(
            quality_row(
                "events",
                "event",
                "event names written another way",
                int(renamed.sum()),
                len(events),
                [f"{a} → {b}" for a, b in pairs.itertuples(index=False)][:5],
                "renamed to the workbench's event names",
            )
        )
    unknown = ~norm.isin(KNOWN_EVENTS)
    if unknown.any():
        names = norm[unknown].value_counts()
        notes.append(
            quality_row(
                "events",
                "event",
                "event names the workbench does not read",
                int(unknown.sum()),
                len(events),
                [f"{name} ({count:,})" for name, count in names.head(5).items()],
                f"kept but unused: profiles and intent segments read {', '.join(KNOWN_EVENTS)}",
            )
        )
    return out, notes


# ---------------------------------------------------------------- data quality


def quality_row(
    table: str, column: str, check: str, rows: int, total: int, examples: Iterable[object], action: str
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
    if "locale" in c.columns:
        given = _given(c["locale"])
        text = c["locale"].astype("string")
        known = {v: canonical_locale(v) is not None for v in text[given].unique().tolist()}
        bad = given & text.map(lambda v: not known.get(v, True), na_action="ignore").fillna(False).astype(bool)
        frames.append(
            quality_row(
                "customers",
                "locale",
                "locale is not a BCP 47 tag Babel knows (e.g. fr-CA)",
                int(bad.sum()),
                n,
                c.loc[bad, "customer_id"].head(5),
                "ignored: the locale is derived from country and region",
            )
        )
    formula = c["customer_id"].astype("string").str.startswith(FORMULA_START).fillna(False).astype(bool)
    frames.append(
        quality_row(
            "customers",
            "customer_id",
            "id starts like a spreadsheet formula (=, +, -, @)",
            int(formula.sum()),
            n,
            c.loc[formula, "customer_id"].head(5),
            "kept; written with a leading ' in the CSV files meant for spreadsheets",
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
