"""The exporter registry and the report every exporter returns.

An exporter is a pure function ``(journeys, context) -> ExportResult``: it
returns file contents and a report of what it mapped, emulated, could not
carry, or what must be created in the tool first. :func:`export_journeys`
runs several; :func:`workbench.io.write_exports` writes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..models.errors import ExportError

__all__ = [
    "EXPORTERS",
    "STATUSES",
    "ExportContext",
    "ExportResult",
    "Exporter",
    "ReportItem",
    "export_journeys",
    "placeholder_id",
    "register",
    "resolve_targets",
    "templates_contained",
]

Status = Literal["mapped", "emulated", "not_carried", "to_create", "missing", "written"]
#: What each report status means.
STATUSES: dict[str, str] = {
    "mapped": "carried by a native feature of the target",
    "emulated": "carried by a combination of features that behaves close to, not exactly like, the journey",
    "not_carried": "the target cannot express it: enforce it elsewhere (the plan or the tool's settings)",
    "to_create": "a placeholder id in the export: create the object in the tool and replace the id",
    "missing": "an input was not available, so a companion file was not written",
    "written": "a companion file was written",
}


@dataclass(frozen=True)
class ReportItem:
    """One line of an export report."""

    journey: str
    feature: str
    status: Status
    detail: str
    node: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the report file."""
        return {
            "journey": self.journey,
            "node": self.node,
            "feature": self.feature,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass
class ExportResult:
    """What an exporter produced: files (relative name -> text, bytes or DataFrame) and its report."""

    target: str
    files: dict[str, Any] = field(default_factory=dict)
    report: list[ReportItem] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)

    def note(self, journey: str, feature: str, status: Status, detail: str, node: str | None = None) -> None:
        """Add a report line."""
        self.report.append(ReportItem(journey, feature, status, detail, node))

    def report_dict(self) -> dict[str, Any]:
        """The report as written to ``<target>/report.json``."""
        counts: dict[str, int] = {}
        for item in self.report:
            counts[item.status] = counts.get(item.status, 0) + 1
        return {
            "target": self.target,
            "files": sorted(self.files),
            "summary": counts,
            "statuses": {k: v for k, v in STATUSES.items() if k in counts},
            "templates": self.templates,
            "unapproved_templates": [
                f"{t['template']}/{t['variant']}" for t in self.templates if t.get("approval") != "approved"
            ],
            "items": [i.as_dict() for i in self.report],
        }


@dataclass(frozen=True)
class ExportContext:
    """Everything besides the journeys an exporter may read.

    Attributes
    ----------
    strategy
        The strategy (brand facts, segments, policy), or None.
    assigned
        Profiles with segment columns (``segments.assign``), for audience files; or None.
    library
        Template manifests by moment id, or None.
    """

    strategy: Any = None
    assigned: Any = None
    library: Mapping[str, Any] | None = None


Exporter = Callable[[Sequence[Any], ExportContext], ExportResult]
#: Exporters by target name, in registration order.
EXPORTERS: dict[str, Exporter] = {}


def register(name: str) -> Callable[[Exporter], Exporter]:
    """Decorator: register an exporter under ``name`` (the ``--target`` of ``workbench export``)."""

    def wrap(fn: Exporter) -> Exporter:
        EXPORTERS[name] = fn
        return fn

    return wrap


def resolve_targets(targets: str | Iterable[str] | None) -> list[str]:
    """Target names from ``"all"``, a comma-separated string or a list; unknown names raise ExportError."""
    if targets is None or targets == "all":
        return list(EXPORTERS)
    names = [t.strip() for t in targets.split(",")] if isinstance(targets, str) else list(targets)
    if "all" in names:
        return list(EXPORTERS)
    unknown = [t for t in names if t not in EXPORTERS]
    if unknown:
        raise ExportError(
            f"unknown export target {', '.join(map(repr, unknown))}. Fix: use one of {', '.join(EXPORTERS)} or all"
        )
    return list(dict.fromkeys(names))


_NS = uuid.UUID("6f1c1d1e-3b0a-4c55-9d1e-7a1f0e2b9c01")


def placeholder_id(kind: str, name: str) -> str:
    """A deterministic placeholder id (a UUID derived from ``kind`` and ``name``) for an object to create."""
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


def export_journeys(
    journeys: Sequence[Any], *, targets: str | Iterable[str] | None = "all", context: ExportContext | None = None
) -> dict[str, ExportResult]:
    """Run the exporters of ``targets`` over ``journeys`` (pure: nothing is written)."""
    ctx = context or ExportContext()
    contained = templates_contained(journeys, ctx.library)
    results = {name: EXPORTERS[name](journeys, ctx) for name in resolve_targets(targets)}
    for result in results.values():
        result.templates = contained
    return results


def templates_contained(journeys: Sequence[Any], library: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every template and variant the journeys send, with owner, version and approval state from the library.

    An export says which templates it contains and whether each is approved,
    so a draft is not launched by accident; a template the library does not know
    has approval ``unknown``.
    """
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for journey in journeys:
        for channel, template, variant in journey.templates():
            key = (template, variant, channel)
            if key in rows:
                rows[key]["journeys"].append(journey.id)
                continue
            manifest = (library or {}).get(template)
            rows[key] = {
                "template": template,
                "variant": variant,
                "channel": channel,
                "owner": getattr(manifest, "owner", None),
                "version": getattr(manifest, "version", None),
                "approval": getattr(manifest, "approval", "unknown"),
                "journeys": [journey.id],
            }
    return list(rows.values())
