"""Exporters: real tool schemas, canonical round trip, reports that never drop a feature, companions, speed."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from openapi_schema_validator import OAS30Validator

from workbench.exporters import (
    EXPORTERS,
    ExportContext,
    export_journeys,
    resolve_targets,
    to_dittofeed,
    to_klaviyo,
    to_mermaid,
)
from workbench.exporters.companions import holdout_range
from workbench.journeys import (
    BLUEPRINTS,
    Journey,
    build_journeys,
    canonical_json_schema,
    journey_from_json,
    journey_from_yaml,
    journey_to_json,
    journey_to_yaml,
)
from workbench.models.errors import ExportError

PARAMS = {
    "default": {},
    "non_default": {
        "first_delay": "3h",
        "sms_delay": "30m",
        "step_gap": "2d",
        "channel_order": "preference",
        "holdout_percent": 7.5,
        "offer": "SAVE10",
        "variant": "B",
        "send_time": {"time": "09:30", "days": ["tuesday", "thursday"]},
        "reentry": {"mode": "after", "after": "14d"},
    },
    "sms_first_no_holdout": {
        "channel_order": "sms_first",
        "holdout_percent": 0,
        "reentry": {"mode": "always"},
        "offset_days": -3,
    },
}
CASES = [(name, label) for name in BLUEPRINTS for label in PARAMS]


@pytest.fixture(scope="module")
def klaviyo_validator(specs):
    doc = json.loads((specs / "klaviyo" / "create_flow.json").read_text())
    return OAS30Validator({**doc["components"]["schemas"]["FlowCreateQuery"], "components": doc["components"]})


@pytest.fixture(scope="module")
def dittofeed_validator(specs):
    return Draft7Validator(json.loads((specs / "dittofeed" / "journey_definition.schema.json").read_text()))


@pytest.fixture(scope="module")
def klaviyo_request(specs):
    """Validators of the request bodies of the Klaviyo operations deploy calls, by operation."""
    out = {}
    for name in ("create_flow", "create_template", "create_segment", "bulk_import_profiles"):
        doc = json.loads((specs / "klaviyo" / f"{name}.json").read_text())
        ((_, ops),) = doc["paths"].items()
        schema = ops["post"]["requestBody"]["content"]["application/vnd.api+json"]["schema"]
        out[name] = OAS30Validator({**schema, "components": doc["components"]})
    return out


@pytest.fixture(scope="module")
def dittofeed_admin(specs):
    """Validators of Dittofeed's admin-API types (JSON Schema from its TypeBox definitions), by type name."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    spec = json.loads((specs / "dittofeed" / "admin_api.schema.json").read_text())
    registry = Registry().with_resource(
        "LowCodeEmailJsonBody", Resource.from_contents(spec["LowCodeEmailJsonBody"], default_specification=DRAFT7)
    )
    return {name: Draft7Validator(schema, registry=registry) for name, schema in spec.items()}


def _errors(validator, body):
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(json.loads(json.dumps(body)))]


def _links(action):
    targets = list((action.get("links") or {}).values())
    targets += [b["links"].get("next") for b in (action.get("data") or {}).get("branches", []) or []]
    return [t for t in targets if t is not None]


@pytest.mark.parametrize(("name", "label"), CASES)
def test_klaviyo_export_validates_against_flow_create_query(name, label, klaviyo_validator, strategy):
    journey = BLUEPRINTS[name](PARAMS[label])
    if (name, label) == ("post_purchase", "non_default"):
        # three steps routed on the preferred channel: the tree of copies passes the action limit
        with pytest.raises(ExportError, match=r"needs more than 150 Klaviyo actions .* Fix: shorten"):
            to_klaviyo(journey, strategy=strategy)
        return
    body = to_klaviyo(journey, strategy=strategy)
    assert _errors(klaviyo_validator, body) == []
    definition = body["data"]["attributes"]["definition"]
    ids = [a["temporary_id"] for a in definition["actions"]]
    assert len(ids) == len(set(ids)) and definition["entry_action_id"] == ids[0]
    targets = [t for a in definition["actions"] for t in _links(a)]
    # a tree: every action but the entry is linked from exactly one place, and every link lands on an action
    assert sorted(targets) == sorted(ids[1:])
    sms = [a for a in definition["actions"] if a["type"] == "send-sms"]
    assert sms and all(a["data"]["message"]["sms_quiet_hours_enabled"] for a in sms)


@pytest.mark.parametrize(("name", "label"), CASES)
def test_dittofeed_export_validates_against_journey_definition(
    name, label, dittofeed_validator, dittofeed_admin, strategy
):
    journey = BLUEPRINTS[name](PARAMS[label])
    body = to_dittofeed(journey, strategy=strategy)
    assert _errors(dittofeed_admin["UpsertJourneyResource"], body) == []
    assert {"workspaceId", "id", "name", "status", "canRunMultiple", "definition"} <= set(body)
    definition = body["definition"]
    assert _errors(dittofeed_validator, definition) == []
    ids = {n["id"] for n in definition["nodes"]}
    children = [definition["entryNode"]["child"]]
    for n in definition["nodes"]:
        children += [n.get("child"), n.get("timeoutChild")]
        children += [c["id"] for c in n.get("children", []) + n.get("segmentChildren", [])]
        variant = n.get("variant", {})
        children += [variant.get("trueChild"), variant.get("falseChild")]
    assert all(c in ids or c == "ExitNode" for c in children if c is not None)
    assert not any(n["type"] == "RateLimitNode" for n in definition["nodes"])


