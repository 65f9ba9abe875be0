"""A seeded synthetic dataset that exercises every feature of the workbench.

Customers in six countries and a dozen US states (some phone numbers span two
time zones, some customers state their zone, some do not), consent ledgers
with opt-ins, opt-outs and re-subscriptions per channel, orders with repeat
buyers, cancellations and returns, behaviour events, and a message history
whose opens, clicks and conversions depend on each customer's own latent
engagement. The same ``seed`` always gives the same tables; everything is
vectorised (no Python loop per row: a million customers and their 32 million
messages are drawn in under a minute, before ``from_frames`` checks them).

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


def _choice(rng: np.random.Generator, values: list[str], weights: list[float], size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(values, dtype=object), size=size, p=w / w.sum())


def _digits(rng: np.random.Generator, size: int, width: int, first_min: int = 2) -> np.ndarray:
    if size == 0:
        return np.array([], dtype=str)
    first = rng.integers(first_min, 10, size=size)
    rest = rng.integers(0, 10 ** (width - 1), size=size)
    return np.char.add(first.astype(str), np.char.zfill(rest.astype(str), width - 1))


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` followed by 1..n zero-padded to ``width`` digits."""
    if n >= 10**width:  # wider than the padding: let Arrow format the numbers
        numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.large_string()), width, "0")
        return pc.binary_join_element_wise(
            pa.scalar(prefix, pa.large_string()), numbers, pa.scalar("", pa.large_string())
        )
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width
    chars = np.empty((n, size), dtype=np.uint8)
    chars[:, : len(head)] = head
    number: np.ndarray[tuple[int], np.dtype[np.unsignedinteger]] = np.arange(
        1, n + 1, dtype=np.uint32 if n < 2**32 else np.uint64
    )
    for column in range(size - 1, len(head) - 1, -1):
        chars[:, column] = (number % 10).astype(np.uint8) + ord("0")
        number //= 10
    offsets = np.arange(0, size * (n + 1), size, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def _text(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow text as pandas' default text dtype (what an object array of Python strings becomes)."""
    return pd.array(values.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan))


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
    k = sizes[need].astype(np.uint64)
    threshold = (np.uint64(1 << 32) - k) % k
    raw = rng.integers(0, (1 << 32) - 1, size=need.size, dtype=np.uint32, endpoint=True).astype(np.uint64)
    start = 0
    while True:
        product = raw[start:] * k[start:]
        rejected = np.flatnonzero((product & np.uint64(0xFFFFFFFF)) < threshold[start:])
        stop = start + rejected[0] if rejected.size else need.size
        out[need[start:stop]] = (product[: stop - start] >> np.uint64(32)).astype(np.int64)
        if not rejected.size:
            return out
        # the rejected row draws again: it takes the next value, every later row the one after its own
        raw = np.concatenate(
            [raw[:stop], raw[stop + 1 :], rng.integers(0, (1 << 32) - 1, size=1, dtype=np.uint32, endpoint=True)]
        ).astype(np.uint64)
        start = stop


def _customers(rng: np.random.Generator, n: int, end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    ids = _ids("C", n, 7)
    country = _choice(rng, [c for c, _ in _COUNTRIES], [w for _, w in _COUNTRIES], n)
    region = np.full(n, None, dtype=object)
    phone = np.full(n, None, dtype=object)
    us = country == "US"
    ca = country == "CA"
    for mask, table, cc in ((us, _US_STATES, "+1"), (ca, _CA_PROVINCES, "+1")):
        k = int(mask.sum())
        states = _choice(rng, list(table), [w for w, _ in table.values()], k)
        region[mask] = states
        names = list(table)
        state = pd.Index(names).get_indexer(states)
        area = np.array([table[name][1] + [""] * (3 - len(table[name][1])) for name in names], dtype=object)
        codes = area[state, _pick_each(rng, np.array([len(table[name][1]) for name in names])[state])]
        local = _digits(rng, k, 7)
        phone[mask] = np.char.add(np.char.add(cc, codes.astype(str)), local) if k else phone[mask]
    au = country == "AU"
    region[au] = rng.choice(_AU_REGIONS, size=int(au.sum()))
    for c, (prefix, width) in _MOBILE.items():
        mask = country == c
        phone[mask] = np.char.add(prefix, _digits(rng, int(mask.sum()), width, first_min=0))
    has_phone = rng.random(n) < 0.72
    phone[~has_phone] = None
    bad_phone = has_phone & (rng.random(n) < 0.03)
    phone[bad_phone] = np.char.add("+1555", _digits(rng, int(bad_phone.sum()), 3))
    first_name = rng.choice(_FIRST_NAMES, size=n).astype(object)
    first_name[rng.random(n) < 0.08] = None
    local_part = np.char.add("customer", np.arange(1, n + 1).astype(str))
    email = np.char.add(np.char.add(local_part, "@"), rng.choice(_EMAIL_DOMAINS, size=n)).astype(object)
    no_email = rng.random(n) < 0.04
    email[no_email] = None
    bad_email = ~no_email & (rng.random(n) < 0.02)
    email[bad_email] = np.char.add(local_part[bad_email], "@")
    stated = rng.random(n) < 0.4
    zone = np.full(n, None, dtype=object)
    for c, zones in _STATED_ZONES.items():
        mask = stated & (country == c)
        zone[mask] = rng.choice(zones, size=int(mask.sum()))
    created = end - pd.to_timedelta(rng.integers(1, 3 * 365 * 86_400, size=n), unit="s")
    preferred = np.full(n, None, dtype=object)
    says = rng.random(n) < 0.15
    preferred[says] = rng.choice(["email", "sms"], size=int(says.sum()), p=[0.6, 0.4])
    # latent traits that drive behaviour
    traits = {
        "engagement": rng.beta(2.0, 5.0, size=n),  # probability-ish scale
        "purchase_rate": rng.gamma(1.2, 1 / 180, size=n),  # orders a day while active
        "aov": np.exp(rng.normal(np.log(60), 0.55, size=n)),
        "lifetime_days": rng.exponential(420, size=n),
        "sms_affinity": rng.beta(2.0, 3.0, size=n),
        "created": created.as_unit("ns").asi8,
        "has_email": ~no_email,
        "has_phone": has_phone,
    }
    customers = pd.DataFrame(
        {
            "customer_id": _text(ids),
            "email": email,
            "phone": phone,
            "first_name": first_name,
            "country": country,
            "region": region,
            "timezone": zone,
            "created_at": created,
            "preferred_channel": preferred,
        }
    )
    return customers, traits


_NAT = np.iinfo(np.int64).min  # NaT as nanoseconds


def _customer_ids(customers: pd.DataFrame) -> pa.Array:
    ids = pa.array(customers["customer_id"].array)
    return ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids


def _utc(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Nanoseconds since the epoch (int64, :data:`_NAT` for NaT) as UTC timestamps."""
    return pd.Series(values.view("datetime64[ns]"), dtype="datetime64[ns, UTC]").array


@dataclass(frozen=True)
class _Coded:
    """A text column as positions in ``labels`` (-1: missing), turned into text once the rows are in order."""

    labels: pa.Array | list[str]
    codes: np.ndarray


@dataclass(frozen=True)
class _Times:
    """A timestamp column as nanoseconds since the epoch (:data:`_NAT` for NaT)."""

    ns: np.ndarray


def _currency_codes(customers: pd.DataFrame, owner: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each order's currency, its owner's market's (:data:`_CURRENCIES`; US dollars elsewhere), as codes."""
    labels = sorted(set(_CURRENCIES.values()) | {"USD"})
    code = {c: labels.index(cur) for c, cur in _CURRENCIES.items()}
    by_customer = pd.Series(customers["country"].to_numpy()).map(code).fillna(labels.index("USD")).to_numpy()
    return labels, by_customer.astype(np.int64)[owner]


def _sort_by_time(columns: dict[str, object], when: np.ndarray) -> pd.DataFrame:
    """A frame of ``columns``, its rows ordered as ``sort_values`` orders a timestamp column holding ``when``.

    Columns are NumPy arrays, :class:`_Coded` text or :class:`_Times`; each is reordered as numbers and
    only then made into text or timestamps.
    """
    order = np.argsort(when.view("datetime64[ns]"), kind="quicksort")
    out: dict[str, object] = {}
    for name in list(columns):
        values = columns.pop(name)  # the input column is let go as soon as it is reordered
        if isinstance(values, _Coded):
            codes = values.codes[order]
            labels = pa.array(values.labels, type=pa.large_string())
            out[name] = _text(labels.take(pa.array(codes, mask=codes < 0)))
        elif isinstance(values, _Times):
            out[name] = _utc(values.ns[order])
        else:
            out[name] = np.asarray(values)[order]
    return pd.DataFrame(out, copy=False)


def _orders(
    rng: np.random.Generator, customers: pd.DataFrame, traits: dict[str, np.ndarray], end: pd.Timestamp
) -> pd.DataFrame:
    n = len(customers)
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
    columns = {
        "order_id": _Coded(_ids("O", total, 9), np.arange(total)),
        "customer_id": _Coded(_customer_ids(customers), owner),
        "ordered_at": _Times(ts),
        "amount": amount,
        "currency": _Coded(*_currency_codes(customers, owner)),
        "status": _Coded(["cancelled", "placed", "returned"], status),
    }
    return _sort_by_time(columns, ts)


def _consents(
    rng: np.random.Generator, customers: pd.DataFrame, traits: dict[str, np.ndarray], end: pd.Timestamp
) -> tuple[pd.DataFrame, np.ndarray]:
    """The ledger, and the position in ``customers`` of each of its rows."""
    n = len(customers)
    ids = customers["customer_id"].to_numpy()
    created = traits["created"]
    frames = []
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
    positions = np.arange(n)
    for channel, opted, p_out, p_back, src_in, src_out, kw_out in plans:
        k = int(opted.sum())
        first = created[opted] + rng.integers(0, 3 * 86_400, size=k) * 1_000_000_000
        rows = [
            pd.DataFrame(
                {
                    "customer_id": ids[opted],
                    "channel": channel,
                    "status": "subscribed",
                    "recorded_at": first,
                    "source": src_in,
                    "keyword": "START" if channel == "sms" else None,
                    "_pos": positions[opted],
                }
            )
        ]
        out = rng.random(k) < p_out
        out_at = first[out] + ((end.value - first[out]) * rng.random(int(out.sum()))).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": ids[opted][out],
                    "channel": channel,
                    "status": "unsubscribed",
                    "recorded_at": out_at,
                    "source": src_out,
                    "keyword": kw_out,
                    "_pos": positions[opted][out],
                }
            )
        )
        back = rng.random(int(out.sum())) < p_back
        back_at = out_at[back] + ((end.value - out_at[back]) * rng.random(int(back.sum()))).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": ids[opted][out][back],
                    "channel": channel,
                    "status": "subscribed",
                    "recorded_at": back_at,
                    "source": "resubscribe",
                    "keyword": "UNSTOP" if channel == "sms" else None,
                    "_pos": positions[opted][out][back],
                }
            )
        )
        frames.extend(rows)
    ledger = pd.concat(frames, ignore_index=True)
    ledger["recorded_at"] = _utc(ledger["recorded_at"].to_numpy(dtype=np.int64))
    ledger = ledger.sort_values(["recorded_at", "customer_id"], ignore_index=True)
    return ledger, ledger.pop("_pos").to_numpy()


