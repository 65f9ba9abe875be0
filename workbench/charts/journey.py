"""A journey's graph drawn with Vega: the same picture in JupyterLab, in the HTML report and as SVG, offline.

The layout is layered (Sugiyama style): every node sits on the row of its
longest path from the trigger, nodes of a row are ordered to follow their
parents (barycentre sweeps), and placed under them without overlapping. Links
are curves from a node's bottom to its target's top, labelled with the branch
(yes/no, event/timeout, the split's shares). Hovering a node shows what it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..journeys.diff import describe_node, describe_trigger, node_label
from ..models.journey import Journey, labelled_links
from .render import VegaChart

__all__ = ["journey_chart", "journey_layout"]

NODE_WIDTH = 150
NODE_HEIGHT = 34
ROW = 66
GAP = 18
_KIND_COLOURS = {
    "trigger": ("#243b53", "#ffffff"),
    "send_email": ("#dbeafe", "#1e3a8a"),
    "send_sms": ("#dcfce7", "#14532d"),
    "delay": ("#f1f5f9", "#334155"),
    "wait_for_event": ("#f1f5f9", "#334155"),
    "condition_split": ("#fef3c7", "#78350f"),
    "random_split": ("#fde68a", "#78350f"),
    "end": ("#e5e7eb", "#111827"),
}


def _edges(journey: Journey) -> list[tuple[str, str, str]]:
    return [("__trigger__", journey.entry, ""), *labelled_links(journey)]


def journey_layout(journey: Journey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positions of a journey's nodes (and its trigger) and the links between them.

    Returns ``nodes`` (``id, kind, label, detail, row, x, y``: the centre of each box, ``NODE_WIDTH``
    by ``NODE_HEIGHT``) and ``links`` (``source, target, label, x1, y1, x2, y2``: from the bottom of the
    source to the top of the target). Every link goes down at least one row; boxes of a row do not
    overlap.
    """
    ids = ["__trigger__", *[n.id for n in journey.nodes]]
    edges = _edges(journey)
    parents: dict[str, list[str]] = {i: [] for i in ids}
    children: dict[str, list[str]] = {i: [] for i in ids}
    for a, b, _ in edges:
        parents[b].append(a)
        children[a].append(b)
    # rows: the longest path from the trigger (the graph is acyclic: validation refuses cycles)
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        seen.add(node)
        for child in children[node]:
            if child not in seen:
                visit(child)
        order.append(node)

    for start in ids:
        if start not in seen:
            visit(start)
    order.reverse()  # a topological order
    row = dict.fromkeys(ids, 0)
    for node in order:
        for child in children[node]:
            row[child] = max(row[child], row[node] + 1)
    rows: dict[int, list[str]] = {}
    for node in order:
        rows.setdefault(row[node], []).append(node)
    # order within rows: barycentre of the parents (down) then of the children (up), a few sweeps
    position = {node: float(i) for members in rows.values() for i, node in enumerate(members)}
    depth = max(rows)
    for _ in range(4):
        for r in range(1, depth + 1):
            _sort_row(rows[r], parents, position)
        for r in range(depth - 1, -1, -1):
            _sort_row(rows[r], children, position)
    # x: under the parents' mean, then pushed apart left to right, the row centred on its wish
    step = NODE_WIDTH + GAP
    x: dict[str, float] = {}
    for r in range(depth + 1):
        members = rows[r]
        wish = [
            sum(x[p] for p in parents[n] if p in x) / max(1, sum(p in x for p in parents[n]))
            if any(p in x for p in parents[n])
            else i * step
            for i, n in enumerate(members)
        ]
        placed: list[float] = []
        for w in wish:
            placed.append(max(w, placed[-1] + step) if placed else w)
        shift = (sum(wish) - sum(placed)) / len(placed)
        for n, value in zip(members, placed, strict=True):
            x[n] = value + shift
    left = min(x.values()) - NODE_WIDTH / 2
    nodes_by_id = {n.id: n for n in journey.nodes}
    node_rows = []
    for node_id in ids:
        if node_id == "__trigger__":
            kind, label, detail = "trigger", "Trigger", describe_trigger(journey.trigger)
            if journey.audience:
                detail += f"; audience: {journey.audience}"
            if journey.goal is not None:
                detail += f"; exits on {journey.goal.event}"
            label = _trigger_label(journey)
        else:
            shown = nodes_by_id[node_id]
            kind, label, detail = shown.type, node_label(shown), describe_node(shown)
        node_rows.append(
            {
                "id": node_id,
                "kind": kind,
                "label": label,
                "detail": detail,
                "row": row[node_id],
                "x": round(x[node_id] - left, 1),
                "y": round(row[node_id] * ROW + NODE_HEIGHT / 2, 1),
            }
        )
    nodes = pd.DataFrame(node_rows)
    where = nodes.set_index("id")
    link_rows = [
        {
            "source": a,
            "target": b,
            "label": text,
            "x1": where.at[a, "x"],
            "y1": where.at[a, "y"] + NODE_HEIGHT / 2,
            "x2": where.at[b, "x"],
            "y2": where.at[b, "y"] - NODE_HEIGHT / 2,
        }
        for a, b, text in edges
    ]
    return nodes, pd.DataFrame(link_rows, columns=["source", "target", "label", "x1", "y1", "x2", "y2"])