@pytest.mark.parametrize(("name", "label"), CASES)
def test_canonical_json_round_trips_unchanged(name, label):
    journey = BLUEPRINTS[name](PARAMS[label])
    text = journey_to_json(journey)
    again = journey_from_json(text)
    assert again == journey
    assert journey_to_json(again) == text
    assert journey_from_yaml(journey_to_yaml(journey)) == journey


def test_canonical_document_is_versioned_and_matches_its_schema(root):
    committed = json.loads((root / "workbench" / "schemas" / "journey.schema.json").read_text())
    assert committed == json.loads(json.dumps(canonical_json_schema(), sort_keys=True))
    doc = json.loads(journey_to_json(BLUEPRINTS["win_back"]()))
    assert doc["format"] == "workbench.journey" and doc["format_version"] == 1
    assert list(Draft202012Validator(committed).iter_errors(doc)) == []


def test_strategy_graph_journey_exports_to_the_real_schemas(strategy, klaviyo_validator, dittofeed_validator):
    journeys = {j.id: j for j in build_journeys(strategy)}
    graph = journeys["lapsed_check_in"]
    assert _errors(klaviyo_validator, to_klaviyo(graph, strategy=strategy)) == []
    assert _errors(dittofeed_validator, to_dittofeed(graph, strategy=strategy)["definition"]) == []


def test_klaviyo_mapping_details(strategy):
    journey = BLUEPRINTS["cart_abandonment"]({"holdout_percent": 10})
    result = export_journeys([journey], targets=["klaviyo"], context=ExportContext(strategy=strategy))["klaviyo"]
    body = json.loads(result.files["cart_abandonment.json"])
    definition = body["data"]["attributes"]["definition"]
    assert definition["triggers"][0]["type"] == "metric"
    assert definition["reentry_criteria"] == {"duration": 3, "unit": "day"}
    actions = {a["temporary_id"]: a for a in definition["actions"]}
    guard = actions["step1_sms_consent"]["data"]["profile_filter"]["condition_groups"][0]["conditions"][0]
    assert guard["type"] == "profile-marketing-consent" and guard["consent"]["channel"] == "sms"
    lo, hi = holdout_range("cart_abandonment", 10)
    conditions = actions["holdout_split"]["data"]["profile_filter"]["condition_groups"][0]["conditions"]
    assert [(c["property"], c["filter"]["operator"], c["filter"]["value"]) for c in conditions] == [
        ("properties['holdout_bucket']", "greater-than-or-equal", lo),
        ("properties['holdout_bucket']", "less-than", hi),
    ]
    assert hi - lo == 100  # 10% of 1,000 buckets
    tag = actions[actions["holdout_split"]["links"]["next_if_true"]]
    assert tag["type"] == "update-profile" and tag["links"]["next"] is None
    assert tag["data"]["profile_operations"][0]["property_key"] == "wb_holdout_cart_abandonment"
    email = actions["step1_email"]["data"]["message"]
    assert email["from_email"] == strategy.brand.from_email and email["smart_sending_enabled"] is True
    assert {"param": "utm_medium", "value": "email"} in email["custom_tracking_params"]
    statuses = {(i.feature, i.status) for i in result.report}
    assert ("wait_for_event", "emulated") in statuses and ("contact_policy", "emulated") in statuses
    assert ("metrics", "to_create") in statuses and ("goal", "mapped") in statuses and ("holdout", "mapped") in statuses


def test_dittofeed_report_lists_what_to_create_and_never_uses_rate_limit(strategy):
    journey = BLUEPRINTS["win_back"]()
    result = export_journeys([journey], targets=["dittofeed"], context=ExportContext(strategy=strategy))["dittofeed"]
    body = json.loads(result.files["win_back.json"])
    definition = body["definition"]
    # re-entry after 90 days cannot be carried (Dittofeed restarts at once while still in the segment)
    assert definition["entryNode"]["type"] == "EntryNode" and "reEnter" not in definition["entryNode"]
    assert body["canRunMultiple"] is False
    assert any(i.feature == "reentry" and i.status == "not_carried" for i in result.report)
    to_create = [i.detail for i in result.report if i.status == "to_create"]
    for ref in [definition["entryNode"]["segment"]] + [
        n["subscriptionGroupId"] for n in definition["nodes"] if n["type"] == "MessageNode"
    ]:
        assert any(ref in d for d in to_create)
    assert any(i.feature == "contact_policy" and "RateLimitNode" in i.detail for i in result.report)
    assert any(i.feature == "quiet_hours" and i.status == "not_carried" for i in result.report)
    assert not any(n["type"] in ("RandomCohortNode", "RateLimitNode") for n in definition["nodes"])
    split = next(n for n in definition["nodes"] if n["id"] == "holdout_split")
    segments = {b["id"]: b for b in result.resources["segments"].values()}
    bucket = segments[split["variant"]["segment"]]["definition"]["entryNode"]
    assert bucket == {"id": "entry", "type": "RandomBucket", "percent": 0.1}  # sticky per customer
    assert split["variant"]["trueChild"] == "ExitNode"
    local = [n for n in definition["nodes"] if n["type"] == "DelayNode" and n["variant"]["type"] == "LocalTime"]
    assert local and local[0]["variant"]["allowedDaysOfWeek"] == [2, 3, 4]
    assert all(n["variant"]["defaultTimezone"] == "America/New_York" for n in local)
    assert "timezone" in result.resources["user_properties"]


