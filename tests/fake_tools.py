"""Local stand-ins for Klaviyo's and Dittofeed's APIs, for deploy tests.

Each server listens on 127.0.0.1 (a free port), checks every request against the tool's committed
spec (Klaviyo: the OpenAPI document of the operation, its required headers and request body;
Dittofeed: the admin API's TypeBox types as JSON Schema, and the constraints its upsert enforces),
keeps state, and answers in the documented shapes (every answer is validated against the documented
response schema before it is sent). A request that breaks the spec is answered 400 and recorded in
``problems``, so a test can assert there were none. ``fail_next`` makes the next matching requests
answer 429 or 5xx.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft7Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPECS = Path(__file__).resolve().parent / "specs"
KLAVIYO_OPERATIONS = [
    "get_metrics",
    "get_segments",
    "get_lists",
    "get_templates",
    "create_template",
    "update_template",
    "create_segment",
    "get_flows",
    "create_flow",
]


class _Server:
    """A threaded HTTP server on 127.0.0.1 calling ``self.handle(method, path, query, headers, body)``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.failures: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                with owner.lock:
                    status, headers, payload = owner._dispatch(
                        self.command, parts.path, parse_qs(parts.query), self.headers, raw
                    )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.send_header("content-type", owner.content_type)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    content_type = "application/json"

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(
        self, method: str, path: str, status: int, *, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests ``method path`` with ``status`` (and ``headers``)."""
        self.failures.append(
            {"method": method, "path": path, "status": status, "headers": headers or {}, "times": times}
        )

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self.problems.append(f"{method} {path}: body is not JSON")
            return 400, {}, {"error": "not json"}
        self.requests.append({"method": method, "path": path, "query": query, "body": body})
        for failure in self.failures:
            if failure["times"] > 0 and failure["method"] == method and failure["path"] == path:
                failure["times"] -= 1
                return (
                    failure["status"],
                    failure["headers"],
                    {"errors": [{"status": failure["status"], "detail": "injected"}]},
                )
        return self.handle(method, path, query, headers, body)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def bad(self, message: str) -> tuple[int, dict[str, str], Any]:
        self.problems.append(message)
        return 400, {}, {"errors": [{"status": 400, "detail": message}]}


# ---------------------------------------------------------------- Klaviyo


class _Operation:
    def __init__(self, name: str) -> None:
        doc = json.loads((SPECS / "klaviyo" / f"{name}.json").read_text())
        ((path, ops),) = doc["paths"].items()
        ((method, op),) = [(m, o) for m, o in ops.items() if m in ("get", "post", "patch", "put", "delete")]
        self.name, self.method = name, method.upper()
        self.pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", path) + "$")
        self.headers = [p["name"] for p in op.get("parameters", []) if p.get("in") == "header" and p.get("required")]
        self.query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        components = {"components": doc["components"]}
        content = op.get("requestBody", {}).get("content", {})
        self.request = (
            OAS30Validator({**content["application/vnd.api+json"]["schema"], **components}) if content else None
        )
        ok = next(k for k in op["responses"] if k.startswith("2"))
        response = op["responses"][ok]
        if "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].split("/")[-1]]
        self.status = int(ok)
        schema = response.get("content", {}).get("application/vnd.api+json", {}).get("schema")
        self.response = OAS30Validator({**schema, **components}) if schema else None


class FakeKlaviyo(_Server):
    """Klaviyo's REST API (revision 2026-07-15): metrics, segments, lists, templates and flows."""

    content_type = "application/vnd.api+json"

    def __init__(self, *, metrics: list[str] | None = None, api_key: str = "pk_test") -> None:
        super().__init__()
        self.api_key = api_key
        self.ops = [_Operation(n) for n in KLAVIYO_OPERATIONS]
        self.metrics = {name: self._id() for name in (metrics or [])}
        self.segments: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self._n = 0

    def _id(self) -> str:
        return uuid.uuid4().hex[:6].upper()

    def _resource(self, type_: str, id_: str, attributes: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": type_,
            "id": id_,
            "attributes": attributes,
            "links": {"self": f"{self.url}/api/{type_}s/{id_}/"},
        }

    def _answer(self, op: _Operation, payload: Any, status: int | None = None) -> tuple[int, dict[str, str], Any]:
        if op.response is not None:
            errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in op.response.iter_errors(payload)]
            if errors:
                self.problems.append(f"fake {op.name} answer breaks the documented shape: {errors[:3]}")
                return 500, {}, {"errors": errors[:3]}
        return status or op.status, {}, payload

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, dict[str, str], Any]:
        match = None
        for op in self.ops:
            m = op.pattern.match(path)
            if m and op.method == method:
                match = (op, m.groups())
                break
        if match is None:
            return self.bad(f"{method} {path}: no such operation in the committed OpenAPI documents")
        op, args = match
        for name in op.headers:
            if name not in headers:
                return self.bad(f"{op.name}: required header {name!r} missing")
        if headers.get("revision") != "2026-07-15":
            return self.bad(f"{op.name}: revision header {headers.get('revision')!r}, expected 2026-07-15")
        if headers.get("Authorization") != f"Klaviyo-API-Key {self.api_key}":
            return 401, {}, {"errors": [{"status": 401, "detail": "bad key"}]}
        unknown = set(query) - op.query
        if unknown:
            return self.bad(f"{op.name}: unknown query parameters {sorted(unknown)}")
        if op.request is not None:
            errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in op.request.iter_errors(body)]
            if errors:
                return self.bad(f"{op.name}: request body breaks the schema: {errors[:3]}")
        return getattr(self, "_" + op.name)(op, body, *args)

    def _collection(self, op: _Operation, type_: str, items: dict[str, dict[str, Any]]) -> Any:
        data = [self._resource(type_, i, a) for i, a in items.items()]
        return self._answer(op, {"data": data, "links": {"self": f"{self.url}/api/{type_}s/"}})

    def _get_metrics(self, op: _Operation, body: Any) -> Any:
        items = {
            i: {
                "name": n,
                "created": "2026-01-01T00:00:00+00:00",
                "updated": "2026-01-01T00:00:00+00:00",
                "integration": {},
            }
            for n, i in self.metrics.items()
        }
        return self._collection(op, "metric", items)

    def _get_segments(self, op: _Operation, body: Any) -> Any:
        return self._collection(op, "segment", {i: self._segment_attrs(a) for i, a in self.segments.items()})

    @staticmethod
    def _segment_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
        return {"name": attrs["name"], "is_active": True, "is_processing": False, "is_starred": False}

    def _get_lists(self, op: _Operation, body: Any) -> Any:
        return self._collection(op, "list", self.lists)

    def _get_templates(self, op: _Operation, body: Any) -> Any:
        return self._collection(
            op, "template", {i: {**a, "html": a.get("html") or ""} for i, a in self.templates.items()}
        )

    def _get_flows(self, op: _Operation, body: Any) -> Any:
        return self._collection(op, "flow", {i: {"name": f["name"], "status": "draft"} for i, f in self.flows.items()})

    def _create_template(self, op: _Operation, body: Any) -> Any:
        attrs = dict(body["data"]["attributes"])
        if any(t["name"] == attrs["name"] for t in self.templates.values()):
            return self.bad(f"create_template: a template named {attrs['name']!r} exists already")
        tid = self._id()
        self.templates[tid] = attrs
        return self._answer(op, {"data": self._resource("template", tid, attrs)})

    def _update_template(self, op: _Operation, body: Any, tid: str) -> Any:
        if tid not in self.templates or body["data"].get("id") != tid:
            return 404, {}, {"errors": [{"status": 404, "detail": f"no template {tid}"}]}
        self.templates[tid].update(body["data"]["attributes"])
        return self._answer(op, {"data": self._resource("template", tid, self.templates[tid])})

    def _create_segment(self, op: _Operation, body: Any) -> Any:
        attrs = dict(body["data"]["attributes"])
        sid = self._id()
        self.segments[sid] = attrs
        return self._answer(op, {"data": self._resource("segment", sid, self._segment_attrs(attrs))})

    def _create_flow(self, op: _Operation, body: Any) -> Any:
        attrs = body["data"]["attributes"]
        definition = attrs["definition"]
        ids = {a["temporary_id"] for a in definition["actions"]}
        known = set(self.metrics.values()) | set(self.segments) | set(self.templates)
        for ref in re.findall(r'"(?:id|metric_id|template_id)": "([^"]+)"', json.dumps(definition)):
            if ref not in known and ref not in ids:
                return self.bad(f"create_flow: {attrs['name']!r} references {ref!r}, which the account does not have")
        fid = self._id()
        self.flows[fid] = {"name": attrs["name"], "definition": definition}
        return self._answer(op, {"data": self._resource("flow", fid, {"name": attrs["name"], "status": "draft"})})


