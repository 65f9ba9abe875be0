"""The strategy file: brand facts, segments, contact policy and journeys in one YAML file.

Configuration is data: a papermill parameter can point a notebook at another
strategy, and a diff of the file is a diff of the strategy. The file is
validated by the pydantic models below; :func:`strategy_json_schema` publishes
their JSON Schema (committed as ``workbench/schemas/strategy.schema.json``) so
editors can check the YAML while it is typed. Errors name the file, the YAML
line and the field, and say how to fix it.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator, model_validator

from .documents import load_yaml
from .errors import StrategyError
from .journey import JourneySpecs
from .measurement import MeasurementSettings
from .policy import ContactPolicy
from .segments import builtin_name_clash

__all__ = [
    "Brand",
    "LifecycleThresholds",
    "SegmentDefinition",
    "Strategy",
    "parse_strategy",
    "strategy_json_schema",
    "with_lifecycle_text",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Brand(_Model):
    """Facts every message needs; templates read them, never hard-code them."""

    name: str = Field(description="Brand name as customers know it; SMS bodies start with it.")
    postal_address: str = Field(description="Valid physical postal address (CAN-SPAM), shown in every email footer.")
    sms_program_name: str = Field(description="SMS program name for the first message (CTIA).")
    website_url: HttpUrl
    unsubscribe_url: HttpUrl = Field(description="One-click unsubscribe endpoint (RFC 8058), https.")
    preferences_url: HttpUrl
    support_url: HttpUrl | None = None
    from_name: str | None = None
    from_email: str | None = None
    reply_to: str | None = None
    sms_frequency: str = Field("up to 4 msgs/month", description="Stated message frequency for the SMS program.")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    locale: str = Field(
        "en-US",
        description="Default locale (BCP 47): the language of the templates at the root of each moment folder, "
        "and the locale of customers whose market has none.",
    )
    locales: list[str] = Field(
        default_factory=list,
        description="Locales the strategy writes for (BCP 47, e.g. fr-CA); the lint reports the moments without a "
        "translation for each.",
    )
    tracking_params: dict[str, str] = Field(
        default_factory=lambda: {"utm_source": "workbench", "utm_medium": "{channel}"},
        description="Query parameters added to tracked links; {channel}, {moment} and {variant} are filled in.",
    )

    @field_validator("unsubscribe_url")
    @classmethod
    def _https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            msg = "the one-click unsubscribe URL must use https (RFC 8058)"
            raise ValueError(msg)
        return value


class LifecycleThresholds(_Model):
    """Days since the last order that separate lifecycle stages (see ``segments.lifecycle_stage``)."""

    new_days: int = Field(30, gt=0, description="A first order within this many days: new.")
    active_days: int = Field(90, gt=0, description="Last order within this many days: active.")
    at_risk_days: int = Field(180, gt=0, description="Last order within this many days: at risk.")
    lapsed_days: int = Field(365, gt=0, description="Last order within this many days: lapsed; older: churned.")

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleThresholds:
        values = [self.active_days, self.at_risk_days, self.lapsed_days]
        if values != sorted(values) or len(set(values)) != len(values):
            msg = "thresholds must grow: active_days < at_risk_days < lapsed_days"
            raise ValueError(msg)
        return self


class SegmentDefinition(_Model):
    """A named audience: a SQL boolean expression over profile columns (DuckDB dialect)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case id used by journeys and exports.")
    rule: str = Field(description="SQL boolean expression over profile columns, e.g. `can_sms and cart_adds_7d > 0`.")
    description: str = ""


class Strategy(_Model):
    """A whole cross-channel strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str
    brand: Brand
    lifecycle: LifecycleThresholds = LifecycleThresholds()
    segments: list[SegmentDefinition] = Field(default_factory=list)
    policy: ContactPolicy = Field(
        default_factory=ContactPolicy,
        description="Contact policy: caps, spacing, quiet hours, preferred hours, adaptive cadence (workbench.policy).",
    )
    measurement: MeasurementSettings = Field(
        default_factory=MeasurementSettings,
        description="Attribution windows and health-alert thresholds (workbench.measure).",
    )
    journeys: JourneySpecs = Field(
        default_factory=list, description="Journeys: a blueprint with parameters, or a graph (workbench.journeys)."
    )

    @field_validator("segments")
    @classmethod
    def _unique_segments(cls, value: list[SegmentDefinition]) -> list[SegmentDefinition]:
        seen: set[str] = set()
        for seg in value:
            if seg.name in seen:
                msg = f"segment name {seg.name!r} is used twice; names must be unique"
                raise ValueError(msg)
            clash = builtin_name_clash(seg.name)
            if clash:
                msg = (
                    f"segment name {seg.name!r} is also a built-in {clash} segment, so journeys could not tell them "
                    f"apart; rename it (e.g. {seg.name}_customers), or drop it and use {clash.split(',')[0]}:{seg.name}"
                )
                raise ValueError(msg)
            seen.add(seg.name)
        return value

    @model_validator(mode="after")
    def _reporting_currency(self) -> Strategy:
        """Revenue is reported in the brand's currency unless the measurement settings name another."""
        if self.measurement.reporting_currency is None:
            filled = self.measurement.model_copy(update={"reporting_currency": self.brand.currency})
            object.__setattr__(self, "measurement", filled)
        return self

    def segment(self, name: str) -> SegmentDefinition:
        """The segment called ``name``."""
        for seg in self.segments:
            if seg.name == name:
                return seg
        known = ", ".join(s.name for s in self.segments) or "none"
        msg = f"no segment {name!r} in strategy {self.name!r} (segments: {known})"
        raise StrategyError(msg)


