"""The UCI Online Retail adapter: profiles equal lifetimes for every customer; nothing is dropped silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import summary_data_from_transaction_data

from workbench.io import load_online_retail
from workbench.profiles import build_profiles

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def retail(real_data):
    return load_online_retail(real_data / "online_retail_uci" / "online_retail.csv.gz")


def test_profiles_equal_lifetimes_for_every_customer(retail):
    as_of = "2011-12-09"
    profiles = build_profiles(retail, as_of=as_of).set_index("customer_id")
    o = retail.orders
    purchases = o[(o["status"] != "cancelled") & (o["amount"] >= 0)]
    purchases = purchases.assign(ordered_at=purchases["ordered_at"].dt.tz_localize(None))
    ref = summary_data_from_transaction_data(
        purchases, "customer_id", "ordered_at", monetary_value_col="amount", observation_period_end=as_of, freq="D"
    )
    assert len(ref) > 4000
    got = profiles.loc[ref.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)
    only_cancelled = profiles.index.difference(ref.index)
    assert (profiles.loc[only_cancelled, "orders_total"] == 0).all()


def test_adapter_reports_what_it_set_aside(retail):
    q = retail.quality.set_index("check")
    assert q.loc["no CustomerID", "rows"] == 135_080
    assert q.loc["exact duplicate line", "rows"] > 5000
    assert q.loc["cancellation invoice (C…)", "rows"] > 8000
    assert q.loc["non-product stock code (postage, fees, vouchers, manual)", "rows"] > 1000
    assert (q["action"].str.len() > 0).all()
    assert retail.orders["order_id"].str.startswith("C").sum() == (retail.orders["status"] == "cancelled").sum()
    assert not retail.orders["customer_id"].str.endswith(".0").any()
    assert retail.customers["country"].value_counts().index[0] == "GB"


def test_amounts_exclude_non_product_lines(retail):
    first = retail.orders.set_index("order_id").loc["536365"]
    assert first["amount"] == pytest.approx(139.12)  # the first invoice's seven product lines
    assert isinstance(first["ordered_at"], pd.Timestamp) and str(first["ordered_at"].tz) == "UTC"
