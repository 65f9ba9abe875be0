"""Predictive value (BG/NBD, Gamma-Gamma, P(alive), CLV) against lifetimes 0.11.3 on real data, and its invariants."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value, load_dataset
from lifetimes.utils import ConvergenceError as LifetimesConvergenceError
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

from workbench import value
from workbench.io import load_online_retail
from workbench.models.errors import DataContractError, WorkbenchError
from workbench.profiles import build_profiles
from workbench.value import (
    BGNBDModel,
    ConvergenceError,
    GammaGammaModel,
    ModelAssumptionWarning,
    NotIdentifiedError,
    SummaryDataError,
    ValueModelError,
    bgnbd_log_likelihood,
    calibration_holdout,
    clv,
    customer_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
)

RTOL = 1e-4
UCI_AS_OF = "2011-12-09"


def lifetimes_bg(summary: pd.DataFrame) -> BetaGeoFitter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BetaGeoFitter(penalizer_coef=0.0).fit(summary["frequency"], summary["recency"], summary["T"])


def lifetimes_gg(summary: pd.DataFrame) -> GammaGammaFitter:
    rep = summary[summary["frequency"] > 0]
    return GammaGammaFitter(penalizer_coef=0.0).fit(rep["frequency"], rep["monetary_value"])


def lifetimes_nll(fitted: BetaGeoFitter, summary: pd.DataFrame, params: dict[str, float]) -> float:
    """lifetimes' own objective (mean negative log-likelihood on its time scale) at ``params``."""
    scale = 1.0 / summary["T"].max()
    logp = np.log([params["r"], params["alpha"] * scale, params["a"], params["b"]])
    f = summary["frequency"].to_numpy().astype(int)
    return float(
        fitted._negative_log_likelihood(
            logp, f, summary["recency"].to_numpy() * scale, summary["T"].to_numpy() * scale, np.ones_like(f), 0.0
        )
    )


def model(r=0.5, alpha=10.0, a=0.8, b=2.5) -> BGNBDModel:
    return BGNBDModel(
        params={"r": r, "alpha": alpha, "a": a, "b": b},
        standard_errors=dict.fromkeys(["r", "alpha", "a", "b"], 0.0),
        log_likelihood=0.0,
        n_customers=0,
        n_repeat_buyers=0,
        iterations=0,
    )


def assert_bg_matches_lifetimes(ours: BGNBDModel, ref: BetaGeoFitter, summary: pd.DataFrame) -> None:
    for k in value.BGNBD_PARAMS:
        assert ours.params[k] == pytest.approx(ref.params_[k], rel=RTOL), k
        assert ours.standard_errors[k] == pytest.approx(ref.standard_errors_[k], rel=1e-3), k
    # the same optimum: the log-likelihood at lifetimes' parameters is not higher than at ours
    ll_ref = bgnbd_log_likelihood(summary, ref.params_.to_dict())
    assert ours.log_likelihood >= ll_ref - 1e-6 * abs(ll_ref)
    assert lifetimes_nll(ref, summary, dict(ours.params)) <= ref._negative_log_likelihood_ + 1e-12
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_allclose(
        p_alive(ours, summary).to_numpy(), ref.conditional_probability_alive(f, r, t), rtol=RTOL, atol=0
    )
    for horizon in (1, 30, 90, 365):
        np.testing.assert_allclose(
            expected_purchases(ours, summary, horizon).to_numpy(),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t).to_numpy(),
            rtol=RTOL,
            atol=0,
            err_msg=f"t={horizon}",
        )


# ---------------------------------------------------------------- against lifetimes on real data


@pytest.fixture(scope="module")
def uci(real_data):
    """Our profiles and lifetimes' own summary of the UCI Online Retail purchases (the independent reference)."""
    retail = load_online_retail(real_data / "online_retail_uci" / "online_retail.csv.gz")
    o = retail.orders
    purchases = o[(o["status"] != "cancelled") & (o["amount"] >= 0)]
    purchases = purchases.assign(ordered_at=purchases["ordered_at"].dt.tz_localize(None))
    ref = summary_data_from_transaction_data(
        purchases, "customer_id", "ordered_at", monetary_value_col="amount", observation_period_end=UCI_AS_OF, freq="D"
    )
    profiles = build_profiles(retail, as_of=UCI_AS_OF)
    ours = profiles.set_index("customer_id").loc[ref.index].reset_index()
    return retail, ours, ref


