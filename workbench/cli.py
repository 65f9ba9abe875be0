"""The ``workbench`` command: synthesise data, build profiles and segments, plan, lint, export, run reports.

Every subcommand reads its inputs, asks the application layer
(:class:`workbench.application.Workspace`) for its result and writes its
outputs atomically into the output the user named; nothing it was given is
modified. ``--data`` and ``--strategy`` default to the sample data and the
sample strategy that ship with the package. A problem with the input ends in
a one-paragraph message naming what to fix (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .models.errors import WorkbenchError, is_interrupt
from .models.tables import TABLES

__all__ = ["EXIT_CODES", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]
#: The largest synthetic dataset written (customers); larger ones need more memory than a laptop has.
MAX_SYNTH_CUSTOMERS = 5_000_000

_DATA_HELP = (
    "dataset: a folder of tables (CSV, CSV.GZ, Parquet), a .duckdb file, a PostgreSQL URL "
    "(postgresql://user@host/db?schema=shop) or, with --engine spark, a schema of Spark's catalog "
    "(spark:shop) (default: the bundled sample)"
)
_STRATEGY_HELP = "strategy file (YAML) with brand facts, segments, policy and journeys (default: the bundled sample)"
#: The engines of workbench.application.ENGINES and the dialects of workbench.profiles.DIALECTS
#: (named here so that the command starts without loading them; a test checks they agree).
ENGINES = ("duckdb", "spark")
DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
_AS_OF_HELP = "profile date YYYY-MM-DD, the end of that day UTC (default: the day of the latest order in the data)"


def _workspace(args: argparse.Namespace, **overrides: Any) -> Any:
    from .io import open_workspace

    return open_workspace(
        getattr(args, "data", None),
        getattr(args, "strategy", None),
        as_of=getattr(args, "as_of", None),
        templates=getattr(args, "templates", None),
        engine=getattr(args, "engine", "duckdb"),
        master=getattr(args, "master", None),
        partitions=getattr(args, "partitions", None),
        **overrides,
    )


def _is_url(data: object) -> bool:
    """A data source that is not a path: a PostgreSQL URL or a schema of Spark's catalog."""
    return isinstance(data, str) and data.startswith(("postgresql://", "postgres://", "spark:"))


def _given_inputs(args: argparse.Namespace) -> list[Path]:
    """Every file or folder the command reads (the bundled ones when none is named)."""
    from .io import sample_data, sample_strategy, templates_dir

    data = getattr(args, "data", None)
    found = [] if _is_url(data) else [Path(data or sample_data())]
    found += [
        Path(getattr(args, "strategy", None) or sample_strategy()),
        Path(getattr(args, "templates", None) or templates_dir()),
    ]
    found += [Path(getattr(args, name)) for name in ("notebook", "file") if getattr(args, name, None)]
    return found


def _output_file(args: argparse.Namespace, out: Path) -> Path:
    """A single output file: never one of the inputs or inside them, never an existing file without --force."""
    from .io import refuse_inputs

    refuse_inputs(out, _given_inputs(args))
    if out.is_dir():
        msg = f"{out} is a folder. Fix: name the output file, e.g. {out / 'profiles.parquet'}"
        raise WorkbenchError(msg)
    if out.exists() and not getattr(args, "force", False):
        msg = f"{out} exists. Fix: choose another file name, or pass --force to replace it"
        raise WorkbenchError(msg)
    return out


def _output_folder(args: argparse.Namespace, out: Path) -> Path:
    """An output folder (or a folder of runs): never one of the inputs, inside them, or holding them."""
    from .io import refuse_inputs

    refuse_inputs(out, _given_inputs(args))
    return out


# ---------------------------------------------------------------- handlers


