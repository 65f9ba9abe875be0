"""A real PostgreSQL source: the contract's tables read from a database, and profiles computed inside it.

The server is Debian's PostgreSQL, started by the fixture on a free local port
in a temporary folder, as an unprivileged user (the server refuses to run as
root), and stopped at the end.
"""

from __future__ import annotations

import glob
import io
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from workbench.application import Workspace
from workbench.io import load_dataset, load_strategy, profiles_in_postgres, sample_strategy
from workbench.models.errors import DataContractError, FileError
from workbench.profiles import build_profiles, profile_sql

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-10-31"
USER = "workbench_pg"

pytestmark = pytest.mark.xdist_group("postgres")


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail("PostgreSQL's server is not installed. Fix: apt-get install postgresql (.ci/run does)")
    return Path(found[-1]).parent


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", USER, "--", *cmd]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a fresh PostgreSQL server of this machine, for this test session."""
    bin_dir = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True
            )
        shutil.chown(folder, USER)
    data = folder / "data"
    subprocess.run(
        _as_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--locale=C",
                "--encoding=UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(folder, ignore_errors=True)


_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision", "M": "timestamptz"}


def _create(con: object, schema: str, name: str, frame: pd.DataFrame) -> None:
    from psycopg import sql

    columns = []
    for column in frame.columns:
        kind = _TYPES.get(frame[column].dtype.kind, "text")
        columns.append(sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind)))
    con.execute(
        sql.SQL("create table {}.{} ({})").format(
            sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(columns)
        )
    )
    text = io.StringIO()
    frame.to_csv(text, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f%z")
    with con.cursor().copy(
        sql.SQL("copy {}.{} from stdin (format csv)").format(sql.Identifier(schema), sql.Identifier(name))
    ) as copy:
        copy.write(text.getvalue())


@pytest.fixture(scope="session")
def sample_in_postgres(postgres: str) -> str:
    """The sample dataset's five tables in schema ``shop`` of the server."""
    import psycopg

    dataset = load_dataset(ROOT / "data" / "sample")
    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute("create schema shop")
        for name, frame in dataset.tables().items():
            _create(con, "shop", name, frame)
    return f"{postgres}?schema=shop"


def _by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("customer_id", ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal row for row and column for column: exactly, or within 1e-9 relative for sums of amounts."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        left, right = a[column], b[column]
        if pd.api.types.is_float_dtype(left.dtype):
            assert np.allclose(left.to_numpy(float), right.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True), (
                column
            )
        else:
            l_values = left.astype(object).where(left.notna(), None).tolist()
            r_values = right.astype(object).where(right.notna(), None).tolist()
            assert l_values == r_values, column


def test_load_dataset_reads_every_table_from_postgres(sample_in_postgres: str) -> None:
    local = load_dataset(ROOT / "data" / "sample")
    remote = load_dataset(sample_in_postgres)
    assert set(remote.tables()) == set(local.tables())
    for name, frame in local.tables().items():
        got = remote.tables()[name]
        keys = [c for c in ("order_id", "message_id", "customer_id") if c in frame.columns][:1]
        keys += [c for c in frame.columns if c.endswith("_at") or c in ("event", "channel")]
        _same(
            got.sort_values(keys, ignore_index=True)[list(frame.columns)],
            frame.sort_values(keys, ignore_index=True),
        )
    assert "postgresql://" in remote.source
    # rows come in the order of their key (ties in the RFM ranks are broken by the order of the customers)
    assert remote.customers["customer_id"].tolist() == sorted(local.customers["customer_id"])
    assert remote.orders["order_id"].tolist() == sorted(local.orders["order_id"])


def test_profiles_computed_in_postgres_equal_duckdb(sample_in_postgres: str) -> None:
    local = build_profiles(load_dataset(ROOT / "data" / "sample"), as_of=AS_OF)
    remote = profiles_in_postgres(sample_in_postgres, as_of=AS_OF)
    _same(_by_customer(remote), _by_customer(local))
    assert (remote["orders_total"] > 0).sum() > 1000  # real work was compared


def test_default_as_of_in_postgres_is_the_latest_order(sample_in_postgres: str) -> None:
    dataset = load_dataset(ROOT / "data" / "sample")
    day = dataset.orders["ordered_at"].max().date()
    _same(_by_customer(profiles_in_postgres(sample_in_postgres)), _by_customer(build_profiles(dataset, as_of=day)))


def test_emitted_postgres_sql_runs_as_printed(sample_in_postgres: str, postgres: str) -> None:
    import psycopg

    sql = profile_sql(as_of=AS_OF, dialect="postgres", schema="shop", customer_columns=["email", "country"])
    with psycopg.connect(postgres) as con:
        rows = con.execute(sql).fetchall()
    assert len(rows) == 5000


def test_orders_without_customers_table(postgres: str) -> None:
    import psycopg

    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3"],
            "customer_id": ["b", "a", "b"],
            "ordered_at": pd.to_datetime(["1969-12-31 23:00", "2024-01-01 00:00", "2024-01-02 00:00"], utc=True),
            "amount": [10.0, 5.0, 20.0],
        }
    )
    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute("create schema lean")
        _create(con, "lean", "orders", orders)
    url = f"{postgres}?schema=lean"
    dataset = load_dataset(url)
    remote = profiles_in_postgres(url, as_of="2024-01-31")
    _same(_by_customer(remote), _by_customer(build_profiles(dataset, as_of="2024-01-31")))
    # days are UTC days also before 1970: 1969-12-31 is day -1, not day 0 (a truncating division)
    gap = (pd.Timestamp("2024-01-02") - pd.Timestamp("1969-12-31")).days
    assert remote.set_index("customer_id").loc["b", "recency"] == float(gap)