def _events(
    rng: np.random.Generator, customers: pd.DataFrame, traits: dict[str, np.ndarray], end: pd.Timestamp, days: int
) -> pd.DataFrame:
    n = len(customers)
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
        names.append(np.full(int(mask.sum()), offset, dtype=np.int64))
        with_product = name in ("product_view", "add_to_cart", "checkout_started")
        products.append(np.where(with_product, product[mask], -1))
    when = np.minimum(np.concatenate(times), end.value)
    columns = {
        "customer_id": _Coded(_customer_ids(customers), np.concatenate(owners)),
        "occurred_at": _Times(when),
        "event": _Coded([name for name, _ in kinds], np.concatenate(names)),
        "product_id": _Coded(_PRODUCTS.tolist(), np.concatenate(products)),
    }
    return _sort_by_time(columns, when)


_JOURNEY_IDS = sorted({j[0] for j in _JOURNEYS})
_STEP_IDS = sorted({j[2] for j in _JOURNEYS})
_VARIANTS = ["A", "B", "C"]


def _messages(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    traits: dict[str, np.ndarray],
    consents: pd.DataFrame,
    consent_pos: np.ndarray,
    end: pd.Timestamp,
    days: int,
) -> pd.DataFrame:
    """Sends only while the customer was subscribed on that channel (as a compliant sender would)."""
    recorded = np.asarray(consents["recorded_at"].dt.tz_convert(None), dtype="datetime64[ns]").view(np.int64)
    subscribed = (consents["status"] == "subscribed").to_numpy()
    parts: dict[str, list[np.ndarray]] = {}
    for number, (channel, per_week) in enumerate((("email", 1.6), ("sms", 0.45))):
        on_channel = (consents["channel"] == channel).to_numpy()
        ledger = (consent_pos[on_channel], recorded[on_channel], subscribed[on_channel])
        sends = _channel_sends(rng, len(customers), traits, ledger, channel, per_week, end, days)
        sends["channel"] = np.full(len(sends["owner"]), number, dtype=np.int8)
        for name, values in sends.items():
            parts.setdefault(name, []).append(values)

    def whole(name: str) -> np.ndarray:
        return np.concatenate(parts.pop(name))  # each channel's part is let go once joined

    sent_at = whole("sent_at")
    columns: dict[str, object] = {
        "customer_id": _Coded(_customer_ids(customers), whole("owner")),
        "channel": _Coded(["email", "sms"], whole("channel")),
        "journey_id": _Coded(_JOURNEY_IDS, whole("journey_id")),
        "step_id": _Coded(_STEP_IDS, whole("step_id")),
        "variant": _Coded(_VARIANTS, whole("variant")),
        "sent_at": _Times(sent_at),
        **{name: _Times(whole(name)) for name in ("delivered_at", "opened_at", "clicked_at", "converted_at")},
        "revenue": whole("revenue"),
        "unsubscribed_at": _Times(whole("unsubscribed_at")),
        "bounced": whole("bounced"),
    }
    messages = _sort_by_time(columns, sent_at)
    messages.insert(0, "message_id", _text(_ids("M", len(messages), 10)))
    return messages


