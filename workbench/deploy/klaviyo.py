"""Deploy to Klaviyo: templates, segments and flows (drafts) through its REST API (revision 2026-07-15).

Metrics cannot be created through the API (an event creates its metric): a flow whose trigger or
split needs a metric the account lacks is ``blocked``. Segments are created once and then left as
they are. Templates are created, then updated in place when their content changes. A flow's
definition cannot be changed in place: a changed flow is created again as a new draft, and the state
file keeps the older flow's id (archive it in Klaviyo once the new one is reviewed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..exporters.companions import tool_content, tool_renderer
from ..exporters.klaviyo import (
    KLAVIYO_REVISION,
    _placeholder,
    segment_definition,
    template_body,
    template_name,
    to_klaviyo,
)
from ..exporters.registry import ExportResult, IdMap, Ids
from ..models.errors import TemplateError
from .client import ApiClient, DeployError, RateLimit
from .plan import Plan, Step, body_hash, record, recorded

__all__ = ["API_KEY_ENV", "BASE_URL", "RATE_LIMITS", "apply", "client", "lookup", "plan"]

BASE_URL = "https://a.klaviyo.com"
API_KEY_ENV = "KLAVIYO_API_KEY"
#: Rate limits per route, from ``x-klaviyo-ratelimit`` of each operation in Klaviyo's OpenAPI document.
RATE_LIMITS = {
    "get_metrics": RateLimit(10, 150),
    "get_segments": RateLimit(75, 750),
    "get_lists": RateLimit(75, 750),
    "get_templates": RateLimit(75, 750),
    "create_template": RateLimit(75, 750),
    "update_template": RateLimit(75, 750),
    "create_segment": RateLimit(1, 15),
    "get_flows": RateLimit(3, 60),
    "create_flow": RateLimit(1, 15),
}
_LIST_ROUTES = {
    "metrics": ("/api/metrics", "get_metrics"),
    "segments": ("/api/segments", "get_segments"),
    "lists": ("/api/lists", "get_lists"),
    "templates": ("/api/templates", "get_templates"),
}


def client(base_url: str | None = None, api_key: str | None = None, **options: Any) -> ApiClient:
    """A client for Klaviyo's API; the key comes from ``KLAVIYO_API_KEY`` unless given."""
    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        msg = (
            f"no Klaviyo API key. Fix: set {API_KEY_ENV} to a private key with flows, templates, segments "
            "and metrics scopes"
        )
        raise DeployError(msg)
    headers = {
        "Authorization": f"Klaviyo-API-Key {key}",
        "revision": KLAVIYO_REVISION,
        "accept": "application/vnd.api+json",
        "content-type": "application/vnd.api+json",
    }
    return ApiClient(base_url or BASE_URL, headers=headers, limits=RATE_LIMITS, **options)


