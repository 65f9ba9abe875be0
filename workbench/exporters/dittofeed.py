"""Dittofeed journeys: one ``PUT /api/admin/journeys`` upsert body per journey, and what it needs.

Each file is the full upsert body (``workspaceId``, ``id``, ``name``, ``status`` NotStarted, i.e. a
draft, ``canRunMultiple`` and the ``definition``); ``resources.json`` holds the upsert bodies of the
segments, user properties, subscription groups and templates the journeys reference. Their ids come
from the id map, else deterministic UUIDs, which ``workbench deploy`` creates with those ids.
Dittofeed's ``RateLimitNode`` is never used: its engine does not implement it.

=====================  ==========================================================================
journey                Dittofeed
=====================  ==========================================================================
segment trigger        ``EntryNode`` on the segment; ``reEnter`` and ``canRunMultiple`` only
                       where re-entering at once is what the journey means
event trigger          ``EventEntryNode`` with a ``key`` (one run per cart, order, product...)
date trigger           ``EntryNode`` on "<property> within the last 2 days", then a ``DelayNode``
                       ``UserProperty`` (the user property's id) offset and a ``LocalTime`` delay
goal                   a ``SegmentSplitNode`` before every message: ``KeyedPerformed`` (event
                       entries) or ``Performed`` within the journey's span (segment entries)
send email / SMS       ``MessageNode`` (Email / Sms) with the channel's subscription group
delay                  ``DelayNode`` ``Second`` and/or ``LocalTime`` (``defaultTimezone`` set; the
                       ``timezone`` user property wins)
wait for event         ``WaitForNode`` on a ``KeyedPerformed`` segment (event entries) or a
                       ``Performed`` segment (segment entries)
condition split        ``SegmentSplitNode`` on a segment expressing the condition; an SMS
                       engagement split cannot exist (no SMS click event) and is left out
random split           holdout: ``SegmentSplitNode`` on a ``RandomBucket`` segment (sticky per
                       customer); other splits: ``RandomCohortNode`` (drawn per run)
end                    ``"ExitNode"``
=====================  ==========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..journeys.diff import _condition
from ..models.errors import TemplateError
from .companions import (
    PREFERRED_CHANNEL_PROPERTY,
    SEGMENTS_PROPERTY,
    TIMEZONE_PROPERTY,
    content_locales,
    locale_report,
    localized_content,
    sms_step_cost,
    tool_renderer,
)
from .registry import ExportContext, ExportResult, Ids, placeholder_id, register

__all__ = [
    "DAY_NUMBERS",
    "DEFAULT_TIMEZONE",
    "EVENT_KEYS",
    "export_dittofeed",
    "to_dittofeed",
    "workspace_id",
]

#: Dittofeed day numbers (JavaScript ``getDay``: Sunday is 0).
DAY_NUMBERS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
EXIT = "ExitNode"
#: The event property that identifies one run of an event-triggered journey (the ``key``).
EVENT_KEYS = {
    "add_to_cart": "cart_id",
    "checkout_started": "cart_id",
    "order_placed": "order_id",
    "product_view": "product_id",
    "support_ticket": "ticket_id",
}
#: The zone a LocalTime delay uses for a user without a ``timezone`` user property.
DEFAULT_TIMEZONE = "America/New_York"
#: Dittofeed names of profile fields the templates and journeys read.
USER_PROPERTY_NAMES = {"first_name": "firstName", "email": "email", "phone": "phone"}
_WINDOW_DAYS = 2


def workspace_id(ids: Any) -> str:
    """The workspace id of an id map, else a placeholder UUID."""
    found = getattr(ids, "workspace_id", None)
    return found or placeholder_id("workspace", "default")


def _user_property(name: str) -> str:
    return USER_PROPERTY_NAMES.get(name, name)


class _Resources:
    """The segments, user properties, subscription groups and templates the journeys reference."""

    def __init__(self, ids: Ids, result: ExportResult, workspace: str) -> None:
        self.ids, self.result, self.workspace = ids, result, workspace
        self.bodies: dict[str, dict[str, dict[str, Any]]] = {
            "segments": {},
            "user_properties": {},
            "subscription_groups": {},
            "templates": {},
        }
        self.keyed: set[str] = set()
        self.noted: set[tuple[str, str]] = set()

    def _get(self, kind: str, name: str, what: str, journey: str) -> str:
        value = self.ids.get(kind, name, what)
        if name not in self.bodies[kind]:
            self.result.note(journey, kind, "to_create", f"{what}: `workbench deploy` upserts it with id {value}")
        return value

    def segment(self, name: str, node: dict[str, Any], what: str, journey: str) -> str:
        if (
            node.get("type") == "Trait"
            and str(node.get("path", "")).startswith(SEGMENTS_PROPERTY + ".")
            and (journey, name) not in self.noted
        ):
            self.noted.add((journey, name))
            self.result.note(
                journey,
                "segment_membership",
                "emulated",
                f"segment {name!r} is a trait segment on {node['path']}: the workbench computes membership and "
                "the profile "
                "import sends it, so it is as fresh as the last import (re-send it daily)",
            )
        sid = self._get("segments", name, what, journey)
        node = {"id": "entry", **node}
        self.bodies["segments"][name] = {
            "workspaceId": self.workspace,
            "id": sid,
            "name": name,
            "definition": {"entryNode": node, "nodes": []},
        }
        if node["type"] == "KeyedPerformed":
            self.keyed.add(sid)
        return sid

    def user_property(self, name: str, journey: str) -> str:
        prop = _user_property(name)
        uid = self._get("user_properties", prop, f"user property {prop!r} (trait {prop})", journey)
        self.bodies["user_properties"][prop] = {
            "workspaceId": self.workspace,
            "id": uid,
            "name": prop,
            "definition": {"type": "Trait", "path": prop},
        }
        return uid

    def subscription_group(self, channel: str, journey: str) -> str:
        name = f"{channel} marketing"
        gid = self._get("subscription_groups", name, f"{channel} subscription group (marketing consent)", journey)
        self.bodies["subscription_groups"][name] = {
            "workspaceId": self.workspace,
            "id": gid,
            "name": name,
            "channel": "Email" if channel == "email" else "Sms",
            "type": "OptIn",
        }
        return gid

    def template(self, name: str, definition: dict[str, Any], journey: str) -> str:
        tid = self._get("templates", name, f"{definition['type']} template {name!r}", journey)
        self.bodies["templates"][name] = {
            "workspaceId": self.workspace,
            "id": tid,
            "name": name,
            "definition": definition,
        }
        return tid


def _trait(path: str, operator: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Trait", "path": path, "operator": operator}


def _min_elapsed(journey: Any) -> dict[str, int]:
    """The least seconds from entry to each node (delays and timeouts on the way; local-time waits count 0)."""
    import heapq

    index = journey.by_id()
    start = 0
    t = journey.trigger
    if t.type == "date" and t.offset_days > 0:
        start = t.offset_days * 86400 - _WINDOW_DAYS * 86400  # entry up to the window after the date
    best: dict[str, int] = {}
    heap = [(max(start, 0), journey.entry)]
    while heap:
        seconds, nid = heapq.heappop(heap)
        if nid in best or nid not in index:
            continue
        best[nid] = seconds
        node = index[nid]
        edges: list[tuple[str | None, int]] = []
        if node.type == "delay":
            edges.append((node.next, node.duration.seconds if node.duration else 0))
        elif node.type == "wait_for_event":
            edges += [(node.on_event, 0), (node.on_timeout, node.timeout.seconds)]
        elif node.type == "random_split":
            edges += [(b.next, 0) for b in node.branches]
        else:
            edges += [(getattr(node, a, None), 0) for a in ("next", "on_true", "on_false")]
        for target, cost in edges:
            if target and target not in best:
                heapq.heappush(heap, (seconds + cost, target))
    return best


def _span_seconds(journey: Any) -> int:
    """An upper bound of the time a customer spends in the journey (sum of every wait)."""
    total = 0
    for node in journey.nodes:
        if node.type == "delay":
            total += (node.duration.seconds if node.duration else 0) + (7 * 86400 if node.until else 0)
        elif node.type == "wait_for_event":
            total += node.timeout.seconds
    return max(total, 86400)


def to_dittofeed(
    journey: Any,
    *,
    strategy: Any = None,
    result: ExportResult | None = None,
    resources: _Resources | None = None,
    renderer: Any = None,
    costs: dict[Any, Any] | None = None,
    default_timezone: str = DEFAULT_TIMEZONE,
) -> dict[str, Any]:
    """The ``PUT /api/admin/journeys`` body of one journey; mapping notes go to ``result``'s report."""
    result = result or ExportResult("dittofeed")
    if resources is None:
        resources = _Resources(Ids(None, placeholder_id), result, workspace_id(None))
    if renderer is None and strategy is not None:
        renderer = tool_renderer(strategy, "dittofeed")
    brand = getattr(strategy, "brand", None)
    jid = journey.id
    index = journey.by_id()
    nodes: list[dict[str, Any]] = []
    t = journey.trigger
    keyed = t.type == "event"
    key = EVENT_KEYS.get(t.event, f"{t.event}_id") if keyed else None

    def link(target: str | None) -> str:
        if target is None or target not in index or index[target].type == "end":
            return EXIT
        node = index[target]
        # An SMS engagement split cannot exist in Dittofeed: it is left out and its false branch follows.
        if node.type == "condition_split" and node.condition.kind == "engagement" and _engaged_channel(node) == "sms":
            return link(node.on_false)
        return target

    def _engaged_channel(node: Any) -> str:
        return getattr(index.get(node.condition.node), "channel", "email")

    def performed(event: str, name: str, what: str, within: int | None = None) -> str:
        if keyed:
            return resources.segment(
                name,
                {"type": "KeyedPerformed", "event": event, "key": key, "times": 1, "timesOperator": ">="},
                what,
                jid,
            )
        node: dict[str, Any] = {"type": "Performed", "event": event, "times": 1, "timesOperator": ">="}
        if within is not None:
            node["withinSeconds"] = within
        return resources.segment(name, node, what, jid)

    goal_seg: dict[str, str] = {}  # message node id -> segment of "goal reached" checked before it
    if journey.goal is not None:
        event = journey.goal.event
        if keyed:
            seg = performed(event, f"{jid} goal {event}", f"{event} with this run's {key} (KeyedPerformed)")
            goal_seg = {n.id: seg for n in journey.sends()}
            how = (
                f"a segment split on a KeyedPerformed segment ({event} with the entry event's {key}; the {event} "
                f"events must carry {key}) before every message exits converters"
            )
        else:
            # "since entry" as "within the time since entry" (the least time a customer can have spent in the
            # journey before that message, less an hour), so an order from before entry never counts.
            elapsed = _min_elapsed(journey)
            for n in journey.sends():
                window = elapsed.get(n.id, 0) - 3600
                if window > 0:
                    hours = window // 3600
                    goal_seg[n.id] = performed(
                        event, f"{jid} goal {event} within {hours}h", f"{event} within the last {hours} hours", window
                    )
            how = (
                f"a segment split before each later message on a Performed segment ({event} within the least time "
                "since entry, less an hour): an order in the first hour after entry, or before the first message "
                "sent at entry, is not seen"
            )
        result.note(jid, "goal", "emulated", how)

    def to(target: str | None) -> str:
        """The link to ``target``; a message is reached through its goal check."""
        target = link(target)
        if target == EXIT or target not in goal_seg:
            return target
        return f"{target}__goal"

    first = to(journey.entry)
    can_run_multiple = journey.reentry.mode != "never"
    if keyed:
        entry: dict[str, Any] = {"type": "EventEntryNode", "event": t.event, "key": key, "child": first}
        result.note(
            jid,
            "trigger",
            "mapped",
            f"event entry on {t.event!r} keyed by {key} (one run per {key}; events must carry it)",
        )
        if journey.reentry.mode == "after":
            result.note(
                jid,
                "reentry",
                "emulated",
                f"canRunMultiple: a new {key} starts a new run; the wait of {journey.reentry.after} between "
                "runs is not carried",
            )
        else:
            result.note(jid, "reentry", "mapped", f"canRunMultiple {str(can_run_multiple).lower()}")
    else:
        if t.type == "segment":
            seg = resources.segment(
                t.segment,
                _trait(SEGMENTS_PROPERTY + "." + t.segment, {"type": "Equals", "value": "true"}),
                f"strategy segment {t.segment!r} (trait {SEGMENTS_PROPERTY}.{t.segment} from the profile import)",
                jid,
            )
            result.note(jid, "trigger", "mapped", f"segment entry on {t.segment!r}")
        else:
            window = _WINDOW_DAYS * 86400
            seg = resources.segment(
                f"{t.property} within {_WINDOW_DAYS} days",
                _trait(t.property, {"type": "Within", "windowSeconds": window}),
                f"customers whose {t.property} is in the last {_WINDOW_DAYS} days",
                jid,
            )
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
                        "defaultTimezone": default_timezone,
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
                        "userProperty": resources.user_property(t.property, jid),
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
                f"segment entry when {t.property} is set (in the last {_WINDOW_DAYS} days), then a delay until "
                f"{t.property} "
                f"{t.offset_days:+d} days (user property id) and {t.at.time} local time",
            )
        entry = {"type": "EntryNode", "segment": seg, "child": first}
        bounded = t.type == "date"
        if journey.reentry.mode == "always" and bounded:
            entry["reEnter"] = True
            result.note(
                jid,
                "reentry",
                "mapped",
                f"reEnter with canRunMultiple: a new {t.property} starts it again; the entry segment only holds "
                "customers "
                f"for {_WINDOW_DAYS} days, so nobody restarts at once",
            )
        elif journey.reentry.mode == "never":
            result.note(jid, "reentry", "mapped", "once per customer (canRunMultiple false)")
        else:
            can_run_multiple = False
            result.note(
                jid,
                "reentry",
                "not_carried",
                f"re-entry '{journey.reentry}': Dittofeed restarts a journey at once for a customer still in the entry "
                "segment, so re-entry is off (once per customer); to run it again, end membership in the segment "
                "(or archive and re-publish the journey)",
            )
    if journey.audience and not (t.type == "segment" and t.segment == journey.audience):
        aseg = resources.segment(
            journey.audience,
            _trait(SEGMENTS_PROPERTY + "." + journey.audience, {"type": "Equals", "value": "true"}),
            f"strategy segment {journey.audience!r}",
            jid,
        )
        nodes.append(
            {
                "id": "audience_check",
                "type": "SegmentSplitNode",
                "name": f"In {journey.audience}?",
                "variant": {"type": "Boolean", "segment": aseg, "trueChild": entry["child"], "falseChild": EXIT},
            }
        )
        entry["child"] = "audience_check"
        result.note(jid, "audience", "emulated", f"segment split on {journey.audience!r} after entry")

    for node in journey.nodes:
        nid = node.id
        if node.type in ("send_email", "send_sms"):
            content = None
            if renderer is not None:
                try:
                    content = localized_content(
                        renderer, node.template, node.variant, node.offer, content_locales(strategy)
                    )
                except TemplateError as exc:
                    result.note(jid, "content", "not_carried", f"no content: {exc}", nid)
            name = (
                f"workbench {node.template} {node.variant}"
                + (f" {node.offer}" if node.offer else "")
                + f" {node.channel}"
            )
            if node.channel == "email":
                definition: dict[str, Any] = {
                    "type": "Email",
                    "from": f"{brand.from_name} <{brand.from_email}>" if brand is not None else "",
                    "subject": content.subject if content else "",
                    "body": content.html if content else "",
                }
                if brand is not None and brand.reply_to:
                    definition["replyTo"] = brand.reply_to
                detail = f"email {node.template}/{node.variant}: subject {definition['subject']!r}"
            else:
                definition = {"type": "Sms", "body": content.sms if content and content.sms else ""}
                detail = f"SMS {node.template}/{node.variant}: {definition['body']!r}"
                cost = (costs or {}).get((node.template, node.variant, node.offer or ""))
                if cost is not None:
                    detail += f"; {cost.segments_per_1000:g} segments per 1,000 sends over {cost.customers} customers"
            for field in content.merge_fields if content else ():
                resources.user_property(field, jid)
            tpl = resources.template(name, definition, jid)
            if nid in goal_seg:
                nodes.append(
                    {
                        "id": f"{nid}__goal",
                        "type": "SegmentSplitNode",
                        "name": "Goal reached?",
                        "variant": {"type": "Boolean", "segment": goal_seg[nid], "trueChild": EXIT, "falseChild": nid},
                    }
                )
            nodes.append(
                {
                    "id": nid,
                    "type": "MessageNode",
                    "name": node.name or nid,
                    "subscriptionGroupId": resources.subscription_group(node.channel, jid),
                    "variant": {"type": "Email" if node.channel == "email" else "Sms", "templateId": tpl},
                    "child": to(node.next),
                }
            )
            offer = f", offer {node.offer}" if node.offer else ", no offer"
            result.note(jid, node.type, "mapped", detail + offer, nid)
            if node.type == "send_sms" and node.quiet_hours:
                result.note(
                    jid,
                    "quiet_hours",
                    "not_carried",
                    "Dittofeed has no quiet-hours switch on a message: precede the SMS with a LocalTime delay or rely "
                    "on the simulated plan's quiet-hour check",
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
                        "defaultTimezone": default_timezone,
                    }
                )
            if not parts:
                parts.append({"type": "Second", "seconds": 0})
            if node.until is not None:
                resources.user_property(TIMEZONE_PROPERTY, jid)
            ids = [nid] + [f"{nid}__until"] * (len(parts) - 1)
            for k, (pid, variant) in enumerate(zip(ids, parts, strict=True)):
                child = ids[k + 1] if k + 1 < len(ids) else to(node.next)
                nodes.append({"id": pid, "type": "DelayNode", "variant": variant, "child": child})
            zone = (
                f"; local time from the timezone user property, else {default_timezone}"
                if node.until is not None
                else ""
            )
            result.note(
                jid,
                "delay",
                "emulated" if len(parts) > 1 else "mapped",
                ("two delay nodes (duration, then local time)" if len(parts) > 1 else "delay node") + zone,
                nid,
            )
        elif node.type == "wait_for_event":
            seg = performed(
                node.event, f"{jid} {nid} {node.event}", f"{node.event} during the wait", node.timeout.seconds
            )
            nodes.append(
                {
                    "id": nid,
                    "type": "WaitForNode",
                    "timeoutSeconds": node.timeout.seconds,
                    "timeoutChild": to(node.on_timeout),
                    "segmentChildren": [{"id": to(node.on_event), "segmentId": seg}],
                }
            )
            how = (
                f"a KeyedPerformed segment ({node.event} with this run's {key})"
                if keyed
                else f"a Performed segment ({node.event} within {node.timeout})"
            )
            result.note(jid, "wait_for_event", "mapped" if keyed else "emulated", f"wait-for node on {how}", nid)
        elif node.type == "condition_split":
            cond = node.condition
            if cond.kind == "engagement" and _engaged_channel(node) == "sms":
                result.note(
                    jid,
                    "engagement",
                    "not_carried",
                    f"Dittofeed records no SMS click or open, so 'did they {cond.action} the SMS' cannot be "
                    "split on: the "
                    "split is left out and every customer takes its false branch; measure SMS clicks with "
                    "tracked links",
                    nid,
                )
                continue
            if cond.kind == "segment":
                seg = resources.segment(
                    cond.segment,
                    _trait(SEGMENTS_PROPERTY + "." + cond.segment, {"type": "Equals", "value": "true"}),
                    f"strategy segment {cond.segment!r}",
                    jid,
                )
                result.note(jid, "condition_split", "mapped", f"segment split on {cond.segment!r}", nid)
            elif cond.kind == "consent":
                gid = resources.subscription_group(cond.channel, jid)
                seg = resources.segment(
                    f"{cond.channel} subscribed",
                    {"type": "SubscriptionGroup", "subscriptionGroupId": gid, "subscriptionGroupType": "OptIn"},
                    f"subscribed to the {cond.channel} subscription group",
                    jid,
                )
                result.note(
                    jid,
                    "consent_guard",
                    "mapped",
                    f"segment split on {cond.channel} subscription (the message node also checks its group)",
                    nid,
                )
            elif cond.kind == "engagement":
                event = "DFEmailClicked" if cond.action == "clicked" else "DFEmailOpened"
                span = _span_seconds(journey)
                seg = resources.segment(
                    f"{jid} {nid} {event}",
                    {"type": "Performed", "event": event, "times": 1, "timesOperator": ">=", "withinSeconds": span},
                    f"{event} within {span // 86400} days",
                    jid,
                )
                result.note(
                    jid,
                    "engagement",
                    "emulated",
                    f"segment on {event} within the journey's span (any email, not only {cond.node!r})",
                    nid,
                )
            else:
                if cond.op in ("eq", "ne") and cond.value is not None and not isinstance(cond.value, bool):
                    op = {"type": "Equals" if cond.op == "eq" else "NotEquals", "value": cond.value}
                    seg = resources.segment(
                        f"{cond.field} {cond.op} {cond.value}", _trait(cond.field, op), _condition(cond), jid
                    )
                    sent_by = " (the profile import sends it)" if cond.field == PREFERRED_CHANNEL_PROPERTY else ""
                    result.note(
                        jid,
                        "condition_split",
                        "mapped",
                        f"trait segment {cond.field} {cond.op} {cond.value!r}{sent_by}",
                        nid,
                    )
                else:
                    result.note(
                        jid,
                        "condition_split",
                        "not_carried",
                        f"'{_condition(cond)}' has no Dittofeed trait operator: the split is left out and its "
                        "false branch "
                        "follows; build the segment in Dittofeed and add the split",
                        nid,
                    )
                    nodes.append(
                        {
                            "id": nid,
                            "type": "DelayNode",
                            "variant": {"type": "Second", "seconds": 0},
                            "child": to(node.on_false),
                        }
                    )
                    continue
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
            branches = list(node.branches)
            holdouts = [b for b in branches if b.holdout]
            if len(branches) == 2 and len(holdouts) == 1:
                hold = holdouts[0]
                treat = next(b for b in branches if not b.holdout)
                seg = resources.segment(
                    f"{jid} holdout",
                    {"type": "RandomBucket", "percent": hold.share / 100},
                    f"{hold.share:g}% random bucket, the holdout of {jid}",
                    jid,
                )
                nodes.append(
                    {
                        "id": nid,
                        "type": "SegmentSplitNode",
                        "name": node.name or nid,
                        "variant": {
                            "type": "Boolean",
                            "segment": seg,
                            "trueChild": to(hold.next),
                            "falseChild": to(treat.next),
                        },
                    }
                )
                result.note(
                    jid,
                    "holdout",
                    "mapped",
                    f"holdout {hold.share:g}%: a RandomBucket segment (hashed on the user id, so sticky per customer "
                    "and measurable as a segment)",
                    nid,
                )
            else:
                nodes.append(
                    {
                        "id": nid,
                        "type": "RandomCohortNode",
                        "children": [{"id": to(b.next), "percent": b.share, "name": b.name} for b in branches],
                    }
                )
                result.note(
                    jid,
                    "random_split",
                    "emulated",
                    ", ".join(f"{b.name} {b.share:g}%" for b in branches)
                    + " as a random cohort (drawn per run, not sticky per customer)",
                    nid,
                )
    result.note(
        jid,
        "contact_policy",
        "not_carried",
        "caps and spacing: Dittofeed's RateLimitNode is not implemented by its engine, so none is exported; "
        "enforce the "
        "policy through the simulated plan",
    )
    # Drop nodes nothing links to (a left-out split's own goal check, for example).
    definition = {"entryNode": entry, "exitNode": {"type": "ExitNode"}, "nodes": nodes}
    definition["nodes"] = _reachable(definition)
    return {
        "workspaceId": resources.workspace,
        "id": placeholder_id("journey", jid),
        "name": journey.name,
        "status": "NotStarted",
        "canRunMultiple": can_run_multiple,
        "definition": definition,
    }


