"""Klaviyo flows: one ``POST /api/flows`` request body per journey (API revision 2026-07-15).

Mapping (validated against ``FlowCreateQuery`` of Klaviyo's OpenAPI document):

=====================  ==========================================================================
journey                Klaviyo
=====================  ==========================================================================
event trigger          ``metric`` trigger (metric id from the id map)
segment trigger        ``segment`` trigger
date trigger           ``date`` trigger on the profile property, then a time delay for the offset
audience               flow ``profile_filter``: member of the segment
goal                   flow ``profile_filter``: goal metric counted 0 times since the flow start
re-entry               ``reentry_criteria``
send email / SMS       ``send-email`` (subject, preview text, the template's email) / ``send-sms``
                       (the template's text in Klaviyo template tags), drafts
delay                  ``time-delay`` (value, unit, local time and weekdays in the profile's zone)
wait for event         emulated: ``time-delay`` for the timeout, then a ``conditional-split`` on
                       the event since the flow start
condition split        ``conditional-split`` (consent: ``profile-marketing-consent``; preferred
                       channel: the ``preferred_channel`` property the profile import sends)
random split           holdout: ``conditional-split`` on the customer's sticky ``holdout_bucket``,
                       the holdout tagged by ``update-profile``; two sends of one channel that
                       meet again: ``ab-test``; otherwise ``profile-sample`` splits
end                    a null link
=====================  ==========================================================================

Klaviyo flows are trees: a node reached from two places (a shared tail) is copied for each path,
up to :data:`MAX_ACTIONS` actions.

Ids of metrics, segments and templates come from the id map (``workbench ids`` writes it); without
one they are ``PLACEHOLDER-...`` and the report lists each as ``to_create``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..models.errors import ExportError, TemplateError
from .companions import (
    HOLDOUT_BUCKET_PROPERTY,
    PREFERRED_CHANNEL_PROPERTY,
    SEGMENTS_PROPERTY,
    content_locales,
    locale_report,
    localized_content,
    sms_step_cost,
    tool_renderer,
)
from .companions import holdout_range as _holdout_range
from .registry import ExportContext, ExportResult, Ids, register

__all__ = [
    "KLAVIYO_REVISION",
    "MAX_ACTIONS",
    "METRIC_NAMES",
    "export_klaviyo",
    "holdout_property",
    "segment_definition",
    "template_body",
    "template_name",
    "to_klaviyo",
]

KLAVIYO_REVISION = "2026-07-15"
#: Klaviyo metric names for workbench event names (custom events keep their own name).
METRIC_NAMES = {
    "order_placed": "Placed Order",
    "add_to_cart": "Added to Cart",
    "product_view": "Viewed Product",
    "checkout_started": "Started Checkout",
    "site_visit": "Active on Site",
    "email_opened": "Opened Email",
    "email_clicked": "Clicked Email",
    "sms_clicked": "Clicked SMS",
}
#: Most actions one exported flow may have after shared tails are copied into a tree.
MAX_ACTIONS = 150
_UNIT = {"minutes": ("minutes", 1), "hours": ("hours", 1), "days": ("days", 1), "weeks": ("days", 7)}
_PROFILE_FIELDS = ("email", "phone_number", "first_name", "last_name")


def template_name(moment: str, variant: str, offer: str | None = None) -> str:
    """The Klaviyo template name (and id-map key) of a moment's email in a variant with an offer."""
    return f"workbench {moment} {variant}" + (f" {offer}" if offer else "")


def holdout_property(journey_id: str) -> str:
    """The profile property that tags a journey's holdout profiles."""
    return f"wb_holdout_{journey_id}"


def template_body(content: Any) -> dict[str, Any]:
    """The ``POST /api/templates`` body of one email (CODE editor: the HTML and text in template tags)."""
    return {
        "data": {
            "type": "template",
            "attributes": {
                "name": template_name(content.moment, content.variant, content.offer),
                "editor_type": "CODE",
                "html": content.html,
                "text": content.text,
            },
        }
    }


