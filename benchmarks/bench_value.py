"""Predictive value: fit BG/NBD and predict P(alive) and 90-day purchases, against lifetimes and PyMC-Marketing.

Target (issue 14): at 100k customers at least 10x faster than lifetimes'
``BetaGeoFitter`` (fit with ``penalizer_coef=0``, then
``conditional_probability_alive`` and
``conditional_expected_number_of_purchases_up_to_time``).

The summaries are drawn from a BG/NBD process with a seed (parameters near the
published CDNOW estimates, in days): first purchases spread over two years,
purchase times rounded down to whole days, as the profiles count them.

PyMC-Marketing (``BetaGeoModel.fit(method="map")``: a MAP fit under its
default priors, so not the same estimate) is not a dependency of the project:
its row runs only when ``PYMC_MARKETING_PYTHON`` names an interpreter that has
it, in a process of its own; otherwise the row says why it is missing.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pandas as pd

from benchmarks.harness import ROOT, measure, table

SIZES = (10_000, 100_000, 1_000_000)
TRUE = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.4}  # days
HORIZON = 90.0
PYMC_ENV = "PYMC_MARKETING_PYTHON"
PYMC_MAX = 100_000  # larger MAP fits take minutes


def bgnbd_summary(n: int, seed: int = 14, days: int = 730) -> pd.DataFrame:
    """``n`` customers' frequency, recency and T (days) drawn from BG/NBD with :data:`TRUE`."""
    rng = np.random.default_rng(seed)
    t_end = rng.integers(1, days + 1, size=n).astype(float)  # days from first purchase to the end
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], size=n)
    p = rng.beta(TRUE["a"], TRUE["b"], size=n)
    freq = np.zeros(n)
    last = np.zeros(n)
    now = np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / lam[active])
        bought = active[now[active] <= t_end[active]]
        freq[bought] += 1
        last[bought] = now[bought]
        survive = rng.random(bought.size) >= p[bought]
        active = bought[survive]
    recency = np.where(freq > 0, np.floor(last), 0.0)
    return pd.DataFrame({"customer_id": np.arange(n), "frequency": freq, "recency": recency, "T": t_end})


def workbench_fit_predict(summary: pd.DataFrame) -> None:
    from workbench.value import expected_purchases, fit_bgnbd, p_alive

    model = fit_bgnbd(summary)
    p_alive(model, summary)
    expected_purchases(model, summary, HORIZON)


def lifetimes_fit_predict(summary: pd.DataFrame) -> None:
    import warnings

    from lifetimes import BetaGeoFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter(penalizer_coef=0.0).fit(summary["frequency"], summary["recency"], summary["T"])
        bg.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
        bg.conditional_expected_number_of_purchases_up_to_time(
            HORIZON, summary["frequency"], summary["recency"], summary["T"]
        )


def pymc_fit_predict(summary: pd.DataFrame) -> None:
    import warnings

    from pymc_marketing.clv import BetaGeoModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(data=summary)
        model.fit(method="map", progressbar=False)
        model.expected_probability_alive(data=summary)
        model.expected_purchases(data=summary, future_t=HORIZON)


def _pymc_row(n: int) -> dict[str, object] | str:
    """A measurement of PyMC-Marketing's MAP fit in its own interpreter, or the reason there is none."""
    python = os.environ.get(PYMC_ENV)
    if not python:
        return f"not run: set {PYMC_ENV} to a Python with pymc-marketing installed (not a project dependency)"
    if n > PYMC_MAX:
        return f"not run above {PYMC_MAX:,} customers (minutes per fit)"
    cmd = [python, "-m", "benchmarks.harness", "benchmarks.bench_value:bgnbd_summary",
           "benchmarks.bench_value:pymc_fit_predict", str(n), "1"]  # fmt: skip
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
    except subprocess.TimeoutExpired:
        return "not run: over 30 minutes"
    if done.returncode != 0:
        return "failed: " + done.stderr.strip().splitlines()[-1][:120]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> str:
    sizes = SIZES[:1] if quick else SIZES
    rows = []
    notes = []
    for n in sizes:
        wb = measure("benchmarks.bench_value:bgnbd_summary", "benchmarks.bench_value:workbench_fit_predict", n, 3)
        lt = measure(
            "benchmarks.bench_value:bgnbd_summary",
            "benchmarks.bench_value:lifetimes_fit_predict",
            n,
            1 if n >= 1_000_000 else 3,
            timeout=3600,
        )
        pm = _pymc_row(n)
        subjects: list[tuple[str, dict[str, float] | str]] = [
            ("workbench.value", wb),
            ("lifetimes 0.11.3", lt),
            ("pymc-marketing MAP", pm),
        ]
        for name, m in subjects:
            if isinstance(m, str):
                rows.append(
                    {"customers": f"{n:,}", "subject": name, "median_s": "-", "peak_mb": "-", "vs workbench": m}
                )
                continue
            rows.append(
                {
                    "customers": f"{n:,}",
                    "subject": name,
                    "median_s": f"{m['median_s']:.3f}",
                    "peak_mb": f"{m['peak_mb']:.0f}",
                    "vs workbench": f"{m['median_s'] / wb['median_s']:.1f}x slower" if m is not wb else "1.0x",
                }
            )
    notes.append("task: fit BG/NBD (no penalty) + P(alive) + expected purchases in 90 days, on a seeded BG/NBD draw")
    notes.append("target at 100k: lifetimes at least 10x slower than workbench.value")
    return table(rows, list(rows[0])) + "\n" + "\n".join(notes)
