"""Experiment statistics: planning (sample size, power, duration), arm comparisons, corrections, incrementality.

Every statistic is computed by statsmodels or scipy (named in each
docstring), so a result can be reproduced with those libraries alone; Holm's
adjustment is the one computed with numpy, in the arithmetic of statsmodels'
``multipletests``, whose result it equals.
Proportions use the two-independent-samples functions of
``statsmodels.stats.proportion`` (DOMAIN.md section 5: 3.0% vs 3.6% at
α = 0.05 and power 0.8 needs 13,914 per arm); means use Welch's t-test or a
seeded percentile bootstrap; several arms against one control are corrected
with Holm or Benjamini–Hochberg, always named (``multipletests``' own default
is Holm–Šidák).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict, Unpack

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    samplesize_proportions_2indep_onetail,
    test_proportions_2indep,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from ..models.errors import MeasurementError

__all__ = [
    "CORRECTIONS",
    "adjust_pvalues",
    "bootstrap_test",
    "compare_arms",
    "incrementality",
    "lift_by_segment",
    "minimum_detectable_effect",
    "plan_test",
    "power_means",
    "power_proportions",
    "proportion_test",
    "sample_size_means",
    "sample_size_proportions",
    "welch_test",
]

CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "bonferroni": "bonferroni", "none": None}
_RATIO_METHOD = {"score": "score", "wald": "log"}
Alternative = Literal["two-sided", "larger", "smaller"]


# ---------------------------------------------------------------- planning


def _check_prob(name: str, value: float) -> None:
    if not 0 < value < 1:
        msg = f"{name} = {value} is not a probability. Fix: pass a rate between 0 and 1, e.g. 0.03"
        raise MeasurementError(msg)


def sample_size_proportions(
    p_control: float,
    p_treatment: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> int:
    """Treatment-arm size to detect ``p_control`` → ``p_treatment`` (the control arm is ``ratio`` times as large).

    ``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail``,
    rounded up. 3.0% vs 3.6%, α = 0.05 two-sided, power 0.8 → 13,914.

    Examples
    --------
    >>> sample_size_proportions(0.03, 0.036)
    13914
    """
    _check_prob("p_control", p_control)
    _check_prob("p_treatment", p_treatment)
    if p_control == p_treatment:
        msg = "p_control equals p_treatment: no sample size detects a zero effect. Fix: pass an effect"
        raise MeasurementError(msg)
    n = samplesize_proportions_2indep_onetail(
        diff=p_treatment - p_control, prop2=p_control, power=power, ratio=ratio, alpha=alpha, alternative=alternative
    )
    return math.ceil(float(n) - 1e-9)


def sample_size_means(
    delta: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> int:
    """Treatment-arm size to detect a difference ``delta`` in means with standard deviation ``sd`` (t-test).

    ``statsmodels.stats.power.tt_ind_solve_power`` with effect size ``delta / sd``, rounded up.
    """
    if sd <= 0 or delta == 0:
        msg = "sample_size_means needs sd > 0 and a non-zero delta"
        raise MeasurementError(msg)
    n = tt_ind_solve_power(
        effect_size=abs(delta) / sd, nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative=alternative
    )
    return math.ceil(float(n) - 1e-9)


def power_proportions(
    p_control: float,
    p_treatment: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> float:
    """Power of a two-proportion test with ``n_per_arm`` treated (``statsmodels`` ``power_proportions_2indep``)."""
    res = power_proportions_2indep(
        diff=p_treatment - p_control,
        prop2=p_control,
        nobs1=n_per_arm,
        ratio=ratio,
        alpha=alpha,
        alternative=alternative,
        return_results=True,
    )
    return float(res.power)


def power_means(
    delta: float,
    sd: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> float:
    """Power of a two-sample t-test (``statsmodels`` ``tt_ind_solve_power``)."""
    return float(
        tt_ind_solve_power(
            effect_size=abs(delta) / sd, nobs1=n_per_arm, alpha=alpha, power=None, ratio=ratio, alternative=alternative
        )
    )


def minimum_detectable_effect(
    baseline: float,
    n_per_arm: float,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> float:
    """The smallest absolute increase over ``baseline`` detectable with ``n_per_arm`` (two-sided).

    For a rate (``sd`` None) it solves :func:`power_proportions` = ``power``;
    for a mean it is ``tt_ind_solve_power(effect_size=None, ...) * sd``.
    """
    if sd is not None:
        es = tt_ind_solve_power(effect_size=None, nobs1=n_per_arm, alpha=alpha, power=power, ratio=ratio)
        return float(es) * sd
    _check_prob("baseline", baseline)

    def gap(diff: float) -> float:
        return power_proportions(baseline, baseline + diff, n_per_arm, alpha=alpha, ratio=ratio) - power

    hi = 1 - baseline - 1e-9
    if gap(hi) < 0:
        msg = f"{n_per_arm:.0f} per arm cannot reach power {power} from a baseline of {baseline}"
        raise MeasurementError(msg)
    return float(optimize.brentq(gap, 1e-9, hi, xtol=1e-10))


def plan_test(
    baseline: float,
    lifts: Sequence[float],
    *,
    daily_audience: float,
    arms: int = 2,
    ratio: float = 1.0,
    sd: float | None = None,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
) -> pd.DataFrame:
    """How long a test must run: per-arm and total sample sizes and days, for each candidate lift.

    Parameters
    ----------
    baseline
        Control rate (a proportion) or, with ``sd``, control mean.
    lifts
        Effects to detect: relative (0.2 = +20%) when ``relative``, else absolute.
    daily_audience
        Eligible customers entering the test per day (all arms together).
    arms
        Number of arms including the control.
    ratio
        Control size over each treatment arm's size (e.g. a 10% holdout against
        one 90% treatment: ``ratio=1/9``).

    Returns
    -------
    pandas.DataFrame
        ``lift``, ``baseline``, ``target``, ``n_per_arm`` (each treatment arm),
        ``n_control``, ``total``, ``days`` (rounded up), ``weeks``.
    """
    if daily_audience <= 0:
        msg = "daily_audience must be positive: customers entering the test per day"
        raise MeasurementError(msg)
    rows = []
    for lift in lifts:
        target = baseline * (1 + lift) if relative else baseline + lift
        if sd is None:
            n = sample_size_proportions(baseline, target, alpha=alpha, power=power, ratio=ratio)
        else:
            n = sample_size_means(target - baseline, sd, alpha=alpha, power=power, ratio=ratio)
        control = math.ceil(n * ratio - 1e-9)
        total = n * (arms - 1) + control
        days = math.ceil(total / daily_audience)
        rows.append(
            {
                "lift": lift,
                "baseline": baseline,
                "target": target,
                "n_per_arm": n,
                "n_control": control,
                "total": total,
                "days": days,
                "weeks": round(days / 7, 1),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- tests


def proportion_test(
    count: int,
    nobs: int,
    count_control: int,
    nobs_control: int,
    *,
    alpha: float = 0.05,
    method: Literal["score", "wald"] = "score",
) -> dict[str, float]:
    """Two-proportion test of an arm against the control, with intervals for the difference and the ratio.

    ``statsmodels.stats.proportion.test_proportions_2indep`` (p-value) and
    ``confint_proportions_2indep`` (interval of the difference with the same
    ``method``; of the ratio with ``score`` or ``log``).

    Returns
    -------
    dict
        ``rate``, ``control_rate``, ``diff``, ``ci_low``, ``ci_high``,
        ``relative_lift``, ``relative_ci_low``, ``relative_ci_high``, ``p_value``.
    """
    rate, control_rate = count / nobs, count_control / nobs_control
    out = {
        "rate": rate,
        "control_rate": control_rate,
        "diff": rate - control_rate,
        "relative_lift": rate / control_rate - 1 if control_rate > 0 else np.nan,
    }
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out.update(_proportion_intervals(count, nobs, count_control, nobs_control, alpha=alpha, method=method))
    if not np.isfinite(out["relative_lift"]):
        out.update(relative_ci_low=np.nan, relative_ci_high=np.nan)
    return out


def _proportion_intervals(
    count: int, nobs: int, count_control: int, nobs_control: int, *, alpha: float, method: str
) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        test = test_proportions_2indep(
            count, nobs, count_control, nobs_control, method=method, compare="diff", return_results=True
        )
        low, high = confint_proportions_2indep(
            count, nobs, count_control, nobs_control, method=method, compare="diff", alpha=alpha
        )
        out.update(p_value=float(test.pvalue), ci_low=float(low), ci_high=float(high))
    except (ZeroDivisionError, ValueError, FloatingPointError):
        out.update(p_value=np.nan, ci_low=np.nan, ci_high=np.nan)
    try:
        rlow, rhigh = confint_proportions_2indep(
            count, nobs, count_control, nobs_control, method=_RATIO_METHOD[method], compare="ratio", alpha=alpha
        )
        out.update(relative_ci_low=float(rlow) - 1, relative_ci_high=float(rhigh) - 1)
    except (ZeroDivisionError, ValueError, FloatingPointError):
        out.update(relative_ci_low=np.nan, relative_ci_high=np.nan)
    return out


def _relative_delta(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Relative difference of means and its delta-method interval on the log scale."""
    mx, my = float(np.mean(x)), float(np.mean(y))
    if mx <= 0 or my <= 0:
        return (mx / my - 1 if my > 0 else np.nan), np.nan, np.nan
    se = math.sqrt(np.var(x, ddof=1) / (len(x) * mx**2) + np.var(y, ddof=1) / (len(y) * my**2))
    z = stats.norm.ppf(1 - alpha / 2)
    log_ratio = math.log(mx / my)
    return mx / my - 1, math.exp(log_ratio - z * se) - 1, math.exp(log_ratio + z * se) - 1


