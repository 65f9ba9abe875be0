"""A seeded synthetic dataset that exercises every feature of the workbench.

Customers in six countries and a dozen US states (some phone numbers span two
time zones, some customers state their zone, some do not), consent ledgers
with opt-ins, opt-outs and re-subscriptions per channel, orders with repeat
buyers, cancellations and returns, behaviour events, and a message history
whose opens, clicks and conversions depend on each customer's own latent
engagement. The same ``seed`` always gives the same tables; everything is
vectorised (no Python loop per row). The tables are built as Arrow tables in
the contract's form, as loading holds them (text of few values
dictionary-encoded, timestamps at the contract's microseconds), so
``from_frames`` checks them with Arrow's kernels and the writer formats them
without a pandas copy; each row's customer is handed over as the dataset's
customer keys. A million customers make 2.2M orders, 3.2M events, 1.4M consent
rows and 32.5M messages. The draws, their order and so the tables are those of
the row-by-row generator this replaced: ``data/sample`` is still its output.
Where the work lets go of the interpreter it uses a second thread: the sends'
time order (a sort of 32.5M times, whose order among equal times is NumPy's
quicksort's and so part of the output) is sorted while their records are put
end to end and their ids made, and their labels and customer ids are made
while their timestamps are.

Orders are priced in their market's currency (US dollars, Canadian dollars,
pounds, euros, Australian dollars); the amounts are local shelf prices, not
conversions. Most customers state no locale, so theirs comes from their
market; a few state one where people do: French speakers outside Quebec and
English speakers in it, English-speaking residents of Germany and France, and
Spanish speakers in the US (who have no Spanish translation and fall back).
German email sign-ups are confirmed (ledger source ``double_opt_in``), as
German practice asks. These draws come from a stream of their own, so the
rest of the dataset is the same as before they were added.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .contracts import from_frames
from .models.dataset import Dataset

__all__ = ["DEFAULT_END", "synthesize"]

DEFAULT_END = "2026-10-31"

# (country, share, region weights or None, phone prefixes by region)
_US_STATES = {
    # state: (weight, area codes)
    "CA": (14, ["415", "213"]),
    "TX": (11, ["512", "713", "915"]),
    "FL": (10, ["305", "407", "850"]),
    "NY": (10, ["212", "718"]),
    "WA": (6, ["206"]),
    "OK": (4, ["405"]),
    "MD": (4, ["410"]),
    "CT": (4, ["203"]),
    "IL": (7, ["312"]),
    "AZ": (5, ["602"]),
    "CO": (5, ["303"]),
    "GA": (6, ["404"]),
    "ID": (2, ["208"]),
    "SD": (2, ["605"]),
    "ND": (2, ["701"]),
    "NE": (2, ["402"]),
}
_CA_PROVINCES = {"ON": (5, ["416"]), "BC": (3, ["604"]), "QC": (3, ["514"])}
_COUNTRIES = [("US", 0.55), ("CA", 0.10), ("GB", 0.15), ("FR", 0.07), ("AU", 0.08), ("DE", 0.05)]
_MOBILE = {"GB": ("+447400", 6), "FR": ("+33612", 6), "AU": ("+61412", 6), "DE": ("+49151", 8)}
_STATED_ZONES = {
    "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix"],
    "CA": ["America/Toronto", "America/Vancouver"],
    "GB": ["Europe/London"],
    "FR": ["Europe/Paris"],
    "AU": ["Australia/Sydney", "Australia/Perth", "Australia/Brisbane"],
    "DE": ["Europe/Berlin"],
}
_AU_REGIONS = ["NSW", "VIC", "QLD", "WA"]
#: The currency orders are priced in, per market.
_CURRENCIES = {"US": "USD", "CA": "CAD", "GB": "GBP", "FR": "EUR", "DE": "EUR", "AU": "AUD"}
# (country, region or None, locale, share of those customers who state it)
_STATED_LOCALES = (
    ("CA", "QC", "en-CA", 0.12),
    ("CA", "ON", "fr-CA", 0.04),
    ("CA", "BC", "fr-CA", 0.02),
    ("DE", None, "en-GB", 0.06),
    ("FR", None, "en-GB", 0.04),
    ("US", None, "es-US", 0.04),
    ("GB", None, "en-GB", 0.10),
)
_FIRST_NAMES = np.array(
    [
        "Olivia",
        "Liam",
        "Emma",
        "Noah",
        "Ava",
        "Mateo",
        "Sophia",
        "Lucas",
        "Mia",
        "Ethan",
        "Chloé",
        "Zoë",
        "José",
        "Björn",
        "Amélie",
        "François",
        "Siobhan",
        "Aoife",
        "Nguyễn",
        "Priya",
        "Aarav",
        "Fatima",
        "Ольга",
        "Дмитрий",
        "李娜",
        "王伟",
        "محمد",
        "Yuki",
        "Søren",
        "Maximilian-Alexander",
        "Anne-Marie",
        "Oluwaseun",
        "Wolfgang",
        "Marguerite",
    ]
)
_PRODUCTS = np.array([f"SKU-{i:04d}" for i in range(1, 241)])
_EMAIL_DOMAINS = np.array(["example.com", "mail.example.org", "inbox.example.net", "example.co.uk"])
_JOURNEYS = [
    # journey, channel, step, variants, share of sends
    ("newsletter", "email", "weekly", ("A",), 0.55),
    ("browse_abandonment", "email", "email_1", ("A", "B"), 0.10),
    ("cart_abandonment", "email", "email_1", ("A", "B"), 0.10),
    ("cart_abandonment", "sms", "sms_1", ("A", "B"), 0.35),
    ("win_back", "email", "email_1", ("A", "B", "C"), 0.10),
    ("win_back", "sms", "sms_1", ("A",), 0.15),
    ("post_purchase", "email", "review_request", ("A",), 0.15),
    ("flash_sale", "sms", "sms_1", ("A", "B"), 0.50),
]


_TEXT = pa.large_string()
_UTC = pa.timestamp("us", tz="UTC")
_NAT = np.iinfo(np.int64).min  # NaT as nanoseconds
_SECOND = 1_000_000_000
_DAY = 86_400 * _SECOND


def _choice(rng: np.random.Generator, weights: list[float], size: int) -> np.ndarray:
    """Positions drawn with the given weights (what ``rng.choice`` of the values draws, as positions)."""
    w = np.asarray(weights, dtype=float)
    return _choice_p(rng, w / w.sum(), size)


def _choice_p(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(len(p), size=size, p=p)``: the same positions and the same generator state afterwards.

    ``Generator.choice`` draws one uniform number a row and finds it in the cumulative shares with a binary
    search (``searchsorted``, right side); with a handful of shares, counting the ones at or below the draw
    is the same position, found with a few vectorised comparisons instead of a search per row.
    """
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    draw = rng.random(size)
    if len(cdf) > 16:
        found: np.ndarray = cdf.searchsorted(draw, side="right")
        return found.astype(np.int64, copy=False)
    out = np.empty(size, dtype=np.int64)
    count = np.empty(min(size, _RUN), dtype=np.int8)
    for start in range(0, size, _RUN):  # a run of rows at a time: the comparisons stay in the cache
        part = draw[start : start + _RUN]
        here = count[: len(part)]
        here.fill(0)
        for share in cdf[:-1]:  # the last is 1.0, above every draw
            here += part >= share
        out[start : start + len(part)] = here
    return out


