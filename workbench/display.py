"""What a report shows first: which strategy, which data, which date, and what differs from the strategy.

Notebook helpers that turn a workspace into something a person reads; they
return displayable values (Markdown, styled tables) and print nothing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd
from IPython.display import Markdown

from .application import Workspace
from .exporters import to_mermaid
from .journeys.diff import describe_trigger
from .models.journey import Journey

__all__ = ["header", "journey_diagrams", "journey_overview"]


def _label(value: Any) -> str:
    return html.escape(str(value))


def header(ws: Workspace, title: str) -> Markdown:
    """The report's opening lines: strategy, data, profile date (and why), and every override of the strategy."""
    lines = [
        f"**{_label(title)}** for strategy *{_label(ws.strategy.name)}*",
        "",
        f"- data: `{_label(ws.data_source or 'in memory')}` ({len(ws.dataset.customers):,} customers, "
        f"{len(ws.dataset.orders):,} orders)",
        f"- strategy file: `{_label(ws.strategy_source or 'in memory')}`",
        f"- profiles as of **{ws.as_of_label}** ({_label(ws.as_of_source)})",
    ]
    if ws.overrides:
        lines.append("- overrides of the strategy (parameters given to this report):")
        for name, value in ws.overrides.items():
            lines.append(f"  - `{_label(name)}` = **{_label(value)}** (strategy file: {_label(ws.replaced.get(name))})")
    else:
        lines.append("- every setting comes from the strategy file (no overrides)")
    return Markdown("\n".join(lines))


def journey_overview(journeys: Sequence[Journey]) -> pd.DataFrame:
    """One row per journey: id, name, moment, trigger, audience, emails, SMS, holdout share and nodes."""
    rows = []
    for j in journeys:
        sends = [n for n in j.nodes if n.type in ("send_email", "send_sms")]
        holdout = sum(
            b.share for n in j.nodes if n.type == "random_split" for b in n.branches if getattr(b, "holdout", False)
        )
        rows.append(
            {
                "journey": j.id,
                "name": j.name,
                "moment": j.moment,
                "trigger": describe_trigger(j.trigger),
                "audience": j.audience or "everyone the trigger admits",
                "emails": sum(n.type == "send_email" for n in sends),
                "sms": sum(n.type == "send_sms" for n in sends),
                "holdout %": holdout,
                "nodes": len(j.nodes),
            }
        )
    return pd.DataFrame(rows)


def journey_diagrams(journeys: Sequence[Journey]) -> Markdown:
    """Every journey's diagram as a Mermaid block, which JupyterLab draws (and the text reads as a spec)."""
    parts = [f"#### {html.escape(j.name)} (`{j.id}`)\n\n```mermaid\n{to_mermaid(j).strip()}\n```" for j in journeys]
    return Markdown("\n\n".join(parts) or "_No journey selected._")
