"""The Spark engine in local mode: the same profiles, segments and send plan as the DuckDB engine.

One Spark session (``local[2]``, four shuffle partitions) is started for all
of these tests; ``--dist loadgroup`` keeps them on one worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from workbench.application import Workspace
from workbench.engines import spark as engine
from workbench.io import load_online_retail
from workbench.models.errors import StrategyError
from workbench.models.strategy import SegmentDefinition
from workbench.profiles import build_profiles
from workbench.rules import check_rules, evaluate

pytestmark = pytest.mark.xdist_group("spark")
AS_OF = "2026-10-31"


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    session = engine.session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal for every customer and column: exactly, floats within 1e-9 relative (sums in another order)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        left, right = a[column], b[column]
        if pd.api.types.is_float_dtype(left.dtype) or pd.api.types.is_float_dtype(right.dtype):
            assert np.allclose(left.to_numpy(float), right.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True), (
                column
            )
        else:
            l_values = left.astype(object).where(left.notna(), None).tolist()
            r_values = right.astype(object).where(right.notna(), None).tolist()
            assert l_values == r_values, column


def _spark_profiles(spark: object, dataset: object, as_of: object) -> pd.DataFrame:
    """Spark's profiles, every column (the locale and currency too) computed on the executors."""
    tables = engine.tables_from_frames(spark, dataset.tables())
    found = engine.to_pandas(engine.profiles(spark, tables, as_of=as_of))
    return found.sort_values("customer_id", ignore_index=True)


def test_profiles_from_spark_equal_duckdb_on_the_sample(spark: object, sample_dataset: object) -> None:
    duck = build_profiles(sample_dataset, as_of=AS_OF).sort_values("customer_id", ignore_index=True)
    _same(_spark_profiles(spark, sample_dataset, AS_OF), duck)
    assert duck["email_sends"].sum() > 0 and duck["site_visits_30d"].sum() > 0  # every part was compared


@pytest.mark.real
def test_profiles_from_spark_equal_duckdb_on_online_retail(spark: object, real_data: object) -> None:
    dataset = load_online_retail(real_data / "online_retail_uci" / "online_retail.csv.gz")
    as_of = "2011-12-09"
    duck = build_profiles(dataset, as_of=as_of).sort_values("customer_id", ignore_index=True)
    _same(_spark_profiles(spark, dataset, as_of), duck)
    assert (duck["frequency"] > 0).sum() > 2000


def test_orders_only_and_dates_before_1970(spark: object) -> None:
    from workbench.contracts import from_frames

    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4"],
            "customer_id": ["b", "a", "b", "a"],
            "ordered_at": pd.to_datetime(
                ["1969-12-31 23:00", "2024-01-01 00:00", "2024-01-02 00:00", "2024-01-03 00:00"], utc=True
            ),
            "amount": [10.0, 5.0, 20.0, -5.0],
        }
    )
    dataset = from_frames(orders)
    _same(_spark_profiles(spark, dataset, "2024-01-31"), build_profiles(dataset, as_of="2024-01-31"))


RULES = [
    "orders_total >= 2 and revenue_365d > 50",
    "lower(country) in ('us', 'ca') or starts_with(coalesce(region, ''), 'N')",
    "days_since_last_order between 30 and 120",
    "email_consent = 'subscribed' and not can_sms",
    "contains(coalesce(email, ''), 'example') and length(first_name) > 3",
    "regexp_matches(coalesce(phone, ''), '^\\+1')",
    "abs(round(monetary_value, 1) - avg_order_value) < 10",
    "greatest(email_clicks, sms_clicks) > 0 or least(orders_30d, orders_90d) > 0",
    "case when lifecycle_stage = 'active' then frequency > 1 else false end",
    "last_order_at > timestamp '2026-06-01 00:00:00'",
    "date_diff('day', last_order_at, timestamp '2026-10-31') < 60",
    "date_diff('month', first_order_at, last_order_at) >= 2",
    "date_diff('hour', last_order_at, timestamp '2026-10-31 12:00:00') between 100 and 2000",
    "rfm_segment like 'champ%' or intent = 'cart_abandoner'",
    "coalesce(p_alive, 0) < 0.5 and orders_total > 1",
    "cast(orders_total as double) / nullif(orders_365d, 0) > 1",
    "if(can_email, email_opens, 0) > 2",
    "floor(revenue_total) % 7 = 3 or ceil(recency / 7) = 4",
]


def test_segment_rules_in_spark_sql_equal_duckdb(spark: object, sample_workspace: Workspace) -> None:
    assigned = sample_workspace.assigned
    definitions = [SegmentDefinition(name=f"r{i}", rule=rule) for i, rule in enumerate(RULES)]
    checked = check_rules(definitions)
    duck = evaluate(assigned, checked)
    needed = list(dict.fromkeys(c for rule in checked for c in rule.columns))
    frame = spark.createDataFrame(engine.arrow_table(assigned[needed].assign(position=np.arange(len(assigned)))))
    found = engine.to_pandas(engine.rule_segments(frame, checked)).sort_values("position")
    for rule in checked:
        got = found[f"segment_{rule.segment}"].to_numpy(dtype=bool)
        assert (got == duck[rule.segment]).all(), (rule.rule, engine.rule_sql(rule))
    assert sum(int(m.sum()) for m in duck.values()) > 0


def test_a_refused_rule_never_reaches_spark() -> None:
    with pytest.raises(StrategyError, match="read_csv"):
        check_rules([SegmentDefinition(name="x", rule="exists (select * from read_csv('/etc/passwd'))")])


@pytest.fixture(scope="session")
def spark_workspace(spark: object, sample_dataset: object, strategy: object) -> Workspace:
    return Workspace.create(sample_dataset, strategy, as_of=AS_OF, engine="spark", master="local[2]")


def test_workspace_on_spark_gives_the_duckdb_profiles_and_segments(
    spark_workspace: Workspace, sample_workspace: Workspace
) -> None:
    duck = Workspace.create(sample_workspace.dataset, sample_workspace.strategy, as_of=AS_OF)
    _same(spark_workspace.profiles, duck.profiles)
    assert list(spark_workspace.profiles.dtypes) == list(duck.profiles.dtypes)
    pd.testing.assert_frame_equal(spark_workspace.assigned, duck.assigned, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("partitions", [1, 8])
def test_plan_from_spark_equals_duckdb_touch_for_touch(
    spark_workspace: Workspace, sample_workspace: Workspace, partitions: int
) -> None:
    duck = Workspace.create(sample_workspace.dataset, sample_workspace.strategy, as_of=AS_OF).plan(days=30, seed=11)
    from dataclasses import replace

    on_spark = replace(spark_workspace, partitions=partitions, _shared=spark_workspace._shared)
    plan = on_spark.plan(days=30, seed=11)
    assert len(duck.plan) > 1000
    pd.testing.assert_frame_equal(plan.plan, duck.plan)
    assert plan.plan.attrs["journey_stats"] == duck.plan.attrs["journey_stats"]


def test_another_seed_gives_another_plan(spark_workspace: Workspace) -> None:
    a = spark_workspace.plan(days=14, seed=1).plan
    b = spark_workspace.plan(days=14, seed=2).plan
    assert not a[["opened", "clicked"]].equals(b[["opened", "clicked"]])


def test_unknown_engine_is_refused(sample_dataset: object, strategy: object) -> None:
    from workbench.models.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=r"engine .flink. is not available\. Fix: use one of duckdb, spark"):
        Workspace.create(sample_dataset, strategy, engine="flink")
