"""Companion files an execution tool needs besides the journey: audiences and the template bundle.

``audience``: ``<journey>.csv`` with the customer ids of the entry audience and
their consent state per channel (needs profiles with segments).
``templates``: rendered HTML, text and SMS per template and variant used by
the journeys, through ``workbench.messages.render_pair`` when the messages
package provides it; otherwise the report says the bundle is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..segments import membership
from .registry import ExportContext, ExportResult, register

__all__ = ["AUDIENCE_COLUMNS", "PREVIEW_CUSTOMER", "export_audience", "export_templates", "load_renderer"]

AUDIENCE_COLUMNS = ["customer_id", "email_consent", "sms_consent", "can_email", "can_sms"]

#: A stand-in customer for the template bundle when no profiles are given.
PREVIEW_CUSTOMER: dict[str, Any] = {
    "customer_id": "PREVIEW",
    "first_name": "Alex",
    "email": "alex@example.com",
    "phone": "+14155550100",
    "country": "US",
    "region": "CA",
    "timezone": "America/Los_Angeles",
    "loyalty_tier": "none",
    "last_viewed_product": "Trail Jacket",
    "orders_total": 1,
    "revenue_total": 120.0,
    "avg_order_value": 120.0,
    "days_since_last_order": 30,
    "preferred_channel": "email",
    "can_email": True,
    "can_sms": True,
    "email_consent": "subscribed",
    "sms_consent": "subscribed",
    "order_id": "PREVIEW-1",
    "order_amount": 120.0,
    "tracking_url": "https://example.com/track/PREVIEW-1",
    "last_order_at": "2026-10-01T12:00:00+00:00",
    "last_cart_at": "2026-10-30T18:00:00+00:00",
    "support_tickets_30d": 1,
    "created_at": "2025-10-01T12:00:00+00:00",
    "tenure_days": 395,
    "lifecycle_stage": "active",
    "rfm_segment": "loyal",
    "intent": "none",
}


def _members(assigned: Any, segment: str | None) -> Any:
    return assigned if segment is None else assigned[membership(assigned, segment)]


@register("audience")
def export_audience(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<journey>.csv`` per journey: entry-audience customer ids with consent per channel."""
    result = ExportResult("audience")
    for j in journeys:
        if context.assigned is None:
            result.note(
                j.id,
                "audience",
                "missing",
                "no profiles given: export with a dataset (workbench export --data ...) to write the audience",
            )
            continue
        members = _members(context.assigned, j.audience)
        cols = [c for c in AUDIENCE_COLUMNS if c in members.columns]
        frame = members[cols].sort_values("customer_id").reset_index(drop=True)
        result.files[f"{j.id}.csv"] = frame
        who = f"segment {j.audience!r}" if j.audience else "every customer (the trigger decides who enters)"
        result.note(
            j.id,
            "audience",
            "written",
            f"{len(frame)} customers of {who}; {int(frame['can_email'].sum()) if 'can_email' in frame else 0} "
            f"emailable, {int(frame['can_sms'].sum()) if 'can_sms' in frame else 0} SMS-able",
        )
    return result


def load_renderer() -> Any:
    """``workbench.messages.render_pair`` when the messages package provides it, else None."""
    try:
        from ..messages import render_pair
    except ImportError:
        try:
            from ..messages.render import render_pair
        except ImportError:
            return None
    return render_pair


def _customer(context: ExportContext, journey: Any, template: str) -> dict[str, Any]:
    """The first audience member (by id) with every variable the template needs, else the preview customer."""
    if context.assigned is not None:
        members = _members(context.assigned, journey.audience)
        manifest = (context.library or {}).get(template)
        needed = [c for c in getattr(manifest, "required_variables", []) if c in members.columns]
        if needed:
            members = members[members[needed].notna().all(axis=1)]
        if len(members):
            row = members.sort_values("customer_id").iloc[0].to_dict()
            return {**PREVIEW_CUSTOMER, **row}
    return dict(PREVIEW_CUSTOMER)


@register("templates")
def export_templates(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``<moment>/<variant>/email.html``, ``email.txt``, ``subject.txt`` and ``sms.txt`` per template used."""
    result = ExportResult("templates")
    render = load_renderer()
    if render is None:
        for j in journeys:
            result.note(
                j.id,
                "template_bundle",
                "missing",
                "workbench.messages.render_pair is not available: the template bundle is missing; "
                "export the templates target again once the messages package is installed",
            )
        return result
    if context.strategy is None:
        for j in journeys:
            result.note(j.id, "template_bundle", "missing", "no strategy given: brand facts are needed to render")
        return result
    from ..models.errors import TemplateError

    done: set[tuple[str, str]] = set()
    for j in journeys:
        for _channel, template, variant in j.templates():
            if (template, variant) in done:
                continue
            done.add((template, variant))
            customer = _customer(context, j, template)
            try:
                pair = render(template, customer, strategy=context.strategy, variant=variant)
            except TemplateError as exc:
                result.note(j.id, "template_bundle", "missing", f"{template}/{variant} could not be rendered: {exc}")
                continue
            base = f"{template}/{variant}"
            result.files[f"{base}/subject.txt"] = (getattr(pair, "subject", "") or "") + "\n"
            result.files[f"{base}/email.html"] = getattr(pair, "html", "") or ""
            result.files[f"{base}/email.txt"] = getattr(pair, "text", "") or ""
            sms = getattr(pair, "sms", None)
            if sms is not None:
                result.files[f"{base}/sms.txt"] = sms + "\n"
            result.note(
                j.id,
                "template_bundle",
                "written",
                f"{template}/{variant}: email{' and SMS' if sms is not None else ''} rendered for customer "
                f"{customer.get('customer_id')}",
            )
    return result
