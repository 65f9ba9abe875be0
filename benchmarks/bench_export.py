"""Export of the sample strategy to every target (the issue's target: under 5 seconds)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.harness import ROOT, measure, table


def setup(size: int):
    from workbench.sources import load_dataset
    from workbench.strategy import load_strategy

    return load_strategy(ROOT / "data" / "strategy.yaml"), load_dataset(ROOT / "data" / "sample")


def subject(inputs) -> None:
    from workbench.exporters import export_strategy

    strategy, dataset = inputs
    with tempfile.TemporaryDirectory() as out:
        export_strategy(strategy, targets="all", out_dir=Path(out), dataset=dataset, as_of="2026-10-31")


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
