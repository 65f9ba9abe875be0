"""The Spark engine in local mode: the same profiles, segments and send plan as the DuckDB engine.

One Spark session (``local[2]``, four shuffle partitions: the ``spark`` fixture
of conftest.py) serves every Spark test; ``--dist loadgroup`` keeps them on one
worker. Data read by Spark comes from Parquet written here from the sample,
with two tables split over several files to check that rows keep the order of
the source.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.application import Workspace
from workbench.cli import main
from workbench.engines import spark as engine
from workbench.io import (
    load_dataset,
    load_online_retail,
    read_spark_tables,
    staged_output,
    write_dataset,
    write_spark_plan,
    write_spark_profiles,
)
from workbench.models.errors import DataContractError, StrategyError, WorkbenchError
from workbench.models.strategy import SegmentDefinition
from workbench.profiles import build_profiles
from workbench.rules import check_rules, evaluate

pytestmark = pytest.mark.xdist_group("spark")
AS_OF = "2026-10-31"


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


def _split(table: pa.Table, folder: Path, parts: int) -> None:
    """``table`` as a folder of Parquet files whose names sort in the order of the rows."""
    folder.mkdir()
    edges = np.linspace(0, table.num_rows, parts + 1).astype(int)
    for i in range(parts):
        pq.write_table(table.slice(edges[i], edges[i + 1] - edges[i]), folder / f"part-{i:02d}.parquet")


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory: pytest.TempPathFactory, sample_dataset: object) -> Path:
    """The sample as a dataset folder of Parquet tables; customers and orders as folders of three files."""
    folder = tmp_path_factory.mktemp("parquet") / "shop"
    write_dataset(sample_dataset, folder, fmt="parquet")
    for name in ("customers", "orders"):
        path = folder / f"{name}.parquet"
        table = pq.read_table(path)
        path.unlink()
        _split(table, path, 3)
    return folder


@pytest.fixture(scope="module")
def parquet_workspaces(spark: object, parquet_sample: Path, strategy: object) -> tuple[Workspace, Workspace]:
    """The Parquet sample read by Spark (engine spark) and read on this machine (engine duckdb)."""
    tables = read_spark_tables(spark, parquet_sample)
    on_spark = Workspace.create(tables, strategy, as_of=AS_OF, engine="spark")
    return on_spark, Workspace.create(load_dataset(parquet_sample), strategy, as_of=AS_OF)


def test_parquet_folder_read_by_spark_gives_duckdbs_profiles(parquet_workspaces: tuple[Workspace, Workspace]) -> None:
    on_spark, duck = parquet_workspaces
    assert on_spark.spark_tables is not None and "orders" in on_spark.spark_tables
    # row for row in the order of the source (ties in the RFM ranks are broken by that order), same types
    _same(on_spark.profiles, duck.profiles)
    assert list(on_spark.profiles.dtypes) == list(duck.profiles.dtypes)
    assert duck.profiles["email_sends"].sum() > 0 and duck.profiles["site_visits_30d"].sum() > 0
    pd.testing.assert_frame_equal(on_spark.assigned, duck.assigned, check_exact=False, rtol=1e-9)
    # the work never needed the tables on this machine
    assert "dataset" not in on_spark._shared


def test_a_report_that_needs_the_tables_gets_a_local_copy(
    parquet_workspaces: tuple[Workspace, Workspace], strategy: object
) -> None:
    on_spark, duck = parquet_workspaces
    fresh = Workspace.create(on_spark.spark_tables, strategy, as_of=AS_OF, engine="spark")
    local = fresh.dataset  # loaded by the local contract from what Spark read, in the order of the files
    for name, table in duck.dataset.tables().items():
        pd.testing.assert_frame_equal(local.tables()[name], table, check_dtype=False)
    pd.testing.assert_frame_equal(local.quality, duck.dataset.quality)
    assert fresh.dataset is local


def test_profiles_written_by_spark_read_back_equal_duckdbs(
    parquet_workspaces: tuple[Workspace, Workspace], tmp_path: Path
) -> None:
    on_spark, duck = parquet_workspaces
    out = write_spark_profiles(on_spark.spark_profiles(), tmp_path / "profiles.parquet")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(
        f"preferred_channel={c}" for c in duck.profiles["preferred_channel"].unique()
    )
    back = pd.read_parquet(out)
    back["preferred_channel"] = back["preferred_channel"].astype(str)
    expected = duck.profiles.sort_values("customer_id", ignore_index=True)
    _same(back[list(expected.columns)].sort_values("customer_id", ignore_index=True), expected)
    assert expected["p_alive"].notna().sum() > 1000  # the predicted value was written too
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing staged is left


def test_spark_refuses_an_existing_output_without_force(parquet_workspaces: tuple[Workspace, Workspace], tmp_path):
    on_spark, _ = parquet_workspaces
    out = tmp_path / "profiles.parquet"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(WorkbenchError, match=r"is not empty\. Fix: choose a new folder, or pass --force"):
        write_spark_profiles(on_spark.spark_profiles(), out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles.parquet"]


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


@pytest.fixture(scope="module")
def spark_workspace(parquet_workspaces: tuple[Workspace, Workspace]) -> Workspace:
    """The Parquet sample read and worked on by Spark."""
    return parquet_workspaces[0]


def test_workspace_on_spark_from_a_local_dataset_gives_the_duckdb_profiles_and_segments(
    sample_workspace: Workspace,
) -> None:
    """Data read on this machine (CSV here) and handed to Spark: profiles and segments as DuckDB's."""
    on_spark = Workspace.create(sample_workspace.dataset, sample_workspace.strategy, as_of=AS_OF, engine="spark")
    _same(on_spark.profiles, sample_workspace.profiles)
    assert list(on_spark.profiles.dtypes) == list(sample_workspace.profiles.dtypes)
    pd.testing.assert_frame_equal(on_spark.assigned, sample_workspace.assigned, check_exact=False, rtol=1e-9)