def test_missing_orders_and_bad_connection_say_what_to_fix(postgres: str) -> None:
    with pytest.raises(DataContractError, match="no orders table in schema 'nowhere'"):
        load_dataset(f"{postgres}?schema=nowhere")
    closed = f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"
    with pytest.raises(FileError, match=r"cannot connect to .* Fix: check the host"):
        load_dataset(closed)


# ---------------------------------------------------------------- a URL with a password through the commands

PASSWORD = "se:cr@t/1"


@pytest.fixture(scope="session")
def password_url(postgres: str, sample_in_postgres: str) -> str:
    """The sample's schema read by a role that must give its password (SCRAM), as a URL that carries it."""
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute(f"create role analyst login password '{PASSWORD}'")
        con.execute("grant usage on schema shop to analyst")
        con.execute("grant select on all tables in schema shop to analyst")
        hba = Path(con.execute("show hba_file").fetchone()[0])
        hba.write_text("host all analyst 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        con.execute("select pg_reload_conf()")
    host = postgres.split("@", 1)[1].split("/", 1)[0]
    return f"postgresql://analyst:{quote(PASSWORD, safe='')}@{host}/postgres?schema=shop"


def test_the_server_asks_for_the_password(password_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    without = password_url.replace(f":{quote(PASSWORD, safe='')}@", "@")
    with pytest.raises(FileError, match="cannot connect to postgresql://analyst@"):
        load_dataset(without)
    assert len(load_dataset(password_url).customers) == 5000


def test_commands_take_a_postgres_url_as_data(password_url: str, tmp_path: Path) -> None:
    from workbench.cli import main

    out = tmp_path / "profiles.parquet"
    assert main(["profiles", password_url, "--as-of", AS_OF, "--out", str(out)]) == 0
    local = build_profiles(load_dataset(ROOT / "data" / "sample"), as_of=AS_OF)
    written = pd.read_parquet(out)
    _same(_by_customer(written[list(local.columns)]), _by_customer(local))


def test_pipeline_reads_a_postgres_url_and_never_writes_its_password(
    password_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.cli import main

    monkeypatch.delenv("PGPASSWORD", raising=False)
    out = tmp_path / "runs"
    args = ["pipeline", "--only", "01_explore_audiences", "--data", password_url, "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["workbench", *args])  # the command line the manifest records
    assert main(args) == 0
    (run,) = list(out.iterdir())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok"]
    shown = password_url.replace(f":{quote(PASSWORD, safe='')}@", ":***@")
    assert manifest["inputs"][0] == {"url": shown, "kind": "postgresql"}
    assert shown in manifest["command"]
    assert manifest["parameters"]["data_path"] == password_url.replace(f":{quote(PASSWORD, safe='')}@", "@")
    # the notebook read the database (the password reached its kernel, not its parameters)
    sizes = pd.read_csv(run / "audiences" / "segment_sizes.csv")
    local = Workspace.create(load_dataset(password_url), load_strategy(sample_strategy()))
    assert sizes["customers"].tolist() == local.segment_sizes["customers"].tolist()
    for path in run.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert PASSWORD.encode() not in text and quote(PASSWORD, safe="").encode() not in text, path