def segment_definition(segment: str) -> dict[str, Any]:
    """The ``POST /api/segments`` body of a strategy segment: profiles whose ``wb_segments`` list has it.

    The workbench computes membership; the profile import sends it as the ``wb_segments`` list.
    """
    condition = {
        "type": "profile-property",
        "property": f"properties['{SEGMENTS_PROPERTY}']",
        "filter": {"type": "list", "operator": "contains", "value": segment},
    }
    return {
        "data": {
            "type": "segment",
            "attributes": {"name": segment, "definition": {"condition_groups": [{"conditions": [condition]}]}},
        }
    }


def _placeholder(kind: str, name: str) -> str:
    return f"PLACEHOLDER-{kind}-{name}".replace(" ", "_")


def _metric_since_start(metric_id: str, *, positive: bool) -> dict[str, Any]:
    return {
        "type": "profile-metric",
        "metric_id": metric_id,
        "measurement": "count",
        # A float: the schema's oneOf [integer, number] rejects an integer (it matches both).
        "measurement_filter": {"type": "numeric", "operator": "greater-than" if positive else "equals", "value": 0.0},
        "timeframe_filter": {"type": "date", "operator": "flow-start"},
    }


def _delay_data(duration: Any, until: Any) -> dict[str, Any]:
    if duration is not None:
        unit, factor = _UNIT[duration.unit]
        data: dict[str, Any] = {"unit": unit, "value": duration.value * factor}
    else:
        data = {"unit": "days", "value": 0}
    data["timezone"] = "profile"
    if until is not None:
        data["delay_until_time"] = f"{until.time}:00"
        data["delay_until_weekdays"] = list(until.days)
    return data


def _profile_condition(cond: Any) -> dict[str, Any] | None:
    prop = cond.field if cond.field in _PROFILE_FIELDS else f"properties['{cond.field}']"
    op, value = cond.op, cond.value
    if op in ("is_true", "is_false") or isinstance(value, bool):
        flag = (op == "is_true") or (op == "eq" and value is True) or (op == "ne" and value is False)
        return {
            "type": "profile-property",
            "property": prop,
            "filter": {"type": "boolean", "operator": "equals", "value": flag},
        }
    if op == "in" and isinstance(value, list):
        return {
            "type": "profile-property",
            "property": prop,
            "filter": {"type": "string", "operator": "in", "value": [str(v) for v in value]},
        }
    if isinstance(value, int | float):
        ops = {
            "eq": "equals",
            "ne": "not-equals",
            "gt": "greater-than",
            "ge": "greater-than-or-equal",
            "lt": "less-than",
            "le": "less-than-or-equal",
        }
        return {
            "type": "profile-property",
            "property": prop,
            "filter": {"type": "numeric", "operator": ops[op], "value": float(value)},
        }
    if op in ("eq", "ne"):
        return {
            "type": "profile-property",
            "property": prop,
            "filter": {
                "type": "string",
                "operator": "equals" if op == "eq" else "not-equals",
                "value": None if value is None else str(value),
            },
        }
    return None


def _filter(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"profile_filter": {"condition_groups": [{"conditions": list(conditions)}]}}


def _ab_test(node: Any, index: dict[str, Any]) -> list[Any] | None:
    """The sends of an A/B test: every branch a send of one channel, all going on to the same node."""
    if any(b.holdout for b in node.branches):
        return None
    found = [index.get(b.next) for b in node.branches]
    sends = [s for s in found if s is not None and s.type in ("send_email", "send_sms")]
    if len(sends) != len(found):
        return None
    if len({s.channel for s in sends}) != 1 or len({s.next for s in sends}) != 1:
        return None
    return sends


