"""Companion files an execution tool needs besides the journey: audiences and the template bundle.

``audience``: ``<journey>.csv`` with the customer ids of the entry audience and
their consent state per channel (needs profiles with segments).
``templates``: rendered HTML, text and SMS per template and variant used by
the journeys, through ``workbench.messages.render_pair`` when the messages
package provides it; otherwise the report says the bundle is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ..locales import canonical_locale
from ..messages import formatting
from ..messages.lint import sms_cost
from ..messages.render import Renderer, get_renderer, render_pair
from ..models.errors import TemplateError
from ..models.strategy import Strategy
from ..segments import membership
from .registry import ExportContext, ExportResult, register

__all__ = [
    "AMOUNT_PROPERTIES",
    "AUDIENCE_COLUMNS",
    "DATE_STYLES",
    "DISPLAY_SUFFIX",
    "FORMATTING_MECHANISM",
    "PREVIEW_CUSTOMER",
    "content_locales",
    "dittofeed_batches",
    "export_audience",
    "export_templates",
    "holdout_bucket",
    "holdout_range",
    "klaviyo_import_bodies",
    "load_renderer",
    "locale_report",
    "localized_content",
    "profile_properties",
    "tool_content",
    "tool_renderer",
]

AUDIENCE_COLUMNS = ["customer_id", "email_consent", "sms_consent", "can_email", "can_sms"]

#: Profile properties the exported journeys branch on, sent to the tools by the profile-import files.
PREFERRED_CHANNEL_PROPERTY = "preferred_channel"
TIMEZONE_PROPERTY = "timezone"
HOLDOUT_BUCKET_PROPERTY = "holdout_bucket"
LIFECYCLE_PROPERTY = "lifecycle_stage"
SEGMENTS_PROPERTY = "wb_segments"
#: The customer's locale (BCP 47), on which localized content branches.
LOCALE_PROPERTY = "locale"
#: Date properties a date-triggered journey waits on.
DATE_PROPERTIES = ("created_at", "last_order_at")
#: Amounts sent pre-formatted per customer (``<column>_display``): in the customer's currency, written as
#: the customer's locale writes it (``1 234,50 $`` in fr-CA, ``£1,234.50`` in en-GB), so a tool's template
#: shows the customer's own formatting without formatting numbers itself.
AMOUNT_PROPERTIES = ("revenue_total", "revenue_365d", "avg_order_value", "monetary_value")
DISPLAY_SUFFIX = "_display"
#: Dates sent pre-formatted per customer (``<column>_<style>``), in the customer's time zone and locale.
DATE_STYLES = ("medium", "long")
#: What the export reports say about amounts and dates in the tools' content.
FORMATTING_MECHANISM = (
    "amounts and dates come pre-formatted per customer in profile properties (<amount>_display in the "
    "customer's currency and locale, e.g. revenue_total_display; <date>_medium and <date>_long in the "
    "customer's time zone and locale), written by the profile import with Babel, because neither tool "
    "formats a currency per recipient's locale"
)
#: Holdout buckets run 0..HOLDOUT_BUCKETS-1 (per mille): a 7.5% holdout is 75 buckets.
HOLDOUT_BUCKETS = 1000


def holdout_bucket(customer_id: object) -> int:
    """The customer's sticky holdout bucket, 0-999, from a hash of the id (same in every run and tool)."""
    import hashlib

    digest = hashlib.sha256(f"workbench-holdout:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_BUCKETS


def holdout_range(journey_id: str, share: float) -> tuple[int, int]:
    """Buckets ``[lo, hi)`` held out of ``journey_id`` for a ``share`` percent holdout.

    Each journey takes its own window of buckets (offset by a hash of its id), so a customer held out of
    one journey is not held out of every journey.
    """
    import hashlib

    width = round(share * HOLDOUT_BUCKETS / 100)
    span = HOLDOUT_BUCKETS - width + 1
    offset = int.from_bytes(hashlib.sha256(journey_id.encode()).digest()[:8], "big") % span
    return offset, offset + width


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
    """The function that renders a paired message (``workbench.messages.render_pair``)."""
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
    if context.strategy is None:
        for j in journeys:
            result.note(j.id, "template_bundle", "missing", "no strategy given: brand facts are needed to render")
        return result
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


# ---------------------------------------------------------------- content in each tool's merge language


@dataclass(frozen=True)
class MergeSyntax:
    """How a tool writes a profile field, a fallback and its own links in a message."""

    name: str
    first_name: str  # template of the greeting name; {fallback} is filled in
    field: str  # template of any other profile field; {name} is filled in
    unsubscribe: str
    preferences: str
    locale_if: str = ""  # opens a branch on the locale property; {tests} is filled in
    locale_elif: str = ""
    locale_else: str = ""
    locale_end: str = ""
    locale_test: str = ""  # one equality test; {tag} is filled in
    locale_join: str = " or "
    locale_mechanism: str = ""


#: Klaviyo template tags (Django style): built-in first_name with a default, custom properties through
#: ``person|lookup``, and Klaviyo's own unsubscribe and preference links.
KLAVIYO_SYNTAX = MergeSyntax(
    name="klaviyo",
    first_name="{{{{ first_name|default:'{fallback}' }}}}",
    field="{{{{ person|lookup:'{name}'|default:'' }}}}",
    unsubscribe="{% unsubscribe_link %}",
    preferences="{% manage_preferences_link %}",
    locale_if="{{% if {tests} %}}",
    locale_elif="{{% elif {tests} %}}",
    locale_else="{% else %}",
    locale_end="{% endif %}",
    locale_test="person|lookup:'locale' == '{tag}'",
    locale_mechanism="conditional blocks ({% if person|lookup:'locale' == ... %}) on the profile property locale",
)
#: Dittofeed Liquid: user properties under ``user``, its own unsubscribe and subscription-management URLs.
DITTOFEED_SYNTAX = MergeSyntax(
    name="dittofeed",
    first_name="{{{{ user.firstName | default: '{fallback}' }}}}",
    field="{{{{ user.{name} | default: '' }}}}",
    unsubscribe="{% unsubscribe_url %}",
    preferences="{% subscription_management_url %}",
    locale_if="{{% case user.locale %}}{{% when {tests} %}}",
    locale_elif="{{% when {tests} %}}",
    locale_else="{% else %}",
    locale_end="{% endcase %}",
    locale_test="'{tag}'",
    locale_join=", ",
    locale_mechanism="Liquid {% case user.locale %} blocks on the user property locale",
)
SYNTAXES = {"klaviyo": KLAVIYO_SYNTAX, "dittofeed": DITTOFEED_SYNTAX}
#: The last tool renderer built per target, with its strategy (templates compile once per strategy).
_TOOL_RENDERERS: dict[str, tuple[Strategy, _ToolRenderer]] = {}


class _Field(Markup):
    """A profile field written as a merge tag; comparisons with numbers are false (decided at send time)."""

    field_name: str = ""

    def __new__(cls, text: object = "", name: str = "", *args: Any) -> _Field:
        obj = super().__new__(cls, text)
        obj.field_name = name
        return obj

    def _cmp(self, other: object) -> bool:
        return False if not isinstance(other, str) else NotImplemented

    __lt__ = __le__ = __gt__ = __ge__ = _cmp


class _MergeCustomer(dict[str, Any]):
    """A customer whose every field is its merge tag."""

    def __init__(self, syntax: MergeSyntax) -> None:
        super().__init__()
        self.syntax = syntax

    def __missing__(self, key: str) -> _Field:
        return _Field(self.syntax.field.format(name=key), key)


@dataclass(frozen=True)
class ToolContent:
    """One template's email and SMS written in a tool's merge language, with one journey's offer."""

    moment: str
    variant: str
    offer: str | None
    subject: str
    preheader: str
    html: str
    text: str
    sms: str | None
    merge_fields: tuple[str, ...]
    locales: tuple[str, ...] = ()


class _ToolRenderer(Renderer):
    """A renderer whose customer is :class:`_MergeCustomer` of ``target``'s merge syntax (see :func:`tool_renderer`).

    ``merge_fields`` collects the profile fields the last render wrote as merge tags; ``contents`` keeps
    the :class:`ToolContent` made so far, by (moment, variant, offer, locale).
    """

    def __init__(self, strategy: Strategy, target: str) -> None:
        self.target = target
        self.syntax = SYNTAXES[target]
        self.merge_fields: set[str] = set()
        self.contents: dict[tuple[str, str, str, str], ToolContent] = {}
        super().__init__(strategy, inline_css=False)

    def context(self, moment: str, customer: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs.pop("clean", None)
        tag = customer.get("locale") if hasattr(customer, "get") else None
        ctx = super().context(moment, {"locale": tag} if tag else {}, **kwargs)
        ctx["customer"] = _MergeCustomer(self.syntax)
        ctx["unsubscribe_link"] = Markup(self.syntax.unsubscribe)
        ctx["preferences_link"] = Markup(self.syntax.preferences)
        return ctx


def tool_renderer(strategy: Strategy, target: str) -> _ToolRenderer:
    """A renderer of the template library that writes customer fields as ``target``'s merge tags.

    Conditions on a customer's values that only the tool can decide at send time (loyalty tier,
    order count) take their neutral branch: those blocks are left out of the tool's copy.
    """
    hit = _TOOL_RENDERERS.get(target)
    if hit is not None and hit[0] is strategy:
        return hit[1]
    renderer = _ToolRenderer(strategy, target)
    syntax = renderer.syntax
    fields = renderer.merge_fields

    def _name(value: object, fallback: str = "there") -> Markup:
        fields.add("first_name")
        return Markup(syntax.first_name.format(fallback=fallback))

    def _date(value: object, style: str = "medium") -> Markup:
        name = getattr(value, "field_name", "") or "date"
        prop = f"{name}_{style if style in DATE_STYLES else 'medium'}"
        fields.add(prop)
        return Markup(syntax.field.format(name=prop))

    def _money(value: object, currency: str | None = None) -> Markup:
        name = getattr(value, "field_name", "")
        if not name:
            return Markup(str(value))
        fields.add(name + DISPLAY_SUFFIX)
        return Markup(syntax.field.format(name=name + DISPLAY_SUFFIX))

    renderer.env.filters.update(first_name=_name, local_date=_date, money=_money)
    _TOOL_RENDERERS[target] = (strategy, renderer)
    return renderer


def tool_content(
    renderer: _ToolRenderer, moment: str, variant: str, offer: str | None, locale: str | None = None
) -> ToolContent:
    """The email and SMS of ``moment``/``variant`` with ``offer`` (None: no offer) in the renderer's tool syntax,
    in the translation a customer of ``locale`` gets (default: the brand's locale)."""
    key = (moment, variant, offer or "", locale or "")
    if key in renderer.contents:
        return renderer.contents[key]
    renderer.merge_fields.clear()
    pair = renderer.render_pair(moment, {"locale": locale} if locale else {}, variant=variant, promotion=offer or "")
    content = ToolContent(
        moment=moment,
        variant=variant,
        offer=offer,
        subject=pair.subject,
        preheader=pair.preheader,
        html=pair.html,
        text=pair.text,
        sms=pair.sms,
        merge_fields=tuple(sorted(renderer.merge_fields)),
    )
    renderer.contents[key] = content
    return content


def content_locales(strategy: Any) -> tuple[str, ...]:
    """The locales an export writes content for: the strategy's ``brand.locales`` other than its default."""
    if strategy is None:
        return ()
    default = canonical_locale(strategy.brand.locale)
    tags = (canonical_locale(t) for t in strategy.brand.locales)
    return tuple(dict.fromkeys(t for t in tags if t and t != default))


def locale_report(result: ExportResult, renderer: Any, strategy: Any, journeys: Sequence[Any]) -> None:
    """Say in the export report how the target carries the locales, and which moments stay in one language."""
    if renderer is not None:
        result.note("*", "formatting", "mapped", FORMATTING_MECHANISM[0].upper() + FORMATTING_MECHANISM[1:])
    locales = content_locales(strategy)
    if renderer is None or not locales:
        return
    syntax = SYNTAXES.get(getattr(renderer, "target", ""), KLAVIYO_SYNTAX)
    moments = sorted({n.template for j in journeys for n in j.nodes if n.type in ("send_email", "send_sms")})
    default = strategy.brand.locale
    for moment in moments:
        try:
            manifest = renderer.manifest(moment)
            variant = manifest.variants[0]
            content = localized_content(renderer, moment, variant, manifest.default_offer, locales)
            untranslated = [t for t in locales if renderer.resolve(moment, variant, t).fallback]
        except TemplateError:
            continue
        same = [t for t in locales if t not in content.locales and t not in untranslated]
        tail = "".join(
            f"; {', '.join(group)} {what} {default}"
            for group, what in ((same, "share the content of"), (untranslated, "have no translation and get"))
            if group
        )
        if content.locales:
            detail = f"{moment}: {', '.join(content.locales)} carried by {syntax.locale_mechanism}, else {default}"
            result.note("*", "locales", "mapped", detail + tail)
        else:
            result.note("*", "locales", "not_carried", f"{moment}: one version for every locale{tail}")


def localized_content(
    renderer: Any, moment: str, variant: str, offer: str | None, locales: Sequence[str] = ()
) -> ToolContent:
    """:func:`tool_content` for every locale of ``locales`` in one message: the tool picks the branch of the
    customer's ``locale`` property at send time (Klaviyo: ``{% if %}`` blocks; Dittofeed: ``{% case %}``).

    Locales that get the same content share a branch; the brand's default locale (and every locale
    without a translation) is the ``else`` branch. Without other locales, the default content as it is.
    """
    syntax = SYNTAXES.get(getattr(renderer, "target", ""), KLAVIYO_SYNTAX)
    default = tool_content(renderer, moment, variant, offer)
    branches: dict[tuple[Any, ...], list[str]] = {}
    contents: dict[tuple[Any, ...], ToolContent] = {}
    for tag in locales:
        content = tool_content(renderer, moment, variant, offer, tag)
        key = (content.subject, content.preheader, content.html, content.text, content.sms)
        if key == (default.subject, default.preheader, default.html, default.text, default.sms):
            continue
        branches.setdefault(key, []).append(tag)
        contents[key] = content
    if not branches:
        return default

    def join(part: str) -> str | None:
        values = [getattr(contents[k], part) for k in branches]
        base = getattr(default, part)
        if base is None and all(v is None for v in values):
            return None
        out = []
        for i, (key, tags) in enumerate(branches.items()):
            tests = syntax.locale_join.join(syntax.locale_test.format(tag=t) for t in tags)
            opener = syntax.locale_if if i == 0 else syntax.locale_elif
            out.append(opener.format(tests=tests) + (getattr(contents[key], part) or ""))
        return "".join(out) + syntax.locale_else + (base or "") + syntax.locale_end

    fields = set(default.merge_fields)
    for content in contents.values():
        fields.update(content.merge_fields)
    return ToolContent(
        moment=moment,
        variant=variant,
        offer=offer,
        subject=join("subject") or "",
        preheader=join("preheader") or "",
        html=join("html") or "",
        text=join("text") or "",
        sms=join("sms"),
        merge_fields=tuple(sorted(fields)),
        locales=tuple(t for tags in branches.values() for t in tags),
    )


#: Customers the SMS cost of an export is computed over (a seeded sample when there are more).
COST_SAMPLE = 200
_LAST_COST: list[Any] = []


def sms_step_cost(
    assigned: Any, strategy: Any, steps: Sequence[tuple[str, str, str | None]], *, seed: int = 0
) -> dict[Any, Any]:
    """Segments per 1,000 sends of each ``(moment, variant, offer)`` over the customers of ``assigned``.

    Over a seeded sample of :data:`COST_SAMPLE` customers when there are more; keyed by
    ``(moment, variant, offer or "")``.
    """
    unique = list(dict.fromkeys((m, v, o or "") for m, v, o in steps))
    key = (id(assigned), id(strategy), tuple(unique), seed)
    if _LAST_COST and _LAST_COST[0] == key and _LAST_COST[1] is assigned:
        same: dict[Any, Any] = _LAST_COST[2]  # the same audience and steps as the other tool's export
        return same
    sample = assigned.sample(n=COST_SAMPLE, random_state=seed) if len(assigned) > COST_SAMPLE else assigned
    table = sms_cost(sample, renderer=get_renderer(strategy), steps=unique, by_locale=False)
    costs = {(r.moment, r.variant, r.offer or ""): r for r in table.itertuples()}
    _LAST_COST[:] = [key, assigned, costs]
    return costs


# ---------------------------------------------------------------- profile imports (audiences for the tools)

#: Profiles per Klaviyo bulk import job (its documented maximum is 10,000) and per Dittofeed batch.
KLAVIYO_IMPORT_SIZE = 10_000
DITTOFEED_BATCH_SIZE = 500
_BUILTIN_SEGMENT_COLUMNS = ("lifecycle_stage", "rfm_segment", "intent", "channel_reach")
_LAST_PROPS: list[Any] = []


def profile_properties(assigned: Any) -> list[dict[str, Any]]:
    """Per customer: the properties the exported journeys branch on, as plain data.

    Keys: ``customer_id``, ``email``, ``phone``, ``first_name``, ``timezone``, ``preferred_channel``,
    ``holdout_bucket`` (sticky, 0-999), ``lifecycle_stage``, ``wb_segments`` (the segments the customer
    is in: rule segments and the built-in lifecycle, RFM, intent and reach values) and the dates
    date-triggered journeys wait on.
    """
    if _LAST_PROPS and _LAST_PROPS[0] is assigned:
        same: list[dict[str, Any]] = _LAST_PROPS[1]  # the other tool's profile import of the same audience
        return same
    import numpy as np
    import pandas as pd

    rule_cols = [c for c in assigned.columns if c.startswith("segment_")]
    n = len(assigned)
    segments: list[list[str]] = [[] for _ in range(n)]
    for col in rule_cols:
        for row in np.flatnonzero(assigned[col].fillna(False).to_numpy(dtype=bool)):
            segments[row].append(col[len("segment_") :])
    for col in _BUILTIN_SEGMENT_COLUMNS:
        if col in assigned.columns:
            for i, value in enumerate(assigned[col].to_numpy(dtype=object, na_value=None)):
                if isinstance(value, str):
                    segments[i].append(value)

    def text(col: str) -> list[Any]:
        if col not in assigned.columns:
            return [None] * n
        return [v if isinstance(v, str) else None for v in assigned[col].to_numpy(dtype=object, na_value=None)]

    def dates(col: str) -> list[Any]:
        if col not in assigned.columns:
            return [None] * n
        values = pd.to_datetime(assigned[col], utc=True, errors="coerce")
        iso = values.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return [v if isinstance(v, str) else None for v in iso.to_numpy(dtype=object, na_value=None)]

    ids = [str(v) for v in assigned["customer_id"].to_numpy(dtype=object)]
    formatted = _formatted_properties(assigned)
    columns = {
        "email": text("email"),
        "phone": text("phone"),
        "first_name": text("first_name"),
        TIMEZONE_PROPERTY: text("timezone"),
        PREFERRED_CHANNEL_PROPERTY: text("preferred_channel"),
        LIFECYCLE_PROPERTY: text("lifecycle_stage"),
        LOCALE_PROPERTY: text("locale"),
        **{col: dates(col) for col in DATE_PROPERTIES},
        **formatted,
    }
    out = []
    for i, cid in enumerate(ids):
        item = {"customer_id": cid, **{k: v[i] for k, v in columns.items()}}
        item[HOLDOUT_BUCKET_PROPERTY] = holdout_bucket(cid)
        item[SEGMENTS_PROPERTY] = sorted(set(segments[i]))
        out.append(item)
    _LAST_PROPS[:] = [assigned, out]
    return out


def _formatted_properties(assigned: Any) -> dict[str, list[Any]]:
    """Per customer, the amounts and dates templates show, formatted in the customer's locale, currency and zone."""
    import pandas as pd

    n = len(assigned)

    def column(name: str) -> list[Any]:
        if name not in assigned.columns:
            return [None] * n
        return list(assigned[name].to_numpy(dtype=object, na_value=None))

    locales = column("locale")
    currencies = column("currency")
    zones = column("timezone")
    out: dict[str, list[Any]] = {}
    for col in AMOUNT_PROPERTIES:
        if col not in assigned.columns:
            continue
        amounts = pd.to_numeric(assigned[col], errors="coerce").to_numpy(dtype=float)
        out[col + DISPLAY_SUFFIX] = [
            formatting.money(a, c, locale=loc, gsm=True) or None if c else None
            for a, c, loc in zip(amounts, currencies, locales, strict=True)
        ]
    for col in DATE_PROPERTIES:
        if col not in assigned.columns:
            continue
        values = column(col)
        for style in DATE_STYLES:
            out[f"{col}_{style}"] = [
                formatting.local_date(v, z or "UTC", style, locale=loc, gsm=True) or None if v is not None else None
                for v, z, loc in zip(values, zones, locales, strict=True)
            ]
    return out


def _formatted_names(p: dict[str, Any]) -> list[str]:
    return [k for k in p if k.endswith(DISPLAY_SUFFIX) or any(k.endswith(f"_{s}") for s in DATE_STYLES)]


def klaviyo_import_bodies(assigned: Any) -> list[dict[str, Any]]:
    """``POST /api/profile-bulk-import-jobs`` bodies (at most 10,000 profiles each) with the journeys' properties.

    The time zone goes to ``location.timezone`` (what time delays "in the profile's time zone" read);
    the rest to custom ``properties``.
    """
    profiles = []
    for p in profile_properties(assigned):
        attributes: dict[str, Any] = {"external_id": p["customer_id"]}
        if p["email"]:
            attributes["email"] = p["email"]
        if p["phone"]:
            attributes["phone_number"] = p["phone"]
        if p["first_name"]:
            attributes["first_name"] = p["first_name"]
        if p[TIMEZONE_PROPERTY]:
            attributes["location"] = {"timezone": p[TIMEZONE_PROPERTY]}
        attributes["properties"] = {
            k: p[k]
            for k in (
                PREFERRED_CHANNEL_PROPERTY,
                HOLDOUT_BUCKET_PROPERTY,
                LIFECYCLE_PROPERTY,
                LOCALE_PROPERTY,
                SEGMENTS_PROPERTY,
                *DATE_PROPERTIES,
                *_formatted_names(p),
            )
            if p[k] is not None
        }
        profiles.append({"type": "profile", "attributes": attributes})
    return [
        {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {"profiles": {"data": profiles[i : i + KLAVIYO_IMPORT_SIZE]}},
            }
        }
        for i in range(0, len(profiles), KLAVIYO_IMPORT_SIZE)
    ]


def dittofeed_batches(assigned: Any) -> list[dict[str, Any]]:
    """``POST /api/public/apps/batch`` bodies: one ``identify`` per customer with the journeys' traits.

    Traits: ``email``, ``phone``, ``firstName``, ``timezone`` (what LocalTime delays read),
    ``preferred_channel``, ``holdout_bucket``, ``lifecycle_stage``, the dates, and ``wb_segments`` as an
    object of ``"true"`` per segment (what the exported trait segments test). ``messageId`` is derived
    from the customer and the traits, so a retried batch is not applied twice.
    """
    import hashlib
    import uuid

    items = []
    for p in profile_properties(assigned):
        traits: dict[str, Any] = {
            "email": p["email"],
            "phone": p["phone"],
            "firstName": p["first_name"],
            TIMEZONE_PROPERTY: p[TIMEZONE_PROPERTY],
            PREFERRED_CHANNEL_PROPERTY: p[PREFERRED_CHANNEL_PROPERTY],
            HOLDOUT_BUCKET_PROPERTY: p[HOLDOUT_BUCKET_PROPERTY],
            LIFECYCLE_PROPERTY: p[LIFECYCLE_PROPERTY],
            LOCALE_PROPERTY: p[LOCALE_PROPERTY],
            SEGMENTS_PROPERTY: {s: "true" for s in p[SEGMENTS_PROPERTY]},
            **{k: p[k] for k in DATE_PROPERTIES},
            **{k: p[k] for k in _formatted_names(p)},
        }
        traits = {k: v for k, v in traits.items() if v is not None}
        digest = hashlib.sha256(repr(sorted(traits.items())).encode()).hexdigest()
        message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"workbench:{p['customer_id']}:{digest}"))
        items.append({"type": "identify", "userId": p["customer_id"], "messageId": message_id, "traits": traits})
    return [{"batch": items[i : i + DITTOFEED_BATCH_SIZE]} for i in range(0, len(items), DITTOFEED_BATCH_SIZE)]


