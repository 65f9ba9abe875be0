"""The policy kernel: candidate touches of a chunk of customers in, a verdict per touch out.

A touch is kept, deferred (kept at a later time) or suppressed, with the rule
that decided it. The kernel works on integer arrays (minutes since the epoch,
channel 0 = email, 1 = sms) for one chunk of customers at a time:

1. static rules, vectorised over every touch: a valid address, the adaptive
   pause of a channel, quiet hours in every zone of the customer and the
   preferred send hours (defer to the next allowed minute, or suppress);
2. rules between touches, in rounds: each round takes, for every customer,
   the earliest touch still pending and checks consent at its time (the
   consent ledger, so opt-outs during the horizon count), its windows again,
   the rolling caps, the customer's frequency preference and the spacing.
   A touch that breaks a rule is suppressed, or moved to the earliest time
   that satisfies the rules given the touches already kept and stays
   pending; a touch deferred past ``max_defer`` is suppressed.

Because a round always takes the earliest pending touch of each customer, the
touches kept for a customer are kept in time order, so "the N-th most recent
kept touch is older than the window" is exactly "no rolling window holds more
than N touches".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..policy import ContactPolicy, duration_minutes
from .calendar import NEVER, MaskSet, ZoneTable, allowed_all, minute_of_week, next_allowed_all

__all__ = ["DEFERRED", "KEPT", "STATUSES", "SUPPRESSED", "ConsentLedger", "CustomerContext", "Rules", "run_kernel"]

KEPT, DEFERRED, SUPPRESSED = 0, 1, 2
STATUSES = ("kept", "deferred", "suppressed")
CHANNELS = ("email", "sms")
_SCOPES = {"any": 0, "email": 1, "sms": 2}
_PAST = -(2**50)


class Reasons:
    """Reason codes (index 0 is the empty reason of a touch kept on time)."""

    def __init__(self) -> None:
        self.names: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def code(self, name: str) -> int:
        if name not in self._index:
            self._index[name] = len(self.names)
            self.names.append(name)
        return self._index[name]


@dataclass
class Rules:
    """A policy compiled to numbers."""

    policy: ContactPolicy
    reasons: Reasons = field(default_factory=Reasons)

    def __post_init__(self) -> None:
        p = self.policy
        r = self.reasons
        self.no_address = r.code("no_address")
        self.no_consent = r.code("no_consent")
        self.paused = r.code("adaptive_pause")
        self.quiet = r.code("quiet_hours")
        self.preferred = r.code("preferred_hours")
        self.frequency = r.code("frequency_preference")
        self.spacing_any = r.code("spacing:any_touch")
        self.spacing_moment = r.code("spacing:same_moment")
        self.caps = [
            (_SCOPES[c.channel], c.max, c.window_minutes, r.code(f"cap:{c.channel}:{c.label}")) for c in p.caps
        ]
        # a ledger consent the recipient's market does not accept (see ContactPolicy.markets)
        self.market_consent = {m.name: r.code(f"market_consent:{m.name}") for m in p.markets}
        self.buffer = [max([n for s, n, _, _ in self.caps if s == k], default=0) for k in range(3)]
        freq = [c.max for c in p.frequency_preferences.values()]
        self.buffer[0] = max(self.buffer[0], max(freq, default=0), 1)
        self.gap_any = duration_minutes(p.spacing.any_touch)
        self.gap_moment = duration_minutes(p.spacing.same_moment)
        self.limit = p.max_defer_minutes
        b = p.on_break
        self.suppress_quiet = b.quiet_hours == "suppress"
        self.suppress_preferred = b.preferred_hours == "suppress"
        self.suppress_caps = b.caps == "suppress"
        self.suppress_spacing = b.spacing == "suppress"
        self.suppress_frequency = b.frequency == "suppress"


@dataclass
class ConsentLedger:
    """Consent per (customer, channel) over time: rows sorted by key = customer * 2 + channel, then time."""

    key: np.ndarray  # int64
    time: np.ndarray  # int64 minutes
    subscribed: np.ndarray  # bool
    before: np.ndarray  # bool (n, 2): consent before the first row (no row: no consent)
    why: np.ndarray | None = None  # int16 per row: the reason code of a consent the market refuses (0: none)

    def __post_init__(self) -> None:
        # the sort key of every row, made once (the kernel asks the ledger in every round)
        self._composite = (self.key << 32) | (self.time - _T_BASE)

    @classmethod
    def constant(cls, subscribed: np.ndarray) -> ConsentLedger:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, np.zeros(0, dtype=bool), np.asarray(subscribed, dtype=bool))

    def _rows(self, cust: np.ndarray, ch: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The ledger row in force for each (customer, channel) at minute ``t`` (-1: none)."""
        qkey = cust.astype(np.int64) * 2 + ch
        composite = self._composite
        q = (qkey << 32) | np.clip(t - _T_BASE, 0, 2**32 - 1)
        pos = np.searchsorted(composite, q, side="right") - 1
        hit = pos >= 0
        hit[hit] &= self.key[pos[hit]] == qkey[hit]
        rows: np.ndarray = np.where(hit, pos, -1)
        return rows

    def at(self, cust: np.ndarray, ch: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Consent of each (customer, channel) at minute ``t`` (the latest row at or before ``t`` wins)."""
        out: np.ndarray = self.before[cust, ch].copy()
        if self.key.size == 0:
            return out
        pos = self._rows(cust, ch, t)
        hit = pos >= 0
        out[hit] = self.subscribed[pos[hit]]
        return out

    def reasons(self, cust: np.ndarray, ch: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The reason code of the row in force when the market refuses its consent (0 otherwise)."""
        out = np.zeros(len(cust), dtype=np.int16)
        if self.why is None or self.key.size == 0:
            return out
        pos = self._rows(cust, ch, t)
        hit = pos >= 0
        out[hit] = self.why[pos[hit]]
        return out


_T_BASE = 0  # ledger times are minutes since the epoch (1970 onwards fits in 32 bits of minutes)


@dataclass
class CustomerContext:
    """What the kernel needs about each customer of a chunk (row i = local customer i)."""

    zones: np.ndarray  # (n, Z) zone indices into the ZoneTable (padded by repeating the first zone)
    quiet_mask: np.ndarray  # (n, 2) mask ids of the quiet-hour window per channel
    window_mask: np.ndarray  # (n, 2) mask ids of quiet hours AND preferred hours per channel
    addr_ok: np.ndarray  # (n, 2) bool
    paused: np.ndarray  # (n, 2) bool
    freq_max: np.ndarray  # (n,) int, 0 = no preference
    freq_window: np.ndarray  # (n,) int minutes
    consent: ConsentLedger

    def __post_init__(self) -> None:
        self.zone_first = np.ascontiguousarray(self.zones[:, 0]) if self.zones.size else np.zeros(0, dtype=np.int64)
        # customers with a zone besides their first (most have one): only they need the other columns
        self.multi_zone = (self.zones != self.zones[:, :1]).any(axis=1)

    def allowed(self, zt: ZoneTable, ms: MaskSet, cust: np.ndarray, t: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
        """:func:`~workbench.cadence.calendar.allowed_all` for customers ``cust``, gathering their other zones
        only for the customers that have one."""
        ok = ms.allowed(minute_of_week(zt.local(t, self.zone_first[cust])), mask_id)
        rows = np.flatnonzero(self.multi_zone[cust])
        if rows.size:
            ok[rows] = allowed_all(zt, ms, t[rows], self.zones[cust[rows]], mask_id[rows])
        return ok


def _windows(
    rules: Rules,
    zt: ZoneTable,
    ms: MaskSet,
    ctx: CustomerContext,
    cust: np.ndarray,
    ch: np.ndarray,
    t: np.ndarray,
    t_nom: np.ndarray,
    transactional: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quiet and preferred hours at ``t``: the time to use (NEVER: suppress), the reason, and whether it moved."""
    quiet_id = ctx.quiet_mask[cust, ch]
    # transactional touches keep quiet hours but not the preferred hours
    win_id = np.where(transactional, quiet_id, ctx.window_mask[cust, ch])
    quiet_ok = ctx.allowed(zt, ms, cust, t, quiet_id)
    win_ok = quiet_ok.copy()
    check = np.flatnonzero(quiet_ok & (win_id != quiet_id))
    win_ok[check] = ctx.allowed(zt, ms, cust[check], t[check], win_id[check])
    reason = np.zeros(len(t), dtype=np.int16)
    reason[~win_ok] = rules.preferred
    reason[~quiet_ok] = rules.quiet
    out = t.copy()
    bad = ~win_ok
    if bad.any():
        suppress = (~quiet_ok & rules.suppress_quiet) | (quiet_ok & ~win_ok & rules.suppress_preferred)
        move = bad & ~suppress
        out[bad & suppress] = NEVER
        if move.any():
            mid = np.where(rules.suppress_preferred, quiet_id, win_id)[move]
            out[move] = next_allowed_all(zt, ms, t[move], ctx.zones[cust[move]], mid, t_nom[move] + rules.limit)
    return out, reason, bad


class _Bounds:
    """The latest time each touch may go out given the rules it breaks, and which rule binds."""

    def __init__(self, t: np.ndarray) -> None:
        n = t.size
        self.t = t
        self.bound = np.full(n, _PAST, dtype=np.int64)
        self.reason = np.zeros(n, dtype=np.int16)
        self.journey = np.full(n, -1, dtype=np.int16)
        self.suppress = np.zeros(n, dtype=bool)
        self.sup_reason = np.zeros(n, dtype=np.int16)
        self.sup_journey = np.full(n, -1, dtype=np.int16)

    def consider(self, b: np.ndarray, code: int, bj: np.ndarray, suppress: bool) -> None:
        """A rule that allows the touch from ``b`` on (``suppress``: breaking it suppresses the touch)."""
        hit = b > self.t
        if not hit.any():
            return
        if suppress:
            new = hit & ~self.suppress
            self.suppress[new] = True
            self.sup_reason[new] = code
            self.sup_journey[new] = bj[new]
        later = hit & (b > self.bound)
        self.bound[later] = b[later]
        self.reason[later] = code
        self.journey[later] = bj[later]


def _shift_in(buf: np.ndarray, jbuf: np.ndarray, rows: np.ndarray, t: np.ndarray, j: np.ndarray) -> None:
    if rows.size == 0 or buf.shape[1] == 0:
        return
    buf[rows, :-1] = buf[rows, 1:]
    buf[rows, -1] = t
    jbuf[rows, :-1] = jbuf[rows, 1:]
    jbuf[rows, -1] = j


def run_kernel(
    cust: np.ndarray,
    t_nom: np.ndarray,
    ch: np.ndarray,
    journey: np.ndarray,
    transactional: np.ndarray,
    ctx: CustomerContext,
    rules: Rules,
    zt: ZoneTable,
    ms: MaskSet,
    *,
    n_journeys: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Apply the policy to the candidate touches of one chunk.

    Parameters
    ----------
    cust, t_nom, ch, journey, transactional
        One entry per candidate touch: local customer index, planned minute
        (UTC, since the epoch), channel (0 email, 1 sms), journey index and
        whether the touch is transactional (exempt from caps, spacing,
        frequency, preferred hours and the adaptive pause; never from consent
        or quiet hours).

    Returns
    -------
    scheduled, status, reason, blocked_by
        The minute the touch goes out (the planned one when suppressed), its
        status code (:data:`STATUSES`), reason code (``rules.reasons.names``)
        and the journey index of the kept touch that blocked it (-1: none).
    """
    m = len(t_nom)
    n = ctx.addr_ok.shape[0]
    t_cur = t_nom.astype(np.int64).copy()
    status = np.full(m, -1, dtype=np.int8)
    reason = np.zeros(m, dtype=np.int16)
    blocked = np.full(m, -1, dtype=np.int16)
    ch = ch.astype(np.int64)
    # --- static rules over every touch
    no_addr = ~ctx.addr_ok[cust, ch]
    status[no_addr] = SUPPRESSED
    reason[no_addr] = rules.no_address
    paused = (status < 0) & ctx.paused[cust, ch] & ~transactional
    status[paused] = SUPPRESSED
    reason[paused] = rules.paused
    live = np.flatnonzero(status < 0)
    if live.size:
        t1, why, moved = _windows(
            rules, zt, ms, ctx, cust[live], ch[live], t_cur[live], t_nom[live], transactional[live]
        )
        gone = t1 == NEVER
        status[live[gone]] = SUPPRESSED
        reason[live[moved]] = why[moved]
        t_cur[live[~gone]] = t1[~gone]
    # --- rules between touches, in rounds
    bufs = [np.full((n, k), _PAST, dtype=np.int64) for k in rules.buffer]
    jbufs = [np.full((n, k), -1, dtype=np.int16) for k in rules.buffer]
    last_moment = np.full((n, max(n_journeys, 1), 2), _PAST, dtype=np.int64)
    pend = np.flatnonzero(status < 0)
    pend = pend[np.argsort(cust[pend], kind="stable")]
    t_base = int(t_nom.min()) if m else 0
    done = np.zeros(m, dtype=bool)  # decided touches (each leaves ``pend`` in the round it is decided)
    while pend.size:
        pc = cust[pend]
        starts = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]])
        key = ((t_cur[pend] - t_base) << 32) | pend
        chosen = (np.minimum.reduceat(key, starts) & 0xFFFFFFFF).astype(np.int64)
        c, t, k, j, tr = cust[chosen], t_cur[chosen], ch[chosen], journey[chosen], transactional[chosen]
        final = np.zeros(chosen.size, dtype=bool)
        # consent at the time it would go out
        ok = ctx.consent.at(c, k, t)
        status[chosen[~ok]] = SUPPRESSED
        refused = ctx.consent.reasons(c[~ok], k[~ok], t[~ok])
        reason[chosen[~ok]] = np.where(refused > 0, refused, rules.no_consent)
        final |= ~ok
        # windows again (a deferral can land outside them)
        todo = ~final
        t2, why, moved = _windows(rules, zt, ms, ctx, c[todo], k[todo], t[todo], t_nom[chosen[todo]], tr[todo])
        idx = chosen[todo]
        first = reason[idx] == 0
        reason[idx[moved & first]] = why[moved & first]
        gone = t2 == NEVER
        status[idx[gone]] = SUPPRESSED
        reason[idx[gone]] = why[gone]
        t_cur[idx[moved & ~gone]] = t2[moved & ~gone]
        sub = np.flatnonzero(todo)
        final[sub[gone]] = True
        waiting = np.zeros(chosen.size, dtype=bool)
        waiting[sub[moved & ~gone]] = True
        # caps, frequency and spacing (marketing touches only)
        test = ~final & ~waiting & ~tr
        if test.any():
            ti = np.flatnonzero(test)
            cc, tt, kk, jj = c[ti], t[ti], k[ti], j[ti]
            acc = _Bounds(tt)
            consider = acc.consider

            for scope, cap, window, code in rules.caps:
                rows = np.ones(ti.size, dtype=bool) if scope == 0 else (kk == scope - 1)
                buf, jb = bufs[scope], jbufs[scope]
                size = buf.shape[1]
                b = np.full(ti.size, _PAST, dtype=np.int64)
                bj = np.full(ti.size, -1, dtype=np.int16)
                b[rows] = buf[cc[rows], size - cap] + window
                bj[rows] = jb[cc[rows], size - cap]
                consider(b, code, bj, rules.suppress_caps)
            fmax = ctx.freq_max[cc]
            has = fmax > 0
            if has.any():
                size = bufs[0].shape[1]
                b = np.full(ti.size, _PAST, dtype=np.int64)
                bj = np.full(ti.size, -1, dtype=np.int16)
                b[has] = bufs[0][cc[has], size - fmax[has]] + ctx.freq_window[cc[has]]
                bj[has] = jbufs[0][cc[has], size - fmax[has]]
                consider(b, rules.frequency, bj, rules.suppress_frequency)
            if rules.gap_any > 0:
                consider(bufs[0][cc, -1] + rules.gap_any, rules.spacing_any, jbufs[0][cc, -1], rules.suppress_spacing)
            if rules.gap_moment > 0:
                b = last_moment[cc, jj, 1 - kk] + rules.gap_moment
                consider(b, rules.spacing_moment, jj.astype(np.int16), rules.suppress_spacing)
            bound, bind_reason, bind_journey = acc.bound, acc.reason, acc.journey
            must_suppress, sup_reason, sup_journey = acc.suppress, acc.sup_reason, acc.sup_journey
            broke = bound > tt
            over = broke & ~must_suppress & (bound - t_nom[chosen[ti]] > rules.limit)
            kill = must_suppress | over
            kill_reason = np.where(must_suppress, sup_reason, bind_reason)
            bj_all = np.where(must_suppress, sup_journey, bind_journey)
            status[chosen[ti[kill]]] = SUPPRESSED
            reason[chosen[ti[kill]]] = kill_reason[kill]
            blocked[chosen[ti[kill]]] = bj_all[kill]
            final[ti[kill]] = True
            defer = broke & ~kill
            di = chosen[ti[defer]]
            first = reason[di] == 0
            reason[di[first]] = bind_reason[defer][first]
            blocked[di[first]] = bind_journey[defer][first]
            t_cur[di] = bound[defer]
            waiting[ti[defer]] = True
        # what is left is kept now
        keep = ~final & ~waiting
        ki = chosen[keep]
        status[ki] = np.where(t_cur[ki] > t_nom[ki], DEFERRED, KEPT)
        mk = keep & ~tr
        if mk.any():
            cc, tt, kk, jj = c[mk], t[mk], k[mk], j[mk].astype(np.int16)
            _shift_in(bufs[0], jbufs[0], cc, tt, jj)
            for chan in (0, 1):
                sel = kk == chan
                _shift_in(bufs[1 + chan], jbufs[1 + chan], cc[sel], tt[sel], jj[sel])
            last_moment[cc, jj, kk] = tt
        done[chosen[final | keep]] = True
        pend = pend[~done[pend]]
    t_out = np.where(status == SUPPRESSED, t_nom, t_cur)
    # a touch kept on time has no reason; a deferred one keeps the rule that moved it
    reason[status == KEPT] = 0
    return t_out, status, reason, blocked