def _digits(rng: np.random.Generator, size: int, width: int, first_min: int = 2) -> pa.Array:
    """``width`` random decimal digits per row as text, the first at least ``first_min``."""
    if size == 0:
        return pa.array([], type=_TEXT)
    number = rng.integers(first_min, 10, size=size) * 10 ** (width - 1)
    number += rng.integers(0, 10 ** (width - 1), size=size)
    return pc.utf8_lpad(pc.cast(pa.array(number), _TEXT), width, "0")


def _join(*parts: pa.Array | str) -> pa.Array:
    """Text of each row's parts put end to end (a part given as ``str`` is the same in every row)."""
    given = [pa.scalar(p, _TEXT) if isinstance(p, str) else p.cast(_TEXT) for p in parts]
    return pc.binary_join_element_wise(*given, pa.scalar("", _TEXT))


def _put(column: pa.Array, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``column`` with the rows where ``mask`` holds replaced by ``values``, in order."""
    if not mask.any():
        return column
    return pc.replace_with_mask(column, pa.array(mask), values.cast(_TEXT))


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` followed by 1..n zero-padded to ``width`` digits."""
    if n >= 10**width or width < 5:  # wider than the padding, or short: let Arrow format the numbers
        numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), _TEXT), width, "0")
        return pc.binary_join_element_wise(pa.scalar(prefix, _TEXT), numbers, pa.scalar("", _TEXT))
    # consecutive numbers: the last four digits run through 0000..9999 and the others change once a block
    blocks = n // 10_000 + 1
    quads = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), dtype="V4")
    high = np.frombuffer("".join(f"{b:0{width - 4}d}" for b in range(blocks)).encode(), dtype=f"V{width - 4}")
    head = prefix.encode()
    fields = [("high", f"V{width - 4}"), ("low", "V4")]
    rows = np.empty(blocks * 10_000, dtype=np.dtype([("prefix", f"V{len(head)}"), *fields] if head else fields))
    if head:
        rows["prefix"] = np.frombuffer(head, dtype=f"V{len(head)}")[0]
    rows["high"] = np.repeat(high, 10_000)
    rows["low"] = np.tile(quads, blocks)
    size = len(head) + width
    offsets = np.arange(0, size * (n + 1), size, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(rows[1 : n + 1]))


def _gather(labels: pa.Array, codes: np.ndarray) -> pa.Array:
    """``labels.take(codes)`` (codes -1: missing) as plain text; labels of one width are copied as fixed-size
    records by NumPy (ids), in one pass."""
    labels = labels.cast(_TEXT)
    missing = codes < 0
    offsets = np.frombuffer(labels.buffers()[1], dtype=np.int64)[labels.offset : labels.offset + len(labels) + 1]
    widths = np.diff(offsets)
    if labels.null_count or missing.any() or not len(labels) or widths.min() != widths.max() or widths[0] == 0:
        return labels.take(pa.array(codes, mask=missing if missing.any() else None))
    width = int(widths[0])
    records = np.frombuffer(labels.buffers()[2], dtype=f"V{width}", count=len(labels), offset=int(offsets[0]))
    data = records[codes]
    return pa.LargeStringArray.from_buffers(
        len(codes), pa.py_buffer(np.arange(0, width * (len(codes) + 1), width, dtype=np.int64)), pa.py_buffer(data)
    )


def _coded(labels: list[str], codes: np.ndarray) -> pa.Array:
    """Text of few values, dictionary-encoded: ``labels`` by position (codes -1: missing)."""
    missing = codes < 0
    indices = pa.array(
        codes.astype(np.int8 if len(labels) < 128 else np.int32), mask=missing if missing.any() else None
    )
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, type=_TEXT))


