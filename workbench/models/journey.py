"""The journey model: a trigger, an entry audience, a goal and a graph of nodes.

A :class:`Journey` is plain data (pydantic, frozen). Every node has a stable
``id``, a ``type`` and links to the nodes that follow it:

==================  =====================================================  ==============================
``type``            what it does                                           links
==================  =====================================================  ==============================
``send_email``      send the email of ``template`` (a moment id)            ``next``
                    in ``variant``
``send_sms``        send the SMS of ``template`` in ``variant``             ``next``
``delay``           wait a ``duration``, and/or ``until`` a local time      ``next``
                    on allowed days of the week (recipient's time zone)
``wait_for_event``  wait up to ``timeout`` for ``event``                    ``on_event``, ``on_timeout``
``condition_split`` test a ``condition`` (segment, profile field,           ``on_true``, ``on_false``
                    consent, engagement with an earlier message)
``random_split``    send shares of customers down ``branches``              ``branches[*].next``
                    (percent, summing to 100; a branch may be a holdout)
``end``             the customer leaves the journey                         none
==================  =====================================================  ==============================

Send nodes carry ``channel`` (``"email"`` / ``"sms"``), ``template`` (the
moment id of the template folder) and ``variant``. A customer also leaves as
soon as the journey's ``goal`` event happens (e.g. ``order_placed``).

The model accepts graphs with mistakes (a dangling link, a cycle, a share sum
of 90) so that :func:`workbench.journeys.validate_journey` can name the node
at fault; only the shape of each field is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "BRANCH_LINKS",
    "CANONICAL_FORMAT",
    "CANONICAL_VERSION",
    "CHANNELS",
    "WEEKDAYS",
    "BlueprintName",
    "BlueprintParams",
    "Branch",
    "CanonicalJourney",
    "ChannelOrder",
    "ConditionSplit",
    "ConsentCondition",
    "DateTrigger",
    "Delay",
    "Duration",
    "End",
    "EngagementCondition",
    "EventTrigger",
    "Goal",
    "Journey",
    "JourneyGraph",
    "JourneySpec",
    "JourneySpecs",
    "LocalTime",
    "Node",
    "ProfileCondition",
    "RandomSplit",
    "ReEntry",
    "SegmentCondition",
    "SegmentTrigger",
    "SendEmail",
    "SendSms",
    "WaitForEvent",
]

CHANNELS = ("email", "sms")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Unit = Literal["minutes", "hours", "days", "weeks"]
NodeId = Annotated[
    str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", description="Stable node id (letters, digits, _ -).")
]

_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
_SHORT = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_TEXT = re.compile(r"^\s*(-?\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Model):
    """A length of time: ``value`` ``unit``. YAML may also say ``"2h"``, ``"30m"``, ``"3d"`` or ``"1w"``."""

    value: int = Field(description="How many units (must be positive where a delay is meant).")
    unit: Unit = "days"

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        if isinstance(data, str):
            found = _DURATION_TEXT.match(data)
            if not found:
                msg = f"{data!r} is not a duration; write e.g. '2h', '30m', '3d', '1w' or {{value: 2, unit: hours}}"
                raise ValueError(msg)
            word = found.group(2)
            unit = _SHORT.get(word) or (word if word.endswith("s") else word + "s")
            return {"value": int(found.group(1)), "unit": unit}
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        # Published schemas accept the shorthand text too, as the model does.
        schema = handler.resolve_ref_schema(handler(core_schema))
        shorthand = {"type": "string", "pattern": _DURATION_TEXT.pattern, "examples": ["30m", "2h", "3d", "1w"]}
        return {"anyOf": [schema, shorthand]}

    @property
    def seconds(self) -> int:
        """The duration in seconds."""
        return self.value * _SECONDS[self.unit]

    def __str__(self) -> str:
        word = self.unit if self.value != 1 else self.unit[:-1]
        return f"{self.value} {word}"


class LocalTime(_Model):
    """A time of day in the recipient's own time zone, on allowed days of the week."""

    time: str = Field("10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, 24-hour clock.")
    days: list[Weekday] = Field(
        default_factory=lambda: cast(list[Weekday], list(WEEKDAYS)),
        min_length=1,
        description="Days of the week a customer may be released on.",
    )

    @property
    def hour(self) -> int:
        """The hour of :attr:`time`."""
        return int(self.time[:2])

    @property
    def minute(self) -> int:
        """The minute of :attr:`time`."""
        return int(self.time[3:])

    def __str__(self) -> str:
        days = "every day" if len(self.days) == 7 else ", ".join(d[:3].title() for d in self.days)
        return f"{self.time} local time ({days})"