def _synth(args: argparse.Namespace) -> int:
    from .io import staged_output, write_dataset
    from .synth import synthesize

    if not 1 <= args.customers <= MAX_SYNTH_CUSTOMERS:
        msg = (
            f"--customers must be 1 to {MAX_SYNTH_CUSTOMERS:,}, not {args.customers:,} "
            f"(about 1 GB of memory per million customers). Fix: pass a number in that range"
        )
        raise WorkbenchError(msg)
    try:
        end = dt.date.fromisoformat(args.end)
    except ValueError:
        msg = f"--end {args.end!r} is not a date. Fix: write it as YYYY-MM-DD, e.g. 2026-10-31"
        raise WorkbenchError(msg) from None
    if not dt.date(1950, 1, 1) <= end <= dt.date(2150, 12, 31):
        msg = f"--end {args.end} is outside 1950-2150. Fix: pass the last day of the data"
        raise WorkbenchError(msg)
    out = _output_folder(args, Path(args.out))
    with staged_output(out, force=args.force, what="tables") as folder:
        dataset = synthesize(args.customers, seed=args.seed, end=args.end)
        written = write_dataset(dataset, folder.root, fmt=args.format)
    rows = ", ".join(f"{name} {dataset.rows(name):,}" for name in TABLES if dataset.has(name))  # no DataFrames
    print(f"wrote {len(written)} tables to {out} ({rows})")
    return 0


def _profiles(args: argparse.Namespace) -> int:
    from .io import write_table

    if args.emit_sql:
        return _emit_sql(args)
    if not args.out:
        msg = "profiles needs --out FILE (or --emit-sql to print the SQL). Fix: pass --out profiles.parquet"
        raise WorkbenchError(msg)
    if args.engine == "spark":
        return _spark_profiles(args)
    out = _output_file(args, Path(args.out))
    ws = _workspace(args)
    write_table(ws.profiles, out, for_people=True)
    print(f"wrote {len(ws.profiles):,} profiles at {ws.as_of_label} ({ws.as_of_source}) to {out}")
    return 0


def _spark_profiles(args: argparse.Namespace) -> int:
    """``profiles --engine spark``: a Parquet folder written by Spark, partitioned by preferred channel."""
    from .io import write_spark_profiles

    out = _output_folder(args, Path(args.out))
    if out.suffix.lower() in {".csv", ".gz"}:
        msg = (
            f"the spark engine writes profiles as a folder of Parquet files, not {out.name}. "
            f"Fix: pass --out {out.with_suffix('').with_suffix('.parquet').name} (a folder), or --engine duckdb for CSV"
        )
        raise WorkbenchError(msg)
    if out.exists() and not args.force:
        msg = f"{out} exists. Fix: choose another name, or pass --force to replace it"
        raise WorkbenchError(msg)
    ws = _workspace(args)
    write_spark_profiles(ws.spark_profiles(), out, force=args.force)
    print(f"wrote the profiles at {ws.as_of_label} ({ws.as_of_source}) to {out} (Parquet by preferred_channel)")
    return 0


def _emit_sql(args: argparse.Namespace) -> int:
    """Print the profile SQL for the data's tables (their names, and whether orders have a status) in a dialect."""
    from .application import default_as_of
    from .io import load_dataset, sample_data
    from .profiles import profile_sql

    dataset = load_dataset(args.data or sample_data())
    customers = dataset.customers.columns
    carried = [
        c
        for c in (
            "email",
            "phone",
            "first_name",
            "country",
            "region",
            "loyalty_tier",
            "created_at",
            "timezone",
            "preferred_channel",
        )
        if c in customers
    ]
    sql = profile_sql(
        as_of=args.as_of or default_as_of(dataset),
        dialect=args.dialect,
        tables=tuple(dataset.tables()),
        has_status="status" in dataset.orders.columns,
        has_currency="currency" in dataset.orders.columns,
        customer_columns=carried,
    )
    print(sql.rstrip() + ";")
    return 0


