"""The pipeline writes a complete run folder, and its reports show their charts in a browser with no network."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from workbench.io import file_sha256
from workbench.reports import pipeline

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


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


def _svg_images(page) -> list[dict]:
    return page.evaluate("""() => Array.from(document.images)
        .filter(i => i.src.startsWith('data:image/svg+xml'))
        .map(i => ({src: i.src, w: i.naturalWidth, h: i.naturalHeight,
                    visible: i.getBoundingClientRect().width > 100}))""")


def _decode(src: str) -> str:
    head, data = src.split(",", 1)
    return base64.b64decode(data).decode() if head.endswith(";base64") else unquote(data)


def test_audience_report_shows_its_charts_offline(run_dir, offline_page, artifacts):
    page = offline_page
    page.goto((run_dir / "01_explore_audiences.html").as_uri())
    page.wait_for_load_state("load")
    images = _svg_images(page)
    assert len(images) >= 6, "data quality, segment sizes, RFM grid, lifecycle, recency + frequency, overlap"
    for img in images:
        assert img["w"] > 200 and img["h"] > 100 and img["visible"]
        svg = _decode(img["src"])
        assert 'class="mark-' in svg and ("<path" in svg or "<rect" in svg)
    marks = "".join(_decode(i["src"]) for i in images)
    for title in ("Customers per segment", "RFM grid", "Lifecycle stage by channel reach", "Data quality"):
        assert title in marks
    assert "Traceback" not in page.content()
    page.screenshot(path=str(artifacts / "audience_report.png"), full_page=True)
    assert page.blocked == []  # the report asked for nothing from the network
    assert page.errors == []


def test_index_links_every_report(run_dir, offline_page, artifacts):
    page = offline_page
    page.goto((run_dir / "index.html").as_uri())
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    assert "01_explore_audiences.html" in hrefs and "manifest.json" in hrefs
    for href in hrefs:
        assert (run_dir / href).exists(), href
    page.screenshot(path=str(artifacts / "run_index.png"), full_page=True)