@pytest.mark.real
def test_bgnbd_equals_lifetimes_on_online_retail(uci):
    _, ours, ref_summary = uci
    bg = fit_bgnbd(ours)
    ref = lifetimes_bg(ref_summary)
    assert bg.n_customers == len(ref_summary) > 4000
    assert_bg_matches_lifetimes(bg, ref, ref_summary.reset_index())
    # the predictions are indexed like the input
    pa = p_alive(bg, ours.set_index("customer_id"))
    assert pa.index.equals(ours.set_index("customer_id").index) and pa.name == "p_alive"


@pytest.mark.real
def test_gamma_gamma_and_clv_equal_lifetimes_on_online_retail(uci):
    _, ours, ref_summary = uci
    gg = fit_gamma_gamma(ours)
    ref = lifetimes_gg(ref_summary)
    for k in value.GAMMA_GAMMA_PARAMS:
        assert gg.params[k] == pytest.approx(ref.params_[k], rel=RTOL), k
        assert gg.standard_errors[k] == pytest.approx(ref.standard_errors_[k], rel=1e-3), k
    assert gg.log_likelihood >= gamma_gamma_log_likelihood(ours, ref.params_.to_dict()) - 1e-6
    rep = ref_summary[ref_summary["frequency"] > 0]
    assert gg.n_customers == len(rep)
    assert gg.correlation == pytest.approx(np.corrcoef(rep["frequency"], rep["monetary_value"])[0, 1])
    np.testing.assert_allclose(
        expected_spend(gg, ours).to_numpy(),
        ref.conditional_expected_average_profit(ref_summary["frequency"], ref_summary["monetary_value"]).to_numpy(),
        rtol=RTOL,
    )
    bg, ref_bg = fit_bgnbd(ours), lifetimes_bg(ref_summary)
    ref_clv = ref.customer_lifetime_value(
        ref_bg,
        ref_summary["frequency"],
        ref_summary["recency"],
        ref_summary["T"],
        ref_summary["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    np.testing.assert_allclose(clv(bg, gg, ours, 360, 0.01).to_numpy(), ref_clv.to_numpy(), rtol=RTOL)


def test_bgnbd_gamma_gamma_and_clv_equal_lifetimes_on_cdnow():
    cdnow = load_cdnow_summary_data_with_monetary_value()  # weeks, as shipped inside lifetimes
    assert len(cdnow) == 2357
    bg, ref_bg = fit_bgnbd(cdnow), lifetimes_bg(cdnow)
    assert_bg_matches_lifetimes(bg, ref_bg, cdnow)
    # the published estimates of Fader, Hardie & Lee (2005) for this data
    assert bg.params["r"] == pytest.approx(0.243, abs=5e-4) and bg.params["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert bg.params["a"] == pytest.approx(0.793, abs=5e-4) and bg.params["b"] == pytest.approx(2.426, abs=5e-4)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    gg, ref_gg = fit_gamma_gamma(cdnow), lifetimes_gg(cdnow)
    for k in value.GAMMA_GAMMA_PARAMS:
        assert gg.params[k] == pytest.approx(ref_gg.params_[k], rel=RTOL), k
    for months in (3, 12):
        ref = ref_gg.customer_lifetime_value(
            ref_bg,
            cdnow["frequency"],
            cdnow["recency"],
            cdnow["T"],
            cdnow["monetary_value"],
            time=months,
            discount_rate=0.01,
            freq="W",
        )
        got = clv(bg, gg, cdnow, months * 30, 0.01, freq="W")
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=RTOL)
        assert got.index.equals(cdnow.index)


def test_formulas_equal_lifetimes_at_the_same_parameters():
    """With lifetimes given our parameters, every prediction agrees to rounding (the fit aside)."""
    cdnow = load_cdnow_summary_data_with_monetary_value()
    bg, gg = fit_bgnbd(cdnow), fit_gamma_gamma(cdnow)
    ref_bg, ref_gg = BetaGeoFitter(), GammaGammaFitter()
    ref_bg.params_, ref_gg.params_ = pd.Series(dict(bg.params)), pd.Series(dict(gg.params))
    ref_bg.predict = ref_bg.conditional_expected_number_of_purchases_up_to_time
    f, r, t, m = cdnow["frequency"], cdnow["recency"], cdnow["T"], cdnow["monetary_value"]
    np.testing.assert_allclose(p_alive(bg, cdnow), ref_bg.conditional_probability_alive(f, r, t), rtol=1e-12)
    for horizon in (0.5, 10, 52, 520):
        np.testing.assert_allclose(
            expected_purchases(bg, cdnow, horizon),
            ref_bg.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t),
            rtol=1e-10,
        )
    np.testing.assert_allclose(expected_spend(gg, cdnow), ref_gg.conditional_expected_average_profit(f, m), rtol=1e-12)
    ref = ref_gg.customer_lifetime_value(ref_bg, f, r, t, m, time=6, discount_rate=0.02, freq="W")
    np.testing.assert_allclose(clv(bg, gg, cdnow, 180, 0.02, freq="W"), ref, rtol=1e-10)


# ---------------------------------------------------------------- calibration and holdout


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    """The CDNOW transactions that ship inside lifetimes (one row per purchase), as an orders table."""
    raw = load_dataset(
        "CDNOW_master.txt", header=0, sep=r"\s+", names=["customer_id", "date", "cds", "amount"], dtype=str
    )
    return pd.DataFrame(
        {
            "order_id": [str(i) for i in range(len(raw))],
            "customer_id": raw["customer_id"],
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d", utc=True),
            "amount": raw["amount"].astype(float),
        }
    )


def lifetimes_calibration(orders: pd.DataFrame, calibration_end: str, holdout_end: str) -> pd.DataFrame:
    tx = orders.assign(ordered_at=orders["ordered_at"].dt.tz_localize(None))
    return calibration_and_holdout_data(
        tx,
        "customer_id",
        "ordered_at",
        calibration_period_end=f"{calibration_end} 23:59:59.999999",  # the end of the day, as the workbench reads it
        observation_period_end=f"{holdout_end} 23:59:59.999999",
        freq="D",
        monetary_value_col="amount",  # lifetimes 0.11.3 fails under pandas 3 without a value column
    )


def test_calibration_holdout_equals_lifetimes_on_cdnow(cdnow_orders):
    check = calibration_holdout(cdnow_orders, calibration_end="1997-09-30", holdout_end="1998-06-30")
    ref = lifetimes_calibration(cdnow_orders, "1997-09-30", "1998-06-30")
    assert len(check.customers) == len(ref) == 23_570
    got = check.customers.set_index("customer_id").loc[ref.index]
    for col in ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    assert check.holdout_days == ref["duration_holdout"].iloc[0] == 273
    cal = ref.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    ref_bg = lifetimes_bg(cal)
    for k in value.BGNBD_PARAMS:
        assert check.model.params[k] == pytest.approx(ref_bg.params_[k], rel=RTOL), k
    # the data of lifetimes' plot_calibration_purchases_vs_holdout_purchases (its own code, without matplotlib)
    ref["model_predictions"] = ref_bg.conditional_expected_number_of_purchases_up_to_time(
        273, ref["frequency_cal"], ref["recency_cal"], ref["T_cal"]
    )
    plot = ref.groupby("frequency_cal")[["frequency_holdout", "model_predictions"]].mean()
    by = check.by_frequency.set_index("frequency_cal")
    np.testing.assert_allclose(by["actual"].to_numpy(), plot["frequency_holdout"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by["predicted"].to_numpy(), plot["model_predictions"].to_numpy(), rtol=RTOL)
    assert by["customers"].sum() == len(ref)
    totals = check.totals()
    assert totals["actual"] == ref["frequency_holdout"].sum()
    assert 0.5 < totals["ratio"] < 1.5


@pytest.mark.real
def test_calibration_counts_on_online_retail_and_a_dropout_the_data_cannot_identify(uci):
    retail, _, _ = uci
    counts = value.calibration_summary(retail.orders, calibration_end="2011-06-30", holdout_end=UCI_AS_OF)
    o = retail.orders
    ref = lifetimes_calibration(o[(o["status"] != "cancelled") & (o["amount"] >= 0)], "2011-06-30", UCI_AS_OF)
    got = counts.set_index("customer_id").loc[ref.index]
    assert len(counts) == len(ref) > 2500
    for col in ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    # Half a year of this data has no interior maximum: the likelihood keeps rising as the dropout
    # probability goes to 0 (a -> 0, b -> infinity). We say so.
    with pytest.raises(NotIdentifiedError, match=r"^BG/NBD: the log-likelihood is flat at its maximum"):
        calibration_holdout(retail.orders, calibration_end="2011-06-30", holdout_end=UCI_AS_OF)
    # lifetimes cannot tell either: where its optimiser stops on that ridge depends on the machine's
    # arithmetic, with its ConvergenceError or with a near 0 and a standard error of b thousands of times b
    cal = ref.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fitted = lifetimes_bg(cal)
    except LifetimesConvergenceError:
        pass
    else:
        found = fitted.summary
        assert found.loc["a", "coef"] < 1e-4 and found.loc["b", "se(coef)"] > 1000 * found.loc["b", "coef"]


def test_calibration_chart_is_a_value(bgnbd_orders):
    from workbench import charts

    check = calibration_holdout(bgnbd_orders, calibration_end="2024-06-30", holdout_end="2024-12-31")
    spec = charts.calibration_chart(check, n=5).to_dict()
    assert "$schema" in spec
    rows = next(iter(spec["datasets"].values()))
    series = {r["series"] for r in rows}
    assert series == {"actual", "predicted (BG/NBD)"}
    shown = sorted({r["frequency_cal"] for r in rows})
    assert shown == sorted(check.by_frequency["frequency_cal"].head(5).tolist())
    actual = {r["frequency_cal"]: r["purchases"] for r in rows if r["series"] == "actual"}
    expected = check.by_frequency.set_index("frequency_cal")["actual"].head(5).to_dict()
    assert actual == pytest.approx(expected)
    assert "184 days" in str(spec["title"])
    assert charts.calibration_chart(None).to_dict()["mark"]["type"] == "text"


@pytest.fixture(scope="module")
def bgnbd_orders() -> pd.DataFrame:
    """Orders drawn from a BG/NBD process (seeded) over 2024: 400 customers, daily timestamps."""
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for c in range(400):
        first = rng.integers(0, 180)
        rate = rng.gamma(0.8, 1 / 20)
        p_drop = rng.beta(1.0, 4.0)
        day = first
        rows.append((f"c{c}", day))
        while True:
            day += rng.exponential(1 / rate) if rate > 0 else 1e9
            if day > 365:
                break
            rows.append((f"c{c}", int(day)))
            if rng.random() < p_drop:
                break
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "ordered_at": [start + pd.Timedelta(days=int(r[1]), hours=12) for r in rows],
            "amount": rng.lognormal(3.5, 0.5, len(rows)).round(2),
        }
    )


