"""``simulate``: every customer through every active journey at once, under the contact policy."""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..journeys import blueprint, build_journey, build_journeys
from ..models.errors import SimulationError
from ..models.journey import Journey, JourneySpec
from ..models.policy import Channel
from ..models.strategy import Strategy
from ..policy import ContactPolicy, TimeWindow, weekly_mask
from ..timezones import is_valid_zone
from .calendar import MaskSet, ZoneTable, to_minutes
from .engagement import TIERS, engagement_from_profiles, engagement_tier_codes, outcome_priors, outcome_rates
from .kernel import STATUSES, ConsentLedger, CustomerContext, Rules, run_kernel
from .traverse import TraversalInput, compile_journey, customer_hash, membership, order_stream, traverse

__all__ = [
    "PLAN_COLUMNS",
    "apply_policy",
    "plan_categories",
    "plan_from_rows",
    "resolve_journeys",
    "resolve_start",
    "simulate",
]

PLAN_COLUMNS = [
    "customer_id",
    "journey_id",
    "step_id",
    "channel",
    "template",
    "variant",
    "transactional",
    "entry",
    "planned_at",
    "scheduled_at",
    "local_time",
    "timezone",
    "status",
    "reason",
    "blocked_by",
    "opened",
    "clicked",
    "engagement_tier",
]
_CH: dict[Channel, int] = {"email": 0, "sms": 1}

# What the engine takes as journeys: a strategy (its enabled journeys), or journeys, journey specs and
# journey entries (mappings: a graph or a blueprint reference), or None (no journeys).
JourneysInput = Strategy | Iterable[Journey | JourneySpec | Mapping[str, Any]] | None


def resolve_start(start: object) -> pd.Timestamp:
    """The first moment of the horizon in UTC: a date means 00:00 UTC that day; a naive time is read as UTC."""
    if start is None:
        msg = "start is required (a date such as 2026-11-01). Fix: pass start=; the plan never uses the clock"
        raise SimulationError(msg)
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        msg = f"start {start!r} is not a date or time. Fix: write it as YYYY-MM-DD"
        raise SimulationError(msg) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def resolve_journeys(journeys: JourneysInput) -> list[Any]:
    """Journey objects from a strategy, a list of journeys, or the strategy's ``journeys`` entries.

    An entry may be a :class:`~workbench.journeys.model.Journey`, a graph
    mapping (``nodes``, ``entry`` ...), or a blueprint reference
    (``blueprint`` and optional ``params`` / ``id``). Entries marked
    ``active: false`` (or ``status`` other than active/live) are skipped.
    """
    if journeys is None:
        return []
    if isinstance(journeys, Strategy):
        return [j for j in build_journeys(journeys) if _active(j)]
    out: list[Any] = []
    for item in journeys:
        if isinstance(item, Journey):
            out.append(item)
            continue
        data = item.model_dump() if hasattr(item, "model_dump") else dict(item)
        if not _active(data):
            continue
        if "graph" in data or ("blueprint" in data and "params" in data and hasattr(item, "model_dump")):
            out.append(build_journey(item if isinstance(item, JourneySpec) else data))
        elif "nodes" in data:
            out.append(Journey.model_validate({k: v for k, v in data.items() if k not in ("active", "status")}))
        elif "blueprint" in data:
            params = dict(data.get("params") or {})
            jid = data.get("id") or data.get("journey_id")
            out.append(blueprint(data["blueprint"], params, **({"journey_id": jid} if jid else {})))
        else:
            msg = (
                f"journey entry {data!r} is neither a graph nor a blueprint. "
                "Fix: give `blueprint:` with `params:`, or `nodes:` and `entry:`"
            )
            raise SimulationError(msg)
    return out


def _as_policy(policy: ContactPolicy | Mapping[str, Any] | None) -> ContactPolicy:
    """A contact policy as given, or validated from a mapping (None: the defaults)."""
    return policy if isinstance(policy, ContactPolicy) else ContactPolicy.model_validate(dict(policy or {}))


def _active(item: object) -> bool:
    get = item.get if isinstance(item, Mapping) else (lambda k, d=None: getattr(item, k, d))
    if get("active", True) is False or get("enabled", True) is False:
        return False
    status = get("status", None)
    return status is None or str(status).lower() in ("active", "live", "on")


