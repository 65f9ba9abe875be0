"""Predictive customer value: BG/NBD purchases and P(alive), Gamma-Gamma spend, and customer lifetime value.

The models are those of lifetimes 0.11.3, fitted by maximum likelihood and
predicting with the same formulas:

- **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy
  way"): while alive a customer buys as a Poisson process of rate λ ~
  Gamma(r, α); after each purchase they die with probability p ~ Beta(a, b).
  :func:`fit_bgnbd` takes lifetimes' summary columns ``frequency`` (repeat
  purchases), ``recency`` (time from the first to the last purchase) and
  ``T`` (time from the first purchase to the end of the observation period),
  all in one time unit of your choice; ``alpha`` is then in that unit and
  every prediction must use the same unit. The workbench's profiles are in
  days (:func:`workbench.profiles.build_profiles`).
- **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV"): the mean spend
  of a customer's repeat purchases, shrunk towards the population mean;
  :func:`fit_gamma_gamma` takes ``frequency`` and ``monetary_value`` of the
  repeat buyers. It assumes that spend does not depend on frequency: a
  :class:`ModelAssumptionWarning` says when the two are correlated.
- :func:`p_alive`, :func:`expected_purchases`, :func:`expected_spend` and
  :func:`clv` are lifetimes' ``conditional_probability_alive``,
  ``conditional_expected_number_of_purchases_up_to_time``,
  ``conditional_expected_average_profit`` and ``customer_lifetime_value``
  (monthly discounting), evaluated in log space so that large frequencies
  and long histories stay finite.
- :func:`customer_value` applies them to profiles (the columns a segment
  rule can use) and :func:`calibration_holdout` is the standard check: fit on
  a calibration period, compare predicted with actual repeat purchases in the
  holdout period.

Fitting is deterministic: the same data gives the same parameters. The
optimiser (BFGS, then Newton steps on the exact gradient) works on the mean
negative log-likelihood over log parameters, with time rescaled so the
longest ``T`` is 1, as lifetimes does; standard errors come from the
Hessian of the log-likelihood by the delta method (lifetimes' definition).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from .models.errors import DataContractError, WorkbenchError
from .profiles import order_summary, resolve_as_of

__all__ = [
    "BGNBD_PARAMS",
    "GAMMA_GAMMA_PARAMS",
    "VALUE_COLUMNS",
    "BGNBDModel",
    "CalibrationHoldout",
    "ConvergenceError",
    "CustomerValue",
    "GammaGammaModel",
    "ModelAssumptionWarning",
    "NotIdentifiedError",
    "SummaryDataError",
    "ValueModelError",
    "bgnbd_log_likelihood",
    "calibration_holdout",
    "calibration_summary",
    "clv",
    "customer_value",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "p_alive",
]

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "v")

#: Periods of the summary's time unit in one month, as lifetimes' ``customer_lifetime_value`` counts them.
PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 720.0}
DAYS_PER_MONTH = 30.0

_START = 0.1  # lifetimes' starting point: every log parameter at 0.1
_GRADIENT_TOLERANCE = 1e-6  # largest gradient of the mean log-likelihood accepted at the optimum
_LOG_PARAM_LIMIT = 20.0  # a log parameter beyond this (time scaled to max T = 1) ran to 0 or infinity
# The likelihood is flat at a maximum whose Hessian's smallest eigenvalue is under this share of its largest
# (a condition number past 1e8). Identified fits here have 1e-5 and more; a ridge running to a = 0,
# b = infinity is stopped by the gradient tolerance anywhere from 1e-11 down, depending on the
# arithmetic of the machine, so the bound sits well away from both.
_FLAT = 1e-8
_HESSIAN_STEP = 1e-6
_A_NEAR_ONE = 1e-7


# ---------------------------------------------------------------- errors


class ValueModelError(WorkbenchError):
    """A value model cannot be fitted to, or applied to, this customer summary."""


class SummaryDataError(DataContractError, ValueModelError):
    """The summary has missing, negative or inconsistent values (names the column, count and example rows)."""


class NotIdentifiedError(ValueModelError):
    """The data cannot identify the model (no customers, no repeat buyers, parameters running to infinity)."""


class ConvergenceError(ValueModelError):
    """The maximum-likelihood fit did not converge."""


class ModelAssumptionWarning(UserWarning):
    """The data break an assumption of the model (e.g. spend correlated with frequency in Gamma-Gamma)."""


# ---------------------------------------------------------------- fitted models


@dataclass(frozen=True)
class BGNBDModel:
    """A fitted BG/NBD model.

    ``params`` maps ``r``, ``alpha``, ``a``, ``b`` to their estimates
    (``alpha`` in the time unit of the summary it was fitted on);
    ``standard_errors`` the same keys to their standard errors;
    ``log_likelihood`` is the total over customers (in that time unit).
    """

    params: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    iterations: int

    def summary(self) -> pd.DataFrame:
        """``model``, ``param``, ``estimate``, ``standard_error``, ``ci_low``, ``ci_high`` (95%, normal)."""
        return _param_table("BG/NBD", self.params, self.standard_errors)


@dataclass(frozen=True)
class GammaGammaModel:
    """A fitted Gamma-Gamma spend model.

    ``params`` maps ``p``, ``q``, ``v``; ``correlation`` is the Pearson
    correlation of frequency and monetary value over the repeat buyers it was
    fitted on (the model assumes none); ``population_mean`` is the mean spend
    per purchase it implies, ``v·p/(q − 1)`` (infinite when ``q ≤ 1``).
    """

    params: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    n_customers: int
    correlation: float
    iterations: int

    @property
    def population_mean(self) -> float:
        p, q, v = (self.params[k] for k in GAMMA_GAMMA_PARAMS)
        return v * p / (q - 1) if q > 1 else math.inf

    def summary(self) -> pd.DataFrame:
        """``model``, ``param``, ``estimate``, ``standard_error``, ``ci_low``, ``ci_high`` (95%, normal)."""
        return _param_table("Gamma-Gamma", self.params, self.standard_errors)


def _param_table(name: str, params: Mapping[str, float], errors: Mapping[str, float]) -> pd.DataFrame:
    est = np.array(list(params.values()), dtype=float)
    se = np.array([errors[k] for k in params], dtype=float)
    return pd.DataFrame(
        {
            "model": name,
            "param": list(params),
            "estimate": est,
            "standard_error": se,
            "ci_low": est - 1.96 * se,
            "ci_high": est + 1.96 * se,
        }
    )


# ---------------------------------------------------------------- checking the summary


def _ids(summary: pd.DataFrame, mask: np.ndarray) -> tuple[list[object], str]:
    """Up to five ids of the rows in ``mask``: ``customer_id`` when the frame has it, else the index."""
    if "customer_id" in summary.columns:
        return summary["customer_id"].to_numpy()[mask][:5].tolist(), "customer_id"
    return summary.index.to_numpy()[mask][:5].tolist(), summary.index.name or "row"


def _column(summary: pd.DataFrame, name: str, table: str) -> np.ndarray:
    if name not in summary.columns:
        have = ", ".join(map(str, summary.columns[:12])) or "none"
        raise SummaryDataError(
            table,
            name,
            f"missing column (columns found: {have})",
            remedy="pass lifetimes' summary columns frequency, recency, T (and monetary_value), e.g. the profiles "
            "of workbench.profiles.build_profiles",
        )
    values: np.ndarray = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        ids, label = _ids(summary, bad)
        raise SummaryDataError(
            table,
            name,
            "value is missing or not a finite number",
            count=int(bad.sum()),
            examples=ids,
            id_column=label,
            remedy=f"give every customer a number in {name}, or leave those customers out",
        )
    return values


def _fail(summary: pd.DataFrame, mask: np.ndarray, table: str, column: str, problem: str, remedy: str) -> None:
    if mask.any():
        ids, label = _ids(summary, mask)
        raise SummaryDataError(
            table, column, problem, count=int(mask.sum()), examples=ids, id_column=label, remedy=remedy
        )


def _rfm(summary: pd.DataFrame, table: str = "summary") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``frequency``, ``recency``, ``T`` as float arrays, checked as lifetimes checks them (and a little more)."""
    if not isinstance(summary, pd.DataFrame):
        msg = f"{table} must be a DataFrame with columns frequency, recency and T, not {type(summary).__name__}"
        raise SummaryDataError(table, None, msg)
    x = _column(summary, "frequency", table)
    tx = _column(summary, "recency", table)
    t = _column(summary, "T", table)
    fix = "build the summary with workbench.profiles.order_summary or lifetimes' summary_data_from_transaction_data"
    _fail(summary, x < 0, table, "frequency", "frequency is negative", fix)
    _fail(summary, x != np.floor(x), table, "frequency", "frequency is not a whole number of repeat purchases", fix)
    _fail(summary, tx < 0, table, "recency", "recency is negative, the last purchase before the first", fix)
    _fail(
        summary,
        tx > t,
        table,
        "recency",
        "recency is greater than T, the last purchase after the end of the period",
        fix,
    )
    _fail(
        summary, (x == 0) & (tx != 0), table, "recency", "recency is not 0 for a customer without repeat purchases", fix
    )
    return x, tx, t


