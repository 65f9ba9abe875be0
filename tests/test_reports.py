"""The pipeline writes a complete run folder, and its reports show their charts in a browser with no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench.io import file_sha256
from workbench.reports import pipeline

ROOT = Path(__file__).resolve().parents[1]
# one worker runs them all, so the pipeline run they share (a module fixture) is made once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reports")]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    before = {p: file_sha256(p) for p in (ROOT / "data").rglob("*") if p.is_file()}
    path = pipeline(strategy=ROOT / "data" / "strategy.yaml", data=ROOT / "data" / "sample", out=out)
    after = {p: file_sha256(p) for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert before == after, "a run must not modify its inputs"
    return path


def test_run_folder_layout(run_dir):
    assert run_dir.parent.name.startswith("runs") and run_dir.name[:8].isdigit()
    for name in (
        "index.html",
        "manifest.json",
        "01_explore_audiences.html",
        "01_explore_audiences.code.html",
        "notebooks/01_explore_audiences.ipynb",
        "audiences/segment_sizes.csv",
    ):
        assert (run_dir / name).exists(), name


def test_manifest_records_inputs_parameters_versions(run_dir):
    m = json.loads((run_dir / "manifest.json").read_text())
    inputs = {Path(i["path"]).name: i["sha256"] for i in m["inputs"]}
    assert inputs["strategy.yaml"] == file_sha256(ROOT / "data" / "strategy.yaml")
    assert inputs["orders.csv.gz"] == file_sha256(ROOT / "data" / "sample" / "orders.csv.gz")
    assert m["parameters"]["as_of"] == "2026-10-31"  # the day of the last order, never the clock
    assert {"pandas", "duckdb", "papermill", "python"} <= set(m["versions"])
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in m["notebooks"])
    assert "audiences/vip.csv" in m["outputs"]


def test_a_second_run_gets_a_new_folder(run_dir):
    again = pipeline(
        strategy=ROOT / "data" / "strategy.yaml",
        data=ROOT / "data" / "sample",
        out=run_dir.parent,
        notebooks=["01_explore_audiences"],
    )
    assert again != run_dir and (run_dir / "index.html").exists()


REPORTS = {
    "01_explore_audiences": ("Audience at a glance", 6),
    "02_preview_messages": ("Messages at a glance", 0),
    "03_plan_cadence": ("Cadence at a glance", 4),
    "04_generate_journeys": ("Journeys at a glance", 3),
    "05_measure_results": ("Results at a glance", 5),
}


def _hover_shows_a_tooltip(page) -> bool:
    """Hover marks of the drawn charts until Vega's tooltip appears."""
    marks = page.locator(
        ".wb-drawn svg .mark-rect path, .wb-drawn svg .mark-symbol path, .wb-drawn svg .mark-rect rect"
    )
    for i in range(min(marks.count(), 40)):
        mark = marks.nth(i)
        try:
            mark.scroll_into_view_if_needed(timeout=2_000)
            mark.hover(timeout=2_000, force=True)
        except Exception:
            continue
        page.wait_for_timeout(150)
        tip = page.locator("#vg-tooltip-element.visible")
        if tip.count() and tip.inner_text().strip():
            return True
    return False