def _profile_export(target: str, context: ExportContext, journeys: Sequence[Any]) -> ExportResult:
    import json

    result = ExportResult(f"{target}_profiles")
    if context.assigned is None:
        for j in journeys:
            result.note(j.id, "profiles", "missing", "no profiles given: pass a dataset to write the profile import")
        return result
    bodies = klaviyo_import_bodies(context.assigned) if target == "klaviyo" else dittofeed_batches(context.assigned)
    for k, body in enumerate(bodies, start=1):
        result.files[f"import_{k:04d}.json"] = json.dumps(body, ensure_ascii=False) + "\n"
    where = "POST /api/profile-bulk-import-jobs" if target == "klaviyo" else "POST /api/public/apps/batch"
    result.note(
        "*",
        "profiles",
        "written",
        f"{len(context.assigned)} customers in {len(bodies)} request bodies for {where}: preferred channel, time zone, "
        "holdout bucket, lifecycle stage, locale, segments and dates, the properties the journeys and their "
        "localized content branch on; " + FORMATTING_MECHANISM,
    )
    return result


@register("klaviyo_profiles")
def export_klaviyo_profiles(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``import_NNNN.json``: Klaviyo profile bulk-import bodies with the properties the flows read."""
    return _profile_export("klaviyo", context, journeys)


@register("dittofeed_profiles")
def export_dittofeed_profiles(journeys: Sequence[Any], context: ExportContext) -> ExportResult:
    """``import_NNNN.json``: Dittofeed batch identify bodies with the traits the journeys read."""
    return _profile_export("dittofeed", context, journeys)