def _column(df: pd.DataFrame, name: str, default: object) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _addresses(audience: pd.DataFrame) -> np.ndarray:
    out = np.zeros((len(audience), 2), dtype=bool)
    for k, ch in enumerate(("email", "sms")):
        valid = "has_valid_email" if ch == "email" else "has_valid_phone"
        if valid in audience.columns:
            out[:, k] = audience[valid].fillna(False).to_numpy(dtype=bool)
        elif f"can_{ch}" in audience.columns:
            out[:, k] = audience[f"can_{ch}"].fillna(False).to_numpy(dtype=bool)
    return out


def _consent_before(audience: pd.DataFrame) -> np.ndarray:
    out = np.zeros((len(audience), 2), dtype=bool)
    for k, ch in enumerate(("email", "sms")):
        if f"{ch}_consent" in audience.columns:
            out[:, k] = (audience[f"{ch}_consent"].astype("string") == "subscribed").fillna(False).to_numpy(dtype=bool)
        elif f"can_{ch}" in audience.columns:
            out[:, k] = audience[f"can_{ch}"].fillna(False).to_numpy(dtype=bool)
    return out


class _Prepared:
    """Everything about the audience that does not depend on the chunk."""

    def __init__(
        self,
        audience: pd.DataFrame,
        policy: ContactPolicy,
        *,
        start: int,
        end: int,
        consents: pd.DataFrame | None,
        engagement_as_of: pd.Timestamp,
        priors: Mapping[str, float] | None = None,
        rules: Rules | None = None,
    ) -> None:
        n = len(audience)
        self.n = n
        self._ids = audience["customer_id"].astype("string")
        self._id_arrow = pa.array(self._ids.array, type=pa.large_string())
        primary = _column(audience, "timezone", "UTC").astype("string").fillna("UTC")
        zones_text = _column(audience, "timezones", None).astype("string").fillna(primary)
        zones_text = zones_text.where(zones_text.str.len() > 0, primary)
        codes, uniques = pd.factorize(zones_text)
        lists = [[z for z in str(u).split("|") if is_valid_zone(z)] or ["UTC"] for u in uniques]
        p_codes, p_uniques = pd.factorize(primary)
        p_names = [z if is_valid_zone(z) else "UTC" for z in p_uniques]
        all_zones = sorted({z for zs in lists for z in zs} | set(p_names) | {"UTC"})
        margin = policy.max_defer_minutes + 14 * 1440
        self.zt = ZoneTable(all_zones, start - 2 * 1440, end + margin)
        width = max((len(z) for z in lists), default=1)
        mat = np.array(
            [[self.zt.index[z] for z in (zs + [zs[0]] * (width - len(zs)))] for zs in lists] or [[0]], dtype=np.int64
        )
        self.zones = mat[codes] if n else np.zeros((0, width), dtype=np.int64)
        self.zone1 = (
            np.array([self.zt.index[z] for z in p_names] or [0], dtype=np.int64)[p_codes]
            if n
            else np.zeros(0, dtype=np.int64)
        )
        self.timezone_names = np.array(p_names, dtype=object)
        self.timezone_code = p_codes
        # quiet hours and preferred hours per (country, region) and channel
        self.ms = MaskSet()
        country = _column(audience, "country", None).astype("string").str.upper().fillna("")
        region = _column(audience, "region", None).astype("string").str.upper().fillna("")
        cr_codes, cr_uniques = pd.factorize(country + "|" + region)
        quiet = np.zeros((max(len(cr_uniques), 1), 2), dtype=np.int64)
        window = np.zeros_like(quiet)
        for i, key in enumerate(cr_uniques):
            co, rg = str(key).split("|", 1)
            for ch, col in _CH.items():
                rule = policy.rule_for(co or None, rg or None, ch)
                qmask = weekly_mask(rule)
                quiet[i, col] = self.ms.add(qmask)
                pref: list[TimeWindow] | None = policy.preferred_hours.get(ch)
                window[i, col] = self.ms.add(qmask & weekly_mask(pref) if pref else qmask)
        self.quiet = quiet[cr_codes] if n else np.zeros((0, 2), dtype=np.int64)
        self.window = window[cr_codes] if n else np.zeros((0, 2), dtype=np.int64)
        self.addr = _addresses(audience)
        # engagement and adaptive cadence
        ad = policy.adaptive
        if "engagement_score" in audience.columns:
            score = pd.to_numeric(audience["engagement_score"], errors="coerce").fillna(0).to_numpy(dtype=float)
        else:
            score = engagement_from_profiles(
                audience, as_of=engagement_as_of, weights=ad.weights, half_life_days=ad.half_life_days
            )
        self.tier_code = engagement_tier_codes(score, ad)
        factor = {
            "engaged": ad.engaged_delay_factor,
            "steady": 1.0,
            "fading": ad.fading_delay_factor,
            "dormant": ad.dormant_delay_factor,
        }
        self.delay_factor = np.array([factor[t] for t in TIERS])
        self.paused = np.zeros((n, 2), dtype=bool)
        if ad.enabled:
            dormant = self.tier_code == 3
            for ch in ad.pause_when_dormant:
                self.paused[:, _CH[ch]] = dormant
        # frequency preference
        self.freq_max = np.zeros(n, dtype=np.int64)
        self.freq_window = np.zeros(n, dtype=np.int64)
        if policy.frequency_column in audience.columns:
            said = audience[policy.frequency_column].astype("string").str.lower()
            for value, cap in policy.frequency_preferences.items():
                hit = said.eq(value.lower()).fillna(False).to_numpy(dtype=bool)
                self.freq_max[hit] = cap.max
                self.freq_window[hit] = cap.window_minutes
        # consent ledger
        self.before = _consent_before(audience) if consents is None else np.zeros((n, 2), dtype=bool)
        self.ledger = None
        if consents is not None:
            index = pd.Index(self.ids)
            pos = index.get_indexer(consents["customer_id"].astype("string").to_numpy())
            ch = consents["channel"].astype("string").str.lower().map(_CH)
            ok = (pos >= 0) & ch.notna().to_numpy()
            when = pd.to_datetime(consents["recorded_at"], utc=True).dt.as_unit("s").astype("int64").to_numpy() // 60
            sub = (consents["status"].astype("string").str.lower() == "subscribed").fillna(False).to_numpy()
            g = pos[ok].astype(np.int64)
            k = ch.to_numpy()[ok].astype(np.int64)
            t = np.clip(when[ok], 0, None)
            s = sub[ok]
            why = np.zeros(len(g), dtype=np.int16)
            if rules is not None and "source" in consents.columns:
                g, k, t, s, why = _market_consent(
                    audience, policy, rules, consents["source"].to_numpy(dtype=object)[ok], g, k, t, s
                )
            order = np.lexsort((t, k, g))
            self.ledger = (g[order], k[order], t[order], s[order], why[order])
        # each customer's rates and draw key are computed with their chunk (on the chunk's worker)
        self.priors = dict(priors) if priors is not None else outcome_priors(audience)

    @functools.cached_property
    def ids(self) -> np.ndarray:
        """The customer ids (object array: text, or ``pd.NA``)."""
        ids: np.ndarray = self._ids.to_numpy()
        return ids

    def ids_of(self, lo: int, hi: int) -> np.ndarray:
        """The ids of customers ``lo:hi`` (as :attr:`ids`)."""
        ids: np.ndarray = self._ids.iloc[lo:hi].to_numpy()
        return ids

    def id_array(self, cust: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The ids of customer positions ``cust`` as a ``string`` array (an Arrow gather, no Python strings)."""
        return pd.array(self._id_arrow.take(pa.array(cust)), dtype="string")

    def ledger_for(self, lo: int, hi: int) -> ConsentLedger:
        before = self.before[lo:hi]
        if self.ledger is None:
            return ConsentLedger.constant(before)
        g, k, t, s, why = self.ledger
        a, b = np.searchsorted(g, [lo, hi])
        return ConsentLedger(
            key=(g[a:b] - lo) * 2 + k[a:b], time=t[a:b], subscribed=s[a:b], before=before, why=why[a:b]
        )

    def context(self, lo: int, hi: int) -> CustomerContext:
        """The kernel's view of customers ``lo:hi``."""
        return CustomerContext(
            zones=self.zones[lo:hi],
            quiet_mask=self.quiet[lo:hi],
            window_mask=self.window[lo:hi],
            addr_ok=self.addr[lo:hi],
            paused=self.paused[lo:hi],
            freq_max=self.freq_max[lo:hi],
            freq_window=self.freq_window[lo:hi],
            consent=self.ledger_for(lo, hi),
        )


def _market_consent(
    audience: pd.DataFrame,
    policy: ContactPolicy,
    rules: Rules,
    source: np.ndarray,
    g: np.ndarray,
    k: np.ndarray,
    t: np.ndarray,
    s: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """The ledger in the recipient's market: a subscribed row whose ``source`` the market's consent regime
    refuses counts as no consent (reason ``market_consent:<market>``), and an implied consent ends after the
    market's ``implied_consent_days`` (a row is added there)."""
    country = _column(audience, "country", None).astype("string").str.upper().fillna("")
    region = _column(audience, "region", None).astype("string").str.upper().fillna("")
    codes, uniques = pd.factorize((country + "|" + region).to_numpy(dtype=object))
    markets = [policy.market_for(*(str(u).split("|", 1))) for u in uniques]
    why = np.zeros(len(g), dtype=np.int16)
    extra: list[tuple[int, int, int]] = []
    text = pd.Series(source, dtype="string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    for i in np.flatnonzero(s):
        market = markets[codes[g[i]]] if len(codes) else None
        if market is None:
            continue
        regime = market.consent_for(("email", "sms")[k[i]])
        if regime is None:
            continue
        if regime.refuses(text[i]):
            why[i] = rules.market_consent[market.name]
        elif text[i] == "implied" and regime.implied_consent_days:
            extra.append((int(i), int(t[i]) + regime.implied_consent_days * 1440, rules.market_consent[market.name]))
    s = s & (why == 0)
    if extra:
        idx = np.array([e[0] for e in extra])
        g = np.concatenate([g, g[idx]])
        k = np.concatenate([k, k[idx]])
        t = np.concatenate([t, np.array([e[1] for e in extra], dtype=t.dtype)])
        s = np.concatenate([s, np.zeros(len(extra), dtype=bool)])
        why = np.concatenate([why, np.array([e[2] for e in extra], dtype=np.int16)])
    return g, k, t, s, why


def simulate(
    audience: pd.DataFrame,
    journeys: JourneysInput,
    policy: ContactPolicy | Mapping[str, Any] | None = None,
    *,
    start: object,
    days: int,
    seed: int,
    consents: pd.DataFrame | None = None,
    chunk_size: int = 125_000,
    progress: bool = True,
    priors: Mapping[str, float] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The send plan: every customer through every active journey at once, under the contact policy.

    Parameters
    ----------
    audience
        Profiles with segments (``segments.assign``): ``customer_id``,
        ``timezone``/``timezones``, ``country``/``region``, consent and
        address columns, engagement counts, and the ``segment_<name>``
        columns the journeys use. An ``engagement_score`` column (see
        :func:`~workbench.cadence.engagement_score`) is used when present.
    journeys
        Journeys (:class:`~workbench.journeys.model.Journey`), a strategy, or
        the strategy's journey entries; see :func:`resolve_journeys`.
    policy
        The contact policy (default: :class:`~workbench.policy.ContactPolicy`).
    start, days
        The horizon: ``days`` days from ``start`` (a date is 00:00 UTC).
    seed
        Seed of every draw: the same inputs and seed give the same plan.
    consents
        The consent ledger (the latest row at or before a send counts, so
        changes during the horizon apply). Without it, the audience's
        ``email_consent`` / ``sms_consent`` hold for the whole horizon.
    chunk_size
        Customers per chunk at most (each chunk is independent; DESIGN principle 6). Larger chunks take
        fewer rounds of the policy kernel; on several processes there is at least one chunk per process.
    progress
        Show a progress bar over chunks.
    priors
        The whole audience's :func:`~workbench.cadence.engagement.outcome_priors` when ``audience`` is
        one part of it (a partition of customers on another engine); default: ``audience``'s own.
    workers
        Processes to run the chunks on (default: one per core for an audience of
        :data:`PARALLEL_MIN_CUSTOMERS` or more, else one). The plan is the same for any number.

    Every draw (opens, clicks, purchases, events, random splits) is keyed by
    the customer (:func:`~workbench.cadence.traverse.customer_hash` of the id),
    the seed, the journey, the node and the entry, never by a position in the
    audience or a chunk, and what is shared by all customers comes from
    ``priors``: so the plan of a customer is the same in any part of any
    partitioning of the audience, and the plan of the whole is the plan of the
    parts put together.

    Returns
    -------
    DataFrame
        One row per planned touch (:data:`PLAN_COLUMNS`): ``status`` is
        ``kept``, ``deferred`` (kept at a later time) or ``suppressed``;
        ``reason`` names the rule (empty when kept on time); ``scheduled_at``
        is UTC and ``local_time`` the wall-clock time in ``timezone``.
    """
    policy = _as_policy(policy)
    if "customer_id" not in audience.columns:
        msg = "simulate needs an audience with customer_id. Fix: pass segments.assign(profiles, strategy)"
        raise SimulationError(msg)
    if int(days) <= 0:
        msg = f"days must be positive, got {days}. Fix: pass days=90 for a quarter"
        raise SimulationError(msg)
    start_ts = resolve_start(start)
    t_start = to_minutes(start_ts)
    t_end = t_start + int(days) * 1440
    items = resolve_journeys(journeys)
    compiled = [compile_journey(j, i) for i, j in enumerate(items)]
    audience = audience.reset_index(drop=True)
    rules = Rules(policy)
    prep = _Prepared(
        audience,
        policy,
        start=t_start,
        end=t_end,
        consents=consents,
        engagement_as_of=start_ts,
        priors=priors,
        rules=rules,
    )
    node_rows: list[tuple[int, str, Channel, str, str, bool]] = []
    node_codes: dict[tuple[int, str], int] = {}
    for cj in compiled:
        for node in cj.order:
            if node.type in ("send_email", "send_sms"):
                node_codes[(cj.index, node.id)] = len(node_rows)
                node_rows.append(
                    (cj.index, node.id, node.channel, node.template, node.variant, bool(node.transactional))
                )
    node_ch = np.array([_CH[r[2]] for r in node_rows] or [0], dtype=np.int64)
    node_tr = np.array([r[5] for r in node_rows] or [False], dtype=bool)
    parts: list[tuple[np.ndarray, ...]] = []
    stats: list[dict[str, Any]] = []
    size = max(int(chunk_size), 1)
    count = _worker_count(workers, prep.n, -(-prep.n // size) if prep.n else 0)
    if count > 1:  # at least a chunk per process (a chunk's plan does not depend on the chunk's size)
        size = min(size, -(-prep.n // count))
    bounds = [(lo, min(lo + size, prep.n)) for lo in range(0, prep.n, size)]
    job = _Job(audience, prep, compiled, node_codes, node_ch, node_tr, rules, t_start, t_end, int(seed))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=prep.n, unit="customers", desc="simulate", leave=False)
    for (lo, hi), (part, chunk_stats) in zip(bounds, _run_chunks(job, bounds, count), strict=True):
        parts.append(part)
        stats.extend(chunk_stats)
        if bar is not None:
            bar.update(hi - lo)
    if bar is not None:
        bar.close()
    plan = _assemble(parts, prep, node_rows, node_ch, node_tr, [cj.journey.id for cj in compiled], rules)
    plan.attrs["journey_stats"] = _journey_stats(stats, [cj.journey.id for cj in compiled])
    plan.attrs["horizon"] = {"start": start_ts.isoformat(), "days": int(days), "seed": int(seed)}
    return plan


@dataclass(frozen=True)
class _Job:
    """What every chunk of one simulation shares."""

    audience: pd.DataFrame
    prep: _Prepared
    compiled: list[Any]
    node_codes: dict[tuple[int, str], int]
    node_ch: np.ndarray
    node_tr: np.ndarray
    rules: Rules
    t_start: int
    t_end: int
    seed: int


#: Customers below which a plan is made in this process: starting workers costs more than it saves.
PARALLEL_MIN_CUSTOMERS = 100_000
_JOBS: dict[int, _Job] = {}
_NEXT_JOB = itertools.count()


def _worker_count(workers: int | None, n: int, chunks: int) -> int:
    """Processes to run the chunks on: ``workers`` if given, else one per core this process may use
    (one when the audience is small, or when this process may not start others)."""
    if workers is None:
        if n < PARALLEL_MIN_CUSTOMERS:
            return 1
        try:
            workers = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            workers = os.cpu_count() or 1
    if multiprocessing.current_process().daemon or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(int(workers), chunks))


def _run_chunks(job: _Job, bounds: list[tuple[int, int]], count: int) -> Iterator[_ChunkResult]:
    """The chunks' touches and statistics, in the order of ``bounds``, on one or more processes.

    A chunk's plan depends only on its customers, the seed and what ``job`` holds, so the chunks can run
    anywhere: worker processes are forked with ``job`` in their memory (nothing is copied to start them)
    and send back the chunk's arrays. A chunk that fails in a worker is run again here, so its error is
    raised as it would be without workers.
    """
    if count <= 1:
        for lo, hi in bounds:
            yield _run_chunk(job, lo, hi)
        return
    token = next(_NEXT_JOB)
    _JOBS[token] = job
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            for (lo, hi), done in zip(
                bounds, pool.imap(_chunk_in_worker, [(token, lo, hi) for lo, hi in bounds]), strict=True
            ):
                yield _run_chunk(job, lo, hi) if done is None else done
    finally:
        del _JOBS[token]


def _chunk_in_worker(task: tuple[int, int, int]) -> _ChunkResult | None:
    token, lo, hi = task
    try:
        part, stats = _run_chunk(_JOBS[token], lo, hi)
    except Exception:
        return None  # the parent runs the chunk again and raises the error itself
    return _compact(part), stats


def _compact(part: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """A chunk's columns in the narrowest types that hold them, to send between processes."""
    out = []
    for values in part:
        if values.size and values.dtype == np.int64:
            lo, hi = int(values.min()), int(values.max())
            for small in (np.int8, np.int16, np.int32):
                info = np.iinfo(small)
                if info.min <= lo and hi <= info.max:
                    values = values.astype(small)
                    break
        out.append(values)
    return tuple(out)


_ChunkResult = tuple[tuple[np.ndarray, ...], list[dict[str, Any]]]


def _run_chunk(job: _Job, lo: int, hi: int) -> _ChunkResult:
    prep, rules, compiled, node_ch, node_tr = job.prep, job.rules, job.compiled, job.node_ch, job.node_tr
    stats: list[dict[str, Any]] = []
    ctx = prep.context(lo, hi)
    chunk = job.audience.iloc[lo:hi].reset_index(drop=True)
    inp = TraversalInput(
        audience=chunk,
        cust_hash=customer_hash(prep.ids_of(lo, hi)),
        rates=outcome_rates(chunk, priors=prep.priors),
        delay_factor=prep.delay_factor[prep.tier_code[lo:hi]],
        zone1=prep.zone1[lo:hi],
        ctx=ctx,
        rules=rules,
        zt=prep.zt,
        ms=prep.ms,
        start=job.t_start,
        end=job.t_end,
        seed=job.seed,
        member=membership(chunk),
    )
    inp.orders_cust, inp.orders_t = order_stream(inp)
    touches = traverse(compiled, inp, job.node_codes)
    stats.extend(touches.stats)
    if not touches.cust:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(11)), stats
    cust = np.concatenate(touches.cust).astype(np.int64)
    t = np.concatenate(touches.t).astype(np.int64)
    journey = np.concatenate(touches.journey).astype(np.int64)
    node = np.concatenate(touches.node).astype(np.int64)
    entry = np.concatenate(touches.entry).astype(np.int64)
    opened = np.concatenate(touches.opened).astype(np.int64)
    clicked = np.concatenate(touches.clicked).astype(np.int64)
    order = np.lexsort((node, journey, t, cust))
    cust, t, journey, node, entry = cust[order], t[order], journey[order], node[order], entry[order]
    opened, clicked = opened[order], clicked[order]
    sched, status, reason, blocked = run_kernel(
        cust, t, node_ch[node], journey, node_tr[node], ctx, rules, prep.zt, prep.ms, n_journeys=len(compiled)
    )
    part = (
        cust + lo,
        t,
        journey,
        node,
        entry,
        sched,
        status.astype(np.int64),
        reason.astype(np.int64),
        blocked.astype(np.int64),
        opened,
        clicked,
    )
    return part, stats


def _assemble(
    parts: list[tuple[np.ndarray, ...]],
    prep: _Prepared,
    node_rows: list[tuple[Any, ...]],
    node_ch: np.ndarray,
    node_tr: np.ndarray,
    journey_ids: list[str],
    rules: Rules,
) -> pd.DataFrame:
    cols = [
        np.concatenate([p[i] for p in parts]).astype(np.int64, copy=False) if parts else np.zeros(0, dtype=np.int64)
        for i in range(11)
    ]
    cust, planned, journey, node, entry, sched, status, reason, blocked, opened, clicked = cols
    went = status != 2
    steps = np.array([r[1] for r in node_rows] or [""], dtype=object)
    templates = np.array([r[3] for r in node_rows] or [""], dtype=object)
    variants = np.array([r[4] for r in node_rows] or [""], dtype=object)
    local = prep.zt.local(sched, prep.zone1[cust]) if len(cust) else np.zeros(0, dtype=np.int64)

    def labels(values: np.ndarray) -> pd.Categorical:
        # the code of each send node, then one gather per touch (not a lookup of every touch's text)
        cats = list(dict.fromkeys(values.tolist()))
        codes = pd.Index(cats).get_indexer(values)[node] if len(node) else np.zeros(0, dtype=np.int64)
        return pd.Categorical.from_codes(codes, categories=cats)

    return pd.DataFrame(
        {
            "customer_id": prep.id_array(cust),
            "journey_id": pd.Categorical.from_codes(journey, categories=journey_ids or []),
            "step_id": labels(steps),
            "channel": pd.Categorical.from_codes(node_ch[node], categories=["email", "sms"]),
            "template": labels(templates),
            "variant": labels(variants),
            "transactional": node_tr[node],
            "entry": entry.astype(np.int32),
            "planned_at": _utc(planned),
            "scheduled_at": _utc(sched),
            "local_time": pd.DatetimeIndex((local * 60_000_000).view("datetime64[us]")),
            "timezone": pd.Categorical.from_codes(prep.timezone_code[cust], categories=list(prep.timezone_names)),
            "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
            "reason": pd.Categorical.from_codes(reason, categories=rules.reasons.names),
            "blocked_by": pd.Categorical.from_codes(blocked, categories=journey_ids or []),
            "opened": (opened > 0) & went,
            "clicked": (clicked > 0) & went,
            "engagement_tier": pd.Categorical.from_codes(prep.tier_code[cust], categories=list(TIERS)),
        },
        copy=False,
    )


def _utc(minutes: np.ndarray) -> pd.DatetimeIndex:
    """UTC times (microseconds) of minutes since the epoch, without parsing: a view of the scaled integers."""
    return pd.DatetimeIndex((minutes * 60_000_000).view("datetime64[us]")).tz_localize("UTC")


def _journey_stats(stats: list[dict[str, Any]], journey_ids: list[str]) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for s in stats:
        row = out.setdefault(
            s["journey"],
            {"journey_id": journey_ids[s["journey"]], "entries": 0, "customers": 0, "goal_exits": 0, "holdout": 0},
        )
        for k in ("entries", "customers", "goal_exits", "holdout"):
            row[k] += int(s[k])
    return [out[k] for k in sorted(out)]


def apply_policy(
    touches: pd.DataFrame,
    customers: pd.DataFrame,
    policy: ContactPolicy | Mapping[str, Any] | None = None,
    *,
    consents: pd.DataFrame | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The kernel alone: decide each candidate touch under the policy (no journeys, no draws).

    Parameters
    ----------
    touches
        ``customer_id``, ``journey_id``, ``channel`` (email/sms) and
        ``planned_at`` (tz-aware); optional ``step_id`` and ``transactional``.
    customers
        One row per customer, as for :func:`simulate` (zones, country,
        region, consent and address columns, optional ``engagement_score``
        and frequency preference).
    consents
        The consent ledger; without it the customers' consent columns hold.

    Returns
    -------
    DataFrame
        The touches with ``scheduled_at``, ``local_time``, ``timezone``,
        ``status``, ``reason`` and ``blocked_by`` added, in the input order.
    """
    policy = _as_policy(policy)
    missing = [c for c in ("customer_id", "journey_id", "channel", "planned_at") if c not in touches.columns]
    if missing:
        msg = (
            f"apply_policy: touches lack {', '.join(missing)}. "
            "Fix: give customer_id, journey_id, channel and planned_at (UTC)"
        )
        raise SimulationError(msg)
    customers = customers.reset_index(drop=True)
    planned = pd.to_datetime(touches["planned_at"], utc=True).dt.as_unit("s").astype("int64").to_numpy() // 60
    if len(planned) == 0:
        return touches.assign(
            scheduled_at=touches["planned_at"], status=pd.Series(dtype="string"), reason=pd.Series(dtype="string")
        )
    t0, t1 = int(planned.min()), int(planned.max())
    rules = Rules(policy)
    prep = _Prepared(
        customers,
        policy,
        start=t0,
        end=t1 + 1,
        consents=consents,
        engagement_as_of=pd.Timestamp(t0 * 60, unit="s", tz="UTC"),
        rules=rules,
    )
    cust = pd.Index(prep.ids).get_indexer(touches["customer_id"].astype("string").to_numpy())
    if (cust < 0).any():
        bad = touches["customer_id"].to_numpy()[cust < 0]
        msg = (
            f"apply_policy: {int((cust < 0).sum())} touches for customers not in customers "
            f"(e.g. {', '.join(map(str, bad[:5]))}). Fix: pass every customer of the touches"
        )
        raise SimulationError(msg)
    ch = touches["channel"].astype("string").str.lower().map(_CH)
    if ch.isna().any():
        msg = "apply_policy: channel must be email or sms. Fix: correct the channel column"
        raise SimulationError(msg)
    journey_codes, journey_ids = pd.factorize(touches["journey_id"].astype("string").to_numpy())
    trans = (
        touches["transactional"].fillna(False).to_numpy(dtype=bool)
        if "transactional" in touches.columns
        else np.zeros(len(touches), dtype=bool)
    )
    order = np.lexsort((np.arange(len(touches)), planned, cust))
    ctx = prep.context(0, prep.n)
    sched, status, reason, blocked = run_kernel(
        cust[order].astype(np.int64),
        planned[order],
        ch.to_numpy()[order].astype(np.int64),
        journey_codes[order].astype(np.int64),
        trans[order],
        ctx,
        rules,
        prep.zt,
        prep.ms,
        n_journeys=len(journey_ids),
    )
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    sched, status, reason, blocked = sched[inv], status[inv], reason[inv], blocked[inv]
    local = prep.zt.local(sched, prep.zone1[cust])
    ids = [str(j) for j in journey_ids]
    return touches.assign(
        scheduled_at=pd.to_datetime(sched * 60, unit="s", utc=True).as_unit("us"),
        local_time=pd.to_datetime(local * 60, unit="s").as_unit("us"),
        timezone=prep.timezone_names[prep.timezone_code[cust]],
        status=pd.Categorical.from_codes(status.astype(np.int64), categories=list(STATUSES)),
        reason=np.array(rules.reasons.names, dtype=object)[reason],
        blocked_by=np.array([*ids, None], dtype=object)[np.where(blocked >= 0, blocked, len(ids))],
    )


def plan_categories(
    audience: pd.DataFrame, journeys: JourneysInput, policy: ContactPolicy | Mapping[str, Any] | None = None
) -> dict[str, list[Any]]:
    """The categories of each categorical column of :func:`simulate`'s plan for this audience and journeys.

    A plan made part by part elsewhere (a Spark partition per group of
    customers, written as plain text) becomes the plan :func:`simulate` returns
    with :func:`plan_from_rows` and these.
    """
    policy = _as_policy(policy)
    compiled = [compile_journey(j, i) for i, j in enumerate(resolve_journeys(journeys))]
    nodes = [node for cj in compiled for node in cj.order if node.type in ("send_email", "send_sms")]
    journey_ids = [cj.journey.id for cj in compiled]
    primary = _column(audience, "timezone", "UTC").astype("string").fillna("UTC")
    _, uniques = pd.factorize(primary.to_numpy(dtype=object))
    return {
        "journey_id": journey_ids,
        "step_id": list(dict.fromkeys(n.id for n in nodes)) or [""],
        "channel": ["email", "sms"],
        "template": list(dict.fromkeys(n.template for n in nodes)) or [""],
        "variant": list(dict.fromkeys(n.variant for n in nodes)) or [""],
        "timezone": [z if is_valid_zone(z) else "UTC" for z in uniques],
        "status": list(STATUSES),
        "reason": Rules(policy).reasons.names,
        "blocked_by": journey_ids,
        "engagement_tier": list(TIERS),
    }


def plan_from_rows(rows: pd.DataFrame, categories: Mapping[str, list[Any]]) -> pd.DataFrame:
    """A plan of plain columns (text, times) with the types :func:`simulate` gives (see :func:`plan_categories`)."""
    out = {}
    for column in PLAN_COLUMNS:
        values = rows[column]
        if column in categories:
            text = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
            out[column] = pd.Categorical(text, categories=categories[column])
        elif column == "entry":
            out[column] = values.to_numpy(dtype=np.int32)
        elif column in ("transactional", "opened", "clicked"):
            out[column] = values.to_numpy(dtype=bool)
        elif column == "customer_id":
            out[column] = pd.array(values.to_numpy(dtype=object), dtype="string")
        elif column == "local_time":
            out[column] = pd.to_datetime(values).dt.tz_localize(None).astype("datetime64[us]").to_numpy()
        else:
            out[column] = pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
    return pd.DataFrame(out)
