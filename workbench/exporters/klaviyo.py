"""Klaviyo flows: one ``POST /api/flows`` request body per journey (API revision 2026-07-15).

Mapping (validated against ``FlowCreateQuery`` of Klaviyo's OpenAPI document):

=====================  ==========================================================================
journey                Klaviyo
=====================  ==========================================================================
event trigger          ``metric`` trigger (metric id to look up)
segment trigger        ``segment`` trigger
date trigger           ``date`` trigger on the profile property, then a time delay for the offset
audience               flow ``profile_filter``: member of the segment
goal                   flow ``profile_filter``: goal metric counted 0 times since the flow start
re-entry               ``reentry_criteria``
send email / SMS       ``send-email`` / ``send-sms`` (draft, smart sending, SMS quiet hours)
delay                  ``time-delay`` (value, unit, local time and weekdays in the profile's zone)
wait for event         emulated: ``time-delay`` for the timeout, then a ``conditional-split`` on
                       the event since the flow start
condition split        ``conditional-split`` (consent: ``profile-marketing-consent``)
random split           ``conditional-split`` on ``profile-sample`` (chained for more branches)
end                    a null link
=====================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .registry import ExportContext, ExportResult, register

__all__ = ["KLAVIYO_REVISION", "METRIC_NAMES", "export_klaviyo", "to_klaviyo"]

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
_UNIT = {"minutes": ("minutes", 1), "hours": ("hours", 1), "days": ("days", 1), "weeks": ("days", 7)}


class _Ids:
    """Placeholder ids, collected for the report."""

    def __init__(self, result: ExportResult, journey: str) -> None:
        self.result, self.journey, self.seen = result, journey, set()

    def get(self, kind: str, name: str, what: str) -> str:
        pid = f"PLACEHOLDER-{kind}-{name}".replace(" ", "_")
        if pid not in self.seen:
            self.seen.add(pid)
            self.result.note(self.journey, kind, "to_create", f"{what}; replace {pid} with its Klaviyo id")
        return pid

    def metric(self, event: str) -> str:
        name = METRIC_NAMES.get(event, event)
        return self.get("metric", name, f"metric {name!r} (event {event})")

    def segment(self, name: str) -> str:
        return self.get("segment", name, f"segment {name!r} (see the strategy's segment rule)")


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
    prop = (
        cond.field
        if cond.field in ("email", "phone_number", "first_name", "last_name")
        else f"properties['{cond.field}']"
    )
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


def to_klaviyo(journey: Any, *, strategy: Any = None, result: ExportResult | None = None) -> dict[str, Any]:
    """The ``POST /api/flows`` request body of one journey; mapping notes go to ``result``'s report."""
    result = result or ExportResult("klaviyo")
    jid = journey.id
    ids = _Ids(result, jid)
    index = journey.by_id()
    brand = getattr(strategy, "brand", None)

    def link(target: str | None) -> str | None:
        if target is None or target not in index or index[target].type == "end":
            return None
        return target

    actions: list[dict[str, Any]] = []
    t = journey.trigger
    entry = link(journey.entry)
    if t.type == "event":
        trigger: dict[str, Any] = {"type": "metric", "id": ids.metric(t.event)}
        result.note(jid, "trigger", "mapped", f"metric trigger on {METRIC_NAMES.get(t.event, t.event)!r}")
    elif t.type == "segment":
        trigger = {"type": "segment", "id": ids.segment(t.segment)}
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
            actions.append(
                {
                    "temporary_id": "trigger_offset",
                    "type": "time-delay",
                    "links": {"next": entry},
                    "data": {"unit": "days", "value": t.offset_days, "timezone": "profile"},
                }
            )
            entry = "trigger_offset"
            result.note(
                jid,
                "trigger",
                "emulated",
                f"date trigger on {t.property} followed by a {t.offset_days}-day delay "
                "(Klaviyo date triggers count days before the date, not after)",
            )
        else:
            result.note(jid, "trigger", "mapped", f"date trigger {before} days before {t.property}")
        if len(t.at.days) < 7:
            result.note(jid, "trigger.days", "mapped", f"trigger days {', '.join(t.at.days)}")

    groups: list[dict[str, Any]] = []
    if journey.audience and not (t.type == "segment" and t.segment == journey.audience):
        groups.append(
            {
                "conditions": [
                    {
                        "type": "profile-group-membership",
                        "is_member": True,
                        "group_ids": [ids.segment(journey.audience)],
                    }
                ]
            }
        )
        result.note(jid, "audience", "mapped", f"flow filter: member of segment {journey.audience!r}")
    if journey.goal is not None:
        groups.append({"conditions": [_metric_since_start(ids.metric(journey.goal.event), positive=False)]})
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

    for node in journey.nodes:
        nid = node.id
        if node.type in ("send_email", "send_sms"):
            tpl = ids.get(
                "template",
                f"{node.template}-{node.variant}-{node.channel}",
                f"{node.channel} template {node.template} variant {node.variant} (from the template bundle)",
            )
            tracking = [
                {
                    "param": k,
                    "value": v.replace("{channel}", node.channel)
                    .replace("{moment}", node.template)
                    .replace("{variant}", node.variant),
                }
                for k, v in (brand.tracking_params.items() if brand is not None else [])
            ]
            if node.type == "send_email":
                message: dict[str, Any] = {
                    "name": node.name or nid,
                    "template_id": tpl,
                    "smart_sending_enabled": node.smart_sending,
                    "transactional": node.transactional,
                    "add_tracking_params": bool(tracking),
                }
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
            else:
                brand_name = brand.name if brand is not None else "Brand"
                message = {
                    "body": f"{brand_name}: [{node.template} {node.variant}] text from the template bundle",
                    "template_id": tpl,
                    "smart_sending_enabled": node.smart_sending,
                    "sms_quiet_hours_enabled": node.quiet_hours,
                    "transactional": node.transactional,
                    "add_org_prefix": False,
                    "shorten_links": True,
                    "add_tracking_params": bool(tracking),
                }
                result.note(
                    jid,
                    "sms.body",
                    "to_create",
                    "SMS body is a placeholder: paste the rendered text of the template bundle",
                    nid,
                )
            if tracking:
                message["custom_tracking_params"] = tracking
            actions.append(
                {
                    "temporary_id": nid,
                    "type": f"send-{node.channel}",
                    "links": {"next": link(node.next)},
                    "data": {"status": "draft", "message": message},
                }
            )
            result.note(
                jid,
                node.type,
                "mapped",
                f"{node.channel} {node.template}/{node.variant}, draft, smart sending "
                f"{'on' if node.smart_sending else 'off'}"
                + (f", quiet hours {'on' if node.quiet_hours else 'off'}" if node.type == "send_sms" else ""),
                nid,
            )
            if node.offer:
                result.note(jid, "offer", "emulated", f"offer {node.offer!r} lives in the template content", nid)
        elif node.type == "delay":
            actions.append(
                {
                    "temporary_id": nid,
                    "type": "time-delay",
                    "links": {"next": link(node.next)},
                    "data": _delay_data(node.duration, node.until),
                }
            )
            result.note(jid, "delay", "mapped", "time-delay in the profile's time zone", nid)
        elif node.type == "wait_for_event":
            check = f"{nid}__check"
            actions.append(
                {
                    "temporary_id": nid,
                    "type": "time-delay",
                    "links": {"next": check},
                    "data": _delay_data(node.timeout, None),
                }
            )
            actions.append(
                {
                    "temporary_id": check,
                    "type": "conditional-split",
                    "links": {"next_if_true": link(node.on_event), "next_if_false": link(node.on_timeout)},
                    "data": {
                        "profile_filter": {
                            "condition_groups": [
                                {"conditions": [_metric_since_start(ids.metric(node.event), positive=True)]}
                            ]
                        }
                    },
                }
            )
            result.note(
                jid,
                "wait_for_event",
                "emulated",
                f"Klaviyo has no wait-for-event: waits the full {node.timeout}, then splits on "
                f"{node.event} since the flow start (the flow filter also exits converters at once)",
                nid,
            )
        elif node.type == "condition_split":
            cond = node.condition
            if cond.kind == "consent":
                status = {
                    "channel": cond.channel,
                    "can_receive_marketing": True,
                    "consent_status": {"subscription": "subscribed"},
                }
                condition: dict[str, Any] | None = {"type": "profile-marketing-consent", "consent": status}
                result.note(
                    jid, "consent_guard", "mapped", f"profile-marketing-consent ({cond.channel} subscribed)", nid
                )
            elif cond.kind == "segment":
                condition = {
                    "type": "profile-group-membership",
                    "is_member": True,
                    "group_ids": [ids.segment(cond.segment)],
                }
                result.note(jid, "condition_split", "mapped", f"member of segment {cond.segment!r}", nid)
            elif cond.kind == "engagement":
                sent = index.get(cond.node)
                channel = getattr(sent, "channel", "email")
                event = "sms_clicked" if channel == "sms" else f"email_{cond.action}"
                if channel == "sms" and cond.action == "opened":
                    # the event is already sms_clicked: SMS opens are not tracked
                    result.note(jid, "engagement", "emulated", "SMS opens are not tracked: uses SMS clicks", nid)
                condition = _metric_since_start(ids.metric(event), positive=True)
                result.note(
                    jid,
                    "engagement",
                    "emulated",
                    f"{METRIC_NAMES[event]} since the flow start (any message of the flow, not only {cond.node!r})",
                    nid,
                )
            else:
                condition = _profile_condition(cond)
                if condition is None:
                    result.note(
                        jid,
                        "condition_split",
                        "not_carried",
                        f"profile condition {cond.field} {cond.op} {cond.value!r} has no Klaviyo filter; "
                        "everyone takes the false branch: replace it in the flow builder",
                        nid,
                    )
                else:
                    result.note(jid, "condition_split", "mapped", f"profile property {cond.field} {cond.op}", nid)
            data = {"profile_filter": {"condition_groups": [{"conditions": [condition]}] if condition else []}}
            actions.append(
                {
                    "temporary_id": nid,
                    "type": "conditional-split",
                    "links": {"next_if_true": link(node.on_true), "next_if_false": link(node.on_false)},
                    "data": data,
                }
            )
        elif node.type == "random_split":
            remaining = 100.0
            branches = list(node.branches)
            for k, branch in enumerate(branches[:-1]):
                sid = nid if k == 0 else f"{nid}__{k}"
                pct = round(100 * branch.share / remaining) if remaining > 0 else 0
                if abs(100 * branch.share / remaining - pct) > 1e-9 if remaining > 0 else False:
                    result.note(
                        jid,
                        "random_split",
                        "emulated",
                        f"branch {branch.name!r} share rounded to {pct}% of the remaining customers",
                        nid,
                    )
                following = f"{nid}__{k + 1}" if k + 1 < len(branches) - 1 else link(branches[-1].next)
                actions.append(
                    {
                        "temporary_id": sid,
                        "type": "conditional-split",
                        "links": {"next_if_true": link(branch.next), "next_if_false": following},
                        "data": {
                            "profile_filter": {
                                "condition_groups": [{"conditions": [{"type": "profile-sample", "percentage": pct}]}]
                            }
                        },
                    }
                )
                remaining -= branch.share
            shares = ", ".join(f"{b.name} {b.share:g}%" for b in branches)
            result.note(jid, "random_split", "emulated", f"{shares} as random-sample conditional splits", nid)
            if any(b.holdout for b in branches):
                result.note(
                    jid,
                    "holdout",
                    "emulated",
                    "holdout branch ends without messages; Klaviyo does not tag holdout profiles: "
                    "measure them with the split's profile list",
                    nid,
                )
    result.note(
        jid,
        "contact_policy",
        "emulated",
        "caps and spacing of the contact policy: Klaviyo applies its own smart-sending window (set it in "
        "the account to the policy's spacing); the simulated send plan shows the difference",
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
        if after.unit == "minutes":
            result.note(jid, "reentry", "emulated", f"re-entry after {after} rounded to {value} hour(s)")
    result.note(jid, "reentry", "mapped", f"re-entry: {journey.reentry}")
    definition: dict[str, Any] = {
        "triggers": [trigger],
        "entry_action_id": entry,
        "reentry_criteria": reentry,
        "actions": actions,
    }
    if groups:
        definition["profile_filter"] = {"condition_groups": groups}
    return {"data": {"type": "flow", "attributes": {"name": journey.name, "definition": definition}}}


@register("klaviyo")
def export_klaviyo(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.json``: the body of ``POST https://a.klaviyo.com/api/flows`` (header ``revision: 2026-07-15``)."""
    import json

    result = ExportResult("klaviyo")
    for j in journeys:
        body = to_klaviyo(j, strategy=context.strategy, result=result)
        result.files[f"{j.id}.json"] = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return result