@pytest.fixture(scope="module")
def duck_plan(parquet_workspaces: tuple[Workspace, Workspace]) -> object:
    """The DuckDB engine's 30-day plan of the sample, seed 11."""
    return parquet_workspaces[1].plan(days=30, seed=11)


@pytest.mark.parametrize("partitions", [1, 8])
def test_plan_from_spark_equals_duckdb_touch_for_touch(
    spark_workspace: Workspace, duck_plan: object, partitions: int
) -> None:
    duck = duck_plan
    from dataclasses import replace

    on_spark = replace(spark_workspace, partitions=partitions, _shared=spark_workspace._shared)
    plan = on_spark.plan(days=30, seed=11)
    assert len(duck.plan) > 1000
    pd.testing.assert_frame_equal(plan.plan, duck.plan)
    assert plan.plan.attrs["journey_stats"] == duck.plan.attrs["journey_stats"]


def test_another_seed_gives_another_plan(spark_workspace: Workspace) -> None:
    a = spark_workspace.plan(days=7, seed=1).plan
    b = spark_workspace.plan(days=7, seed=2).plan
    assert not a[["opened", "clicked"]].equals(b[["opened", "clicked"]])


def test_unknown_engine_is_refused(sample_dataset: object, strategy: object) -> None:
    from workbench.models.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=r"engine .flink. is not available\. Fix: use one of duckdb, spark"):
        Workspace.create(sample_dataset, strategy, engine="flink")