def test_every_node_is_accounted_for_in_each_report(strategy):
    journeys = build_journeys(strategy)
    results = export_journeys(journeys, targets=["klaviyo", "dittofeed"], context=ExportContext(strategy=strategy))
    for result in results.values():
        for j in journeys:
            reported = {i.node for i in result.report if i.journey == j.id}
            for node in j.nodes:
                if node.type != "end":
                    assert node.id in reported, (result.target, j.id, node.id)


def test_mermaid_diagram(strategy):
    text = to_mermaid(BLUEPRINTS["cart_abandonment"]())
    assert text.startswith("flowchart TD\n")
    assert "n_step1_sms_consent -->|yes| n_step1_sms" in text
    assert "n_holdout_split -->|holdout 10%| n_end_holdout" in text
    assert " end\n" not in text.replace("n_end", "")
    trigger = next(line for line in text.splitlines() if line.startswith("  trigger(["))
    # the trigger's lines break where Mermaid breaks them: the break itself is not escaped into text
    assert "<br/>" in trigger and "#lt;" not in trigger


def test_mermaid_escapes_what_the_strategy_wrote():
    journey = BLUEPRINTS["cart_abandonment"]().model_copy(update={"audience": 'vip <b>"x"</b>'})
    trigger = next(line for line in to_mermaid(journey).splitlines() if line.startswith("  trigger(["))
    assert "audience: vip #lt;b#gt;#quot;x#quot;#lt;/b#gt;" in trigger


def test_unknown_target_is_refused():
    assert resolve_targets("klaviyo, mermaid") == ["klaviyo", "mermaid"]
    assert resolve_targets("all") == list(EXPORTERS)
    with pytest.raises(ExportError, match="unknown export target 'braze'"):
        resolve_targets(["braze"])


def _export_to(folder, strategy, targets, *, dataset=None, library=None, journeys=None, ids=None):
    """Export through the application layer (with a workspace when there is data) and write the files."""
    from workbench.application import Workspace, export
    from workbench.io import write_exports

    if dataset is not None:
        ws = Workspace.create(dataset, strategy, as_of="2026-10-31", library=library)
        chosen = ws.select_journeys(journeys) if journeys is not None else None
        results = ws.exports(targets, journeys=chosen, ids=ids)
    else:
        from workbench.application import strategy_journeys

        chosen = strategy_journeys(strategy, library=library, ids=journeys) if journeys is not None else None
        results = export(strategy, targets, library=library, journeys=chosen, ids=ids)
    return write_exports(results, folder)


def test_export_strategy_writes_all_targets(strategy, sample_dataset, tmp_path):
    _export_to(tmp_path, strategy, "all", dataset=sample_dataset)
    ids = [j.id for j in build_journeys(strategy)]
    companions = ("report", "journey.schema", "templates", "segments", "resources")
    for target in ("canonical", "klaviyo", "dittofeed"):
        assert sorted(p.stem for p in (tmp_path / target).glob("*.json") if p.stem not in companions) == sorted(ids)
        report = json.loads((tmp_path / target / "report.json").read_text())
        assert report["target"] == target and report["items"]
    assert (tmp_path / "canonical" / "journey.schema.json").exists()
    assert sorted(p.stem for p in (tmp_path / "yaml").glob("*.yaml")) == sorted(ids)
    assert sorted(p.stem for p in (tmp_path / "mermaid").glob("*.mmd")) == sorted(ids)
    for jid in ids:
        canonical = (tmp_path / "canonical" / f"{jid}.json").read_text()
        assert journey_to_json(journey_from_json(canonical)) == canonical
        assert journey_from_yaml((tmp_path / "yaml" / f"{jid}.yaml").read_text()) == journey_from_json(canonical)
    cart = pd.read_csv(tmp_path / "audience" / "cart_recovery.csv")
    assert list(cart.columns) == ["customer_id", "email_consent", "sms_consent", "can_email", "can_sms"]
    win_back = pd.read_csv(tmp_path / "audience" / "vip_win_back.csv")
    assert 0 < len(win_back) < len(cart)
    bundle = tmp_path / "templates" / "cart_abandonment" / "A"
    assert "<html" in (bundle / "email.html").read_text().lower()
    assert (bundle / "sms.txt").read_text().startswith(strategy.brand.name)
    report = json.loads((tmp_path / "templates" / "report.json").read_text())
    assert report["summary"] == {
        "written": len({(t, v) for j in build_journeys(strategy) for _, t, v in j.templates()})
    }


