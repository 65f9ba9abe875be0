"""Blueprints: one function per moment that turns parameters into a journey of paired steps.

Every step pairs the email of a moment (depth: context, guides, reviews) with
at most one SMS (one action, time-sensitive), each with one objective. The SMS
always sits behind an SMS-consent guard; by default it is skipped when the
customer already clicked the email. Parameters (all optional, each blueprint
has its own defaults) are the fields of :class:`BlueprintParams`:

``first_delay``
    Wait after the trigger before the first touch; for abandonment moments the
    wait ends early (and the customer leaves) if they buy.
``sms_delay``
    Wait between the two messages of a pair.
``step_gap``
    Wait between paired steps.
``channel_order``
    ``email_first``, ``sms_first``, or ``preference`` (route on the profile's
    ``preferred_channel``).
``holdout_percent``
    Share of entrants kept as a never-messaged holdout (0 for none), placed
    before the first marketing (non-transactional) step.
``offer``
    Offer code carried by the steps that make an offer.
``send_time``
    Release marketing touches at this local time on these days.

Examples
--------
>>> from workbench.journeys import cart_abandonment
>>> j = cart_abandonment(first_delay="2h", holdout_percent=5, offer="FREESHIP")
>>> sorted(n.id for n in j.sends())
['step1_email', 'step1_sms', 'step2_email', 'step2_sms']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models.errors import JourneyError
from ..models.journey import (
    BlueprintParams,
    DateTrigger,
    Duration,
    EventTrigger,
    Goal,
    Journey,
    LocalTime,
    ReEntry,
    SegmentTrigger,
)

__all__ = [
    "BLUEPRINTS",
    "BlueprintParams",
    "activation",
    "blueprint",
    "browse_abandonment",
    "cart_abandonment",
    "post_purchase",
    "proactive_support",
    "replenishment",
    "welcome",
    "win_back",
]


@dataclass(frozen=True)
class _Step:
    template: str
    objective: str
    sms_objective: str
    transactional: bool = False
    offer: bool = False
    gap: Duration | None = None  # wait before this step (default: step_gap)


@dataclass(frozen=True)
class _Blueprint:
    moment: str
    name: str
    description: str
    trigger: Any
    steps: tuple[_Step, ...]
    goal: Goal | None = field(default_factory=Goal)
    audience: str | None = None
    wait_for_goal: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)


_BASE = {
    "first_delay": None,
    "sms_delay": Duration(value=1, unit="days"),
    "step_gap": Duration(value=3, unit="days"),
    "channel_order": "email_first",
    "sms": True,
    "skip_sms_if_clicked": True,
    "holdout_percent": 10.0,
    "offer": None,
    "send_time": None,
    "variant": "A",
    "offset_days": 0,
    "reentry": ReEntry(),
    "audience": None,
    "name": None,
}


def _d(text: str) -> Duration:
    return Duration.model_validate(text)


_BLUEPRINTS: dict[str, _Blueprint] = {
    "welcome": _Blueprint(
        "welcome",
        "Welcome",
        "Welcome new customers, set expectations and give the welcome offer.",
        SegmentTrigger(segment="new_customers"),
        (
            _Step(
                "welcome",
                "Welcome, show what the brand stands for and the best first guides",
                "Say hi and give the welcome code",
                offer=True,
            ),
        ),
        defaults={"sms_delay": _d("1d")},
    ),
    "activation": _Blueprint(
        "activation",
        "Activation",
        "Turn a sign-up without an order into a first purchase.",
        DateTrigger(property="created_at", offset_days=7),
        (_Step("activation", "Show the best-sellers and how to choose", "One link to the best-sellers"),),
        audience="prospect",
        defaults={"offset_days": 7, "send_time": LocalTime(time="10:00")},
    ),
    "post_purchase": _Blueprint(
        "post_purchase",
        "Post-purchase",
        "Confirm the order, keep the customer informed, then ask for a review.",
        EventTrigger(event="order_placed", provides=["order_id", "order_amount", "tracking_url"]),
        (
            _Step(
                "post_purchase_confirmation",
                "Confirm the order and what happens next",
                "Order confirmed, one link to track it",
                transactional=True,
            ),
            _Step(
                "shipping_update",
                "Shipping details and care guides",
                "Parcel on its way: track it",
                transactional=True,
                gap=_d("2d"),
            ),
            _Step(
                "review_request",
                "Ask for a review with photos of the product",
                "One tap to rate the product",
                gap=_d("12d"),
            ),
        ),
        goal=None,
        defaults={"sms_delay": _d("1h"), "reentry": ReEntry(mode="always"), "skip_sms_if_clicked": True},
    ),
    "browse_abandonment": _Blueprint(
        "browse_abandonment",
        "Browse abandonment",
        "Bring a browser back to the product they viewed.",
        EventTrigger(event="product_view"),
        (
            _Step(
                "browse_abandonment",
                "Show the viewed product with reviews and similar items",
                "One link back to the product",
            ),
        ),
        audience="browse_abandoners",
        wait_for_goal=True,
        defaults={"first_delay": _d("2h"), "sms_delay": _d("20h"), "reentry": ReEntry(mode="after", after=_d("7d"))},
    ),
    "cart_abandonment": _Blueprint(
        "cart_abandonment",
        "Cart abandonment",
        "Recover an abandoned cart: reminder, then an offer.",
        EventTrigger(event="add_to_cart"),
        (
            _Step(
                "cart_abandonment", "Remind of the cart with product details and reviews", "One link back to the cart"
            ),
            _Step(
                "cart_abandonment",
                "Last reminder with the offer",
                "Offer ends soon: one link to check out",
                offer=True,
                gap=_d("1d"),
            ),
        ),
        wait_for_goal=True,
        defaults={"first_delay": _d("1h"), "sms_delay": _d("3h"), "reentry": ReEntry(mode="after", after=_d("3d"))},
    ),
    "replenishment": _Blueprint(
        "replenishment",
        "Replenishment",
        "Remind to reorder when the last order should be running out.",
        DateTrigger(property="last_order_at", offset_days=30),
        (_Step("replenishment", "Time to restock: the last order, usage tips", "One link to reorder"),),
        defaults={"offset_days": 30, "reentry": ReEntry(mode="always"), "send_time": LocalTime(time="10:00")},
    ),
    "proactive_support": _Blueprint(
        "proactive_support",
        "Proactive support",
        "Follow up a support ticket with help before it becomes churn.",
        EventTrigger(event="support_ticket"),
        (
            _Step(
                "proactive_support",
                "Guides that solve the issue and how to reach a person",
                "Is it solved? One link to get help",
            ),
        ),
        goal=None,
        audience="support_followup",
        defaults={"first_delay": _d("1d"), "holdout_percent": 0.0, "reentry": ReEntry(mode="after", after=_d("30d"))},
    ),
    "win_back": _Blueprint(
        "win_back",
        "Win-back",
        "Win back valuable customers going quiet: what is new, then an offer.",
        SegmentTrigger(segment="at_risk_valuable"),
        (
            _Step("win_back", "What is new since the last order, picked for them", "One link to the new arrivals"),
            _Step("win_back", "A come-back offer", "Offer for a limited time: one link", offer=True, gap=_d("7d")),
        ),
        defaults={
            "sms_delay": _d("2d"),
            "send_time": LocalTime(time="10:00", days=["tuesday", "wednesday", "thursday"]),
            "reentry": ReEntry(mode="after", after=_d("90d")),
        },
    ),
}


class _Graph:
    """Collects node dicts; ids are stable for given parameters."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []

    def add(self, **node: Any) -> str:
        self.nodes.append(node)
        node_id: str = node["id"]
        return node_id


