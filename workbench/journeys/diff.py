"""Describe the change between two versions of a journey in words, so it can be reviewed like code.

Nodes are matched by id. Each line says what was added, removed or changed:
steps (sends), delays, splits, templates and variants, links, and the
journey's trigger, audience, goal and re-entry rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..models.journey import Goal, Journey, links

__all__ = ["describe_node", "describe_trigger", "diff_journey_sets", "diff_journeys", "journey_table", "node_label"]

_KIND = {
    "send_email": "email step",
    "send_sms": "SMS step",
    "delay": "delay",
    "wait_for_event": "wait for event",
    "condition_split": "condition split",
    "random_split": "random split",
    "end": "end",
}


def _channel(channel: str) -> str:
    """A channel as a label writes it: ``SMS``, ``email``."""
    return channel.upper() if channel == "sms" else channel


def _condition(cond: Any) -> str:
    if cond.kind == "segment":
        return f"in segment {cond.segment}"
    if cond.kind == "consent":
        return f"has {_channel(cond.channel)} consent"
    if cond.kind == "engagement":
        return f"{cond.action} message {cond.node}"
    value = "" if cond.op in ("is_true", "is_false") else f" {cond.value!r}"
    return f"{cond.field} {cond.op}{value}"


def _delay(node: Any) -> str:
    parts = []
    if node.duration is not None:
        parts.append(f"wait {node.duration}")
    if node.until is not None:
        parts.append(f"until {node.until}")
    return " then ".join(parts) or "no wait"


def _shares(node: Any) -> str:
    return ", ".join(f"{b.name} {b.share:g}%" + (" (holdout)" if b.holdout else "") for b in node.branches)


def node_label(node: Any) -> str:
    """A node's short label, for charts and diagrams: ``Email: cart_abandonment (A)``, ``SMS consent?``."""
    if node.type in ("send_email", "send_sms"):
        return f"{'Email' if node.type == 'send_email' else 'SMS'}: {node.template} ({node.variant})"
    if node.type == "delay":
        return _delay(node)
    if node.type == "wait_for_event":
        return f"wait for {node.event} ≤ {node.timeout}"
    if node.type == "condition_split":
        c = node.condition
        if c.kind == "consent":
            return f"{_channel(c.channel)} consent?"
        if c.kind == "engagement":
            return f"{c.action} {c.node}?"
        if c.kind == "segment":
            return f"in {c.segment}?"
        return f"{c.field} {c.op} {c.value!r}?" if c.value is not None else f"{c.field} {c.op}?"
    if node.type == "random_split":
        return "random split"
    return node.name or "end"


def describe_node(node: Any) -> str:
    """A short description of a node, e.g. ``email step 'step1_email' (template cart_abandonment, variant A)``."""
    kind = _KIND[node.type]
    if node.type in ("send_email", "send_sms"):
        offer = f", offer {node.offer}" if node.offer else ""
        return f"{kind} {node.id!r} (template {node.template}, variant {node.variant}{offer})"
    if node.type == "delay":
        return f"{kind} {node.id!r} ({_delay(node)})"
    if node.type == "wait_for_event":
        return f"{kind} {node.id!r} ({node.event}, timeout {node.timeout})"
    if node.type == "condition_split":
        return f"{kind} {node.id!r} ({_condition(node.condition)})"
    if node.type == "random_split":
        return f"{kind} {node.id!r} ({_shares(node)})"
    return f"{kind} {node.id!r}"


def _links(node: Any) -> dict[str, str | None]:
    return dict(links(node))


def _node_changes(old: Any, new: Any) -> list[str]:
    name = f"{_KIND[new.type]} {new.id!r}"
    if old.type != new.type:
        return [f"changed {old.id!r} from {describe_node(old)} to {describe_node(new)}"]
    out: list[str] = []
    if new.type in ("send_email", "send_sms"):
        for attr, label in (
            ("template", "template"),
            ("variant", "variant"),
            ("offer", "offer"),
            ("objective", "objective"),
            ("transactional", "transactional"),
            ("smart_sending", "smart sending"),
        ):
            a, b = getattr(old, attr), getattr(new, attr)
            if a != b:
                out.append(f"{name}: {label} {a!r} → {b!r}" if attr != "template" else f"{name}: template {a} → {b}")
        if new.type == "send_sms" and old.quiet_hours != new.quiet_hours:
            out.append(
                f"{name}: quiet hours {'on' if new.quiet_hours else 'OFF'} (was {'on' if old.quiet_hours else 'off'})"
            )
    elif new.type == "delay":
        if old.duration != new.duration or old.until != new.until:
            out.append(f"{name}: {_delay(old)} → {_delay(new)}")
    elif new.type == "wait_for_event":
        if old.event != new.event:
            out.append(f"{name}: waits for {new.event} (was {old.event})")
        if old.timeout != new.timeout:
            out.append(f"{name}: timeout {old.timeout} → {new.timeout}")
    elif new.type == "condition_split":
        if old.condition != new.condition:
            out.append(f"{name}: condition '{_condition(old.condition)}' → '{_condition(new.condition)}'")
    elif new.type == "random_split":
        old_b = {b.name: b for b in old.branches}
        new_b = {b.name: b for b in new.branches}
        for bname, b in new_b.items():
            if bname not in old_b:
                out.append(f"{name}: added branch {bname!r} ({b.share:g}%)")
            elif old_b[bname].share != b.share:
                what = "holdout share" if b.holdout else f"share of {bname!r}"
                out.append(f"{name}: {what} {old_b[bname].share:g}% → {b.share:g}%")
        out.extend(
            f"{name}: removed branch {bname!r} ({b.share:g}%)" for bname, b in old_b.items() if bname not in new_b
        )
    if new.name != old.name and not out:  # a generated name follows the change already described
        out.append(f"{name}: renamed {old.name!r} → {new.name!r}")
    old_l, new_l = _links(old), _links(new)
    for label, target in new_l.items():
        before = old_l.get(label)
        if label in old_l and before != target:
            via = _VIA.get(label, f" on branch {label!r}")
            out.append(f"{name}: now continues{via} to {target!r} (was {before!r})")
    return out