# ---------------------------------------------------------------- on profiles


def test_customer_value_on_sample_profiles(sample_profiles):
    cv = customer_value(sample_profiles)
    frame = cv.frame
    assert list(frame.columns) == [
        "customer_id",
        "p_alive",
        "expected_orders_90d",
        "expected_orders_365d",
        "expected_spend",
        "clv_365d",
        "value_currency",
    ]
    assert frame["customer_id"].tolist() == sample_profiles["customer_id"].tolist()
    assert frame["value_currency"].tolist() == sample_profiles["currency"].tolist()
    buyers = sample_profiles["orders_total"].to_numpy() > 0
    assert frame.loc[~buyers, "p_alive"].isna().all() and frame.loc[buyers, "p_alive"].notna().all()
    summary = sample_profiles[buyers].reset_index(drop=True)
    np.testing.assert_allclose(frame.loc[buyers, "p_alive"], p_alive(cv.bg, summary), rtol=1e-12)
    np.testing.assert_allclose(
        frame.loc[buyers, "expected_orders_90d"], expected_purchases(cv.bg, summary, 90), rtol=1e-12
    )
    # the sample's customers pay in five currencies: one spend model per currency, never fitted across them
    assert len(set(summary["currency"])) == 5
    assert any("a spend model per currency" in n for n in cv.notes)
    values = frame.loc[buyers].reset_index(drop=True)
    for code, group in summary.groupby("currency"):
        gg = fit_gamma_gamma(group)
        rows = values.index[summary["currency"] == code]
        np.testing.assert_allclose(values.loc[rows, "clv_365d"], clv(cv.bg, gg, group, 365, 0.01), rtol=1e-9)
        assert any(n.startswith(f"{code}: Gamma-Gamma fitted on {gg.n_customers:,}") for n in cv.notes)
    # the same customers with one currency get one spend model over all of them, as before
    one = customer_value(sample_profiles.drop(columns="currency"))
    np.testing.assert_allclose(
        one.frame.loc[buyers, "clv_365d"], clv(one.bg, one.gg, summary, 365, 0.01), rtol=1e-12, equal_nan=True
    )
    assert (frame.loc[buyers, "expected_orders_365d"] >= frame.loc[buyers, "expected_orders_90d"]).all()
    params = cv.parameters()
    assert params["param"].tolist() == ["r", "alpha", "a", "b", "p", "q", "v"]
    assert any("without a purchase" in n for n in cv.notes) == bool((~buyers).any())


