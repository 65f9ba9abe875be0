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
    "ID_KINDS",
    "NEEDS_PROFILES",
    "STATUSES",
    "ExportContext",
    "ExportResult",
    "Exporter",
    "IdMap",
    "Ids",
    "ReportItem",
    "export_journeys",
    "id_skeleton",
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
    "to_create": "an object the tool needs first: `workbench deploy` creates it (or map an existing one in the id map)",
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


#: Kinds of object an id map holds, by name.
ID_KINDS = ("metrics", "segments", "lists", "templates", "subscription_groups", "user_properties")


@dataclass
class IdMap:
    """The ids of a tool's objects by kind and name (the file ``workbench export --ids`` reads).

    ``ids[kind][name]`` is the tool's id, or None when not known yet. ``workspace_id`` is Dittofeed's
    workspace.
    """

    target: str
    ids: dict[str, dict[str, str | None]] = field(default_factory=lambda: {k: {} for k in ID_KINDS})
    workspace_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "id map") -> IdMap:
        """Read a parsed id map file; unknown kinds or non-string ids raise ExportError."""
        if not isinstance(data, Mapping) or not isinstance(data.get("target"), str):
            msg = (
                f"{source}: not an id map (a mapping with `target` and one mapping per kind). Fix: write "
                "it with `workbench ids`"
            )
            raise ExportError(msg)
        unknown = sorted(set(data) - {"target", "workspace_id", *ID_KINDS})
        if unknown:
            msg = f"{source}: unknown keys {', '.join(unknown)}. Fix: use {', '.join(ID_KINDS)} (and workspace_id)"
            raise ExportError(msg)
        ids: dict[str, dict[str, str | None]] = {}
        for kind in ID_KINDS:
            section = data.get(kind) or {}
            bad = [n for n, v in section.items() if v is not None and not isinstance(v, str)]
            if not isinstance(section, Mapping) or bad:
                msg = f"{source}: {kind} must map names to id strings (or null); bad: {', '.join(map(str, bad[:5]))}"
                raise ExportError(msg)
            ids[kind] = {str(n): v for n, v in section.items()}
        return cls(target=data["target"], ids=ids, workspace_id=data.get("workspace_id"))

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the id map file (names sorted)."""
        out: dict[str, Any] = {"target": self.target}
        if self.target == "dittofeed":
            out["workspace_id"] = self.workspace_id
        for kind in ID_KINDS:
            out[kind] = dict(sorted(self.ids.get(kind, {}).items()))
        return out

    def get(self, kind: str, name: str) -> str | None:
        """The id of ``name``, or None."""
        return self.ids.get(kind, {}).get(name)


class Ids:
    """Resolves the ids a target's bodies reference, collecting every name it was asked for.

    With an id map, a name it lacks is recorded in :attr:`missing` (the export then fails listing all
    of them); without one, ``fallback(kind, name)`` gives the id to use and the report says the object
    is to be created.
    """

    def __init__(self, idmap: IdMap | None, fallback: Callable[[str, str], str]) -> None:
        self.idmap, self.fallback = idmap, fallback
        self.needed: dict[str, dict[str, str]] = {k: {} for k in ID_KINDS}
        self.missing: dict[str, set[str]] = {}

    def get(self, kind: str, name: str, what: str = "") -> str:
        """The id of ``name`` of ``kind`` (``what`` describes it for the skeleton and the report)."""
        found = self.idmap.get(kind, name) if self.idmap is not None else None
        self.needed[kind].setdefault(name, what)
        if found:
            return found
        if self.idmap is not None:
            self.missing.setdefault(kind, set()).add(name)
        return self.fallback(kind, name)

    def check(self, target: str) -> None:
        """Raise ExportError listing every name the id map lacks."""
        if not self.missing:
            return
        parts = [f"{kind}: {', '.join(sorted(names))}" for kind, names in sorted(self.missing.items())]
        msg = (
            f"the {target} id map lacks {sum(len(v) for v in self.missing.values())} ids ({'; '.join(parts)}). "
            f"Fix: run `workbench ids --target {target} --strategy FILE` (with the API key set it looks them up) "
            "and fill in the rest"
        )
        raise ExportError(msg)


def id_skeleton(target: str, needed: Mapping[str, Mapping[str, str]], *, known: IdMap | None = None) -> IdMap:
    """An id map listing every name of ``needed`` with the ids ``known`` has (else None)."""
    ids = {k: {n: (known.get(k, n) if known else None) for n in sorted(needed.get(k, {}))} for k in ID_KINDS}
    return IdMap(target=target, ids=ids, workspace_id=known.workspace_id if known else None)


@dataclass
class ExportResult:
    """What an exporter produced: files (relative name -> text, bytes or DataFrame) and its report."""

    target: str
    files: dict[str, Any] = field(default_factory=dict)
    report: list[ReportItem] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    needed: dict[str, dict[str, str]] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)

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
            "ids_needed": {k: sorted(v) for k, v in self.needed.items() if v},
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
    ids
        Id maps by target (``klaviyo``, ``dittofeed``), or None: placeholders, reported as ``to_create``.
    """

    strategy: Any = None
    assigned: Any = None
    library: Mapping[str, Any] | None = None
    ids: Mapping[str, IdMap] | None = None


Exporter = Callable[[Sequence[Any], ExportContext], ExportResult]
#: Targets that read profiles when there are any (audiences, real customers, SMS cost, profile imports).
NEEDS_PROFILES = frozenset({"audience", "templates", "klaviyo", "dittofeed", "klaviyo_profiles", "dittofeed_profiles"})
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
        msg = f"unknown export target {', '.join(map(repr, unknown))}. Fix: use one of {', '.join(EXPORTERS)} or all"
        raise ExportError(msg)
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
