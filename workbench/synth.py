"""A seeded synthetic dataset that exercises every feature of the workbench.

Customers in six countries and a dozen US states (some phone numbers span two
time zones, some customers state their zone, some do not), consent ledgers
with opt-ins, opt-outs and re-subscriptions per channel, orders with repeat
buyers, cancellations and returns, behaviour events, and a message history
whose opens, clicks and conversions depend on each customer's own latent
engagement. The same ``seed`` always gives the same tables; everything is
vectorised so a million customers take seconds, not minutes.

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

import numpy as np
import pandas as pd

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


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` followed by 1..n zero-padded to ``width`` digits."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


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
        codes = np.array([rng.choice(table[s][1]) for s in states], dtype=object) if k else np.array([], dtype=object)
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
            "customer_id": ids,
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
    status = np.full(total, "placed", dtype=object)
    u = rng.random(total)
    status[u < 0.04] = "cancelled"
    returned = (u >= 0.04) & (u < 0.06)
    status[returned] = "returned"
    amount = np.where(returned, -amount, amount)
    order_id = _ids("O", total, 9)
    orders = pd.DataFrame(
        {
            "order_id": order_id,
            "customer_id": customers["customer_id"].to_numpy()[owner],
            "ordered_at": pd.to_datetime(ts, utc=True, unit="ns"),
            "amount": amount,
            "currency": pd.Series(customers["country"].to_numpy()[owner]).map(_CURRENCIES).fillna("USD").to_numpy(),
            "status": status,
        }
    )
    return orders.sort_values("ordered_at", ignore_index=True)


def _consents(
    rng: np.random.Generator, customers: pd.DataFrame, traits: dict[str, np.ndarray], end: pd.Timestamp
) -> pd.DataFrame:
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
                }
            )
        )
        frames.extend(rows)
    ledger = pd.concat(frames, ignore_index=True)
    ledger["recorded_at"] = pd.to_datetime(ledger["recorded_at"].astype("int64"), utc=True)
    return ledger.sort_values(["recorded_at", "customer_id"], ignore_index=True)


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
    product = rng.choice(_PRODUCTS, size=m)
    frames = []
    for offset, (name, mask) in enumerate(kinds):
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customers["customer_id"].to_numpy()[owner[mask]],
                    "occurred_at": ts[mask] + offset * 20_000_000_000,
                    "event": name,
                    "product_id": np.where(
                        name in ("product_view", "add_to_cart", "checkout_started"), product[mask], None
                    ),
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    events["occurred_at"] = pd.to_datetime(np.minimum(events["occurred_at"].to_numpy(), end.value), utc=True)
    return events.sort_values("occurred_at", ignore_index=True)


def _messages(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    traits: dict[str, np.ndarray],
    consents: pd.DataFrame,
    end: pd.Timestamp,
    days: int,
) -> pd.DataFrame:
    """Sends only while the customer was subscribed on that channel (as a compliant sender would)."""
    n = len(customers)
    ids = customers["customer_id"].to_numpy()
    index = pd.Series(np.arange(n), index=ids)
    frames = []
    start = end.value - days * 86_400 * 1_000_000_000
    for channel, per_week in (("email", 1.6), ("sms", 0.45)):
        count = rng.poisson(per_week * days / 7, size=n)
        owner = np.repeat(np.arange(n), count)
        sent = start + (rng.random(len(owner)) * (end.value - start)).astype(np.int64)
        # snap to a daytime send hour (UTC 14:00-19:00 reaches most zones in the day)
        day = sent // 86_400_000_000_000 * 86_400_000_000_000
        sent = day + rng.integers(14 * 3600, 19 * 3600, size=len(owner)) * 1_000_000_000
        ledger = consents[consents["channel"] == channel]
        ok = _subscribed_at(ledger, index, owner, sent)
        owner, sent = owner[ok], sent[ok]
        k = len(owner)
        names = [j for j in _JOURNEYS if j[1] == channel]
        pick = rng.choice(len(names), size=k, p=np.array([j[4] for j in names]) / sum(j[4] for j in names))
        journey = np.array([names[i][0] for i in pick], dtype=object)
        step = np.array([names[i][2] for i in pick], dtype=object)
        variant = np.array([rng.choice(names[i][3]) for i in pick], dtype=object) if k else np.array([], dtype=object)
        eng = traits["engagement"][owner]
        aff = traits["sms_affinity"][owner]
        lift = np.where(variant == "B", 1.15, np.where(variant == "C", 0.9, 1.0))
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

        def ts(values: np.ndarray, mask: np.ndarray) -> pd.Series:
            return pd.Series(pd.to_datetime(np.where(mask, np.minimum(values, end.value), 0), utc=True)).where(mask)

        frames.append(
            pd.DataFrame(
                {
                    "customer_id": ids[owner],
                    "channel": channel,
                    "journey_id": journey,
                    "step_id": step,
                    "variant": variant,
                    "sent_at": pd.to_datetime(sent, utc=True),
                    "delivered_at": ts(sent + 5 * sec, delivered),
                    "opened_at": ts(open_at, opened),
                    "clicked_at": ts(click_at, clicked),
                    "converted_at": ts(conv_at, converted),
                    "revenue": revenue,
                    "unsubscribed_at": ts(click_at, unsub),
                    "bounced": bounced,
                }
            )
        )
    messages = pd.concat(frames, ignore_index=True).sort_values("sent_at", ignore_index=True)
    messages.insert(0, "message_id", _ids("M", len(messages), 10))
    return messages


def _subscribed_at(ledger: pd.DataFrame, index: pd.Series, owner: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whether each (customer, time) pair falls while the latest ledger row said subscribed."""
    if ledger.empty or len(owner) == 0:
        return np.zeros(len(owner), dtype=bool)
    led = ledger.assign(
        pos=index.reindex(ledger["customer_id"]).to_numpy(), t=ledger["recorded_at"].dt.as_unit("ns").astype("int64")
    )
    led = led.sort_values(["t"])
    probe = pd.DataFrame({"pos": owner, "t": when, "order": np.arange(len(owner))}).sort_values("t")
    merged = pd.merge_asof(probe, led[["pos", "t", "status"]], on="t", by="pos", direction="backward")
    ok = (merged["status"] == "subscribed").to_numpy()
    out = np.zeros(len(owner), dtype=bool)
    out[merged["order"].to_numpy()] = ok
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
    consents = _consents(rng, cust, traits, end_ts)
    events = _events(rng, cust, traits, end_ts, event_days)
    messages = _messages(rng, cust, traits, consents, end_ts, message_days)
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