# ---------------------------------------------------------------- BG/NBD likelihood


@dataclass(frozen=True)
class _BGData:
    """A summary split for the likelihood: customers without repeat purchases grouped by ``T``, the rest as is."""

    t0: np.ndarray  # distinct T of the customers with x = 0
    w0: np.ndarray  # how many customers with x = 0 have each of them
    x: np.ndarray  # frequency, recency and T of the repeat buyers
    tx: np.ndarray
    t: np.ndarray
    ux: np.ndarray  # distinct frequencies of the repeat buyers
    inv: np.ndarray  # position of each repeat buyer's frequency in ux
    count: np.ndarray  # repeat buyers per distinct frequency
    n: int


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values, the position of each value among them, and their counts (``np.unique``'s three results).

    Whole numbers up to a few million (frequencies, days) are counted with
    ``bincount`` in one pass instead of sorting.
    """
    if len(values) and values.min() >= 0 and values.max() < 2**22 and np.array_equal(values, np.floor(values)):
        whole = values.astype(np.int64)
        counts = np.bincount(whole)
        present = counts > 0
        lookup = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(values.dtype), lookup[whole], counts[present]
    return np.unique(values, return_inverse=True, return_counts=True)


def _bg_data(x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> _BGData:
    zero = x == 0
    t0, _, w0 = _factorize(t[zero])
    repeat = ~zero
    ux, inv, count = _factorize(x[repeat])
    return _BGData(t0, w0.astype(float), x[repeat], tx[repeat], t[repeat], ux, inv, count.astype(float), len(x))


def _bg_objective(logp: np.ndarray, d: _BGData, *, gradient: bool = True) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of BG/NBD and its gradient in log parameters.

    The log-likelihood of one customer (Fader, Hardie & Lee 2005, section 7,
    as in lifetimes)::

        A1 = lnΓ(r+x) − lnΓ(r) + r ln α
        A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x)
        A3 = −(r+x) ln(α+T)
        A4 = ln a − ln(b+x−1) − (r+x) ln(α+tₓ)            (x > 0 only)
        ℓ  = A1 + A2 + ln(e^A3 + e^A4)

    Without repeat purchases ``ℓ = r ln α − r ln(α+T)``, summed once per
    distinct ``T``; terms of ``x`` alone are computed once per distinct frequency.
    """
    r, alpha, a, b = np.exp(logp)
    ux, cnt = d.ux, d.count
    ln_at0 = np.log(alpha + d.t0)
    rx = r + d.x
    ln_at = np.log(alpha + d.t)
    ln_ax = np.log(alpha + d.tx)
    ln_ab_u = np.log(a) - np.log(b + ux - 1)
    a3 = -rx * ln_at
    a4 = ln_ab_u[d.inv] - rx * ln_ax
    lse = np.logaddexp(a3, a4)
    per_x = gammaln(r + ux) - gammaln(r) + gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux)
    total = cnt @ per_x + d.n * r * np.log(alpha) + lse.sum() - r * (d.w0 @ ln_at0)
    f = -total / d.n
    if not gradient:
        return float(f), np.zeros(4)
    w4 = np.exp(a4 - lse)
    w3 = 1.0 - w4
    d_r = (
        cnt @ (digamma(r + ux) - digamma(r))
        + d.n * np.log(alpha)
        - (w3 * ln_at).sum()
        - (w4 * ln_ax).sum()
        - d.w0 @ ln_at0
    )
    d_alpha = (
        d.n * r / alpha - (rx * (w3 / (alpha + d.t) + w4 / (alpha + d.tx))).sum() - r * (d.w0 @ (1 / (alpha + d.t0)))
    )
    w4_u = np.bincount(d.inv, weights=w4, minlength=len(ux))
    d_a = cnt @ (digamma(a + b) - digamma(a + b + ux)) + w4_u.sum() / a
    d_b = cnt @ (digamma(a + b) + digamma(b + ux) - digamma(b) - digamma(a + b + ux)) - w4_u @ (1.0 / (b + ux - 1))
    grad = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b]) / d.n
    return float(f), grad