def _pages(api: ApiClient, path: str, route: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = path
    for _ in range(1000):
        if url is None:
            break
        answer = api.request("GET", url, route=route) or {}
        out += answer.get("data", [])
        nxt = (answer.get("links") or {}).get("next")
        url = nxt[len(api.base_url) :] if nxt and nxt.startswith(api.base_url) else nxt
    return out


def lookup(api: ApiClient) -> IdMap:
    """The ids of the account's metrics, segments, lists and templates, by name."""
    ids = IdMap(target="klaviyo")
    for kind, (path, route) in _LIST_ROUTES.items():
        for item in _pages(api, path, route):
            name = (item.get("attributes") or {}).get("name")
            if name:
                ids.ids[kind].setdefault(name, item["id"])
    return ids


def _known(idmap: IdMap | None, account: IdMap | None, state: dict[str, Any]) -> dict[str, dict[str, str]]:
    known: dict[str, dict[str, str]] = {}
    for source in (account, idmap):
        for kind, names in (source.ids if source else {}).items():
            known.setdefault(kind, {}).update({n: v for n, v in names.items() if v})
    for kind in ("templates", "segments"):
        for name, entry in state["objects"].get(kind, {}).items():
            known.setdefault(kind, {})[name] = entry["id"]
    return known


def _bodies(
    journeys: Sequence[Any], strategy: Any, known: dict[str, dict[str, str]]
) -> tuple[dict[str, Any], ExportResult, Ids]:
    ids = Ids(None, lambda kind, name: known.get(kind, {}).get(name) or _placeholder(kind, name))
    result = ExportResult("klaviyo")
    renderer = tool_renderer(strategy, "klaviyo")
    flows = {j.name: to_klaviyo(j, strategy=strategy, result=result, ids=ids, renderer=renderer) for j in journeys}
    return flows, result, ids


def plan(
    journeys: Sequence[Any],
    strategy: Any,
    *,
    state: dict[str, Any],
    state_file: Path,
    idmap: IdMap | None = None,
    account: IdMap | None = None,
    base_url: str = BASE_URL,
) -> Plan:
    """What a deploy would create or change; nothing is sent."""
    known = _known(idmap, account, state)
    flows, _, ids = _bodies(journeys, strategy, known)
    out = Plan("klaviyo", base_url, state_file)
    renderer = tool_renderer(strategy, "klaviyo")
    for name, what in sorted(ids.needed["templates"].items()):
        moment_variant = _template_key(journeys, name)
        if moment_variant is None:
            continue
        try:
            body = template_body(tool_content(renderer, *moment_variant))
        except TemplateError as exc:
            out.steps.append(Step("templates", name, "blocked", str(exc)))
            continue
        out.steps.append(_object_step(state, "templates", name, body, known, what, updatable=True))
    for name, what in sorted(ids.needed["segments"].items()):
        out.steps.append(_object_step(state, "segments", name, segment_definition(name), known, what, updatable=False))
    missing_metrics = sorted(n for n in ids.needed["metrics"] if not known.get("metrics", {}).get(n))
    for name, body in flows.items():
        entry = recorded(state, "flows", name)
        needs = [m for m in missing_metrics if _placeholder("metrics", m) in str(body)]
        if needs:
            names = ", ".join(map(repr, needs))
            if account is None:
                why = (
                    f"metric ids of {names} unknown (the account was not read): set {API_KEY_ENV} to look them up, "
                    "or fill them in the id map (`workbench ids`)"
                )
            else:
                why = (
                    f"metric {names} not in the account: send the event once (or connect the integration) "
                    "so Klaviyo creates it"
                )
            out.steps.append(Step("flows", name, "blocked", why, body))
            continue
        digest = body_hash(body)
        if entry is None:
            out.steps.append(Step("flows", name, "create", "new draft flow", body))
        elif entry["hash"] == digest:
            out.steps.append(Step("flows", name, "unchanged", "", body, entry["id"]))
        else:
            out.steps.append(
                Step(
                    "flows",
                    name,
                    "new_version",
                    "definition changed; Klaviyo cannot update a flow definition in place: a new draft flow is "
                    "created "
                    f"and the old one (id {entry['id']}) is kept in the state file to archive after review",
                    body,
                    entry["id"],
                )
            )
    return out


def _template_key(journeys: Sequence[Any], name: str) -> tuple[str, str, str | None] | None:
    for j in journeys:
        for n in j.sends("email"):
            if template_name(n.template, n.variant, n.offer) == name:
                return (n.template, n.variant, n.offer)
    return None


def _object_step(
    state: dict[str, Any],
    kind: str,
    name: str,
    body: Any,
    known: dict[str, dict[str, str]],
    what: str,
    *,
    updatable: bool,
) -> Step:
    entry = recorded(state, kind, name)
    digest = body_hash(body)
    if entry is not None:
        if entry["hash"] == digest or not updatable:
            return Step(kind, name, "unchanged", "", body, entry["id"])
        return Step(kind, name, "update", f"{what}: content changed", body, entry["id"])
    existing = known.get(kind, {}).get(name)
    if existing:
        if updatable:
            return Step(
                kind, name, "update", f"{what}: exists in the account (id {existing}), content replaced", body, existing
            )
        return Step(kind, name, "unchanged", f"exists in the account (id {existing})", body, existing)
    return Step(kind, name, "create", what, body)


def apply(
    journeys: Sequence[Any],
    strategy: Any,
    *,
    api: ApiClient,
    state: dict[str, Any],
    state_file: Path,
    idmap: IdMap | None = None,
    account: IdMap | None = None,
    save: Callable[[dict[str, Any]], Any] | None = None,
) -> Plan:
    """Carry out the plan: templates and segments first, then flows built with their real ids (drafts).

    The state is saved after every object created, so an interrupted deploy resumes where it stopped.
    """
    first = plan(
        journeys, strategy, state=state, state_file=state_file, idmap=idmap, account=account, base_url=api.base_url
    )
    for step in first.steps:
        if step.kind == "flows" or step.action in ("unchanged", "blocked"):
            if (
                step.action == "unchanged"
                and step.id
                and step.kind != "flows"
                and recorded(state, step.kind, step.name) is None
            ):
                record(state, step.kind, step.name, id=step.id, hash=body_hash(step.body))
            continue
        if step.kind == "templates":
            if step.action == "create":
                answer = api.request("POST", "/api/templates", route="create_template", json=step.body)
            else:
                patch = {
                    "data": {
                        "type": "template",
                        "id": step.id,
                        "attributes": {k: v for k, v in step.body["data"]["attributes"].items() if k != "editor_type"},
                    }
                }
                answer = api.request("PATCH", f"/api/templates/{step.id}", route="update_template", json=patch)
        else:
            answer = api.request("POST", "/api/segments", route="create_segment", json=step.body)
        record(state, step.kind, step.name, id=answer["data"]["id"], hash=body_hash(step.body))
        if save:
            save(state)
    final = plan(
        journeys, strategy, state=state, state_file=state_file, idmap=idmap, account=account, base_url=api.base_url
    )
    for step in final.steps:
        if step.kind != "flows" or step.action not in ("create", "new_version"):
            continue
        answer = api.request("POST", "/api/flows", route="create_flow", json=step.body)
        record(state, "flows", step.name, id=answer["data"]["id"], hash=body_hash(step.body), previous=step.id)
        if save:
            save(state)
    done = [s for s in first.steps if s.kind != "flows"] + [s for s in final.steps if s.kind == "flows"]
    return Plan("klaviyo", api.base_url, state_file, done)
