"""The I/O edge: read tables into a :class:`Dataset`, adapt real datasets, write outputs atomically.

Nothing else in the package reads or writes files. Reading never modifies the
input folder; writing goes to a temporary file in the target folder that is
renamed into place, so a crash never leaves half a file, and a run writes into
a new folder so that nothing a user had is overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .contracts import CANCELLED_STATUSES, CONTRACTS, valid_emails, valid_phones, validate
from .errors import DataContractError, WorkbenchError
from .timezones import resolve_timezones

__all__ = [
    "QUALITY_COLUMNS",
    "Dataset",
    "atomic_write",
    "customer_positions",
    "derive_customers",
    "file_sha256",
    "files_table",
    "from_frames",
    "load_dataset",
    "load_hillstrom",
    "load_online_retail",
    "new_run_dir",
    "quality_checks",
    "write_dataset",
    "write_table",
    "write_text",
]

TABLES = ("customers", "orders", "events", "consents", "messages")
QUALITY_COLUMNS = ["table", "column", "check", "rows", "share", "examples", "action"]
_EXTENSIONS = (".parquet", ".csv", ".csv.gz")


@dataclass(frozen=True)
class Dataset:
    """The five tables of the data contract, validated and in UTC.

    ``orders`` is always present; the others may be ``None`` when the source
    has no such table. ``quality`` lists data-quality findings that did not stop
    loading (invalid emails or phones, rows an adapter set aside), one row per
    check with the number of rows concerned and what was done about them.

    Treat the tables as read-only: what is derived from them (customer keys,
    contact validity, time zones) is computed once and kept; make changed
    tables with :meth:`with_tables`.
    """

    orders: pd.DataFrame
    customers: pd.DataFrame
    events: pd.DataFrame | None = None
    consents: pd.DataFrame | None = None
    messages: pd.DataFrame | None = None
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))
    source: str = ""
    # values derived from the tables: name -> (the tables they come from, value); a replace() copy starts empty
    _derived: dict[str, tuple[tuple[str, ...], object]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _memo(self, name: str, tables: tuple[str, ...], compute: Callable[[], object]) -> object:
        if name not in self._derived:
            self._derived[name] = (tables, compute())
        return self._derived[name][1]

    def customer_keys(self, table: str) -> np.ndarray:
        """For each row of ``table``, the position of its customer in ``customers`` (-1 if not there).

        These integer keys are what profiles group and join on: computed once
        per dataset (loading computes them for ``orders`` while checking that
        every order's customer exists), so repeated profile runs, for example
        at several ``as_of`` dates, do not hash the string ids again.
        """
        frame = getattr(self, table)
        if frame is None:
            raise WorkbenchError(f"the dataset has no {table} table")
        return self._memo(
            f"keys:{table}",
            ("customers", table),
            lambda: customer_positions(frame["customer_id"], self.customers["customer_id"]),
        )

    def contact_validity(self) -> dict[str, np.ndarray]:
        """Per customer (in the order of ``customers``): is the ``email`` usable, is the ``phone`` valid E.164?

        Checked once per dataset (parsing phone numbers is the costly part):
        loading counts the invalid ones in ``quality`` and profiles reuse the
        same answers for ``has_valid_email`` and ``has_valid_phone``. A
        missing column means no valid address.
        """
        return self._memo("contacts", ("customers",), lambda: _contact_validity(self.customers))

    def timezones(self) -> pd.DataFrame:
        """Each customer's time zone (:func:`~workbench.timezones.resolve_timezones`), resolved once per dataset."""
        return self._memo("timezones", ("customers",), lambda: resolve_timezones(self.customers))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        return {n: getattr(self, n) for n in TABLES if getattr(self, n) is not None}

    def with_tables(self, **tables: pd.DataFrame | None) -> Dataset:
        """A copy with some tables replaced (the dataset itself is immutable)."""
        out = replace(self, **tables)
        out._derived.update({k: v for k, v in self._derived.items() if not set(v[0]) & set(tables)})
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per table and the time span each covers."""
        rows = []
        for name in TABLES:
            df = getattr(self, name)
            ts = next((c for c in CONTRACTS[name].timestamps if df is not None and c in df.columns), None)
            rows.append(
                {
                    "table": name,
                    "rows": 0 if df is None else len(df),
                    "present": df is not None,
                    "first": None if df is None or ts is None or df.empty else df[ts].min(),
                    "last": None if df is None or ts is None or df.empty else df[ts].max(),
                }
            )
        return pd.DataFrame(rows)


# ---------------------------------------------------------------- reading


def _find_table(folder: Path, name: str) -> Path | None:
    for ext in _EXTENSIONS:
        candidate = folder / f"{name}{ext}"
        if candidate.exists():
            return candidate
    return None


def _read_file(path: Path) -> pd.DataFrame:
    try:
        if path.name.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
    except (OSError, ValueError) as exc:
        raise DataContractError(
            path.name.split(".")[0],
            None,
            f"cannot read {path}: {exc}",
            remedy="check that the file is a readable CSV (UTF-8, header row) or Parquet file",
        ) from exc


def _read_duckdb(path: Path) -> dict[str, pd.DataFrame]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        return {t: con.execute(f'select * from "{t}"').df() for t in TABLES if t in present}


def _column_map_for(column_map: Mapping[str, object] | None, table: str) -> dict[str, str]:
    if not column_map:
        return {}
    if any(isinstance(v, Mapping) for v in column_map.values()):
        return dict(column_map.get(table, {}) or {})  # type: ignore[arg-type]
    return {str(k): str(v) for k, v in column_map.items()}


def load_dataset(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, object] | None = None,
    tables: tuple[str, ...] = TABLES,
) -> Dataset:
    """Read and validate a dataset from a folder or a DuckDB file.

    Parameters
    ----------
    path
        A folder holding ``orders`` and any of ``customers``, ``events``,
        ``consents``, ``messages`` as ``.csv``, ``.csv.gz`` or ``.parquet``;
        or a ``.duckdb`` file with tables of those names.
    column_map
        Renames applied before validation: either one mapping for every table
        (``{"CustomerID": "customer_id"}``) or one per table
        (``{"orders": {"InvoiceNo": "order_id"}}``).
    tables
        Which tables to read (``orders`` is always read).

    Examples
    --------
    >>> ds = load_dataset("data/sample")            # doctest: +SKIP
    >>> ds.orders.columns[:4].tolist()              # doctest: +SKIP
    ['order_id', 'customer_id', 'ordered_at', 'amount']
    """
    root = Path(path)
    if not root.exists():
        raise WorkbenchError(f"data path {root} does not exist. Fix: pass a folder of tables or a .duckdb file")
    if root.is_file() and root.suffix in {".duckdb", ".db"}:
        raw = _read_duckdb(root)
    elif root.is_dir():
        raw = {}
        for name in TABLES:
            if name not in tables and name != "orders":
                continue
            found = _find_table(root, name)
            if found is not None:
                raw[name] = _read_file(found)
    else:
        raise WorkbenchError(f"{root} is neither a folder nor a .duckdb file. Fix: pass the folder holding orders.csv")
    if "orders" not in raw:
        raise DataContractError(
            "orders",
            None,
            f"no orders table in {root}",
            remedy="add orders.csv, orders.csv.gz or orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    renamed = {name: df.rename(columns=_column_map_for(column_map, name)) for name, df in raw.items()}
    return from_frames(**renamed, source=str(root))


def customer_positions(ids: pd.Series, customer_ids: pd.Series) -> np.ndarray:
    """Position of each id in ``customer_ids`` (unique), -1 where it is not there, as int32."""
    found = pc.index_in(_arrow_strings(ids), value_set=_arrow_strings(customer_ids))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)


def _arrow_strings(series: pd.Series) -> pa.Array:
    array = pa.array(series.astype("string").array)  # no copy when the ids are already Arrow strings
    return array if pa.types.is_large_string(array.type) else array.cast(pa.large_string())


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
            _quality_row(
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
    dataset._memo("keys:orders", ("customers", "orders"), lambda: keys)
    checks = quality_checks(dataset)
    all_quality = pd.concat([*found_quality, checks], ignore_index=True) if found_quality else checks
    out = replace(dataset, quality=all_quality[QUALITY_COLUMNS])
    out._derived.update(dataset._derived)  # same tables, same derived values
    return out


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
    encoded = pc.dictionary_encode(_arrow_strings(orders["customer_id"]))
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


def _quality_row(table, column, check, rows, total, examples, action) -> pd.DataFrame:
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
    valid = dataset.contact_validity()
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
            _quality_row("customers", column, invalid, bad.sum(), n, c.loc[bad, "customer_id"].head(5), unused)
        )
        frames.append(
            _quality_row(
                "customers", column, absent, (~given).sum(), n, c.loc[~given, "customer_id"].head(5), unreachable
            )
        )
    o = dataset.orders
    negative = o["amount"] < 0
    if "status" in o.columns:
        negative = negative | o["status"].astype("string").str.lower().isin(CANCELLED_STATUSES).fillna(False)
    frames.append(
        _quality_row(
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
            _quality_row(
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


# ---------------------------------------------------------------- real datasets

_NON_PRODUCT = re.compile(
    r"^(POST|DOT|M|C2|D|S|B|CRUK|PADS|BANK CHARGES|AMAZONFEE|ADJUST.*|gift_\d+_\d+)$", re.IGNORECASE
)


def load_online_retail(path: str | os.PathLike[str]) -> Dataset:
    """Map the UCI Online Retail invoice lines onto the data contract.

    One order per invoice (``amount`` = sum of quantity × unit price over its
    product lines), in the customer's country. What does not fit the contract is
    handled explicitly and counted in ``dataset.quality``:

    - rows without a CustomerID: set aside (no customer to profile);
    - exact duplicate rows: dropped once each;
    - non-product stock codes (postage, fees, manual adjustments, vouchers):
      left out of order amounts;
    - lines with a zero unit price: kept (they add nothing to the amount);
    - cancellations (``C`` invoices): kept as orders with a negative amount and
      status ``cancelled``, so that profiles can exclude them;
    - bad-debt adjustments (``A`` invoices): set aside.
    """
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str, "Country": str})
    total = len(raw)
    quality = []

    def note(check: str, mask: pd.Series, action: str, column: str) -> None:
        quality.append(
            _quality_row(
                "orders",
                column,
                check,
                int(mask.sum()),
                total,
                raw.loc[mask, "InvoiceNo"].drop_duplicates().head(5),
                action,
            )
        )

    no_customer = raw["CustomerID"].isna()
    note("no CustomerID", no_customer, "set aside: no customer to profile", "customer_id")
    duplicate = raw.duplicated(keep="first") & ~no_customer
    note("exact duplicate line", duplicate, "dropped (kept once)", "order_id")
    adjust = raw["InvoiceNo"].str.startswith("A") & ~no_customer & ~duplicate
    note("bad-debt adjustment invoice (A…)", adjust, "set aside", "order_id")
    stock = raw["StockCode"].astype("string").str.strip()
    non_product = stock.str.match(_NON_PRODUCT.pattern, case=False).fillna(False) & ~no_customer & ~duplicate & ~adjust
    note("non-product stock code (postage, fees, vouchers, manual)", non_product, "left out of order amounts", "amount")
    cancel = raw["InvoiceNo"].str.startswith("C") & ~no_customer & ~duplicate & ~adjust & ~non_product
    note("cancellation invoice (C…)", cancel, "kept as a cancelled order with a negative amount", "status")
    keep = raw[~no_customer & ~duplicate & ~adjust & ~non_product].copy()
    keep["line_amount"] = keep["Quantity"] * keep["UnitPrice"]
    keep["customer_id"] = keep["CustomerID"].str.replace(r"\.0$", "", regex=True)
    orders = (
        keep.groupby("InvoiceNo", sort=False)
        .agg(
            customer_id=("customer_id", "first"),
            ordered_at=("InvoiceDate", "first"),
            amount=("line_amount", "sum"),
            country=("Country", "first"),
        )
        .reset_index()
        .rename(columns={"InvoiceNo": "order_id"})
    )
    orders["amount"] = orders["amount"].round(2)
    orders["currency"] = "GBP"
    orders["status"] = orders["order_id"].str.startswith("C").map({True: "cancelled", False: "placed"})
    country = keep.groupby("customer_id")["Country"].agg(lambda s: s.mode().iat[0]).rename("country_name")
    customers = derive_customers(validate("orders", orders[["order_id", "customer_id", "ordered_at", "amount"]]))
    customers = customers.merge(country, left_on="customer_id", right_index=True, how="left")
    customers["country"] = customers["country_name"].map(_UCI_COUNTRIES).astype("string")
    customers = customers.drop(columns="country_name")
    return from_frames(orders, customers, quality=pd.concat(quality, ignore_index=True), source=str(path))


_UCI_COUNTRIES = {
    "United Kingdom": "GB",
    "France": "FR",
    "Australia": "AU",
    "Netherlands": "NL",
    "Germany": "DE",
    "Norway": "NO",
    "EIRE": "IE",
    "Switzerland": "CH",
    "Spain": "ES",
    "Poland": "PL",
    "Portugal": "PT",
    "Italy": "IT",
    "Belgium": "BE",
    "Lithuania": "LT",
    "Japan": "JP",
    "Iceland": "IS",
    "Channel Islands": "JE",
    "Denmark": "DK",
    "Cyprus": "CY",
    "Sweden": "SE",
    "Austria": "AT",
    "Israel": "IL",
    "Finland": "FI",
    "Bahrain": "BH",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Singapore": "SG",
    "Lebanon": "LB",
    "United Arab Emirates": "AE",
    "Saudi Arabia": "SA",
    "Czech Republic": "CZ",
    "Canada": "CA",
    "Brazil": "BR",
    "USA": "US",
    "European Community": None,
    "Malta": "MT",
    "RSA": "ZA",
    "Unspecified": None,
}


HILLSTROM_ARMS = {"Mens E-Mail": "mens", "Womens E-Mail": "womens", "No E-Mail": "control"}


def load_hillstrom(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read Kevin Hillstrom's e-mail experiment: one row per customer, one campaign.

    Adds ``customer_id`` (row number, as the file has none) and ``arm``
    (``mens``, ``womens``, ``control``); keeps ``segment`` as published.
    ``visit`` and ``conversion`` are 0/1 ints, ``spend`` a float.
    """
    df = pd.read_csv(path)
    expected = {"recency", "history", "segment", "visit", "conversion", "spend"}
    missing = sorted(expected - set(df.columns))
    if missing:
        raise DataContractError(
            "hillstrom",
            missing[0],
            f"columns {', '.join(missing)} missing",
            remedy="pass the MineThatData e-mail challenge CSV",
        )
    unknown = ~df["segment"].isin(HILLSTROM_ARMS)
    if unknown.any():
        raise DataContractError(
            "hillstrom",
            "segment",
            "unknown arm",
            count=int(unknown.sum()),
            examples=df.loc[unknown, "segment"].unique()[:5],
            id_column="segment",
            remedy="arms must be 'Mens E-Mail', 'Womens E-Mail' or 'No E-Mail'",
        )
    out = df.copy()
    out.insert(0, "customer_id", [f"H{i:05d}" for i in range(1, len(df) + 1)])
    out["arm"] = out["segment"].map(HILLSTROM_ARMS)
    for col in ("visit", "conversion", "mens", "womens", "newbie"):
        if col in out.columns:
            out[col] = out[col].astype("int64")
    out["spend"] = out["spend"].astype("float64")
    return out


# ---------------------------------------------------------------- writing


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one step.

    The temporary file sits in the target folder (same file system), so the
    final rename is atomic: readers see the old file or the whole new one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a DataFrame as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), atomically."""
    target = Path(path)
    name = target.name
    if name.endswith(".parquet"):
        return atomic_write(target, lambda p: df.to_parquet(p, index=False))
    if name.endswith(".csv.gz"):
        # gzip without a name or time in its header, so the same table always gives the same bytes
        return atomic_write(target, lambda p: p.write_bytes(gzip.compress(df.to_csv(index=False).encode(), mtime=0)))
    if name.endswith(".csv"):
        return atomic_write(target, lambda p: df.to_csv(p, index=False))
    raise WorkbenchError(f"cannot write {target}: use a .csv, .csv.gz or .parquet file name")


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file (UTF-8), atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def files_table(paths: list[Path] | list[str]) -> pd.DataFrame:
    """What a notebook wrote: one row per file with its size, for display."""
    rows = [{"file": str(p), "bytes": Path(p).stat().st_size} for p in paths]
    return pd.DataFrame(rows, columns=["file", "bytes"])


def write_dataset(dataset: Dataset, folder: str | os.PathLike[str], *, fmt: str = "csv.gz") -> list[Path]:
    """Write every present table of a dataset into ``folder`` as ``<table>.<fmt>``."""
    out = Path(folder)
    return [write_table(df, out / f"{name}.{fmt}") for name, df in dataset.tables().items()]


def new_run_dir(root: str | os.PathLike[str], *, prefix: str = "") -> Path:
    """Create a fresh, empty folder ``root/<run-id>`` (UTC time plus a random suffix); returns its absolute path."""
    base = Path(root).resolve()
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        run = base / f"{prefix}{stamp}-{secrets.token_hex(3)}"
        try:
            run.mkdir()
            return run
        except FileExistsError:  # pragma: no cover - 16M suffixes a second
            continue


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