def _tree(actions: dict[str, dict[str, Any]], entry: str | None, journey: str) -> list[dict[str, Any]]:
    """Copy every action reached from more than one place, so the flow is a tree (Klaviyo's shape)."""
    out: list[dict[str, Any]] = []
    used: dict[str, int] = {}

    def visit(aid: str | None, path: tuple[str, ...]) -> str | None:
        if aid is None:
            return None
        if aid in path:
            msg = (
                f"journey {journey!r}: action {aid!r} loops back on itself. Fix: remove the cycle in the journey graph"
            )
            raise ExportError(msg)
        copy = used.get(aid, 0)
        used[aid] = copy + 1
        new_id = aid if copy == 0 else f"{aid}.copy{copy + 1}"
        action = json.loads(json.dumps(actions[aid]))
        action["temporary_id"] = new_id
        out.append(action)
        if len(out) > MAX_ACTIONS:
            shared = sorted(k for k, v in used.items() if v > 1)
            msg = (
                f"journey {journey!r} needs more than {MAX_ACTIONS} Klaviyo actions once the shared tails "
                f"({', '.join(shared[:5])}) are copied into a tree. Fix: shorten the steps after the splits, or "
                "split the journey into two flows"
            )
            raise ExportError(msg)
        links = action.get("links") or {}
        for key, target in list(links.items()):
            links[key] = visit(target, (*path, aid))
        for branch in (action.get("data") or {}).get("branches", []) or []:
            branch["links"]["next"] = visit(branch["links"].get("next"), (*path, aid))
        return new_id

    visit(entry, ())
    return out


