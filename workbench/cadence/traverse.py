"""Journey traversal: each customer's path through every journey graph, as candidate touches.

All customers of a chunk move through a journey together, node by node in
topological order, as arrays of journey instances (one per entry). Outcomes
(opens, clicks, purchases, events, random splits) are drawn from each
customer's own rates with a counter-based hash of ``(seed, customer_id,
journey, node, entry)``: the same seed gives the same draws whatever the chunk
size or order of the audience.

Rules that do not depend on other touches (address, consent at send time,
adaptive pause, quiet and preferred hours) are applied here as well, so a
branch such as "send the SMS only if the email was not clicked" sees that an
email suppressed for want of consent was not clicked, and a delay counts from
the moment a deferred message actually goes out. Caps and spacing are left to
the kernel; a touch they suppress does not change the branches drawn after it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..models.errors import JourneyError
from ..models.journey import WEEKDAYS, ConditionSplit
from ..segments import membership as segment_membership
from .calendar import NEVER, MaskSet, ZoneTable
from .engagement import _col
from .kernel import CustomerContext, Rules, _windows

__all__ = ["CompiledJourney", "TraversalInput", "compile_journey", "customer_hash", "mix", "traverse", "uniform"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_MAX_ENTRIES = 48

#: Where an event trigger finds a recent occurrence in the profile, and its rate of future occurrences.
EVENT_SOURCES = {
    "add_to_cart": ("cart_adds_7d", "add_to_cart_per_day"),
    "checkout_started": ("checkouts_30d", "checkout_started_per_day"),
    "product_view": ("product_views_7d", "product_view_per_day"),
    "site_visit": ("site_visits_7d", "site_visit_per_day"),
    "support_ticket": ("support_tickets_30d", "support_ticket_per_day"),
}
ORDER_EVENTS = ("order_placed", "placed_order", "order")


def customer_hash(ids: np.ndarray) -> np.ndarray:
    """The key of every draw for each customer: a 64-bit hash of the customer id (uint64).

    SipHash-2-4 of the id's UTF-8 bytes under pandas' fixed default key
    (``pd.util.hash_array``): the same for an id on any machine, process or
    partition, so a customer's draws depend on the id and the seed alone.
    """
    if len(ids) == 0:
        return np.zeros(0, dtype=np.uint64)
    out: np.ndarray = pd.util.hash_array(np.asarray(ids).astype(object)).astype(np.uint64)
    return out


def mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser over a uint64 array."""
    with np.errstate(over="ignore"):
        x = x + _G
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
        out: np.ndarray = x ^ (x >> _S31)
        return out


def _salt(*parts: int) -> np.uint64:
    h = np.zeros(1, dtype=np.uint64)
    for p in parts:
        h = mix(h ^ np.uint64(p & 0xFFFFFFFFFFFFFFFF))
    out: np.uint64 = h[0]
    return out


def uniform(base: np.ndarray, salt: np.uint64, extra: np.ndarray | None = None) -> np.ndarray:
    """Uniform [0, 1) numbers from customer hashes ``base``, a salt and an optional per-row counter."""
    h = base ^ salt
    if extra is not None:
        h = mix(h ^ (extra.astype(np.uint64) * _G))
    return (mix(h) >> _S11).astype(np.float64) * (1.0 / 2**53)


@dataclass
class CompiledJourney:
    journey: Any
    index: int
    order: list[Any]  # nodes reachable from the entry, in topological order
    parents: dict[str, int] = field(default_factory=dict)


