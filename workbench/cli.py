"""The ``workbench`` command: synthesise data, build profiles, run notebooks and the pipeline.

Every subcommand reads its inputs, calls one package function and writes its
outputs atomically; nothing it was given is modified. A problem with the
input ends in a one-paragraph message naming what to fix (exit status 2),
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import WorkbenchError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _synth(args: argparse.Namespace) -> int:
    from .sources import write_dataset
    from .synth import synthesize

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise WorkbenchError(f"{out} is not empty. Fix: choose a new folder, or pass --force to replace its tables")
    dataset = synthesize(args.customers, seed=args.seed, end=args.end)
    written = write_dataset(dataset, out, fmt=args.format)
    rows = ", ".join(f"{name} {len(df):,}" for name, df in dataset.tables().items())
    print(f"wrote {len(written)} tables to {out} ({rows})")
    return 0


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise WorkbenchError(f"{path} exists. Fix: choose another file name, or pass --force to replace it")


def _profiles(args: argparse.Namespace) -> int:
    from .profiles import build_profiles
    from .sources import load_dataset, write_table

    out = Path(args.out)
    _refuse_overwrite(out, args.force)
    profiles = build_profiles(load_dataset(args.data), as_of=args.as_of)
    write_table(profiles, out)
    print(f"wrote {len(profiles):,} profiles to {out}")
    return 0


def _segments(args: argparse.Namespace) -> int:
    from .profiles import build_profiles
    from .reports import write_audiences
    from .segments import assign
    from .sources import load_dataset, new_run_dir
    from .strategy import load_strategy

    strategy = load_strategy(args.strategy)
    assigned = assign(build_profiles(load_dataset(args.data), as_of=args.as_of), strategy)
    run_dir = new_run_dir(args.out)
    written = write_audiences(assigned, run_dir)
    print(f"wrote {len(written)} audience files to {run_dir / 'audiences'}")
    return 0


def _parameters(pairs: Sequence[Sequence[str]] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, raw in pairs or ():
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, str) and name.endswith("_path") and Path(value).exists():
            value = str(Path(value).resolve())
        params[name] = value
    return params


def _run(args: argparse.Namespace) -> int:
    from .reports import run

    run_dir = run(args.notebook, parameters=_parameters(args.parameter), out=args.out, command=sys.argv)
    print(f"report: {run_dir / 'index.html'}")
    return 0


def _pipeline(args: argparse.Namespace) -> int:
    from .reports import pipeline

    run_dir = pipeline(
        strategy=args.strategy,
        data=args.data,
        out=args.out,
        as_of=args.as_of,
        notebooks=args.only,
        workers=args.workers,
        command=sys.argv,
    )
    print(f"outputs: {run_dir}\nopen:    {run_dir / 'index.html'}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .strategy import load_strategy

    strategy = load_strategy(args.file)
    print(f"{args.file}: valid ({len(strategy.segments)} segments, {len(strategy.journeys)} journeys)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``workbench`` command."""
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write a seeded synthetic dataset")
    p.add_argument("--customers", type=int, default=5000, help="number of customers (default 5000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--end", default="2026-10-31", help="last day of the data, YYYY-MM-DD")
    p.add_argument("--format", choices=["csv.gz", "csv", "parquet"], default="csv.gz")
    p.add_argument("--out", required=True, help="folder to write the tables into (new or empty)")
    p.add_argument("--force", action="store_true", help="replace tables in a non-empty folder")
    p.set_defaults(handler=_synth)

    p = sub.add_parser("profiles", help="build unified profiles (CSV or Parquet by extension)")
    p.add_argument("data", help="folder of tables or .duckdb file")
    p.add_argument("--as-of", required=True, help="profile date YYYY-MM-DD (end of day UTC) or timestamp")
    p.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .parquet")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.set_defaults(handler=_profiles)

    p = sub.add_parser("segments", help="assign segments and write one audience CSV per segment")
    p.add_argument("data")
    p.add_argument("--strategy", required=True)
    p.add_argument("--as-of", required=True)
    p.add_argument("--out", default="out", help="a new run folder is created under it")
    p.set_defaults(handler=_segments)

    p = sub.add_parser("run", help="run one notebook through papermill into a new run folder")
    p.add_argument("notebook")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a notebook parameter (value read as YAML: 3, 0.5, true, [a, b])",
    )
    p.add_argument("--out", default="out", help="a new run folder is created under it")
    p.set_defaults(handler=_run)

    p = sub.add_parser("pipeline", help="run every notebook of the strategy on a dataset")
    p.add_argument("--strategy", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", default="out", help="a new run folder is created under it")
    p.add_argument("--as-of", default=None, help="profile date (default: day of the last order)")
    p.add_argument("--only", nargs="*", default=None, metavar="NOTEBOOK", help="run only these notebooks (stems)")
    p.add_argument("--workers", type=int, default=2, help="notebooks run side by side (default 2)")
    p.set_defaults(handler=_pipeline)

    p = sub.add_parser("validate", help="check a strategy file")
    p.add_argument("file")
    p.set_defaults(handler=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