def to_klaviyo(
    journey: Any,
    *,
    strategy: Any = None,
    result: ExportResult | None = None,
    ids: Ids | None = None,
    renderer: Any = None,
    costs: dict[Any, Any] | None = None,
) -> dict[str, Any]:
    """The ``POST /api/flows`` request body of one journey; mapping notes go to ``result``'s report.

    ``ids`` resolves metric, segment and template ids (default: placeholders); ``renderer`` writes the
    templates in Klaviyo's template tags (default: one for ``strategy``); ``costs`` maps
    ``(moment, variant, offer)`` to the SMS cost over the audience (see :func:`sms_step_cost`).
    """
    result = result or ExportResult("klaviyo")
    ids = ids or Ids(None, _placeholder)
    jid = journey.id
    index = journey.by_id()
    brand = getattr(strategy, "brand", None)
    if renderer is None and strategy is not None:
        renderer = tool_renderer(strategy, "klaviyo")
    announced: set[tuple[str, str]] = set()
    segments_noted: set[str] = set()
    if renderer is None:
        result.note(
            jid, "content", "not_carried", "no strategy given: messages have no content; export with the strategy"
        )

    def ref(kind: str, name: str, what: str) -> str:
        value = ids.get(kind, name, what)
        if value.startswith("PLACEHOLDER-") and (kind, name) not in announced:
            announced.add((kind, name))
            how = (
                "send the event once (or connect the integration) so Klaviyo creates the metric, then run "
                "`workbench ids`"
                if kind == "metrics"
                else "`workbench deploy --target klaviyo` creates it"
            )
            result.note(jid, kind, "to_create", f"{what} has no id yet ({value}): {how}")
        return value

    def metric(event: str) -> str:
        name = METRIC_NAMES.get(event, event)
        return ref("metrics", name, f"metric {name!r} (event {event})")

    def segment(name: str) -> str:
        if name not in segments_noted:
            segments_noted.add(name)
            result.note(
                jid,
                "segment_membership",
                "emulated",
                f"segment {name!r} is a Klaviyo segment on the {SEGMENTS_PROPERTY} list property: the workbench "
                "computes "
                "membership and the profile import sends it, so it is as fresh as the last import (re-import daily)",
            )
        return ref("segments", name, f"segment {name!r}")

    def link(target: str | None) -> str | None:
        if target is None or target not in index or index[target].type == "end":
            return None
        return target

    actions: dict[str, dict[str, Any]] = {}

    def add(aid: str, type_: str, links: dict[str, Any] | None, data: dict[str, Any]) -> None:
        action: dict[str, Any] = {"temporary_id": aid, "type": type_, "data": data}
        if links is not None:
            action["links"] = links
        actions[aid] = action

    t = journey.trigger
    entry = link(journey.entry)
    if t.type == "event":
        trigger: dict[str, Any] = {"type": "metric", "id": metric(t.event)}
        result.note(jid, "trigger", "mapped", f"metric trigger on {METRIC_NAMES.get(t.event, t.event)!r}")
    elif t.type == "segment":
        trigger = {"type": "segment", "id": segment(t.segment)}
        result.note(jid, "trigger", "mapped", f"segment trigger on {t.segment!r}")
    else:
        before = -t.offset_days if t.offset_days < 0 else 0
        trigger = {
            "type": "date",
            "date_field_type": "profile-property",
            "date_profile_property": t.property,
            "timedelta_unit_before_date": "days",
            "timedelta_value_before_date": before,
            "recurrence_frequency": "never",
            "timezone": "profile",
            "trigger_time": f"{t.at.time}:00",
            "trigger_days": list(t.at.days),
        }
        if t.offset_days > 0:
            add(
                "trigger_offset",
                "time-delay",
                {"next": entry},
                {"unit": "days", "value": t.offset_days, "timezone": "profile"},
            )
            entry = "trigger_offset"
            result.note(
                jid,
                "trigger",
                "emulated",
                f"date trigger on {t.property} followed by a {t.offset_days}-day delay (Klaviyo date triggers "
                "count days before the date, not after); the profile import sends the date property",
            )
        else:
            result.note(jid, "trigger", "mapped", f"date trigger {before} days before {t.property}")

    groups: list[dict[str, Any]] = []
    if journey.audience and not (t.type == "segment" and t.segment == journey.audience):
        groups.append(
            {
                "conditions": [
                    {"type": "profile-group-membership", "is_member": True, "group_ids": [segment(journey.audience)]}
                ]
            }
        )
        result.note(jid, "audience", "mapped", f"flow filter: member of segment {journey.audience!r}")
    if journey.goal is not None:
        groups.append({"conditions": [_metric_since_start(metric(journey.goal.event), positive=False)]})
        result.note(
            jid,
            "goal",
            "mapped",
            f"flow filter: {journey.goal.event} zero times since starting the flow (checked before every step)",
        )
        if journey.goal.within is not None:
            result.note(
                jid,
                "goal.within",
                "not_carried",
                f"attribution window {journey.goal.within}: set it in Klaviyo's attribution settings",
            )

    tracking_for = {
        ch: [
            {"param": k, "value": v.replace("{channel}", ch)}
            for k, v in (brand.tracking_params.items() if brand is not None else [])
        ]
        for ch in ("email", "sms")
    }

    def send_action(node: Any) -> dict[str, Any]:
        """The send action of a send node (content in Klaviyo template tags, the journey's own offer)."""
        nid = node.id
        tracking = [
            {
                "param": p["param"],
                "value": p["value"].replace("{moment}", node.template).replace("{variant}", node.variant),
            }
            for p in tracking_for[node.channel]
        ]
        content = None
        if renderer is not None:
            try:
                content = localized_content(
                    renderer, node.template, node.variant, node.offer, content_locales(strategy)
                )
            except TemplateError as exc:
                result.note(jid, "content", "not_carried", f"no content: {exc}", nid)
        if node.type == "send_email":
            message: dict[str, Any] = {
                "name": node.name or nid,
                "template_id": ref(
                    "templates",
                    template_name(node.template, node.variant, node.offer),
                    f"email template {node.template}/{node.variant}"
                    + (f" with offer {node.offer}" if node.offer else ""),
                ),
                "smart_sending_enabled": node.smart_sending,
                "transactional": node.transactional,
                "add_tracking_params": bool(tracking),
            }
            if content is not None:
                message["subject_line"] = content.subject
                message["preview_text"] = content.preheader
            if brand is not None:
                message.update(
                    {
                        k: v
                        for k, v in (
                            ("from_email", brand.from_email),
                            ("from_label", brand.from_name),
                            ("reply_to_email", brand.reply_to),
                        )
                        if v
                    }
                )
            detail = f"email {node.template}/{node.variant}: subject {message.get('subject_line')!r}"
        else:
            message = {
                "body": content.sms if content is not None and content.sms else "",
                "smart_sending_enabled": node.smart_sending,
                "sms_quiet_hours_enabled": node.quiet_hours,
                "transactional": node.transactional,
                "add_org_prefix": False,
                "add_opt_out_language": False,
                "shorten_links": True,
                "add_tracking_params": bool(tracking),
            }
            cost = (costs or {}).get((node.template, node.variant, node.offer or ""))
            detail = f"SMS {node.template}/{node.variant}: {message['body']!r}"
            if cost is not None:
                detail += (
                    f"; {cost.segments_per_1000:g} segments per 1,000 sends over {cost.customers} customers "
                    f"({cost.one_segment_share:.0%} fit one segment)"
                )
        if tracking:
            message["custom_tracking_params"] = tracking
        offer = f", offer {node.offer}" if node.offer else ", no offer"
        result.note(
            jid,
            node.type,
            "mapped",
            detail
            + offer
            + f", draft, smart sending {'on' if node.smart_sending else 'off'}"
            + (f", quiet hours {'on' if node.quiet_hours else 'off'}" if node.type == "send_sms" else ""),
            nid,
        )
        return {"temporary_id": nid, "type": f"send-{node.channel}", "data": {"status": "draft", "message": message}}

    in_ab: set[str] = set()
    for node in journey.nodes:
        if node.type == "random_split" and _ab_test(node, index):
            in_ab.update(b.next for b in node.branches)

    for node in journey.nodes:
        nid = node.id
        if node.type in ("send_email", "send_sms"):
            if nid in in_ab:
                continue
            action = send_action(node)
            add(nid, action["type"], {"next": link(node.next)}, action["data"])
        elif node.type == "delay":
            add(nid, "time-delay", {"next": link(node.next)}, _delay_data(node.duration, node.until))
            result.note(
                jid,
                "delay",
                "mapped",
                "time-delay in the profile's time zone (location.timezone from the profile import)",
                nid,
            )
        elif node.type == "wait_for_event":
            check = f"{nid}__check"
            add(nid, "time-delay", {"next": check}, _delay_data(node.timeout, None))
            add(
                check,
                "conditional-split",
                {"next_if_true": link(node.on_event), "next_if_false": link(node.on_timeout)},
                _filter(_metric_since_start(metric(node.event), positive=True)),
            )
            result.note(
                jid,
                "wait_for_event",
                "emulated",
                f"Klaviyo has no wait-for-event: waits the full {node.timeout}, then splits on {node.event} since the "
                "flow start (the flow filter also exits converters at once)",
                nid,
            )
        elif node.type == "condition_split":
            cond = node.condition
            true_next, false_next = link(node.on_true), link(node.on_false)
            condition: dict[str, Any] | None  # None: the profile condition has no Klaviyo filter
            if cond.kind == "consent":
                status = {
                    "channel": cond.channel,
                    "can_receive_marketing": True,
                    "consent_status": {"subscription": "subscribed"},
                }
                condition = {"type": "profile-marketing-consent", "consent": status}
                result.note(
                    jid, "consent_guard", "mapped", f"profile-marketing-consent ({cond.channel} subscribed)", nid
                )
            elif cond.kind == "segment":
                condition = {
                    "type": "profile-group-membership",
                    "is_member": True,
                    "group_ids": [segment(cond.segment)],
                }
                result.note(jid, "condition_split", "mapped", f"member of segment {cond.segment!r}", nid)
            elif cond.kind == "engagement":
                sent = index.get(cond.node)
                channel = getattr(sent, "channel", "email")
                event = "sms_clicked" if channel == "sms" else f"email_{cond.action}"
                condition = _metric_since_start(metric(event), positive=True)
                how = f"{METRIC_NAMES[event]} since the flow start (any message of the flow, not only {cond.node!r})"
                if channel == "sms" and cond.action == "opened":
                    how = "SMS opens are not tracked: " + how
                result.note(jid, "engagement", "emulated", how, nid)
            else:
                condition = _profile_condition(cond)
                if condition is None:
                    result.note(
                        jid,
                        "condition_split",
                        "not_carried",
                        f"profile condition {cond.field} {cond.op} {cond.value!r} has no Klaviyo filter: "
                        "everyone would "
                        "take the false branch, so the split is left out and the false branch follows; rebuild "
                        "it in the flow builder",
                        nid,
                    )
                    add(nid, "time-delay", {"next": false_next}, {"unit": "minutes", "value": 0, "timezone": "profile"})
                    continue
                sent_by = (
                    f" (the profile import sends {PREFERRED_CHANNEL_PROPERTY})"
                    if cond.field == PREFERRED_CHANNEL_PROPERTY
                    else ""
                )
                result.note(
                    jid,
                    "condition_split",
                    "mapped",
                    f"profile property {cond.field} {cond.op} {cond.value!r}{sent_by}",
                    nid,
                )
            add(nid, "conditional-split", {"next_if_true": true_next, "next_if_false": false_next}, _filter(condition))
        elif node.type == "random_split":
            branches = list(node.branches)
            holdouts = [b for b in branches if b.holdout]
            ab = _ab_test(node, index)
            if len(branches) == 2 and len(holdouts) == 1:
                hold = holdouts[0]
                treat = next(b for b in branches if not b.holdout)
                lo, hi = _holdout_range(jid, hold.share)
                prop = f"properties['{HOLDOUT_BUCKET_PROPERTY}']"
                in_range = [
                    {
                        "type": "profile-property",
                        "property": prop,
                        "filter": {"type": "numeric", "operator": "greater-than-or-equal", "value": float(lo)},
                    },
                    {
                        "type": "profile-property",
                        "property": prop,
                        "filter": {"type": "numeric", "operator": "less-than", "value": float(hi)},
                    },
                ]
                tag = f"{nid}__tag_holdout"
                add(
                    nid,
                    "conditional-split",
                    {"next_if_true": tag, "next_if_false": link(treat.next)},
                    _filter(*in_range),
                )
                add(
                    tag,
                    "update-profile",
                    {"next": link(hold.next)},
                    {
                        "status": "draft",
                        "profile_operations": [
                            {
                                "operator": "update",
                                "property_type": "boolean",
                                "property_key": holdout_property(jid),
                                "property_value": True,
                            }
                        ],
                    },
                )
                result.note(
                    jid,
                    "holdout",
                    "mapped",
                    f"holdout {hold.share:g}%: profiles whose {HOLDOUT_BUCKET_PROPERTY} (sent by the profile "
                    "import) is in "
                    f"[{lo}, {hi}) of 0-999, sticky per customer; tagged {holdout_property(jid)}=true to measure them",
                    nid,
                )
            elif ab is not None:
                first, *others = ab
                main = send_action(first)
                variations = [send_action(s) for s in others]
                allocations = {s.id: b.share for s, b in zip(ab, branches, strict=True)}
                add(
                    nid,
                    "ab-test",
                    {"next": link(first.next)},
                    {
                        "status": "draft",
                        "main_action": main,
                        "current_experiment": {
                            "name": node.name or nid,
                            "variations": variations,
                            "allocations": allocations,
                            "winner_metric": "unique-placed-orders",
                        },
                    },
                )
                result.note(
                    jid,
                    "random_split",
                    "mapped",
                    "A/B test action: " + ", ".join(f"{b.name} {b.share:g}%" for b in branches),
                    nid,
                )
            else:
                remaining = 100.0
                for k, branch in enumerate(branches[:-1]):
                    sid = nid if k == 0 else f"{nid}__{k}"
                    pct = round(100 * branch.share / remaining) if remaining > 0 else 0
                    following = f"{nid}__{k + 1}" if k + 1 < len(branches) - 1 else link(branches[-1].next)
                    add(
                        sid,
                        "conditional-split",
                        {"next_if_true": link(branch.next), "next_if_false": following},
                        _filter({"type": "profile-sample", "percentage": pct}),
                    )
                    remaining -= branch.share
                result.note(
                    jid,
                    "random_split",
                    "emulated",
                    ", ".join(f"{b.name} {b.share:g}%" for b in branches)
                    + " as random-sample splits (drawn at each entry, not sticky per customer; "
                    "shares rounded to whole percent)",
                    nid,
                )
    for node in journey.nodes:
        if node.id in in_ab and node.type != "random_split":
            result.note(
                jid, node.type, "mapped", f"variation of the A/B test ({node.template}/{node.variant})", node.id
            )

    tree = _tree(actions, entry, jid)
    if len(tree) > len(actions):
        result.note(
            jid,
            "shared_tail",
            "emulated",
            f"{len(tree) - len(actions)} steps reached from several branches are copied once per branch "
            f"({len(tree)} actions): Klaviyo flows are trees; edit every copy alike",
        )
    result.note(
        jid,
        "contact_policy",
        "emulated",
        "caps and spacing of the contact policy: Klaviyo applies its own smart-sending window (set it in the account "
        "to the policy's spacing); the simulated send plan shows the difference",
    )
    if journey.reentry.mode == "never":
        reentry = {"duration": 1, "unit": "alltime"}
    elif journey.reentry.mode == "always":
        reentry = {"duration": 0, "unit": "alltime"}
    else:
        after = journey.reentry.after
        unit, value = {
            "minutes": ("hour", max(1, round(after.value / 60))),
            "hours": ("hour", after.value),
            "days": ("day", after.value),
            "weeks": ("week", after.value),
        }[after.unit]
        reentry = {"duration": value, "unit": unit}
    result.note(jid, "reentry", "mapped", f"re-entry: {journey.reentry}")
    definition: dict[str, Any] = {
        "triggers": [trigger],
        "entry_action_id": tree[0]["temporary_id"] if tree else None,
        "reentry_criteria": reentry,
        "actions": tree,
    }
    if groups:
        definition["profile_filter"] = {"condition_groups": groups}
    return {"data": {"type": "flow", "attributes": {"name": journey.name, "definition": definition}}}