def _pair(g: _Graph, step: _Step, k: int, p: Mapping[str, Any], after: str, suffix: str = "") -> str:
    """Add the paired messages of one step ending at ``after``; return the first node id."""
    base = f"step{k}"
    variant = p["variant"]
    offer = p["offer"] if step.offer else None
    common = {"template": step.template, "variant": variant, "offer": offer, "transactional": step.transactional}
    email_id, sms_id = f"{base}_email{suffix}", f"{base}_sms{suffix}"
    email = {
        "id": email_id,
        "type": "send_email",
        "name": f"{step.template} email",
        "objective": step.objective,
        **common,
    }
    if not p["sms"]:
        g.add(**email, next=after)
        return email_id
    sms = {"id": sms_id, "type": "send_sms", "name": f"{step.template} SMS", "objective": step.sms_objective, **common}
    guard = f"{base}_sms_consent{suffix}"
    wait = f"{base}_wait{suffix}"
    clicked = f"{base}_clicked{suffix}"

    def wait_then(first: str, label: str, then: str) -> None:
        """Wait after ``first``; go on to ``then``, or (by default) leave at ``after`` if ``first`` was clicked."""
        g.add(
            id=wait,
            type="delay",
            name=f"Wait {p['sms_delay']}",
            duration=p["sms_delay"],
            next=clicked if p["skip_sms_if_clicked"] else then,
        )
        if p["skip_sms_if_clicked"]:
            g.add(
                id=clicked,
                type="condition_split",
                name=f"Clicked the {label}?",
                condition={"kind": "engagement", "node": first, "action": "clicked"},
                on_true=after,
                on_false=then,
            )

    if p["channel_order"] == "sms_first":
        g.add(
            id=guard,
            type="condition_split",
            name="Can receive SMS?",
            condition={"kind": "consent", "channel": "sms"},
            on_true=sms_id,
            on_false=email_id,
        )
        g.add(**sms, next=wait)
        wait_then(sms_id, "SMS", email_id)
        g.add(**email, next=after)
        return guard
    g.add(**email, next=wait)
    wait_then(email_id, "email", guard)
    g.add(
        id=guard,
        type="condition_split",
        name="Can receive SMS?",
        condition={"kind": "consent", "channel": "sms"},
        on_true=sms_id,
        on_false=after,
    )
    g.add(**sms, next=after)
    return email_id


