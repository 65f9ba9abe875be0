"""Writing what a workspace computed: audiences, exports, plans and their summaries.

Each function writes into the folder it is given, atomically per file, and
returns what it wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..application import Plan, Workspace
from ..exporters import ExportResult
from ..journeys import journey_to_json
from ..messages.preview import Gallery, Preview, build_gallery
from ..models.journey import Journey
from .writer import atomic_write, write_table, write_text

__all__ = [
    "write_audiences",
    "write_exports",
    "write_gallery",
    "write_journeys",
    "write_plan",
    "write_preview",
]

PathLike = str | os.PathLike[str]


def write_audiences(tables: Mapping[str, pd.DataFrame], output_dir: PathLike) -> pd.DataFrame:
    """Write one CSV per table under ``<output_dir>/audiences/`` (``Workspace.audiences()``).

    Returns one row per file written: ``file`` (path) and ``rows``.
    """
    folder = Path(output_dir) / "audiences"
    rows = [{"file": str(write_table(df, folder / f"{name}.csv")), "rows": len(df)} for name, df in tables.items()]
    return pd.DataFrame(rows, columns=["file", "rows"])


def write_exports(
    results: Mapping[str, ExportResult], output_dir: PathLike, *, report_name: str = "report.json"
) -> dict[str, Any]:
    """Write every export result under ``<output_dir>/<target>/`` with its report; return the file lists."""
    out = Path(output_dir)
    summary: dict[str, Any] = {}
    for target, result in results.items():
        folder = out / target
        written = []
        for name, content in result.files.items():
            path = folder / name
            if isinstance(content, pd.DataFrame):
                write_table(content, path)
            elif isinstance(content, bytes):
                atomic_write(path, lambda p, c=content: p.write_bytes(c))
            else:
                write_text(path, content)
            written.append(str(path))
        report = result.report_dict()
        report_path = folder / report_name
        write_text(report_path, json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
        summary[target] = {"files": written, "report": str(report_path), "summary": report["summary"]}
    return summary


def write_plan(plan: Plan, output_dir: PathLike) -> dict[str, Path]:
    """Write ``send_plan.parquet`` and ``cadence/<summary>.csv`` for each summary table; return the paths by name."""
    out = Path(output_dir)
    written = {"send_plan": write_table(plan.plan, out / "send_plan.parquet")}
    for table, frame in plan.summaries().items():
        written[table] = write_table(frame, out / "cadence" / f"{table}.csv")
    return written


def write_journeys(
    results: Mapping[str, ExportResult], journeys: Sequence[Journey], output_dir: PathLike
) -> pd.DataFrame:
    """Write each journey's canonical JSON under ``journeys/`` and every export under ``exports/<target>/``.

    Returns one row per file written (``target``, ``path``).
    """
    out = Path(output_dir)
    rows = [
        {"target": "journey", "path": str(write_text(out / "journeys" / f"{j.id}.json", journey_to_json(j)))}
        for j in journeys
    ]
    for target, info in write_exports(results, out / "exports").items():
        rows += [{"target": target, "path": p} for p in [*info["files"], info["report"]]]
    return pd.DataFrame(rows, columns=["target", "path"])


def write_preview(item: Preview, path: PathLike) -> Path:
    """Write a preview as a standalone HTML file (atomically)."""
    return write_text(path, item.html)


def write_gallery(
    ws: Workspace,
    output_dir: PathLike,
    *,
    moments: Sequence[str] | None = None,
    sample_customers: int = 3,
    lint_customers: int = 24,
    seed: int = 0,
) -> pd.DataFrame:
    """Build the workspace's preview gallery and write it: ``previews/*.html``, ``index.html``, ``lint.csv``,
    ``templates.csv``.

    Returns one row per preview (see :class:`~workbench.messages.preview.Gallery`), with the lint table in
    ``attrs["lint"]``.
    """
    gallery: Gallery = build_gallery(
        ws.assigned,
        strategy=ws.strategy,
        moments=moments,
        sample_customers=sample_customers,
        seed=seed,
        templates_dir=ws.templates_dir,
        lint_customers=lint_customers,
        max_sms_segments=ws.max_sms_segments,
    )
    out = Path(output_dir)
    for name, page in gallery.pages.items():
        write_text(out / name, page)
    write_table(gallery.lint, out / "lint.csv")
    write_table(gallery.templates, out / "templates.csv")
    write_text(out / "index.html", gallery.index)
    return gallery.rows
