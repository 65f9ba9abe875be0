"""Exporters: one journey spec compiled to several tools, behind one registry.

Targets: ``canonical`` (versioned JSON + its JSON Schema), ``yaml``,
``klaviyo`` (``POST /api/flows`` bodies), ``dittofeed`` (``JourneyDefinition``),
``mermaid`` (diagrams), and the companions ``audience`` (CSV of customer ids
with consent per channel) and ``templates`` (rendered bundle). Exporters are
pure: each returns its files' contents and a report saying what was mapped,
emulated, not carried, or must be created in the tool; the application
(:func:`workbench.application.export`) runs them and :func:`workbench.io.write_exports`
writes ``<out>/<target>/``.
"""

from __future__ import annotations

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
    "placeholder_id",
    "register",
    "resolve_targets",
    "templates_contained",
    "to_dittofeed",
    "to_klaviyo",
    "to_mermaid",
]