def _mean_comparison(
    a: np.ndarray, b: np.ndarray, ci_low: float, ci_high: float, p_value: float, alpha: float
) -> dict[str, float]:
    """The result of a comparison of means: both means, their difference with its interval, the relative lift, p."""
    rel, rlow, rhigh = _relative_delta(a, b, alpha)
    return {
        "mean": a.mean(),
        "control_mean": b.mean(),
        "diff": a.mean() - b.mean(),
        "ci_low": ci_low,
        "ci_high": ci_high,
        "relative_lift": rel,
        "relative_ci_low": rlow,
        "relative_ci_high": rhigh,
        "p_value": p_value,
    }


def welch_test(x: Sequence[float], y: Sequence[float], *, alpha: float = 0.05) -> dict[str, float]:
    """Welch's t-test of mean(x) − mean(y) (``scipy.stats.ttest_ind(equal_var=False)``).

    The interval is ``statsmodels`` ``CompareMeans.tconfint_diff(usevar="unequal")``;
    the relative lift's interval is the delta method on the log ratio.

    Returns
    -------
    dict
        ``mean``, ``control_mean``, ``diff``, ``ci_low``, ``ci_high``,
        ``relative_lift``, ``relative_ci_low``, ``relative_ci_high``, ``p_value``.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = stats.ttest_ind(a, b, equal_var=False).pvalue
        low, high = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(alpha=alpha, usevar="unequal")
    return _mean_comparison(a, b, float(low), float(high), float(p), alpha)


def _diff_of_means(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    diff: np.ndarray = np.mean(x, axis=axis) - np.mean(y, axis=axis)
    return diff


def bootstrap_test(
    x: Sequence[float],
    y: Sequence[float],
    *,
    alpha: float = 0.05,
    n_resamples: int = 5000,
    seed: int = 0,
    batch: int = 250,
) -> dict[str, float]:
    """Percentile bootstrap of mean(x) − mean(y), resampling each arm independently.

    ``scipy.stats.bootstrap((x, y), ..., method="percentile", rng=np.random.default_rng(seed))``.
    The two-sided p-value is twice the smaller share of bootstrap differences
    on either side of zero (the inversion of the percentile interval).
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    res = stats.bootstrap(
        (a, b),
        _diff_of_means,
        n_resamples=n_resamples,
        batch=batch,
        vectorized=True,
        method="percentile",
        confidence_level=1 - alpha,
        rng=np.random.default_rng(seed),
    )
    dist = res.bootstrap_distribution
    p = min(1.0, 2 * min(float(np.mean(dist <= 0)), float(np.mean(dist >= 0))))
    return _mean_comparison(a, b, float(res.confidence_interval.low), float(res.confidence_interval.high), p, alpha)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the arithmetic of ``multipletests(p, method="holm")[1]``.

    Sorted ascending, the i-th (from 0) of m p-values becomes the running
    maximum of ``(m - j) * p_(j)`` for j ≤ i, capped at 1, and is put back in
    the input order. statsmodels runs a full garbage collection on every Holm
    call, which costs tens of milliseconds per family in a large session.
    """
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def adjust_pvalues(p_values: Sequence[float], *, method: str = "holm", alpha: float = 0.05) -> np.ndarray:
    """Adjusted p-values (``statsmodels.stats.multitest.multipletests``); NaN stays NaN.

    ``method``: ``holm``, ``bh`` (Benjamini–Hochberg, ``fdr_bh``), ``bonferroni`` or ``none``.
    Holm is computed with numpy (:func:`_holm`), equal to ``multipletests(p, method="holm")[1]``.
    """
    if method not in CORRECTIONS:
        msg = f"unknown correction {method!r}. Fix: use one of {', '.join(CORRECTIONS)}"
        raise MeasurementError(msg)
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = np.isfinite(p)
    if CORRECTIONS[method] is None or not ok.any():
        return out
    if CORRECTIONS[method] == "holm":
        out[ok] = _holm(p[ok])
    else:
        out[ok] = multipletests(p[ok], alpha=alpha, method=CORRECTIONS[method])[1]
    return out


# ---------------------------------------------------------------- arms


def _kind(values: pd.Series) -> str:
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values.dtype):
        return "proportion"
    uniq = pd.unique(present.to_numpy())
    return "proportion" if len(uniq) <= 2 and set(np.asarray(uniq, dtype=float)) <= {0.0, 1.0} else "mean"


_FLOAT_COLUMNS = (
    "rate",
    "mean",
    "control_value",
    "lift_vs_control",
    "ci_low",
    "ci_high",
    "relative_lift",
    "relative_ci_low",
    "relative_ci_high",
    "p_value",
    "p_adjusted",
)
RESULT_COLUMNS = ["arm", "metric", "kind", "n", *_FLOAT_COLUMNS, "significant", "test", "correction"]


def compare_arms(
    units: pd.DataFrame,
    *,
    arm: str = "arm",
    control: str,
    metrics: Sequence[str],
    kinds: Mapping[str, str] | None = None,
    by: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    family: Literal["experiment", "metric", "all"] = "experiment",
    mean_test: Literal["welch", "bootstrap"] = "welch",
    proportion_method: Literal["score", "wald"] = "score",
    n_resamples: int = 5000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every arm against the control, for each metric: rates or means, lift with interval, p-values.

    Parameters
    ----------
    units
        One row per experimental unit (customer or message) with the ``arm``
        column and one column per metric (0/1 for rates, numbers for means).
    control
        The control arm's value in ``arm``.
    metrics
        Metric columns; ``kinds`` overrides the inferred kind (``proportion``
        when the values are 0/1, else ``mean``).
    by
        Columns that split the units into separate experiments (e.g.
        ``journey_id``, ``step_id``), each with its own control.
    correction, family
        ``holm``, ``bh``, ``bonferroni`` or ``none``, applied across the arms of
        one metric in one experiment (``experiment``), across all experiments of
        a metric (``metric``), or across everything (``all``).
    mean_test
        ``welch`` (:func:`welch_test`) or ``bootstrap`` (:func:`bootstrap_test`, seeded).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``arm``, ``metric``, ``kind``, ``n``, ``rate`` (for
        proportions), ``mean`` (for means), ``control_value``,
        ``lift_vs_control`` (absolute: arm − control), ``ci_low``, ``ci_high``
        (its interval at 1 − ``alpha``), ``relative_lift``,
        ``relative_ci_low``, ``relative_ci_high``, ``p_value``, ``p_adjusted``,
        ``significant`` (``p_adjusted`` < ``alpha``), ``test``, ``correction``.
        The control's own row has no lift or p-value.

    Examples
    --------
    >>> units = pd.DataFrame({"arm": ["a"] * 100 + ["b"] * 100, "y": [1] * 10 + [0] * 90 + [1] * 20 + [0] * 80})
    >>> compare_arms(units, control="a", metrics=["y"])[["arm", "rate", "lift_vs_control"]].round(2)
      arm  rate  lift_vs_control
    0   a   0.1              NaN
    1   b   0.2              0.1
    """
    by = list(by)
    missing = [c for c in [arm, *metrics, *by] if c not in units.columns]
    if missing:
        msg = (
            f"compare_arms: column {missing[0]!r} is not in the units table "
            f"(columns: {', '.join(map(str, units.columns[:15]))}). Fix: pass existing columns"
        )
        raise MeasurementError(msg)
    if correction not in CORRECTIONS:
        msg = f"unknown correction {correction!r}. Fix: use one of {', '.join(CORRECTIONS)}"
        raise MeasurementError(msg)
    if mean_test not in {"welch", "bootstrap"}:
        msg = f"unknown mean test {mean_test!r}. Fix: use 'welch' or 'bootstrap'"
        raise MeasurementError(msg)
    kinds = dict(kinds or {})
    metric_kind = {m: kinds.get(m) or _kind(units[m]) for m in metrics}
    arms_all = units[arm].astype("string")
    if not (arms_all == str(control)).any():
        found = ", ".join(sorted(arms_all.dropna().unique().tolist())[:10])
        msg = f"control arm {control!r} is not in column {arm!r} (arms: {found}). Fix: pass one of those as control"
        raise MeasurementError(msg)
    groups = (
        units.assign(_arm=arms_all).groupby(by, sort=True, dropna=False) if by else [((), units.assign(_arm=arms_all))]
    )
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = dict(zip(by, key, strict=True))
        ctrl = g[g["_arm"] == str(control)]
        if ctrl.empty:
            continue
        others = sorted(a for a in g["_arm"].dropna().unique() if a != str(control))
        for metric in metrics:
            kind = metric_kind[metric]
            y = ctrl[metric].dropna().to_numpy(dtype=float)
            rows.append(
                {
                    **base,
                    "arm": str(control),
                    "metric": metric,
                    "kind": kind,
                    "n": len(y),
                    "rate": y.mean() if kind == "proportion" and len(y) else np.nan,
                    "mean": y.mean() if kind == "mean" and len(y) else np.nan,
                    "control_value": y.mean() if len(y) else np.nan,
                    "test": "control",
                }
            )
            for other in others:
                x = g.loc[g["_arm"] == other, metric].dropna().to_numpy(dtype=float)
                row = {**base, "arm": other, "metric": metric, "kind": kind, "n": len(x)}
                if len(x) == 0 or len(y) == 0:
                    rows.append({**row, "test": "no data"})
                    continue
                if kind == "proportion":
                    r = proportion_test(
                        int(x.sum()), len(x), int(y.sum()), len(y), alpha=alpha, method=proportion_method
                    )
                    row.update(
                        rate=r["rate"], control_value=r["control_rate"], test=f"two proportions ({proportion_method})"
                    )
                else:
                    if len(x) < 2 or len(y) < 2:
                        rows.append({**row, "mean": x.mean(), "control_value": y.mean(), "test": "too few"})
                        continue
                    if mean_test == "welch":
                        r = welch_test(x, y, alpha=alpha)
                        row.update(test="welch t")
                    else:
                        r = bootstrap_test(x, y, alpha=alpha, n_resamples=n_resamples, seed=seed)
                        row.update(test=f"bootstrap ({n_resamples} resamples, seed {seed})")
                    row.update(mean=r["mean"], control_value=r["control_mean"])
                row.update(
                    lift_vs_control=r["diff"],
                    ci_low=r["ci_low"],
                    ci_high=r["ci_high"],
                    relative_lift=r["relative_lift"],
                    relative_ci_low=r["relative_ci_low"],
                    relative_ci_high=r["relative_ci_high"],
                    p_value=r["p_value"],
                )
                rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=[*by, *RESULT_COLUMNS])
    for col in _FLOAT_COLUMNS:
        out[col] = out[col].astype(float)
    if out.empty:
        return out
    fam = {"experiment": [*by, "metric"], "metric": ["metric"], "all": []}[family]
    if fam:
        out["p_adjusted"] = out.groupby(fam, sort=False, dropna=False)["p_value"].transform(
            lambda s: pd.Series(adjust_pvalues(s.to_numpy(), method=correction, alpha=alpha), index=s.index)
        )
    else:
        out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), method=correction, alpha=alpha)
    out["significant"] = (out["p_adjusted"] < alpha).where(out["p_adjusted"].notna())
    out["correction"] = f"{correction} ({family})" if correction != "none" else "none"
    out["n"] = out["n"].astype("int64")
    return out


