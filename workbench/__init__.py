"""Retention workbench: cross-channel (email + SMS) strategy for notebook-driven analysis.

The flow of data: :func:`load_dataset` reads and validates the tables,
:func:`build_profiles` makes one row per customer, :func:`assign` adds the
segments of a :class:`Strategy`, and :mod:`workbench.reports` runs the
notebooks that explore, plan and export. Every computation is a pure function
of DataFrames; reading, writing and display happen at the edges
(``sources``, ``reports``, ``charts``, ``widgets``, ``cli``).
"""

from __future__ import annotations

from .errors import (
    DataContractError,
    ExportError,
    JourneyError,
    RunError,
    StrategyError,
    TemplateError,
    WorkbenchError,
)
from .profiles import build_profiles
from .segments import assign, overlap_matrix, segment_sizes
from .sources import Dataset, load_dataset, load_hillstrom, load_online_retail
from .strategy import Strategy, load_strategy
from .synth import synthesize

__version__ = "0.1.0"

__all__ = [
    "DataContractError",
    "Dataset",
    "ExportError",
    "JourneyError",
    "RunError",
    "Strategy",
    "StrategyError",
    "TemplateError",
    "WorkbenchError",
    "__version__",
    "assign",
    "build_profiles",
    "load_dataset",
    "load_hillstrom",
    "load_online_retail",
    "load_strategy",
    "overlap_matrix",
    "segment_sizes",
    "synthesize",
]