def bgnbd_log_likelihood(summary: pd.DataFrame, params: Mapping[str, float]) -> float:
    """Total BG/NBD log-likelihood of ``summary`` (``frequency``, ``recency``, ``T``) at ``params``.

    The same function :func:`fit_bgnbd` maximises, in the summary's time unit;
    use it to compare two sets of parameters (e.g. another library's) on the
    same data.
    """
    x, tx, t = _rfm(summary)
    logp = np.log([float(params[k]) for k in BGNBD_PARAMS])
    f, _ = _bg_objective(logp, _bg_data(x, tx, t), gradient=False)
    return -f * len(x)


# ---------------------------------------------------------------- Gamma-Gamma likelihood


@dataclass(frozen=True)
class _GGData:
    x: np.ndarray
    m: np.ndarray
    ux: np.ndarray
    count: np.ndarray
    sum_x_ln_m: float
    sum_ln_m: float
    sum_x_ln_x: float
    n: int


def _gg_data(x: np.ndarray, m: np.ndarray) -> _GGData:
    ux, count = np.unique(x, return_counts=True)
    ln_m = np.log(m)
    return _GGData(x, m, ux, count.astype(float), float(x @ ln_m), float(ln_m.sum()), float(x @ np.log(x)), len(x))


def _gg_objective(logp: np.ndarray, d: _GGData, *, gradient: bool = True) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of Gamma-Gamma and its gradient in log parameters (lifetimes' likelihood)::

    ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(xm+v)
    """
    p, q, v = np.exp(logp)
    ux, cnt = d.ux, d.count
    ln_xmv = np.log(d.x * d.m + v)
    total = (
        cnt @ (gammaln(p * ux + q) - gammaln(p * ux))
        - d.n * gammaln(q)
        + d.n * q * np.log(v)
        + p * d.sum_x_ln_m
        - d.sum_ln_m
        + p * d.sum_x_ln_x
        - (p * d.x + q) @ ln_xmv
    )
    f = -total / d.n
    if not gradient:
        return float(f), np.zeros(3)
    d_p = cnt @ (ux * (digamma(p * ux + q) - digamma(p * ux))) + d.sum_x_ln_m + d.sum_x_ln_x - d.x @ ln_xmv
    d_q = cnt @ digamma(p * ux + q) - d.n * digamma(q) + d.n * np.log(v) - ln_xmv.sum()
    d_v = d.n * q / v - ((p * d.x + q) / (d.x * d.m + v)).sum()
    grad = -np.array([d_p * p, d_q * q, d_v * v]) / d.n
    return float(f), grad


def _repeat_spend(summary: pd.DataFrame, table: str = "summary") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, monetary value and the repeat-buyer mask, checked."""
    if not isinstance(summary, pd.DataFrame):
        msg = f"{table} must be a DataFrame with columns frequency and monetary_value, not {type(summary).__name__}"
        raise SummaryDataError(table, None, msg)
    x = _column(summary, "frequency", table)
    m = _column(summary, "monetary_value", table)
    fix = "build the summary with workbench.profiles.order_summary or lifetimes' summary_data_from_transaction_data"
    _fail(summary, x < 0, table, "frequency", "frequency is negative", fix)
    _fail(summary, x != np.floor(x), table, "frequency", "frequency is not a whole number of repeat purchases", fix)
    _fail(summary, m < 0, table, "monetary_value", "monetary_value is negative", fix)
    return x, m, x > 0


def gamma_gamma_log_likelihood(summary: pd.DataFrame, params: Mapping[str, float]) -> float:
    """Total Gamma-Gamma log-likelihood of the repeat buyers of ``summary`` at ``params`` (``p``, ``q``, ``v``)."""
    x, m, repeat = _repeat_spend(summary)
    logp = np.log([float(params[k]) for k in GAMMA_GAMMA_PARAMS])
    f, _ = _gg_objective(logp, _gg_data(x[repeat], m[repeat]), gradient=False)
    return -f * int(repeat.sum())


# ---------------------------------------------------------------- maximum likelihood


def _hessian(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], at: np.ndarray, grad: np.ndarray
) -> np.ndarray:
    """Hessian of the objective by forward differences of its exact gradient (``grad`` is the gradient at ``at``)."""
    k = len(at)
    h = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = _HESSIAN_STEP
        h[:, i] = (objective(at + step)[1] - grad) / _HESSIAN_STEP
    return (h + h.T) / 2


def _newton(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], at: np.ndarray, max_steps: int = 20
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int]:
    """Newton steps with a backtracking line search from ``at`` until the gradient vanishes or stops improving.

    Returns the point, the objective, gradient and Hessian there, and the number of steps.
    """
    f, g = objective(at)
    hess = _hessian(objective, at, g)
    steps = 0
    for _ in range(max_steps):
        if not np.all(np.isfinite(g)) or np.max(np.abs(g)) < 1e-10 or np.any(np.abs(at) > _LOG_PARAM_LIMIT):
            break
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        decrement = step @ g  # predicted decrease ×2; ≤ 0: not a descent direction, not near a maximum
        if not np.isfinite(decrement) or decrement <= 1e-15 * max(1.0, abs(f)):
            break
        t = 1.0
        while t > 1e-4:
            new = at - t * step
            fn, gn = objective(new)
            if np.isfinite(fn) and fn < f:
                break
            t /= 2
        else:
            break
        at, f, g = new, fn, gn
        steps += 1
        hess = _hessian(objective, at, g)
    return at, float(f), g, hess, steps


