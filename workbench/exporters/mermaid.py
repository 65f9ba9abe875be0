"""Mermaid flowchart of a journey, for documentation (plain text; renders in GitHub and most doc tools)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..journeys.diff import node_label
from ..models.journey import labelled_links
from .registry import ExportContext, ExportResult, register

__all__ = ["export_mermaid", "to_mermaid"]


def _text(value: str) -> str:
    return value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _trigger(j: Any) -> str:
    """The trigger's label: each line escaped, joined by Mermaid's line break."""
    t = j.trigger
    if t.type == "event":
        lines = [f"Event: {t.event}"]
    elif t.type == "segment":
        lines = [f"Enters segment: {t.segment}"]
    else:
        lines = [f"{t.offset_days:+d} days from {t.property} at {t.at.time}"]
    if j.audience:
        lines.append(f"audience: {j.audience}")
    if j.goal is not None:
        lines.append(f"exits on {j.goal.event}")
    return "<br/>".join(_text(line) for line in lines)


def _id(node_id: str) -> str:
    # "end" and other words are reserved by Mermaid: prefix every id.
    return "n_" + node_id.replace("-", "_")


#: Each kind of node's shape: send steps as parallelograms, waits as stadiums, splits as diamonds.
_SHAPES = {
    "send_email": ('[/"', '"/]'),
    "send_sms": ('[/"', '"/]'),
    "delay": ('(["', '"])'),
    "wait_for_event": ('{{"', '"}}'),
    "condition_split": ('{"', '"}'),
    "random_split": ('{"', '"}'),
}


def _shape(node: Any) -> str:
    opening, closing = _SHAPES.get(node.type, ('(("', '"))'))
    return f"{_id(node.id)}{opening}{_text(node_label(node))}{closing}"


def to_mermaid(journey: Any) -> str:
    """The journey as a Mermaid ``flowchart TD`` (send nodes as parallelograms, splits as diamonds).

    Examples
    --------
    >>> from workbench.journeys import welcome
    >>> to_mermaid(welcome()).splitlines()[0]
    'flowchart TD'
    """
    lines = ["flowchart TD", f'  trigger(["{_trigger(journey)}"])', f"  trigger --> {_id(journey.entry)}"]
    for node in journey.nodes:
        lines.append(f"  {_shape(node)}")
    for source, target, text in labelled_links(journey):
        a, b = _id(source), _id(target)
        lines.append(f"  {a} -->|{_text(text)}| {b}" if text else f"  {a} --> {b}")
    lines.append("  classDef email fill:#e8f0fe,stroke:#1a73e8")
    lines.append("  classDef sms fill:#e6f4ea,stroke:#188038")
    for cls, channel in (("email", "email"), ("sms", "sms")):
        ids = [_id(n.id) for n in journey.nodes if getattr(n, "channel", None) == channel]
        if ids:
            lines.append(f"  class {','.join(ids)} {cls}")
    return "\n".join(lines) + "\n"


@register("mermaid")
def export_mermaid(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.mmd`` per journey."""
    result = ExportResult("mermaid")
    for j in journeys:
        result.files[f"{j.id}.mmd"] = to_mermaid(j)
        result.note(
            j.id, "journey", "mapped", f"diagram of {len(j.nodes)} nodes; goal and re-entry in the trigger label"
        )
    return result