def _build(bp: _Blueprint, params: BlueprintParams, journey_id: str | None) -> Journey:
    p: dict[str, Any] = {**_BASE, **bp.defaults}
    p.update({k: v for k, v in params if v is not None})  # the fields given, as they are (models stay models)
    g = _Graph()
    end = "end"
    # Build backwards: each step's first node is the "after" of the previous one.
    first_marketing = next((i for i, s in enumerate(bp.steps) if not s.transactional), None)
    after = end
    for k in range(len(bp.steps), 0, -1):
        step = bp.steps[k - 1]
        if p["channel_order"] == "preference" and p["sms"]:
            email_path = _pair(g, step, k, {**p, "channel_order": "email_first"}, after)
            sms_path = _pair(g, step, k, {**p, "channel_order": "sms_first"}, after, suffix="_smsfirst")
            head = g.add(
                id=f"step{k}_route",
                type="condition_split",
                name="Prefers SMS?",
                condition={"kind": "profile", "field": "preferred_channel", "op": "eq", "value": "sms"},
                on_true=sms_path,
                on_false=email_path,
            )
        else:
            head = _pair(g, step, k, p, after)
        if first_marketing == k - 1 and p["holdout_percent"] > 0:
            share = float(p["holdout_percent"])
            g.add(
                id="holdout_split",
                type="random_split",
                name=f"Holdout {share:g}%",
                branches=[
                    {"name": "treatment", "share": 100.0 - share, "next": head},
                    {"name": "holdout", "share": share, "next": "end_holdout", "holdout": True},
                ],
            )
            g.add(id="end_holdout", type="end", name="Holdout (not messaged)")
            head = "holdout_split"
        gap = (step.gap or p["step_gap"]) if k > 1 else None
        until = None if step.transactional else p["send_time"]
        if gap is not None or until is not None:
            label = " then ".join(x for x in (f"Wait {gap}" if gap else "", f"until {until}" if until else "") if x)
            head = g.add(id=f"step{k}_delay", type="delay", name=label, duration=gap, until=until, next=head)
        after = head
    if p["first_delay"] is not None:
        if bp.wait_for_goal and bp.goal is not None:
            after = g.add(
                id="wait_goal",
                type="wait_for_event",
                name=f"Bought within {p['first_delay']}?",
                event=bp.goal.event,
                timeout=p["first_delay"],
                on_event="end_converted",
                on_timeout=after,
            )
            g.add(id="end_converted", type="end", name="Converted before the first touch")
        else:
            after = g.add(
                id="first_delay", type="delay", name=f"Wait {p['first_delay']}", duration=p["first_delay"], next=after
            )
    g.add(id=end, type="end", name="End")
    trigger = bp.trigger
    if isinstance(trigger, DateTrigger):
        trigger = trigger.model_copy(update={"offset_days": p["offset_days"]})
    journey = Journey.model_validate(
        {
            "id": journey_id or bp.moment,
            "name": p["name"] or bp.name,
            "moment": bp.moment,
            "description": bp.description,
            "trigger": trigger,
            "audience": p["audience"] or bp.audience,
            "reentry": p["reentry"],
            "goal": bp.goal,
            "entry": after,
            "nodes": g.nodes,
        }
    )
    # List nodes in the order a reader follows them (breadth first from the entry), ends last.
    ordered = sorted(journey.walk(), key=lambda n: n.type == "end")  # stable: walk order within each group
    return journey.model_copy(update={"nodes": ordered})