def test_customer_value_degrades_without_repeat_buyers():
    profiles = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [0.0, 0.0, 0.0],
            "recency": [0.0, 0.0, 0.0],
            "T": [10.0, 20.0, 0.0],
            "monetary_value": [0.0, 0.0, 0.0],
            "orders_total": [1, 1, 0],
        }
    )
    cv = customer_value(profiles, horizon_days=180)
    assert cv.bg is None and cv.gg is None
    assert cv.frame.columns.tolist()[-1] == "clv_180d"
    assert cv.frame.drop(columns="customer_id").isna().all().all()
    assert cv.notes == (
        "1 customer without a purchase has no predicted value.",
        "No purchase model: BG/NBD: none of the 2 customers has a repeat purchase (frequency is 0 for all), so the "
        "purchase and dropout rates cannot be told apart. Fix: use a longer history (an earlier first order or a "
        "later as_of)",
    )
    assert cv.parameters().empty


def test_customer_value_keeps_purchases_when_spend_cannot_be_modelled():
    cdnow = load_cdnow_summary_data_with_monetary_value().reset_index()
    one_repeat_with_spend = cdnow.assign(monetary_value=np.where(cdnow.index == 0, 50.0, 0.0))
    cv = customer_value(one_repeat_with_spend)
    assert cv.bg is not None and cv.gg is None
    assert cv.frame["p_alive"].notna().all() and cv.frame["clv_365d"].isna().all()
    assert any(n.startswith("No spend model, so no CLV: Gamma-Gamma: 1 repeat buyer among") for n in cv.notes)