_VIA = {
    "next": "",
    "on_true": " when true",
    "on_false": " when false",
    "on_event": " when the event happens",
    "on_timeout": " on timeout",
}


def diff_journeys(old: Journey, new: Journey) -> list[str]:
    """The changes from ``old`` to ``new``, one sentence each (empty when they are the same).

    Examples
    --------
    >>> from workbench.journeys import cart_abandonment
    >>> for line in diff_journeys(cart_abandonment(), cart_abandonment(first_delay="2h")):
    ...     print(line)
    wait for event 'wait_goal': timeout 1 hour → 2 hours
    """
    out: list[str] = []
    for attr, label in (("name", "name"), ("description", "description"), ("moment", "moment")):
        if getattr(old, attr) != getattr(new, attr):
            out.append(f"journey {label}: {getattr(old, attr)!r} → {getattr(new, attr)!r}")
    if old.trigger != new.trigger:
        out.append(f"trigger: {describe_trigger(old.trigger)} → {describe_trigger(new.trigger)}")
    if old.audience != new.audience:
        out.append(f"audience: {old.audience or 'everyone'} → {new.audience or 'everyone'}")
    if old.reentry != new.reentry:
        out.append(f"re-entry: {old.reentry} → {new.reentry}")
    if old.goal != new.goal:
        out.append(f"goal: {_goal(old.goal)} → {_goal(new.goal)}")
    if old.entry != new.entry:
        out.append(f"entry: starts at {new.entry!r} (was {old.entry!r})")
    old_n, new_n = old.by_id(), new.by_id()
    for nid, node in new_n.items():
        if nid not in old_n:
            after = [f"{p.id!r}" for p in new.nodes if nid in _links(p).values()]
            where = f" after {', '.join(after)}" if after else ""
            out.append(f"added {describe_node(node)}{where}")
    for nid, node in old_n.items():
        if nid not in new_n:
            out.append(f"removed {describe_node(node)}")
    for nid, node in new_n.items():
        if nid in old_n and old_n[nid] != node:
            out.extend(_node_changes(old_n[nid], node))
    old_t = {(c, t, v) for c, t, v in old.templates()}
    new_t = {(c, t, v) for c, t, v in new.templates()}
    for c, t, v in sorted(new_t - old_t):
        out.append(f"templates: now sends {c} template {t} variant {v}")
    for c, t, v in sorted(old_t - new_t):
        out.append(f"templates: no longer sends {c} template {t} variant {v}")
    return out


def describe_trigger(trigger: Any) -> str:
    """A trigger in words, e.g. ``event add_to_cart`` or ``entering segment lifecycle:lapsed``."""
    """A trigger in words, e.g. ``event add_to_cart`` or ``entering segment lifecycle:lapsed``."""
    if trigger.type == "event":
        return f"event {trigger.event}"
    if trigger.type == "segment":
        return f"entering segment {trigger.segment}"
    sign = "after" if trigger.offset_days >= 0 else "before"
    return f"{abs(trigger.offset_days)} days {sign} {trigger.property} at {trigger.at}"


def _goal(goal: Goal | None) -> str:
    if goal is None:
        return "none"
    return goal.event + (f" within {goal.within}" if goal.within else "")


def diff_journey_sets(old: Sequence[Journey], new: Sequence[Journey]) -> list[str]:
    """Changes between two lists of journeys (e.g. two strategy files), matched by journey id."""
    old_by = {j.id: j for j in old}
    new_by = {j.id: j for j in new}
    out: list[str] = []
    for jid, j in new_by.items():
        if jid not in old_by:
            out.append(f"added journey {jid!r} ({j.name}, {len(j.sends())} sends)")
    for jid in old_by:
        if jid not in new_by:
            out.append(f"removed journey {jid!r}")
    for jid, j in new_by.items():
        if jid in old_by:
            out.extend(f"{jid}: {line}" for line in diff_journeys(old_by[jid], j))
    return out


def journey_table(journey: Journey) -> pd.DataFrame:
    """One row per node: ``id``, ``type``, ``channel``, ``template``, ``variant``, ``detail`` and ``next``."""
    rows = [
        {
            "id": n.id,
            "type": n.type,
            "channel": getattr(n, "channel", None),
            "template": getattr(n, "template", None),
            "variant": getattr(n, "variant", None),
            "detail": describe_node(n),
            "next": ", ".join(f"{label}: {t}" for label, t in links(n) if t),
        }
        for n in journey.nodes
    ]
    return pd.DataFrame(rows, columns=["id", "type", "channel", "template", "variant", "detail", "next"])
