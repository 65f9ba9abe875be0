"""Run every benchmark module (``bench_*.py``) and print its table.

``python -m benchmarks`` runs all; ``python -m benchmarks profiles`` runs those whose name contains
``profiles``; ``--quick`` uses the smallest sizes only (a smoke run).
Each module defines ``run(quick: bool) -> str`` returning its printed table.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    for name in modules:
        if wanted and not any(w in name for w in wanted):
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n## {name.removeprefix('bench_')}\n", flush=True)
        print(module.run(quick=quick), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