def _make(moment: str) -> Callable[..., Journey]:
    bp = _BLUEPRINTS[moment]

    def build(
        params: BlueprintParams | Mapping[str, Any] | None = None, /, *, journey_id: str | None = None, **overrides: Any
    ) -> Journey:
        merged = dict(params.model_dump(exclude_none=True) if isinstance(params, BlueprintParams) else (params or {}))
        merged.update(overrides)
        return _build(bp, BlueprintParams.model_validate(merged), journey_id)

    build.__name__ = build.__qualname__ = moment
    build.__doc__ = (
        f"{bp.description}\n\n"
        f"Trigger: {bp.trigger.type}; steps: {', '.join(s.template for s in bp.steps)}.\n\n"
        "Parameters\n----------\nparams\n    A :class:`BlueprintParams` or a mapping of its fields.\n"
        "journey_id\n    Id of the journey (default: the moment).\n**overrides\n    Fields of "
        ':class:`BlueprintParams`, e.g. ``first_delay="2h"``, ``holdout_percent=5``.\n\n'
        "Returns\n-------\nJourney\n"
    )
    return build


welcome = _make("welcome")
activation = _make("activation")
post_purchase = _make("post_purchase")
browse_abandonment = _make("browse_abandonment")
cart_abandonment = _make("cart_abandonment")
replenishment = _make("replenishment")
proactive_support = _make("proactive_support")
win_back = _make("win_back")

#: Blueprint functions by name.
BLUEPRINTS: dict[str, Callable[..., Journey]] = {
    "welcome": welcome,
    "activation": activation,
    "post_purchase": post_purchase,
    "browse_abandonment": browse_abandonment,
    "cart_abandonment": cart_abandonment,
    "replenishment": replenishment,
    "proactive_support": proactive_support,
    "win_back": win_back,
}


def blueprint(name: str, params: BlueprintParams | Mapping[str, Any] | None = None, /, **overrides: Any) -> Journey:
    """Build the journey of blueprint ``name`` (a key of :data:`BLUEPRINTS`)."""
    if name not in BLUEPRINTS:
        msg = f"no blueprint {name!r}. Fix: use one of {', '.join(BLUEPRINTS)}"
        raise JourneyError(msg, journey=name)
    return BLUEPRINTS[name](params, **overrides)
