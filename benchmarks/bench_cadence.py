"""Cadence: the sample strategy's journeys for 90 days over 100k and 1M customers, against sorting the touches.

Target (issue 17): 1M customers x 90 days in <= 10 s on 2 cores, the plan identical for a given seed.

The audience is built once from a 20,000-customer synthetic dataset (profiles
and segments) and tiled to the wanted size with new customer ids, which is
much faster than synthesising a million customers and keeps every profile
realistic. The floor is a sort of the same candidate touches by customer and
time (what any per-customer cadence check must at least do).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import measure, table

ROOT = Path(__file__).resolve().parents[1]
START = "2026-11-01"
DAYS = 90
_BASE_SIZE = 20_000
TARGET_S = 10.0


def _base() -> tuple[pd.DataFrame, object]:
    from workbench.io import load_strategy
    from workbench.profiles import build_profiles
    from workbench.segments import assign
    from workbench.synth import synthesize
    from workbench.value import customer_value

    strategy = load_strategy(ROOT / "data" / "strategy.yaml")
    ds = synthesize(_BASE_SIZE, seed=5)
    profiles = build_profiles(ds, as_of="2026-10-31")
    # the predicted value columns some segment rules read, as a workspace adds them
    value = customer_value(profiles).frame.drop(columns="customer_id")
    profiles = pd.concat([profiles, value.set_axis(profiles.index)], axis=1)
    return assign(profiles, strategy), strategy


def audience_of(size: int) -> tuple[pd.DataFrame, object]:
    """An audience of ``size`` customers (tiled profiles with unique ids) and the sample strategy."""
    base, strategy = _base()
    reps = -(-size // len(base))
    idx = np.tile(np.arange(len(base)), reps)[:size]
    aud = base.iloc[idx].reset_index(drop=True)
    aud["customer_id"] = pd.array(np.char.add("B", np.char.zfill(np.arange(size).astype(str), 8)), dtype="string")
    return aud, strategy


def setup(size: int) -> tuple[pd.DataFrame, object]:
    return audience_of(size)


def subject(inputs: tuple[pd.DataFrame, object]) -> pd.DataFrame:
    from workbench.cadence import simulate

    audience, strategy = inputs
    return simulate(audience, strategy, strategy.policy, start=START, days=DAYS, seed=1, progress=False)


def setup_floor(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The candidate touches of the same run (customer index and planned minute), shuffled."""
    plan = subject(audience_of(size))
    cust = pd.factorize(plan["customer_id"])[0].astype(np.int64)
    t = plan["planned_at"].dt.as_unit("s").astype("int64").to_numpy() // 60
    order = np.random.default_rng(0).permutation(len(cust))
    return cust[order], t[order]


def floor(inputs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    cust, t = inputs
    return np.lexsort((t, cust))


def run(quick: bool) -> str:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    rows = []
    for size in sizes:
        sim = measure(
            "benchmarks.bench_cadence:setup", "benchmarks.bench_cadence:subject", size, repeat=1 if quick else 2
        )
        base = measure("benchmarks.bench_cadence:setup_floor", "benchmarks.bench_cadence:floor", size, repeat=3)
        rows.append(
            {
                "customers": f"{size:,}",
                "simulate_s": f"{sim['median_s']:.2f}",
                "min_s": f"{sim['min_s']:.2f}",
                "sort_floor_s": f"{base['median_s']:.2f}",
                "ratio": f"{sim['median_s'] / max(base['median_s'], 1e-9):.1f}x",
                "peak_mb": f"{sim['peak_mb']:.0f}",
                "floor_peak_mb": f"{base['peak_mb']:.0f}",
                "s_per_100k": f"{sim['median_s'] / size * 100_000:.2f}",
                "target": (f"<= {TARGET_S:.0f} s: " + ("yes" if sim["median_s"] <= TARGET_S else "no"))
                if size == 1_000_000
                else "",
            }
        )
    note = (
        f"\nTarget: 1M customers in <= {TARGET_S:.0f} s on 2 cores (the chunks of customers run on every core; "
        f"{_cores()} here), time linear in customers (s_per_100k flat). {DAYS} days from {START}, sample strategy "
        "journeys, seed 1. The floor sorts the same run's touches by customer and time; peaks are above the "
        "process's size after setup."
    )
    return table(rows, list(rows[0])) + note


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