# ---------------------------------------------------------------- trigger, re-entry, goal


class EventTrigger(_Model):
    """Enter when the customer does ``event`` (e.g. ``add_to_cart``)."""

    type: Literal["event"] = "event"
    event: str = Field(min_length=1, description="Event name in the events table, or order_placed for an order.")
    provides: list[str] = Field(
        default_factory=list, description="Event properties the messages may read (e.g. order_id, tracking_url)."
    )


class SegmentTrigger(_Model):
    """Enter when the customer enters ``segment``."""

    type: Literal["segment"] = "segment"
    segment: str = Field(min_length=1)


class DateTrigger(_Model):
    """Enter ``offset_days`` after (negative: before) the date in a profile ``property``, at a local time."""

    type: Literal["date"] = "date"
    property: str = Field(min_length=1, description="Profile or customer column holding a date, e.g. last_order_at.")
    offset_days: int = Field(0, description="Days after the date (negative: before).")
    at: LocalTime = LocalTime()


Trigger = Annotated[EventTrigger | SegmentTrigger | DateTrigger, Field(discriminator="type")]


class ReEntry(_Model):
    """When a customer who went through the journey may enter it again."""

    mode: Literal["never", "always", "after"] = "never"
    after: Duration | None = Field(None, description="With mode 'after': the wait since the last entry.")

    @model_validator(mode="after")
    def _after(self) -> ReEntry:
        if (self.mode == "after") != (self.after is not None):
            msg = "re-entry 'after' needs an `after` duration, and only 'after' takes one"
            raise ValueError(msg)
        return self

    def __str__(self) -> str:
        return {"never": "once per customer", "always": "every time the trigger fires"}.get(
            self.mode, f"again {self.after} after the last entry"
        )


class Goal(_Model):
    """The event that exits a customer from the journey at once (the conversion)."""

    event: str = Field("order_placed", min_length=1, description="order_placed means an order in the orders table.")
    within: Duration | None = Field(None, description="Attribution window counted from entry (default: the journey).")


# ---------------------------------------------------------------- nodes


class _Node(_Model):
    id: NodeId
    name: str = Field("", description="Label shown in diagrams and tools.")


class SendEmail(_Node):
    """Send the email of a template (depth: context, guides, reviews)."""

    type: Literal["send_email"] = "send_email"
    channel: Literal["email"] = "email"
    template: str = Field(min_length=1, description="Moment id = template folder, e.g. cart_abandonment.")
    variant: str = Field("A", min_length=1)
    objective: str = Field("", description="The one objective of this touch.")
    offer: str | None = None
    transactional: bool = False
    smart_sending: bool = Field(True, description="Let the tool skip recent recipients (its own window).")
    next: str | None = None


class SendSms(_Node):
    """Send the SMS of a template (brevity: one action, time-sensitive)."""

    type: Literal["send_sms"] = "send_sms"
    channel: Literal["sms"] = "sms"
    template: str = Field(min_length=1)
    variant: str = Field("A", min_length=1)
    objective: str = ""
    offer: str | None = None
    transactional: bool = False
    smart_sending: bool = True
    quiet_hours: bool = Field(True, description="Hold the text outside quiet hours in the recipient's time zone.")
    next: str | None = None


class Delay(_Node):
    """Wait ``duration``, then (if set) until the next allowed local time ``until``."""

    type: Literal["delay"] = "delay"
    duration: Duration | None = None
    until: LocalTime | None = None
    next: str | None = None


class WaitForEvent(_Node):
    """Wait up to ``timeout`` for ``event``; continue on ``on_event`` or ``on_timeout``."""

    type: Literal["wait_for_event"] = "wait_for_event"
    event: str = Field(min_length=1)
    timeout: Duration
    on_event: str | None = None
    on_timeout: str | None = None


class SegmentCondition(_Model):
    """True when the customer is in ``segment``."""

    kind: Literal["segment"] = "segment"
    segment: str = Field(min_length=1)


class ProfileCondition(_Model):
    """True when profile ``field`` compares to ``value`` (``op`` one of eq, ne, gt, ge, lt, le, in, is_true)."""

    kind: Literal["profile"] = "profile"
    field: str = Field(min_length=1)
    op: Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "is_true", "is_false"] = "eq"
    value: str | int | float | bool | list[str] | None = None


class ConsentCondition(_Model):
    """True when the customer may receive marketing on ``channel`` (the consent guard before an SMS)."""

    kind: Literal["consent"] = "consent"
    channel: Literal["email", "sms"] = "sms"