# ---------------------------------------------------------------- Dittofeed


class FakeDittofeed(_Server):
    """Dittofeed's admin API: user properties, subscription groups, segments, templates and journeys."""

    ROUTES: ClassVar[dict[str, tuple[str, str, str, str | None, str | None]]] = {
        "/api/admin/user-properties": (
            "user_properties",
            "UpsertUserPropertyResource",
            "SavedUserPropertyResource",
            "ReadAllUserPropertiesResponse",
            "userProperties",
        ),
        "/api/admin/subscription-groups": (
            "subscription_groups",
            "UpsertSubscriptionGroupResource",
            "SavedSubscriptionGroupResource",
            None,
            None,
        ),
        "/api/admin/segments": (
            "segments",
            "UpsertSegmentResource",
            "SavedSegmentResource",
            "GetSegmentsResponse",
            "segments",
        ),
        "/api/admin/content/templates": (
            "templates",
            "UpsertMessageTemplateResource",
            "MessageTemplateResource",
            "GetMessageTemplatesResponse",
            "templates",
        ),
        "/api/admin/journeys": (
            "journeys",
            "UpsertJourneyResource",
            "SavedJourneyResource",
            "GetJourneysResponse",
            "journeys",
        ),
    }

    def __init__(self, *, workspace_id: str, api_key: str = "df_test") -> None:
        super().__init__()
        self.workspace_id, self.api_key = workspace_id, api_key
        spec = json.loads((SPECS / "dittofeed" / "admin_api.schema.json").read_text())
        registry = Registry().with_resource(
            "LowCodeEmailJsonBody", Resource.from_contents(spec["LowCodeEmailJsonBody"], default_specification=DRAFT7)
        )
        self.schemas = {k: Draft7Validator(v, registry=registry) for k, v in spec.items()}
        self.store: dict[str, dict[str, dict[str, Any]]] = {r[0]: {} for r in self.ROUTES.values()}
        self.clock = 1_700_000_000_000

    def _check(self, schema: str, payload: Any) -> list[str]:
        return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in self.schemas[schema].iter_errors(payload)]

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, dict[str, str], Any]:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {}, {"message": "unauthorized"}
        route = self.ROUTES.get(path)
        if route is None:
            return self.bad(f"{method} {path}: not an admin API route")
        kind, upsert, saved, listing, key = route
        if method == "GET":
            if query.get("workspaceId") != [self.workspace_id]:
                return self.bad(f"GET {path}: workspaceId {query.get('workspaceId')} is not the workspace")
            items = list(self.store[kind].values())
            payload: Any = items if listing is None else {key: items}
            problems = self._check(listing, payload) if listing else []
            return (500, {}, problems) if problems else (200, {}, payload)
        if method != "PUT":
            return self.bad(f"{method} {path}: only GET and PUT are used")
        problems = self._check(upsert, body)
        if problems:
            return self.bad(f"PUT {path}: body breaks {upsert}: {problems[:3]}")
        if body["workspaceId"] != self.workspace_id:
            return self.bad(f"PUT {path}: workspaceId {body['workspaceId']} is not the workspace")
        if kind == "journeys":
            problem = self._journey_problem(body)
            if problem:
                return 400, {}, {"message": problem}
        self.clock += 1000
        stored = {**self.store[kind].get(body["id"], {}), **body, "updatedAt": self.clock}
        if kind in ("segments", "user_properties", "journeys", "subscription_groups"):
            stored.setdefault("createdAt", self.clock)
            if kind in ("segments", "user_properties"):
                stored["definitionUpdatedAt"] = self.clock
        if kind == "templates":
            stored.setdefault("type", body["definition"]["type"])
        self.store[kind][body["id"]] = stored
        problems = self._check(saved, stored)
        if problems:
            self.problems.append(f"fake {kind} answer breaks {saved}: {problems[:3]}")
            return 500, {}, {"message": "bad fake"}
        return 200, {}, stored

    def _journey_problem(self, body: dict[str, Any]) -> str | None:
        """What Dittofeed's upsert refuses: unknown references; a wait on a non-keyed segment after an event entry."""
        definition = body["definition"]
        segments = self.store["segments"]
        entry = definition["entryNode"]
        refs: list[tuple[str, str]] = []
        if entry["type"] == "EntryNode":
            refs.append(("segments", entry["segment"]))
        for node in definition["nodes"]:
            if node["type"] == "SegmentSplitNode":
                refs.append(("segments", node["variant"]["segment"]))
            elif node["type"] == "WaitForNode":
                refs += [("segments", c["segmentId"]) for c in node["segmentChildren"]]
                if entry["type"] == "EventEntryNode" and any(
                    segments.get(c["segmentId"], {}).get("definition", {}).get("entryNode", {}).get("type")
                    != "KeyedPerformed"
                    for c in node["segmentChildren"]
                ):
                    return "A journey cannot have both an Event Entry node and a Wait For node"
            elif node["type"] == "MessageNode":
                refs += [
                    ("templates", node["variant"]["templateId"]),
                    ("subscription_groups", node["subscriptionGroupId"]),
                ]
            elif node["type"] == "DelayNode" and node["variant"]["type"] == "UserProperty":
                refs.append(("user_properties", node["variant"]["userProperty"]))
        for kind, ref in refs:
            if ref not in self.store[kind]:
                return f"journey {body['name']!r} references {kind} {ref!r}, which the workspace does not have"
        return None
