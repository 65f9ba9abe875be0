"""Export of the sample strategy to every target (the issue's target: under 5 seconds)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.harness import ROOT, measure, table


def setup(size: int):
    from workbench.io import load_dataset, load_strategy, load_templates

    root, library = load_templates()
    return load_strategy(ROOT / "data" / "strategy.yaml"), load_dataset(ROOT / "data" / "sample"), root, library


def subject(inputs) -> None:
    """Profiles, segments, journeys, every exporter and the files, from a fresh workspace."""
    from workbench.application import Workspace
    from workbench.io import write_exports

    strategy, dataset, root, library = inputs
    ws = Workspace.create(dataset, strategy, as_of="2026-10-31", library=library, templates_dir=root)
    with tempfile.TemporaryDirectory() as out:
        write_exports(ws.exports("all"), Path(out))


def run(quick: bool) -> str:
    row = measure("benchmarks.bench_export:setup", "benchmarks.bench_export:subject", 1, repeat=1 if quick else 3)
    return table(
        [
            {
                "what": "sample strategy, all targets",
                "median_s": f"{row['median_s']:.2f}",
                "target_s": "5",
                "peak_mb": f"{row['peak_mb']:.0f}",
            }
        ],
        ["what", "median_s", "target_s", "peak_mb"],
    )