# ---------------------------------------------------------------- the plan written by Spark


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python strings (categories, Arrow strings and a partition column read back alike)."""
    out = frame.copy()
    for column in out.columns:
        kind = out[column].dtype
        typed = pd.api.types.is_bool_dtype(kind) or pd.api.types.is_numeric_dtype(kind)
        if not (typed or pd.api.types.is_datetime64_any_dtype(kind)):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def _same_plan(written: Path, expected: pd.DataFrame) -> None:
    """The plan read back from a folder partitioned by journey equals ``expected`` touch for touch."""
    journeys = sorted(p.name for p in written.iterdir() if p.is_dir())
    assert journeys == sorted(f"journey_id={j}" for j in expected["journey_id"].unique())
    assert not list(written.rglob("*.crc"))
    back = pd.read_parquet(written)
    assert len(back) == len(expected)
    assert str(back["planned_at"].dtype) == "datetime64[us, UTC]"
    keys = ["customer_id", "planned_at", "journey_id", "step_id", "entry"]
    got = _as_text(back[list(expected.columns)]).sort_values(keys, ignore_index=True)
    want = _as_text(expected).sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_plan_written_by_spark_reads_back_as_duckdbs_with_its_summaries(
    spark_workspace: Workspace, duck_plan: object, tmp_path: Path
) -> None:
    with staged_output(tmp_path / "plan") as folder:
        written = write_spark_plan(spark_workspace.spark_plan(days=30, seed=11), folder)
    assert set(written) == {"send_plan", *duck_plan.summaries()}
    assert len(duck_plan.plan) > 1000
    _same_plan(tmp_path / "plan" / "send_plan.parquet", duck_plan.plan)
    # the summaries, added up by Spark, are the DuckDB engine's (rows that tie on every sort key aside)
    for name, table in duck_plan.summaries().items():
        got = pd.read_csv(tmp_path / "plan" / "cadence" / f"{name}.csv")
        local = pd.read_csv(StringIO(table.to_csv(index=False)))
        columns = list(local.columns)
        assert list(got.columns) == columns and len(got) == len(local) > 0, name
        pd.testing.assert_frame_equal(
            got.sort_values(columns, ignore_index=True),
            local.sort_values(columns, ignore_index=True),
            check_exact=False,
            rtol=1e-9,
            obj=name,
        )


def test_simulate_command_on_spark_writes_the_plan_in_few_files(
    spark: object, small_dataset: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "shop"
    write_dataset(small_dataset, data, fmt="parquet")
    out = tmp_path / "plan"
    args = ["simulate", "--engine", "spark", "--data", str(data), "--days", "14", "--seed", "3", "--out", str(out)]
    assert main([*args, "--partitions", "2"]) == 0
    assert "send_plan" in capsys.readouterr().out
    folder = out / "send_plan.parquet"
    journeys = [p for p in folder.iterdir() if p.is_dir()]
    assert 0 < len(list(folder.rglob("*.parquet"))) <= 2 * len(journeys)  # a file per journey and partition at most
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "shop"]  # nothing staged is left beside it
    duck = Workspace.create(load_dataset(data), _strategy()).plan(days=14, seed=3).plan
    _same_plan(folder, duck)
    # an existing output is refused without --force (before any work), and kept
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main([*args]) == 2
    assert "is not empty. Fix: choose a new folder, or pass --force" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def _strategy() -> object:
    from workbench.io import load_strategy, sample_strategy

    return load_strategy(sample_strategy())


# ---------------------------------------------------------------- the contract, checked by Spark


def _orders(**changes: object) -> pd.DataFrame:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["a", "b", "a", "c"],
            "ordered_at": ["2024-01-01", "2024-01-02T10:00:00Z", "2024-01-03 08:00", "2024-02-01"],
            "amount": ["10", "20.5", "3", "7"],
        }
    )
    for column, values in changes.items():
        orders[column] = values
    return orders


_TYPED_OUTSIDE = pa.table(
    {
        "order_id": ["o1", "o2"],
        "customer_id": ["a", "b"],
        "ordered_at": pa.array(
            [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("9999-12-31", tz="UTC")], pa.timestamp("us", tz="UTC")
        ),
        "amount": [1.0, float("inf")],
    }
)

REFUSALS = {
    "missing column": {"orders": _orders().drop(columns=["amount"])},
    "unparseable timestamp": {"orders": _orders(ordered_at=["2024-01-01", "not a date", "2024-13-45", "2024-02-01"])},
    "out-of-range date": {"orders": _orders(ordered_at=["0001-01-01", "2024-01-02", "9999-12-31", "2024-02-01"])},
    "out-of-range typed timestamp": {"orders": _TYPED_OUTSIDE},
    "infinite amount": {"orders": _orders(amount=["10", "inf", "1e309", "-Infinity"])},
    "amount not a number": {"orders": _orders(amount=["10", "12,50", "", "7"])},
    "duplicate order id": {"orders": _orders(order_id=["o1", "o2", "o1", "o2"])},
    "missing id": {"orders": _orders(customer_id=["a", " ", None, "c"])},
    "day and month first": {"orders": _orders(ordered_at=["03/04/2024", "13/04/2024", "04/13/2024", "2024-02-01"])},
    "unknown channel": {
        "orders": _orders(),
        "consents": pd.DataFrame(
            {
                "customer_id": ["a", "b", "c"],
                "channel": ["email", "Push", None],
                "status": ["subscribed", "unsubscribed", "subscribed"],
                "recorded_at": ["2024-01-01", "2024-01-01", "2024-01-01"],
            }
        ),
    },
    "duplicate customer": {"orders": _orders(), "customers": pd.DataFrame({"customer_id": ["a", "b", "a", "c"]})},
    "empty customers": {"orders": _orders(), "customers": pd.DataFrame({"customer_id": pd.Series([], dtype=str)})},
    "empty orders": {"orders": _orders().iloc[:0]},
}


def _write(tables: dict[str, object], folder: Path) -> Path:
    folder.mkdir()
    for name, table in tables.items():
        arrow = table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)
        pq.write_table(arrow, folder / f"{name}.parquet")
    return folder


@pytest.mark.parametrize("case", list(REFUSALS))
def test_spark_refuses_what_the_contract_refuses_with_the_same_message(spark: object, tmp_path: Path, case: str):
    folder = _write(REFUSALS[case], tmp_path / "shop")
    with pytest.raises(DataContractError) as local:
        load_dataset(folder)
    with pytest.raises(DataContractError) as remote:
        read_spark_tables(spark, folder)
    assert str(remote.value) == str(local.value)
    assert (remote.value.table, remote.value.column, remote.value.count) == (
        local.value.table,
        local.value.column,
        local.value.count,
    )


def test_row_numbers_of_a_missing_id_count_across_files(spark: object, tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    orders = pa.Table.from_pandas(_orders(customer_id=["a", "b", "", "c"]), preserve_index=False)
    _split(
        pa.concat_tables([orders, orders.slice(0, 2)]).set_column(0, "order_id", pa.array(list("uvwxyz"))),
        folder / "orders.parquet",
        3,
    )
    with pytest.raises(DataContractError) as local:
        load_dataset(folder)
    with pytest.raises(DataContractError) as remote:
        read_spark_tables(spark, folder)
    assert "row 2" in str(local.value)
    assert str(remote.value) == str(local.value)


def test_tables_given_straight_to_the_engine_are_checked(spark: object) -> None:
    raw = engine.tables_from_frames(spark, {"orders": _orders(amount=["10", "inf", "3", "7"])})
    with pytest.raises(DataContractError, match=r"orders\.amount: value is infinite .* \(1 row; e\.g\. order_id o2\)"):
        engine.profiles(spark, raw, as_of="2024-03-01")
    frame = spark.createDataFrame(
        pd.DataFrame(
            {"customer_id": ["a"], "channel": ["fax"], "status": ["subscribed"], "recorded_at": ["2024-01-01"]}
        )
    )
    with pytest.raises(DataContractError, match=r"unknown channel \(fax\)"):
        engine.validate_table("consents", frame)


def test_text_and_orphans_are_read_as_the_contract_reads_them(spark: object, tmp_path: Path) -> None:
    """Dates written with numbers only, names of events written another way, orders of unknown customers."""
    tables = {
        "orders": _orders(
            ordered_at=["03/04/2024", "13/04/2024", " 2024-01-03 ", "2024-02-01"], amount=[" 10", "2", "3.5", "-1"]
        ),
        "customers": pd.DataFrame({"customer_id": [" b ", "a"], "email": ["b@example.com", None]}),
        "events": pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "event": ["Add To Cart", "Viewed Product"],
                "occurred_at": ["2024-02-20", "2024-02-21"],
            }
        ),
    }
    folder = _write(tables, tmp_path / "shop")
    local = load_dataset(folder)
    checked = read_spark_tables(spark, folder)
    for name in ("orders", "customers", "events"):
        got = engine.to_pandas(checked[name].orderBy(engine.source_order()).drop(*engine.HIDDEN))
        _same(got, local.tables()[name].reset_index(drop=True))
    assert engine.to_pandas(checked["customers"])["customer_id"].tolist() == ["b", "a", "c"]  # c only has orders
    profiles = engine.profiles(spark, checked, as_of="2024-03-01", keep_order=True).orderBy(engine.source_order())
    _same(engine.to_pandas(profiles.drop(*engine.HIDDEN)), build_profiles(local, as_of="2024-03-01"))
