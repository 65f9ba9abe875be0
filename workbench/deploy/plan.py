"""Deploy plans and the state file that makes a second deploy plan nothing.

A plan is a list of steps, one per object of the tool (template, segment, user property,
subscription group, flow or journey): ``create``, ``update``, ``new_version`` (Klaviyo flows, whose
definition cannot be changed in place), ``unchanged`` or ``blocked`` (something it needs does not exist
and cannot be created through the API). The state file, next to the strategy, records per object the
id the tool gave it, the hash of the body sent, and for replaced Klaviyo flows the older ids.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import write_text
from ..models.errors import DeployError

__all__ = ["Plan", "Step", "body_hash", "load_state", "save_state", "state_path"]

_SINGULAR = {
    "templates": "template",
    "segments": "segment",
    "flows": "flow",
    "journeys": "journey",
    "user_properties": "user property",
    "subscription_groups": "subscription group",
}
ACTIONS = ("create", "update", "new_version", "unchanged", "blocked")


def body_hash(body: Any) -> str:
    """A stable hash of a request body (canonical JSON)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Step:
    """One object of the plan and what deploy does with it."""

    kind: str
    name: str
    action: str
    detail: str = ""
    body: Any = None
    id: str | None = None

    def line(self) -> str:
        """The step as one line of the printed plan."""
        what = f"{_SINGULAR.get(self.kind, self.kind)} {self.name!r}"
        return f"{self.action:<12} {what}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Plan:
    """What ``workbench deploy`` will do (or did), in order."""

    target: str
    base_url: str
    state_file: Path
    steps: list[Step] = field(default_factory=list)

    def changes(self) -> list[Step]:
        """The steps that change the account (create, update, new version)."""
        return [s for s in self.steps if s.action in ("create", "update", "new_version")]

    def blocked(self) -> list[Step]:
        """The steps that cannot run."""
        return [s for s in self.steps if s.action == "blocked"]

    def text(self) -> str:
        """The plan as printed: every change and blocked step, and a count of unchanged objects."""
        lines = [f"deploy plan for {self.target} at {self.base_url} (state: {self.state_file})"]
        shown = [s for s in self.steps if s.action != "unchanged"]
        lines += [f"  {s.line()}" for s in shown]
        unchanged = len(self.steps) - len(shown)
        if not self.changes() and not self.blocked():
            lines.append(
                "  nothing to do: the account matches the strategy" + (f" ({unchanged} objects)" if unchanged else "")
            )
        elif unchanged:
            lines.append(f"  ({unchanged} objects unchanged)")
        return "\n".join(lines)


def state_path(strategy_path: str | os.PathLike[str], target: str) -> Path:
    """The state file of a strategy and target: ``<strategy stem>.<target>.deploy.json`` beside it."""
    path = Path(strategy_path)
    return path.with_name(f"{path.stem}.{target}.deploy.json")


def load_state(path: Path, target: str) -> dict[str, Any]:
    """The recorded objects (empty when the file does not exist)."""
    if not path.exists():
        return {"target": target, "objects": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = (
            f"{path}: not a readable deploy state file ({exc}). Fix: restore it from version control, or "
            "move it away to start over"
        )
        raise DeployError(msg) from exc
    if not isinstance(state, dict) or state.get("target") != target or not isinstance(state.get("objects"), dict):
        msg = f"{path}: not a {target} deploy state file. Fix: pass the matching --target, or move the file away"
        raise DeployError(msg)
    return state


def save_state(path: Path, state: dict[str, Any]) -> Path:
    """Write the state file atomically."""
    return write_text(path, json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def recorded(state: dict[str, Any], kind: str, name: str) -> dict[str, Any] | None:
    """The state entry of one object, or None."""
    entry: dict[str, Any] | None = state["objects"].get(kind, {}).get(name)
    return entry


def record(state: dict[str, Any], kind: str, name: str, *, id: str, hash: str, previous: str | None = None) -> None:
    """Record an object the deploy created or updated (keeping the ids of replaced versions)."""
    entry = state["objects"].setdefault(kind, {}).get(name) or {}
    older = list(entry.get("previous_ids", []))
    if previous and previous != id:
        older.append(previous)
    state["objects"][kind][name] = {"id": id, "hash": hash, **({"previous_ids": older} if older else {})}
