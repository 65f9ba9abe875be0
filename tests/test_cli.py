"""The command line: each subcommand does what it says, refuses to overwrite, and explains bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_synth_writes_tables_and_refuses_non_empty_folder(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["synth", "--customers", "120", "--seed", "5", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{t}.csv.gz" for t in ("customers", "orders", "events", "consents", "messages")
    )
    said = capsys.readouterr().out
    assert "wrote 5 tables" in said
    for name in ("customers", "orders", "events", "consents", "messages"):  # each table's rows, as written
        rows = len(pd.read_csv(out / f"{name}.csv.gz"))
        assert f"{name} {rows:,}" in said
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["synth", "--customers", "50", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_profiles_by_extension(tmp_path, suffix, capsys):
    data = tmp_path / "d"
    main(["synth", "--customers", "80", "--out", str(data)])
    target = tmp_path / f"profiles{suffix}"
    assert main(["profiles", str(data), "--as-of", "2026-10-31", "--out", str(target)]) == 0
    df = pd.read_parquet(target) if suffix == ".parquet" else pd.read_csv(target)
    assert len(df) == 80 and "frequency" in df.columns
    assert main(["profiles", str(data), "--as-of", "2026-10-31", "--out", str(target)]) == 2
    assert "exists" in capsys.readouterr().err


def test_contract_error_is_a_message_not_a_traceback(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n1,a,2024-01-01,ten\n")
    assert main(["profiles", str(data), "--as-of", "2024-01-31", "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: orders.amount") and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


def test_an_output_inside_the_input_folder_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    main(["synth", "--customers", "30", "--out", str(data)])
    before = sorted(p.name for p in data.iterdir())
    assert main(["profiles", str(data), "--out", str(data / "profiles.parquet"), "--force"]) == 3
    assert "would overwrite or sit inside the input" in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == before


def test_validate(capsys):
    assert main(["validate", str(ROOT / "data" / "strategy.yaml")]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_canonical_journey_file(tmp_path, capsys):
    out = tmp_path / "exports"
    strategy = str(ROOT / "data" / "strategy.yaml")
    assert main(["export", "--strategy", strategy, "--target", "canonical", "--out", str(out)]) == 0
    journey = out / "canonical" / "welcome_series.json"
    capsys.readouterr()
    assert main(["validate", str(journey)]) == 0
    assert capsys.readouterr().out.strip() == f"{journey}: valid (1 journey)"


def test_validate_reports_line(tmp_path, capsys):
    bad = tmp_path / "s.yaml"
    bad.write_text((ROOT / "data" / "strategy.yaml").read_text().replace("website_url: https", "website_url: ftp"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "brand.website_url" in err and "line " in err


def test_segments_command_writes_audiences(tmp_path, capsys):
    assert (
        main(
            [
                "segments",
                str(ROOT / "data" / "sample"),
                "--strategy",
                str(ROOT / "data" / "strategy.yaml"),
                "--as-of",
                "2026-10-31",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    (run,) = list(tmp_path.iterdir())
    sizes = pd.read_csv(run / "audiences" / "segment_sizes.csv")
    vip = pd.read_csv(run / "audiences" / "vip.csv")
    assert len(vip) == sizes.set_index("segment").loc["vip", "customers"]


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("workbench")
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for command in ("synth", "profiles", "run", "pipeline", "validate"):
        assert command in done.stdout


def test_export_diff_lint_simulate(tmp_path, capsys):
    strategy = str(ROOT / "data" / "strategy.yaml")
    data = str(ROOT / "data" / "sample")
    out = tmp_path / "exports"
    assert main(["export", "--strategy", strategy, "--target", "klaviyo,dittofeed", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["dittofeed", "klaviyo"]
    assert (out / "klaviyo" / "report.json").exists()
    assert main(["export", "--strategy", strategy, "--target", "klaviyo", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err

    changed = tmp_path / "changed.yaml"
    text = (ROOT / "data" / "strategy.yaml").read_text()
    changed.write_text(text.replace("holdout_percent: 10", "holdout_percent: 20", 1))
    assert main(["diff", strategy, strategy]) == 0
    assert "no differences" in capsys.readouterr().out
    assert main(["diff", strategy, str(changed)]) == 0
    said = capsys.readouterr().out
    assert ("holdout" in said or "split" in said or "share" in said) and "no differences" not in said

    assert main(["lint", "--strategy", strategy, "--data", data, "--sample", "4"]) == 0
    args = ["simulate", "--strategy", strategy, "--data", data, "--start", "2026-11-02", "--days", "7"]
    assert main([*args, "--out", str(tmp_path / "plan.parquet")]) == 2
    assert "--out is the folder" in capsys.readouterr().err and not (tmp_path / "plan.parquet").exists()
    assert main([*args, "--out", str(tmp_path / "plan")]) == 0
    df = pd.read_parquet(tmp_path / "plan" / "send_plan.parquet")
    assert {"customer_id", "journey_id", "status", "reason", "scheduled_at"} <= set(df.columns)
    assert set(df["status"]) <= {"kept", "deferred", "suppressed"}