# ---------------------------------------------------------------- invariants (hypothesis)

params_st = st.fixed_dictionaries(
    {
        "r": st.floats(0.05, 5),
        "alpha": st.floats(0.1, 100),
        "a": st.floats(0.01, 5),
        "b": st.floats(0.05, 100),
    }
)


@st.composite
def histories(draw, max_frequency: int = 1000, max_t: float = 5000.0):
    t = draw(st.floats(0, max_t))
    x = draw(st.integers(0, max_frequency))
    tx = 0.0 if x == 0 else draw(st.floats(0, t))
    return x, tx, t


def frame(rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


@settings(max_examples=200, deadline=None)
@given(params_st, st.lists(histories(), min_size=1, max_size=20))
def test_p_alive_is_a_probability_that_is_one_only_without_repeat_purchases(params, rows):
    pa = p_alive(model(**params), frame(rows)).to_numpy()
    assert np.all((pa >= 0) & (pa <= 1))
    x = np.array([r[0] for r in rows])
    assert np.all(pa[x == 0] == 1.0)  # BG/NBD: death only follows a purchase
    assert np.all(pa[x > 0] < 1.0)


@settings(max_examples=200, deadline=None)
@given(params_st, histories(), st.floats(0, 5000))
def test_p_alive_does_not_increase_with_age(params, history, extra):
    x, tx, t = history
    pa = p_alive(model(**params), frame([(x, tx, t), (x, tx, t + extra)])).to_numpy()
    assert pa[1] <= pa[0] * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(params_st, histories(), st.floats(0, 3650), st.floats(0, 3650))
def test_expected_purchases_do_not_decrease_with_the_horizon(params, history, t1, extra):
    m, f = model(**params), frame([history])
    assume(abs(params["a"] - 1) > 1e-3)
    short, long = expected_purchases(m, f, t1).iat[0], expected_purchases(m, f, t1 + extra).iat[0]
    assert np.isfinite(short) and np.isfinite(long)
    assert 0 <= short <= long * (1 + 1e-9) + 1e-300


@settings(max_examples=200, deadline=None)
@given(params_st, histories(max_frequency=50, max_t=500), st.floats(0.01, 1000))
def test_expected_purchases_equal_lifetimes_where_lifetimes_is_finite(params, history, horizon):
    assume(abs(params["a"] - 1) > 1e-3)
    ref = BetaGeoFitter()
    ref.params_ = pd.Series(params)
    x, tx, t = history
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = float(np.asarray(ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t)))
    assume(np.isfinite(theirs) and theirs > 1e-200)
    ours = expected_purchases(model(**params), frame([history]), horizon).iat[0]
    assert ours == pytest.approx(theirs, rel=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    params_st,
    st.integers(0, 10**6),
    st.floats(0, 1),
    st.floats(0, 1e6),
    st.floats(0, 1e5),
)
def test_numerically_stable_for_large_frequencies_and_long_histories(params, x, share, t, horizon):
    tx = 0.0 if x == 0 else share * t
    f = frame([(x, tx, t)])
    m = model(**params)
    pa = p_alive(m, f).iat[0]
    e = expected_purchases(m, f, horizon).iat[0]
    assert np.isfinite(pa) and 0 <= pa <= 1
    assert np.isfinite(e) and e >= 0


