"""Hostile and careless input, one class at a time: nothing reaches files outside the output, shared state or the
user's inputs; every refusal is a message with its fix and an exit status that says what kind of failure it was.

The classes follow the safety issue: (1) data deciding where files go, (2) segment rules as SQL, (3) templates
changing shared state, (4) outputs over inputs, (5) silently wrong results, (6) checks that check nothing,
(7) unbounded work, (8) interrupts, (9) crashes. Segment rules and templates have their own modules
(test_rules.py, test_template_safety.py); here each class has at least one end-to-end case through the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.io import OutputFolder, load_dataset, safe_name, write_exports
from workbench.models.errors import DataContractError, FileError, StrategyError
from workbench.profiles import build_profiles

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
STRATEGY = ROOT / "data" / "strategy.yaml"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with its sha256 (what 'unchanged' means)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _orders(n: int = 4, **columns: object) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{i % 3}" for i in range(n)],
            "ordered_at": [f"2026-0{1 + i % 9}-1{i % 9}T10:00:00Z" for i in range(n)],
            "amount": [f"{10 + i}.50" for i in range(n)],
        }
    )
    for name, values in columns.items():
        base[name] = values
    return base


def _folder(tmp_path: Path, name: str = "data", **tables: pd.DataFrame) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for table, df in tables.items():
        df.to_csv(folder / f"{table}.csv", index=False)
    return folder


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- 1. data decides where files go


def test_names_from_data_never_leave_the_output_folder(tmp_path):
    out = OutputFolder(tmp_path / "out")
    outside = tmp_path / "victim.txt"
    outside.write_text("keep me")
    for name in ("../victim.txt", "a/../../victim.txt", str(outside), "/etc/passwd"):
        with pytest.raises(FileError, match="refused to write"):
            out.write_text(name, "overwritten")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)  # a symbolic link inside that leads out
    with pytest.raises(FileError, match="outside the output folder"):
        out.write_text("link/victim.txt", "overwritten")
    assert outside.read_text() == "keep me" and out.written == []


def test_an_export_whose_file_names_climb_out_is_refused_and_writes_nothing_outside(tmp_path):
    from workbench.exporters import ExportResult

    result = ExportResult("klaviyo", files={"ok.json": "{}", "../../escaped.json": "{}"})
    before = _tree(tmp_path)
    with pytest.raises(FileError, match=r"refused to write klaviyo/\.\./\.\./escaped\.json"):
        write_exports({"klaviyo": result}, tmp_path / "exports")
    assert not (tmp_path.parent / "escaped.json").exists()
    assert {k: v for k, v in _tree(tmp_path).items() if not k.startswith("exports")} == before


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=2, max_size=2, unique=True))
def test_distinct_names_never_share_a_file_and_never_climb(names):
    encoded = [safe_name(n) for n in names]
    assert encoded[0] != encoded[1]
    for e in encoded:
        assert e not in ("", ".", "..") and "/" not in e and "\\" not in e and "\x00" not in e
        assert len(e) <= 80


@pytest.mark.slow
def test_crafted_customer_ids_do_not_steer_the_preview_gallery(tmp_path, capsys):
    from workbench.synth import synthesize

    dataset = synthesize(150, seed=3)
    customers = dataset.customers.copy()
    crafted = ["../../../../escape", "..", "/tmp/abs", "a\\b", "x" * 300]
    old = customers["customer_id"].iloc[: len(crafted)].tolist()
    renames = dict(zip(old, crafted, strict=True))
    data = tmp_path / "data"
    data.mkdir()
    for name, df in dataset.tables().items():
        frame = df.copy()
        frame["customer_id"] = frame["customer_id"].replace(renames)
        frame.to_csv(data / f"{name}.csv", index=False)
    before = _tree(tmp_path)
    out = tmp_path / "out"
    args = ["pipeline", "--data", str(data), "--only", "02_preview_messages", "--out", str(out)]
    code, _, err = _run(capsys, *args)
    assert code == 0, err
    (run,) = out.iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    written = {k for k in _tree(tmp_path) if k not in before}
    assert all(k.startswith("out/") for k in written), "every new file is inside --out"
    listed = {f"out/{run.name}/{o}" for o in manifest["outputs"]} | {f"out/{run.name}/manifest.json"}
    assert written == listed, "and the manifest lists every one"
    assert not (tmp_path.parent / "escape").exists()


# ---------------------------------------------------------------- 2. segment rules are raw SQL


def test_a_rule_that_reads_a_file_is_invalid_everywhere(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    strategy = tmp_path / "s.yaml"
    strategy.write_text(
        STRATEGY.read_text().replace("rule: support_tickets_30d > 0", f"rule: read_text('{secret}') is not null")
    )
    code, _, err = _run(capsys, "validate", str(strategy))
    assert code == 2 and "calls read_text(), which reads files or settings outside the profiles" in err
    code, _, err = _run(capsys, "segments", str(SAMPLE), "--strategy", str(strategy), "--out", str(tmp_path / "o"))
    assert code == 2 and "read_text()" in err and not (tmp_path / "o").exists()


# ---------------------------------------------------------------- 3. templates change shared state


def test_a_template_cannot_rewrite_the_brand_other_messages_use(tmp_path, strategy, sample_profiles):
    import shutil

    from workbench.messages.render import Renderer
    from workbench.models.errors import TemplateError

    library = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", library)
    sms = library / "welcome" / "sms.txt.j2"
    sms.write_text("{{ brand.update({'name': 'Evil'}) }}" + sms.read_text())
    renderer = Renderer(strategy, templates_dir=library)
    customer = sample_profiles[sample_profiles["locale"] == "en-US"].iloc[0].to_dict()  # the root (default) files
    with pytest.raises(TemplateError, match=r"welcome/sms\.txt\.j2"):
        renderer.render_pair("welcome", customer)
    assert renderer.render_pair("cart_abandonment", customer).sms.startswith(strategy.brand.name)


# ---------------------------------------------------------------- 4. outputs overwrite inputs and files


def test_outputs_never_land_on_an_input_or_an_existing_file(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "--customers", "40", "--out", str(data)]) == 0
    strategy = tmp_path / "strategy.yaml"
    strategy.write_text(STRATEGY.read_text())
    capsys.readouterr()
    before = _tree(tmp_path)
    cases = [
        ("lint", "--data", str(data), "--strategy", str(strategy), "--sample", "2", "--out", str(strategy)),
        ("lint", "--data", str(data), "--strategy", str(strategy), "--sample", "2", "--out", str(strategy), "--force"),
        ("profiles", str(data), "--out", str(data / "orders.csv.gz"), "--force"),
        ("export", "--data", str(data), "--strategy", str(strategy), "--out", str(data / "exports"), "--force"),
        ("simulate", "--data", str(data), "--strategy", str(strategy), "--days", "2", "--out", str(data / "p")),
        ("segments", str(data), "--strategy", str(strategy), "--out", str(tmp_path)),
    ]
    for args in cases:
        code, _, err = _run(capsys, *args)
        assert code == 3 and "would overwrite or sit inside the input" in err, (args, err)
    assert _tree(tmp_path) == before


def test_a_failed_export_leaves_the_existing_output_as_it_was(tmp_path, capsys):
    out = tmp_path / "exports"
    assert main(["export", "--strategy", str(STRATEGY), "--target", "canonical", "--out", str(out)]) == 0
    before = _tree(out)
    bad_ids = tmp_path / "ids.yaml"
    bad_ids.write_text("target: klaviyo\nids: {metric: {Nope: x}}\n")
    capsys.readouterr()
    args = ["export", "--strategy", str(STRATEGY), "--target", "klaviyo", "--ids", str(bad_ids)]
    code, _, err = _run(capsys, *args, "--out", str(out), "--force")
    assert code == 2 and err.startswith("error: ")
    assert _tree(out) == before, "all or none: the old outputs stay until new ones are complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "ids.yaml"], "no partial folder left behind"


def test_an_existing_plan_is_not_replaced_without_force(tmp_path, capsys):
    out = tmp_path / "plan"
    args = ["simulate", "--days", "2", "--out", str(out)]
    assert main(args) == 0
    before = _tree(out)
    assert set(before) >= {"send_plan.parquet", "cadence/daily_volume.csv"}
    code, _, err = _run(capsys, *args)
    assert code == 2 and "is not empty" in err and _tree(out) == before


# ---------------------------------------------------------------- 5. silently wrong results


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("inf", "value is infinite"),
        ("Infinity", "value is infinite"),
        ("1e309", "value is infinite"),
        ("-inf", "value is infinite"),
    ],
)
def test_infinite_amounts_are_refused(tmp_path, amount, problem):
    data = _folder(tmp_path, orders=_orders(amount=["10", amount, "3", "4"]))
    with pytest.raises(DataContractError, match=problem) as info:
        load_dataset(data)
    assert info.value.count == 1 and info.value.examples == ["o1"]


def test_day_and_month_are_read_in_one_order_or_refused(tmp_path):
    mixed = _folder(
        tmp_path, "mixed", orders=_orders(ordered_at=["03/04/2026", "13/04/2026", "01/02/2026", "5/6/2026"])
    )
    read = load_dataset(mixed).orders.set_index("order_id")["ordered_at"]
    assert read["o0"] == pd.Timestamp("2026-04-03", tz="UTC")  # 13/04 tells the column is day first
    assert read["o3"] == pd.Timestamp("2026-06-05", tz="UTC")
    ambiguous = _folder(
        tmp_path, "ambiguous", orders=_orders(ordered_at=["03/04/2026", "05/06/2026", "01/02/2026", "1/1/2026"])
    )
    with pytest.raises(DataContractError, match="could be day/month or month/day"):
        load_dataset(ambiguous)
    both = _folder(tmp_path, "both", orders=_orders(ordered_at=["13/04/2026", "04/13/2026", "01/02/2026", "1/1/2026"]))
    with pytest.raises(DataContractError, match="day first in some rows"):
        load_dataset(both)


def test_two_files_for_one_table_are_refused(tmp_path):
    data = _folder(tmp_path, orders=_orders())
    _orders().to_parquet(data / "orders.parquet")
    with pytest.raises(DataContractError, match=r"2 files hold the orders table .*orders\.parquet, orders\.csv"):
        load_dataset(data)


def test_event_names_written_another_way_are_renamed_and_unknown_ones_counted(tmp_path):
    events = pd.DataFrame(
        {
            "customer_id": ["c0", "c1", "c2", "c0"],
            "occurred_at": ["2026-01-01T10:00:00Z"] * 4,
            "event": ["Add To Cart", "Viewed Product", "Wishlist Added", "site_visit"],
        }
    )
    ds = load_dataset(_folder(tmp_path, orders=_orders(), events=events))
    assert ds.events["event"].tolist() == ["add_to_cart", "product_view", "wishlist_added", "site_visit"]
    quality = ds.quality.set_index("check")
    assert quality.loc["event names written another way", "rows"] == 2
    assert "Add To Cart → add_to_cart" in quality.loc["event names written another way", "examples"]
    assert quality.loc["event names the workbench does not read", "rows"] == 1
    assert "wishlist_added (1)" in quality.loc["event names the workbench does not read", "examples"]


def test_a_customers_table_with_only_a_header_is_refused(tmp_path):
    data = _folder(tmp_path, orders=_orders())
    (data / "customers.csv").write_text("customer_id,email,phone\n")
    with pytest.raises(DataContractError, match="the customers table has no rows while orders name 3 customers"):
        load_dataset(data)


def test_ids_that_spreadsheets_would_run_are_defused_in_csv_and_reported(tmp_path, capsys):
    customers = pd.DataFrame({"customer_id": ['=HYPERLINK("http://x")', "+c1", "c2"], "email": ["a@x.io"] * 3})
    orders = _orders(customer_id=['=HYPERLINK("http://x")', "+c1", "c2", "c2"])
    data = _folder(tmp_path, orders=orders, customers=customers)
    ds = load_dataset(data)
    formula = ds.quality.set_index("check").loc["id starts like a spreadsheet formula (=, +, -, @)"]
    assert formula["rows"] == 2
    out = tmp_path / "out"
    assert main(["segments", str(data), "--out", str(out)]) == 0
    (run,) = out.iterdir()
    text = (run / "audiences" / "segment_sizes.csv").read_text()
    assert "\n=" not in text and ",=" not in text
    written = pd.read_csv(run / "audiences" / "unreachable.csv", dtype=str)
    assert set(written["customer_id"]) <= {'\'=HYPERLINK("http://x")', "'+c1", "c2"}


def test_a_plan_of_a_journey_validate_rejects_is_refused(tmp_path, capsys):
    text = STRATEGY.read_text() + (
        "  - id: bad_split\n    graph:\n      name: Bad split\n      trigger: {type: event, event: add_to_cart}\n"
        "      entry: split\n      nodes:\n"
        "        - {id: split, type: random_split, branches: [{name: a, share: 120, next: end},"
        " {name: b, share: -20, next: end}]}\n"
        "        - {id: end, type: end}\n"
    )
    strategy = tmp_path / "s.yaml"
    strategy.write_text(text)
    code, _, err = _run(capsys, "validate", str(strategy))
    assert code == 2 and "include b -20, which is not a share of customers" in err
    code, _, err = _run(capsys, "simulate", "--strategy", str(strategy), "--days", "2", "--out", str(tmp_path / "p"))
    assert code == 2 and "include b -20, which is not a share of customers" in err
    assert not (tmp_path / "p").exists()


def test_dates_outside_reason_are_refused(tmp_path, capsys):
    data = _folder(tmp_path, orders=_orders(ordered_at=["0001-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]))
    with pytest.raises(DataContractError, match="timestamp outside 1900-2199") as info:
        load_dataset(data)
    assert info.value.examples == ["o0"]
    code, _, err = _run(capsys, "profiles", str(SAMPLE), "--as-of", "9999-12-31", "--out", str(tmp_path / "p.csv"))
    assert code == 2 and "as_of 9999-12-31 is outside 1900-2199" in err


# ---------------------------------------------------------------- 6. checks that pass while checking nothing


def test_checks_over_nothing_are_errors(tmp_path, capsys):
    empty = tmp_path / "templates"
    empty.mkdir()
    code, _, err = _run(capsys, "lint", "--templates", str(empty))
    assert code == 2 and "holds no moment" in err
    code, _, err = _run(capsys, "lint", "--sample", "0")
    assert code == 2 and "at least one customer" in err
    code, _, err = _run(capsys, "pipeline", "--only", "01_explore_audience", "--out", str(tmp_path / "o"))
    assert code == 4 and "no pipeline notebook 01_explore_audience" in err
    assert not (tmp_path / "o").exists()


def test_a_pipeline_that_finds_no_notebooks_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_NOTEBOOKS", str(tmp_path / "none"))
    code, _, err = _run(capsys, "pipeline", "--out", str(tmp_path / "o"))
    assert code == 4 and "is missing" in err


# ---------------------------------------------------------------- 7. unbounded work


def test_a_yaml_bomb_is_refused_before_it_expands(tmp_path, capsys):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    code, _, err = _run(capsys, "validate", str(bomb))
    assert code == 2 and "expands to more than 200,000 values" in err
    assert time.perf_counter() - started < 2


def test_sizes_are_bounded_before_any_work_starts(tmp_path, capsys):
    started = time.perf_counter()
    code, _, err = _run(capsys, "synth", "--customers", "100000000", "--out", str(tmp_path / "d"))
    assert code == 2 and "--customers must be 1 to 5,000,000" in err
    code, _, err = _run(capsys, "synth", "--customers", "-5", "--out", str(tmp_path / "d"))
    assert code == 2 and "not -5" in err
    code, _, err = _run(capsys, "simulate", "--days", "3650000", "--out", str(tmp_path / "p"))
    assert code == 2 and "days must be 1 to 1,096, not 3,650,000" in err
    assert time.perf_counter() - started < 20  # the refusals come before work: only loading the sample
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- 8. interrupts


def _running(pid: str) -> bool:
    """Whether a process is alive: it exists and is not a zombie (one that has exited, left for the init
    process to reap once its parent is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


#: Runs a command with Ctrl-C as a terminal gives it (SIGINT handled by default and not blocked), whatever the
#: test process inherited or was left with: a child keeps an ignored or blocked SIGINT across exec.
_AS_FROM_A_TERMINAL = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); os.execv(sys.argv[1], sys.argv[1:])",
]


