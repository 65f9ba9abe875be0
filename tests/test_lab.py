"""The audience notebook as an analyst uses it: opened in JupyterLab, run, the explorer's controls answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    import papermill as pm

    folder = tmp_path_factory.mktemp("lab")
    pm.execute_notebook(
        str(ROOT / "notebooks" / "01_explore_audiences.ipynb"),
        str(folder / "explore.ipynb"),
        prepare_only=True,
        parameters={
            "interactive": True,
            "data_path": str(ROOT / "data" / "sample"),
            "strategy_path": str(ROOT / "data" / "strategy.yaml"),
            "output_dir": str(folder / "out"),
        },
    )
    port, token = _free_port(), "workbench-test"
    jupyter = Path(sys.executable).with_name("jupyter")
    proc = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={folder}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start within 60 s")
    yield f"{base}/lab/tree/explore.ipynb?token={token}"
    proc.terminate()
    proc.wait(timeout=20)


def test_explorer_in_jupyterlab(lab, browser, assigned, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')", timeout=60_000
    )
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # the kernel is ready
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(".widget-slider", timeout=180_000)
    assert page.locator(".widget-slider").count() == 4
    page.get_by_text(f"{len(assigned):,} customers shown").wait_for(timeout=30_000)
    page.locator(".widget-dropdown select").select_option("vip")
    vip = int(assigned["segment_vip"].sum())
    page.get_by_text(f"{vip:,} customers shown").wait_for(timeout=30_000)
    page.locator(".widget-slider").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "lab_audience_explorer.png"))
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert not [e for e in errors if "widget" in e.lower()]
    page.close()