class EngagementCondition(_Model):
    """True when the customer ``action``-ed the message sent by node ``node`` (opened or clicked)."""

    kind: Literal["engagement"] = "engagement"
    node: str = Field(min_length=1, description="Id of an earlier send node.")
    action: Literal["opened", "clicked"] = "clicked"


Condition = Annotated[
    SegmentCondition | ProfileCondition | ConsentCondition | EngagementCondition, Field(discriminator="kind")
]


class ConditionSplit(_Node):
    """Route on a condition: ``on_true`` or ``on_false``."""

    type: Literal["condition_split"] = "condition_split"
    condition: Condition
    on_true: str | None = None
    on_false: str | None = None


class Branch(_Model):
    """One path of a random split: ``share`` percent of customers go to ``next``."""

    name: str = Field(min_length=1)
    share: float = Field(description="Percent of customers (the shares of a split sum to 100).")
    next: str | None = None
    holdout: bool = Field(False, description="A holdout (control) group: measured, never messaged.")


class RandomSplit(_Node):
    """Random split, e.g. treatment 90 / holdout 10."""

    type: Literal["random_split"] = "random_split"
    branches: list[Branch] = Field(min_length=2)


class End(_Node):
    """The customer leaves the journey."""

    type: Literal["end"] = "end"


Node = Annotated[
    SendEmail | SendSms | Delay | WaitForEvent | ConditionSplit | RandomSplit | End, Field(discriminator="type")
]

#: Link fields by node type, in display order (random splits link through their branches).
BRANCH_LINKS: dict[str, tuple[str, ...]] = {
    "send_email": ("next",),
    "send_sms": ("next",),
    "delay": ("next",),
    "wait_for_event": ("on_event", "on_timeout"),
    "condition_split": ("on_true", "on_false"),
    "random_split": (),
    "end": (),
}


def links(node: Any) -> list[tuple[str, str | None]]:
    """The outgoing links of a node as ``(label, target id or None)``, in order.

    Random split branches are labelled by branch name.
    """
    if node.type == "random_split":
        return [(b.name, b.next) for b in node.branches]
    return [(label, getattr(node, label)) for label in BRANCH_LINKS[node.type]]


#: How a link reads on a diagram ("" for the one way on).
LINK_LABELS = {"on_true": "yes", "on_false": "no", "on_event": "event", "on_timeout": "timeout", "next": ""}


def labelled_links(journey: Journey) -> list[tuple[str, str, str]]:
    """Every link of a journey's nodes as ``(source id, target id, label)``, for diagrams.

    A random split's branch reads ``name share%``; a split's ``yes``/``no``; a wait's ``event``/``timeout``;
    the one way on of a step has no label. Links to nothing (the end of a path) are left out.
    """
    out = []
    for node in journey.nodes:
        for label, target in links(node):
            if target is None:
                continue
            if node.type == "random_split":
                share = next(b.share for b in node.branches if b.name == label)
                text = f"{label} {share:g}%"
            else:
                text = LINK_LABELS.get(label, label)
            out.append((node.id, target, text))
    return out


class Journey(_Model):
    """A journey: who enters, when, what they receive, and when they leave."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case id; exports and send plans use it.")
    name: str = Field(min_length=1)
    moment: str = Field("", description="The moment (blueprint) it implements, e.g. cart_abandonment.")
    description: str = ""
    version: int = Field(1, ge=1, description="Bump on every reviewed change.")
    trigger: Trigger
    audience: str | None = Field(None, description="Entry segment: only its members may enter.")
    reentry: ReEntry = ReEntry()
    goal: Goal | None = Goal()
    entry: str = Field(description="Id of the first node.")
    nodes: list[Node] = Field(min_length=1)

    def node(self, node_id: str) -> Any:
        """The node with id ``node_id`` (``KeyError`` if absent)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def by_id(self) -> dict[str, Any]:
        """Nodes keyed by id (the first of duplicated ids wins)."""
        out: dict[str, Any] = {}
        for n in self.nodes:
            out.setdefault(n.id, n)
        return out

    def sends(self, channel: str | None = None) -> list[SendEmail | SendSms]:
        """Send nodes, optionally of one channel, in graph order."""
        return [
            n for n in self.walk() if n.type in ("send_email", "send_sms") and (channel is None or n.channel == channel)
        ]

    def walk(self) -> Iterator[Any]:
        """Nodes reachable from the entry, breadth first, each once."""
        index = self.by_id()
        seen: set[str] = set()
        queue = [self.entry]
        while queue:
            nid = queue.pop(0)
            if nid in seen or nid not in index:
                continue
            seen.add(nid)
            yield index[nid]
            queue.extend(t for _, t in links(index[nid]) if t)

    def templates(self) -> list[tuple[str, str, str]]:
        """``(channel, template, variant)`` of every send node, without repeats, in graph order."""
        return list(dict.fromkeys((n.channel, n.template, n.variant) for n in self.sends()))


