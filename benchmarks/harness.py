"""Measure a function in a fresh process: median wall time over repeats and peak memory above the baseline.

Each measurement runs ``python -m benchmarks.harness MODULE:SETUP MODULE:SUBJECT SIZE REPEAT`` in a new
interpreter: ``SETUP(size)`` builds the inputs (not timed), then ``SUBJECT(inputs)`` runs ``REPEAT``
times. Peak memory is the process's maximum resident set size during the runs minus the resident size
after setup, so it counts everything the subject allocates (Arrow, DuckDB and NumPy buffers included)
and nothing the setup did: the kernel's high-water mark is reset after setup (``/proc/self/clear_refs``).

The machine is shared: :func:`rounds` measures a subject and its floor alternately, one fresh process
each, several rounds, so that both see the same load; it reports medians, the spread (fastest and
slowest) and the median of the per-round ratios.
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
    """Run one measurement in a fresh interpreter and return ``median_s``, ``min_s``, ``max_s`` and ``peak_mb``."""
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
    result = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}
    print(json.dumps({**result, "peak_mb": max(peak - base, 0.0)}))


def rounds(
    setup: str, subjects: dict[str, str], size: int, n: int = 3, timeout: float = 900, repeat: int = 1
) -> dict[str, dict]:
    """Measure several subjects on the same inputs, alternately, ``n`` rounds of one process each.

    Each process runs its subject ``repeat`` times; with more than one, the round's seconds are the
    fastest run's (a warm run: what the process compiled or kept on its first run is ready).

    Returns, per subject name: ``median_s``, ``min_s``, ``max_s`` over the rounds, ``peak_mb`` (the
    median peak) and ``runs`` (every round's seconds), so that ratios can be taken round by round.
    """
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in subjects}
    for _ in range(n):
        for name, subject in subjects.items():
            runs[name].append(measure(setup, subject, size, repeat=repeat, timeout=timeout))
    out = {}
    for name, got in runs.items():
        seconds = [g["median_s"] if repeat == 1 else g["min_s"] for g in got]
        out[name] = {
            "median_s": statistics.median(seconds),
            "min_s": min(seconds),
            "max_s": max(seconds),
            "peak_mb": statistics.median(g["peak_mb"] for g in got),
            "runs": seconds,
        }
    return out


def ratio(subject: dict, floor: dict) -> str:
    """The median of the per-round time ratios, with their range: ``1.32x (1.21-1.40)``."""
    each = sorted(a / b for a, b in zip(subject["runs"], floor["runs"], strict=True))
    return f"{statistics.median(each):.2f}x ({each[0]:.2f}-{each[-1]:.2f})"


def spread(got: dict) -> str:
    """Median seconds and the range over the runs: ``12.3 (11.8-14.0)``."""
    return f"{got['median_s']:.2f} ({got['min_s']:.2f}-{got['max_s']:.2f})"


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
