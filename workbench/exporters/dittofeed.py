"""Dittofeed journeys: one ``JourneyDefinition`` per journey (the ``definition`` of ``PUT /api/admin/journeys``).

Segments, subscription groups and templates are referenced by deterministic
placeholder UUIDs, listed in the report as what must be created in Dittofeed.
Dittofeed's ``RateLimitNode`` is never used: its engine does not implement it
(a user reaching it exits), so caps stay with the simulated plan.

=====================  ==========================================================================
journey                Dittofeed
=====================  ==========================================================================
segment trigger        ``EntryNode`` on the segment (``reEnter`` from the re-entry rule)
event trigger          ``EventEntryNode``; an audience becomes a first ``SegmentSplitNode``
date trigger           ``EntryNode`` on "has <property>" + ``DelayNode`` ``UserProperty`` offset
goal                   emulated: a ``SegmentSplitNode`` "goal reached" before every message
send email / SMS       ``MessageNode`` (Email / Sms) with the channel's subscription group
delay                  ``DelayNode`` ``Second`` and/or ``LocalTime``
wait for event         ``WaitForNode`` on a "performed <event>" segment
condition split        ``SegmentSplitNode`` on a segment expressing the condition
random split           ``RandomCohortNode``
end                    ``"ExitNode"``
=====================  ==========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..journeys.diff import _condition
from .registry import ExportContext, ExportResult, placeholder_id, register

__all__ = ["DAY_NUMBERS", "export_dittofeed", "to_dittofeed"]

#: Dittofeed day numbers (JavaScript ``getDay``: Sunday is 0).
DAY_NUMBERS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
EXIT = "ExitNode"


class _Refs:
    def __init__(self, result: ExportResult, journey: str) -> None:
        self.result, self.journey, self.seen = result, journey, set()

    def get(self, kind: str, name: str, what: str) -> str:
        pid = placeholder_id(kind, name)
        if pid not in self.seen:
            self.seen.add(pid)
            self.result.note(self.journey, kind, "to_create", f"{what}: create it and replace {pid}")
        return pid

    def segment(self, name: str, what: str) -> str:
        return self.get("segment", name, f"segment {name!r} ({what})")


def to_dittofeed(journey: Any, *, result: ExportResult | None = None) -> dict[str, Any]:
    """The ``JourneyDefinition`` of one journey; mapping notes go to ``result``'s report."""
    result = result or ExportResult("dittofeed")
    jid = journey.id
    refs = _Refs(result, jid)
    index = journey.by_id()
    nodes: list[dict[str, Any]] = []

    def link(target: str | None) -> str:
        if target is None or target not in index or index[target].type == "end":
            return EXIT
        return target

    goal_seg = None
    if journey.goal is not None:
        goal_seg = refs.segment(
            f"{jid}__goal_{journey.goal.event}", f"performed {journey.goal.event} since entering journey {jid}"
        )
        result.note(
            jid,
            "goal",
            "emulated",
            f"a segment split on {journey.goal.event} before every message exits converters "
            "(Dittofeed has no journey-wide goal)",
        )

    def to(target: str | None) -> str:
        """The link to ``target``; a message is reached through the goal check."""
        target = link(target)
        if goal_seg is None or target == EXIT:
            return target
        return f"{target}__goal" if index[target].type in ("send_email", "send_sms") else target

    t = journey.trigger
    first = to(journey.entry)
    if t.type == "event":
        entry: dict[str, Any] = {"type": "EventEntryNode", "event": t.event, "child": first}
        result.note(jid, "trigger", "mapped", f"event entry on {t.event!r}")
        if journey.reentry.mode != "always":
            result.note(
                jid,
                "reentry",
                "not_carried",
                f"event entry re-enters on every {t.event}; the rule '{journey.reentry}' must be a segment "
                "condition or enforced by the plan",
            )
    else:
        if t.type == "segment":
            seg = refs.segment(t.segment, "the entry segment")
            result.note(jid, "trigger", "mapped", f"segment entry on {t.segment!r}")
        else:
            seg = refs.segment(f"has_{t.property}", f"customers with a {t.property} date")
            days = [DAY_NUMBERS[d] for d in t.at.days]
            nodes.append(
                {
                    "id": "trigger_time",
                    "type": "DelayNode",
                    "variant": {
                        "type": "LocalTime",
                        "hour": t.at.hour,
                        "minute": t.at.minute,
                        "allowedDaysOfWeek": days,
                    },
                    "child": first,
                }
            )
            nodes.append(
                {
                    "id": "trigger_date",
                    "type": "DelayNode",
                    "variant": {
                        "type": "UserProperty",
                        "userProperty": t.property,
                        "offsetSeconds": abs(t.offset_days) * 86400,
                        "offsetDirection": "after" if t.offset_days >= 0 else "before",
                    },
                    "child": "trigger_time",
                }
            )
            first = "trigger_date"
            result.note(
                jid,
                "trigger",
                "emulated",
                f"segment entry on 'has {t.property}', then a delay until {t.property} "
                f"{t.offset_days:+d} days and {t.at.time} local time",
            )
        entry = {"type": "EntryNode", "segment": seg, "child": first}
        if journey.reentry.mode != "never":
            entry["reEnter"] = True
        if journey.reentry.mode == "after":
            result.note(
                jid,
                "reentry",
                "emulated",
                f"re-entry allowed; the wait of {journey.reentry.after} is not carried by Dittofeed",
            )
        else:
            result.note(jid, "reentry", "mapped", f"reEnter {'true' if journey.reentry.mode == 'always' else 'false'}")
    if journey.audience and not (t.type == "segment" and t.segment == journey.audience):
        aseg = refs.segment(journey.audience, "the journey's audience")
        nodes.append(
            {
                "id": "audience_check",
                "type": "SegmentSplitNode",
                "name": f"In {journey.audience}?",
                "variant": {"type": "Boolean", "segment": aseg, "trueChild": entry["child"], "falseChild": EXIT},
            }
        )
        entry["child"] = "audience_check"
        after = "the event entry" if t.type == "event" else "entry"
        result.note(jid, "audience", "emulated", f"segment split on {journey.audience!r} after {after}")

    groups = {
        "email": refs.get("subscription_group", "email", "email subscription group (marketing consent)"),
        "sms": refs.get("subscription_group", "sms", "SMS subscription group (marketing consent)"),
    }
    for node in journey.nodes:
        nid = node.id
        if node.type in ("send_email", "send_sms"):
            tpl = refs.get(
                "template",
                f"{node.template}/{node.variant}/{node.channel}",
                f"{node.channel} template {node.template} variant {node.variant} (template bundle)",
            )
            if goal_seg is not None:
                nodes.append(
                    {
                        "id": f"{nid}__goal",
                        "type": "SegmentSplitNode",
                        "name": "Goal reached?",
                        "variant": {"type": "Boolean", "segment": goal_seg, "trueChild": EXIT, "falseChild": nid},
                    }
                )
            nodes.append(
                {
                    "id": nid,
                    "type": "MessageNode",
                    "name": node.name or nid,
                    "subscriptionGroupId": groups[node.channel],
                    "variant": {"type": "Email" if node.channel == "email" else "Sms", "templateId": tpl},
                    "child": to(node.next),
                }
            )
            result.note(jid, node.type, "mapped", f"{node.channel} message {node.template}/{node.variant}", nid)
            if node.type == "send_sms" and node.quiet_hours:
                result.note(
                    jid,
                    "quiet_hours",
                    "not_carried",
                    "Dittofeed has no quiet-hours switch on a message: precede the SMS with a LocalTime "
                    "delay or rely on the simulated plan's quiet-hour check",
                    nid,
                )
        elif node.type == "delay":
            parts = []
            if node.duration is not None:
                parts.append({"type": "Second", "seconds": node.duration.seconds})
            if node.until is not None:
                parts.append(
                    {
                        "type": "LocalTime",
                        "hour": node.until.hour,
                        "minute": node.until.minute,
                        "allowedDaysOfWeek": [DAY_NUMBERS[d] for d in node.until.days],
                    }
                )
            if not parts:
                parts.append({"type": "Second", "seconds": 0})
            ids = [nid] + [f"{nid}__until"] * (len(parts) - 1)
            for k, (pid, variant) in enumerate(zip(ids, parts, strict=True)):
                child = ids[k + 1] if k + 1 < len(ids) else to(node.next)
                nodes.append({"id": pid, "type": "DelayNode", "variant": variant, "child": child})
            result.note(
                jid,
                "delay",
                "emulated" if len(parts) > 1 else "mapped",
                "two delay nodes (duration, then local time)" if len(parts) > 1 else "delay node",
                nid,
            )
        elif node.type == "wait_for_event":
            seg = refs.segment(f"{jid}__{nid}__{node.event}", f"performed {node.event} since entering journey {jid}")
            nodes.append(
                {
                    "id": nid,
                    "type": "WaitForNode",
                    "timeoutSeconds": node.timeout.seconds,
                    "timeoutChild": to(node.on_timeout),
                    "segmentChildren": [{"id": to(node.on_event), "segmentId": seg}],
                }
            )
            result.note(jid, "wait_for_event", "mapped", f"wait-for node on a segment of {node.event}", nid)
        elif node.type == "condition_split":
            cond = node.condition
            if cond.kind == "segment":
                seg = refs.segment(cond.segment, "strategy segment")
                result.note(jid, "condition_split", "mapped", f"segment split on {cond.segment!r}", nid)
            elif cond.kind == "consent":
                seg = refs.segment(f"{cond.channel}_subscribed", f"subscribed to the {cond.channel} subscription group")
                result.note(
                    jid,
                    "consent_guard",
                    "mapped",
                    f"segment split on {cond.channel} subscription (the message node also checks its group)",
                    nid,
                )
            else:
                seg = refs.segment(f"{jid}__{nid}", _condition(cond))
                result.note(
                    jid, "condition_split", "emulated", f"segment split on a segment for '{_condition(cond)}'", nid
                )
            nodes.append(
                {
                    "id": nid,
                    "type": "SegmentSplitNode",
                    "name": node.name or nid,
                    "variant": {
                        "type": "Boolean",
                        "segment": seg,
                        "trueChild": to(node.on_true),
                        "falseChild": to(node.on_false),
                    },
                }
            )
        elif node.type == "random_split":
            nodes.append(
                {
                    "id": nid,
                    "type": "RandomCohortNode",
                    "children": [{"id": to(b.next), "percent": b.share, "name": b.name} for b in node.branches],
                }
            )
            result.note(jid, "random_split", "mapped", ", ".join(f"{b.name} {b.share:g}%" for b in node.branches), nid)
    result.note(
        jid,
        "contact_policy",
        "not_carried",
        "caps and spacing: Dittofeed's RateLimitNode is not implemented by its engine, so none is "
        "exported; enforce the policy through the simulated plan",
    )
    return {"entryNode": entry, "exitNode": {"type": "ExitNode"}, "nodes": nodes}


@register("dittofeed")
def export_dittofeed(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.json``: a ``JourneyDefinition``."""
    result = ExportResult("dittofeed")
    for j in journeys:
        result.files[f"{j.id}.json"] = json.dumps(to_dittofeed(j, result=result), indent=2, ensure_ascii=False) + "\n"
    return result
