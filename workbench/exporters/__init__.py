"""Exporters: one journey spec compiled to several tools, behind one registry.

Targets: ``canonical`` (versioned JSON + its JSON Schema), ``yaml``,
``klaviyo`` (``POST /api/flows`` bodies), ``dittofeed`` (``JourneyDefinition``),
``mermaid`` (diagrams), and the companions ``audience`` (CSV of customer ids
with consent per channel) and ``templates`` (rendered bundle). Every target
writes ``<out>/<target>/`` with its files and a ``report.json`` saying what
was mapped, emulated, not carried, or must be created in the tool.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import canonical, companions, dittofeed, klaviyo, mermaid  # noqa: F401  (register the exporters)
from .dittofeed import to_dittofeed
from .klaviyo import KLAVIYO_REVISION, to_klaviyo
from .mermaid import to_mermaid
from .registry import (
    EXPORTERS,
    STATUSES,
    ExportContext,
    ExportResult,
    ReportItem,
    export_journeys,
    placeholder_id,
    register,
    resolve_targets,
    templates_contained,
)

__all__ = [
    "EXPORTERS",
    "KLAVIYO_REVISION",
    "STATUSES",
    "ExportContext",
    "ExportResult",
    "ReportItem",
    "export_journeys",
    "export_strategy",
    "generate_journey",
    "placeholder_id",
    "register",
    "resolve_targets",
    "templates_contained",
    "to_dittofeed",
    "to_klaviyo",
    "to_mermaid",
    "write_results",
]


def write_results(
    results: dict[str, ExportResult], out_dir: str | os.PathLike[str], *, report_name: str = "report.json"
) -> dict[str, Any]:
    """Write every result under ``out_dir/<target>/`` atomically, with its report; return the file lists."""
    import pandas as pd

    from ..sources import atomic_write, write_table, write_text

    out = Path(out_dir)
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
        text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
        write_text(report_path, text)
        summary[target] = {"files": written, "report": str(report_path), "summary": report["summary"]}
    return summary


def export_strategy(
    strategy: Any,
    *,
    targets: str | Iterable[str] | None = "all",
    out_dir: str | os.PathLike[str],
    dataset: Any = None,
    as_of: object = None,
    journeys: Iterable[str] | None = None,
    library: Any = None,
    overrides: dict[str, Any] | None = None,
    report_name: str = "report.json",
    ids: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build, validate and export the journeys of a strategy; write ``out_dir/<target>/`` per target.

    Parameters
    ----------
    strategy
        A :class:`workbench.strategy.Strategy`.
    targets
        ``"all"``, a comma-separated string or a list of names from :data:`EXPORTERS`.
    out_dir
        Output folder (created).
    dataset, as_of
        A :class:`workbench.sources.Dataset` and the profile date, for the audience files and a real
        customer in the template bundle; ``as_of`` defaults to the last order's day.
    journeys
        Journey ids to export (default: every enabled journey).
    library
        Template manifests for validation (default: the template library when present).
    overrides
        Blueprint parameters applied to the selected blueprint journeys (the notebook's parameters).
    ids
        Id maps by target (:class:`~workbench.exporters.registry.IdMap`): every id the bodies reference
        must be in them (an ExportError lists the missing names); without, placeholders are reported.

    Returns
    -------
    dict
        Per target: ``files``, ``report`` (path) and ``summary`` (count per status); plus ``journeys``
        (ids) and ``seconds``.

    Raises
    ------
    JourneyError
        A journey is invalid (naming the journey and node).
    ExportError
        An unknown target.
    """
    from ..errors import JourneyError
    from ..journeys import build_journey

    start = time.perf_counter()
    names = resolve_targets(targets)
    wanted = None if journeys is None else list(journeys)
    specs = [s for s in strategy.journeys if (s.enabled if wanted is None else s.id in wanted)]
    if wanted is not None:
        missing = sorted(set(wanted) - {s.id for s in specs})
        if missing:
            raise JourneyError(
                f"no journey {', '.join(missing)} in strategy {strategy.name!r}. "
                f"Fix: use one of {', '.join(s.id for s in strategy.journeys)}"
            )
    built = [build_journey(s, **(overrides if overrides and s.blueprint else {})) for s in specs]
    summary = export_built(
        built,
        strategy=strategy,
        targets=names,
        out_dir=out_dir,
        dataset=dataset,
        as_of=as_of,
        library=library,
        report_name=report_name,
        ids=ids,
    )
    summary["seconds"] = round(time.perf_counter() - start, 3)
    return summary


def export_built(
    built: list[Any],
    *,
    strategy: Any,
    targets: str | Iterable[str] | None = "all",
    out_dir: str | os.PathLike[str],
    dataset: Any = None,
    as_of: object = None,
    library: Any = None,
    report_name: str = "report.json",
    ids: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate built journeys and write their exports (see :func:`export_strategy`)."""
    from ..journeys import default_library, journey_problems, known_segments

    names = resolve_targets(targets)
    segments = known_segments(strategy)
    library = library if library is not None else default_library()
    for j in built:
        problems = journey_problems(j, library=library, segments=segments)
        if problems:
            raise problems[0]
    assigned = None
    if dataset is not None and any(n in _NEEDS_PROFILES for n in names):
        assigned = _assigned(dataset, strategy, as_of)
    context = ExportContext(strategy=strategy, assigned=assigned, library=library, ids=ids)
    results = export_journeys(built, targets=names, context=context)
    summary = write_results(results, out_dir, report_name=report_name)
    summary["journeys"] = [j.id for j in built]
    return summary


#: Targets that read profiles when a dataset is given (audiences, SMS cost, profile imports).
_NEEDS_PROFILES = ("audience", "templates", "klaviyo", "dittofeed", "klaviyo_profiles", "dittofeed_profiles")


def generate_journey(
    strategy: Any,
    journey: Any,
    *,
    targets: str | Iterable[str] | None = "all",
    output_dir: str | os.PathLike[str],
    dataset: Any = None,
    as_of: object = None,
) -> Any:
    """Write one journey's configs into a run folder: ``journeys/<id>.json`` and ``exports/<target>/``.

    The report of each target is ``exports/<target>/report_<journey id>.json`` so that runs of several
    journeys into one folder (the pipeline) do not overwrite each other. Returns a DataFrame with one
    row per file written (``target``, ``path``).
    """
    import pandas as pd

    from ..journeys import journey_to_json
    from ..sources import write_text

    out = Path(output_dir)
    canonical_path = write_text(out / "journeys" / f"{journey.id}.json", journey_to_json(journey))
    summary = export_built(
        [journey],
        strategy=strategy,
        targets=targets,
        out_dir=out / "exports",
        dataset=dataset,
        as_of=as_of,
        report_name=f"report_{journey.id}.json",
    )
    rows = [{"target": "journey", "path": str(canonical_path)}]
    for target, info in summary.items():
        if isinstance(info, dict):
            rows += [{"target": target, "path": p} for p in [*info["files"], info["report"]]]
    return pd.DataFrame(rows)


def _assigned(dataset: Any, strategy: Any, as_of: object) -> Any:
    from ..profiles import build_profiles
    from ..segments import assign

    if as_of is None:
        as_of = dataset.orders["ordered_at"].max().date().isoformat() if len(dataset.orders) else None
    return assign(build_profiles(dataset, as_of=as_of), strategy)
