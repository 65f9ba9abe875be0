"""The package installs anywhere: a wheel in a fresh environment runs the pipeline and the lint from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# one worker runs them all, so the wheel and the environment they share (module fixtures) are built once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("package")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = dist.glob("workbench-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, wheel) -> Path:
    """A new virtual environment with the wheel installed (its dependencies are read from this environment)."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The dependencies come from this environment's site-packages as a plain path: its .pth files (among them
    # the editable install of the checkout) are not processed, so `workbench` can only come from the wheel.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    return env


def _run(env: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WORKBENCH_TEMPLATES", "WORKBENCH_NOTEBOOKS")
    }
    # the dependencies' data files (nbconvert's templates) are where this environment installed them
    clean["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return subprocess.run(
        [str(env / "bin" / "workbench"), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=600
    )


def test_the_wheel_carries_templates_notebooks_sample_data_and_strategy(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "workbench/bundled/strategy.yaml",
        "workbench/bundled/sample/orders.csv.gz",
        "workbench/bundled/templates/cart_abandonment/manifest.yaml",
        "workbench/bundled/templates/_base/email.html.j2",
        "workbench/bundled/notebooks/01_explore_audiences.ipynb",
        "workbench/bundled/notebooks/05_measure_results.ipynb",
        "workbench/schemas/strategy.schema.json",
        "workbench/py.typed",
    ):
        assert needed in names, needed
    assert not any(n.startswith("workbench/bundled/") and "/real/" in n for n in names), "real data stays in the repo"


def test_an_installed_wheel_runs_the_pipeline_and_the_lint_from_an_empty_folder(fresh, tmp_path):
    where = subprocess.run(
        [str(fresh / "bin" / "python"), "-c", "import workbench; print(workbench.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(fresh)), where  # the wheel, not the checkout

    done = _run(fresh, ["pipeline", "--out", "out"], tmp_path)
    assert done.returncode == 0, done.stderr
    (run_dir,) = (tmp_path / "out").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [n["name"] for n in manifest["notebooks"]] == [
        "01_explore_audiences",
        "02_preview_messages",
        "03_plan_cadence",
        "04_generate_journeys",
        "05_measure_results",
    ]
    assert all(n["status"] == "ok" for n in manifest["notebooks"])
    assert (run_dir / "audiences" / "vip.csv").exists() and (run_dir / "send_plan.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "nothing written outside the named output"

    lint = _run(fresh, ["lint", "--sample", "3"], tmp_path)
    assert lint.returncode == 0, lint.stderr
    assert "no error findings" in lint.stdout
