"""Deploy to Dittofeed through its admin API: user properties, subscription groups, segments,
templates and journeys (as drafts, status NotStarted), each an idempotent ``PUT`` upsert by id.

The ids are the ones the export uses (the id map, else deterministic UUIDs), so an object is
created with its id and later updated in place. The base URL defaults to Dittofeed's hosted API and
is overridable for a self-hosted install.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..exporters.dittofeed import export_dittofeed
from ..exporters.registry import ExportContext, IdMap, id_skeleton, placeholder_id
from .client import ApiClient, DeployError, RateLimit
from .plan import Plan, Step, body_hash, record, recorded

__all__ = ["API_KEY_ENV", "BASE_URL", "ROUTES", "apply", "client", "lookup", "plan"]

BASE_URL = "https://app.dittofeed.com"
API_KEY_ENV = "DITTOFEED_API_KEY"
#: Admin API route of each kind, in the order a deploy upserts them (later kinds reference earlier ones).
ROUTES = {
    "user_properties": "/api/admin/user-properties",
    "subscription_groups": "/api/admin/subscription-groups",
    "segments": "/api/admin/segments",
    "templates": "/api/admin/content/templates",
    "journeys": "/api/admin/journeys",
}
_LIST_KEYS = {
    "user_properties": "userProperties",
    "segments": "segments",
    "templates": "templates",
    "journeys": "journeys",
}
#: Dittofeed documents no rate limit for its admin API; the client stays at a modest pace.
RATE_LIMITS = {kind: RateLimit(10, 300) for kind in ROUTES}


def client(base_url: str | None = None, api_key: str | None = None, **options: Any) -> ApiClient:
    """A client for Dittofeed's admin API; the key comes from ``DITTOFEED_API_KEY`` unless given."""
    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        msg = f"no Dittofeed admin API key. Fix: set {API_KEY_ENV} (Settings > Admin API keys in Dittofeed)"
        raise DeployError(msg)
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    return ApiClient(base_url or BASE_URL, headers=headers, limits=RATE_LIMITS, **options)


def lookup(api: ApiClient, workspace_id: str) -> IdMap:
    """The ids of the workspace's user properties, subscription groups, segments and templates, by name."""
    ids = IdMap(target="dittofeed", workspace_id=workspace_id)
    for kind, path in ROUTES.items():
        if kind == "journeys":
            continue
        answer = api.request("GET", path, route=kind, params={"workspaceId": workspace_id})
        items = answer if isinstance(answer, list) else (answer or {}).get(_LIST_KEYS[kind], [])
        for item in items:
            ids.ids[kind].setdefault(item["name"], item["id"])
    return ids


def _bodies(journeys: Sequence[Any], strategy: Any, idmap: IdMap | None) -> dict[str, dict[str, Any]]:
    """The upsert bodies; names the id map lacks get the deterministic ids the export would use."""
    needed = export_dittofeed(journeys, ExportContext(strategy=strategy)).needed
    filled = id_skeleton("dittofeed", needed, known=idmap)
    for kind, names in filled.ids.items():
        for name in names:
            names[name] = names[name] or placeholder_id(kind, name)
    filled.workspace_id = idmap.workspace_id if idmap else None
    result = export_dittofeed(journeys, ExportContext(strategy=strategy, ids={"dittofeed": filled}))
    bodies = {kind: dict(result.resources.get(kind, {})) for kind in ROUTES if kind != "journeys"}
    bodies["journeys"] = {j.name: json.loads(result.files[f"{j.id}.json"]) for j in journeys}
    return bodies


def plan(
    journeys: Sequence[Any],
    strategy: Any,
    *,
    state: dict[str, Any],
    state_file: Path,
    idmap: IdMap | None = None,
    base_url: str = BASE_URL,
) -> Plan:
    """What a deploy would upsert; nothing is sent."""
    out = Plan("dittofeed", base_url, state_file)
    for kind, items in _bodies(journeys, strategy, idmap).items():
        for name, body in sorted(items.items()):
            entry = recorded(state, kind, name)
            digest = body_hash(body)
            if entry is None:
                detail = "new draft (status NotStarted)" if kind == "journeys" else f"upsert with id {body['id']}"
                out.steps.append(Step(kind, name, "create", detail, body, body["id"]))
            elif entry["hash"] == digest:
                out.steps.append(Step(kind, name, "unchanged", "", body, entry["id"]))
            else:
                out.steps.append(
                    Step(kind, name, "update", f"changed; upserted in place (id {body['id']})", body, body["id"])
                )
    return out


def apply(
    journeys: Sequence[Any],
    strategy: Any,
    *,
    api: ApiClient,
    state: dict[str, Any],
    state_file: Path,
    idmap: IdMap | None = None,
    save: Callable[[dict[str, Any]], Any] | None = None,
) -> Plan:
    """Upsert every changed object in dependency order; record each in the state as it lands."""
    steps = plan(journeys, strategy, state=state, state_file=state_file, idmap=idmap, base_url=api.base_url)
    for step in steps.changes():
        if step.id is None:  # plan() gives every step the id in its upsert body
            msg = f"the {step.kind} {step.name!r} has no id to upsert with. Fix: make the steps with dittofeed.plan"
            raise DeployError(msg)
        answer = api.request("PUT", ROUTES[step.kind], route=step.kind, json=step.body) or {}
        record(state, step.kind, step.name, id=answer.get("id", step.id), hash=body_hash(step.body))
        if save:
            save(state)
    return steps
