"""Measure a function in a fresh process: median wall time over repeats and peak memory above the baseline.

Each measurement runs ``python -m benchmarks.harness MODULE:SETUP MODULE:SUBJECT SIZE REPEAT`` in a new
interpreter: ``SETUP(size)`` builds the inputs (not timed), then ``SUBJECT(inputs)`` runs ``REPEAT``
times. Peak memory is the process's maximum resident set size after the runs minus the resident size
after setup, so it counts everything the subject allocates (Arrow, DuckDB and NumPy buffers included).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _load(spec: str):
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def measure(setup: str, subject: str, size: int, repeat: int = 3, timeout: float = 900) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and return ``median_s``, ``min_s`` and ``peak_mb``."""
    cmd = [sys.executable, "-m", "benchmarks.harness", setup, subject, str(size), str(repeat)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{subject} at {size} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(setup: str, subject: str, size: int, repeat: int) -> None:
    inputs = _load(setup)(size)
    fn = _load(subject)
    base = _rss_mb()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(inputs)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median_s": statistics.median(times), "min_s": min(times), "peak_mb": max(peak - base, 0.0)}))


def table(rows: list[dict[str, object]], columns: list[str]) -> str:
    """A plain-text table."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