def _segments(args: argparse.Namespace) -> int:
    from .io import new_run_dir, write_audiences

    out = _output_folder(args, Path(args.out))
    tables = _workspace(args).audiences()  # before any folder is made: a bad rule leaves nothing behind
    run_dir = new_run_dir(out)
    written = write_audiences(tables, run_dir)
    print(f"wrote {len(written)} audience files to {run_dir / 'audiences'}")
    return 0


def _parameters(pairs: Sequence[Sequence[str]] | None) -> dict[str, Any]:
    import yaml

    params: dict[str, Any] = {}
    for name, raw in pairs or ():
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, dt.date):  # YAML reads 2026-10-31 as a date; notebooks take the text
            value = value.isoformat()
        if isinstance(value, str) and name.endswith("_path") and Path(value).exists():
            value = str(Path(value).resolve())
        params[name] = value
    return params


def _report_process() -> None:
    """Set up this process for running notebooks: skip what only slows its start.

    jsonschema (imported with nbformat) registers IRI format checks when rfc3987_syntax is installed (a
    JupyterLab dependency), and that module builds a grammar on import (about 1 s) for checks a run
    never makes; the report kernels skip it the same way.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _run(args: argparse.Namespace) -> int:
    _report_process()
    from .reports import run

    out = _output_folder(args, Path(args.out))
    run_dir = run(args.notebook, parameters=_parameters(args.parameter), out=out, command=sys.argv)
    print(f"report: {run_dir / 'index.html'}")
    return 0


def _pipeline(args: argparse.Namespace) -> int:
    _report_process()
    from .reports import pipeline

    out = _output_folder(args, Path(args.out))
    run_dir = pipeline(
        strategy=args.strategy,
        data=args.data,
        out=out,
        as_of=args.as_of,
        notebooks=args.only,
        workers=args.workers,
        command=sys.argv,
        engine=args.engine,
        master=args.master,
    )
    print(f"outputs: {run_dir}\nopen:    {run_dir / 'index.html'}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .io import load_journeys, load_strategy, load_templates, validate_file

    _, library = load_templates(args.templates)
    problems = validate_file(args.file, library=library)
    if problems:
        print(f"{args.file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    path = Path(args.file)
    if path.suffix == ".json" or not _looks_like_strategy(path):
        journeys = load_journeys(path)
        print(f"{args.file}: valid ({len(journeys)} journey{'s' if len(journeys) != 1 else ''})")
        return 0
    strategy = load_strategy(path)
    print(f"{args.file}: valid ({len(strategy.segments)} segments, {len(strategy.journeys)} journeys)")
    return 0


def _looks_like_strategy(path: Path) -> bool:
    from .io import read_text
    from .models.documents import load_yaml

    data = load_yaml(read_text(path, what="file"), source=str(path))
    return isinstance(data, dict) and "brand" in data


def _export(args: argparse.Namespace) -> int:
    from .application import export
    from .deploy import read_idmap
    from .io import load_strategy, load_templates, staged_output, write_exports

    out = _output_folder(args, Path(args.out))
    idmap = read_idmap(args.ids) if args.ids else None
    ids = {idmap.target: idmap} if idmap is not None else None
    with staged_output(out, force=args.force, what="files") as folder:
        if args.data:
            ws = _workspace(args)
            results = ws.exports(args.target, ids=ids)
        else:
            _, library = load_templates(args.templates)
            strategy = load_strategy(args.strategy or _sample_strategy())
            results = export(strategy, args.target, library=library, ids=ids)
        summary = write_exports(results, folder)
    summary = {
        target: {**info, "files": [str(out / Path(f).relative_to(folder.root)) for f in info["files"]]}
        for target, info in summary.items()
    }
    for target, info in summary.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(info.get("summary", {}).items()))
        print(f"{target}: {len(info['files'])} files" + (f" ({counts})" if counts else ""))
    print(f"wrote {out}")
    return 0


def _sample_strategy() -> Path:
    from .io import sample_strategy

    return sample_strategy()


def _diff(args: argparse.Namespace) -> int:
    from .io import diff_files

    lines = diff_files(args.old, args.new)
    print("\n".join(lines) if lines else "no differences")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from .io import staged_output, write_plan
    from .models.documents import load_yaml

    out = _output_folder(args, Path(args.out))
    if out.suffix.lower() in {".parquet", ".csv", ".gz"}:
        msg = (
            f"--out is the folder for send_plan.parquet and cadence/*.csv, not a file: {out}. "
            f"Fix: pass a folder name such as {out.with_suffix('')}"
        )
        raise WorkbenchError(msg)
    overrides = load_yaml(args.policy, source="--policy") if args.policy else None
    if overrides is not None and not isinstance(overrides, dict):
        msg = (
            f"--policy takes a YAML mapping of policy fields, not {type(overrides).__name__}. "
            'Fix: write it as a mapping, e.g. --policy "{caps: [{channel: sms, max: 1, per: 7d}]}"'
        )
        raise WorkbenchError(msg)
    with staged_output(out, force=args.force, what="plan and summaries") as folder:  # an output in use: refused first
        ws = _workspace(args)
        if args.engine == "spark":  # written by Spark, partitioned by journey; the summaries added up there
            from .io import write_spark_plan

            spark_plan = ws.spark_plan(start=args.start, days=args.days, seed=args.seed, policy_overrides=overrides)
            written = write_spark_plan(spark_plan, folder)
        else:
            plan = ws.plan(start=args.start, days=args.days, seed=args.seed, policy_overrides=overrides, progress=True)
            written = write_plan(plan, folder)
    for name, path in written.items():
        print(f"{name}: {out / path.relative_to(folder.root)}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    import pandas as pd

    from .messages import lint_exit_code

    out = _output_file(args, Path(args.out)) if args.out else None
    ws = _workspace(args, max_sms_segments=args.max_sms_segments)
    findings = ws.lint(sample_customers=args.sample)
    if out is not None:
        from .io import write_table

        write_table(findings, out, for_people=True)
        print(f"wrote {len(findings)} findings to {out}")
    cost = findings.attrs.get("sms_cost")
    if cost is not None and len(cost):
        with pd.option_context("display.width", 200):
            print("SMS cost over the sampled customers (segments per 1,000 sends):")
            print(cost.to_string(index=False))
    translations = findings.attrs.get("translations")
    if translations is not None and len(translations):
        missing = translations[translations["status"] == "missing"].groupby("locale", sort=False)["moment"]
        print("Moments without a translation, per locale (those customers get the default language):")
        for locale in translations["locale"].drop_duplicates():
            names = missing.get_group(locale).tolist() if locale in missing.groups else []
            print(f"  {locale}: {', '.join(names) if names else 'none'}")
    if findings.empty:
        print(f"no findings: every template and variant is clean for {args.sample} sampled customers per moment")
    else:
        errors = int((findings["severity"] == "error").sum())
        if not errors:
            print(f"no error findings ({len(findings)} warning and info rows below)")
        with pd.option_context("display.max_rows", 200, "display.max_colwidth", 80, "display.width", 200):
            columns = ["severity", "rule", "moment", "variant", "locale", "channel", "message", "customers"]
            print(findings[columns].to_string())
    return lint_exit_code(findings)


def _preview(args: argparse.Namespace) -> int:
    """``workbench preview``: one customer's pair written as a side-by-side HTML page; the SMS and subject printed."""
    from .io import staged_output
    from .models.names import safe_name

    out = _output_folder(args, Path(args.out))
    ws = _workspace(args)
    item = ws.preview(args.moment, args.customer, variant=args.variant)
    pair = item.pair
    name = f"{safe_name(pair.moment)}__{safe_name(pair.variant)}__{safe_name(pair.customer_id)}.html"
    with staged_output(out, force=args.force, what="preview") as folder:
        folder.write_text(name, item.html)
    loc = pair.locale
    if loc is not None:
        fallback = " (no translation in the customer's language)" if loc.fallback else ""
        print(f"locale: {loc.locale} → written in {pair.content_locale}{fallback}; chain {' → '.join(loc.chain)}")
        print(f"market: {pair.market or 'none'} · currency: {pair.currency} · amounts and dates in {loc.format_locale}")
    if pair.html:
        print(f"email subject: {pair.subject}")
        print(f"email preheader: {pair.preheader}")
    if pair.sms is not None and pair.sms_analysis is not None:
        a = pair.sms_analysis
        unit = "septets" if a.encoding == "GSM-7" else "UTF-16 units"
        print(f"SMS ({a.encoding}, {a.units} {unit}, {a.segments} segment{'s' if a.segments != 1 else ''}):")
        print(f"  {pair.sms}")
        if a.non_gsm:
            from .messages.lint import _ucs2_message

            print(f"  {_ucs2_message(a)}")
    findings = item.findings
    if len(findings):
        print(f"{len(findings)} lint finding{'s' if len(findings) != 1 else ''}:")
        for r in findings.itertuples(index=False):
            print(f"  {r.severity}: {r.rule}: {r.message}")
    print(f"wrote {out / name}")
    return 1 if len(findings) and (findings["severity"] == "error").any() else 0


