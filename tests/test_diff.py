"""Journey diffs in words."""

from __future__ import annotations

from workbench.io import diff_files
from workbench.journeys import cart_abandonment, diff_journey_sets, diff_journeys, journey_to_json, win_back


def test_identical_journeys_have_no_diff():
    assert diff_journeys(cart_abandonment(), cart_abandonment()) == []


def test_delay_split_and_template_changes_are_described():
    old = cart_abandonment()
    new = cart_abandonment(first_delay="2h", holdout_percent=5, sms_delay="4h")
    lines = diff_journeys(old, new)
    assert "wait for event 'wait_goal': timeout 1 hour → 2 hours" in lines
    assert "random split 'holdout_split': holdout share 10% → 5%" in lines
    assert "delay 'step1_wait': wait 3 hours → wait 4 hours" in lines
    variant = diff_journeys(old, cart_abandonment(variant="B"))
    assert "email step 'step1_email': variant 'A' → 'B'" in variant
    assert "templates: now sends sms template cart_abandonment variant B" in variant


def test_added_and_removed_steps_are_described():
    old = cart_abandonment()
    new = cart_abandonment(sms=False)
    lines = diff_journeys(old, new)
    assert any(line.startswith("removed SMS step 'step1_sms'") for line in lines)
    assert "email step 'step1_email': now continues to 'step2_delay' (was 'step1_wait')" in lines
    back = diff_journeys(new, old)
    assert any(
        line.startswith("added SMS step 'step2_sms' (template cart_abandonment") and "after 'step2_sms_consent'" in line
        for line in back
    )


def test_journey_level_changes():
    lines = diff_journeys(win_back(), win_back(audience="lapsed", reentry={"mode": "never"}))
    assert "audience: everyone → lapsed" in lines
    assert "re-entry: again 90 days after the last entry → once per customer" in lines


def test_diff_files_on_canonical_and_strategy_files(tmp_path, root):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(journey_to_json(cart_abandonment()))
    b.write_text(journey_to_json(cart_abandonment(offer="FREESHIP")))
    lines = diff_files(a, b)
    assert "email step 'step2_email': offer None → 'FREESHIP'" in lines
    strategy = root / "data" / "strategy.yaml"
    edited = tmp_path / "strategy.yaml"
    edited.write_text(strategy.read_text().replace("      offer: FREESHIP\n", "      offer: FREESHIP20\n"))
    lines = diff_files(strategy, edited)
    assert lines and all(line.startswith("cart_recovery: ") for line in lines)
    assert diff_files(strategy, strategy) == []


def test_added_and_removed_journeys():
    lines = diff_journey_sets([cart_abandonment()], [win_back()])
    assert lines[0].startswith("added journey 'win_back'") and lines[1] == "removed journey 'cart_abandonment'"
