"""The journey model, its validation (one test per error, naming the node) and the moment blueprints."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.io import validate_file
from workbench.journeys import (
    BLUEPRINTS,
    BlueprintParams,
    Duration,
    Journey,
    JourneySpec,
    build_journey,
    build_journeys,
    cart_abandonment,
    is_sms_guard,
    journey_for,
    journey_problems,
    validate_journey,
)
from workbench.messages.library import MOMENTS
from workbench.models.errors import JourneyError
from workbench.models.journey import BlueprintName


def manifest(variants=("A",), required=("first_name",), channels=("email", "sms")):
    return SimpleNamespace(variants=list(variants), required_variables=list(required), channels=list(channels))


LIBRARY = {
    "win_back": manifest(("A", "B")),
    "cart_abandonment": manifest(("A", "B"), ("first_name", "last_viewed_product")),
}
FULL_LIBRARY = {m: manifest(("A", "B")) for m in MOMENTS}


def graph(nodes, entry="email", **extra):
    return Journey.model_validate(
        {
            "id": "test_journey",
            "name": "Test",
            "trigger": {"type": "segment", "segment": "lapsed"},
            "entry": entry,
            "nodes": nodes,
            **extra,
        }
    )


GOOD = [
    {"id": "email", "type": "send_email", "template": "win_back", "next": "wait"},
    {"id": "wait", "type": "delay", "duration": "1d", "next": "guard"},
    {
        "id": "guard",
        "type": "condition_split",
        "condition": {"kind": "consent", "channel": "sms"},
        "on_true": "sms",
        "on_false": "end",
    },
    {"id": "sms", "type": "send_sms", "template": "win_back", "next": "end"},
    {"id": "end", "type": "end"},
]


def replace(node_id, **changes):
    return [({**n, **changes} if n["id"] == node_id else n) for n in GOOD]


def the_error(journey, **options):
    options.setdefault("library", LIBRARY)
    with pytest.raises(JourneyError) as info:
        validate_journey(journey, **options)
    return info.value


def test_a_valid_graph_passes():
    j = graph(GOOD)
    assert validate_journey(j, library=LIBRARY) is j
    assert [n.id for n in j.sends()] == ["email", "sms"]
    assert j.templates() == [("email", "win_back", "A"), ("sms", "win_back", "A")]


def test_duration_shorthand():
    assert Duration.model_validate("2h") == Duration(value=2, unit="hours")
    assert Duration.model_validate("1 week").seconds == 7 * 86400
    with pytest.raises(ValueError, match="not a duration"):
        Duration.model_validate("soon")


def test_cycle_names_the_node():
    err = the_error(graph(replace("sms", next="email")))
    assert err.node == "email" and "loops" in str(err) and "Fix:" in str(err)
    assert err.journey == "test_journey"


def test_unreachable_node_is_named():
    nodes = [*GOOD, {"id": "orphan", "type": "send_email", "template": "win_back", "next": "end"}]
    err = the_error(graph(nodes))
    assert err.node == "orphan" and "no path" in str(err)


def test_path_that_never_ends_is_named():
    err = the_error(graph(replace("guard", on_false=None)))
    assert err.node == "guard" and "without an end" in str(err)
    assert err.path == ("nodes", 2, "on_false")


def test_link_to_a_missing_node_is_named():
    err = the_error(graph(replace("wait", next="nowhere")))
    assert err.node == "wait" and "'nowhere'" in str(err)


def test_sms_without_consent_guard_is_named():
    err = the_error(graph(replace("wait", next="sms")[:2] + GOOD[3:]))
    assert err.node == "sms" and "SMS-consent guard" in str(err)


def test_sms_on_the_false_branch_of_the_guard_is_not_guarded():
    err = the_error(graph(replace("guard", on_true="end", on_false="sms")))
    assert err.node == "sms"


def test_a_can_sms_profile_condition_is_a_guard():
    node = SimpleNamespace(
        type="condition_split", condition=SimpleNamespace(kind="profile", field="can_sms", op="is_true", value=None)
    )
    assert is_sms_guard(node)


def test_missing_template_is_named():
    err = the_error(graph(replace("email", template="nope")))
    assert err.node == "email" and "template 'nope' does not exist" in str(err)


def test_missing_variant_is_named():
    err = the_error(graph(replace("sms", variant="C")))
    assert err.node == "sms" and "no variant 'C'" in str(err) and "A, B" in str(err)


def test_template_variable_without_profile_column_is_named():
    library = {**LIBRARY, "win_back": manifest(required=("first_name", "favourite_colour"))}
    err = the_error(graph(GOOD), library=library)
    assert err.node == "email" and "'favourite_colour'" in str(err)


def test_trigger_can_provide_template_variables():
    library = {"win_back": manifest(required=("tracking_url",))}
    j = graph(GOOD)
    assert journey_problems(j, library=library)
    data = j.model_dump()
    data["trigger"] = {"type": "event", "event": "order_placed", "provides": ["tracking_url"]}
    provided = Journey.model_validate(data)
    assert journey_problems(provided, library=library) == []


@pytest.mark.parametrize("duration", ["0d", "-2h"])
def test_non_positive_delay_is_named(duration):
    err = the_error(graph(replace("wait", duration=duration)))
    assert err.node == "wait" and "not positive" in str(err)


def test_split_shares_not_summing_to_100_are_named():
    nodes = [
        {
            "id": "split",
            "type": "random_split",
            "branches": [
                {"name": "treatment", "share": 85, "next": "email"},
                {"name": "holdout", "share": 10, "next": "end", "holdout": True},
            ],
        },
        *GOOD,
    ]
    err = the_error(graph(nodes, entry="split"))
    assert err.node == "split" and "sum to 95" in str(err)


def test_unknown_segment_and_profile_field_are_named():
    nodes = replace("guard", condition={"kind": "profile", "field": "shoe_size", "op": "gt", "value": 9})
    problems = journey_problems(graph(nodes), library=LIBRARY, segments={"vip"})
    messages = {p.node: str(p) for p in problems}
    assert "'shoe_size'" in messages["guard"]
    assert any(p.node is None and "'lapsed' is not defined" in str(p) for p in problems)


def test_engagement_must_name_an_earlier_send():
    nodes = replace("guard", condition={"kind": "engagement", "node": "sms", "action": "clicked"})
    problems = journey_problems(graph(nodes), library=LIBRARY)
    assert any(p.node == "guard" and "engagement" in str(p) for p in problems)


def test_every_problem_is_listed():
    nodes = replace("wait", duration="0d")
    nodes = [({**n, "template": "nope"} if n["id"] == "email" else n) for n in nodes]
    nodes = [*nodes, {"id": "orphan", "type": "end"}]
    nodes_by = {p.node for p in journey_problems(graph(nodes), library=LIBRARY)}
    assert {"wait", "email", "orphan"} <= nodes_by


# ---------------------------------------------------------------- blueprints

NON_DEFAULT = {
    "first_delay": "3h",
    "sms_delay": "30m",
    "step_gap": "2d",
    "channel_order": "preference",
    "holdout_percent": 5,
    "offer": "SAVE10",
    "send_time": {"time": "09:30", "days": ["tuesday", "thursday"]},
    "variant": "B",
    "reentry": {"mode": "after", "after": "14d"},
}


def test_blueprint_names_match_the_strategy_literal():
    assert set(BlueprintName.__args__) == set(BLUEPRINTS)


@pytest.mark.parametrize("name", list(BLUEPRINTS))
@pytest.mark.parametrize(
    "params",
    [{}, NON_DEFAULT, {"channel_order": "sms_first", "holdout_percent": 0}],
    ids=["default", "non_default", "sms_first"],
)
def test_blueprints_build_valid_paired_journeys(name, params):
    j = BLUEPRINTS[name](params)
    validate_journey(j, library=FULL_LIBRARY)
    emails, sms = j.sends("email"), j.sends("sms")
    assert emails and sms
    # paired: every SMS has an email of the same template and one objective per touch
    assert {s.template for s in sms} <= {e.template for e in emails}
    assert all(n.objective for n in j.sends())
    if params.get("variant"):
        assert {n.variant for n in j.sends()} == {"B"}
    holdouts = [n for n in j.nodes if n.type == "random_split"]
    if params.get("holdout_percent") == 0:
        assert not holdouts
    if params.get("holdout_percent") == 5:
        assert [b.share for b in holdouts[0].branches] == [95, 5]


def test_cart_abandonment_parameters_shape_the_graph():
    j = cart_abandonment(first_delay="2h", offer="FREESHIP")
    wait = j.node("wait_goal")
    assert wait.type == "wait_for_event" and wait.event == "order_placed" and str(wait.timeout) == "2 hours"
    offers = {n.id: n.offer for n in j.sends()}
    assert offers == {"step1_email": None, "step1_sms": None, "step2_email": "FREESHIP", "step2_sms": "FREESHIP"}
    routed = cart_abandonment(channel_order="preference")
    route = routed.node("step1_route")
    assert route.condition.field == "preferred_channel" and route.on_true == "step1_sms_consent_smsfirst"
    no_sms = cart_abandonment(sms=False)
    assert not no_sms.sends("sms")


def test_post_purchase_keeps_transactional_steps_out_of_the_holdout():
    j = BLUEPRINTS["post_purchase"]()
    split = j.node("holdout_split")
    order = [n.id for n in j.walk()]
    assert order.index("step1_email") < order.index("holdout_split") < order.index("step3_email")
    assert j.node("step1_email").transactional and not j.node("step3_email").transactional
    assert split.branches[1].holdout


def test_blueprint_params_reject_bad_values():
    with pytest.raises(ValueError, match="positive"):
        BlueprintParams(first_delay="0h")
    with pytest.raises(ValueError):
        BlueprintParams(holdout_percent=80)


# ---------------------------------------------------------------- the strategy file


def test_every_sample_strategy_journey_sends_email_and_guarded_sms(strategy):
    journeys = build_journeys(strategy)
    assert len(journeys) >= 8
    for j in journeys:
        assert j.sends("email"), j.id
        assert j.sends("sms"), j.id
        assert not [p for p in journey_problems(j) if "SMS-consent" in str(p)], j.id
        assert any(is_sms_guard(n) for n in j.nodes), j.id


def test_sample_strategy_validates_against_the_template_library(root):
    assert validate_file(root / "data" / "strategy.yaml") == []


def test_spec_has_a_blueprint_or_a_graph():
    with pytest.raises(ValueError, match="either"):
        JourneySpec(id="x")
    spec = JourneySpec.model_validate(
        {
            "id": "x",
            "graph": {
                "name": "X",
                "trigger": {"type": "segment", "segment": "vip"},
                "entry": "end",
                "nodes": [{"id": "end", "type": "end"}],
            },
        }
    )
    assert build_journey(spec).id == "x"


def test_journey_for_accepts_a_journey_id_or_a_moment(strategy):
    assert journey_for(strategy, "cart_recovery", holdout_percent=5).node("holdout_split").branches[1].share == 5
    assert journey_for(strategy, "win_back").moment == "win_back"
    with pytest.raises(JourneyError, match="no journey or blueprint"):
        journey_for(strategy, "nope")


def _write_strategy(tmp_path, root, journeys_yaml):
    text = (root / "data" / "strategy.yaml").read_text().split("\njourneys:")[0]
    path = tmp_path / "strategy.yaml"
    path.write_text(text + "\njourneys:\n" + journeys_yaml)
    return path, (text + "\njourneys:\n").count("\n")


def test_validate_file_reports_the_yaml_line_of_a_graph_node(tmp_path, root):
    path, offset = _write_strategy(
        tmp_path,
        root,
        """\
  - id: broken
    graph:
      name: Broken
      trigger: {type: segment, segment: lapsed}
      entry: email
      nodes:
        - {id: email, type: send_email, template: win_back, next: wait}
        - {id: wait, type: delay, duration: 0d, next: sms}
        - {id: sms, type: send_sms, template: win_back, next: end}
        - {id: end, type: end}