def test_template_bundle_uses_render_pair_when_present(strategy, monkeypatch):
    import types

    calls = []

    def fake_render_pair(moment, customer, *, strategy, variant=None):
        calls.append((moment, variant, customer["customer_id"]))
        return types.SimpleNamespace(subject=f"S {moment}", html="<html>x</html>", text="x", sms=f"Northwind: {moment}")

    monkeypatch.setattr("workbench.exporters.companions.load_renderer", lambda: fake_render_pair)
    journey = BLUEPRINTS["win_back"]({"variant": "B"})
    result = export_journeys([journey], targets=["templates"], context=ExportContext(strategy=strategy))["templates"]
    assert calls == [("win_back", "B", "PREVIEW")]
    assert result.files["win_back/B/sms.txt"] == "Northwind: win_back\n"


def test_audience_is_reported_missing_without_a_dataset(strategy, tmp_path):
    _export_to(tmp_path, strategy, ["audience"])
    report = json.loads((tmp_path / "audience" / "report.json").read_text())
    assert set(report["summary"]) == {"missing"} and not list((tmp_path / "audience").glob("*.csv"))


def test_export_refuses_an_invalid_journey(strategy, tmp_path):
    from workbench.models.errors import JourneyError

    with pytest.raises(JourneyError, match="no journey nope"):
        _export_to(tmp_path, strategy, ["canonical"], journeys=["nope"])


def test_yaml_export_is_plain_yaml(strategy):
    result = export_journeys(build_journeys(strategy)[:1], targets=["yaml"])["yaml"]
    (text,) = result.files.values()
    assert Journey.model_validate(yaml.safe_load(text)["journey"]).id == "welcome_series"


def test_every_report_says_which_templates_it_contains_and_flags_drafts(strategy, tmp_path):
    from workbench.messages import load_library

    library = load_library()
    result = _export_to(tmp_path / "a", strategy, "klaviyo,dittofeed", library=library)
    report = json.loads((tmp_path / "a" / "klaviyo" / "report.json").read_text())
    used = {(t["template"], t["variant"], t["channel"]) for t in report["templates"]}
    assert ("cart_abandonment", "A", "email") in used and ("cart_abandonment", "A", "sms") in used
    assert all(t["approval"] == "approved" and t["version"] >= 1 and t["owner"] for t in report["templates"])
    assert report["unapproved_templates"] == [] and result["klaviyo"]["files"]

    draft = {
        k: (v.model_copy(update={"approval": "draft"}) if k == "cart_abandonment" else v) for k, v in library.items()
    }
    _export_to(tmp_path / "b", strategy, "dittofeed", library=draft)
    report = json.loads((tmp_path / "b" / "dittofeed" / "report.json").read_text())
    assert {"cart_abandonment/A"} <= set(report["unapproved_templates"])
    assert all(t["template"] == "cart_abandonment" for t in report["templates"] if t["approval"] == "draft")


# ---------------------------------------------------------------- faithful bodies (content, trees, ids, Dittofeed)


@pytest.fixture(scope="module")
def sample_exports(strategy, assigned):
    """The strategy's journeys exported to every tool target, with the sample customers' profiles."""
    journeys = build_journeys(strategy)
    targets = ["klaviyo", "dittofeed", "klaviyo_profiles", "dittofeed_profiles"]
    return journeys, export_journeys(
        journeys, targets=targets, context=ExportContext(strategy=strategy, assigned=assigned)
    )


def _klaviyo_actions(result, journey_id):
    return json.loads(result.files[f"{journey_id}.json"])["data"]["attributes"]["definition"]["actions"]


def test_every_klaviyo_body_and_companion_validates(sample_exports, klaviyo_request):
    journeys, results = sample_exports
    result = results["klaviyo"]
    for j in journeys:
        assert _errors(klaviyo_request["create_flow"], json.loads(result.files[f"{j.id}.json"])) == []
    for body in json.loads(result.files["templates.json"]).values():
        assert _errors(klaviyo_request["create_template"], body) == []
    for body in json.loads(result.files["segments.json"]).values():
        assert _errors(klaviyo_request["create_segment"], body) == []
    imports = [json.loads(t) for t in results["klaviyo_profiles"].files.values()]
    assert imports and all(_errors(klaviyo_request["bulk_import_profiles"], b) == [] for b in imports)


