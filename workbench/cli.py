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
    _refuse_non_empty(out, args.force, "tables")
    dataset = synthesize(args.customers, seed=args.seed, end=args.end)
    written = write_dataset(dataset, out, fmt=args.format)
    rows = ", ".join(f"{name} {len(df):,}" for name, df in dataset.tables().items())
    print(f"wrote {len(written)} tables to {out} ({rows})")
    return 0


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise WorkbenchError(f"{path} exists. Fix: choose another file name, or pass --force to replace it")


def _refuse_non_empty(folder: Path, force: bool, what: str) -> None:
    if folder.exists() and any(folder.iterdir()) and not force:
        raise WorkbenchError(f"{folder} is not empty. Fix: choose a new folder, or pass --force to replace its {what}")


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
    from .journeys import validate_file
    from .journeys.files import load_journeys
    from .strategy import load_strategy

    problems = validate_file(args.file)
    if problems:
        print(f"{args.file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    path = Path(args.file)
    data = None if path.suffix == ".json" else yaml.safe_load(path.read_text(encoding="utf-8"))
    if not (isinstance(data, dict) and "brand" in data):
        journeys = load_journeys(path)
        print(f"{args.file}: valid ({len(journeys)} journey{'s' if len(journeys) != 1 else ''})")
        return 0
    strategy = load_strategy(path)
    print(f"{args.file}: valid ({len(strategy.segments)} segments, {len(strategy.journeys)} journeys)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .exporters import export_strategy
    from .sources import load_dataset
    from .strategy import load_strategy

    out = Path(args.out)
    _refuse_non_empty(out, args.force, "files")
    strategy = load_strategy(args.strategy)
    dataset = load_dataset(args.data) if args.data else None
    ids = None
    if args.ids:
        from .deploy import read_idmap

        idmap = read_idmap(args.ids)
        ids = {idmap.target: idmap}
    result = export_strategy(strategy, targets=args.target, out_dir=out, dataset=dataset, as_of=args.as_of, ids=ids)
    for target, info in result.items():
        if isinstance(info, dict) and "files" in info:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(info.get("summary", {}).items()))
            print(f"{target}: {len(info['files'])} files" + (f" ({counts})" if counts else ""))
    print(f"wrote {out}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from .journeys import diff_files

    lines = diff_files(args.old, args.new)
    print("\n".join(lines) if lines else "no differences")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from .cadence import simulate_command

    out = Path(args.out)
    _refuse_overwrite(out, args.force)
    overrides = yaml.safe_load(args.policy) if args.policy else None
    if overrides is not None and not isinstance(overrides, dict):
        raise WorkbenchError('--policy takes a YAML mapping, e.g. "{caps: {sms: {max: 1, per: 7d}}}"')
    written = simulate_command(
        args.strategy, args.data, args.start, args.days, args.seed, out, as_of=args.as_of, policy_overrides=overrides
    )
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    import pandas as pd

    from .messages import lint_exit_code, run_lint

    findings = run_lint(
        args.strategy,
        args.data,
        as_of=args.as_of,
        templates_dir=args.templates,
        sample_customers=args.sample,
        max_sms_segments=args.max_sms_segments or None,  # none given: the strategy's limit
    )
    if args.out:
        from .sources import write_table

        write_table(findings, args.out)
    cost = findings.attrs.get("sms_cost")
    if cost is not None and len(cost):
        with pd.option_context("display.width", 200):
            print("SMS cost over the sampled customers (segments per 1,000 sends):")
            print(cost.to_string(index=False))
    if findings.empty:
        print("no findings: every template and variant is clean for the sampled customers")
    else:
        with pd.option_context("display.max_rows", 200, "display.max_colwidth", 80, "display.width", 200):
            print(findings[["severity", "rule", "moment", "variant", "channel", "message", "customers"]].to_string())
    return lint_exit_code(findings)


def _ids(args: argparse.Namespace) -> int:
    """``workbench ids``: the skeleton of every id a strategy's export needs, filled from the account when it can."""
    import json
    import os

    from .deploy import TARGETS, lookup_ids, read_idmap
    from .exporters import ExportContext, export_journeys
    from .exporters.registry import id_skeleton
    from .journeys import build_journeys
    from .sources import write_text
    from .strategy import load_strategy

    if args.target not in TARGETS:
        msg = f"unknown target {args.target!r}. Fix: use klaviyo or dittofeed"
        raise WorkbenchError(msg)
    strategy = load_strategy(args.strategy)
    known = read_idmap(args.ids) if args.ids else None
    result = export_journeys(build_journeys(strategy), targets=[args.target], context=ExportContext(strategy=strategy))[
        args.target
    ]
    module = TARGETS[args.target]
    source = "no API key: names only"
    if os.environ.get(module.API_KEY_ENV):
        with module.client(args.base_url) as api:
            workspace = (known.workspace_id if known else None) or os.environ.get("DITTOFEED_WORKSPACE_ID")
            account = lookup_ids(args.target, api, workspace_id=workspace)
        if known is not None:
            for kind, names in known.ids.items():
                account.ids.setdefault(kind, {}).update({n: v for n, v in names.items() if v})
        known, source = account, f"looked up in the account at {api.base_url}"
    skeleton = id_skeleton(args.target, result.needed, known=known)
    if args.target == "dittofeed":
        from .exporters.registry import placeholder_id

        for kind, names in skeleton.ids.items():
            for name in names:
                names[name] = names[name] or placeholder_id(kind, name)  # the id deploy upserts it with
        skeleton.workspace_id = skeleton.workspace_id or os.environ.get("DITTOFEED_WORKSPACE_ID")
    text = json.dumps(skeleton.as_dict(), indent=2, ensure_ascii=False) + "\n"
    missing = sum(1 for names in skeleton.ids.values() for v in names.values() if not v)
    if args.out:
        write_text(args.out, text)
        print(
            f"wrote {args.out}: {sum(len(v) for v in skeleton.ids.values())} ids ({source}); {missing} still to fill in"
        )
    else:
        print(text, end="")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    """``workbench deploy``: print the plan; with --apply carry it out and record it in the state file."""
    from .deploy import deploy, read_idmap

    plan = deploy(
        args.strategy, target=args.target, apply=args.apply, idmap=read_idmap(args.ids), base_url=args.base_url
    )
    print(plan.text())
    if args.apply:
        print(f"state: {plan.state_file}")
    elif plan.changes():
        print("nothing was changed; run again with --apply to carry out this plan")
    return 1 if plan.blocked() else 0


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

    p = sub.add_parser("validate", help="check a strategy file (or a canonical journey file)")
    p.add_argument("file")
    p.set_defaults(handler=_validate)

    p = sub.add_parser("export", help="export the strategy's journeys to execution tools")
    p.add_argument("--strategy", required=True)
    p.add_argument(
        "--target",
        default="all",
        help="canonical, yaml, klaviyo, dittofeed, mermaid, audience, templates, or all (comma-separated)",
    )
    p.add_argument("--out", required=True, help="folder for the request bodies and reports (new or empty)")
    p.add_argument("--data", default=None, help="dataset for the audience and template companions")
    p.add_argument("--as-of", default=None, help="profile date for the companions (default: last order day)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.add_argument(
        "--ids", default=None, help="id map file (workbench ids writes it): real ids instead of placeholders"
    )
    p.set_defaults(handler=_export)

    p = sub.add_parser(
        "ids", help="write the id map a strategy's export needs (looked up in the account with an API key)"
    )
    p.add_argument("--target", required=True, help="klaviyo or dittofeed")
    p.add_argument("--strategy", required=True)
    p.add_argument("--ids", default=None, help="an existing id map to keep the ids of")
    p.add_argument("--out", default=None, help="file to write (default: print)")
    p.add_argument("--base-url", default=None, help="API root (tests, self-hosted Dittofeed)")
    p.set_defaults(handler=_ids)

    p = sub.add_parser("deploy", help="plan (or --apply) the deploy of the strategy's journeys to a tool, as drafts")
    p.add_argument("--target", required=True, help="klaviyo or dittofeed")
    p.add_argument("--strategy", required=True)
    p.add_argument("--apply", action="store_true", help="carry out the plan (default: print it, change nothing)")
    p.add_argument("--ids", default=None, help="id map file (workbench ids writes it)")
    p.add_argument("--base-url", default=None, help="API root (tests, self-hosted Dittofeed)")
    p.set_defaults(handler=_deploy)

    p = sub.add_parser("diff", help="describe the changes between two strategy or journey files")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(handler=_diff)

    p = sub.add_parser("simulate", help="replay the audience through every journey under the contact policy")
    p.add_argument("--strategy", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--start", required=True, help="first day of the plan, YYYY-MM-DD")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", default=None, help="profile date (default: the day before --start)")
    p.add_argument("--policy", default=None, help="policy overrides as YAML, e.g. '{max_defer: 2d}'")
    p.add_argument("--out", required=True, help="send plan file (.parquet); summaries are written beside it")
    p.add_argument("--force", action="store_true", help="replace an existing plan file")
    p.set_defaults(handler=_simulate)

    p = sub.add_parser("lint", help="lint every template and variant over a sample of real customers")
    p.add_argument("--strategy", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--as-of", default=None)
    p.add_argument("--templates", default=None, help="template folder (default: the repository's templates/)")
    p.add_argument("--sample", type=int, default=24, help="customers sampled per moment (default 24)")
    p.add_argument("--max-sms-segments", type=int, default=None, help="default: the strategy's policy")
    p.add_argument("--out", default=None, help="also write the findings (.csv or .parquet)")
    p.set_defaults(handler=_lint)
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