def test_expected_purchases_at_a_equal_to_one_is_the_limit():
    f = frame([(0, 0, 30), (3, 20, 40)])
    at_one = expected_purchases(model(a=1.0), f, 30).to_numpy()
    beside = (expected_purchases(model(a=1 - 1e-4), f, 30) + expected_purchases(model(a=1 + 1e-4), f, 30)) / 2
    np.testing.assert_allclose(at_one, beside.to_numpy(), rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.5, 20),
    st.floats(1.2, 20),
    st.floats(1, 1000),
    st.integers(0, 200),
    st.floats(0.01, 1e5),
)
def test_expected_spend_lies_between_own_mean_and_population_mean(p, q, v, x, m):
    gg = GammaGammaModel(
        params={"p": p, "q": q, "v": v},
        standard_errors={},
        log_likelihood=0.0,
        n_customers=0,
        correlation=0.0,
        iterations=0,
    )
    spend = expected_spend(gg, pd.DataFrame({"frequency": [x], "monetary_value": [m]})).iat[0]
    low, high = sorted([m if x else gg.population_mean, gg.population_mean])
    assert low * (1 - 1e-12) <= spend <= high * (1 + 1e-12)


def test_clv_without_discount_is_spend_times_purchases():
    cdnow = load_cdnow_summary_data_with_monetary_value()
    bg, gg = fit_bgnbd(cdnow), fit_gamma_gamma(cdnow)
    got = clv(bg, gg, cdnow, 365, 0.0, freq="W")
    weeks = 365 / 30 * 4.345
    np.testing.assert_allclose(got, expected_spend(gg, cdnow) * expected_purchases(bg, cdnow, weeks), rtol=1e-10)
    assert (clv(bg, gg, cdnow, 365, 0.01, freq="W") <= got + 1e-12).all()
    assert (clv(bg, gg, cdnow, 400, 0.01, freq="W") >= clv(bg, gg, cdnow, 365, 0.01, freq="W")).all()


def test_fit_is_deterministic():
    cdnow = load_cdnow_summary_data_with_monetary_value()
    assert fit_bgnbd(cdnow) == fit_bgnbd(cdnow)
    shuffled = fit_bgnbd(cdnow.sample(frac=1.0, random_state=1))  # only the order of the sums changes
    # Newton stops once the gradient is under 1e-10; the Hessian's smallest eigenvalue is about 3e-3 here,
    # so each fit is within about 3e-8 of the exact optimum (in log parameters), whatever the order
    for k, v in fit_bgnbd(cdnow).params.items():
        assert shuffled.params[k] == pytest.approx(v, rel=1e-7)


def test_large_summaries_start_from_a_subset_and_reach_the_same_optimum(monkeypatch):
    rng = np.random.default_rng(8)
    n = 80_000
    t = rng.integers(1, 731, n).astype(float)
    lam, p = rng.gamma(0.3, 1 / 25, n), rng.beta(0.9, 2.5, n)
    freq, last, now, active = np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / lam[active])
        bought = active[now[active] <= t[active]]
        freq[bought] += 1
        last[bought] = now[bought]
        active = bought[rng.random(bought.size) >= p[bought]]
    summary = pd.DataFrame({"frequency": freq, "recency": np.floor(last) * (freq > 0), "T": t})
    assert value._warm_start(freq, summary["recency"].to_numpy() / 730, t / 730) is not None
    warm = fit_bgnbd(summary)
    monkeypatch.setattr(value, "_warm_start", lambda *args: None)
    cold = fit_bgnbd(summary)
    for k in value.BGNBD_PARAMS:
        assert warm.params[k] == pytest.approx(cold.params[k], rel=1e-6), k
    assert warm.log_likelihood >= cold.log_likelihood - 1e-9 * abs(cold.log_likelihood)


