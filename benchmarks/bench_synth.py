"""The synthetic dataset: 1M customers in under 60 s (issue 17).

``synthesize`` builds the five tables in memory as Arrow tables and validates them (``from_frames``);
``workbench synth`` then writes them (csv.gz by default, or Parquet), which is what the rows with files
measure: generation, validation and writing together. A million customers make about 2.2M orders, 3.2M
events, 1.4M consent rows and 32.5M messages (about 4 GB of CSV text).
"""

from __future__ import annotations

from benchmarks.harness import measure, table

TARGET_S = 60.0  # for 1M customers


def setup(size: int) -> int:
    import workbench.io
    import workbench.synth  # noqa: F401  (import time is not what is measured)

    return size


def in_memory(size: int) -> None:
    from workbench.synth import synthesize

    synthesize(size, seed=7)


def _written(size: int, fmt: str) -> None:
    import tempfile

    from workbench.io import write_dataset
    from workbench.synth import synthesize

    with tempfile.TemporaryDirectory() as folder:
        write_dataset(synthesize(size, seed=7), folder, fmt=fmt)


def to_parquet(size: int) -> None:
    _written(size, "parquet")


def to_csv_gz(size: int) -> None:
    _written(size, "csv.gz")


def run(quick: bool) -> str:
    sizes = [10_000] if quick else [100_000, 1_000_000]
    rows = []
    for size in sizes:
        subjects = [
            ("synthesize (in memory)", "in_memory"),
            ("synth, Parquet files", "to_parquet"),
            ("synth, csv.gz files", "to_csv_gz"),
        ]
        for name, subject in subjects:
            got = measure(
                "benchmarks.bench_synth:setup", f"benchmarks.bench_synth:{subject}", size, repeat=1, timeout=1800
            )
            target = TARGET_S * size / 1_000_000
            rows.append(
                {
                    "task": name,
                    "customers": f"{size:,}",
                    "median_s": f"{got['median_s']:.1f}",
                    "peak_mb": f"{got['peak_mb']:.0f}",
                    "target_s": f"{target:.0f}",
                    "ratio": f"{got['median_s'] / target:.2f}",
                }
            )
    return table(rows, ["task", "customers", "median_s", "peak_mb", "target_s", "ratio"])
