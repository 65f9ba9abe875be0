"""Journeys in the strategy file, and the canonical (versioned) journey document.

In ``data/strategy.yaml`` each journey is either a blueprint with parameters
or a full graph::

    journeys:
      - id: cart_recovery
        blueprint: cart_abandonment
        params: {first_delay: 1h, holdout_percent: 10, offer: FREESHIP}
      - id: vip_thanks
        graph:
          name: VIP thank-you
          trigger: {type: segment, segment: vip}
          entry: email
          nodes:
            - {id: email, type: send_email, template: welcome, next: end}
            - {id: end, type: end}

The canonical document wraps one journey with its format and version; it
round-trips through the model unchanged (JSON or YAML).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import JourneyError
from .blueprints import BLUEPRINTS, BlueprintParams
from .model import Journey

__all__ = [
    "CANONICAL_FORMAT",
    "CANONICAL_VERSION",
    "CanonicalJourney",
    "JourneyGraph",
    "JourneySpec",
    "JourneySpecs",
    "build_journey",
    "build_journeys",
    "canonical_json_schema",
    "journey_from_json",
    "journey_from_yaml",
    "journey_to_dict",
    "journey_to_json",
    "journey_to_yaml",
]

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

    id: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$", description="Defaults to the journey spec's id.")


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


def build_journey(spec: JourneySpec | dict[str, Any], **overrides: Any) -> Journey:
    """The journey a spec describes: the blueprint built with its params (plus ``overrides``), or the graph.

    Raises
    ------
    JourneyError
        ``overrides`` given for a graph journey, or invalid parameters.
    """
    spec = spec if isinstance(spec, JourneySpec) else JourneySpec.model_validate(spec)
    if spec.graph is not None:
        if overrides:
            raise JourneyError(
                f"journey {spec.id!r} is a graph: blueprint parameters {sorted(overrides)} do not apply. "
                "Fix: edit its graph in the strategy file",
                journey=spec.id,
            )
        return Journey.model_validate(spec.graph.model_dump())
    params = {**spec.params.model_dump(exclude_none=True), **overrides}
    try:
        return BLUEPRINTS[spec.blueprint](params, journey_id=spec.id)  # type: ignore[index]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise JourneyError(
            f"journey {spec.id!r}: invalid blueprint parameters ({problems}). Fix: see BlueprintParams", journey=spec.id
        ) from None


def build_journeys(strategy: Any, *, include_disabled: bool = False) -> list[Journey]:
    """Every (enabled) journey of a strategy, built."""
    return [build_journey(s) for s in strategy.journeys if include_disabled or s.enabled]


# ---------------------------------------------------------------- canonical document


class CanonicalJourney(BaseModel):
    """The canonical journey document: format, version and the journey."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Workbench canonical journey")

    format: Literal["workbench.journey"] = CANONICAL_FORMAT
    format_version: Literal[1] = CANONICAL_VERSION
    journey: Journey


def journey_to_dict(journey: Journey) -> dict[str, Any]:
    """The canonical document of a journey as plain JSON data (every field explicit)."""
    return CanonicalJourney(journey=journey).model_dump(mode="json")


def journey_to_json(journey: Journey) -> str:
    """Canonical JSON text (2-space indent, UTF-8, trailing newline)."""
    return json.dumps(journey_to_dict(journey), indent=2, ensure_ascii=False) + "\n"


def journey_to_yaml(journey: Journey) -> str:
    """Canonical YAML text (same content as the JSON, key order kept)."""
    return yaml.safe_dump(journey_to_dict(journey), sort_keys=False, allow_unicode=True, width=120)


def _from_data(data: Any, source: str) -> Journey:
    if isinstance(data, dict) and "format" not in data and "nodes" in data:
        data = {"journey": data}  # a bare journey is accepted too
    try:
        return CanonicalJourney.model_validate(data).journey
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
        raise JourneyError(
            f"{source}: not a canonical journey ({problems}). Fix: see workbench/schemas/journey.schema.json"
        ) from None


def journey_from_json(text: str, *, source: str = "<json>") -> Journey:
    """Read a canonical JSON journey document."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JourneyError(f"{source} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    return _from_data(data, source)


def journey_from_yaml(text: str, *, source: str = "<yaml>") -> Journey:
    """Read a canonical YAML journey document."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise JourneyError(f"{source}: not valid YAML ({exc})") from None
    return _from_data(data, source)


def canonical_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the canonical journey document."""
    schema = CanonicalJourney.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"workbench.journey.v{CANONICAL_VERSION}.schema.json"
    return schema