# ---------------------------------------------------------------- loading


def _line_index(text: str) -> dict[tuple[object, ...], int]:
    """Map each YAML path (keys and list indices) to its 1-based line."""
    lines: dict[tuple[object, ...], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple[object, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1  # a key's line, not its value's
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def _line_for(lines: dict[tuple[object, ...], int], loc: tuple[object, ...]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


_REMEDIES = {
    "missing": "add the field",
    "extra_forbidden": "remove it or check its spelling against workbench/schemas/strategy.schema.json",
    "url_parsing": "write a full URL such as https://example.com/path",
    "url_scheme": "write a full URL such as https://example.com/path",
    "string_pattern_mismatch": "use lower-case letters, digits and underscores (snake_case)",
    "greater_than": "use a positive number",
}


def parse_strategy(text: str, *, source: str = "<strategy>") -> Strategy:
    """Validate strategy YAML text; errors carry the YAML line and a remedy."""
    data = load_yaml(text, source=source, error=StrategyError)
    if not isinstance(data, dict):
        msg = f"{source}: a strategy is a YAML mapping with name, brand, segments, policy and journeys"
        raise StrategyError(msg)
    try:
        return Strategy.model_validate(data)
    except ValidationError as exc:
        lines = _line_index(text)
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_for(lines, loc)
            field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
            remedy = _REMEDIES.get(err["type"], "see workbench/schemas/strategy.schema.json")
            where = f"line {line}" if line else "top level"
            problems.append(f"  {where}, {field or '<root>'}: {err['msg']}. Fix: {remedy}")
        count = len(problems)
        raise StrategyError(
            f"{source}: {count} problem{'s' if count != 1 else ''} in the strategy\n" + "\n".join(problems)
        ) from None


def strategy_json_schema() -> dict[str, Any]:
    """The JSON Schema of the strategy file (draft 2020-12)."""
    schema = Strategy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Retention workbench strategy"
    return schema


def with_lifecycle_text(text: str, thresholds: LifecycleThresholds) -> str:
    """The strategy text with its ``lifecycle:`` thresholds set, everything else (comments, layout) kept.

    Each threshold's value is replaced where it is written; a threshold the file
    leaves to its default is added to the ``lifecycle:`` block; a file without
    the block gets one at its end. The result is checked to parse with the new
    thresholds.
    """
    root = yaml.compose(text)
    values = thresholds.model_dump()
    lines = text.splitlines(keepends=True)
    block = None
    if isinstance(root, yaml.MappingNode):
        block = next((v for k, v in root.value if k.value == "lifecycle"), None)
    if isinstance(block, yaml.MappingNode) and block.flow_style is False and block.value:
        present = {k.value: v for k, v in block.value}
        edits = sorted(
            ((v.start_mark, v.end_mark, str(values[name])) for name, v in present.items() if name in values),
            key=lambda e: (e[0].line, e[0].column),
            reverse=True,
        )
        for start, end, new in edits:
            line = lines[start.line]
            lines[start.line] = line[: start.column] + new + line[end.column :] if start.line == end.line else line
        missing = [n for n in values if n not in present]
        if missing:
            indent = " " * block.value[0][0].start_mark.column
            last = max(v.end_mark.line for _, v in block.value)
            if block.value[-1][1].end_mark.column == 0:
                last -= 1
            insert = [f"{indent}{n}: {values[n]}\n" for n in missing]
            lines[last + 1 : last + 1] = insert
        out = "".join(lines)
    else:
        body = "".join(f"  {n}: {v}\n" for n, v in values.items())
        if isinstance(block, yaml.Node):
            start, end = block.start_mark, block.end_mark
            flat = text[: start.index].rstrip(" ") + "\n" + body + text[end.index :].lstrip("\n")
            out = flat
        else:
            out = text + ("" if text.endswith("\n") or not text else "\n") + "\nlifecycle:\n" + body
    parsed = yaml.safe_load(out)
    if not isinstance(parsed, dict) or LifecycleThresholds.model_validate(parsed.get("lifecycle") or {}) != thresholds:
        msg = "the strategy text could not be edited in place. Fix: edit the lifecycle: block by hand"
        raise StrategyError(msg)
    return out
