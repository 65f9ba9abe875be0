"""Writing what a workspace computed: audiences, exports, plans, journeys and preview galleries.

Each function writes through one :class:`~workbench.io.writer.OutputFolder`
(given, or made for the folder named), so every file stays inside that folder
and names built from data are encoded; each returns what it wrote.
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
from ..models.names import safe_name
from .resources import resolve_output_dir
from .writer import OutputFolder, write_text

__all__ = [
    "output_folder",
    "write_audiences",
    "write_exports",
    "write_gallery",
    "write_journeys",
    "write_plan",
    "write_preview",
]

PathLike = str | os.PathLike[str]
Folder = OutputFolder | PathLike


def _folder(where: Folder) -> OutputFolder:
    return where if isinstance(where, OutputFolder) else OutputFolder(where)


def output_folder(output_dir: PathLike | None, name: str) -> OutputFolder:
    """The writer of a notebook: the folder given, else ``out/notebooks/<name>`` (see ``resolve_output_dir``)."""
    return OutputFolder(resolve_output_dir(output_dir, name))


def write_audiences(tables: Mapping[str, pd.DataFrame], where: Folder) -> pd.DataFrame:
    """Write one CSV per table under ``audiences/`` (``Workspace.audiences()``).

    Returns one row per file written: ``file`` (path) and ``rows``.
    """
    out = _folder(where)
    rows = [
        {"file": str(out.write_table(f"audiences/{safe_name(name)}.csv", df)), "rows": len(df)}
        for name, df in tables.items()
    ]
    return pd.DataFrame(rows, columns=["file", "rows"])


def write_exports(
    results: Mapping[str, ExportResult], where: Folder, *, prefix: str = "", report_name: str = "report.json"
) -> dict[str, Any]:
    """Write every export result under ``<prefix><target>/`` with its report; return the file lists by target."""
    out = _folder(where)
    summary: dict[str, Any] = {}
    for target, result in results.items():
        folder = f"{prefix}{safe_name(target)}"
        written = []
        for name, content in result.files.items():
            rel = f"{folder}/{name}"
            if isinstance(content, pd.DataFrame):
                path = out.write_table(rel, content)
            elif isinstance(content, bytes):
                path = out.write_bytes(rel, content)
            else:
                path = out.write_text(rel, content)
            written.append(str(path))
        report = result.report_dict()
        text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
        report_path = out.write_text(f"{folder}/{report_name}", text)
        summary[target] = {"files": written, "report": str(report_path), "summary": report["summary"]}
    return summary


def write_plan(plan: Plan, where: Folder) -> dict[str, Path]:
    """Write ``send_plan.parquet`` and ``cadence/<summary>.csv`` for each summary table; return the paths by name."""
    out = _folder(where)
    written = {"send_plan": out.write_table("send_plan.parquet", plan.plan)}
    for table, frame in plan.summaries().items():
        written[table] = out.write_table(f"cadence/{safe_name(table)}.csv", frame)
    return written


def write_journeys(results: Mapping[str, ExportResult], journeys: Sequence[Journey], where: Folder) -> pd.DataFrame:
    """Write each journey's canonical JSON under ``journeys/`` and every export under ``exports/<target>/``.

    Returns one row per file written (``target``, ``path``).
    """
    out = _folder(where)
    rows = [
        {"target": "journey", "path": str(out.write_text(f"journeys/{safe_name(j.id)}.json", journey_to_json(j)))}
        for j in journeys
    ]
    for target, info in write_exports(results, out, prefix="exports/").items():
        rows += [{"target": target, "path": p} for p in [*info["files"], info["report"]]]
    return pd.DataFrame(rows, columns=["target", "path"])


def write_preview(item: Preview, path: PathLike) -> Path:
    """Write a preview as a standalone HTML file (atomically)."""
    return write_text(path, item.html)


def write_gallery(
    ws: Workspace,
    where: Folder,
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
    out = _folder(where)
    for name, page in gallery.pages.items():
        out.write_text(name, page)
    out.write_table("lint.csv", gallery.lint)
    out.write_table("templates.csv", gallery.templates)
    out.write_text("index.html", gallery.index)
    return gallery.rows
