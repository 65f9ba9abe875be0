"""The file edge of journeys: validate a strategy or journey file, diff two files.

These read files; everything they call is pure. The command line wires
``workbench validate FILE`` to :func:`validate_file` and ``workbench diff OLD NEW``
to :func:`diff_files`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import JourneyError, StrategyError
from ..rules import rule_problems
from .diff import diff_journey_sets
from .model import Journey
from .spec import _from_data, build_journey, journey_from_json
from .validate import default_library, journey_problems

__all__ = [
    "diff_files",
    "journey_for",
    "journey_table",
    "known_segments",
    "load_journeys",
    "simulated_volume",
    "strategy_journey_problems",
    "strategy_rule_problems",
    "validate_file",
]


def known_segments(strategy: Any) -> set[str]:
    """Segment names a journey may use: the strategy's rule segments and the built-in segment values."""
    from ..segments import BUILTIN_SEGMENTS

    return {s.name for s in strategy.segments} | BUILTIN_SEGMENTS


def strategy_journey_problems(
    strategy: Any, *, library: Mapping[str, Any] | None = None, check_templates: bool = True
) -> list[JourneyError]:
    """Every problem of every journey of a strategy; each error's ``.path`` starts at ``("journeys", i)``."""
    segments = known_segments(strategy)
    if check_templates and library is None:
        # Read the template manifests once for all journeys; without a library there is nothing to check.
        library = default_library()
        check_templates = library is not None
    out: list[JourneyError] = []
    for i, spec in enumerate(strategy.journeys):
        try:
            journey = build_journey(spec)
        except JourneyError as exc:
            exc.path = ("journeys", i, "params")  # type: ignore[attr-defined]
            out.append(exc)
            continue
        for err in journey_problems(journey, library=library, segments=segments, check_templates=check_templates):
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


def strategy_rule_problems(strategy: Any) -> list[StrategyError]:
    """Every problem of the strategy's segment rules (the check ``segments.assign`` makes, see
    :func:`workbench.rules.check_rules`); each error's ``.path`` is ``("segments", i, "rule")``."""
    return rule_problems(strategy.segments)


def _is_strategy(data: Any) -> bool:
    return isinstance(data, dict) and "brand" in data


def validate_file(path: str | os.PathLike[str], *, library: Mapping[str, Any] | None = None) -> list[str]:
    """Check a strategy file (or a canonical journey file); one message per problem, empty when valid.

    Each message names the file, the YAML line, the journey and node, and a remedy, e.g.
    ``data/strategy.yaml line 88: journey 'x', node 'd1': the delay 0 days is not positive. Fix: ...``.
    """
    from ..strategy import _line_for, _line_index, parse_strategy

    p = Path(path)
    if not p.exists():
        return [f"{p}: the file does not exist. Fix: pass a path such as data/strategy.yaml"]
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    is_journey = isinstance(data, dict) and not _is_strategy(data) and ("nodes" in data or "journey" in data)
    if p.suffix == ".json" or is_journey:
        try:
            journey = journey_from_json(text, source=str(p)) if p.suffix == ".json" else _from_data(data, str(p))
        except JourneyError as exc:
            return [str(exc)]
        return [f"{p}: {err}" for err in journey_problems(journey, library=library)]
    try:
        strategy = parse_strategy(text, source=str(p))
    except StrategyError as exc:
        lines = str(exc).splitlines()
        return [f"{p} {line.strip()}" for line in lines[1:]] or lines
    lines_of = _line_index(text)
    out = []
    for err in [*strategy_rule_problems(strategy), *strategy_journey_problems(strategy, library=library)]:
        line = _line_for(lines_of, tuple(getattr(err, "path", ())))
        out.append(f"{p} line {line}: {err}" if line else f"{p}: {err}")
    return out


def _read_journeys(path: str | os.PathLike[str]) -> tuple[list[Journey], bool]:
    """The journeys of a file, and whether it is a single-journey file (not a strategy file)."""
    p = Path(path)
    if not p.exists():
        raise JourneyError(f"{p} does not exist. Fix: pass a strategy file or a canonical journey file")
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".json":
        return [journey_from_json(text, source=str(p))], True
    data = yaml.safe_load(text)
    if _is_strategy(data):
        from ..strategy import parse_strategy

        strategy = parse_strategy(text, source=str(p))
        return [build_journey(s) for s in strategy.journeys if s.enabled], False
    return [_from_data(data, str(p))], True


def load_journeys(path: str | os.PathLike[str]) -> list[Journey]:
    """The journeys of a strategy file, or the one journey of a canonical JSON/YAML file."""
    return _read_journeys(path)[0]


def diff_files(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> list[str]:
    """Describe in words how the journeys of ``new`` differ from those of ``old``.

    Each file is a strategy file or a canonical journey file (JSON or YAML).
    Two single-journey files are compared even when their ids differ.
    """
    from .diff import diff_journeys

    (a, single), (b, _) = _read_journeys(old), _read_journeys(new)
    if single and len(a) == 1 and len(b) == 1:
        if a[0].id == b[0].id:
            return diff_journeys(a[0], b[0])
        return [f"journey id: {a[0].id!r} → {b[0].id!r}", *diff_journeys(a[0], b[0].model_copy(update={"id": a[0].id}))]
    return diff_journey_sets(a, b)


def journey_for(strategy: Any, journey_id: str, **params: Any) -> Journey:
    """The journey ``journey_id`` of a strategy, or the blueprint of that moment, with parameter overrides.

    Raises
    ------
    JourneyError
        Neither a journey of the strategy nor a blueprint name.
    """
    from .blueprints import BLUEPRINTS, blueprint

    for spec in strategy.journeys:
        if spec.id == journey_id:
            return build_journey(spec, **params)
    if journey_id in BLUEPRINTS:
        return blueprint(journey_id, params)
    known = ", ".join([s.id for s in strategy.journeys] + list(BLUEPRINTS))
    raise JourneyError(f"no journey or blueprint {journey_id!r}. Fix: use one of {known}", journey=journey_id)


def journey_table(journey: Journey) -> Any:
    """One row per node: ``id``, ``type``, ``channel``, ``template``, ``variant``, ``detail`` and ``next``."""
    import pandas as pd

    from .diff import describe_node
    from .model import links

    rows = [
        {
            "id": n.id,
            "type": n.type,
            "channel": getattr(n, "channel", None),
            "template": getattr(n, "template", None),
            "variant": getattr(n, "variant", None),
            "detail": describe_node(n),
            "next": ", ".join(f"{label}: {t}" for label, t in links(n) if t),
        }
        for n in journey.nodes
    ]
    return pd.DataFrame(rows, columns=["id", "type", "channel", "template", "variant", "detail", "next"])


def simulated_volume(
    journey: Journey, *, dataset: Any, strategy: Any, as_of: object, days: int = 14, seed: int = 0
) -> Any:
    """Simulated touches per day and channel (``sent``, ``suppressed``) for one journey over ``days``.

    Runs the cadence simulation (``workbench.cadence``) of this journey alone under the strategy's
    contact policy, starting the day after ``as_of``. Returns None when the cadence package is absent.
    """
    try:
        from ..cadence import daily_volume, plan_from_dataset
    except ImportError:
        return None
    import pandas as pd

    from .spec import JourneySpec

    alone = strategy.model_copy(update={"journeys": [JourneySpec(id=journey.id, graph=journey)]})
    start = (pd.Timestamp(str(as_of)) + pd.Timedelta(days=1)).date().isoformat()
    plan, _ = plan_from_dataset(dataset, alone, start=start, days=days, seed=seed, as_of=as_of, progress=False)
    return daily_volume(plan)
