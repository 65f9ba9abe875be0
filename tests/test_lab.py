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
# one worker runs them all, so the notebooks they open (a module fixture) are run once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lab")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PREPARED = {
    "explore.ipynb": "01_explore_audiences",
    "preview.ipynb": "02_preview_messages",
    "journeys.ipynb": "04_generate_journeys",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    import papermill as pm

    folder = tmp_path_factory.mktemp("lab")
    for name, stem in PREPARED.items():
        parameters = {"interactive": True, "output_dir": str(folder / "out" / stem)}
        if stem == "04_generate_journeys":
            parameters["journey_id"] = "cart_recovery"
        pm.execute_notebook(
            str(ROOT / "notebooks" / f"{stem}.ipynb"), str(folder / name), prepare_only=True, parameters=parameters
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
    yield lambda name: f"{base}/lab/tree/{name}?reset&token={token}", base  # reset: no earlier tab restored
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def lab_page(browser, lab):
    """A page that reaches only the local JupyterLab: every other request is blocked and recorded."""
    _, base = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.blocked = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base) or url.startswith(base.replace("127.0.0.1", "localhost")):
            request_route.continue_()
        else:
            page.blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def _run_all(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')", timeout=60_000
    )
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # the kernel is ready
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _no_errors(page) -> None:
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
    assert page.blocked == []  # nothing asked of the network: Vega is Lab's own
    assert not [e for e in page.errors if "widget" in e.lower() or "vega" in e.lower()]


def _explorer_chart(page) -> str:
    """What the explorer's first chart draws (its canvas or SVG), to tell whether it changed."""
    return page.evaluate(
        """() => {
        const view = document.querySelector('.widget-output .jp-RenderedVegaCommon5');
        if (!view) return '';
        const canvas = view.querySelector('canvas');
        return canvas ? canvas.toDataURL() : (view.querySelector('svg') || view).innerHTML;
    }"""
    )


def test_explorer_in_jupyterlab(lab, lab_page, assigned, artifacts, sample_workspace):
    page = lab_page
    url, _ = lab
    _run_all(page, url("explore.ipynb"))
    page.wait_for_selector(".widget-slider", timeout=180_000)
    assert page.locator(".widget-slider").count() == 4
    widths = page.eval_on_selector_all(".widget-slider", "els => els.map(e => e.getBoundingClientRect().width)")
    assert min(widths) >= 300, "a slider long enough to move a day at a time"
    page.get_by_text(f"{len(assigned):,} customers shown").wait_for(timeout=30_000)
    page.wait_for_selector(".widget-output .jp-RenderedVegaCommon5", timeout=60_000)  # the charts drew offline
    page.wait_for_timeout(1_000)
    chart_before = _explorer_chart(page)
    counts_before = page.locator(".widget-html table").first.inner_text()
    assert chart_before
    # move the new_days threshold with its number box: the new customers' segment and the chart follow
    box = page.locator(".widget-inline-hbox.widget-text input").first
    box.fill("60")
    box.press("Enter")
    moved = sample_workspace.with_lifecycle(new_days=60)
    expected = int(moved.segment_sizes.set_index(["kind", "segment"]).loc[("rule", "new_customers"), "customers"])
    assert f"new_customers\t{expected:,}" not in counts_before
    page.wait_for_function(
        "([want]) => document.querySelector('.widget-html table').innerText.includes(want)",
        arg=[f"new_customers\t{expected:,}"],
        timeout=60_000,
    )
    page.wait_for_timeout(1_500)
    assert _explorer_chart(page) != chart_before
    page.locator(".widget-dropdown select").select_option("vip")
    vip = int(assigned["segment_vip"].sum())
    page.get_by_text(f"{vip:,} customers shown").wait_for(timeout=30_000)
    page.locator(".widget-slider").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "lab_audience_explorer.png"))
    _no_errors(page)


def test_message_previewer_in_jupyterlab(lab, lab_page, artifacts):
    page = lab_page
    url, _ = lab
    _run_all(page, url("preview.ipynb"))
    try:
        page.wait_for_selector(".widget-toggle-buttons", timeout=180_000)
    finally:
        page.screenshot(path=str(artifacts / "lab_message_previewer_start.png"))
    selects = page.locator(".widget-dropdown select")
    assert selects.count() == 3  # moment, variant, customer
    frame = page.locator(".widget-html iframe").first
    before = frame.get_attribute("srcdoc")
    selects.nth(0).select_option("cart_abandonment")
    page.wait_for_function(
        "([before]) => document.querySelector('.widget-html iframe').getAttribute('srcdoc') !== before",
        arg=[before],
        timeout=30_000,
    )
    assert "cart" in frame.get_attribute("srcdoc").lower()
    page.get_by_role("button", name="mobile", exact=True).click()
    page.wait_for_timeout(500)
    assert "figure:has(.frame-box.desktop){display:none}" in frame.get_attribute("srcdoc")
    gallery_links = page.locator(".wb-table a[href*='previews/']")
    assert gallery_links.count() > 0
    page.locator(".widget-toggle-buttons").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab_message_previewer.png"))
    _no_errors(page)


def test_journey_diagram_in_jupyterlab(lab, lab_page, artifacts):
    page = lab_page
    url, _ = lab
    _run_all(page, url("journeys.ipynb"))
    page.wait_for_selector(".jp-RenderedVegaCommon5", timeout=180_000)
    page.get_by_text("deploy plan for dittofeed").wait_for(timeout=120_000)
    diagram = page.locator(".jp-RenderedVegaCommon5").first
    diagram.scroll_into_view_if_needed()
    page.wait_for_timeout(1_000)
    box = diagram.bounding_box()
    assert box and box["width"] > 150 and box["height"] > 400  # the whole journey, top to bottom
    diagram.screenshot(path=str(artifacts / "lab_journey_diagram.png"))
    _no_errors(page)