# ---------------------------------------------------------------- errors


def summary(**cols) -> pd.DataFrame:
    base = {"customer_id": ["c1", "c2", "c3", "c4"], "frequency": [0, 2, 1, 3], "recency": [0, 5, 3, 9]}
    base["T"] = [10, 10, 10, 10]
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("cols", "message"),
    [
        (
            {"recency": [0, 12, 3, 11]},
            "summary.recency: recency is greater than T, the last purchase after the end of the period "
            "(2 rows; e.g. customer_id c2, c4). Fix: build the summary with workbench.profiles.order_summary or "
            "lifetimes' summary_data_from_transaction_data",
        ),
        (
            {"frequency": [0, -1, 1, 3]},
            "summary.frequency: frequency is negative (1 row; e.g. customer_id c2). Fix: build the summary with "
            "workbench.profiles.order_summary or lifetimes' summary_data_from_transaction_data",
        ),
        (
            {"frequency": [0, 2.5, 1, 3]},
            "summary.frequency: frequency is not a whole number of repeat purchases (1 row; e.g. customer_id c2). "
            "Fix: build the summary with workbench.profiles.order_summary or lifetimes' "
            "summary_data_from_transaction_data",
        ),
        (
            {"recency": [0, -5, 3, 9]},
            "summary.recency: recency is negative, the last purchase before the first (1 row; e.g. customer_id c2). "
            "Fix: build the summary with workbench.profiles.order_summary or lifetimes' "
            "summary_data_from_transaction_data",
        ),
        (
            {"recency": [4, 5, 3, 9]},
            "summary.recency: recency is not 0 for a customer without repeat purchases (1 row; e.g. customer_id c1). "
            "Fix: build the summary with workbench.profiles.order_summary or lifetimes' "
            "summary_data_from_transaction_data",
        ),
        (
            {"T": [10, None, "x", 10]},
            "summary.T: value is missing or not a finite number (2 rows; e.g. customer_id c2, c3). Fix: give every "
            "customer a number in T, or leave those customers out",
        ),
    ],
)
def test_bad_summaries_are_refused_with_rows_named(cols, message):
    with pytest.raises(SummaryDataError) as err:
        fit_bgnbd(summary(**cols))
    assert str(err.value) == message
    assert isinstance(err.value, DataContractError) and isinstance(err.value, ValueModelError)
    with pytest.raises(SummaryDataError):
        p_alive(model(), summary(**cols))


def test_missing_column_and_ids_from_the_index():
    with pytest.raises(SummaryDataError) as err:
        fit_bgnbd(pd.DataFrame({"frequency": [1], "recency": [1]}))
    assert str(err.value) == (
        "summary.T: missing column (columns found: frequency, recency). Fix: pass lifetimes' summary columns "
        "frequency, recency, T (and monetary_value), e.g. the profiles of workbench.profiles.build_profiles"
    )
    by_index = summary(recency=[0, 12, 3, 9]).drop(columns="customer_id").set_axis(["a", "b", "c", "d"])
    with pytest.raises(SummaryDataError, match=r"\(1 row; e\.g\. row b\)"):
        fit_bgnbd(by_index)


def test_data_that_cannot_identify_the_model():
    with pytest.raises(NotIdentifiedError) as err:
        fit_bgnbd(summary().iloc[0:0])
    assert str(err.value) == (
        "BG/NBD: the summary has no customers. Fix: pass the profiles of customers with at least one order"
    )
    with pytest.raises(NotIdentifiedError) as err:
        fit_bgnbd(summary(frequency=[0, 0, 0, 0], recency=[0, 0, 0, 0]))
    assert str(err.value) == (
        "BG/NBD: none of the 4 customers has a repeat purchase (frequency is 0 for all), so the purchase and "
        "dropout rates cannot be told apart. Fix: use a longer history (an earlier first order or a later as_of)"
    )
    # every repeat buyer still buying at the end: nothing tells when customers drop out
    alive = pd.DataFrame({"frequency": [1, 2, 3, 0, 0], "recency": [10, 20, 30, 0, 0], "T": [10, 20, 30, 40, 5]})
    with pytest.raises(NotIdentifiedError, match=r"^BG/NBD: .*the data cannot identify"):
        fit_bgnbd(alive)
    with pytest.raises(NotIdentifiedError) as err:
        fit_gamma_gamma(pd.DataFrame({"frequency": [0, 3], "monetary_value": [0.0, 20.0]}))
    assert str(err.value) == (
        "Gamma-Gamma: 1 repeat buyer among 2 customers; the spend model needs customers with frequency > 0. "
        "Fix: use a longer history"
    )
    same_spend = pd.DataFrame({"frequency": [1, 1, 1, 1], "monetary_value": [10.0] * 4})
    with pytest.raises(NotIdentifiedError, match=r"^Gamma-Gamma: parameter .* ran to infinity"):
        fit_gamma_gamma(same_spend)


