"""Checks of whole documents: every journey of a strategy, a strategy or journey file's text.

Pure: these take text or models and return problems; reading the files is
:mod:`workbench.io.files`. Each problem names the file, the YAML line, the
journey and node, and a remedy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.documents import load_yaml
from ..models.errors import JourneyError, StrategyError
from ..models.journey import Journey
from ..models.segments import segment_names
from ..models.strategy import Strategy, _line_for, _line_index, parse_strategy
from ..rules import rule_problems
from .spec import _from_data, build_journey, journey_from_json
from .validate import journey_problems

__all__ = ["document_journeys", "document_problems", "known_segments", "strategy_journey_problems"]


def known_segments(strategy: Strategy) -> set[str]:
    """Segment names a journey may use (:func:`~workbench.models.segments.segment_names`): the strategy's rule
    segments, the built-in values that are not ambiguous, and every qualified ``kind:value`` name."""
    return set(segment_names(s.name for s in strategy.segments))


def strategy_journey_problems(strategy: Strategy, *, library: Mapping[str, Any] | None = None) -> list[JourneyError]:
    """Every problem of every journey of a strategy; each error's ``.path`` starts at ``("journeys", i)``.

    Templates are checked against ``library`` (manifests by moment) when one is given.
    """
    segments = known_segments(strategy)
    out: list[JourneyError] = []
    for i, spec in enumerate(strategy.journeys):
        try:
            journey = build_journey(spec)
        except JourneyError as exc:
            exc.path = ("journeys", i, "params")  # type: ignore[attr-defined]
            out.append(exc)
            continue
        for err in journey_problems(journey, library=library, segments=segments):
            inner = tuple(getattr(err, "path", ()))
            if spec.graph is not None:
                err.path = ("journeys", i, "graph", *inner)  # type: ignore[attr-defined]
            elif inner[-1:] == ("variant",) and spec.params.variant is not None:
                err.path = ("journeys", i, "params", "variant")  # type: ignore[attr-defined]
            elif inner[:1] == ("audience",) and spec.params.audience is not None:
                err.path = ("journeys", i, "params", "audience")  # type: ignore[attr-defined]
            else:
                err.path = ("journeys", i, "blueprint")  # type: ignore[attr-defined]
            out.append(err)
    return out


def _is_strategy(data: Any) -> bool:
    return isinstance(data, dict) and "brand" in data


def document_problems(
    text: str, *, source: str, is_json: bool = False, library: Mapping[str, Any] | None = None
) -> list[str]:
    """Every problem of a strategy document (or a canonical journey document); empty when valid.

    A strategy's segment rules are checked as ``segments.assign`` checks them
    (:func:`workbench.rules.rule_problems`), then its journeys.

    Each message names ``source``, the YAML line, the journey and node, and a remedy, e.g.
    ``data/strategy.yaml line 88: journey 'x', node 'd1': the delay 0 days is not positive. Fix: ...``.
    """
    try:
        data = load_yaml(text, source=source, error=StrategyError)
    except StrategyError as exc:
        return [str(exc)]
    is_journey = isinstance(data, dict) and not _is_strategy(data) and ("nodes" in data or "journey" in data)
    if is_json or is_journey:
        try:
            journey = journey_from_json(text, source=source) if is_json else _from_data(data, source)
        except JourneyError as exc:
            return [str(exc)]
        return [f"{source}: {err}" for err in journey_problems(journey, library=library)]
    try:
        strategy = parse_strategy(text, source=source)
    except StrategyError as exc:
        lines = str(exc).splitlines()
        return [f"{source} {line.strip()}" for line in lines[1:]] or lines
    lines_of = _line_index(text)
    out = []
    for err in [*rule_problems(strategy.segments), *strategy_journey_problems(strategy, library=library)]:
        line = _line_for(lines_of, tuple(getattr(err, "path", ())))
        out.append(f"{source} line {line}: {err}" if line else f"{source}: {err}")
    return out


def document_journeys(text: str, *, source: str, is_json: bool = False) -> tuple[list[Journey], bool]:
    """The (enabled) journeys of a strategy document, or the one journey of a canonical document.

    The second value says whether the document is a single journey (not a strategy).
    """
    if is_json:
        return [journey_from_json(text, source=source)], True
    data = load_yaml(text, source=source, error=JourneyError)
    if _is_strategy(data):
        strategy = parse_strategy(text, source=source)
        return [build_journey(s) for s in strategy.journeys if s.enabled], False
    return [_from_data(data, source)], True