def _utc(ns: np.ndarray) -> pa.Array:
    """Nanoseconds since the epoch (int64, :data:`_NAT` for missing) as UTC timestamps floored to the
    microsecond, as the data contract keeps them. ``ns`` is used up (divided in place)."""
    missing = ns == _NAT
    micros = np.floor_divide(ns, 1000, out=ns)
    validity = None
    if missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(_UTC, len(micros), [validity, pa.py_buffer(micros)])


def _pick_each(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """An index below ``sizes[i]`` for each row, drawn as ``rng.choice`` of a ``sizes[i]``-long sequence
    would draw it row after row (same values, same generator state afterwards), but in one go.

    ``Generator.choice`` of one item out of ``k`` takes one 32-bit draw for ``k > 1`` (none for ``k == 1``)
    and maps it with Lemire's method, drawing again in the rare case the method rejects it.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    out = np.zeros(sizes.size, dtype=np.int64)
    need = np.flatnonzero(sizes > 1)
    if need.size == 0:
        return out
    small = sizes.max() <= 1 << 16  # a handful of sizes: each one's threshold worked out once and looked up
    each = np.arange(1, int(sizes.max()) + 1 if small else 2, dtype=np.uint64)
    thresholds = np.concatenate([[np.uint64(0)], (np.uint64(1 << 32) - each) % each])
    raw = rng.integers(0, (1 << 32) - 1, size=need.size, dtype=np.uint32, endpoint=True)
    start = 0
    while start < need.size:  # a run of rows at a time, so the numbers in between stay in the cache
        stop = min(start + _RUN, need.size)
        rows = sizes[need[start:stop]]
        k = rows.astype(np.uint64)
        threshold = thresholds[rows] if small else (np.uint64(1 << 32) - k) % k
        product = raw[start:stop].astype(np.uint64)
        product *= k
        rejected = np.flatnonzero((product & np.uint64(0xFFFFFFFF)) < threshold)
        end = start + int(rejected[0]) if rejected.size else stop
        out[need[start:end]] = (product[: end - start] >> np.uint64(32)).astype(np.int64)
        if rejected.size:
            # the rejected row draws again: it takes the next value, every later row the one after its own
            again = rng.integers(0, (1 << 32) - 1, size=1, dtype=np.uint32, endpoint=True)
            raw = np.concatenate([raw[:end], raw[end + 1 :], again])
        start = end
    return out


#: Rows worked on at a time by the draws that go through many steps (a few MB of numbers each).
_RUN = 1 << 18


_COUNTRY_CODES = [c for c, _ in _COUNTRIES]


@dataclass(frozen=True)
class _People:
    """The customers table and what the other tables are drawn from: latent traits, and each customer's
    market as positions (country in :data:`_COUNTRY_CODES`; region in ``regions``, -1 for none)."""

    table: pa.Table
    traits: dict[str, np.ndarray]
    country: np.ndarray
    region: np.ndarray
    regions: list[str]

    @property
    def ids(self) -> pa.Array:
        ids = self.table.column("customer_id")
        return ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids


def _customers(rng: np.random.Generator, n: int, end: pd.Timestamp) -> _People:
    ids = _ids("C", n, 7)
    country = _choice(rng, [w for _, w in _COUNTRIES], n)
    regions = [*_US_STATES, *_CA_PROVINCES, *_AU_REGIONS]
    region = np.full(n, -1, dtype=np.int64)
    phone = pa.nulls(n, _TEXT)
    for code, table, cc in (("US", _US_STATES, "+1"), ("CA", _CA_PROVINCES, "+1")):
        mask = country == _COUNTRY_CODES.index(code)
        k = int(mask.sum())
        names = list(table)
        state = _choice(rng, [w for w, _ in table.values()], k)
        region[mask] = regions.index(names[0]) + state
        area = [table[name][1] + [""] * (3 - len(table[name][1])) for name in names]
        labels = pa.array([a for row in area for a in row], _TEXT)
        sizes = np.array([len(table[name][1]) for name in names])[state]
        codes = labels.take(pa.array(state * 3 + _pick_each(rng, sizes)))
        local = _digits(rng, k, 7)
        phone = _put(phone, mask, _join(cc, codes, local))
    au = country == _COUNTRY_CODES.index("AU")
    region[au] = regions.index(_AU_REGIONS[0]) + rng.choice(len(_AU_REGIONS), size=int(au.sum()))
    for c, (prefix, width) in _MOBILE.items():
        mask = country == _COUNTRY_CODES.index(c)
        phone = _put(phone, mask, _join(prefix, _digits(rng, int(mask.sum()), width, first_min=0)))
    has_phone = rng.random(n) < 0.72
    phone = pc.if_else(pa.array(has_phone), phone, pa.scalar(None, _TEXT))
    bad_phone = has_phone & (rng.random(n) < 0.03)
    phone = _put(phone, bad_phone, _join("+1555", _digits(rng, int(bad_phone.sum()), 3)))
    first_name = rng.choice(len(_FIRST_NAMES), size=n)
    first_name[rng.random(n) < 0.08] = -1
    local_part = _join("customer", pc.cast(pa.array(np.arange(1, n + 1)), _TEXT))
    domain = pa.array(_EMAIL_DOMAINS.tolist(), _TEXT).take(pa.array(rng.choice(len(_EMAIL_DOMAINS), size=n)))
    no_email = rng.random(n) < 0.04
    bad_email = ~no_email & (rng.random(n) < 0.02)
    email = _join(local_part, "@", pc.if_else(pa.array(bad_email), pa.scalar("", _TEXT), domain))
    email = pc.if_else(pa.array(no_email), pa.scalar(None, _TEXT), email)
    stated = rng.random(n) < 0.4
    zone_labels = [z for zones in _STATED_ZONES.values() for z in zones]
    zone = np.full(n, -1, dtype=np.int64)
    for c, zones in _STATED_ZONES.items():
        mask = stated & (country == _COUNTRY_CODES.index(c))
        zone[mask] = zone_labels.index(zones[0]) + rng.choice(len(zones), size=int(mask.sum()))
    created = end.value - rng.integers(1, 3 * 365 * 86_400, size=n) * _SECOND
    preferred = np.full(n, -1, dtype=np.int64)
    says = rng.random(n) < 0.15
    preferred[says] = _choice(rng, [0.6, 0.4], int(says.sum()))
    # latent traits that drive behaviour
    traits = {
        "engagement": rng.beta(2.0, 5.0, size=n),  # probability-ish scale
        "purchase_rate": rng.gamma(1.2, 1 / 180, size=n),  # orders a day while active
        "aov": np.exp(rng.normal(np.log(60), 0.55, size=n)),
        "lifetime_days": rng.exponential(420, size=n),
        "sms_affinity": rng.beta(2.0, 3.0, size=n),
        "created": created,
        "has_email": ~no_email,
        "has_phone": has_phone,
    }
    customers = pa.table(
        {
            "customer_id": ids,
            "email": email,
            "phone": phone,
            "first_name": _gather(pa.array(_FIRST_NAMES.tolist(), _TEXT), first_name),
            "country": _gather(pa.array(_COUNTRY_CODES, _TEXT), country),
            "region": _gather(pa.array(regions, _TEXT), region),
            "timezone": _gather(pa.array(zone_labels, _TEXT), zone),
            "created_at": _utc(created.copy()),
            "preferred_channel": _gather(pa.array(["email", "sms"], _TEXT), preferred),
        }
    )
    return _People(customers, traits, country, region, regions)


@dataclass(frozen=True)
class _Coded:
    """A text column as positions in ``labels`` (-1: missing), turned into text once the rows are in order:
    dictionary-encoded (text of few values) unless ``plain`` (ids)."""

    labels: pa.Array | list[str]
    codes: np.ndarray
    plain: bool = False


@dataclass(frozen=True)
class _Times:
    """A timestamp column as nanoseconds since the epoch (:data:`_NAT` for NaT)."""

    ns: np.ndarray


def _sort_by_time(columns: dict[str, object], when: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """A table of ``columns``, its rows ordered as ``sort_values`` orders a timestamp column holding ``when``,
    and that order.

    Columns are NumPy arrays (floats: NaN is missing), :class:`_Coded` text or :class:`_Times`; each is
    reordered as numbers and only then made into text or timestamps.
    """
    order = np.argsort(when.view("datetime64[ns]"), kind="quicksort")
    out: dict[str, pa.Array] = {}
    for name in list(columns):
        values = columns.pop(name)  # the input column is let go as soon as it is reordered
        if isinstance(values, _Coded):
            codes = values.codes[order]
            if values.plain:
                out[name] = _gather(pa.array(values.labels, type=_TEXT), codes)
            else:
                out[name] = _coded(list(values.labels), codes)
        elif isinstance(values, _Times):
            out[name] = _utc(values.ns[order])
        else:
            out[name] = pa.array(np.asarray(values)[order], from_pandas=True)  # NaN: missing
    return pa.table(out), order


def _orders(
    rng: np.random.Generator, people: _People, end: pd.Timestamp, later: ThreadPoolExecutor
) -> Future[tuple[pa.Table, np.ndarray, np.ndarray]]:
    """The orders, each one's customer (position in customers), and each customer's spend on placed orders
    (summed in time order, as pandas sums them): drawn here, put in time order on ``later``'s thread."""
    traits = people.traits
    n = people.table.num_rows
    created = traits["created"]
    active_until = np.minimum(created + (traits["lifetime_days"] * 86_400e9).astype(np.int64), end.value)
    span_days = np.maximum((active_until - created) / 86_400e9, 0)
    buyer = rng.random(n) < 0.8
    buyer[0] = True  # every dataset has at least one order
    counts = np.where(buyer, 1 + rng.poisson(traits["purchase_rate"] * span_days), 0)
    total = int(counts.sum())
    owner = np.repeat(np.arange(n), counts)
    start = created[owner]
    stop = np.maximum(active_until[owner], start + 1)
    ts = start + (rng.random(total) * (stop - start)).astype(np.int64)
    amount = np.round(traits["aov"][owner] * np.exp(rng.normal(0, 0.35, size=total)), 2)
    u = rng.random(total)
    returned = (u >= 0.04) & (u < 0.06)
    status = np.where(u < 0.04, 0, np.where(returned, 2, 1))
    amount = np.where(returned, -amount, amount)
    # each order's currency: its owner's market's (US dollars elsewhere)
    currencies = sorted(set(_CURRENCIES.values()) | {"USD"})
    by_country = np.array([currencies.index(_CURRENCIES.get(c, "USD")) for c in _COUNTRY_CODES])
    columns = {
        "order_id": _Coded(_ids("O", total, 9), np.arange(total), plain=True),
        "customer_id": _Coded(people.ids, owner, plain=True),
        "ordered_at": _Times(ts),
        "amount": amount,
        "currency": _Coded(currencies, by_country[people.country][owner]),
        "status": _Coded(["cancelled", "placed", "returned"], status),
    }
    return later.submit(_orders_in_order, columns, ts, status == 1, owner, amount, n)


def _orders_in_order(
    columns: dict[str, object], ts: np.ndarray, placed: np.ndarray, owner: np.ndarray, amount: np.ndarray, n: int
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    table, order = _sort_by_time(columns, ts)
    placed, owner, amount = placed[order], owner[order], amount[order]
    spend = pd.Series(amount[placed]).groupby(owner[placed]).sum()
    return table, owner, spend.reindex(np.arange(n)).fillna(0).to_numpy()


@dataclass(frozen=True)
class _Ledger:
    """The consent ledger as numbers, in its table's row order: whose row, on which channel, when, saying what."""

    position: np.ndarray  # the customer's position in customers
    channel: np.ndarray  # 0 email, 1 sms
    recorded: np.ndarray  # nanoseconds
    subscribed: np.ndarray  # bool


_SOURCES = ["signup_form", "unsubscribe_link", "checkout_keyword", "reply", "resubscribe", "double_opt_in"]
_KEYWORDS = ["START", "STOP", "UNSTOP"]


def _consents(rng: np.random.Generator, people: _People, end: pd.Timestamp) -> tuple[pa.Table, _Ledger]:
    """The ledger, and its rows as numbers (for the sends that depend on it).

    German email sign-ups are confirmed: their source is ``double_opt_in``."""
    traits = people.traits
    n = people.table.num_rows
    created = traits["created"]
    plans = (
        ("email", traits["has_email"] & (rng.random(n) < 0.88), 0.14, 0.25, "signup_form", "unsubscribe_link", None),
        (
            "sms",
            traits["has_phone"] & (rng.random(n) < 0.35 + 0.4 * traits["sms_affinity"]),
            0.12,
            0.3,
            "checkout_keyword",
            "reply",
            "STOP",
        ),
    )
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("pos", "channel", "status", "ns", "source", "keyword")}

    def rows(pos: np.ndarray, channel: int, subscribed: bool, ns: np.ndarray, source: str, keyword: str | None) -> None:
        k = len(pos)
        parts["pos"].append(pos)
        parts["channel"].append(np.full(k, channel, dtype=np.int8))
        parts["status"].append(np.full(k, 0 if subscribed else 1, dtype=np.int8))
        parts["ns"].append(ns)
        parts["source"].append(np.full(k, _SOURCES.index(source), dtype=np.int8))
        parts["keyword"].append(np.full(k, -1 if keyword is None else _KEYWORDS.index(keyword), dtype=np.int8))

    positions = np.arange(n)
    for number, (channel, opted, p_out, p_back, src_in, src_out, kw_out) in enumerate(plans):
        k = int(opted.sum())
        first = created[opted] + rng.integers(0, 3 * 86_400, size=k) * _SECOND
        rows(positions[opted], number, True, first, src_in, "START" if channel == "sms" else None)
        out = rng.random(k) < p_out
        out_at = first[out] + ((end.value - first[out]) * rng.random(int(out.sum()))).astype(np.int64)
        rows(positions[opted][out], number, False, out_at, src_out, kw_out)
        back = rng.random(int(out.sum())) < p_back
        back_at = out_at[back] + ((end.value - out_at[back]) * rng.random(int(back.sum()))).astype(np.int64)
        rows(positions[opted][out][back], number, True, back_at, "resubscribe", "UNSTOP" if channel == "sms" else None)
    whole = {name: np.concatenate(values) for name, values in parts.items()}
    ids = people.ids
    rank = np.empty(len(ids), dtype=np.int64)
    rank[pc.sort_indices(ids).to_numpy()] = np.arange(len(ids))
    order = np.lexsort((rank[whole["pos"]], whole["ns"]))  # sort_values(["recorded_at", "customer_id"]): stable
    whole = {name: values[order] for name, values in whole.items()}
    german = people.country[whole["pos"]] == _COUNTRY_CODES.index("DE")
    confirmed = german & (whole["channel"] == 0) & (whole["source"] == _SOURCES.index("signup_form"))
    whole["source"][confirmed] = _SOURCES.index("double_opt_in")
    ledger = _Ledger(whole["pos"], whole["channel"], whole["ns"], whole["status"] == 0)
    table = pa.table(
        {
            "customer_id": _gather(ids, whole["pos"]),
            "channel": _coded(["email", "sms"], whole["channel"]),
            "status": _coded(["subscribed", "unsubscribed"], whole["status"]),
            "recorded_at": _utc(whole["ns"].copy()),
            "source": _coded(_SOURCES, whole["source"]),
            "keyword": _coded(_KEYWORDS, whole["keyword"]),
        }
    )
    return table, ledger


def _events(
    rng: np.random.Generator, people: _People, end: pd.Timestamp, days: int, later: ThreadPoolExecutor
) -> Future[tuple[pa.Table, np.ndarray]]:
    """The behaviour events, and each one's customer (position in customers): drawn here, put in time order on
    ``later``'s thread."""
    traits = people.traits
    n = people.table.num_rows
    alive = (traits["created"] + traits["lifetime_days"] * 86_400e9) > (end.value - 60 * 86_400e9)
    intensity = traits["engagement"] * np.where(alive, 1.0, 0.15)
    visits = rng.poisson(intensity * days * 0.25)
    owner = np.repeat(np.arange(n), visits)
    m = len(owner)
    ts = end.value - (rng.random(m) * days * 86_400e9).astype(np.int64)
    kinds = [("site_visit", np.ones(m, dtype=bool))]
    view = rng.random(m) < 0.75
    kinds.append(("product_view", view))
    cart = view & (rng.random(m) < 0.22)
    kinds.append(("add_to_cart", cart))
    checkout = cart & (rng.random(m) < 0.35)
    kinds.append(("checkout_started", checkout))
    ticket = rng.random(m) < 0.01
    kinds.append(("support_ticket", ticket))
    product = rng.integers(0, len(_PRODUCTS), size=m)  # as rng.choice(_PRODUCTS, size=m) draws
    owners, times, names, products = [], [], [], []
    for offset, (name, mask) in enumerate(kinds):
        owners.append(owner[mask])
        times.append(ts[mask] + offset * 20_000_000_000)
        names.append(np.full(int(mask.sum()), offset, dtype=np.int8))
        with_product = name in ("product_view", "add_to_cart", "checkout_started")
        products.append(product[mask] if with_product else np.full(int(mask.sum()), -1, dtype=np.int64))
    when = np.minimum(np.concatenate(times), end.value)
    owner = np.concatenate(owners)
    columns = {
        "customer_id": _Coded(people.ids, owner, plain=True),
        "occurred_at": _Times(when),
        "event": _Coded([name for name, _ in kinds], np.concatenate(names)),
        "product_id": _Coded(_PRODUCTS.tolist(), np.concatenate(products)),
    }
    return later.submit(_events_in_order, columns, when, owner)


def _events_in_order(columns: dict[str, object], when: np.ndarray, owner: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    table, order = _sort_by_time(columns, when)
    return table, owner[order]


_JOURNEY_IDS = sorted({j[0] for j in _JOURNEYS})
_STEP_IDS = sorted({j[2] for j in _JOURNEYS})
_VARIANTS = ["A", "B", "C"]


#: Flags of a send, one bit each in a send's ``flags``; its channel is one of them (set: SMS).
_BOUNCED, _OPENED, _CLICKED, _CONVERTED, _UNSUBSCRIBED, _SMS = 1, 2, 4, 8, 16, 32


def _send_record(owners: int, seconds: int) -> np.dtype:
    """One send as numbers, reordered as one record: its customer, its send time in seconds from the start of
    the history, the seconds from send to open, from open (or send) to click and from click to conversion,
    the revenue, its labels as codes and its flags (the channel among them: 32 bytes a record, a size NumPy
    gathers in whole words)."""
    return np.dtype(
        [
            ("owner", np.int32 if owners < 2**31 else np.int64),
            ("sent", np.int32 if seconds < 2**31 else np.int64),
            ("open", np.int32),
            ("click", np.int32),
            ("conversion", np.int32),
            ("revenue", np.float64),
            ("journey_id", np.int8),
            ("step_id", np.int8),
            ("variant", np.int8),
            ("flags", np.uint8),
        ]
    )


def _messages(
    rng: np.random.Generator, people: _People, ledger: _Ledger, end: pd.Timestamp, days: int
) -> tuple[pa.Table, np.ndarray]:
    """Sends only while the customer was subscribed on that channel (as a compliant sender would), and each
    one's customer (position in customers).

    Each send is drawn as a record of numbers (:func:`_send_record`); the records are put in time order in
    one pass, and only then made into columns of text and timestamps.
    """
    start = end.value - days * _DAY
    record = _send_record(people.table.num_rows, days * 86_400)
    parts, times = [], []
    for number, (channel, per_week) in enumerate((("email", 1.6), ("sms", 0.45))):
        on_channel = ledger.channel == number
        rows = (ledger.position[on_channel], ledger.recorded[on_channel], ledger.subscribed[on_channel])
        sends, sent = _channel_sends(rng, people.table.num_rows, people.traits, rows, channel, per_week, end, days)
        if channel == "sms":
            sends["flags"] |= np.uint8(_SMS)
        sends["sent"] = (sent - start) // _SECOND
        parts.append(sends)
        times.append(sent)
    sent_at = np.concatenate(times)
    del times
    width = record.itemsize
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the sort lets go of the interpreter: the records are put end to end and the ids made meanwhile
        sorting = pool.submit(np.argsort, sent_at.view("datetime64[ns]"), kind="quicksort")  # as sort_values
        whole = np.concatenate([part.view(f"V{width}") for part in parts])
        del parts
        message_ids = _ids("M", len(whole), 10)
        order = sorting.result()
        del sent_at
        sends = np.take(whole, order).view(record)
        del whole, order
        # the ids, labels and amounts on the other thread, the timestamps on this one
        customer_ids = pool.submit(_gather, people.ids, sends["owner"])
        labels = pool.submit(_send_labels, sends)
        stamps = _send_times(sends, start, end)
    columns = {"message_id": message_ids, "customer_id": customer_ids.result(), **labels.result(), **stamps}
    order_of = ("channel", "journey_id", "step_id", "variant", *_SEND_TIMES[:5], "revenue", _SEND_TIMES[5], "bounced")
    columns = {name: columns[name] for name in ("message_id", "customer_id", *order_of)}
    return pa.table(columns), np.ascontiguousarray(sends["owner"])


_SEND_TIMES = ("sent_at", "delivered_at", "opened_at", "clicked_at", "converted_at", "unsubscribed_at")


def _send_labels(sends: np.ndarray) -> dict[str, pa.Array]:
    """The sends' labels (text of few values), revenue (where converted) and bounces."""
    flags = sends["flags"]
    converted = (flags & _CONVERTED) != 0
    revenue = pa.Array.from_buffers(
        pa.float64(),
        len(sends),
        [pa.py_buffer(np.packbits(converted, bitorder="little")), pa.py_buffer(np.ascontiguousarray(sends["revenue"]))],
    )
    return {
        "channel": _coded(["email", "sms"], ((flags & _SMS) != 0).view(np.int8)),
        "journey_id": _coded(_JOURNEY_IDS, sends["journey_id"]),
        "step_id": _coded(_STEP_IDS, sends["step_id"]),
        "variant": _coded(_VARIANTS, sends["variant"]),
        "revenue": revenue,
        "bounced": pa.array((flags & _BOUNCED) != 0),
    }


def _send_times(sends: np.ndarray, start: int, end: pd.Timestamp) -> dict[str, pa.Array]:
    """The sends' timestamps: sent, delivered (unless bounced), opened, clicked, converted, unsubscribed."""
    flags = sends["flags"]
    # timestamps in microseconds: every part is a whole number of seconds
    micro = 1_000_000
    last = end.value // 1000

    def stamp(values: np.ndarray, valid: np.ndarray) -> pa.Array:
        """Microseconds as UTC timestamps, no later than the end, missing where not ``valid``."""
        np.minimum(values, last, out=values)
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pa.Array.from_buffers(_UTC, len(values), [bitmap, pa.py_buffer(values)])

    def flagged(bit: int) -> np.ndarray:
        found: np.ndarray = (flags & bit) != 0
        return found

    sent = sends["sent"].astype(np.int64)
    sent *= micro
    sent += start // 1000
    opened_raw = sends["open"].astype(np.int64)
    opened_raw *= micro
    opened_raw += sent
    clicked_raw = sends["click"].astype(np.int64)
    clicked_raw *= micro
    clicked_raw += np.where(flagged(_OPENED), opened_raw, sent)
    converted_raw = sends["conversion"].astype(np.int64)
    converted_raw *= micro
    converted_raw += clicked_raw
    return {
        "sent_at": pa.Array.from_buffers(_UTC, len(sends), [None, pa.py_buffer(sent)]),
        "delivered_at": stamp(sent + 5 * micro, ~flagged(_BOUNCED)),
        "opened_at": stamp(opened_raw, flagged(_OPENED)),
        "clicked_at": stamp(clicked_raw.copy(), flagged(_CLICKED)),
        "converted_at": stamp(converted_raw, flagged(_CONVERTED)),
        "unsubscribed_at": stamp(clicked_raw, flagged(_UNSUBSCRIBED)),
    }


def _channel_sends(
    rng: np.random.Generator,
    n: int,
    traits: dict[str, np.ndarray],
    ledger: tuple[np.ndarray, np.ndarray, np.ndarray],
    channel: str,
    per_week: float,
    end: pd.Timestamp,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One channel's sends in the order drawn, as records (:func:`_send_record`, ``channel`` and ``sent`` left
    for the caller to fill), and their send times in nanoseconds.

    Each row's probabilities are computed per customer (and variant) first and then looked up: the same
    arithmetic on the same numbers as row by row, once per customer instead of once per send.
    """
    start = end.value - days * _DAY
    count = rng.poisson(per_week * days / 7, size=n)
    owner = np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64), count)
    # a day, then a daytime send hour in it (UTC 14:00-19:00 reaches most zones in the day)
    drawn = rng.random(len(owner))
    drawn *= end.value - start
    sent = drawn.astype(np.int64)
    del drawn
    sent += start
    sent //= _DAY
    sent *= _DAY
    hour = rng.integers(14 * 3600, 19 * 3600, size=len(owner))
    hour *= _SECOND
    sent += hour
    del hour
    ok = _subscribed_at(*ledger, owner, sent)
    owner, sent = owner[ok], sent[ok]
    del ok
    k = len(owner)
    out = np.zeros(k, dtype=_send_record(n, days * 86_400))
    out["owner"] = owner
    names = [j for j in _JOURNEYS if j[1] == channel]
    pick = _choice(rng, [j[4] for j in names], k)
    out["journey_id"] = np.array([_JOURNEY_IDS.index(j[0]) for j in names], dtype=np.int8)[pick]
    out["step_id"] = np.array([_STEP_IDS.index(j[2]) for j in names], dtype=np.int8)[pick]
    variant = _pick_each(rng, np.array([len(j[3]) for j in names])[pick])  # rng.choice of each journey's variants
    variant = np.array([[_VARIANTS.index(v) for v in (*j[3], "A", "A")[:3]] for j in names], dtype=np.int8)[
        pick, variant
    ]
    del pick
    out["variant"] = variant
    eng = traits["engagement"]
    lift = np.array([1.0, 1.15, 0.9])  # by variant: B lifts clicks, C lowers them
    per_variant = owner.astype(np.int64) * 3 + variant  # a row's (customer, variant) pair
    del variant
    # one buffer for the uniform draws and one for the chances they are compared with, reused draw after draw
    draw, limit = np.empty(k), np.empty(k)

    def below(chance: np.ndarray | float, rows: np.ndarray | None = None) -> np.ndarray:
        """``rng.random(k) < chance`` (``chance[rows]`` when rows are given: a per-customer look-up)."""
        rng.random(out=draw)
        if rows is None:
            return draw < chance
        np.take(chance, rows, out=limit)
        return draw < limit

    bounced = below(0.012)
    if channel == "email":
        opened = below(np.clip(0.12 + 0.8 * eng, 0, 0.95), owner)
        opened &= ~bounced
        clicked = below(np.clip(0.05 + (0.45 * eng)[:, None] * lift, 0, 0.9).ravel(), per_variant)
        clicked &= opened
    else:
        opened = np.zeros(k, dtype=bool)
        clicked = below(np.clip(0.02 + (0.3 * traits["sms_affinity"])[:, None] * lift, 0, 0.9).ravel(), per_variant)
        clicked &= ~bounced
    del per_variant
    converted = below(np.clip(0.04 + 0.25 * eng, 0, 0.9), owner)
    converted &= clicked
    unsub = below(0.002 if channel == "email" else 0.006)
    unsub &= ~bounced
    flags = bounced * np.uint8(_BOUNCED)
    for mask, bit in ((opened, _OPENED), (clicked, _CLICKED), (converted, _CONVERTED), (unsub, _UNSUBSCRIBED)):
        flags |= mask * np.uint8(bit)
    out["flags"] = flags
    del flags, bounced, opened, clicked, unsub
    out["open"] = rng.integers(60, 36 * 3600, size=k)
    out["click"] = rng.integers(10, 4 * 3600, size=k)
    out["conversion"] = rng.integers(60, 48 * 3600, size=k)
    noise = rng.normal(0, 0.3, size=k)
    out["revenue"][converted] = np.round(traits["aov"][owner[converted]] * np.exp(noise[converted]), 2)
    return out, sent


def _subscribed_at(
    ledger_pos: np.ndarray, recorded: np.ndarray, subscribed: np.ndarray, owner: np.ndarray, when: np.ndarray
) -> np.ndarray:
    """Whether each (customer, time) pair falls while the customer's latest ledger row at or before that time
    said subscribed: an as-of join, rows of one customer ordered by time (ties in ledger order after a
    quicksort by time, as ``sort_values`` leaves them), the last at or before ``when`` winning.

    A customer has few ledger rows: the join takes the first row of every customer, then the second, and
    so on, each a lookup by customer position.
    """
    out = np.zeros(len(owner), dtype=bool)
    if len(ledger_pos) == 0 or len(owner) == 0:
        return out
    by_time = np.argsort(recorded, kind="quicksort")
    order = by_time[np.argsort(ledger_pos[by_time], kind="stable")]  # by customer, then time
    pos, times, status = ledger_pos[order], recorded[order], subscribed[order]
    first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    rank = np.arange(len(pos)) - np.repeat(first, np.diff(np.r_[first, len(pos)]))
    size = int(max(pos.max(), owner.max())) + 1
    for j in range(int(rank.max()) + 1):
        row = rank == j
        since = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        since[pos[row]] = times[row]
        says = np.zeros(size, dtype=bool)
        says[pos[row]] = status[row]
        reached = since[owner] <= when
        out[reached] = says[owner[reached]]
    return out


def _stated_locales(rng: np.random.Generator, people: _People) -> np.ndarray:
    """The position in :data:`_STATED_LOCALES` of the locale a few customers state; -1 for everyone else."""
    n = people.table.num_rows
    out = np.full(n, -1, dtype=np.int64)
    draw = rng.random(n)
    for i, (c, r, _, share) in enumerate(_STATED_LOCALES):
        where = (people.country == _COUNTRY_CODES.index(c)) & (draw < share) & (out < 0)
        if r is not None:
            where &= people.region == people.regions.index(r)
        out[where] = i
    return out


_TIERS = ["none", "silver", "gold", "platinum"]


def synthesize(
    customers: int = 5000, *, seed: int = 7, end: str = DEFAULT_END, event_days: int = 45, message_days: int = 180
) -> Dataset:
    """Build a synthetic dataset of ``customers`` customers ending at ``end`` (UTC), reproducibly from ``seed``.

    The tables are Arrow tables, as loading holds them; ``dataset.orders`` and the others are their DataFrames.

    Examples
    --------
    >>> ds = synthesize(200, seed=1)
    >>> len(ds.customers), ds.orders["customer_id"].isin(ds.customers["customer_id"]).all()
    (200, np.True_)
    """
    rng = np.random.default_rng(seed)
    keys: dict[str, np.ndarray] = {}  # each row's customer, per table: the dataset's customer keys
    end_ts = pd.Timestamp(end, tz="UTC") + pd.Timedelta(hours=23, minutes=59)
    people = _customers(rng, customers, end_ts)
    with ThreadPoolExecutor(max_workers=1) as later:  # orders and events are put in order while sends are drawn
        ordering = _orders(rng, people, end_ts, later)
        consents, ledger = _consents(rng, people, end_ts)
        keys["consents"] = ledger.position
        happening = _events(rng, people, end_ts, event_days, later)
        messages, keys["messages"] = _messages(rng, people, ledger, end_ts, message_days)
        del ledger
        orders, keys["orders"], spend = ordering.result()
        events, keys["events"] = happening.result()
    # loyalty tiers by spend on placed orders, as pd.cut bins it: (-inf, 150], (150, 600], (600, 1500], above
    tier = np.searchsorted(np.array([150.0, 600.0, 1500.0]), spend, side="left")
    locale = _stated_locales(np.random.default_rng([seed, 16]), people)
    cust = people.table.append_column("loyalty_tier", _gather(pa.array(_TIERS, _TEXT), tier))
    cust = cust.append_column("locale", _gather(pa.array([t for _, _, t, _ in _STATED_LOCALES], _TEXT), locale))
    return from_frames(
        orders,
        cust,
        events,
        consents,
        messages,
        source=f"synth(customers={customers}, seed={seed})",
        customer_keys={name: positions.astype(np.int32, copy=False) for name, positions in keys.items()},
    )