""",
    )
    problems = validate_file(path, library=LIBRARY)
    by_text = {p.split(": ", 1)[1].split(":")[0]: p for p in problems}
    assert len(problems) == 2
    wait = next(p for p in problems if "'wait'" in p)
    sms = next(p for p in problems if "'sms'" in p)
    assert f"line {offset + 8}:" in wait and "not positive" in wait and "Fix:" in wait
    assert f"line {offset + 9}:" in sms and "SMS-consent guard" in sms
    assert by_text


def test_validate_file_reports_pydantic_errors_with_lines(tmp_path, root):
    path, offset = _write_strategy(
        tmp_path,
        root,
        """\
  - id: cart
    blueprint: cart_abandonment
    params:
      first_delay: 0h
""",
    )
    problems = validate_file(path)
    assert len(problems) == 1 and f"line {offset + 4}" in problems[0] and "positive" in problems[0]


def test_validate_file_names_a_missing_variant_at_the_params_line(tmp_path, root):
    path, offset = _write_strategy(
        tmp_path,
        root,
        """\
  - id: cart
    blueprint: cart_abandonment
    params:
      variant: Z
""",
    )
    problems = validate_file(path, library=LIBRARY)
    assert problems and all(f"line {offset + 4}:" in p and "no variant 'Z'" in p for p in problems)
