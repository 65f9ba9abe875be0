"""`make demo` warm: the pipeline on the sample (5 notebooks, 2 at a time), and where its time goes.

The demo runs once to warm the disk cache and the installed kernels, then is timed (median of the
timed runs). Each notebook's time is split from its executed copy: the first code cell (the
imports, after the kernel started), the other cells (the work), and the rest of the notebook's
time in the run (kernel start and shutdown, the two HTML exports). Target: 20 s on a 2-core machine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ROOT, table

TARGET_S = 20


def _demo(out: Path) -> tuple[float, Path]:
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("workbench")),
            "pipeline",
            "--strategy",
            "data/strategy.yaml",
            "--data",
            "data/sample",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    return seconds, max(p for p in out.iterdir() if p.is_dir())


def _split(run_dir: Path) -> list[dict[str, object]]:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    rows = []
    for entry in manifest["notebooks"]:
        nb = json.loads((run_dir / entry["executed"]).read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        durations = [float(c["metadata"].get("papermill", {}).get("duration") or 0) for c in code]
        tagged = [bool({"parameters", "injected-parameters"} & set(c["metadata"].get("tags", []))) for c in code]
        imports = next((d for d, t in zip(durations, tagged, strict=True) if not t), 0.0)  # the first cell of its own
        work = sum(durations) - imports
        rows.append(
            {
                "what": entry["name"],
                "seconds": f"{entry['seconds']:.1f}",
                "imports_s": f"{imports:.1f}",
                "work_s": f"{work:.1f}",
                "kernel_and_html_s": f"{entry['seconds'] - imports - work:.1f}",
            }
        )
    return rows


def run(quick: bool) -> str:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        _demo(out)  # warm-up
        timings = []
        last = out
        for _ in range(1 if quick else 2):
            seconds, last = _demo(out)
            timings.append(seconds)
        rows: list[dict[str, object]] = [
            {
                "what": "make demo (warm, wall clock)",
                "seconds": f"{statistics.median(timings):.1f}",
                "imports_s": "",
                "work_s": "",
                "kernel_and_html_s": f"target {TARGET_S}",
            }
        ]
        rows += _split(last)
    return table(rows, ["what", "seconds", "imports_s", "work_s", "kernel_and_html_s"])