def test_every_dittofeed_body_and_companion_validates(sample_exports, dittofeed_admin):
    journeys, results = sample_exports
    result = results["dittofeed"]
    for j in journeys:
        assert _errors(dittofeed_admin["UpsertJourneyResource"], json.loads(result.files[f"{j.id}.json"])) == []
    resources = json.loads(result.files["resources.json"])
    schema = {
        "segments": "UpsertSegmentResource",
        "user_properties": "UpsertUserPropertyResource",
        "subscription_groups": "UpsertSubscriptionGroupResource",
        "templates": "UpsertMessageTemplateResource",
    }
    for kind, bodies in resources.items():
        assert bodies and all(_errors(dittofeed_admin[schema[kind]], b) == [] for b in bodies.values()), kind
    batches = [json.loads(t) for t in results["dittofeed_profiles"].files.values()]
    assert batches and all(_errors(dittofeed_admin["BatchAppData"], b) == [] for b in batches)


def test_sms_bodies_are_real_text_that_passes_the_sms_rules(sample_exports, strategy, sample_profiles):
    from workbench.messages.lint import _STOP_WORDING, lint_pair
    from workbench.messages.render import render_pair
    from workbench.messages.sms import is_gsm

    journeys, results = sample_exports
    customers = sample_profiles.sample(20, random_state=1).to_dict("records")
    checked = 0
    for j in journeys:
        actions = {a["temporary_id"]: a for a in _klaviyo_actions(results["klaviyo"], j.id)}
        for node in j.sends("sms"):
            message = actions[node.id]["data"]["message"]
            # a translated SMS is one Klaviyo conditional block per locale, the default language last
            branches = re.split(r"\{% (?:if|elif) [^%]*%\}|\{% else %\}|\{% endif %\}", message["body"])
            branches = [b for b in branches if b]
            body = branches[-1]
            assert body.startswith(strategy.brand.name + ":") and is_gsm(body), body
            assert ("template bundle" not in body and "{{ first_name|default:'there' }}" in body) or "Welcome" in body
            for branch in branches:
                assert branch.startswith(strategy.brand.name), branch
                accepted = "reçue" in branch  # the French order confirmation accepts UCS-2 (its manifest says why)
                assert is_gsm(branch) or accepted, branch
                if not node.transactional:
                    assert _STOP_WORDING.search(branch), branch
            # what customers receive: the same template with the journey's offer passes the SMS rules
            for customer in customers:
                pair = render_pair(
                    node.template, customer, strategy=strategy, variant=node.variant, promotion=node.offer or ""
                )
                limit = strategy.policy.max_sms_segments
                found = [
                    f
                    for f in lint_pair(pair, brand=strategy.brand, max_sms_segments=limit)
                    if f.rule.startswith("sms-") and f.severity != "info"
                ]
                assert found == [], (j.id, node.id, [f.message for f in found])
                checked += 1
    assert checked > 200
    ditto = [
        b["definition"]["body"]
        for b in results["dittofeed"].resources["templates"].values()
        if b["definition"]["type"] == "Sms"
    ]
    assert ditto and all(b.startswith((strategy.brand.name + ":", "{% case user.locale %}")) for b in ditto)
    assert all(is_gsm(b) for b in ditto if "{% case" not in b)
    assert any("{{ user.firstName | default: 'there' }}" in b for b in ditto)  # Dittofeed Liquid


def test_sample_sms_fits_one_segment_for_95_percent_of_customers(assigned, strategy):
    from workbench.messages.lint import sms_cost
    from workbench.messages.render import Renderer

    renderer = Renderer(strategy, inline_css=False)
    cost = sms_cost(assigned, renderer=renderer, by_locale=False)
    assert len(cost) == 15 and (cost["customers"] == len(assigned)).all()
    # segments per 1,000 sends agree with the share of two-segment texts (no text needs three)
    assert ((cost["segments_per_1000"] - 1000 * (2 - cost["one_segment_share"])).abs() < 0.6).all()
    per_locale = sms_cost(assigned, renderer=renderer)
    # Two costs are chosen, not accidents: the welcome text of Canada and Australia carries a link to the
    # sender's contact details (CASL s. 6(2), Spam Act s. 17), and the French order confirmation is written
    # with "reçue" in UCS-2 (accept_ucs2 in its manifest). Every other text fits one segment for 95%.
    chosen = {("welcome", "en-CA"), ("welcome", "en-AU"), ("welcome", "fr-CA"), ("post_purchase_confirmation", "fr")}
    explained = per_locale[
        [(m, loc) in chosen for m, loc in zip(per_locale["moment"], per_locale["locale"], strict=True)]
    ]
    others = per_locale.drop(explained.index)
    assert (others["one_segment_share"] >= 0.95).all(), others.to_string()
    assert (explained["segments_per_1000"] == 2000).all(), explained.to_string()
    assert renderer.manifest("post_purchase_confirmation").locales["fr"].accept_ucs2