@pytest.mark.parametrize("stem", list(REPORTS))
def test_report_opens_offline_with_headline_and_interactive_charts(run_dir, offline_page, artifacts, stem):
    headline, min_charts = REPORTS[stem]
    page = offline_page
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((run_dir / f"{stem}.html").as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.locator("h2.wb-headline").first.inner_text() == headline
    charts = page.locator(".wb-chart")
    assert charts.count() >= min_charts
    page.wait_for_function(
        "document.querySelectorAll('.wb-drawn').length === document.querySelectorAll('.wb-chart').length",
        timeout=30_000,
    )
    if min_charts:
        widths = page.eval_on_selector_all(".wb-drawn svg", "els => els.map(e => e.getBoundingClientRect().width)")
        page_width = page.evaluate("document.body.getBoundingClientRect().width")
        assert all(0 < w <= page_width for w in widths), "every chart fits the page"
        assert _hover_shows_a_tooltip(page), "hovering a mark shows its tooltip"
    html = page.content()
    assert "Traceback" not in html and "+00:00" not in html
    assert page.locator(".jp-OutputArea-output pre").filter(has_text="<IPython").count() == 0
    page.screenshot(path=str(artifacts / f"report_{stem}.png"), full_page=True)
    assert page.blocked == [] and failed == []  # the report asked for nothing from the network
    assert page.errors == []


def test_report_html_loads_nothing_remote(run_dir):
    for page in run_dir.glob("*.html"):
        text = page.read_text()
        assert "unpkg.com" not in text and "cdnjs" not in text and "cdn.jsdelivr" not in text, page.name
        assert re.search(r"<script[^>]+src=[\"']?(https?:)?//", text) is None, page.name
    report = (run_dir / "01_explore_audiences.html").read_text()
    assert report.count("vega-embed") >= 1 and report.count('<script type="application/vnd.workbench.vega+json">') >= 6


def test_report_links_are_relative_to_the_run_folder(run_dir, offline_page):
    page = offline_page
    page.goto((run_dir / "01_explore_audiences.html").as_uri())
    hrefs = page.eval_on_selector_all(".wb-table a", "els => els.map(e => e.getAttribute('href'))")
    assert "audiences/vip.csv" in hrefs
    for href in hrefs:
        assert not href.startswith("/") and (run_dir / href).exists(), href


def test_index_links_every_report(run_dir, offline_page, artifacts):
    page = offline_page
    page.goto((run_dir / "index.html").as_uri())
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    assert "01_explore_audiences.html" in hrefs and "manifest.json" in hrefs
    assert {f"{stem}.html" for stem in REPORTS} <= set(hrefs)
    for href in hrefs:
        assert (run_dir / href).exists(), href
    page.screenshot(path=str(artifacts / "run_index.png"), full_page=True)
    assert page.blocked == [] and page.errors == []


def test_a_shared_kernel_runs_each_notebook_as_a_fresh_one_would(tmp_path):
    import nbformat

    from workbench.reports import NotebookKernel, run_notebook

    first = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# First"),
            nbformat.v4.new_code_cell("import os\nleft_over = 1\nos.chdir('/')"),
        ]
    )
    second = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Second"),
            nbformat.v4.new_code_cell("import os\nprint(os.getcwd())"),
            nbformat.v4.new_code_cell("left_over"),
        ]
    )
    for name, nb in (("first", first), ("second", second)):
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    run_dir = tmp_path / "run"
    with NotebookKernel() as kernel:
        ok = run_notebook(tmp_path / "first.ipynb", run_dir, kernel=kernel)
        failed = run_notebook(tmp_path / "second.ipynb", run_dir, kernel=kernel, raise_on_error=False)
        assert kernel.notebooks == 2
    assert ok.status == "ok"
    assert failed.status == "failed" and "NameError" in failed.error and "#3" in failed.error
    executed = nbformat.read(run_dir / "notebooks" / "second.ipynb", as_version=4)
    assert [c.source for c in executed.cells] == [c.source for c in second.cells]  # nothing added, nothing lost
    assert executed.cells[1].outputs[0]["text"].strip() == str(run_dir.resolve())


def test_report_cells_are_focusable_and_images_described_but_scripts_untouched(run_dir, offline_page):
    from workbench.reports import _accessible

    script = '<script>s = "<img src=z>"; d = "<div class=\\"jp-OutputArea-output\\">"</script>'
    page = '<div class="jp-Cell-inputWrapper">a</div><img src="x.png"><img alt="chart" src="y.png">' + script
    fixed = _accessible(page)
    assert '<div class="jp-Cell-inputWrapper" tabindex="0">' in fixed
    assert '<img alt="No description has been provided for this image" src="x.png">' in fixed
    assert '<img alt="chart" src="y.png">' in fixed
    assert fixed.endswith(script)
    # in a real report, as a keyboard user meets it: every input and output can take the focus
    offline_page.goto((run_dir / "03_plan_cadence.code.html").as_uri())
    outputs = offline_page.locator(".jp-OutputArea-output")
    assert outputs.count() > 5
    assert outputs.evaluate_all("els => els.every(e => e.tabIndex === 0)")
    assert offline_page.locator(".jp-Cell-inputWrapper").evaluate_all(
        "els => els.length > 0 && els.every(e => e.tabIndex === 0)"
    )


def test_the_vega_script_is_kept_between_runs_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    from importlib import metadata

    from workbench import reports, vega

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    reports.vega_script.cache_clear()
    built = reports.vega_script()
    assert built == vega.vega_bundle() and "vegaEmbed" in built
    (kept,) = (tmp_path / "cache").iterdir()
    assert metadata.version("vl-convert-python").split(".")[0] in kept.name and kept.read_text() == built
    kept.write_text("alert('truncated')")  # a damaged copy is not used: the bundle is built and kept again
    reports.vega_script.cache_clear()
    assert reports.vega_script() == built and kept.read_text() == built
    (tmp_path / "a-file").write_text("")  # a cache folder that cannot be made: built each time, no error
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    reports.vega_script.cache_clear()
    assert reports.vega_script() == built
    reports.vega_script.cache_clear()