@pytest.mark.slow
@pytest.mark.parametrize("when", ["checking the data", "running notebooks"])
def test_an_interrupted_pipeline_stops_its_kernels_at_once_and_says_it_is_incomplete(tmp_path, when):
    """Kernels start while the data is checked. Interrupted then, nothing is written; once notebooks run,
    the run folder says it is incomplete. Either way no kernel is left running."""
    out = tmp_path / "out"
    run = subprocess.Popen(
        [*_AS_FROM_A_TERMINAL, str(Path(sys.executable).with_name("workbench")), "pipeline", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    kernels: list[str] = []
    while time.monotonic() < deadline:
        kernels = subprocess.run(["pgrep", "-P", str(run.pid)], capture_output=True, text=True).stdout.split()
        if kernels and (when == "checking the data" or (out.exists() and any(out.iterdir()))):
            break
        time.sleep(0.1)
    assert kernels, "the pipeline started its notebooks' kernels"
    started = time.monotonic()
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "interrupted" in err, (run.returncode, err[-2000:])
    assert "Traceback" not in err, "a kernel stopped while it started is not reported as an error"
    assert time.monotonic() - started < 10
    assert not [k for k in kernels if _running(k)], "no kernel left running"
    folders = list(out.iterdir()) if out.exists() else []
    if when == "running notebooks":
        assert len(folders) == 1
    for folder in folders:  # a folder is only ever left saying it is incomplete
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == "interrupted" and (folder / "INCOMPLETE").exists()
        assert "interrupted" in {n["status"] for n in manifest["notebooks"]}


@pytest.mark.slow
@pytest.mark.parametrize("raised", ["Query interrupted", "something else"])
def test_ctrl_c_while_duckdb_reads_the_data_is_an_interruption(tmp_path, capsys, monkeypatch, raised):
    """DuckDB turns Ctrl-C during a query into RuntimeError("Query interrupted"): the run stops as for
    any Ctrl-C (exit 130, no kernel left, nothing written), not as a bug; another RuntimeError is a bug."""
    import workbench.reports

    def read(source):
        time.sleep(0.5)  # the kernels are starting meanwhile
        raise RuntimeError(raised)

    monkeypatch.setattr(workbench.reports, "load_dataset", read)
    before = _children()
    code, _, err = _run(capsys, "pipeline", "--out", str(tmp_path / "out"))
    if raised == "Query interrupted":
        assert code == 130 and "interrupted: nothing more was written" in err and "bug" not in err
    else:
        assert code == 70 and "unexpected RuntimeError: something else" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    deadline = time.monotonic() + 10
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _children() - before, "no kernel left running"


def _children() -> set[str]:
    """This process's children (the kernels the pipeline starts run in-process here)."""
    return set(subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split())


# ---------------------------------------------------------------- 9. crashes and tracebacks


def test_a_plan_where_no_journey_holds_another_back(tmp_path, capsys):
    code, _, err = _run(capsys, "simulate", "--start", "2026-12-01", "--days", "10", "--out", str(tmp_path / "p"))
    assert code == 0, err
    assert pd.read_csv(tmp_path / "p" / "cadence" / "collisions.csv").shape[1] == 5


def _orders_only(n: int, customers: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    stamps = (start + rng.integers(0, 700 * 86400, n)).astype("datetime64[s]")
    return pa.table(
        {
            "order_id": pa.array([f"o{i}" for i in range(n)]),
            "customer_id": pa.array([f"c{x}" for x in rng.integers(0, customers, n)]),
            "ordered_at": pa.array(np.datetime_as_string(stamps, unit="s")),
            "amount": pa.array(np.round(rng.gamma(2.0, 30.0, n), 2)),
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("n", [100_000, pytest.param(2_000_000, marks=pytest.mark.slow)])
def test_a_dataset_of_orders_only_builds_profiles(tmp_path, fmt, n):
    """The README's "only orders is required" path, at realistic sizes (read in several Arrow chunks)."""
    table = _orders_only(n, n // 8, seed=n)
    (pacsv.write_csv if fmt == "csv" else pq.write_table)(table, tmp_path / f"orders.{fmt}")
    dataset = load_dataset(tmp_path)
    profiles = build_profiles(dataset, as_of="2025-12-31")
    ids = pd.Series(table.column("customer_id").to_pylist())
    assert len(profiles) == ids.nunique() == len(dataset.customers)
    assert profiles["orders_total"].sum() == n
    counts = ids.value_counts()
    got = profiles.set_index("customer_id")["orders_total"]
    assert (got.loc[counts.index[:50]].to_numpy() == counts.iloc[:50].to_numpy()).all()


def _broken_inputs(tmp: Path) -> dict[str, str]:
    """Paths of broken inputs of every kind."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "not_duckdb.duckdb").write_text("this is not a database")
    (tmp / "not_utf8.yaml").write_bytes(b"name: caf\xe9\nbrand: {}\n")
    (tmp / "bad.yaml").write_text("name: [unclosed\n")
    (tmp / "a_file").write_text("x")
    garbage = tmp / "garbage"
    garbage.mkdir(exist_ok=True)
    (garbage / "orders.csv").write_bytes(b"\x00\x01\x02not,a,csv\n\xff\xfe")
    (tmp / "not_a_notebook.ipynb").write_text("{nope")
    return {
        "missing": str(tmp / "missing"),
        "not_duckdb": str(tmp / "not_duckdb.duckdb"),
        "not_utf8": str(tmp / "not_utf8.yaml"),
        "bad_yaml": str(tmp / "bad.yaml"),
        "a_file": str(tmp / "a_file"),
        "under_a_file": str(tmp / "a_file" / "below"),
        "garbage": str(garbage),
        "folder": str(tmp),
        "not_a_notebook": str(tmp / "not_a_notebook.ipynb"),
    }


_BROKEN = [
    ("profiles", "{missing}", "--out", "{out}/p.csv"),
    ("profiles", "{not_duckdb}", "--out", "{out}/p.csv"),
    ("profiles", "{garbage}", "--out", "{out}/p.csv"),
    ("profiles", "--as-of", "9999-12-31", "--out", "{out}/p.csv"),
    ("profiles", "--as-of", "not-a-date", "--out", "{out}/p.csv"),
    ("profiles", "--out", "{under_a_file}/p.csv"),
    ("profiles", "--out", "{folder}"),
    ("segments", "--strategy", "{not_utf8}", "--out", "{out}"),
    ("segments", "--strategy", "{bad_yaml}", "--out", "{out}"),
    ("segments", "--strategy", "{folder}", "--out", "{out}"),
    ("segments", "--out", "{a_file}"),
    ("validate", "{folder}"),
    ("validate", "{missing}"),
    ("validate", "{not_utf8}"),
    ("validate", "{bad_yaml}"),
    ("diff", "{bad_yaml}", "{missing}"),
    ("export", "--strategy", "{missing}", "--out", "{out}/e"),
    ("export", "--strategy", "{not_utf8}", "--out", "{out}/e"),
    ("export", "--target", "braze", "--out", "{out}/e"),
    ("export", "--ids", "{bad_yaml}", "--out", "{out}/e"),
    ("export", "--out", "{under_a_file}"),
    ("simulate", "--policy", "{{unclosed", "--days", "2", "--out", "{out}/p"),
    ("simulate", "--policy", "[1, 2]", "--days", "2", "--out", "{out}/p"),
    ("simulate", "--start", "yesterday", "--days", "2", "--out", "{out}/p"),
    ("simulate", "--days", "0", "--out", "{out}/p"),
    ("simulate", "--data", "{not_duckdb}", "--days", "2", "--out", "{out}/p"),
    ("simulate", "--days", "2", "--out", "{under_a_file}"),
    ("lint", "--data", "{garbage}"),
    ("lint", "--strategy", "{bad_yaml}"),
    ("lint", "--templates", "{missing}"),
    ("lint", "--out", "{under_a_file}/l.csv"),
    ("synth", "--customers", "0", "--out", "{out}/d"),
    ("synth", "--end", "not-a-date", "--customers", "10", "--out", "{out}/d"),
    ("synth", "--customers", "10", "--out", "{a_file}"),
    ("run", "{missing}", "--out", "{out}"),
    ("run", "{not_a_notebook}", "--out", "{out}"),
    ("run", "{folder}", "--out", "{out}"),
    ("pipeline", "--data", "{garbage}", "--out", "{out}"),
    ("pipeline", "--strategy", "{not_utf8}", "--out", "{out}"),
    ("pipeline", "--out", "{a_file}"),
    ("ids", "--target", "klaviyo", "--strategy", "{bad_yaml}"),
    ("ids", "--target", "klaviyo", "--out", "{under_a_file}"),
    ("deploy", "--target", "dittofeed", "--strategy", "{missing}"),
    ("deploy", "--target", "dittofeed", "--strategy", "{not_utf8}"),
    ("deploy", "--target", "klaviyo", "--strategy", "{bad_yaml}", "--ids", "{missing}"),
]


@pytest.mark.parametrize("args", _BROKEN, ids=[" ".join(a[:2]) + f" #{i}" for i, a in enumerate(_BROKEN)])
def test_every_command_ends_broken_input_in_a_message_not_a_traceback(tmp_path, capsys, args):
    paths = _broken_inputs(tmp_path / "inputs")
    paths["out"] = str(tmp_path / "out")
    before = _tree(tmp_path / "inputs")
    code, _, err = _run(capsys, *(a.format(**paths) for a in args))
    assert code in (2, 3, 4), (code, err)
    assert "Traceback" not in err and "unexpected" not in err, err
    if args[0] == "validate":  # a list of problems, each with its line and fix
        assert " problem" in err.splitlines()[0] and "Fix:" in err, err
    else:
        assert err.startswith("error: ") and "Fix:" in err, err
    assert _tree(tmp_path / "inputs") == before, "inputs unchanged"


@pytest.mark.slow
def test_the_installed_command_prints_no_traceback(tmp_path):
    """The console script itself (not main() in-process) on broken input: one message, no traceback."""
    exe = Path(sys.executable).with_name("workbench")
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_DEBUG"}
    done = subprocess.run(
        [str(exe), "profiles", str(tmp_path / "nowhere"), "--out", str(tmp_path / "p.csv")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 3 and done.stderr.startswith("error: data path") and "Traceback" not in done.stderr


def test_a_strategy_error_names_the_segment_rule_and_fix():
    from workbench.models.strategy import parse_strategy

    with pytest.raises(StrategyError, match="segment name 'lapsed' is also a built-in lifecycle segment"):
        parse_strategy(STRATEGY.read_text().replace("  - name: unreachable\n", "  - name: lapsed\n"), source="s.yaml")
