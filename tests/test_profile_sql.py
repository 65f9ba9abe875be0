"""The profile SQL written once and generated per dialect: it runs, and it says the same in every dialect."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from workbench import application, cli, profiles
from workbench.cli import main
from workbench.profiles import DIALECTS, build_profiles, finish_profiles, profile_sql, sql_columns

AS_OF = "2026-10-31"


def test_the_command_line_knows_every_engine_and_dialect() -> None:
    assert cli.ENGINES == application.ENGINES
    assert cli.DIALECTS == profiles.DIALECTS


def test_duckdb_dialect_run_on_duckdb_gives_the_profiles(sample_dataset) -> None:
    sql = profile_sql(as_of=AS_OF, dialect="duckdb")
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        for name, frame in sample_dataset.tables().items():
            con.register(name, frame)
        table = con.sql(sql).to_arrow_table()
    customers = sample_dataset.customers
    where = pd.Index(table.column("customer_id").to_pylist()).get_indexer(customers["customer_id"].astype(object))
    got = finish_profiles(customers, sql_columns(table.take(where)), as_of=AS_OF)
    want = build_profiles(sample_dataset, as_of=AS_OF)
    for column in want.columns:
        left, right = got[column], want[column]
        if pd.api.types.is_float_dtype(right.dtype):
            assert np.allclose(left.to_numpy(float), right.to_numpy(float), rtol=1e-9, equal_nan=True), column
        else:
            assert (
                left.astype(object).where(left.notna(), None).tolist()
                == right.astype(object).where(right.notna(), None).tolist()
            ), column


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_back_and_keeps_no_duckdb_only_function(dialect: str) -> None:
    sql = profile_sql(as_of=AS_OF, dialect=dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    names = {str(node.name).lower() for node in tree.find_all(sqlglot.exp.Anonymous)}
    assert not names & {"epoch_us", "us_day", "arg_min", "arg_max"} - ({"epoch_us"} if dialect == "duckdb" else set())
    assert "GROUP BY ALL" not in sql.upper()
    if dialect in ("bigquery", "snowflake"):
        assert "FILTER(" not in sql.upper().replace(" ", "")


def test_day_numbers_round_down_before_1970() -> None:
    with duckdb.connect() as con:
        con.execute(f"create macro us_day(us) as {profiles.US_DAY_MACRO}")
        got = con.execute(
            "select us_day(epoch_us(timestamptz '1969-12-31 23:00:00+00')),"
            " us_day(epoch_us(timestamptz '1970-01-01 00:00:00+00')),"
            " us_day(epoch_us(timestamptz '1900-01-01 00:00:00+00'))"
        ).fetchone()
    assert got == (-1, 0, (pd.Timestamp("1900-01-01") - pd.Timestamp("1970-01-01")).days)


def test_emit_sql_prints_the_spark_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "--emit-sql", "--dialect", "spark", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "UNIX_MICROS(" in out and "CAST(FLOOR(" in out and out.rstrip().endswith(";")
    sqlglot.parse_one(out.rstrip().rstrip(";"), read="spark")


def test_profiles_without_out_or_emit_sql_says_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 2
    assert "--out" in capsys.readouterr().err