def _channel_sends(
    rng: np.random.Generator,
    n: int,
    traits: dict[str, np.ndarray],
    ledger: tuple[np.ndarray, np.ndarray, np.ndarray],
    channel: str,
    per_week: float,
    end: pd.Timestamp,
    days: int,
) -> dict[str, np.ndarray]:
    """One channel's sends, in the order drawn: customer positions, label codes, nanosecond timestamps."""
    start = end.value - days * 86_400 * 1_000_000_000
    count = rng.poisson(per_week * days / 7, size=n)
    owner = np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64), count)
    sent = start + (rng.random(len(owner)) * (end.value - start)).astype(np.int64)
    # snap to a daytime send hour (UTC 14:00-19:00 reaches most zones in the day)
    day = sent // 86_400_000_000_000 * 86_400_000_000_000
    sent = day + rng.integers(14 * 3600, 19 * 3600, size=len(owner)) * 1_000_000_000
    ok = _subscribed_at(*ledger, owner, sent)
    owner, sent = owner[ok], sent[ok]
    k = len(owner)
    names = [j for j in _JOURNEYS if j[1] == channel]
    pick = rng.choice(len(names), size=k, p=np.array([j[4] for j in names]) / sum(j[4] for j in names))
    variant = _pick_each(rng, np.array([len(j[3]) for j in names])[pick])  # rng.choice of each journey's variants
    variant = np.array([[_VARIANTS.index(v) for v in (*j[3], "A", "A")[:3]] for j in names])[pick, variant]
    eng = traits["engagement"][owner]
    aff = traits["sms_affinity"][owner]
    lift = np.where(variant == 1, 1.15, np.where(variant == 2, 0.9, 1.0))
    bounced = rng.random(k) < 0.012
    delivered = ~bounced
    if channel == "email":
        opened = delivered & (rng.random(k) < np.clip(0.12 + 0.8 * eng, 0, 0.95))
        clicked = opened & (rng.random(k) < np.clip(0.05 + 0.45 * eng * lift, 0, 0.9))
    else:
        opened = np.zeros(k, dtype=bool)
        clicked = delivered & (rng.random(k) < np.clip(0.02 + 0.3 * aff * lift, 0, 0.9))
    converted = clicked & (rng.random(k) < np.clip(0.04 + 0.25 * eng, 0, 0.9))
    unsub = delivered & (rng.random(k) < (0.002 if channel == "email" else 0.006))
    sec = 1_000_000_000
    open_at = sent + rng.integers(60, 36 * 3600, size=k) * sec
    click_at = (np.where(opened, open_at, sent)) + rng.integers(10, 4 * 3600, size=k) * sec
    conv_at = click_at + rng.integers(60, 48 * 3600, size=k) * sec
    revenue = np.where(converted, np.round(traits["aov"][owner] * np.exp(rng.normal(0, 0.3, size=k)), 2), np.nan)

    def ts(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, np.minimum(values, end.value), _NAT)

    return {
        "owner": owner,
        "journey_id": np.array([_JOURNEY_IDS.index(j[0]) for j in names], dtype=np.int8)[pick],
        "step_id": np.array([_STEP_IDS.index(j[2]) for j in names], dtype=np.int8)[pick],
        "variant": variant.astype(np.int8),
        "sent_at": sent,
        "delivered_at": ts(sent + 5 * sec, delivered),
        "opened_at": ts(open_at, opened),
        "clicked_at": ts(click_at, clicked),
        "converted_at": ts(conv_at, converted),
        "revenue": revenue,
        "unsubscribed_at": ts(click_at, unsub),
        "bounced": bounced,
    }


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


