"""Reading the documents a user writes: strategy files and canonical journey files.

Parsing and checking are pure (:mod:`workbench.models.strategy`,
:mod:`workbench.journeys.checks`); this module reads the text, says which
file it came from, and writes the published JSON Schemas.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..journeys.checks import document_journeys, document_problems
from ..journeys.diff import diff_journey_sets, diff_journeys
from ..models.errors import JourneyError, StrategyError
from ..models.journey import Journey
from ..models.strategy import Strategy, parse_strategy, strategy_json_schema
from .writer import write_text

__all__ = ["diff_files", "dump_json_schema", "load_journeys", "load_strategy", "read_text", "validate_file"]


def read_text(path: str | os.PathLike[str], *, what: str, error: type[Exception] = StrategyError) -> str:
    """The UTF-8 text of a file the user named, or ``error`` saying what is wrong and how to fix it."""
    p = Path(path)
    if not p.exists():
        msg = f"{what} {p} does not exist. Fix: pass the path of an existing file"
        raise error(msg)
    if p.is_dir():
        msg = f"{what} {p} is a folder, not a file. Fix: pass the path of the file inside it"
        raise error(msg)
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{what} {p} is not UTF-8 text (byte {exc.start}). Fix: save the file as UTF-8"
        raise error(msg) from None
    except OSError as exc:
        msg = f"{what} {p} cannot be read ({exc.strerror}). Fix: check the path and its permissions"
        raise error(msg) from None


def load_strategy(path: str | os.PathLike[str]) -> Strategy:
    """Read and validate a strategy YAML file."""
    return parse_strategy(read_text(path, what="strategy file"), source=str(path))


def validate_file(path: str | os.PathLike[str], *, library: Mapping[str, Any] | None = None) -> list[str]:
    """Check a strategy file (or a canonical journey file); one message per problem, empty when valid."""
    p = Path(path)
    try:
        text = read_text(p, what="file")
    except StrategyError as exc:
        return [str(exc)]
    return document_problems(text, source=str(p), is_json=p.suffix == ".json", library=library)


def _read_journeys(path: str | os.PathLike[str]) -> tuple[list[Journey], bool]:
    p = Path(path)
    text = read_text(p, what="journey file", error=JourneyError)
    return document_journeys(text, source=str(p), is_json=p.suffix == ".json")


def load_journeys(path: str | os.PathLike[str]) -> list[Journey]:
    """The journeys of a strategy file, or the one journey of a canonical JSON/YAML file."""
    return _read_journeys(path)[0]


def diff_files(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> list[str]:
    """Describe in words how the journeys of ``new`` differ from those of ``old``.

    Each file is a strategy file or a canonical journey file (JSON or YAML).
    Two single-journey files are compared even when their ids differ.
    """
    (a, single), (b, _) = _read_journeys(old), _read_journeys(new)
    if single and len(a) == 1 and len(b) == 1:
        if a[0].id == b[0].id:
            return diff_journeys(a[0], b[0])
        return [f"journey id: {a[0].id!r} → {b[0].id!r}", *diff_journeys(a[0], b[0].model_copy(update={"id": a[0].id}))]
    return diff_journey_sets(a, b)


def dump_json_schema(path: str | os.PathLike[str]) -> Path:
    """Write the strategy JSON Schema (used to refresh the committed copy)."""
    return write_text(path, json.dumps(strategy_json_schema(), indent=2, sort_keys=True) + "\n")
