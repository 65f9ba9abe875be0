"""Exporters: real tool schemas, canonical round trip, reports that never drop a feature, companions, speed."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
import yaml
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
from workbench.exporters.companions import load_renderer
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


def _errors(validator, body):
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(json.loads(json.dumps(body)))]


@pytest.mark.parametrize(("name", "label"), CASES)
def test_klaviyo_export_validates_against_flow_create_query(name, label, klaviyo_validator, strategy):
    journey = BLUEPRINTS[name](PARAMS[label])
    body = to_klaviyo(journey, strategy=strategy)
    assert _errors(klaviyo_validator, body) == []
    definition = body["data"]["attributes"]["definition"]
    ids = {a["temporary_id"] for a in definition["actions"]}
    assert definition["entry_action_id"] in ids
    for action in definition["actions"]:  # every link points at an action or ends the flow
        for target in (action.get("links") or {}).values():
            assert target is None or target in ids
    sms = [a for a in definition["actions"] if a["type"] == "send-sms"]
    assert sms and all(a["data"]["message"]["sms_quiet_hours_enabled"] for a in sms)


@pytest.mark.parametrize(("name", "label"), CASES)
def test_dittofeed_export_validates_against_journey_definition(name, label, dittofeed_validator):
    journey = BLUEPRINTS[name](PARAMS[label])
    definition = to_dittofeed(journey)
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
    assert _errors(dittofeed_validator, to_dittofeed(graph)) == []


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
    assert actions["holdout_split"]["data"]["profile_filter"]["condition_groups"][0]["conditions"][0] == {
        "type": "profile-sample",
        "percentage": 90,
    }
    assert actions["holdout_split"]["links"]["next_if_false"] is None
    email = actions["step1_email"]["data"]["message"]
    assert email["from_email"] == strategy.brand.from_email and email["smart_sending_enabled"] is True
    assert {"param": "utm_medium", "value": "email"} in email["custom_tracking_params"]
    statuses = {(i.feature, i.status) for i in result.report}
    assert ("wait_for_event", "emulated") in statuses and ("contact_policy", "emulated") in statuses
    assert ("metric", "to_create") in statuses and ("goal", "mapped") in statuses


def test_dittofeed_report_lists_placeholders_and_never_uses_rate_limit(strategy):
    journey = BLUEPRINTS["win_back"]()
    result = export_journeys([journey], targets=["dittofeed"], context=ExportContext(strategy=strategy))["dittofeed"]
    definition = json.loads(result.files["win_back.json"])
    assert definition["entryNode"]["type"] == "EntryNode" and definition["entryNode"]["reEnter"] is True
    to_create = [i.detail for i in result.report if i.status == "to_create"]
    for ref in [definition["entryNode"]["segment"]] + [
        n["subscriptionGroupId"] for n in definition["nodes"] if n["type"] == "MessageNode"
    ]:
        assert any(ref in d for d in to_create)
    assert any(i.feature == "contact_policy" and "RateLimitNode" in i.detail for i in result.report)
    assert any(i.feature == "quiet_hours" and i.status == "not_carried" for i in result.report)
    cohort = next(n for n in definition["nodes"] if n["type"] == "RandomCohortNode")
    assert [c["percent"] for c in cohort["children"]] == [90, 10]
    local = [n for n in definition["nodes"] if n["type"] == "DelayNode" and n["variant"]["type"] == "LocalTime"]
    assert local and local[0]["variant"]["allowedDaysOfWeek"] == [2, 3, 4]


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


def test_unknown_target_is_refused():
    assert resolve_targets("klaviyo, mermaid") == ["klaviyo", "mermaid"]
    assert resolve_targets("all") == list(EXPORTERS)
    with pytest.raises(ExportError, match="unknown export target 'braze'"):
        resolve_targets(["braze"])


def _export_to(folder, strategy, targets, *, dataset=None, library=None, journeys=None):
    """Export through the application layer (with a workspace when there is data) and write the files."""
    from workbench.application import Workspace, export
    from workbench.io import write_exports

    if dataset is not None:
        ws = Workspace.create(dataset, strategy, as_of="2026-10-31", library=library)
        chosen = ws.select_journeys(journeys) if journeys is not None else None
        results = ws.exports(targets, journeys=chosen)
    else:
        from workbench.application import strategy_journeys

        chosen = strategy_journeys(strategy, library=library, ids=journeys) if journeys is not None else None
        results = export(strategy, targets, library=library, journeys=chosen)
    return write_exports(results, folder)


def test_export_strategy_writes_all_targets(strategy, sample_dataset, tmp_path):
    _export_to(tmp_path, strategy, "all", dataset=sample_dataset)
    ids = [j.id for j in build_journeys(strategy)]
    for target in ("canonical", "klaviyo", "dittofeed"):
        assert sorted(
            p.stem for p in (tmp_path / target).glob("*.json") if p.stem not in ("report", "journey.schema")
        ) == sorted(ids)
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


def test_template_bundle_is_reported_missing_without_the_renderer(strategy, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "workbench.messages.render", None)
    monkeypatch.delattr("workbench.messages.render_pair", raising=False)
    assert load_renderer() is None
    summary = _export_to(tmp_path, strategy, ["templates"])
    report = json.loads((tmp_path / "templates" / "report.json").read_text())
    assert summary["templates"]["files"] == []
    assert report["summary"] == {"missing": len(build_journeys(strategy))}
    assert "template bundle is missing" in report["items"][0]["detail"]


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