def _stated_locales(rng: np.random.Generator, customers: pd.DataFrame) -> np.ndarray:
    """The locale a few customers state (:data:`_STATED_LOCALES`); None for everyone else."""
    out = np.full(len(customers), None, dtype=object)
    country = customers["country"].to_numpy()
    region = customers["region"].to_numpy()
    draw = rng.random(len(customers))
    for c, r, tag, share in _STATED_LOCALES:
        where = (country == c) & ((region == r) if r is not None else True) & (draw < share) & pd.isna(out)
        out[where] = tag
    return out


def synthesize(
    customers: int = 5000, *, seed: int = 7, end: str = DEFAULT_END, event_days: int = 45, message_days: int = 180
) -> Dataset:
    """Build a synthetic dataset of ``customers`` customers ending at ``end`` (UTC), reproducibly from ``seed``.

    Examples
    --------
    >>> ds = synthesize(200, seed=1)
    >>> len(ds.customers), ds.orders["customer_id"].isin(ds.customers["customer_id"]).all()
    (200, np.True_)
    """
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC") + pd.Timedelta(hours=23, minutes=59)
    cust, traits = _customers(rng, customers, end_ts)
    orders = _orders(rng, cust, traits, end_ts)
    consents, consent_pos = _consents(rng, cust, traits, end_ts)
    events = _events(rng, cust, traits, end_ts, event_days)
    messages = _messages(rng, cust, traits, consents, consent_pos, end_ts, message_days)
    spend = orders[orders["status"] == "placed"].groupby("customer_id")["amount"].sum()
    tier = pd.cut(
        spend.reindex(cust["customer_id"]).fillna(0).to_numpy(),
        [-np.inf, 150, 600, 1500, np.inf],
        labels=["none", "silver", "gold", "platinum"],
    ).astype(str)
    cust["loyalty_tier"] = tier
    cust["locale"] = _stated_locales(np.random.default_rng([seed, 16]), cust)
    german = consents["customer_id"].isin(cust.loc[cust["country"] == "DE", "customer_id"])
    confirmed = german & (consents["channel"] == "email") & (consents["source"] == "signup_form")
    consents["source"] = consents["source"].where(~confirmed, "double_opt_in")
    return from_frames(orders, cust, events, consents, messages, source=f"synth(customers={customers}, seed={seed})")