def _trigger_label(journey: Journey) -> str:
    t = journey.trigger
    if t.type == "event":
        return f"on {t.event}"
    if t.type == "segment":
        return f"enters {t.segment}"
    return f"{t.offset_days:+d} d from {t.property}"


def _sort_row(members: list[str], neighbours: Mapping[str, list[str]], position: dict[str, float]) -> None:
    def centre(node: str) -> float:
        around = [position[m] for m in neighbours[node] if m in position]
        return sum(around) / len(around) if around else position[node]

    members.sort(key=lambda n: (centre(n), position[n]))
    for i, node in enumerate(members):
        position[node] = float(i)


def journey_chart(journey: Journey) -> VegaChart:
    """The journey as a diagram (Vega): boxes coloured by kind, labelled links, a tooltip on every node."""
    nodes, edges = journey_layout(journey)
    width = float(nodes["x"].max() + NODE_WIDTH / 2)
    height = float(nodes["y"].max() + NODE_HEIGHT / 2)
    fills = {k: v[0] for k, v in _KIND_COLOURS.items()}
    inks = {k: v[1] for k, v in _KIND_COLOURS.items()}
    nodes = nodes.assign(fill=nodes["kind"].map(fills), ink=nodes["kind"].map(inks))
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega/v5.json",
        "description": f"Journey {journey.id}",
        "title": {"text": f"{journey.name} ({journey.id})", "anchor": "start", "fontSize": 13},
        "width": width,
        "height": height,
        "padding": 8,
        "autosize": "pad",
        "data": [
            {"name": "nodes", "values": nodes.to_dict("records")},
            {
                "name": "links",
                "values": edges.to_dict("records"),
                "transform": [
                    {
                        "type": "linkpath",
                        "orient": "vertical",
                        "shape": "diagonal",
                        "sourceX": "x1",
                        "sourceY": "y1",
                        "targetX": "x2",
                        "targetY": "y2",
                    }
                ],
            },
        ],
        "marks": [
            {
                "type": "path",
                "from": {"data": "links"},
                "encode": {
                    "enter": {"path": {"field": "path"}, "stroke": {"value": "#7b8794"}, "strokeWidth": {"value": 1.2}}
                },
            },
            {
                "type": "symbol",
                "from": {"data": "links"},
                "encode": {
                    "enter": {
                        "x": {"field": "x2"},
                        "y": {"signal": "datum.y2 - 3"},
                        "shape": {"value": "triangle-down"},
                        "size": {"value": 40},
                        "fill": {"value": "#7b8794"},
                    }
                },
            },
            {
                "type": "text",
                "from": {"data": "links"},
                "encode": {
                    "enter": {
                        "x": {"signal": "datum.x1 + (datum.x2 - datum.x1) * 12 / max(12, datum.y2 - datum.y1) + 4"},
                        "y": {"signal": "datum.y1 + 9"},
                        "text": {"field": "label"},
                        "fontSize": {"value": 9},
                        "fill": {"value": "#52606d"},
                        "baseline": {"value": "middle"},
                    }
                },
            },
            {
                "type": "rect",
                "name": "node",
                "from": {"data": "nodes"},
                "encode": {
                    "enter": {
                        "xc": {"field": "x"},
                        "yc": {"field": "y"},
                        "width": {"value": NODE_WIDTH},
                        "height": {"value": NODE_HEIGHT},
                        "cornerRadius": {"value": 6},
                        "fill": {"field": "fill"},
                        "stroke": {"value": "#9aa5b1"},
                        "tooltip": {"signal": "{'node': datum.id, 'what': datum.detail}"},
                    },
                    "update": {"strokeWidth": {"value": 1}},
                    "hover": {"strokeWidth": {"value": 2.5}},
                },
            },
            {
                "type": "text",
                "from": {"data": "nodes"},
                "interactive": False,
                "encode": {
                    "enter": {
                        "x": {"field": "x"},
                        "y": {"field": "y"},
                        "text": {"field": "label"},
                        "align": {"value": "center"},
                        "baseline": {"value": "middle"},
                        "fontSize": {"value": 10},
                        "fill": {"field": "ink"},
                        "limit": {"value": NODE_WIDTH - 8},
                    }
                },
            },
        ],
    }
    return VegaChart(spec)
