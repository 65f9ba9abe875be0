"""Segment names: the built-in vocabularies and the one rule that turns a name into a membership.

A journey names its audience (and a segment trigger or condition) by a
segment name. Five kinds of segment exist:

==============  ===================  ===========================================================
kind            column               values
==============  ===================  ===========================================================
``rule``        ``segment_<name>``   the strategy's own segments (``segments:`` in the file)
``rfm``         ``rfm_segment``      :data:`RFM_SEGMENTS`
``lifecycle``   ``lifecycle_stage``  :data:`LIFECYCLE_STAGES`
``intent``      ``intent``           :data:`INTENTS`
``reach``       ``channel_reach``    :data:`CHANNEL_REACH`
==============  ===================  ===========================================================

A bare name (``lapsed``) means the one kind that has it. Where two built-in
kinds share a value (``new`` and ``at_risk`` are both an RFM segment and a
lifecycle stage) the bare name is ambiguous and refused; write it qualified,
``kind:value`` (``lifecycle:new``, ``rfm:at_risk``). A strategy's own segment
may not take a built-in name, so a rule never shadows a built-in segment.
Every reader of membership (the segment sizes, the audience files, the
exports, the simulator) goes through :func:`resolve_segment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import StrategyError

__all__ = [
    "BUILTIN_KINDS",
    "BUILTIN_SEGMENTS",
    "CHANNEL_REACH",
    "INTENTS",
    "LIFECYCLE_STAGES",
    "RFM_SEGMENTS",
    "RFM_SEGMENT_RULES",
    "SegmentRef",
    "builtin_name_clash",
    "resolve_segment",
    "segment_names",
]

# (name, recency scores, frequency-monetary scores): the first rule that matches wins.
# Together they cover every cell of the 5 x 5 grid exactly once (a test checks it).
RFM_SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("champions", (4, 5), (4, 5)),
    ("loyal", (3, 5), (3, 5)),
    ("new", (4, 5), (1, 1)),
    ("potential_loyalists", (3, 5), (1, 2)),
    ("cannot_lose", (1, 2), (5, 5)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (2, 2), (1, 2)),
    ("lost", (1, 1), (1, 2)),
)
RFM_SEGMENTS: tuple[str, ...] = (*dict.fromkeys(name for name, _, _ in RFM_SEGMENT_RULES), "prospects")
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "new", "active", "at_risk", "lapsed", "churned")
INTENTS: tuple[str, ...] = ("cart_abandoner", "high_intent", "browse_abandoner", "none")
CHANNEL_REACH: tuple[str, ...] = ("email_and_sms", "email_only", "sms_only", "neither")

#: Built-in kinds: the profile column each is stored in and its values.
BUILTIN_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rfm": ("rfm_segment", RFM_SEGMENTS),
    "lifecycle": ("lifecycle_stage", LIFECYCLE_STAGES),
    "intent": ("intent", INTENTS),
    "reach": ("channel_reach", CHANNEL_REACH),
}
#: Every value of the built-in segment columns.
BUILTIN_SEGMENTS = frozenset(v for _, values in BUILTIN_KINDS.values() for v in values)


@dataclass(frozen=True)
class SegmentRef:
    """What a segment name means: its kind and value, and the column that holds its membership."""

    kind: str
    value: str

    @property
    def column(self) -> str:
        """``segment_<name>`` for a rule segment, else the built-in kind's column."""
        return f"segment_{self.value}" if self.kind == "rule" else BUILTIN_KINDS[self.kind][0]

    @property
    def qualified(self) -> str:
        """The unambiguous name, ``kind:value``."""
        return f"{self.kind}:{self.value}"


def _kinds_of(value: str, rules: frozenset[str]) -> list[str]:
    found = ["rule"] if value in rules else []
    return found + [kind for kind, (_, values) in BUILTIN_KINDS.items() if value in values]


def resolve_segment(name: str, rule_segments: Iterable[str]) -> SegmentRef:
    """The segment a name means, given the strategy's rule-segment names.

    Raises
    ------
    StrategyError
        The name is unknown, or a bare name two kinds share (naming the qualified choices).

    Examples
    --------
    >>> resolve_segment("lapsed", []).column
    'lifecycle_stage'
    >>> resolve_segment("rfm:at_risk", []).column
    'rfm_segment'
    >>> resolve_segment("vip", ["vip"]).column
    'segment_vip'
    """
    rules = frozenset(rule_segments)
    text = str(name).strip()
    if ":" in text:
        kind, value = text.split(":", 1)
        known = {"rule": rules, **{k: frozenset(v) for k, (_, v) in BUILTIN_KINDS.items()}}
        if kind not in known:
            msg = f"segment {text!r}: unknown kind {kind!r}. Fix: use one of {', '.join(known)} before the colon"
            raise StrategyError(msg)
        if value not in known[kind]:
            have = ", ".join(sorted(known[kind])) or "none"
            msg = f"segment {text!r}: no {kind} segment {value!r}. Fix: use one of {have}"
            raise StrategyError(msg)
        return SegmentRef(kind, value)
    kinds = _kinds_of(text, rules)
    if len(kinds) == 1:
        return SegmentRef(kinds[0], text)
    if not kinds:
        have = ", ".join(sorted(rules)) or "none"
        msg = (
            f"segment {text!r} is not defined. Fix: define it under segments: in the strategy "
            f"(have: {have}) or use a built-in segment such as lifecycle:lapsed"
        )
        raise StrategyError(msg)
    choices = " or ".join(f"{k}:{text}" for k in kinds)
    msg = f"segment {text!r} is ambiguous: it is {' and '.join(f'{k}:{text}' for k in kinds)}. Fix: write {choices}"
    raise StrategyError(msg)


def segment_names(rule_segments: Iterable[str]) -> frozenset[str]:
    """Every name that resolves: the rule segments, unambiguous built-in values, and every qualified name."""
    rules = frozenset(rule_segments)
    qualified = {f"rule:{r}" for r in rules} | {f"{k}:{v}" for k, (_, vs) in BUILTIN_KINDS.items() for v in vs}
    bare = {v for v in rules | BUILTIN_SEGMENTS if len(_kinds_of(v, rules)) == 1}
    return frozenset(qualified | bare)


def builtin_name_clash(name: str) -> str | None:
    """The built-in kinds a rule-segment name would shadow (``"lifecycle"``), or None."""
    kinds = [kind for kind, (_, values) in BUILTIN_KINDS.items() if name in values]
    return ", ".join(kinds) or None
