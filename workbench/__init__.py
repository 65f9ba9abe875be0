"""Retention workbench: cross-channel (email + SMS) strategy for notebook-driven analysis.

The flow of data: :func:`load_dataset` reads and validates the tables,
:func:`build_profiles` makes one row per customer, :func:`assign` adds the
segments of a :class:`Strategy`, and :mod:`workbench.reports` runs the
notebooks that explore, plan and export. A :class:`Workspace`
(:func:`open_workspace`) composes that flow once for a dataset, a strategy
and a date, so every caller sees the same audiences. The package is built in four layers
that only import downwards: models (``workbench.models``), the pure core
(profiles, segments, journeys, cadence, messages, measure, exporters), the
application (``workbench.application``), and the edges (``workbench.io``,
``reports``, ``charts``, ``widgets``, ``deploy``, ``cli``).

The names below are imported when first used, so ``import workbench`` stays
fast (the command line's ``--help`` pays for nothing it does not use).
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from .application import Workspace
    from .io import load_dataset, load_hillstrom, load_online_retail, load_strategy, open_workspace
    from .models.dataset import Dataset
    from .models.errors import (
        DataContractError,
        ExportError,
        FileError,
        JourneyError,
        MeasurementError,
        RunError,
        SimulationError,
        StrategyError,
        TemplateError,
        WorkbenchError,
    )
    from .models.strategy import Strategy
    from .profiles import build_profiles
    from .segments import assign, overlap_matrix, segment_sizes
    from .synth import synthesize

_EXPORTS = {
    "DataContractError": "workbench.models.errors",
    "Dataset": "workbench.models.dataset",
    "ExportError": "workbench.models.errors",
    "FileError": "workbench.models.errors",
    "JourneyError": "workbench.models.errors",
    "MeasurementError": "workbench.models.errors",
    "RunError": "workbench.models.errors",
    "SimulationError": "workbench.models.errors",
    "Strategy": "workbench.models.strategy",
    "StrategyError": "workbench.models.errors",
    "TemplateError": "workbench.models.errors",
    "WorkbenchError": "workbench.models.errors",
    "Workspace": "workbench.application",
    "open_workspace": "workbench.io",
    "assign": "workbench.segments",
    "build_profiles": "workbench.profiles",
    "load_dataset": "workbench.io",
    "load_hillstrom": "workbench.io",
    "load_online_retail": "workbench.io",
    "load_strategy": "workbench.io",
    "overlap_matrix": "workbench.segments",
    "segment_sizes": "workbench.segments",
    "synthesize": "workbench.synth",
}

__all__ = [
    "DataContractError",
    "Dataset",
    "ExportError",
    "FileError",
    "JourneyError",
    "MeasurementError",
    "RunError",
    "SimulationError",
    "Strategy",
    "StrategyError",
    "TemplateError",
    "WorkbenchError",
    "Workspace",
    "__version__",
    "assign",
    "build_profiles",
    "load_dataset",
    "load_hillstrom",
    "load_online_retail",
    "load_strategy",
    "open_workspace",
    "overlap_matrix",
    "segment_sizes",
    "synthesize",
]


def __getattr__(name: str) -> _typing.Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'workbench' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
