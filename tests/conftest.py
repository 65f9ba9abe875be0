"""Shared fixtures: the committed sample data, a small synthetic dataset, and a headless browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT / "data" / "real"
SPECS = ROOT / "tests" / "specs"
SAMPLE = ROOT / "data" / "sample"
STRATEGY = ROOT / "data" / "strategy.yaml"
AS_OF = "2026-10-31"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests of one ``xdist_group`` on one worker (``--dist loadgroup``) with pytest 9.

    pytest-xdist 3.8 names a grouped test ``<nodeid>@<group>`` by setting ``item._nodeid``, which
    pytest 9 no longer reads (a node's id is ``item._id``), so every group was spread over the
    workers: two Spark sessions, two PostgreSQL servers. The same name is given here; nothing
    happens when xdist has named the test already.
    """
    if not getattr(config.option, "loadgroup", False):  # set on the workers of --dist loadgroup
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real public datasets committed under ``data/real`` (sources and licences in its README)."""
    return REAL_DATA


@pytest.fixture(scope="session")
def specs() -> Path:
    """The execution tools' published schemas committed under ``tests/specs`` (provenance in its README)."""
    return SPECS


@pytest.fixture(scope="session")
def sample_dataset():
    from workbench.io import load_dataset

    return load_dataset(SAMPLE)


@pytest.fixture(scope="session")
def strategy():
    from workbench.io import load_strategy

    return load_strategy(STRATEGY)


@pytest.fixture(scope="session")
def sample_workspace(sample_dataset, strategy):
    """The sample data and strategy at the sample's last day, as every command and notebook composes them."""
    from workbench.application import Workspace

    return Workspace.create(sample_dataset, strategy, as_of=AS_OF)


@pytest.fixture(scope="session")
def sample_profiles(sample_workspace):
    """Profiles with the predicted value columns (the strategy's rules read them)."""
    return sample_workspace.profiles


@pytest.fixture(scope="session")
def assigned(sample_workspace):
    return sample_workspace.assigned


@pytest.fixture(scope="session")
def spark():
    """One Spark session (local mode, two cores, four shuffle partitions) for every Spark test of a worker.

    Tests that use it carry ``pytest.mark.xdist_group("spark")``, so ``--dist loadgroup`` runs them on
    one worker and the JVM starts once.
    """
    from workbench.engines import spark as engine

    session = engine.session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_dataset():
    from workbench.synth import synthesize

    return synthesize(300, seed=11)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests keep screenshots and other artifacts for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is not installed: run `make browser` (apt-get install chromium) or set CHROMIUM")
    return path


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright, with no network beyond file:// pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def offline_page(browser):
    """A page whose every http(s) request is blocked, collecting console errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked: list[str] = []

    def block(route):
        blocked.append(route.request.url)
        route.abort()

    page.route("http://**/*", block)
    page.route("https://**/*", block)
    page.errors = []  # type: ignore[attr-defined]
    page.blocked = blocked  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def execute_notebook():
    """Run ``notebooks/<stem>.ipynb`` through papermill on the sample data; returns the executed notebook's path.

    ``data_path`` and ``strategy_path`` default to the committed sample and strategy; the notebook
    runs from the notebooks folder, as the pipeline runs it.
    """
    import papermill as pm

    def run(stem: str, executed: Path, **parameters: object) -> Path:
        params = {"data_path": str(SAMPLE), "strategy_path": str(STRATEGY), **parameters}
        pm.execute_notebook(
            str(ROOT / "notebooks" / f"{stem}.ipynb"),
            str(executed),
            parameters=params,
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
        return executed

    return run