def test_a_fit_that_does_not_converge_says_so(monkeypatch):
    cdnow = load_cdnow_summary_data_with_monetary_value()
    monkeypatch.setattr(value, "_GRADIENT_TOLERANCE", 0.0)  # no optimum is ever good enough
    with pytest.raises(ConvergenceError, match=r"^BG/NBD: the maximum-likelihood fit did not converge after \d+ "):
        fit_bgnbd(cdnow)


def test_spend_errors_and_the_correlation_warning():
    with pytest.raises(SummaryDataError) as err:
        fit_gamma_gamma(
            pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [1, 2, 0], "monetary_value": [0, 5, 0]})
        )
    assert str(err.value) == (
        "summary.monetary_value: monetary_value is 0 for a repeat buyer (the Gamma-Gamma model needs positive "
        "spend) (1 row; e.g. customer_id a). Fix: leave those customers out of the spend model "
        "(e.g. summary[summary.monetary_value > 0])"
    )
    cdnow = load_cdnow_summary_data_with_monetary_value()
    rep = cdnow[cdnow["frequency"] > 0]
    biased = cdnow.assign(monetary_value=cdnow["monetary_value"] * (1 + cdnow["frequency"]))  # big spenders buy often
    corr = np.corrcoef(rep["frequency"], rep["monetary_value"] * (1 + rep["frequency"]))[0, 1]
    with pytest.warns(ModelAssumptionWarning) as caught:
        fit_gamma_gamma(biased)
    assert str(caught[0].message) == (
        f"Gamma-Gamma assumes spend per purchase does not depend on purchase frequency, but over the {len(rep):,} "
        f"repeat buyers frequency and monetary_value have a Pearson correlation of {corr:.3f} (above 0.3): "
        "expected spend and CLV will be biased"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_gamma_gamma(cdnow)  # CDNOW: correlation about 0.11, no warning
    low_q = GammaGammaModel(
        params={"p": 2.0, "q": 0.9, "v": 10.0},
        standard_errors={},
        log_likelihood=0,
        n_customers=0,
        correlation=0,
        iterations=0,
    )
    with pytest.raises(NotIdentifiedError, match=r"^Gamma-Gamma: q = 0\.9 ≤ 1, so the fitted spend distribution"):
        expected_spend(low_q, cdnow)


def test_argument_errors():
    f = frame([(1, 2, 3)])
    with pytest.raises(ValueModelError, match=r"^the horizon t must be a non-negative number of time units, not -1$"):
        expected_purchases(model(), f, -1)
    with pytest.raises(ValueModelError, match=r"^expected a fitted BG/NBD model \(from fit_bgnbd\), not dict$"):
        p_alive({"r": 1}, f)  # type: ignore[arg-type]
    with pytest.raises(ValueModelError, match=r"^unknown time unit freq='Y'. Fix: use one of D, W, M, H$"):
        clv(model(), None, f, freq="Y")  # type: ignore[arg-type]
    orders = pd.DataFrame(
        {"order_id": ["1"], "customer_id": ["a"], "ordered_at": [pd.Timestamp("2024-01-01", tz="UTC")], "amount": [1.0]}
    )
    with pytest.raises(ValueModelError) as err:
        calibration_holdout(orders, calibration_end="2024-03-01 12:00", holdout_end="2024-06-30")
    assert str(err.value) == (
        "calibration_end '2024-03-01 12:00' is not a whole day: purchases are counted per UTC day, so the periods "
        "must end at the end of a day. Fix: pass a date such as 2011-06-30"
    )
    with pytest.raises(ValueModelError, match=r"^holdout_end \(2024-01-31\) must come after calibration_end"):
        calibration_holdout(orders, calibration_end="2024-03-01", holdout_end="2024-01-31")
    assert issubclass(ValueModelError, WorkbenchError)