class CompareOptions(TypedDict, total=False):
    """The options of :func:`compare_arms` that :func:`lift_by_segment` passes on as they are."""

    kinds: Mapping[str, str] | None
    mean_test: Literal["welch", "bootstrap"]
    proportion_method: Literal["score", "wald"]
    n_resamples: int
    seed: int


def lift_by_segment(
    units: pd.DataFrame,
    *,
    segment: str,
    arm: str = "arm",
    control: str,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    alpha: float = 0.05,
    correction: str = "holm",
    **options: Unpack[CompareOptions],
) -> pd.DataFrame:
    """:func:`compare_arms` within each value of ``segment``, corrected across segments and arms of a metric.

    Returns
    -------
    pandas.DataFrame
        ``segment_by`` (the column's name), ``segment`` (its value), then the
        columns of :func:`compare_arms`.
    """
    if segment not in units.columns:
        msg = (
            f"lift_by_segment: no column {segment!r} in the units table. Fix: pass an existing "
            f"column (columns: {', '.join(map(str, units.columns[:15]))})"
        )
        raise MeasurementError(msg)
    data = units.assign(_segment=units[segment].astype("string").fillna("(none)"))
    out = compare_arms(
        data,
        arm=arm,
        control=control,
        metrics=metrics,
        by=[*by, "_segment"],
        alpha=alpha,
        correction=correction,
        family="metric",
        **options,
    )
    out = out.rename(columns={"_segment": "segment"})
    out.insert(0, "segment_by", segment)
    cols = ["segment_by", *by, "segment", *[c for c in out.columns if c not in {"segment_by", "segment", *by}]]
    return out[cols]