# ---------------------------------------------------------------- blueprint parameters and journey specs

ChannelOrder = Literal["email_first", "sms_first", "preference"]


class BlueprintParams(BaseModel):
    """Parameters of a blueprint; a field left out (None) takes the blueprint's default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Journey name shown in tools (default: the blueprint's).")
    audience: str | None = Field(None, description="Entry segment (default: the blueprint's).")
    first_delay: Duration | None = Field(None, description="Wait after the trigger before the first touch.")
    sms_delay: Duration | None = Field(None, description="Wait between the email and the SMS of a pair.")
    step_gap: Duration | None = Field(None, description="Wait between paired steps.")
    channel_order: ChannelOrder | None = Field(None, description="email_first, sms_first or preference.")
    sms: bool | None = Field(None, description="False sends email only.")
    skip_sms_if_clicked: bool | None = Field(None, description="Skip the SMS when the first message was clicked.")
    holdout_percent: float | None = Field(None, ge=0, le=50, description="Holdout share in percent (0: none).")
    offer: str | None = Field(None, description="Offer code for the steps that make an offer.")
    send_time: LocalTime | None = Field(None, description="Release marketing touches at this local time.")
    variant: str | None = Field(None, description="Template variant for every send (default A).")
    offset_days: int | None = Field(None, description="Date-triggered moments: days after the date.")
    reentry: ReEntry | None = None

    @field_validator("first_delay", "sms_delay", "step_gap")
    @classmethod
    def _positive(cls, value: Duration | None) -> Duration | None:
        if value is not None and value.value <= 0:
            msg = f"a delay must be positive, got {value}"
            raise ValueError(msg)
        return value


CANONICAL_FORMAT = "workbench.journey"
CANONICAL_VERSION = 1

BlueprintName = Literal[
    "welcome",
    "activation",
    "post_purchase",
    "browse_abandonment",
    "cart_abandonment",
    "replenishment",
    "proactive_support",
    "win_back",
]


class JourneyGraph(Journey):
    """A journey graph inside the strategy file: its ``id`` defaults to the journey spec's id."""

    id: str | None = Field(  # type: ignore[assignment]  # None until the spec gives its id
        None, pattern=r"^[a-z][a-z0-9_]*$", description="Defaults to the journey spec's id."
    )


class JourneySpec(BaseModel):
    """One journey of the strategy: ``blueprint`` + ``params``, or a full ``graph``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case journey id, unique in the strategy.")
    blueprint: BlueprintName | None = Field(None, description="Moment blueprint to build the journey from.")
    params: BlueprintParams = Field(default_factory=BlueprintParams, description="Blueprint parameters.")
    graph: JourneyGraph | None = Field(None, description="A full journey graph (instead of a blueprint).")
    enabled: bool = Field(True, description="False keeps the journey in the file but out of exports and plans.")

    @model_validator(mode="before")
    @classmethod
    def _graph_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("graph"), Journey):
            data = {**data, "graph": data["graph"].model_dump()}
        if isinstance(data, dict) and isinstance(data.get("graph"), dict) and data["graph"].get("id") is None:
            data = {**data, "graph": {"id": data.get("id"), **data["graph"]}}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> JourneySpec:
        if (self.blueprint is None) == (self.graph is None):
            msg = "a journey has either `blueprint` (with params) or `graph`, not both and not neither"
            raise ValueError(msg)
        if self.graph is not None and self.graph.id != self.id:
            msg = f"graph id {self.graph.id!r} differs from the journey id {self.id!r}; remove graph.id"
            raise ValueError(msg)
        if self.graph is not None and self.params != BlueprintParams():
            msg = "params only apply to a blueprint; edit the graph instead"
            raise ValueError(msg)
        return self


def _unique(specs: list[JourneySpec]) -> list[JourneySpec]:
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            msg = f"journey id {spec.id!r} is used twice; ids must be unique"
            raise ValueError(msg)
        seen.add(spec.id)
    return specs


#: The type of ``Strategy.journeys``.
JourneySpecs = Annotated[list[JourneySpec], AfterValidator(_unique)]


class CanonicalJourney(BaseModel):
    """The canonical journey document: format, version and the journey."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Workbench canonical journey")

    format: Literal["workbench.journey"] = "workbench.journey"
    format_version: Literal[1] = 1
    journey: Journey