def _reachable(definition: dict[str, Any]) -> list[dict[str, Any]]:
    by_id = {n["id"]: n for n in definition["nodes"]}
    seen: list[str] = []
    stack = [definition["entryNode"]["child"]]
    while stack:
        nid = stack.pop()
        if nid == EXIT or nid in seen or nid not in by_id:
            continue
        seen.append(nid)
        n = by_id[nid]
        variant = n.get("variant", {})
        stack += [
            c for c in (n.get("child"), n.get("timeoutChild"), variant.get("trueChild"), variant.get("falseChild")) if c
        ]
        stack += [c["id"] for c in n.get("children", []) + n.get("segmentChildren", [])]
    keep = set(seen)
    return [n for n in definition["nodes"] if n["id"] in keep]


@register("dittofeed")
def export_dittofeed(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.json``: the ``PUT /api/admin/journeys`` body; ``resources.json``: what the journeys reference."""
    result = ExportResult("dittofeed")
    idmap = (context.ids or {}).get("dittofeed")
    ids = Ids(idmap, placeholder_id)
    resources = _Resources(ids, result, workspace_id(idmap))
    renderer = tool_renderer(context.strategy, "dittofeed") if context.strategy is not None else None
    zone = DEFAULT_TIMEZONE
    costs = None
    if context.assigned is not None:
        if "timezone" in context.assigned.columns and context.assigned["timezone"].notna().any():
            zone = str(context.assigned["timezone"].mode().iloc[0])
        if context.strategy is not None:
            steps = [(n.template, n.variant, n.offer) for j in journeys for n in j.sends("sms")]
            costs = sms_step_cost(context.assigned, context.strategy, steps)
    for j in journeys:
        body = to_dittofeed(
            j,
            strategy=context.strategy,
            result=result,
            resources=resources,
            renderer=renderer,
            costs=costs,
            default_timezone=zone,
        )
        result.files[f"{j.id}.json"] = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    ids.check("dittofeed")
    locale_report(result, renderer, context.strategy, journeys)
    result.resources = resources.bodies
    result.needed = {k: v for k, v in ids.needed.items() if v}
    result.files["resources.json"] = json.dumps(resources.bodies, indent=2, ensure_ascii=False) + "\n"
    return result