def _maximise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    names: tuple[str, ...],
    model: str,
    unscale: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Log parameters at the maximum, the Hessian there (of the mean negative log-likelihood) and iterations.

    BFGS from ``start`` (default lifetimes' starting point), then Newton steps with a backtracking
    line search until the gradient vanishes. Raises :class:`NotIdentifiedError`
    when a parameter runs to 0 or infinity or the likelihood is flat in some
    direction, :class:`ConvergenceError` when the gradient does not vanish.
    ``unscale`` is added to the log parameters shown in those messages (to
    show ``alpha`` in the summary's time unit).
    """
    with np.errstate(all="ignore"):
        at, f, g, hess, iterations = np.full(len(names), np.nan), np.inf, np.full(len(names), np.nan), None, 0
        if start is not None:  # close to the optimum already: Newton converges in a few steps
            at, f, g, hess, iterations = _newton(objective, start)
        if hess is None or not np.max(np.abs(g)) <= _GRADIENT_TOLERANCE:
            res = minimize(objective, np.full(len(names), _START), jac=True, method="BFGS", options={"gtol": 1e-9})
            at, f, g, hess, more = _newton(objective, res.x)
            iterations += int(res.nit) + more
    params = dict(zip(names, np.exp(at if unscale is None else at + unscale), strict=True))
    shown = ", ".join(f"{k} = {v:.4g}" for k, v in params.items())
    converged = bool(np.isfinite(f) and np.all(np.isfinite(g)) and np.max(np.abs(g)) <= _GRADIENT_TOLERANCE)
    limit = _LOG_PARAM_LIMIT if converged else _LOG_PARAM_LIMIT / 2  # not converged and far out: still running
    edge = [
        f"{k} ran to {'0' if v < 0 else 'infinity'}"
        for k, v in zip(names, at, strict=True)
        if abs(v) > limit or not np.isfinite(v)
    ]
    if edge:
        msg = (
            f"{model}: parameter {', '.join(edge)} ({shown}): the data cannot identify the model. "
            "Fix: use a longer history or more customers"
        )
        raise NotIdentifiedError(msg)
    if not converged:
        msg = (
            f"{model}: the maximum-likelihood fit did not converge after {iterations} iterations "
            f"(largest gradient {np.max(np.abs(g)):.3g}; {shown}). Fix: check the summary for extreme values "
            "(e.g. a time unit that makes T very large or very small)"
        )
        raise ConvergenceError(msg)
    eig = np.linalg.eigvalsh(hess) if np.all(np.isfinite(hess)) else np.array([-1.0])
    if eig.min() <= _FLAT * max(eig.max(), 1.0):
        msg = (
            f"{model}: the log-likelihood is flat at its maximum ({shown}), so the data cannot identify the "
            "parameters. Fix: use a longer history or more customers"
        )
        raise NotIdentifiedError(msg)
    return at, hess, iterations


def _standard_errors(at: np.ndarray, hess: np.ndarray, n: int, names: tuple[str, ...]) -> dict[str, float]:
    """Delta method: se(θ) = θ · √diag((n·H)⁻¹), H the Hessian of the mean negative log-likelihood in ln θ."""
    cov = np.linalg.inv(hess) / n
    return dict(zip(names, np.exp(at) * np.sqrt(np.clip(np.diag(cov), 0, None)), strict=True))


def _warm_start(x: np.ndarray, tx: np.ndarray, t: np.ndarray, size: int = 20_000) -> np.ndarray | None:
    """For a large summary, the optimum of an evenly spaced subset of ``size`` customers (where the full fit starts)."""
    if len(x) <= 3 * size:
        return None
    every = np.arange(0, len(x), len(x) // size)
    if not (x[every] > 0).any():
        return None
    sub = _bg_data(x[every], tx[every], t[every])
    with np.errstate(all="ignore"):
        res = minimize(lambda p: _bg_objective(p, sub), np.full(4, _START), jac=True, method="BFGS")
    return res.x if np.all(np.isfinite(res.x)) and np.all(np.abs(res.x) < _LOG_PARAM_LIMIT / 2) else None


def fit_bgnbd(summary: pd.DataFrame) -> BGNBDModel:
    """Fit the BG/NBD model by maximum likelihood (no penalty, like lifetimes' ``penalizer_coef=0``).

    Parameters
    ----------
    summary
        One row per customer with ``frequency`` (repeat purchases, a whole
        number), ``recency`` (first to last purchase) and ``T`` (first purchase
        to the end of the observation period), both in one time unit (the
        profiles use days); other columns are ignored.

    Returns
    -------
    BGNBDModel
        ``params`` (``r``, ``alpha``, ``a``, ``b``; ``alpha`` in the summary's
        time unit), ``standard_errors``, ``log_likelihood`` (total).

    Raises
    ------
    SummaryDataError
        A value is missing, negative, not whole (frequency), or inconsistent
        (recency > T, or recency ≠ 0 without repeat purchases): names the
        column, the number of rows and example ids.
    NotIdentifiedError
        No customers, no repeat buyers, all ``T`` zero, or parameters running to 0 or infinity.
    ConvergenceError
        The optimiser did not reach a maximum.
    """
    x, tx, t = _rfm(summary)
    n = len(x)
    if n == 0:
        msg = "BG/NBD: the summary has no customers. Fix: pass the profiles of customers with at least one order"
        raise NotIdentifiedError(msg)
    if not (x > 0).any():
        msg = (
            f"BG/NBD: none of the {n:,} customers has a repeat purchase (frequency is 0 for all), so the purchase "
            "and dropout rates cannot be told apart. Fix: use a longer history (an earlier first order or a later "
            "as_of)"
        )
        raise NotIdentifiedError(msg)
    t_max = float(t.max())
    if t_max <= 0:
        msg = f"BG/NBD: T is 0 for all {n:,} customers (every first purchase on the last day). Fix: use a later as_of"
        raise NotIdentifiedError(msg)
    scale = 1.0 / t_max
    scaled = _bg_data(x, tx * scale, t * scale)
    unscale = np.array([0.0, -np.log(scale), 0.0, 0.0])  # alpha back in the summary's time unit
    at, hess, iterations = _maximise(
        lambda p: _bg_objective(p, scaled), BGNBD_PARAMS, "BG/NBD", unscale, _warm_start(x, tx * scale, t * scale)
    )
    at = at + unscale
    params = dict(zip(BGNBD_PARAMS, (float(v) for v in np.exp(at)), strict=True))
    unscaled = replace(scaled, t0=scaled.t0 / scale, tx=scaled.tx / scale, t=scaled.t / scale)
    f, _ = _bg_objective(at, unscaled, gradient=False)
    return BGNBDModel(
        params=MappingProxyType(params),
        standard_errors=MappingProxyType(_standard_errors(at, hess, n, BGNBD_PARAMS)),
        log_likelihood=-f * n,
        n_customers=n,
        n_repeat_buyers=int((x > 0).sum()),
        iterations=iterations,
    )


def fit_gamma_gamma(summary: pd.DataFrame, *, max_correlation: float = 0.3) -> GammaGammaModel:
    """Fit the Gamma-Gamma spend model by maximum likelihood on the repeat buyers of ``summary``.

    Parameters
    ----------
    summary
        One row per customer with ``frequency`` and ``monetary_value`` (mean
        value of the repeat purchases, lifetimes' definition); only rows with
        ``frequency > 0`` are used, and their ``monetary_value`` must be positive.
    max_correlation
        Warn (:class:`ModelAssumptionWarning`) when the absolute Pearson
        correlation of frequency and monetary value over the repeat buyers is
        above this: the model assumes they are independent.

    Returns
    -------
    GammaGammaModel
        ``params`` (``p``, ``q``, ``v``), ``standard_errors``, ``log_likelihood``, ``correlation``.

    Raises
    ------
    SummaryDataError
        Missing or negative values, or a repeat buyer with a monetary value of 0.
    NotIdentifiedError
        Fewer than two repeat buyers, or parameters running to 0 or infinity.
    ConvergenceError
        The optimiser did not reach a maximum.
    """
    x, m, repeat = _repeat_spend(summary)
    _fail(
        summary,
        repeat & (m <= 0),
        "summary",
        "monetary_value",
        "monetary_value is 0 for a repeat buyer (the Gamma-Gamma model needs positive spend)",
        "leave those customers out of the spend model (e.g. summary[summary.monetary_value > 0])",
    )
    n = int(repeat.sum())
    if n < 2:
        msg = (
            f"Gamma-Gamma: {n} repeat buyer{'s' if n != 1 else ''} among {len(x):,} customers; the spend model "
            "needs customers with frequency > 0. Fix: use a longer history"
        )
        raise NotIdentifiedError(msg)
    xr, mr = x[repeat], m[repeat]
    with np.errstate(all="ignore"):
        corr = float(np.corrcoef(xr, mr)[0, 1]) if xr.std() > 0 and mr.std() > 0 else 0.0
    if abs(corr) > max_correlation:
        msg = (
            f"Gamma-Gamma assumes spend per purchase does not depend on purchase frequency, but over the {n:,} "
            f"repeat buyers frequency and monetary_value have a Pearson correlation of {corr:.3f} (above "
            f"{max_correlation:g}): expected spend and CLV will be biased"
        )
        warnings.warn(msg, ModelAssumptionWarning, stacklevel=2)
    data = _gg_data(xr, mr)
    at, hess, iterations = _maximise(lambda p: _gg_objective(p, data), GAMMA_GAMMA_PARAMS, "Gamma-Gamma")
    f, _ = _gg_objective(at, data, gradient=False)
    return GammaGammaModel(
        params=MappingProxyType(dict(zip(GAMMA_GAMMA_PARAMS, (float(v) for v in np.exp(at)), strict=True))),
        standard_errors=MappingProxyType(_standard_errors(at, hess, n, GAMMA_GAMMA_PARAMS)),
        log_likelihood=-f * n,
        n_customers=n,
        correlation=corr,
        iterations=iterations,
    )


# ---------------------------------------------------------------- predictions


def _bg_params(model: BGNBDModel) -> tuple[float, float, float, float]:
    if not isinstance(model, BGNBDModel):
        msg = f"expected a fitted BG/NBD model (from fit_bgnbd), not {type(model).__name__}"
        raise ValueModelError(msg)
    r, alpha, a, b = (model.params[k] for k in BGNBD_PARAMS)
    return r, alpha, a, b


def _log_dead_odds(
    params: tuple[float, float, float, float], x: np.ndarray, tx: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """ln of a/(b+x−1)·((α+T)/(α+tₓ))^(r+x) for x > 0 and −∞ for x = 0: P(alive) = 1/(1 + e^this)."""
    r, alpha, a, b = params
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
    return np.where(repeat, out, -np.inf)


def p_alive(model: BGNBDModel, summary: pd.DataFrame) -> pd.Series:
    """Probability that each customer is still alive (lifetimes' ``conditional_probability_alive``).

    ``1 / (1 + a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x))`` for a customer with repeat
    purchases, and exactly 1 without: in BG/NBD a customer can only drop out
    right after a purchase. ``recency`` and ``T`` must be in the time unit the
    model was fitted in.

    Returns
    -------
    pandas.Series
        ``p_alive``, indexed like ``summary``.
    """
    params = _bg_params(model)
    x, tx, t = _rfm(summary)
    return pd.Series(expit(-_log_dead_odds(params, x, tx, t)), index=summary.index, name="p_alive")


def _euler_hyp2f1(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t: np.ndarray, horizon: float
) -> np.ndarray:
    """``₂F₁(a+b−1−r, a−1; a+b+x−1; z)`` with ``z = horizon/(α+T+horizon)``.

    scipy's hyp2f1 loses precision (or returns NaN) as z → 1 when
    ``c − a' − b' = x + r − a + 1`` is an integer or within a hair of one;
    there it is the mean of the two neighbours ``c ± 1e-5`` (error about 1e-10).
    """
    c = a + b + x - 1
    z = -np.expm1(np.log(alpha + t) - np.log(alpha + t + horizon))
    h: np.ndarray = hyp2f1(a + b - 1 - r, a - 1, c, z)
    gap = x + r - a + 1
    near = ~np.isfinite(h) | (np.abs(gap - np.round(gap)) < 1e-6)
    if near.any():
        h = h.copy()
        cn, zn = c[near], z[near]
        h[near] = (hyp2f1(a + b - 1 - r, a - 1, cn + 1e-5, zn) + hyp2f1(a + b - 1 - r, a - 1, cn - 1e-5, zn)) / 2
    return h


def _distinct_pairs(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``fn(x, t)`` evaluated once per distinct (x, t) pair when there are few (whole days repeat a lot)."""
    n = len(x)
    if n < 10_000:
        return fn(x, t)
    ux, ix, _ = _factorize(x)
    ut, it, _ = _factorize(t)
    if len(ux) * len(ut) > 2**62:
        return fn(x, t)
    keys, at, _ = _factorize(ix.astype(np.int64) * len(ut) + it)
    if len(keys) > n // 2:
        return fn(x, t)
    values: np.ndarray = fn(ux[keys // len(ut)], ut[keys % len(ut)])[at]
    return values


def _expected(
    params: tuple[float, float, float, float], x: np.ndarray, tx: np.ndarray, t: np.ndarray, horizon: float
) -> np.ndarray:
    """Equation (10) of Fader, Hardie & Lee (2005), with Euler's transformation of the hypergeometric term.

    lifetimes computes ``1 − ₂F₁(r+x, b+x; a+b+x−1; z)·(1−z)^(r+x)`` with
    ``z = t/(α+T+t)`` (and falls back to Euler's form when that overflows). By
    Euler, ``₂F₁(r+x, b+x; c; z) = (1−z)^(a−1−r−x)·₂F₁(a+b−1−r, a−1; c; z)`` with ``c = a+b+x−1``,
    so the term is ``1 − ₂F₁(a+b−1−r, a−1; a+b+x−1; z)·(1−z)^(a−1)``: the
    frequency enters only through ``c``, and nothing grows with it.
    """
    r, alpha, a, b = params
    x, tx, t = np.asarray(x, dtype=float), np.asarray(tx, dtype=float), np.asarray(t, dtype=float)
    if abs(a - 1) < _A_NEAR_ONE:  # 0/0 at a = 1 exactly; the limit is continuous, so step just beside it
        a = 1 + math.copysign(_A_NEAR_ONE, a - 1)
        params = (r, alpha, a, b)
    c = a + b + x - 1
    ln_1mz = np.log(alpha + t) - np.log(alpha + t + horizon)
    with np.errstate(all="ignore"):
        h = _distinct_pairs(lambda xs, ts: _euler_hyp2f1(r, alpha, a, b, xs, ts, horizon), x, t)
        ln_rest = (a - 1) * ln_1mz
        second = np.where(h > 0, -np.expm1(np.log(np.where(h > 0, h, 1.0)) + ln_rest), 1 - h * np.exp(ln_rest))
        first = c / (a - 1)
        expected: np.ndarray = first * second * expit(-_log_dead_odds(params, x, tx, t))
    return expected


def expected_purchases(model: BGNBDModel, summary: pd.DataFrame, t: float) -> pd.Series:
    """Expected repeat purchases of each customer in the next ``t`` time units.

    lifetimes' ``conditional_expected_number_of_purchases_up_to_time``: ``t``,
    ``recency`` and ``T`` in the time unit the model was fitted in (days for
    the profiles, where a "purchase" is a purchase day, as lifetimes counts).

    Returns
    -------
    pandas.Series
        ``expected_purchases``, indexed like ``summary``.
    """
    params = _bg_params(model)
    horizon = float(t)
    if not np.isfinite(horizon) or horizon < 0:
        msg = f"the horizon t must be a non-negative number of time units, not {t!r}"
        raise ValueModelError(msg)
    x, tx, tt = _rfm(summary)
    return pd.Series(_expected(params, x, tx, tt, horizon), index=summary.index, name="expected_purchases")


def _gg_params(model: GammaGammaModel) -> tuple[float, float, float]:
    if not isinstance(model, GammaGammaModel):
        msg = f"expected a fitted Gamma-Gamma model (from fit_gamma_gamma), not {type(model).__name__}"
        raise ValueModelError(msg)
    p, q, v = (model.params[k] for k in GAMMA_GAMMA_PARAMS)
    if q <= 1:
        msg = (
            f"Gamma-Gamma: q = {q:.4g} ≤ 1, so the fitted spend distribution has no finite mean and expected "
            "spend cannot be computed. Fix: check monetary_value for extreme values (returns, wholesale orders)"
        )
        raise NotIdentifiedError(msg)
    return p, q, v


def expected_spend(gg_model: GammaGammaModel, summary: pd.DataFrame) -> pd.Series:
    """Expected spend per purchase of each customer (lifetimes' ``conditional_expected_average_profit``).

    ``(1 − w)·v·p/(q−1) + w·m`` with ``w = p·x/(p·x + q − 1)``: the customer's
    mean repeat spend ``m`` shrunk towards the population mean; a customer
    without repeat purchases gets the population mean.

    Returns
    -------
    pandas.Series
        ``expected_spend``, indexed like ``summary``.
    """
    p, q, v = _gg_params(gg_model)
    x, m, _ = _repeat_spend(summary)
    weight = p * x / (p * x + q - 1)
    out = (1 - weight) * (v * p / (q - 1)) + weight * m
    return pd.Series(out, index=summary.index, name="expected_spend")


def _month_edges(horizon_days: float, freq: str) -> list[tuple[float, float]]:
    """(end of period in summary time units, discount exponent in months) for each period of the horizon."""
    months = horizon_days / DAYS_PER_MONTH
    whole = math.floor(months + 1e-9)
    exponents = [float(i) for i in range(1, whole + 1)]
    if months - whole > 1e-9:
        exponents.append(months)
    per_month = PERIODS_PER_MONTH[freq]
    return [(e * per_month, e) for e in exponents]


def clv(
    bg: BGNBDModel,
    gg: GammaGammaModel,
    summary: pd.DataFrame,
    horizon_days: float = 365.0,
    discount_rate: float = 0.01,
    *,
    freq: str = "D",
) -> pd.Series:
    """Discounted customer lifetime value over ``horizon_days`` (lifetimes' ``customer_lifetime_value``).

    The horizon is cut into months of 30 days; each month's expected
    purchases (the difference of :func:`expected_purchases` at its end and its
    start) times :func:`expected_spend` is discounted by ``(1 +
    discount_rate)^i`` for month ``i``. A horizon that is not a whole number
    of months ends with a part month discounted at its fractional exponent,
    so for a multiple of 30 days this equals lifetimes'
    ``customer_lifetime_value(time=horizon_days / 30, discount_rate=..., freq=freq)``.

    Parameters
    ----------
    bg, gg
        Fitted models; the BG/NBD model in the summary's time unit.
    summary
        ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    horizon_days
        How far ahead, in days.
    discount_rate
        The **monthly** discount rate (lifetimes' default 0.01 ≈ 12.7% a year).
    freq
        The summary's time unit: ``D`` (days, the profiles), ``W``, ``M`` or ``H``,
        with lifetimes' months of 30 days, 4.345 weeks, 1 month or 720 hours.

    Returns
    -------
    pandas.Series
        ``clv``, indexed like ``summary``.
    """
    if freq not in PERIODS_PER_MONTH:
        msg = f"unknown time unit freq={freq!r}. Fix: use one of {', '.join(PERIODS_PER_MONTH)}"
        raise ValueModelError(msg)
    if not np.isfinite(horizon_days) or horizon_days < 0:
        msg = f"horizon_days must be a non-negative number of days, not {horizon_days!r}"
        raise ValueModelError(msg)
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        msg = f"discount_rate is a monthly rate above -1 (e.g. 0.01), not {discount_rate!r}"
        raise ValueModelError(msg)
    params = _bg_params(bg)
    spend = expected_spend(gg, summary).to_numpy()
    x, tx, t = _rfm(summary)
    total = np.zeros(len(x))
    before = np.zeros(len(x))
    for end, exponent in _month_edges(horizon_days, freq):
        upto = _expected(params, x, tx, t, end)
        total += spend * (upto - before) / (1 + discount_rate) ** exponent
        before = upto
    return pd.Series(total, index=summary.index, name="clv")


# ---------------------------------------------------------------- on profiles


@dataclass(frozen=True)
class CustomerValue:
    """Predicted value of each customer, with the models behind it and notes for a report.

    ``frame`` has ``customer_id``, ``p_alive``, ``expected_orders_90d``,
    ``expected_orders_365d``, ``expected_spend`` and ``clv_<horizon>d``, one
    row per profile in the profiles' order. ``bg`` and ``gg`` are the fitted
    models (None when the data could not identify one); ``notes`` say what was
    left out and why.
    """

    frame: pd.DataFrame
    bg: BGNBDModel | None
    gg: GammaGammaModel | None
    horizon_days: float
    discount_rate: float
    notes: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # the value columns of frame, in order

    def parameters(self) -> pd.DataFrame:
        """Both models' parameters with standard errors and 95% intervals (empty when neither was fitted)."""
        parts = [m.summary() for m in (self.bg, self.gg) if m is not None]
        if not parts:
            return pd.DataFrame(columns=["model", "param", "estimate", "standard_error", "ci_low", "ci_high"])
        return pd.concat(parts, ignore_index=True)

    def notes_markdown(self) -> str:
        """The notes as a Markdown list."""
        return "\n".join(f"- {n}" for n in self.notes)


#: The predicted-value columns the workspace adds to profiles (segment rules may read them).
VALUE_COLUMNS = ("p_alive", "expected_orders_90d", "expected_orders_365d", "expected_spend", "clv_365d")


def customer_value(
    profiles: pd.DataFrame,
    *,
    horizon_days: float = 365.0,
    discount_rate: float = 0.01,
    max_correlation: float = 0.3,
) -> CustomerValue:
    """P(alive), expected orders and CLV of every profile, from BG/NBD and Gamma-Gamma fitted on the profiles.

    Parameters
    ----------
    profiles
        ``customer_id`` (else the index is the id), ``frequency``, ``recency``,
        ``T`` and ``monetary_value`` in days, lifetimes' definitions (as from
        :func:`workbench.profiles.build_profiles`). Rows with
        ``orders_total == 0`` (no purchase yet), when that column is present,
        are not customers of the model and get missing values.
    horizon_days, discount_rate
        CLV horizon in days and **monthly** discount rate (see :func:`clv`).
    max_correlation
        Passed to :func:`fit_gamma_gamma`; the warning becomes a note.

    Returns
    -------
    CustomerValue
        ``frame`` with the columns ``customer_id``, ``p_alive``,
        ``expected_orders_90d``, ``expected_orders_365d`` (expected purchase
        days in the next 90 and 365 days), ``expected_spend`` (per purchase)
        and ``clv_<horizon_days>d``, plus the fitted models and notes. When
        the data cannot identify BG/NBD every value column is missing (NaN);
        with a ``currency`` column in ``profiles`` (each customer's, as the
        profiles give it), ``value_currency`` says which currency a row's spend
        and CLV are in, and customers of different currencies get a spend model
        each (BG/NBD counts purchases and is fitted once);
        when only the spend model fails, ``expected_spend`` and the CLV are;
        the notes say why. Invalid values (e.g. recency > T) still raise
        :class:`SummaryDataError`.
    """
    clv_column = f"clv_{horizon_days:g}d"
    columns = ("p_alive", "expected_orders_90d", "expected_orders_365d", "expected_spend", clv_column)
    ids = profiles["customer_id"] if "customer_id" in profiles.columns else pd.Series(profiles.index)
    n = len(profiles)
    frame = pd.DataFrame({"customer_id": ids.to_numpy()}, index=range(n))
    for c in columns:
        frame[c] = np.nan
    notes: list[str] = []
    if "orders_total" in profiles.columns:
        buyers = pd.to_numeric(profiles["orders_total"], errors="coerce").fillna(0).to_numpy() > 0
        if (~buyers).any():
            k = int((~buyers).sum())
            notes.append(
                f"{k:,} customer{' without a purchase has' if k == 1 else 's without a purchase have'} no "
                "predicted value."
            )
    else:
        buyers = np.ones(n, dtype=bool)
    summary = profiles.loc[buyers].reset_index(drop=True)
    at = np.flatnonzero(buyers)
    bg = gg = None
    try:
        bg = fit_bgnbd(summary)
    except (NotIdentifiedError, ConvergenceError) as exc:
        notes.append(f"No purchase model: {exc}")
    if bg is not None:
        frame.loc[at, "p_alive"] = p_alive(bg, summary).to_numpy()
        frame.loc[at, "expected_orders_90d"] = expected_purchases(bg, summary, 90).to_numpy()
        frame.loc[at, "expected_orders_365d"] = expected_purchases(bg, summary, 365).to_numpy()
        notes.append(
            f"BG/NBD fitted on {bg.n_customers:,} customers ({bg.n_repeat_buyers:,} with repeat purchases); "
            "P(alive) is 1 for a customer without a repeat purchase (the model lets customers drop out only "
            "after a purchase); expected orders count purchase days."
        )
        spend_ok = ~((summary["frequency"].to_numpy() > 0) & (summary["monetary_value"].to_numpy() <= 0))
        if (~spend_ok).any():
            notes.append(
                f"{int((~spend_ok).sum()):,} repeat buyers with no positive spend are left out of the spend model."
            )
        groups = _currency_groups(summary)
        fitted = []
        for code, in_group in groups:
            label = f"{code}: " if len(groups) > 1 else ""
            rows = spend_ok & in_group
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ModelAssumptionWarning)
                    group_gg = fit_gamma_gamma(summary.loc[rows], max_correlation=max_correlation)
                notes.extend(
                    f"Warning: {label}{w.message}." for w in caught if issubclass(w.category, ModelAssumptionWarning)
                )
                spend = expected_spend(group_gg, summary.loc[rows])
                value = clv(bg, group_gg, summary.loc[rows], horizon_days, discount_rate)
            except (NotIdentifiedError, ConvergenceError) as exc:
                notes.append(f"{label}No spend model, so no CLV: {exc}")
                continue
            frame.loc[at[rows], "expected_spend"] = spend.to_numpy()
            frame.loc[at[rows], clv_column] = value.to_numpy()
            fitted.append(group_gg)
            notes.append(
                f"{label}Gamma-Gamma fitted on {group_gg.n_customers:,} repeat buyers; CLV over {horizon_days:g} days "
                f"in months of 30 days discounted at {discount_rate:.2%} a month (lifetimes' customer_lifetime_value)."
            )
        if fitted:
            gg = max(fitted, key=lambda m: m.n_customers)
        if len(groups) > 1:
            notes.append(
                "Spend and CLV are in each customer's own currency, with a spend model per currency "
                f"({', '.join(c for c, _ in groups)}): amounts in different currencies are never fitted or added "
                "together; give the strategy exchange rates (measurement.exchange_rates) to have them in one."
            )
    if "currency" in profiles.columns:
        frame["value_currency"] = profiles["currency"].astype("string").to_numpy()
    return CustomerValue(
        frame=frame,
        bg=bg,
        gg=gg,
        horizon_days=float(horizon_days),
        discount_rate=float(discount_rate),
        notes=tuple(notes),
        columns=columns,
    )


def _currency_groups(summary: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """The profiles' currencies (a ``currency`` column), each with its rows; one group when there is none."""
    if "currency" not in summary.columns:
        return [("", np.ones(len(summary), dtype=bool))]
    code = summary["currency"].astype("string").fillna("").to_numpy(dtype=object)
    found = pd.Series(code).value_counts()
    if len(found) <= 1:
        return [(str(found.index[0]) if len(found) else "", np.ones(len(summary), dtype=bool))]
    return [(str(c), code == c) for c in found.index]


# ---------------------------------------------------------------- calibration and holdout


@dataclass(frozen=True)
class CalibrationHoldout:
    """The calibration/holdout check of BG/NBD.

    ``customers``: one row per customer with a purchase in the calibration
    period: ``customer_id``, ``frequency_cal``, ``recency_cal``, ``T_cal``,
    ``monetary_value_cal``, ``frequency_holdout`` (purchase days in the
    holdout), ``predicted_holdout``. ``by_frequency``: per calibration
    frequency, ``customers``, ``actual`` and ``predicted`` mean holdout
    purchases (lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``).
    """

    customers: pd.DataFrame
    by_frequency: pd.DataFrame
    model: BGNBDModel
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    holdout_days: float

    def totals(self) -> dict[str, float]:
        """Actual and predicted repeat purchases over all customers in the holdout, and their ratio."""
        actual = float(self.customers["frequency_holdout"].sum())
        predicted = float(self.customers["predicted_holdout"].sum())
        return {"actual": actual, "predicted": predicted, "ratio": predicted / actual if actual else math.nan}


def _day_end(value: object, name: str) -> pd.Timestamp:
    ts = resolve_as_of(value)
    if (ts + pd.Timedelta(microseconds=1)).normalize() != ts + pd.Timedelta(microseconds=1):
        msg = (
            f"{name} {value!r} is not a whole day: purchases are counted per UTC day, so the periods must end at "
            "the end of a day. Fix: pass a date such as 2011-06-30"
        )
        raise ValueModelError(msg)
    return ts


def calibration_summary(orders: pd.DataFrame, *, calibration_end: object, holdout_end: object) -> pd.DataFrame:
    """The calibration summary of each customer and their purchases in the holdout period (no model).

    The calibration summary is :func:`workbench.profiles.order_summary` at
    ``calibration_end`` (the profiles' definitions, in days). A customer's
    holdout purchases are the purchase days after ``calibration_end`` up to
    ``holdout_end``, counted by the same SQL (purchase days at
    ``holdout_end`` minus those at ``calibration_end``), for the customers who
    bought in the calibration period, as lifetimes'
    ``calibration_and_holdout_data`` counts them.

    Parameters
    ----------
    orders
        The orders table (``customer_id``, ``ordered_at``, ``amount``, optional ``status``).
    calibration_end, holdout_end
        Dates (each means the end of that UTC day); ``calibration_end`` first.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``monetary_value_cal``, ``frequency_holdout`` and ``duration_holdout``
        (days), one row per customer with a purchase by ``calibration_end``.
    """
    cal_end = _day_end(calibration_end, "calibration_end")
    hold_end = _day_end(holdout_end, "holdout_end")
    if hold_end <= cal_end:
        msg = f"holdout_end ({hold_end.date()}) must come after calibration_end ({cal_end.date()})"
        raise ValueModelError(msg)
    cal = order_summary(orders, as_of=cal_end)
    cal = cal[cal["orders_total"] > 0].reset_index(drop=True)
    full = order_summary(orders, as_of=hold_end).set_index("customer_id")
    holdout = full["frequency"].reindex(cal["customer_id"]).to_numpy() - cal["frequency"].to_numpy()
    return pd.DataFrame(
        {
            "customer_id": cal["customer_id"].to_numpy(),
            "frequency_cal": cal["frequency"].to_numpy(),
            "recency_cal": cal["recency"].to_numpy(),
            "T_cal": cal["T"].to_numpy(),
            "monetary_value_cal": cal["monetary_value"].to_numpy(),
            "frequency_holdout": holdout,
            "duration_holdout": float((hold_end.normalize() - cal_end.normalize()).days),
        }
    )


def calibration_holdout(orders: pd.DataFrame, *, calibration_end: object, holdout_end: object) -> CalibrationHoldout:
    """Fit BG/NBD on the calibration period and compare its predictions with the holdout period.

    The counts are those of :func:`calibration_summary`; the model is
    :func:`fit_bgnbd` on the calibration summary, and each customer's
    prediction is :func:`expected_purchases` over the holdout's length.

    Parameters
    ----------
    orders
        The orders table (``customer_id``, ``ordered_at``, ``amount``, optional ``status``).
    calibration_end, holdout_end
        Dates (each means the end of that UTC day); ``calibration_end`` first.

    Raises
    ------
    ValueModelError
        The dates are not whole days or not in order; :func:`fit_bgnbd`'s
        errors (a short calibration period often cannot identify the dropout
        process: then :class:`NotIdentifiedError`).
    """
    counts = calibration_summary(orders, calibration_end=calibration_end, holdout_end=holdout_end)
    cal = counts.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    model = fit_bgnbd(cal)
    days = float(counts["duration_holdout"].iloc[0]) if len(counts) else 0.0
    customers = counts.drop(columns="duration_holdout").assign(
        predicted_holdout=expected_purchases(model, cal, days).to_numpy()
    )
    grouped = customers.groupby("frequency_cal", sort=True)
    by_frequency = pd.DataFrame(
        {
            "customers": grouped.size(),
            "actual": grouped["frequency_holdout"].mean(),
            "predicted": grouped["predicted_holdout"].mean(),
        }
    ).reset_index()
    return CalibrationHoldout(
        customers=customers,
        by_frequency=by_frequency,
        model=model,
        calibration_end=_day_end(calibration_end, "calibration_end"),
        holdout_end=_day_end(holdout_end, "holdout_end"),
        holdout_days=days,
    )