def test_export_report_and_lint_show_sms_cost_per_1000_sends(sample_exports, strategy, sample_profiles):
    from workbench.messages import lint_library

    _, results = sample_exports
    sms_lines = [i.detail for i in results["klaviyo"].report if i.feature == "send_sms"]
    assert sms_lines and all("segments per 1,000 sends over 200 customers" in d for d in sms_lines)
    findings = lint_library(sample_profiles, strategy=strategy, moments=["cart_abandonment"], sample_customers=12)
    cost = findings.attrs["sms_cost"]
    assert sorted(set(cost["variant"])) == ["A", "B"] and (cost["segments_per_1000"] >= 1000).all()
    assert {"en-US", "fr", "fr-CA", "de"} <= set(cost["locale"])  # one row per locale the SMS is written in


def test_email_actions_carry_subject_and_preview_text(sample_exports):
    journeys, results = sample_exports
    for j in journeys:
        for a in _klaviyo_actions(results["klaviyo"], j.id):
            if a["type"] == "send-email":
                message = a["data"]["message"]
                assert message["subject_line"] and message["preview_text"], (j.id, a["temporary_id"])
    emails = [
        b["definition"]
        for b in results["dittofeed"].resources["templates"].values()
        if b["definition"]["type"] == "Email"
    ]
    assert emails and all(e["subject"] and "{% unsubscribe_url %}" in e["body"] for e in emails)


def test_each_journey_carries_its_own_offer(sample_exports):
    _, results = sample_exports
    cart = json.dumps(_klaviyo_actions(results["klaviyo"], "cart_recovery"))
    assert "FREESHIP" in cart and "CART10" not in cart
    win_back = json.dumps(_klaviyo_actions(results["klaviyo"], "vip_win_back"))
    assert "COMEBACK15" in win_back and "COMEBACK20" not in win_back
    templates = json.loads(results["klaviyo"].files["templates.json"])
    assert "FREESHIP" in templates["workbench cart_abandonment A FREESHIP"]["data"]["attributes"]["html"]
    assert "CART10" not in json.dumps(templates)
    ditto = results["dittofeed"].resources["templates"]
    assert "COMEBACK15" in ditto["workbench win_back A COMEBACK15 sms"]["definition"]["body"]
    assert "COMEBACK20" not in json.dumps(ditto)


def test_preferred_channel_split_reads_a_property_the_profile_import_sends(sample_exports):
    _, results = sample_exports
    route = next(a for a in _klaviyo_actions(results["klaviyo"], "cart_recovery") if a["temporary_id"] == "step1_route")
    condition = route["data"]["profile_filter"]["condition_groups"][0]["conditions"][0]
    assert condition["property"] == "properties['preferred_channel']"
    (body,) = [json.loads(t) for t in results["klaviyo_profiles"].files.values()]
    profiles = body["data"]["attributes"]["profiles"]["data"]
    sent = [p["attributes"]["properties"].get("preferred_channel") for p in profiles]
    assert {"email", "sms"} <= set(sent)
    assert all("holdout_bucket" in p["attributes"]["properties"] for p in profiles)
    assert sum("timezone" in p["attributes"].get("location", {}) for p in profiles) > 0.9 * len(profiles)


def test_holdout_buckets_are_sticky_and_hold_out_the_share(assigned):
    from workbench.exporters.companions import holdout_bucket

    buckets = assigned["customer_id"].map(holdout_bucket)
    assert buckets.equals(assigned["customer_id"].map(holdout_bucket))  # the same every run
    for jid, share in (("cart_recovery", 10), ("vip_win_back", 7.5)):
        lo, hi = holdout_range(jid, share)
        held = ((buckets >= lo) & (buckets < hi)).mean()
        assert abs(held - share / 100) < 0.015, (jid, held)
    a, b = holdout_range("cart_recovery", 10), holdout_range("vip_win_back", 10)
    assert a != b  # each journey holds out its own customers


@given(st.text(min_size=1, max_size=12, alphabet="abcdefghij_"), st.floats(min_value=0, max_value=50))
def test_holdout_range_stays_inside_the_buckets(journey_id, share):
    lo, hi = holdout_range(journey_id, share)
    assert 0 <= lo <= hi <= 1000 and hi - lo == round(share * 10)


def test_klaviyo_shared_tails_become_copies_and_past_the_limit_a_clear_error(strategy):
    from workbench.exporters.klaviyo import MAX_ACTIONS

    nodes = [
        {
            "id": "s0",
            "type": "condition_split",
            "condition": {"kind": "consent", "channel": "sms"},
            "on_true": "d1",
            "on_false": "d1",
        }
    ]
    for k in range(1, 9):
        nodes.append(
            {
                "id": f"d{k}",
                "type": "condition_split",
                "condition": {"kind": "segment", "segment": "vip"},
                "on_true": f"e{k}",
                "on_false": f"e{k}",
            }
        )
        nodes.append(
            {"id": f"e{k}", "type": "send_email", "template": "win_back", "next": f"d{k + 1}" if k < 8 else "end"}
        )
    nodes.append({"id": "end", "type": "end"})
    graph = {
        "id": "fan",
        "name": "Fan",
        "trigger": {"type": "segment", "segment": "lapsed"},
        "entry": "s0",
        "nodes": nodes,
    }
    with pytest.raises(ExportError, match=rf"journey 'fan' needs more than {MAX_ACTIONS} Klaviyo actions"):
        to_klaviyo(Journey.model_validate(graph), strategy=strategy)