@register("klaviyo")
def export_klaviyo(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.json``: the body of ``POST https://a.klaviyo.com/api/flows`` (header ``revision: 2026-07-15``).

    ``templates.json`` holds the ``POST /api/templates`` body of every email and ``segments.json`` the
    ``POST /api/segments`` body of every segment the flows reference (what ``workbench deploy`` creates).
    """
    result = ExportResult("klaviyo")
    idmap = (context.ids or {}).get("klaviyo")
    ids = Ids(idmap, _placeholder)
    renderer = tool_renderer(context.strategy, "klaviyo") if context.strategy is not None else None
    costs = None
    if context.assigned is not None and context.strategy is not None:
        steps = [(n.template, n.variant, n.offer) for j in journeys for n in j.sends("sms")]
        costs = sms_step_cost(context.assigned, context.strategy, steps)
    templates: dict[str, Any] = {}
    for j in journeys:
        body = to_klaviyo(j, strategy=context.strategy, result=result, ids=ids, renderer=renderer, costs=costs)
        result.files[f"{j.id}.json"] = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
        if renderer is not None:
            for node in j.sends("email"):
                name = template_name(node.template, node.variant, node.offer)
                if name not in templates:
                    try:
                        templates[name] = template_body(
                            localized_content(
                                renderer, node.template, node.variant, node.offer, content_locales(context.strategy)
                            )
                        )
                    except TemplateError:
                        continue  # reported on the send node
    ids.check("klaviyo")
    locale_report(result, renderer, context.strategy, journeys)
    segments = {name: segment_definition(name) for name in sorted(ids.needed["segments"])}
    result.resources = {"templates": templates, "segments": segments}
    result.needed = {k: v for k, v in ids.needed.items() if v}
    if templates:
        result.files["templates.json"] = json.dumps(templates, indent=2, ensure_ascii=False) + "\n"
    if segments:
        result.files["segments.json"] = json.dumps(segments, indent=2, ensure_ascii=False) + "\n"
    return result
