"""Every error the workbench raises on purpose.

The tree::

    WorkbenchError                 anything the workbench rejects, with a remedy
    ├── DataContractError          an input table breaks the data contract
    ├── StrategyError              the strategy file is invalid
    ├── TemplateError              a message template cannot be rendered
    ├── JourneyError               a journey graph is invalid
    ├── ExportError                a journey cannot be exported to a target
    ├── MeasurementError           results cannot be measured as asked (arms, metrics, windows)
    ├── SimulationError            a send plan cannot be made as asked (start, horizon, journeys)
    ├── FileError                  a file or folder the user named cannot be read or written
    ├── DeployError                a deploy to an execution tool cannot be planned or applied
    └── RunError                   a notebook run or pipeline step failed

Messages say what is wrong, where (table, column, file, line, node), how many
rows, a few example ids, and how to fix it. Catch ``WorkbenchError`` at an edge
(the command line, a widget) to show the message without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "DataContractError",
    "DeployError",
    "ExportError",
    "FileError",
    "JourneyError",
    "MeasurementError",
    "RunError",
    "SimulationError",
    "StrategyError",
    "TemplateError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Base class: something the user gave cannot be used as it is."""


def _examples(ids: Iterable[object], limit: int = 5) -> list[str]:
    out: list[str] = []
    for value in ids:
        text = str(value)
        if text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


class DataContractError(WorkbenchError):
    """An input table breaks the data contract.

    Attributes give the details a program can act on: ``table``, ``column``,
    ``count`` (bad rows) and ``examples`` (up to five ids of bad rows).
    """

    def __init__(
        self,
        table: str,
        column: str | None,
        problem: str,
        *,
        count: int = 0,
        examples: Sequence[object] = (),
        id_column: str | None = None,
        remedy: str = "",
    ) -> None:
        self.table = table
        self.column = column
        self.count = int(count)
        self.examples = _examples(examples)
        self.problem = problem
        self.remedy = remedy
        where = f"{table}.{column}" if column else table
        parts = [f"{where}: {problem}"]
        if self.count:
            parts.append(f"{self.count} row{'s' if self.count != 1 else ''}")
        if self.examples:
            label = id_column or "id"
            parts.append(f"e.g. {label} " + ", ".join(self.examples))
        msg = " — ".join(parts[:1]) + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")
        if remedy:
            msg += f". Fix: {remedy}"
        super().__init__(msg)


class StrategyError(WorkbenchError):
    """The strategy file is invalid (with the file, YAML line and remedy)."""


class TemplateError(WorkbenchError):
    """A template cannot be rendered (names the template, line and variable)."""


class JourneyError(WorkbenchError):
    """A journey graph is invalid (names the journey and node)."""

    def __init__(self, message: str, *, journey: str | None = None, node: str | None = None) -> None:
        self.journey = journey
        self.node = node
        super().__init__(message)


class ExportError(WorkbenchError):
    """A journey cannot be exported to a target."""


class MeasurementError(WorkbenchError):
    """Results cannot be measured as asked: an unknown arm or metric, too few units, a bad window."""


class SimulationError(WorkbenchError):
    """A send plan cannot be made as asked: a bad start or horizon, a journey the simulator cannot follow."""


class FileError(WorkbenchError):
    """A file or folder the user named cannot be read or written (missing, a folder not a file, no access)."""


class DeployError(WorkbenchError):
    """A deploy could not be planned or applied (names the request, the answer and the fix)."""


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is the user's Ctrl-C: Python's KeyboardInterrupt, or DuckDB's "Query interrupted",
    the RuntimeError it raises in its place when the signal arrives while a query runs."""
    return isinstance(exc, KeyboardInterrupt) or (type(exc) is RuntimeError and str(exc) == "Query interrupted")


class RunError(WorkbenchError):
    """A notebook run failed (names the notebook, cell and error)."""
