"""Canonical exports: the versioned JSON document (with its JSON Schema) and the same as YAML.

Both round-trip through :class:`workbench.journeys.Journey` unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..journeys import CANONICAL_VERSION, canonical_json_schema, journey_to_json, journey_to_yaml
from .registry import ExportContext, ExportResult, register

__all__ = ["SCHEMA_FILE", "export_canonical", "export_yaml"]

SCHEMA_FILE = "journey.schema.json"


def _notes(result: ExportResult, journeys: Sequence[Any]) -> None:
    for j in journeys:
        result.note(
            j.id,
            "journey",
            "mapped",
            f"all {len(j.nodes)} nodes, trigger, audience, goal and re-entry (format version {CANONICAL_VERSION})",
        )


@register("canonical")
def export_canonical(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.json`` per journey plus ``journey.schema.json``."""
    result = ExportResult("canonical")
    for j in journeys:
        result.files[f"{j.id}.json"] = journey_to_json(j)
    result.files[SCHEMA_FILE] = json.dumps(canonical_json_schema(), indent=2, sort_keys=True) + "\n"
    _notes(result, journeys)
    return result


@register("yaml")
def export_yaml(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.yaml`` per journey (the canonical document as YAML)."""
    result = ExportResult("yaml")
    for j in journeys:
        result.files[f"{j.id}.yaml"] = journey_to_yaml(j)
    _notes(result, journeys)
    return result