def test_klaviyo_copies_a_shared_tail_once_per_path(strategy):
    result = export_journeys(
        [BLUEPRINTS["cart_abandonment"]()], targets=["klaviyo"], context=ExportContext(strategy=strategy)
    )["klaviyo"]
    ids = [a["temporary_id"] for a in _klaviyo_actions(result, "cart_abandonment")]
    assert "step2_delay" in ids and "step2_delay.copy2" in ids
    assert any(i.feature == "shared_tail" and i.status == "emulated" for i in result.report)


def test_klaviyo_ab_test_of_two_variants_uses_the_native_action(strategy, klaviyo_validator):
    graph = {
        "id": "ab",
        "name": "A/B",
        "trigger": {"type": "segment", "segment": "lapsed"},
        "entry": "split",
        "nodes": [
            {
                "id": "split",
                "type": "random_split",
                "branches": [{"name": "A", "share": 50, "next": "a"}, {"name": "B", "share": 50, "next": "b"}],
            },
            {"id": "a", "type": "send_email", "template": "win_back", "variant": "A", "next": "end"},
            {"id": "b", "type": "send_email", "template": "win_back", "variant": "B", "next": "end"},
            {"id": "end", "type": "end"},
        ],
    }
    body = to_klaviyo(Journey.model_validate(graph), strategy=strategy)
    assert _errors(klaviyo_validator, body) == []
    (action,) = body["data"]["attributes"]["definition"]["actions"]
    assert action["type"] == "ab-test" and action["data"]["current_experiment"]["allocations"] == {"a": 50, "b": 50}
    assert action["data"]["current_experiment"]["variations"][0]["data"]["message"]["subject_line"]


def test_dittofeed_delays_use_user_property_ids(sample_exports):
    _, results = sample_exports
    result = results["dittofeed"]
    props = {b["id"]: b for b in result.resources["user_properties"].values()}
    body = json.loads(result.files["replenishment.json"])
    delay = next(n for n in body["definition"]["nodes"] if n["id"] == "trigger_date")
    assert delay["variant"]["userProperty"] in props
    assert props[delay["variant"]["userProperty"]]["name"] == "last_order_at"
    assert delay["variant"]["offsetSeconds"] == 45 * 86400
    activation = json.loads(result.files["activation_nudge.json"])
    delay = next(n for n in activation["definition"]["nodes"] if n["id"] == "trigger_date")
    assert props[delay["variant"]["userProperty"]]["definition"] == {"type": "Trait", "path": "created_at"}


def test_dittofeed_event_entries_are_keyed_and_wait_on_keyed_segments(sample_exports):
    journeys, results = sample_exports
    result = results["dittofeed"]
    segments = {b["id"]: b for b in result.resources["segments"].values()}
    for j in journeys:
        body = json.loads(result.files[f"{j.id}.json"])
        definition = body["definition"]
        assert isinstance(body["canRunMultiple"], bool)
        if definition["entryNode"]["type"] != "EventEntryNode":
            continue
        assert definition["entryNode"]["key"], j.id
        for node in definition["nodes"]:
            if node["type"] == "WaitForNode":  # Dittofeed refuses a wait on a non-keyed segment after an event entry
                for child in node["segmentChildren"]:
                    entry = segments[child["segmentId"]]["definition"]["entryNode"]
                    assert entry["type"] == "KeyedPerformed" and entry["key"] == definition["entryNode"]["key"]
    cart = json.loads(result.files["cart_recovery.json"])
    assert cart["definition"]["entryNode"]["key"] == "cart_id" and cart["canRunMultiple"] is True


def test_dittofeed_reentry_only_where_it_cannot_restart_at_once(sample_exports):
    _, results = sample_exports
    result = results["dittofeed"]
    segments = {b["id"]: b for b in result.resources["segments"].values()}
    replenish = json.loads(result.files["replenishment.json"])
    entry = replenish["definition"]["entryNode"]
    assert entry["reEnter"] is True and replenish["canRunMultiple"] is True
    window = segments[entry["segment"]]["definition"]["entryNode"]
    assert window["operator"] == {"type": "Within", "windowSeconds": 2 * 86400}  # members leave after 2 days
    welcome = json.loads(result.files["welcome_series.json"])
    assert welcome["canRunMultiple"] is False and "reEnter" not in welcome["definition"]["entryNode"]


def test_dittofeed_sms_engagement_split_is_reported_as_not_carried(strategy):
    journey = BLUEPRINTS["cart_abandonment"]({"channel_order": "sms_first", "holdout_percent": 0})
    result = export_journeys([journey], targets=["dittofeed"], context=ExportContext(strategy=strategy))["dittofeed"]
    body = json.loads(result.files["cart_abandonment.json"])
    ids = {n["id"] for n in body["definition"]["nodes"]}
    assert "step1_clicked" not in ids
    item = next(i for i in result.report if i.node == "step1_clicked")
    assert item.status == "not_carried" and "no SMS click" in item.detail
    sms = next(n for n in body["definition"]["nodes"] if n["id"] == "step1_sms")
    wait = next(n for n in body["definition"]["nodes"] if n["id"] == sms["child"])
    assert wait["child"].startswith("step1_email")  # the split's false branch follows the wait


