"""Journey validation: every problem names the journey, the node and a remedy.

:func:`journey_problems` lists every problem as a :class:`JourneyError`
(``.journey``, ``.node``, ``.path`` — the location inside the journey, such as
``("nodes", 3, "next")``, so a strategy file can point at the YAML line — and
``.remedy``); :func:`validate_journey` raises the first one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..models.errors import JourneyError, StrategyError
from ..models.journey import Journey, Node, links
from ..models.segments import resolve_segment
from ..profiles import PROFILE_COLUMNS

__all__ = [
    "CUSTOMER_COLUMNS",
    "SEGMENT_COLUMNS",
    "available_columns",
    "is_sms_guard",
    "journey_problems",
    "validate_journey",
]

#: Customer attributes that profiles carry through from the customers table.
CUSTOMER_COLUMNS = ("email", "phone", "first_name", "country", "region", "loyalty_tier", "created_at")
#: Columns that ``segments.assign`` adds.
SEGMENT_COLUMNS = ("rfm_segment", "lifecycle_stage", "intent", "channel_reach")


def available_columns(extra: Iterable[str] = ()) -> frozenset[str]:
    """Columns a template variable or a profile condition may read.

    ``workbench.profiles.PROFILE_COLUMNS``, customer attributes, segment
    columns and ``extra`` (e.g. event properties a trigger provides).
    """
    return frozenset([*PROFILE_COLUMNS, *CUSTOMER_COLUMNS, *SEGMENT_COLUMNS, *extra])


def _error(
    journey: Journey, node: str | None, problem: str, remedy: str, path: tuple[object, ...] = ()
) -> JourneyError:
    where = f"journey {journey.id!r}" + (f", node {node!r}" if node else "")
    err = JourneyError(f"{where}: {problem}. Fix: {remedy}", journey=journey.id, node=node)
    err.path = path  # type: ignore[attr-defined]
    err.remedy = remedy  # type: ignore[attr-defined]
    return err


def is_sms_guard(node: Node) -> bool:
    """Whether a node is a condition split whose ``on_true`` branch has SMS marketing consent.

    A :class:`ConsentCondition` on ``sms``, or a profile condition that
    ``can_sms`` is true.
    """
    if node.type != "condition_split":
        return False
    cond = node.condition
    if cond.kind == "consent":
        return cond.channel == "sms"
    if cond.kind == "profile" and cond.field == "can_sms":
        return cond.op == "is_true" or (cond.op == "eq" and cond.value is True)
    return False


def _link_field(node: Node, target_label: str) -> tuple[object, ...]:
    if node.type == "random_split":
        for i, b in enumerate(node.branches):
            if b.name == target_label:
                return ("branches", i, "next")
        return ("branches",)
    return (target_label,)


def _graph_problems(journey: Journey) -> list[JourneyError]:
    """Structure: duplicate ids, unknown links, cycles, unreachable nodes, paths that never end."""
    problems: list[JourneyError] = []
    pos: dict[str, int] = {}
    for i, node in enumerate(journey.nodes):
        if node.id in pos:
            problems.append(
                _error(
                    journey,
                    node.id,
                    f"id {node.id!r} is used by two nodes",
                    "give every node its own id",
                    ("nodes", i, "id"),
                )
            )
        pos.setdefault(node.id, i)
    index = journey.by_id()
    if journey.entry not in index:
        problems.append(
            _error(
                journey,
                journey.entry,
                f"the entry node {journey.entry!r} does not exist",
                f"set entry to one of {', '.join(index)}",
                ("entry",),
            )
        )
        return problems
    for node in journey.nodes:
        for label, target in links(node):
            if target is not None and target not in index:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"{label} links to {target!r}, which is not a node of the journey",
                        "link to an existing node id or add the missing node",
                        ("nodes", pos[node.id], *_link_field(node, label)),
                    )
                )
    # cycles: iterative DFS with colours
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(index, white)
    for start in [journey.entry, *index]:
        if colour[start] != white:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(start, iter([t for _, t in links(index[start]) if t in index]))]
        colour[start] = grey
        while stack:
            nid, children = stack[-1]
            child = next(children, None)  # type: ignore[call-overload]
            if child is None:
                colour[nid] = black
                stack.pop()
            elif colour[child] == grey:
                problems.append(
                    _error(
                        journey,
                        child,
                        f"the journey loops: {nid!r} leads back to {child!r}, so a customer could cycle for ever",
                        "link the last step forward to an end node instead of back",
                        ("nodes", pos[nid]),
                    )
                )
            elif colour[child] == white:
                colour[child] = grey
                stack.append((child, iter([t for _, t in links(index[child]) if t in index])))
    reachable = {n.id for n in journey.walk()}
    for node in journey.nodes:
        if node.id not in reachable:
            problems.append(
                _error(
                    journey,
                    node.id,
                    "no path from the entry reaches this node",
                    "link an earlier node to it, or remove it",
                    ("nodes", pos[node.id]),
                )
            )
    for node in journey.nodes:
        if node.type == "end":
            continue
        for label, target in links(node):
            if target is None:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"the path stops here without an end ({label} is empty)",
                        f"set {label} to the next node or to an end node",
                        ("nodes", pos[node.id], *_link_field(node, label)),
                    )
                )
    if not any(n.type == "end" for n in journey.nodes):
        problems.append(
            _error(
                journey,
                journey.entry,
                "the journey has no end node",
                "add a node of type end and link the last steps to it",
                ("nodes",),
            )
        )
    return problems


def _sms_guard_problems(journey: Journey) -> list[JourneyError]:
    index = journey.by_id()
    pos = {n.id: i for i, n in reversed(list(enumerate(journey.nodes)))}
    problems: list[JourneyError] = []
    seen: set[tuple[str, bool]] = set()
    stack = [(journey.entry, False)]
    flagged: set[str] = set()
    while stack:
        nid, guarded = stack.pop()
        if (nid, guarded) in seen or nid not in index:
            continue
        seen.add((nid, guarded))
        node = index[nid]
        if node.type == "send_sms" and not guarded and nid not in flagged:
            flagged.add(nid)
            problems.append(
                _error(
                    journey,
                    nid,
                    "this SMS can be reached without an SMS-consent guard",
                    "put a condition_split with condition {kind: consent, channel: sms} before it and send the SMS "
                    "only on its on_true branch",
                    ("nodes", pos[nid]),
                )
            )
        for label, target in links(node):
            if target is None:
                continue
            stack.append((target, guarded or (is_sms_guard(node) and label == "on_true")))
    return problems


def _template_problems(journey: Journey, library: Mapping[str, Any], columns: Collection[str]) -> list[JourneyError]:
    problems: list[JourneyError] = []
    known = ", ".join(library) or "none"
    for i, node in enumerate(journey.nodes):
        if node.type not in ("send_email", "send_sms"):
            continue
        manifest = library.get(node.template)
        if manifest is None:
            problems.append(
                _error(
                    journey,
                    node.id,
                    f"template {node.template!r} does not exist",
                    f"use one of the template folders ({known}) or add templates/{node.template}/",
                    ("nodes", i, "template"),
                )
            )
            continue
        variants = list(getattr(manifest, "variants", ["A"]))
        if node.variant not in variants:
            problems.append(
                _error(
                    journey,
                    node.id,
                    f"template {node.template!r} has no variant {node.variant!r}",
                    f"use one of its variants ({', '.join(variants)}) or add the variant's files",
                    ("nodes", i, "variant"),
                )
            )
        channels = getattr(manifest, "channels", None)
        if channels is not None and node.channel not in channels:
            problems.append(
                _error(
                    journey,
                    node.id,
                    f"template {node.template!r} has no {node.channel} message",
                    f"add the {node.channel} files to templates/{node.template}/ or send the other channel",
                    ("nodes", i, "template"),
                )
            )
        for var in getattr(manifest, "required_variables", []):
            if var not in columns:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"template {node.template!r} needs variable {var!r}, which no profile column provides",
                        f"add {var!r} to the profiles, let the trigger provide it (trigger.provides), "
                        "or give the template a fallback and drop it from required_variables",
                        ("nodes", i, "template"),
                    )
                )
    return problems


def _segment_problem(name: str, segments: Collection[str]) -> tuple[str, str]:
    """Why a segment name does not resolve, and the fix (the words of ``resolve_segment``)."""
    rules = [s.removeprefix("rule:") for s in segments if s.startswith("rule:")]
    try:
        resolve_segment(name, rules)
    except StrategyError as exc:
        problem, _, remedy = str(exc).partition(". Fix: ")
        return problem, remedy or "define it under segments: in the strategy"
    return f"segment {name!r} is not defined", "define it under segments: in the strategy"


def _value_problems(journey: Journey, columns: Collection[str], segments: Collection[str] | None) -> list[JourneyError]:
    problems: list[JourneyError] = []
    index = journey.by_id()
    ancestors = _ancestors(journey)
    if segments is not None:
        for seg, path in (
            (journey.audience, ("audience",)),
            (getattr(journey.trigger, "segment", None), ("trigger", "segment")),
        ):
            if seg is not None and seg not in segments:
                problem, remedy = _segment_problem(seg, segments)
                problems.append(_error(journey, None, problem, remedy, path))
    if journey.reentry.after is not None and journey.reentry.after.value <= 0:
        problems.append(
            _error(
                journey,
                None,
                f"re-entry wait {journey.reentry.after} is not positive",
                "use a positive duration or mode never/always",
                ("reentry", "after"),
            )
        )
    for i, node in enumerate(journey.nodes):
        if node.type == "delay":
            if node.duration is None and node.until is None:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        "the delay has neither a duration nor a local time",
                        "set duration (e.g. 1d) or until (time and days)",
                        ("nodes", i),
                    )
                )
            if node.duration is not None and node.duration.value <= 0:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"the delay {node.duration} is not positive",
                        "use a positive duration, or remove the delay",
                        ("nodes", i, "duration"),
                    )
                )
        elif node.type == "wait_for_event" and node.timeout.value <= 0:
            problems.append(
                _error(
                    journey,
                    node.id,
                    f"the timeout {node.timeout} is not positive",
                    "use a positive timeout such as 1d",
                    ("nodes", i, "timeout"),
                )
            )
        elif node.type == "random_split":
            total = sum(b.share for b in node.branches)
            shares = " + ".join(f"{b.name} {b.share:.12g}" for b in node.branches)
            negative = [b for b in node.branches if b.share < 0 or not math.isfinite(b.share)]
            if negative:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"split shares {shares} include {', '.join(f'{b.name} {b.share:.12g}' for b in negative)}, "
                        "which is not a share of customers",
                        "give every branch a percentage from 0 to 100, the percentages adding up to 100",
                        ("nodes", i, "branches"),
                    )
                )
            elif not math.isclose(total, 100.0, abs_tol=1e-9):
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"split shares {shares} sum to {total:.12g}, not 100",
                        "make the percentages add up to 100",
                        ("nodes", i, "branches"),
                    )
                )
            names = [b.name for b in node.branches]
            if len(set(names)) != len(names):
                problems.append(
                    _error(
                        journey,
                        node.id,
                        "two branches have the same name",
                        "give every branch its own name",
                        ("nodes", i, "branches"),
                    )
                )
        elif node.type == "condition_split":
            cond = node.condition
            if cond.kind == "segment" and segments is not None and cond.segment not in segments:
                problem, remedy = _segment_problem(cond.segment, segments)
                problems.append(_error(journey, node.id, problem, remedy, ("nodes", i, "condition")))
            elif cond.kind == "profile" and cond.field not in columns:
                problems.append(
                    _error(
                        journey,
                        node.id,
                        f"profile field {cond.field!r} does not exist",
                        "use a profile column such as preferred_channel, can_sms or orders_total",
                        ("nodes", i, "condition", "field"),
                    )
                )
            elif cond.kind == "engagement":
                target = index.get(cond.node)
                if (
                    target is None
                    or target.type not in ("send_email", "send_sms")
                    or cond.node not in ancestors.get(node.id, set())
                ):
                    problems.append(
                        _error(
                            journey,
                            node.id,
                            f"engagement with {cond.node!r}, which is not a message sent before this split",
                            "name the id of a send node on every path before the split",
                            ("nodes", i, "condition", "node"),
                        )
                    )
    return problems


def _ancestors(journey: Journey) -> dict[str, set[str]]:
    """For each node, the nodes that lie on every path from the entry to it (dominators)."""
    index = journey.by_id()
    order = [n.id for n in journey.walk()]
    preds: dict[str, set[str]] = {nid: set() for nid in order}
    for nid in order:
        for _, t in links(index[nid]):
            if t in preds:
                preds[t].add(nid)
    every = set(order)
    dom = {nid: (set() if nid == journey.entry else set(every)) for nid in order}
    changed = True
    while changed:
        changed = False
        for nid in order:
            if nid == journey.entry:
                continue
            incoming = [dom[p] | {p} for p in preds[nid]]
            new = set.intersection(*incoming) if incoming else set()
            if new != dom[nid]:
                dom[nid] = new
                changed = True
    return dom


def journey_problems(
    journey: Journey,
    *,
    library: Mapping[str, Any] | None = None,
    columns: Collection[str] | None = None,
    segments: Collection[str] | None = None,
) -> list[JourneyError]:
    """Every problem of a journey, each a :class:`JourneyError` naming the node.

    Parameters
    ----------
    journey
        The journey to check.
    library
        Template manifests by moment id (objects with ``.variants``, ``.required_variables`` and optionally
        ``.channels``); without a library the template checks are skipped.
    columns
        Columns template variables and profile conditions may read; default :func:`available_columns`
        plus the trigger's ``provides``.
    segments
        Segment names an audience or a split may use; ``None`` skips that check.

    Returns
    -------
    list of JourneyError
        Empty when the journey is valid. Each has ``.node``, ``.path`` and ``.remedy``.
    """
    provides = getattr(journey.trigger, "provides", [])
    cols = frozenset(columns) | frozenset(provides) if columns is not None else available_columns(provides)
    problems = _graph_problems(journey)
    problems += _sms_guard_problems(journey)
    problems += _value_problems(journey, cols, segments)
    if library is not None:
        problems += _template_problems(journey, library, cols)
    return problems


def validate_journey(journey: Journey, **options: Any) -> Journey:
    """Raise the first problem :func:`journey_problems` finds; return the journey when it is valid.

    Raises
    ------
    JourneyError
        Naming the journey and the node (``.node``), with a remedy.
    """
    problems = journey_problems(journey, **options)
    if problems:
        raise problems[0]
    return journey
