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
from typing import Any

import yaml
from pydantic import ValidationError

from ..models.documents import load_yaml
from ..models.errors import JourneyError
from ..models.journey import CANONICAL_VERSION, CanonicalJourney, Journey, JourneySpec
from ..models.strategy import Strategy
from .blueprints import BLUEPRINTS, blueprint

__all__ = [
    "build_journey",
    "build_journeys",
    "canonical_json_schema",
    "journey_for",
    "journey_from_json",
    "journey_from_yaml",
    "journey_to_dict",
    "journey_to_json",
    "journey_to_yaml",
]


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
            msg = (
                f"journey {spec.id!r} is a graph: blueprint parameters {sorted(overrides)} do not apply. "
                "Fix: edit its graph in the strategy file"
            )
            raise JourneyError(
                msg,
                journey=spec.id,
            )
        return Journey.model_validate(spec.graph.model_dump())
    params = {**spec.params.model_dump(exclude_none=True), **overrides}
    try:
        return BLUEPRINTS[spec.blueprint](params, journey_id=spec.id)  # type: ignore[index]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        msg = f"journey {spec.id!r}: invalid blueprint parameters ({problems}). Fix: see BlueprintParams"
        raise JourneyError(msg, journey=spec.id) from None


def build_journeys(strategy: Strategy, *, include_disabled: bool = False) -> list[Journey]:
    """Every (enabled) journey of a strategy, built."""
    return [build_journey(s) for s in strategy.journeys if include_disabled or s.enabled]


def journey_for(strategy: Strategy, journey_id: str, **params: Any) -> Journey:
    """The journey ``journey_id`` of a strategy, or the blueprint of that moment, with parameter overrides.

    Raises
    ------
    JourneyError
        Neither a journey of the strategy nor a blueprint name.
    """
    for spec in strategy.journeys:
        if spec.id == journey_id:
            return build_journey(spec, **params)
    if journey_id in BLUEPRINTS:
        return blueprint(journey_id, params)
    known = ", ".join([s.id for s in strategy.journeys] + list(BLUEPRINTS))
    msg = f"no journey or blueprint {journey_id!r}. Fix: use one of {known}"
    raise JourneyError(msg, journey=journey_id)


# ---------------------------------------------------------------- canonical document


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
        msg = f"{source}: not a canonical journey ({problems}). Fix: see workbench/schemas/journey.schema.json"
        raise JourneyError(msg) from None


def journey_from_json(text: str, *, source: str = "<json>") -> Journey:
    """Read a canonical JSON journey document."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{source} line {exc.lineno}: not valid JSON ({exc.msg})"
        raise JourneyError(msg) from None
    return _from_data(data, source)


def journey_from_yaml(text: str, *, source: str = "<yaml>") -> Journey:
    """Read a canonical YAML journey document."""
    return _from_data(load_yaml(text, source=source, error=JourneyError), source)


def canonical_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the canonical journey document."""
    schema = CanonicalJourney.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"workbench.journey.v{CANONICAL_VERSION}.schema.json"
    return schema
