"""From a dataset and a strategy to a send plan, and the command-line edge that reads and writes files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .engagement import engagement_score
from .simulate import _as_policy, resolve_start, simulate
from .summary import summarize

__all__ = ["plan_from_dataset", "simulate_command"]


def plan_from_dataset(
    dataset: Any,
    strategy: Any,
    *,
    start: object,
    days: int,
    seed: int,
    as_of: object = None,
    policy_overrides: Mapping[str, Any] | None = None,
    chunk_size: int = 50_000,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profiles, segments and engagement from a dataset, then the send plan of the strategy's journeys.

    ``as_of`` (default: the day before ``start``) is when profiles are
    computed. Returns ``(plan, audience)``.
    """
    from ..profiles import build_profiles
    from ..segments import assign

    start_ts = resolve_start(start)
    if as_of is None:
        as_of = (start_ts - pd.Timedelta(days=1)).date()
    policy = _as_policy(strategy.policy).with_overrides(policy_overrides)
    profiles = build_profiles(dataset, as_of=as_of)
    audience = assign(profiles, strategy)
    scores = engagement_score(
        dataset, as_of=as_of, weights=policy.adaptive.weights, half_life_days=policy.adaptive.half_life_days
    )
    audience = audience.merge(scores, on="customer_id", how="left")
    customers = dataset.customers
    if policy.frequency_column in customers.columns and policy.frequency_column not in audience.columns:
        audience = audience.merge(customers[["customer_id", policy.frequency_column]], on="customer_id", how="left")
    plan = simulate(
        audience,
        strategy,
        policy,
        start=start_ts,
        days=days,
        seed=seed,
        consents=dataset.consents,
        chunk_size=chunk_size,
        progress=progress,
    )
    return plan, audience


def simulate_command(
    strategy_path: str | os.PathLike[str],
    data_path: str | os.PathLike[str],
    start: str,
    days: int,
    seed: int,
    out: str | os.PathLike[str],
    *,
    as_of: str | None = None,
    policy_overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Path]:
    """``workbench simulate``: write the plan to ``out`` (Parquet) and the summaries beside it as CSV.

    The summaries are ``<out stem>.<name>.csv`` for each table of
    :func:`~workbench.cadence.summarize`. Returns the written paths by name.
    """
    from ..sources import load_dataset, write_table
    from ..strategy import load_strategy

    strategy = load_strategy(strategy_path)
    dataset = load_dataset(data_path)
    plan, audience = plan_from_dataset(
        dataset,
        strategy,
        start=start,
        days=int(days),
        seed=int(seed),
        as_of=as_of,
        policy_overrides=policy_overrides,
        progress=progress,
    )
    target = Path(out)
    if target.suffix != ".parquet":
        target = target / "send_plan.parquet" if not target.suffix else target.with_suffix(".parquet")
    written = {"send_plan": write_table(plan, target)}
    for name, table in summarize(plan, audience, days=int(days)).items():
        written[name] = write_table(table, target.with_name(f"{target.stem}.{name}.csv"))
    return written