def test_complete_id_map_leaves_no_placeholder_and_a_partial_one_lists_the_missing(strategy, tmp_path):
    from workbench.exporters.registry import IdMap, id_skeleton

    journeys = build_journeys(strategy)
    needed = export_journeys(journeys, targets=["klaviyo"], context=ExportContext(strategy=strategy))["klaviyo"].needed
    skeleton = id_skeleton("klaviyo", needed)
    assert set(skeleton.ids["metrics"]) == {
        "Added to Cart",
        "Clicked Email",
        "Clicked SMS",
        "Placed Order",
        "Viewed Product",
        "support_ticket",
    }
    full = IdMap.from_dict(
        {**skeleton.as_dict(), **{k: {n: f"ID{k[:3]}{i}" for i, n in enumerate(v)} for k, v in skeleton.ids.items()}}
    )
    result = export_journeys(
        journeys, targets=["klaviyo"], context=ExportContext(strategy=strategy, ids={"klaviyo": full})
    )["klaviyo"]
    text = "".join(result.files.values())
    assert "PLACEHOLDER" not in text and "IDmet0" in text
    assert not any(i.status == "to_create" for i in result.report)
    partial = IdMap.from_dict({**full.as_dict(), "metrics": {"Placed Order": "X1"}})
    with pytest.raises(
        ExportError,
        match=r"lacks 5 ids \(metrics: Added to Cart, Clicked Email, Clicked SMS, Viewed Product, support_ticket\)",
    ):
        export_journeys(
            journeys, targets=["klaviyo"], context=ExportContext(strategy=strategy, ids={"klaviyo": partial})
        )
    with pytest.raises(ExportError, match="unknown keys flows"):
        IdMap.from_dict({"target": "klaviyo", "flows": {}})


def test_cli_ids_skeleton_then_export_with_ids(tmp_path, root, capsys):
    from workbench.cli import main

    ids = tmp_path / "ids.json"
    assert (
        main(["ids", "--target", "klaviyo", "--strategy", str(root / "data" / "strategy.yaml"), "--out", str(ids)]) == 0
    )
    skeleton = json.loads(ids.read_text())
    assert skeleton["target"] == "klaviyo" and all(v is None for v in skeleton["metrics"].values())
    out = tmp_path / "x"
    args = [
        "export",
        "--strategy",
        str(root / "data" / "strategy.yaml"),
        "--target",
        "klaviyo",
        "--out",
        str(out),
        "--ids",
        str(ids),
    ]
    assert main(args) == 2
    assert "the klaviyo id map lacks" in capsys.readouterr().err
    filled = {
        k: ({n: f"id-{n}".replace(" ", "_") for n in v} if isinstance(v, dict) else v) for k, v in skeleton.items()
    }
    ids.write_text(json.dumps(filled))
    assert main([*args, "--force"]) == 0
    assert "PLACEHOLDER" not in (out / "klaviyo" / "cart_recovery.json").read_text()


def test_lint_command_prints_the_sms_cost(root, capsys):
    from workbench.cli import main

    main(
        [
            "lint",
            "--strategy",
            str(root / "data" / "strategy.yaml"),
            "--data",
            str(root / "data" / "sample"),
            "--sample",
            "4",
        ]
    )
    out = capsys.readouterr().out
    assert "SMS cost over the sampled customers (segments per 1,000 sends):" in out
    assert "segments_per_1000" in out and "cart_abandonment" in out


def test_dittofeed_goal_checks_never_count_an_order_from_before_entry(sample_exports):
    _, results = sample_exports
    result = results["dittofeed"]
    segments = {b["id"]: b["definition"]["entryNode"] for b in result.resources["segments"].values()}

    def goal_windows(journey_id):
        nodes = json.loads(result.files[f"{journey_id}.json"])["definition"]["nodes"]
        return {
            n["id"][: -len("__goal")]: segments[n["variant"]["segment"]].get("withinSeconds")
            for n in nodes
            if n["id"].endswith("__goal")
        }

    # welcome: new customers enter right after their first order; the email sent at entry has no check,
    # the SMS a day later checks for an order in the last 23 hours only
    welcome = goal_windows("welcome_series")
    assert "step1_email" not in welcome and welcome["step1_sms"] == 23 * 3600
    # replenishment enters on the order itself (within 2 days) and waits until 45 days after it
    assert goal_windows("replenishment")["step1_email"] == 43 * 86400 - 3600
    # event entries check the order of this very run (KeyedPerformed on the cart id)
    cart = goal_windows("cart_recovery")
    assert cart and all(w is None for w in cart.values())
