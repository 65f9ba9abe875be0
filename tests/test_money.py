"""Amounts in several currencies: converted at the strategy's stated rates or kept apart, never added up as one."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import measure
from workbench.application import Workspace
from workbench.contracts import from_frames
from workbench.exporters.companions import (
    DISPLAY_SUFFIX,
    SYNTAXES,
    _MergeCustomer,
    dittofeed_batches,
    klaviyo_import_bodies,
    localized_content,
    profile_properties,
    tool_renderer,
)
from workbench.models.errors import DataContractError, MeasurementError, StrategyError
from workbench.models.measurement import MeasurementSettings
from workbench.models.strategy import parse_strategy
from workbench.money import customers_with_mixed_currencies, orders_in_one_currency, rates_table

RATES = {"GBP": 1.27, "EUR": 1.08, "CAD": 0.73}


def usd_settings(rates=RATES):
    return MeasurementSettings(
        reporting_currency="USD",
        exchange_rates=[{"currency": c, "rate": r, "date": "2026-10-31", "source": "test"} for c, r in rates.items()],
    )


def orders_frame():
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["a", "b", "c", "d", "e"],
            "ordered_at": pd.to_datetime(["2026-10-01T10:00:00Z"] * 5, utc=True),
            "amount": [100.0, 10.0, 20.0, 30.0, 40.0],
            "currency": ["USD", "GBP", "EUR", "CAD", "gbp "],
        }
    )


def test_amounts_are_converted_at_the_stated_rates_and_the_rates_are_reported():
    out = orders_in_one_currency(orders_frame(), settings=usd_settings())
    # by hand: 100 USD; 10 and 40 GBP at 1.27; 20 EUR at 1.08; 30 CAD at 0.73
    assert out["amount"].tolist() == pytest.approx([100.0, 12.7, 21.6, 21.9, 50.8])
    assert out["amount_original"].tolist() == [100.0, 10.0, 20.0, 30.0, 40.0]
    assert out.attrs["currency"] == "USD"
    table = rates_table(out)
    assert table.set_index("currency")["rate"].to_dict() == {"CAD": 0.73, "EUR": 1.08, "GBP": 1.27}
    assert set(table["into"]) == {"USD"} and set(table["source"]) == {"test"}
    assert set(table["date"]) == {"2026-10-31"}


def test_a_currency_without_a_rate_is_refused_with_its_orders_and_the_rate_to_add():
    with pytest.raises(DataContractError) as caught:
        orders_in_one_currency(orders_frame(), settings=usd_settings({"GBP": 1.27, "EUR": 1.08}))
    text = str(caught.value)
    assert "orders.currency" in text and "no exchange rate from CAD into the reporting currency USD" in text
    assert "1 row" in text and "o4" in text and "measurement.exchange_rates" in text
    assert "orders per currency: " in text and "GBP 2" in text and "CAD 1" in text


def test_several_currencies_without_a_reporting_currency_are_refused_not_summed():
    with pytest.raises(MeasurementError, match="in 4 currencies"):
        orders_in_one_currency(orders_frame(), settings=None)


def test_one_currency_at_a_time_and_one_currency_as_it_is():
    gbp = orders_in_one_currency(orders_frame(), settings=None, only="gbp")
    assert gbp["order_id"].tolist() == ["o2", "o5"] and gbp.attrs["currency"] == "GBP"
    assert gbp["amount"].tolist() == [10.0, 40.0]
    with pytest.raises(MeasurementError, match="no order is in JPY"):
        orders_in_one_currency(orders_frame(), settings=None, only="JPY")
    single = orders_frame().assign(currency="EUR")
    same = orders_in_one_currency(single, settings=usd_settings())
    assert same["amount"].tolist() == single["amount"].tolist() and same.attrs["currency"] == "EUR"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["USD", "GBP", "EUR", "CAD"]), st.floats(0.01, 1e6, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_converted_total_is_each_currency_subtotal_times_its_rate(rows):
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": "c",
            "ordered_at": pd.Timestamp("2026-10-01", tz="UTC"),
            "amount": [a for _, a in rows],
            "currency": [c for c, _ in rows],
        }
    )
    out = orders_in_one_currency(orders, settings=usd_settings())
    rate = {**RATES, "USD": 1.0}
    expected = sum(orders.loc[orders["currency"] == c, "amount"].sum() * rate[c] for c in set(orders["currency"]))
    if len(set(orders["currency"])) == 1:
        expected = orders["amount"].sum()  # one currency: as it is, in that currency
    assert out["amount"].sum() == pytest.approx(expected, rel=1e-9)


def test_rates_are_strategy_data_with_a_date_and_a_source():
    with pytest.raises(ValueError, match="twice"):
        MeasurementSettings(
            exchange_rates=[
                {"currency": "GBP", "rate": 1.2, "date": "2026-10-31", "source": "a"},
                {"currency": "GBP", "rate": 1.3, "date": "2026-10-31", "source": "b"},
            ]
        )
    with pytest.raises(ValueError, match="date"):
        MeasurementSettings(exchange_rates=[{"currency": "GBP", "rate": 1.2, "source": "a"}])
    with pytest.raises(ValueError, match="source"):
        MeasurementSettings(exchange_rates=[{"currency": "GBP", "rate": 1.2, "date": "2026-10-31", "source": ""}])


def test_the_reporting_currency_is_the_brands_unless_the_strategy_names_one(strategy):
    assert strategy.measurement.reporting_currency == strategy.brand.currency == "USD"
    assert {r.currency for r in strategy.measurement.exchange_rates} == {"GBP", "EUR", "CAD", "AUD"}
    assert all(r.source and r.date for r in strategy.measurement.exchange_rates)
    text = strategy.model_dump_json()
    data = json.loads(text)
    data["brand"]["currency"] = "EUR"
    data["measurement"]["reporting_currency"] = None
    data["measurement"]["exchange_rates"] = []
    import yaml

    other = parse_strategy(yaml.safe_dump(data))
    assert other.measurement.reporting_currency == "EUR"
    with pytest.raises(StrategyError, match="exchange_rates"):
        data["measurement"]["exchange_rates"] = [{"currency": "GBP", "rate": -1, "date": "2026-10-31", "source": "x"}]
        parse_strategy(yaml.safe_dump(data))


# ---------------------------------------------------------------- measurement tables


def test_metrics_refuse_mixed_currencies_and_say_the_currency_of_revenue(sample_dataset, strategy):
    ds = sample_dataset
    with pytest.raises(MeasurementError, match="no reporting currency"):
        measure.channel_metrics(ds.messages, ds.orders, by=["channel"])
    cfg = strategy.measurement
    converted = measure.channel_metrics(ds.messages, ds.orders, by=["channel"], settings=cfg)
    revenue = converted[converted["metric"] == "revenue_per_recipient"].set_index("channel")
    assert set(revenue["currency"]) == {"USD"}
    assert converted.loc[converted["metric"] != "revenue_per_recipient", "currency"].isna().all()
    # independently: each currency's orders measured on their own, times its rate, add up to the converted figure
    rate = {r.currency: r.rate for r in cfg.exchange_rates} | {"USD": 1.0}
    total = pd.Series(0.0, index=revenue.index)
    for code in sorted(ds.orders["currency"].unique()):
        alone = measure.channel_metrics(ds.messages, ds.orders, by=["channel"], currency=code)
        part = alone[alone["metric"] == "revenue_per_recipient"].set_index("channel")
        assert set(part["currency"]) == {code}
        total = total.add(part["numerator"] * rate[code], fill_value=0.0)
    np.testing.assert_allclose(revenue["numerator"], total.reindex(revenue.index), rtol=1e-9)
    # the raw sum that mixes currencies is not what is reported
    raw = ds.orders.assign(currency="USD")
    mixed = measure.channel_metrics(ds.messages, raw, by=["channel"])
    mixed_revenue = mixed[mixed["metric"] == "revenue_per_recipient"].set_index("channel")["numerator"]
    assert not np.allclose(mixed_revenue, revenue["numerator"])


def test_attribution_and_the_readout_name_their_currency_and_rates(small_dataset, strategy):
    cfg = strategy.measurement
    a = measure.attribute(small_dataset.messages, small_dataset.orders, by=["channel"], settings=cfg)
    assert set(a["currency"]) == {"USD"} and a.attrs["currency"] == "USD"
    assert {r["currency"] for r in a.attrs["exchange_rates"]} <= {"GBP", "EUR", "CAD", "AUD"}
    readout = measure.experiment_readout(small_dataset, settings=cfg)
    note = next(n for n in readout.notes if n.startswith("Revenue and CLV are in USD"))
    assert "1 GBP = 1.27 USD on 2026-10-31" in note
    assert set(readout.metrics.loc[readout.metrics["metric"] == "revenue_per_recipient", "currency"]) == {"USD"}


# ---------------------------------------------------------------- profiles: a customer who pays in two currencies


def mixed_dataset():
    customers = pd.DataFrame(
        {
            "customer_id": ["both", "gb", "us"],
            "country": ["GB", "GB", "US"],
            "timezone": ["Europe/London", "Europe/London", "America/New_York"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4"],
            "customer_id": ["both", "both", "gb", "us"],
            "ordered_at": [
                "2026-09-01T12:00:00Z",
                "2026-10-01T12:00:00Z",
                "2026-10-01T12:00:00Z",
                "2026-10-02T12:00:00Z",
            ],
            "amount": [100.0, 50.0, 20.0, 30.0],
            "currency": ["USD", "GBP", "GBP", "USD"],
        }
    )
    return from_frames(orders, customers)


def test_a_customer_paying_in_two_currencies_gets_sums_in_their_own_currency(strategy):
    ws = Workspace.create(mixed_dataset(), strategy, as_of="2026-10-31")
    p = ws.profiles.set_index("customer_id")
    # the latest order is in pounds: 50 GBP + 100 USD at 1.27 USD a pound = 50 + 100 / 1.27 GBP
    assert p.loc["both", "currency"] == "GBP"
    assert p.loc["both", "revenue_total"] == pytest.approx(50 + 100 / 1.27)
    assert p.loc["gb", "revenue_total"] == 20.0 and p.loc["us", "revenue_total"] == 30.0
    assert ws.currency_mix.customer_ids == ["both"] and ws.currency_mix.converted
    row = ws.quality[ws.quality["check"] == "customer with orders in more than one currency"].iloc[0]
    assert row["rows"] == 2 and row["examples"] == "both" and "converted" in row["action"]


def test_without_a_rate_the_mixed_customer_is_named_in_the_data_quality(strategy):
    bare = strategy.model_copy(update={"measurement": MeasurementSettings(reporting_currency="USD")})
    ws = Workspace.create(mixed_dataset(), bare, as_of="2026-10-31")
    p = ws.profiles.set_index("customer_id")
    assert p.loc["both", "revenue_total"] == 150.0  # left as the data has it, and said so
    assert not ws.currency_mix.converted
    message = ws.currency_mix.message()
    assert "1 customer ordered in more than one currency (e.g. both)" in message and "GBP" in message
    row = ws.quality[ws.quality["check"] == "customer with orders in more than one currency"].iloc[0]
    assert "no exchange rate for GBP" in row["action"]
    assert customers_with_mixed_currencies(mixed_dataset().orders, default_currency="USD").frame[
        "currencies"
    ].tolist() == ["GBP, USD"]


def test_predicted_value_is_in_the_reporting_currency_with_rates(sample_workspace):
    p = sample_workspace.profiles
    assert set(p["value_currency"].dropna()) == {"USD"}
    assert any(n.startswith("Spend and CLV in USD") for n in sample_workspace.customer_value.notes)


# ---------------------------------------------------------------- exports: the customer's own formatting


def test_profile_imports_carry_amounts_and_dates_formatted_for_each_customer(strategy):
    ws = Workspace.create(mixed_dataset(), strategy, as_of="2026-10-31")
    assigned = ws.assigned.set_index("customer_id", drop=False)
    klaviyo = {
        p["attributes"]["external_id"]: p["attributes"]["properties"]
        for p in klaviyo_import_bodies(ws.assigned)[0]["data"]["attributes"]["profiles"]["data"]
    }
    ditto = {item["userId"]: item["traits"] for item in dittofeed_batches(ws.assigned)[0]["batch"]}
    for cid, locale in (("gb", "en_GB"), ("us", "en_US")):
        row = assigned.loc[cid]
        want = format_currency(row["revenue_total"], row["currency"], locale=locale)
        assert klaviyo[cid]["revenue_total" + DISPLAY_SUFFIX] == want == ditto[cid]["revenue_total" + DISPLAY_SUFFIX]
    assert klaviyo["gb"]["revenue_total_display"] == "£20.00" and klaviyo["us"]["revenue_total_display"] == "$30.00"
    assert klaviyo["gb"]["last_order_at_long"] == "Thursday, 1 October 2026"


def test_quebec_and_german_imports_format_as_those_locales_do(strategy):
    customers = pd.DataFrame(
        {
            "customer_id": ["qc", "de"],
            "country": ["CA", "DE"],
            "region": ["QC", None],
            "timezone": ["America/Toronto", "Europe/Berlin"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2"],
            "customer_id": ["qc", "de"],
            "ordered_at": ["2026-10-02T18:30:00Z"] * 2,
            "amount": [1250.5, 12.5],
            "currency": ["CAD", "EUR"],
        }
    )
    ws = Workspace.create(from_frames(orders, customers), strategy, as_of="2026-10-31")
    props = {p["customer_id"]: p for p in profile_properties(ws.assigned)}
    babel = format_currency(1250.5, "CAD", locale="fr_CA")
    assert props["qc"]["revenue_total_display"] == babel.replace("\u00a0", " ").replace("\u202f", " ")
    assert props["qc"]["revenue_total_display"] == "1 250,50 $"
    assert props["de"]["revenue_total_display"] == "12,50 €"
    assert props["de"]["last_order_at_long"] == "Freitag, 2. Oktober 2026"


@pytest.mark.parametrize(
    ("target", "amount", "date"),
    [
        (
            "klaviyo",
            "{{ person|lookup:'revenue_total_display'|default:'' }}",
            "{{ person|lookup:'last_order_at_long'|default:'' }}",
        ),
        ("dittofeed", "{{ user.revenue_total_display | default: '' }}", "{{ user.last_order_at_long | default: '' }}"),
    ],
)
def test_tool_content_shows_the_pre_formatted_properties_not_the_brands_symbol(strategy, target, amount, date):
    renderer = tool_renderer(strategy, target)
    customer = _MergeCustomer(SYNTAXES[target])
    assert str(renderer.env.filters["money"](customer["revenue_total"])) == amount
    assert str(renderer.env.filters["local_date"](customer["last_order_at"], "long")) == date
    content = localized_content(renderer, "post_purchase_confirmation", "A", None, ("fr-CA", "de-DE"))
    # the default language, French and German each show the customer's own date (the email and its text part)
    assert content.html.count(date) == 3 and content.text.count(date) == 3
    assert "last_order_at_long" in content.merge_fields
    for wrong in ("floatformat", "| round: 2", "format_date_string", "| date:"):
        assert wrong not in content.html + content.text


def test_export_reports_say_how_amounts_are_formatted(sample_workspace):
    results = sample_workspace.exports("klaviyo,dittofeed,klaviyo_profiles")
    for target in ("klaviyo", "dittofeed"):
        notes = [i for i in results[target].report if i.feature == "formatting"]
        assert len(notes) == 1 and notes[0].status == "mapped"
        assert "pre-formatted per customer in profile properties" in notes[0].detail
    profiles = [i for i in results["klaviyo_profiles"].report if i.feature == "profiles"]
    assert "revenue_total_display" in profiles[0].detail


def test_report_tables_name_the_currency_of_every_amount(small_dataset, strategy):
    from workbench import display

    readout = measure.experiment_readout(small_dataset, settings=strategy.measurement)
    ret = display.channel_return(readout.channel_summary)
    assert set(ret["currency"]) == {"USD"}
    wide = measure.metrics_table(readout.metrics)
    assert "revenue_per_recipient in USD (÷ recipients (delivered))" in wide.columns
    assert "currency" not in wide.columns  # a label of the amount, not a grouping key
    shown = display.metrics_by_channel(readout.channel_summary)
    assert "revenue_per_recipient in USD (÷ recipients (delivered))" in str(shown.frame["metric"].tolist())
    headline = display.measure_headline(readout)
    page = " ".join(part._repr_html_() if hasattr(part, "_repr_html_") else str(part) for part in headline.parts)
    assert "revenue per 1,000 delivered (USD)" in page
    assert "attributed revenue in USD" in page


def test_revenue_the_sending_tool_recorded_in_several_currencies_is_refused():
    messages = pd.DataFrame(
        {
            "message_id": ["m1", "m2", "m3"],
            "customer_id": ["a", "b", "c"],
            "channel": ["email", "email", "sms"],
            "sent_at": pd.to_datetime(["2026-10-01T10:00:00Z"] * 3, utc=True),
            "delivered_at": pd.to_datetime(["2026-10-01T10:01:00Z"] * 3, utc=True),
            "converted_at": pd.to_datetime(["2026-10-02T10:00:00Z"] * 3, utc=True),
            "revenue": [10.0, 20.0, 30.0],
            "currency": ["EUR", "EUR", "GBP"],
        }
    )
    with pytest.raises(MeasurementError, match=r"recorded in 2 currencies \(EUR 2, GBP 1\)"):
        measure.channel_metrics(messages, by=["channel"])
    one = measure.channel_metrics(messages.assign(currency="EUR"), by=["channel"])
    revenue = one[one["metric"] == "revenue_per_recipient"].set_index("channel")
    assert set(revenue["currency"]) == {"EUR"} and revenue.loc["email", "numerator"] == 30.0


# ---------------------------------------------------------------- who mixes currencies, asked of two columns

CODES = st.sampled_from(["USD", "usd", " USD ", "GBP", "gbp ", "EUR", "", "  ", None])


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "x"]), CODES), max_size=40),
    default=st.sampled_from(["USD", "GBP", "JPY"]),
    chunks=st.integers(1, 3),
    coded=st.booleans(),
)
def test_may_mix_currencies_agrees_with_the_customers_found_mixing(rows, default, chunks, coded):
    import pyarrow as pa

    from workbench.models.dataset import customer_positions
    from workbench.money import may_mix_currencies

    orders = pd.DataFrame(
        {"customer_id": pd.array([r[0] for r in rows], dtype="string"), "currency": [r[1] for r in rows]}
    )
    found = len(customers_with_mixed_currencies(orders, default_currency=default)) > 0
    # "x" is not a customer: its orders share the key -1 with any other unknown id
    keys = customer_positions(orders["customer_id"], pd.Series(["a", "b", "c", "d"]))
    column = pa.array([r[1] for r in rows], type=pa.string())
    if coded:
        column = column.dictionary_encode()
    cut = np.linspace(0, len(column), chunks + 1).astype(int)
    chunked = pa.chunked_array([column[a:b] for a, b in itertools.pairwise(cut)], type=column.type)
    for given_as in (chunked, column, orders["currency"]):
        may = may_mix_currencies(keys, given_as, default_currency=default)
        assert may or not found  # never misses a customer who mixes
        if not (keys == -1).any():
            assert may == found  # and with every id a customer, says exactly whether one does
    assert not may_mix_currencies(keys, None, default_currency=default)


@pytest.mark.parametrize("kind", ["one currency each", "a customer mixing"])
def test_profiles_are_the_same_whether_or_not_the_orders_are_read_in_full(kind, sample_dataset, strategy):
    from workbench.money import orders_in_customer_currency
    from workbench.profiles import build_profiles

    dataset = sample_dataset if kind == "one currency each" else mixed_dataset()
    ws = Workspace.create(dataset, strategy, as_of="2026-10-31")
    orders, mix = orders_in_customer_currency(
        dataset.orders, settings=strategy.measurement, default_currency=strategy.brand.currency
    )
    full = dataset if orders is dataset.orders else dataset.with_tables(orders=orders)
    locales = ws._locales()
    pd.testing.assert_frame_equal(
        build_profiles(ws._profile_dataset, as_of=ws.as_of, **locales), build_profiles(full, as_of=ws.as_of, **locales)
    )
    pd.testing.assert_frame_equal(ws.currency_mix.frame, mix.frame)
    assert ws.currency_mix.converted == mix.converted and len(ws.currency_mix) == (kind != "one currency each")


def test_orders_in_one_currency_per_customer_stay_in_arrow_for_the_first_profile(strategy, root):
    from workbench.io import load_dataset

    dataset = load_dataset(root / "data" / "sample")
    assert len(set(dataset.orders["currency"])) > 1  # several currencies, one per customer
    fresh = load_dataset(root / "data" / "sample")
    ws = Workspace.create(fresh, strategy, as_of="2026-10-31")
    assert ws._profile_dataset is fresh and not len(ws.currency_mix)
    assert "orders" not in fresh._frames  # the orders were never made a DataFrame