def compile_journey(journey: Any, index: int) -> CompiledJourney:
    """Order the reachable nodes so that every node comes after all of its parents (cycles are an error)."""
    nodes = journey.by_id()
    if journey.entry not in nodes:
        msg = f"journey {journey.id}: entry node {journey.entry!r} does not exist. Fix: point `entry` at a node id"
        raise JourneyError(
            msg,
            journey=journey.id,
            node=journey.entry,
        )
    reach = [n.id for n in journey.walk()]
    indeg = dict.fromkeys(reach, 0)
    for nid in reach:
        for target in _targets(nodes[nid]):
            if target in indeg:
                indeg[target] += 1
    queue = [nid for nid in reach if indeg[nid] == 0]
    order: list[Any] = []
    while queue:
        nid = queue.pop(0)
        order.append(nodes[nid])
        for target in _targets(nodes[nid]):
            if target in indeg:
                indeg[target] -= 1
                if indeg[target] == 0:
                    queue.append(target)
    if len(order) != len(reach):
        stuck = sorted(n for n, d in indeg.items() if d > 0)
        msg = (
            f"journey {journey.id}: the graph has a cycle through {', '.join(stuck[:5])}. "
            "Fix: journeys must not loop; use re-entry to repeat them"
        )
        raise JourneyError(
            msg,
            journey=journey.id,
            node=stuck[0],
        )
    return CompiledJourney(journey, index, order)


def _targets(node: Any) -> list[str]:
    if node.type == "random_split":
        return [b.next for b in node.branches if b.next]
    out = []
    for name in ("next", "on_event", "on_timeout", "on_true", "on_false"):
        value = getattr(node, name, None)
        if value:
            out.append(value)
    return out


@dataclass
class TraversalInput:
    """One chunk of customers, ready for traversal (row i = local customer i)."""

    audience: pd.DataFrame  # the chunk's rows (for segment and profile conditions)
    cust_hash: np.ndarray  # uint64
    rates: pd.DataFrame  # from outcome_rates, aligned with the audience
    delay_factor: np.ndarray  # float
    zone1: np.ndarray  # primary zone index
    ctx: CustomerContext
    rules: Rules
    zt: ZoneTable
    ms: MaskSet
    start: int
    end: int
    seed: int
    member: Callable[[str], np.ndarray]
    orders_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    orders_t: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class Touches:
    cust: list[np.ndarray] = field(default_factory=list)
    t: list[np.ndarray] = field(default_factory=list)
    journey: list[np.ndarray] = field(default_factory=list)
    node: list[np.ndarray] = field(default_factory=list)
    entry: list[np.ndarray] = field(default_factory=list)
    opened: list[np.ndarray] = field(default_factory=list)
    clicked: list[np.ndarray] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)


def order_stream(inp: TraversalInput) -> tuple[np.ndarray, np.ndarray]:
    """Organic orders over the horizon: a Poisson process at each customer's own order rate."""
    rate = inp.rates["orders_per_day"].to_numpy(dtype=float) / 1440.0
    return _poisson_times(inp, rate, _salt(inp.seed, 0x0D5E5))


