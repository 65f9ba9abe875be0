"""Measure a function in a fresh process: median wall time over repeats and peak memory above the baseline.

Each measurement runs ``python -m benchmarks.harness MODULE:SETUP MODULE:SUBJECT SIZE REPEAT`` in a new
interpreter: ``SETUP(size)`` builds the inputs (not timed), then ``SUBJECT(inputs)`` runs ``REPEAT``
times. Peak memory is the process's maximum resident set size during the runs minus the resident size
after setup, so it counts everything the subject allocates (Arrow, DuckDB and NumPy buffers included)
and nothing the setup did: the kernel's high-water mark is reset after setup (``/proc/self/clear_refs``).
"""

from __future__ import annotations

import gc
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


def _reset_peak() -> None:
    """Start the resident-size high-water mark afresh, so that the setup's peak is not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        print("warning: cannot reset the peak resident size; peaks include the setup's", file=sys.stderr)


def _peak_mb() -> float:
    """The resident-size high-water mark (VmHWM) in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(setup: str, subject: str, size: int, repeat: int) -> None:
    inputs = _load(setup)(size)
    fn = _load(subject)
    gc.collect()
    _reset_peak()
    base = _rss_mb()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(inputs)
        times.append(time.perf_counter() - start)
    peak = _peak_mb()
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
