"""Deploy against local stand-ins of Klaviyo and Dittofeed that check every request against the committed specs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.fake_tools import FakeDittofeed, FakeKlaviyo
from workbench.cli import main
from workbench.deploy import DeployError, deploy, dittofeed, klaviyo, state_path
from workbench.deploy.client import ApiClient, RateLimit
from workbench.exporters.klaviyo import METRIC_NAMES
from workbench.exporters.registry import IdMap

WORKSPACE = "6f0d3c1a-8a43-4a3e-9a59-2b7b8c1d0e11"


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def strategy_file(tmp_path, root):
    path = tmp_path / "strategy.yaml"
    shutil.copy(root / "data" / "strategy.yaml", path)
    return path


@pytest.fixture
def fake_klaviyo():
    server = FakeKlaviyo(metrics=[*METRIC_NAMES.values(), "support_ticket"]).start()
    yield server
    server.stop()


@pytest.fixture
def fake_dittofeed():
    server = FakeDittofeed(workspace_id=WORKSPACE).start()
    yield server
    server.stop()


def _klaviyo(server, time_=None):
    time_ = time_ or FakeTime()
    return klaviyo.client(server.url, api_key=server.api_key, sleep=time_.sleep, clock=time_.clock), time_


def _dittofeed(server, time_=None):
    time_ = time_ or FakeTime()
    return dittofeed.client(server.url, api_key=server.api_key, sleep=time_.sleep, clock=time_.clock), time_


def _flows(strategy_file):
    from workbench.io import load_strategy
    from workbench.journeys import build_journeys

    return [j.name for j in build_journeys(load_strategy(strategy_file))]


def _change_offer(path, journey, offer):
    data = yaml.safe_load(path.read_text())
    next(j for j in data["journeys"] if j["id"] == journey)["params"]["offer"] = offer
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# ---------------------------------------------------------------- Klaviyo


def test_klaviyo_plan_changes_nothing_and_apply_creates_drafts(strategy_file, fake_klaviyo):
    api, _ = _klaviyo(fake_klaviyo)
    plan = deploy(strategy_file, target="klaviyo", api=api)
    assert all(r["method"] == "GET" for r in fake_klaviyo.requests)  # look-ups only
    assert not state_path(strategy_file, "klaviyo").exists()
    assert not fake_klaviyo.templates and not fake_klaviyo.flows
    kinds = {(s.kind, s.action) for s in plan.steps}
    assert {("templates", "create"), ("segments", "create"), ("flows", "create")} <= kinds
    assert not plan.blocked()

    done = deploy(strategy_file, target="klaviyo", apply=True, api=api)
    assert fake_klaviyo.problems == []
    assert sorted(f["name"] for f in fake_klaviyo.flows.values()) == sorted(_flows(strategy_file))
    assert len(fake_klaviyo.templates) == len([s for s in plan.steps if s.kind == "templates"])
    for flow in fake_klaviyo.flows.values():  # drafts, with real ids of what the deploy created
        text = json.dumps(flow["definition"])
        assert "PLACEHOLDER" not in text
        assert all(
            a["data"]["status"] == "draft" for a in flow["definition"]["actions"] if "status" in (a.get("data") or {})
        )
    state = json.loads(state_path(strategy_file, "klaviyo").read_text())
    assert set(state["objects"]) == {"templates", "segments", "flows"}
    assert {e["id"] for e in state["objects"]["flows"].values()} == set(fake_klaviyo.flows)
    assert done.changes()

    again = deploy(strategy_file, target="klaviyo", api=api)
    assert again.changes() == [] and again.blocked() == []
    assert "nothing to do" in again.text()
    posts = [r for r in fake_klaviyo.requests if r["method"] != "GET"]
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    assert [r for r in fake_klaviyo.requests if r["method"] != "GET"] == posts  # nothing sent the second time


def test_klaviyo_changed_flow_is_a_new_draft_keeping_the_old_id(strategy_file, fake_klaviyo):
    api, _ = _klaviyo(fake_klaviyo)
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    before = json.loads(state_path(strategy_file, "klaviyo").read_text())["objects"]["flows"]["Win-back"]["id"]
    _change_offer(strategy_file, "vip_win_back", "COMEBACK25")

    plan = deploy(strategy_file, target="klaviyo", api=api)
    changed = {(s.kind, s.name): s for s in plan.changes()}
    step = changed[("flows", "Win-back")]
    assert (
        step.action == "new_version"
        and "cannot update a flow definition in place" in step.detail
        and before in step.detail
    )
    assert ("templates", "workbench win_back A COMEBACK25") in changed
    assert {k for k, _ in changed} == {"flows", "templates"} and len([k for k in changed if k[0] == "flows"]) == 1
    assert not fake_klaviyo.flows or len(fake_klaviyo.flows) == len(_flows(strategy_file))  # the plan sent nothing

    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    entry = json.loads(state_path(strategy_file, "klaviyo").read_text())["objects"]["flows"]["Win-back"]
    assert entry["id"] != before and entry["previous_ids"] == [before]
    assert "COMEBACK25" in json.dumps(fake_klaviyo.flows[entry["id"]]["definition"])
    assert fake_klaviyo.problems == []
    assert deploy(strategy_file, target="klaviyo", api=api).changes() == []


def test_klaviyo_429_waits_for_retry_after_and_500_backs_off(strategy_file, fake_klaviyo):
    api, _ = _klaviyo(fake_klaviyo)
    fake_klaviyo.fail_next("POST", "/api/flows", 429, headers={"Retry-After": "7"})
    fake_klaviyo.fail_next("POST", "/api/templates", 503, times=2)
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    assert ("429 create_flow", 7.0) in api.waits
    assert [w for w in api.waits if w[0] == "503 create_template"] == [
        ("503 create_template", 0.5),
        ("503 create_template", 1.0),
    ]
    assert fake_klaviyo.problems == [] and len(fake_klaviyo.flows) == len(_flows(strategy_file))
    # the burst limit of create_flow (1/s) and create_segment (1/s) spaced the requests
    assert any(w[0] == "rate limit create_flow" for w in api.waits)


def test_klaviyo_persistent_500_stops_with_a_clear_error_and_keeps_what_landed(strategy_file, fake_klaviyo):
    api, _ = _klaviyo(fake_klaviyo)
    fake_klaviyo.fail_next("POST", "/api/flows", 500, times=100)
    with pytest.raises(DeployError, match=r"POST .*/api/flows answered 500 .* after 5 retries"):
        deploy(strategy_file, target="klaviyo", apply=True, api=api)
    state = json.loads(state_path(strategy_file, "klaviyo").read_text())
    assert len(state["objects"]["templates"]) == len(fake_klaviyo.templates) > 0 and "flows" not in state["objects"]
    fake_klaviyo.failures.clear()
    plan = deploy(strategy_file, target="klaviyo", api=api)
    assert {s.kind for s in plan.changes()} == {"flows"}  # resumes with the flows only


def test_klaviyo_flow_needing_a_missing_metric_is_blocked(strategy_file):
    server = FakeKlaviyo(metrics=["Placed Order"]).start()
    try:
        api, _ = _klaviyo(server)
        plan = deploy(strategy_file, target="klaviyo", api=api)
        blocked = {s.name: s.detail for s in plan.blocked()}
        assert "Cart abandonment" in blocked and "'Added to Cart'" in blocked["Cart abandonment"]
        deploy(strategy_file, target="klaviyo", apply=True, api=api)
        assert "Cart abandonment" not in {f["name"] for f in server.flows.values()} and server.problems == []
    finally:
        server.stop()


def test_client_rate_limit_spaces_requests():
    time_ = FakeTime()
    stamps = []
    api = ApiClient("http://127.0.0.1:9", limits={"r": RateLimit(2, 3)}, sleep=time_.sleep, clock=time_.clock)
    for _ in range(4):
        api._pace("r")
        stamps.append(time_.now)
    assert stamps[1] == stamps[0] and stamps[2] >= stamps[0] + 1.0  # two a second
    assert stamps[3] >= stamps[0] + 60.0  # three a minute


# ---------------------------------------------------------------- Dittofeed


def test_dittofeed_plan_apply_replan_change(strategy_file, fake_dittofeed, tmp_path):
    idmap = IdMap(target="dittofeed", workspace_id=WORKSPACE)
    api, _ = _dittofeed(fake_dittofeed)
    plan = deploy(strategy_file, target="dittofeed", idmap=idmap, api=api)
    assert fake_dittofeed.requests == [] and not state_path(strategy_file, "dittofeed").exists()
    kinds = {s.kind for s in plan.changes()}
    assert kinds == {"user_properties", "subscription_groups", "segments", "templates", "journeys"}

    deploy(strategy_file, target="dittofeed", apply=True, idmap=idmap, api=api)
    assert fake_dittofeed.problems == []
    journeys = fake_dittofeed.store["journeys"]
    assert sorted(j["name"] for j in journeys.values()) == sorted(_flows(strategy_file))
    assert all(j["status"] == "NotStarted" for j in journeys.values())  # drafts
    order = [r["path"] for r in fake_dittofeed.requests]
    assert order.index("/api/admin/journeys") > max(i for i, p in enumerate(order) if p == "/api/admin/segments")

    assert deploy(strategy_file, target="dittofeed", idmap=idmap, api=api).changes() == []

    _change_offer(strategy_file, "cart_recovery", "CART15")
    plan = deploy(strategy_file, target="dittofeed", idmap=idmap, api=api)
    changed = {(s.kind, s.name, s.action) for s in plan.changes()}
    assert ("journeys", "Cart abandonment", "update") in changed
    assert any(k == "templates" and "CART15" in n for k, n, _ in changed)
    deploy(strategy_file, target="dittofeed", apply=True, idmap=idmap, api=api)
    cart = next(j for j in journeys.values() if j["name"] == "Cart abandonment")
    templates = fake_dittofeed.store["templates"]
    used = [n["variant"]["templateId"] for n in cart["definition"]["nodes"] if n["type"] == "MessageNode"]
    assert any("CART15" in templates[t]["definition"]["body"] for t in used)
    assert fake_dittofeed.problems == []


def test_dittofeed_429_and_500_are_retried(strategy_file, fake_dittofeed):
    idmap = IdMap(target="dittofeed", workspace_id=WORKSPACE)
    api, _ = _dittofeed(fake_dittofeed)
    fake_dittofeed.fail_next("PUT", "/api/admin/journeys", 429, headers={"Retry-After": "3"})
    fake_dittofeed.fail_next("PUT", "/api/admin/segments", 502)
    deploy(strategy_file, target="dittofeed", apply=True, idmap=idmap, api=api)
    assert ("429 journeys", 3.0) in api.waits and ("502 segments", 0.5) in api.waits
    assert len(fake_dittofeed.store["journeys"]) == len(_flows(strategy_file)) and fake_dittofeed.problems == []


def test_dittofeed_lookup_and_the_ids_command(strategy_file, fake_dittofeed, monkeypatch, capsys, tmp_path):
    idmap = IdMap(target="dittofeed", workspace_id=WORKSPACE)
    api, _ = _dittofeed(fake_dittofeed)
    deploy(strategy_file, target="dittofeed", apply=True, idmap=idmap, api=api)
    found = dittofeed.lookup(api, WORKSPACE)
    assert found.get("user_properties", "timezone") in fake_dittofeed.store["user_properties"]
    monkeypatch.setenv("DITTOFEED_API_KEY", fake_dittofeed.api_key)
    monkeypatch.setenv("DITTOFEED_WORKSPACE_ID", WORKSPACE)
    out = tmp_path / "ids.json"
    code = main(
        [
            "ids",
            "--target",
            "dittofeed",
            "--strategy",
            str(strategy_file),
            "--out",
            str(out),
            "--base-url",
            fake_dittofeed.url,
        ]
    )
    assert code == 0
    written = json.loads(out.read_text())
    assert written["workspace_id"] == WORKSPACE
    assert written["segments"]["at_risk_valuable"] in fake_dittofeed.store["segments"]


def test_cli_deploy_prints_the_plan_and_applies(strategy_file, fake_dittofeed, monkeypatch, capsys):
    monkeypatch.setenv("DITTOFEED_API_KEY", fake_dittofeed.api_key)
    monkeypatch.setenv("DITTOFEED_WORKSPACE_ID", WORKSPACE)
    args = ["deploy", "--target", "dittofeed", "--strategy", str(strategy_file), "--base-url", fake_dittofeed.url]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "create       journey 'Cart abandonment'" in out and "--apply" in out and fake_dittofeed.requests == []
    assert main([*args, "--apply"]) == 0
    assert fake_dittofeed.store["journeys"] and fake_dittofeed.problems == []
    assert main(args) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_cli_deploy_without_a_key_explains(strategy_file, monkeypatch, capsys):
    monkeypatch.delenv("KLAVIYO_API_KEY", raising=False)
    assert main(["deploy", "--target", "klaviyo", "--strategy", str(strategy_file), "--apply"]) == 2
    assert "KLAVIYO_API_KEY" in capsys.readouterr().err


def test_klaviyo_changed_template_content_is_updated_in_place(strategy_file, fake_klaviyo):
    api, _ = _klaviyo(fake_klaviyo)
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    count = len(fake_klaviyo.templates)
    data = yaml.safe_load(strategy_file.read_text())
    data["brand"]["postal_address"] = "Northwind Outfitters Inc., 1 Harbour Road, Seattle, WA 98101, USA"
    strategy_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    plan = deploy(strategy_file, target="klaviyo", api=api)
    assert {s.kind for s in plan.changes()} == {"templates"} and all(s.action == "update" for s in plan.changes())
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    patches = [r for r in fake_klaviyo.requests if r["method"] == "PATCH"]
    assert len(patches) == count == len(fake_klaviyo.templates)  # updated, not duplicated
    assert all("1 Harbour Road" in t["html"] for t in fake_klaviyo.templates.values())
    assert fake_klaviyo.problems == [] and deploy(strategy_file, target="klaviyo", api=api).changes() == []


def test_klaviyo_ids_command_looks_the_account_up(strategy_file, fake_klaviyo, monkeypatch, tmp_path):
    api, _ = _klaviyo(fake_klaviyo)
    deploy(strategy_file, target="klaviyo", apply=True, api=api)
    monkeypatch.setenv("KLAVIYO_API_KEY", fake_klaviyo.api_key)
    out = tmp_path / "ids.json"
    args = ["ids", "--target", "klaviyo", "--strategy", str(strategy_file), "--out", str(out)]
    assert main([*args, "--base-url", fake_klaviyo.url]) == 0
    ids = json.loads(out.read_text())
    assert ids["metrics"]["Placed Order"] == fake_klaviyo.metrics["Placed Order"]
    assert set(ids["templates"].values()) == set(fake_klaviyo.templates)
    assert {fake_klaviyo.segments[i]["name"] for i in ids["segments"].values()} == set(ids["segments"])
    export = tmp_path / "export"
    assert (
        main(
            ["export", "--strategy", str(strategy_file), "--target", "klaviyo", "--out", str(export), "--ids", str(out)]
        )
        == 0
    )
    body = (export / "klaviyo" / "cart_recovery.json").read_text()
    assert "PLACEHOLDER" not in body and fake_klaviyo.metrics["Added to Cart"] in body