def _ids(args: argparse.Namespace) -> int:
    """``workbench ids``: the skeleton of every id a strategy's export needs, filled from the account when it can."""
    import json

    from .deploy import id_map_for, read_idmap
    from .io import load_strategy, write_text

    out = _output_file(args, Path(args.out)) if args.out else None
    strategy = load_strategy(args.strategy or _sample_strategy())
    known = read_idmap(args.ids) if args.ids else None
    skeleton, source = id_map_for(strategy, args.target, known=known, base_url=args.base_url)
    text = json.dumps(skeleton.as_dict(), indent=2, ensure_ascii=False) + "\n"
    missing = sum(1 for names in skeleton.ids.values() for v in names.values() if not v)
    if out is not None:
        write_text(out, text)
        total = sum(len(v) for v in skeleton.ids.values())
        print(f"wrote {out}: {total} ids ({source}); {missing} still to fill in")
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


# ---------------------------------------------------------------- the parser


class _Help(argparse.RawDescriptionHelpFormatter):
    """Option help with its default (unless the help says it, or the option is required or a switch), and
    descriptions and examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.required
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return text + " (default: %(default)s)"


def _command(sub: Any, name: str, handler: Handler, help_text: str, examples: Sequence[str]) -> argparse.ArgumentParser:
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog,
        formatter_class=_Help,
    )
    p.set_defaults(handler=handler)
    return p


def _inputs(p: argparse.ArgumentParser, *, data: bool = True, strategy: bool = True, as_of: bool = True) -> None:
    if data:
        p.add_argument("--data", default=None, metavar="PATH", help=_DATA_HELP)
    if strategy:
        p.add_argument("--strategy", default=None, metavar="FILE", help=_STRATEGY_HELP)
    if as_of:
        p.add_argument("--as-of", default=None, metavar="DATE", help=_AS_OF_HELP)


def _engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=list(ENGINES),
        default="duckdb",
        help="where the work runs: embedded DuckDB, or Spark (pip install 'workbench[spark]'); same results",
    )
    p.add_argument(
        "--master",
        default=None,
        metavar="URL",
        help="Spark master (local[4], spark://host:7077, yarn; default: a running session's, else local[2])",
    )
    p.add_argument(
        "--partitions",
        type=int,
        default=None,
        metavar="N",
        help="Spark partitions of customers the plan is simulated in (default: Spark's own)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``workbench`` command."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description=__doc__.split("\n\n")[0].replace("\n", " ") if __doc__ else None,
        formatter_class=_Help,
        epilog="Run `workbench COMMAND --help` for the options and examples of a command.\n\nexit status:\n"
        + "\n".join(f"  {code:>3}  {what}" for what, code in EXIT_CODES.items()),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "synth",
        _synth,
        "write a seeded synthetic dataset (all five tables)",
        ["workbench synth --customers 100000 --seed 1 --out data/big"],
    )
    p.add_argument("--customers", type=int, default=5000, help="number of customers")
    p.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same files")
    p.add_argument("--end", default="2026-10-31", metavar="DATE", help="last day of the data, YYYY-MM-DD")
    p.add_argument("--format", choices=["csv.gz", "csv", "parquet"], default="csv.gz", help="file format")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder to write the tables into, new or empty (required)"
    )
    p.add_argument("--force", action="store_true", help="replace tables in a non-empty folder (default: refuse)")

    p = _command(
        sub,
        "profiles",
        _profiles,
        "build one profile per customer (CSV or Parquet by the file's extension)",
        [
            "workbench profiles data/sample --out profiles.parquet",
            "workbench profiles data/sample --as-of 2026-10-31 --out profiles.csv",
            "workbench profiles data/shop --engine spark --out profiles.parquet   # a folder, by preferred_channel",
        ],
    )
    p.add_argument("data", nargs="?", default=None, metavar="DATA", help=_DATA_HELP)
    p.add_argument("--as-of", default=None, metavar="DATE", help=_AS_OF_HELP)
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="output file: .csv, .csv.gz or .parquet; with --engine spark a folder of Parquet files "
        "(required unless --emit-sql)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output file (default: refuse)")
    p.add_argument(
        "--emit-sql",
        action="store_true",
        help="print the profile SQL for the data's tables instead of running it (default: run it)",
    )
    p.add_argument(
        "--dialect",
        choices=list(DIALECTS),
        default="duckdb",
        help="SQL dialect of --emit-sql, in SQLGlot's names (default: duckdb)",
    )
    _engine(p)

    p = _command(
        sub,
        "segments",
        _segments,
        "assign the strategy's segments and write one audience CSV per segment",
        ["workbench segments data/sample --strategy data/strategy.yaml --out out"],
    )
    p.add_argument("data", nargs="?", default=None, metavar="DATA", help=_DATA_HELP)
    _inputs(p, data=False)
    p.add_argument("--out", default="out", metavar="DIR", help="a new run folder is created under it")
    _engine(p)

    p = _command(
        sub,
        "run",
        _run,
        "run one notebook through papermill into a new run folder",
        [
            "workbench run notebooks/01_explore_audiences.ipynb -p lapsed_days 300 --out out",
            "workbench run notebooks/05_measure_results.ipynb -p dataset hillstrom "
            "-p data_path data/real/hillstrom_email/hillstrom.csv.gz",
        ],
    )
    p.add_argument("notebook", help="path of the notebook (.ipynb)")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a notebook parameter, repeatable, its value read as YAML: 3, 0.5, true, [a, b] (default: the notebook's)",
    )
    p.add_argument("--out", default="out", metavar="DIR", help="a new run folder is created under it")

    p = _command(
        sub,
        "pipeline",
        _pipeline,
        "run every report of the strategy on a dataset (audience, messages, cadence, journeys, measurement)",
        [
            "workbench pipeline --out out",
            "workbench pipeline --strategy data/strategy.yaml --data data/sample --as-of 2026-10-31 --out out",
            "workbench pipeline --only 01_explore_audiences 03_plan_cadence",
        ],
    )
    _inputs(p)
    p.add_argument("--out", default="out", metavar="DIR", help="a new run folder is created under it")
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        metavar="NOTEBOOK",
        help="run only these notebooks (stems) (default: all five)",
    )
    p.add_argument("--workers", type=int, default=2, help="notebooks run side by side")
    _engine(p)

    p = _command(
        sub,
        "validate",
        _validate,
        "check a strategy file (or a canonical journey file): every problem with its line and fix",
        ["workbench validate data/strategy.yaml", "workbench validate exports/canonical/cart_recovery.json"],
    )
    p.add_argument("file", help="strategy YAML, or a canonical journey (.json, .yaml)")
    p.add_argument("--templates", default=None, metavar="DIR", help="template folder (default: the bundled library)")

    p = _command(
        sub,
        "export",
        _export,
        "export the strategy's journeys to execution tools (request bodies, diagrams, audiences, reports)",
        [
            "workbench export --strategy data/strategy.yaml --target klaviyo,dittofeed --out exports",
            "workbench export --strategy data/strategy.yaml --data data/sample --out exports",
        ],
    )
    _inputs(p)
    p.add_argument(
        "--target",
        default="all",
        help="canonical, yaml, klaviyo, dittofeed, mermaid, audience, templates, or all (comma-separated)",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the files and reports, new or empty (required)"
    )
    p.add_argument("--templates", default=None, metavar="DIR", help="template folder (default: the bundled library)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder (default: refuse)")
    p.add_argument(
        "--ids",
        default=None,
        metavar="FILE",
        help="id map file (workbench ids writes it): real ids, not placeholders (default: placeholders, reported)",
    )

    p = _command(
        sub,
        "ids",
        _ids,
        "write the id map a strategy's export needs (looked up in the account when an API key is set)",
        [
            "workbench ids --target klaviyo --strategy data/strategy.yaml --out klaviyo.ids.yaml",
            "KLAVIYO_API_KEY=... workbench ids --target klaviyo --out klaviyo.ids.yaml",
        ],
    )
    p.add_argument("--target", required=True, choices=["klaviyo", "dittofeed"], help="the tool (required)")
    p.add_argument("--strategy", default=None, metavar="FILE", help=_STRATEGY_HELP)
    p.add_argument(
        "--ids",
        default=None,
        metavar="FILE",
        help="an existing id map whose ids are kept (default: none, start afresh)",
    )
    p.add_argument("--out", default=None, metavar="FILE", help="file to write (default: print it)")
    p.add_argument("--force", action="store_true", help="replace an existing id map file (default: refuse)")
    p.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="API root, for a self-hosted Dittofeed or tests (default: the tool's public API)",
    )

    p = _command(
        sub,
        "deploy",
        _deploy,
        "plan the deploy of the strategy's journeys to a tool as drafts; --apply carries the plan out",
        [
            "workbench deploy --target dittofeed --strategy data/strategy.yaml",
            "KLAVIYO_API_KEY=... workbench deploy --target klaviyo --ids klaviyo.ids.yaml --apply",
        ],
    )
    p.add_argument("--target", required=True, choices=["klaviyo", "dittofeed"], help="the tool (required)")
    p.add_argument("--strategy", default=None, metavar="FILE", help=_STRATEGY_HELP)
    p.add_argument("--apply", action="store_true", help="carry out the plan (default: print it and change nothing)")
    p.add_argument("--ids", default=None, metavar="FILE", help="id map file (workbench ids writes it) (default: none)")
    p.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="API root, for a self-hosted Dittofeed or tests (default: the tool's public API)",
    )

    p = _command(
        sub,
        "diff",
        _diff,
        "describe in words what changed between two strategy or journey files",
        ["workbench diff old_strategy.yaml data/strategy.yaml"],
    )
    p.add_argument("old", help="the earlier file")
    p.add_argument("new", help="the later file")

    p = _command(
        sub,
        "simulate",
        _simulate,
        "replay every customer through every journey under the contact policy: the send plan and its summaries",
        [
            "workbench simulate --days 90 --seed 7 --out plan",
            "workbench simulate --strategy data/strategy.yaml --data data/sample --start 2026-11-02 "
            "--policy '{max_defer: 2d}' --out plan",
            "workbench simulate --engine spark --data data/shop --out plan   # send_plan.parquet/journey_id=.../",
        ],
    )
    _inputs(p)
    p.add_argument("--start", default=None, metavar="DATE", help="first day of the plan (default: the day after as-of)")
    p.add_argument("--days", type=int, default=90, help="length of the plan in days")
    p.add_argument("--seed", type=int, default=7, help="seed of every draw: the same seed gives the same plan")
    p.add_argument(
        "--policy",
        default=None,
        metavar="YAML",
        help="policy overrides as YAML, e.g. '{max_defer: 2d}' (default: the strategy's policy as is)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder (new or empty) for send_plan.parquet and cadence/*.csv (required)",
    )
    p.add_argument("--force", action="store_true", help="write into a non-empty folder (default: refuse)")
    _engine(p)

    p = _command(
        sub,
        "lint",
        _lint,
        "lint every template and variant, rendered for a sample of real customers (exit 1 on an error finding)",
        [
            "workbench lint",
            "workbench lint --strategy data/strategy.yaml --data data/sample --sample 50 --out lint.csv",
        ],
    )
    _inputs(p)
    p.add_argument("--templates", default=None, metavar="DIR", help="template folder (default: the bundled library)")
    p.add_argument("--sample", type=int, default=24, help="customers sampled per moment")
    p.add_argument(
        "--max-sms-segments", type=int, default=None, help="longest SMS allowed (default: the strategy's policy)"
    )
    p.add_argument(
        "--out", default=None, metavar="FILE", help="also write the findings (.csv or .parquet) (default: print only)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing findings file (default: refuse)")

    p = _command(
        sub,
        "preview",
        _preview,
        "one customer's paired message in their language, side by side (exit 1 on an error finding)",
        [
            "workbench preview --moment cart_abandonment --customer C0000042 --out preview",
            "workbench preview --strategy data/strategy.yaml --data data/sample --moment win_back "
            "--customer C0000042 --variant B --out preview",
        ],
    )
    _inputs(p)
    p.add_argument("--templates", default=None, metavar="DIR", help="template folder (default: the bundled library)")
    p.add_argument("--moment", required=True, help="moment (a template folder), e.g. cart_abandonment (required)")
    p.add_argument("--customer", required=True, metavar="ID", help="customer_id of the customer to preview (required)")
    p.add_argument("--variant", default=None, help="template variant (default: the manifest's first, A)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder (new or empty) for the preview page (required)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder (default: refuse)")
    return parser


#: Exit status by kind of failure (also in ``workbench --help``).
EXIT_CODES = {
    "ok": 0,
    "checks found errors (lint)": 1,
    "the input cannot be used (data, strategy, templates, journeys, options)": 2,
    "a file or folder cannot be read or written": 3,
    "a notebook of a run failed": 4,
    "an unexpected error (a bug in the workbench: please report it)": 70,
    "interrupted": 130,
}


def _exit_code(exc: WorkbenchError) -> int:
    from .models.errors import FileError, RunError

    if isinstance(exc, FileError):
        return 3
    if isinstance(exc, RunError):
        return 4
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit status (see :data:`EXIT_CODES`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except (KeyboardInterrupt, RuntimeError) as exc:  # DuckDB raises a RuntimeError for a Ctrl-C in a query
        if isinstance(exc, RuntimeError) and not is_interrupt(exc):
            return _unexpected(exc)
        print("interrupted: nothing more was written", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            "error: out of memory. Fix: work on a smaller dataset or horizon, or on a larger machine", file=sys.stderr
        )
        return 2
    except Exception as exc:  # the last line of defence: a message, never a traceback
        return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    """Say an unexpected error is a bug, without a traceback (unless WORKBENCH_DEBUG is set); exit status 70."""
    if os.environ.get("WORKBENCH_DEBUG"):
        raise exc
    where = traceback.extract_tb(exc.__traceback__)[-1]
    print(
        f"error: unexpected {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno}). "
        "This is a bug in the workbench: please report it with the command you ran; "
        "set WORKBENCH_DEBUG=1 to see the full traceback",
        file=sys.stderr,
    )
    return 70


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