def _poisson_times(inp: TraversalInput, rate_per_min: np.ndarray, salt: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    custs, times = [], []
    who = np.flatnonzero(rate_per_min > 0)
    t = np.full(who.size, inp.start, dtype=np.float64)
    for k in range(_MAX_ENTRIES):
        if who.size == 0:
            break
        u = uniform(inp.cust_hash[who], salt, np.full(who.size, k))
        t = t - np.log1p(-u) / rate_per_min[who]
        inside = t < inp.end
        who, t = who[inside], t[inside]
        custs.append(who)
        times.append(t.astype(np.int64))
    if not custs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    c = np.concatenate(custs)
    tt = np.concatenate(times)
    o = np.lexsort((tt, c))
    return c[o].astype(np.int64), tt[o]


def _next_after(cust_sorted: np.ndarray, t_sorted: np.ndarray, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The first time in a (customer, time)-sorted stream strictly after ``t`` for each customer (NEVER: none)."""
    if cust_sorted.size == 0:
        return np.full(len(cust), NEVER, dtype=np.int64)
    key = (cust_sorted << 32) | (t_sorted - _BASE)
    q = (cust.astype(np.int64) << 32) | (t - _BASE)
    pos = np.searchsorted(key, q, side="right")
    out = np.full(len(cust), NEVER, dtype=np.int64)
    ok = pos < key.size
    ok[ok] &= cust_sorted[pos[ok]] == cust[ok]
    out[ok] = t_sorted[pos[ok]]
    return out


_BASE = 0


def _entries(cj: CompiledJourney, inp: TraversalInput) -> tuple[np.ndarray, np.ndarray]:
    """Entries of one journey: (customer, minute), sorted by customer then time, after re-entry rules."""
    j = cj.journey
    n = len(inp.audience)
    allowed = inp.member(j.audience) if j.audience else np.ones(n, dtype=bool)
    trig = j.trigger
    if trig.type == "segment":
        who = np.flatnonzero(allowed & inp.member(trig.segment))
        cust, t = who, np.full(who.size, inp.start, dtype=np.int64)
    elif trig.type == "date":
        if trig.property not in inp.audience.columns:
            msg = (
                f"journey {j.id}: trigger date column {trig.property!r} is not in the audience. "
                "Fix: use a profile date column such as last_order_at or created_at"
            )
            raise JourneyError(
                msg,
                journey=j.id,
            )
        when = pd.to_datetime(inp.audience[trig.property], utc=True)
        ok = when.notna().to_numpy() & allowed
        day = np.zeros(n, dtype=np.int64)
        if ok.any():
            day[ok] = when[ok].dt.as_unit("s").astype("int64").to_numpy() // 60
        base = day + trig.offset_days * 1440
        who = np.flatnonzero(ok)
        t = _until(inp, who, base[who], trig.at, same_day=True)
        inside = (t >= inp.start) & (t < inp.end)
        cust, t = who[inside], t[inside]
    else:
        cust, t = _event_entries(cj, inp, trig.event, allowed)
    if cust.size == 0:
        return cust.astype(np.int64), t.astype(np.int64)
    o = np.lexsort((t, cust))
    cust, t = cust[o].astype(np.int64), t[o].astype(np.int64)
    mode = j.reentry.mode
    if mode == "always":
        return cust, t
    first = np.r_[True, cust[1:] != cust[:-1]]
    if mode == "never":
        return cust[first], t[first]
    gap = j.reentry.after.seconds // 60
    keep = first.copy()
    order = np.arange(t.size)
    while True:
        last_kept = np.maximum.accumulate(np.where(keep, order, 0))
        cand = ~keep & (t - t[last_kept] >= gap)
        pick = cand & _first_in_run(cand, last_kept)
        if not pick.any():
            break
        keep |= pick
    return cust[keep], t[keep]


def _first_in_run(cand: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """True at the first candidate of each segment (segments are runs of equal ``seg``)."""
    idx = np.flatnonzero(cand)
    out = np.zeros(cand.size, dtype=bool)
    if idx.size == 0:
        return out
    s = seg[idx]
    firsts = np.r_[True, s[1:] != s[:-1]]
    out[idx[firsts]] = True
    return out


def _event_entries(
    cj: CompiledJourney, inp: TraversalInput, event: str, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if event in ORDER_EVENTS:
        recent = _col(inp.audience, "days_since_last_order", np.inf) < 7
        now = np.flatnonzero(allowed & recent)
        sel = allowed[inp.orders_cust] if inp.orders_cust.size else np.zeros(0, dtype=bool)
        fut_c, fut_t = inp.orders_cust[sel], inp.orders_t[sel]
    else:
        recent_col, rate_col = EVENT_SOURCES.get(event, (None, None))
        recent = _col(inp.audience, recent_col, 0) > 0 if recent_col else np.zeros(len(allowed), dtype=bool)
        now = np.flatnonzero(allowed & recent)
        rate = inp.rates[rate_col].to_numpy(dtype=float) / 1440.0 if rate_col else np.zeros(len(allowed))
        rate = np.where(allowed, rate, 0.0)
        fut_c, fut_t = _poisson_times(inp, rate, _salt(inp.seed, 0xE7E, cj.index, _h(event)))
    cust = np.concatenate([now, fut_c])
    t = np.concatenate([np.full(now.size, inp.start, dtype=np.int64), fut_t])
    return cust.astype(np.int64), t.astype(np.int64)


def _next_event(t: np.ndarray, rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The first event after ``t`` at ``rate`` per minute, drawn from uniforms ``u`` (NEVER when the rate is 0)."""
    with np.errstate(divide="ignore"):
        gap = np.where(rate > 0, -np.log1p(-u) / np.where(rate > 0, rate, 1.0), np.inf)
    return np.where(np.isfinite(gap), t + np.minimum(gap, 2**40).astype(np.int64), NEVER)


@functools.lru_cache(maxsize=4096)
def _h(text: str) -> int:
    """A 64-bit hash of a name (node ids, events): the same on any machine; kept, since every chunk asks again."""
    return int(pd.util.hash_array(np.array([text], dtype=object))[0])


def _until(inp: TraversalInput, cust: np.ndarray, t: np.ndarray, at: Any, *, same_day: bool = False) -> np.ndarray:
    """The first moment at or after ``t`` that is ``at.time`` local time on one of ``at.days`` (primary zone)."""
    zone = inp.zone1[cust]
    local = inp.zt.local(t, zone)
    day = local // 1440
    clock = at.hour * 60 + at.minute
    target = day * 1440 + clock
    if not same_day:
        target = np.where(target < local, target + 1440, target)
    days = np.array([WEEKDAYS.index(d) for d in at.days])
    allowed_day = np.zeros(7, dtype=bool)
    allowed_day[days] = True
    for _ in range(7):
        wd = ((target // 1440) + 3) % 7
        bad = ~allowed_day[wd]
        if not bad.any():
            break
        target = np.where(bad, target + 1440, target)
    utc = target - inp.zt.offsets[zone, np.clip((t - inp.zt.t0) // 15, 0, inp.zt.n - 1)]
    utc = target - inp.zt.offsets[zone, np.clip((utc - inp.zt.t0) // 15, 0, inp.zt.n - 1)]
    out: np.ndarray = utc.astype(np.int64)
    return out


def _condition(
    node: ConditionSplit,
    inp: TraversalInput,
    cust: np.ndarray,
    t: np.ndarray,
    inst: np.ndarray,
    outcomes: dict[str, tuple[np.ndarray, np.ndarray]],
    journey_id: str,
) -> np.ndarray:
    cond = node.condition
    if cond.kind == "segment":
        inside: np.ndarray = inp.member(cond.segment)[cust]
        return inside
    if cond.kind == "consent":
        ch = 0 if cond.channel == "email" else 1
        chv = np.full(cust.size, ch, dtype=np.int64)
        ctx = inp.ctx
        may: np.ndarray = ctx.addr_ok[cust, ch] & ~ctx.paused[cust, ch] & ctx.consent.at(cust, chv, t)
        return may
    if cond.kind == "engagement":
        if cond.node not in outcomes:
            return np.zeros(cust.size, dtype=bool)
        opened, clicked = outcomes[cond.node]
        did: np.ndarray = (clicked if cond.action == "clicked" else opened)[inst]
        return did
    # profile field
    if cond.field not in inp.audience.columns:
        msg = (
            f"journey {journey_id}, node {node.id}: profile field {cond.field!r} is not in the audience. "
            "Fix: use a column of profiles.build_profiles or segments.assign"
        )
        raise JourneyError(
            msg,
            journey=journey_id,
            node=node.id,
        )
    col = inp.audience[cond.field].iloc[cust]
    v = cond.value
    ops = {
        "eq": lambda s: s == v,
        "ne": lambda s: s != v,
        "gt": lambda s: s > v,
        "ge": lambda s: s >= v,
        "lt": lambda s: s < v,
        "le": lambda s: s <= v,
        "in": lambda s: s.isin(v if isinstance(v, list) else [v]),
        "is_true": lambda s: s.astype("boolean"),
        "is_false": lambda s: ~s.astype("boolean"),
    }
    try:
        res = ops[cond.op](col)
    except TypeError as exc:
        msg = (
            f"journey {journey_id}, node {node.id}: cannot compare {cond.field} {cond.op} {v!r} "
            f"({exc}). Fix: compare with a value of the column's type"
        )
        raise JourneyError(
            msg,
            journey=journey_id,
            node=node.id,
        ) from None
    holds: np.ndarray = pd.Series(res).fillna(False).to_numpy(dtype=bool)
    return holds


def traverse(
    journeys: Sequence[CompiledJourney], inp: TraversalInput, node_codes: dict[tuple[int, str], int]
) -> Touches:
    """Candidate touches of one chunk through every journey."""
    out = Touches()
    for cj in journeys:
        _traverse_one(cj, inp, node_codes, out)
    return out


def _traverse_one(
    cj: CompiledJourney, inp: TraversalInput, node_codes: dict[tuple[int, str], int], out: Touches
) -> None:
    j = cj.journey
    cust, t0 = _entries(cj, inp)
    n_inst = cust.size
    stats = {
        "journey": cj.index,
        "entries": n_inst,
        "customers": int(np.unique(cust).size),
        "goal_exits": 0,
        "holdout": 0,
    }
    out.stats.append(stats)
    if n_inst == 0:
        return
    entry_no = np.zeros(n_inst, dtype=np.int64)
    if n_inst > 1:
        first = np.r_[True, cust[1:] != cust[:-1]]
        run_start = np.maximum.accumulate(np.where(first, np.arange(n_inst), 0))
        entry_no = np.arange(n_inst) - run_start
    has_goal = j.goal is not None
    goal = np.full(n_inst, NEVER, dtype=np.int64)
    if has_goal and j.goal.event in ORDER_EVENTS:
        goal = _next_after(inp.orders_cust, inp.orders_t, cust, t0)
    elif has_goal:
        _, rate_col = EVENT_SOURCES.get(j.goal.event, (None, None))
        if rate_col:
            rate = inp.rates[rate_col].to_numpy(dtype=float)[cust] / 1440.0
            u = uniform(inp.cust_hash[cust], _salt(inp.seed, 0x60A1, cj.index), entry_no)
            goal = _next_event(t0, rate, u)
    buckets: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {j.entry: [(np.arange(n_inst), t0)]}
    outcomes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rates = inp.rates
    p_open = rates["p_open"].to_numpy()
    p_click_e = rates["p_click_email"].to_numpy()
    p_click_s = rates["p_click_sms"].to_numpy()
    p_conv = rates["p_convert"].to_numpy()
    ctx = inp.ctx

    def push(target: str | None, inst: np.ndarray, t: np.ndarray) -> None:
        if target is None or inst.size == 0:
            return
        keep = t < inp.end
        if keep.any():
            buckets.setdefault(target, []).append((inst[keep], t[keep]))

    for node in cj.order:
        arrived = buckets.pop(node.id, [])
        if not arrived:
            continue
        inst = np.concatenate([a for a, _ in arrived])
        t = np.concatenate([b for _, b in arrived])
        if has_goal:
            alive = goal[inst] > t
            stats["goal_exits"] += int((~alive).sum())
            inst, t = inst[alive], t[alive]
            if inst.size == 0:
                continue
        c = cust[inst]
        kind = node.type
        if kind in ("send_email", "send_sms"):
            ch = 0 if kind == "send_email" else 1
            out.cust.append(c)
            out.t.append(t)
            out.journey.append(np.full(inst.size, cj.index, dtype=np.int16))
            out.node.append(np.full(inst.size, node_codes[(cj.index, node.id)], dtype=np.int32))
            out.entry.append(entry_no[inst])
            chv = np.full(inst.size, ch, dtype=np.int64)
            trans = np.full(inst.size, bool(node.transactional))
            sent = ctx.addr_ok[c, ch] & ~(ctx.paused[c, ch] & ~trans)
            t_send = t.copy()
            if sent.any():
                s = np.flatnonzero(sent)
                ts, _, _ = _windows(inp.rules, inp.zt, inp.ms, ctx, c[s], chv[s], t[s], t[s], trans[s])
                ok = ts != NEVER
                ok[ok] = ctx.consent.at(c[s][ok], chv[s][ok], ts[ok])
                sent[s] = ok
                t_send[s[ok]] = ts[ok]
            salt = _salt(inp.seed, cj.index, _h(node.id))
            base = inp.cust_hash[c]
            u1 = uniform(base, salt ^ np.uint64(1), entry_no[inst])
            u2 = uniform(base, salt ^ np.uint64(2), entry_no[inst])
            if ch == 0:
                opened = sent & (u1 < p_open[c])
                clicked = opened & (u2 * p_open[c] < p_click_e[c])
            else:
                clicked = sent & (u2 < p_click_s[c])
                opened = clicked
            o_full = np.zeros(n_inst, dtype=bool)
            k_full = np.zeros(n_inst, dtype=bool)
            o_full[inst] = opened
            k_full[inst] = clicked
            outcomes[node.id] = (o_full, k_full)
            out.opened.append(opened)
            out.clicked.append(clicked)
            if has_goal and clicked.any():
                u3 = uniform(base, salt ^ np.uint64(3), entry_no[inst])
                u4 = uniform(base, salt ^ np.uint64(4), entry_no[inst])
                conv = clicked & (u3 < p_conv[c])
                when = t_send + 30 + (u4 * 24 * 60).astype(np.int64)
                ii = inst[conv]
                goal[ii] = np.minimum(goal[ii], when[conv])
            push(node.next, inst, np.where(sent, t_send, t))
        elif kind == "delay":
            tt = t
            if node.duration is not None:
                tt = tt + np.round(node.duration.seconds / 60 * inp.delay_factor[c]).astype(np.int64)
            if node.until is not None:
                tt = _until(inp, c, tt, node.until)
            push(node.next, inst, tt)
        elif kind == "wait_for_event":
            timeout = np.round(node.timeout.seconds / 60 * inp.delay_factor[c]).astype(np.int64)
            if node.event in ORDER_EVENTS:
                ev = _next_after(inp.orders_cust, inp.orders_t, c, t)
                if has_goal and j.goal.event in ORDER_EVENTS:
                    ev = np.minimum(ev, np.where(goal[inst] > t, goal[inst], NEVER))
            else:
                _, rate_col = EVENT_SOURCES.get(node.event, (None, None))
                rate = rates[rate_col].to_numpy(dtype=float)[c] / 1440.0 if rate_col else np.zeros(c.size)
                u = uniform(inp.cust_hash[c], _salt(inp.seed, cj.index, _h(node.id), 5), entry_no[inst])
                ev = _next_event(t, rate, u)
            hit = ev <= t + timeout
            push(node.on_event, inst[hit], ev[hit])
            push(node.on_timeout, inst[~hit], (t + timeout)[~hit])
        elif kind == "condition_split":
            res = _condition(node, inp, c, t, inst, outcomes, j.id)
            push(node.on_true, inst[res], t[res])
            push(node.on_false, inst[~res], t[~res])
        elif kind == "random_split":
            u = uniform(inp.cust_hash[c], _salt(inp.seed, cj.index, _h(node.id), 6), entry_no[inst]) * 100.0
            shares = np.array([b.share for b in node.branches], dtype=float)
            edges = np.cumsum(shares) * (100.0 / shares.sum() if shares.sum() > 0 else 1.0)
            pick = np.minimum(np.searchsorted(edges, u, side="right"), len(node.branches) - 1)
            for bi, br in enumerate(node.branches):
                sel = pick == bi
                if br.holdout:
                    stats["holdout"] += int(sel.sum())
                    continue
                push(br.next, inst[sel], t[sel])
        # "end" and unknown types: the customer leaves


def membership(audience: pd.DataFrame) -> Callable[[str], np.ndarray]:
    """A function from a segment name to a boolean array over the audience rows (:func:`segments.membership`)."""
    cache: dict[str, np.ndarray] = {}

    def member(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = segment_membership(audience, name)
        return cache[name]

    return member