def incrementality(
    units: pd.DataFrame,
    *,
    group: str = "group",
    holdout: str = "holdout",
    metrics: Sequence[str],
    by: Sequence[str] = (),
    alpha: float = 0.05,
    **options: object,
) -> pd.DataFrame:
    """Incremental effect of being treated against a holdout: absolute and relative lift with intervals.

    ``incremental`` is the absolute lift times the treated units (extra
    conversions or revenue the treatment caused), with its interval.

    Returns
    -------
    pandas.DataFrame
        The treated rows of :func:`compare_arms` (``holdout`` as control, no
        correction unless given) with ``holdout_n``, ``incremental``,
        ``incremental_low`` and ``incremental_high``.
    """
    options.setdefault("correction", "none")
    res = compare_arms(units, arm=group, control=holdout, metrics=metrics, by=by, alpha=alpha, **options)  # type: ignore[arg-type]
    keys = [*by, "metric"]
    holdout_n = res[res["arm"] == str(holdout)].set_index(keys)["n"].rename("holdout_n")
    treated = res[res["arm"] != str(holdout)].join(holdout_n, on=keys)
    treated["incremental"] = treated["lift_vs_control"] * treated["n"]
    treated["incremental_low"] = treated["ci_low"] * treated["n"]
    treated["incremental_high"] = treated["ci_high"] * treated["n"]
    return treated.reset_index(drop=True)
