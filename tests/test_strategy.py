"""The strategy file: the sample validates, errors carry the YAML line and a remedy, the schema is committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.io import load_strategy
from workbench.models.errors import StrategyError
from workbench.models.strategy import parse_strategy, strategy_json_schema

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
version: 1
name: test
brand:
  name: Shop
  postal_address: 1 Main St, Springfield
  sms_program_name: Shop Alerts
  website_url: https://shop.example
  unsubscribe_url: https://shop.example/u
  preferences_url: https://shop.example/p
segments:
  - name: buyers
    rule: orders_total > 0
"""


def test_sample_strategy_loads(strategy):
    assert strategy.brand.name
    assert str(strategy.brand.unsubscribe_url).startswith("https://")
    assert len({s.name for s in strategy.segments}) == len(strategy.segments) >= 8


def test_minimal_strategy_parses():
    s = parse_strategy(GOOD)
    assert s.segment("buyers").rule == "orders_total > 0"
    with pytest.raises(StrategyError, match=r"no segment 'nope'.*buyers"):
        s.segment("nope")


def test_error_names_yaml_line_field_and_remedy():
    bad = GOOD.replace("  unsubscribe_url: https://shop.example/u", "  unsubscribe_url: http://shop.example/u")
    bad = bad.replace("  - name: buyers", "  - name: Big Buyers")
    with pytest.raises(StrategyError) as info:
        parse_strategy(bad, source="s.yaml")
    msg = str(info.value)
    assert "s.yaml: 2 problems" in msg
    assert "line 8, brand.unsubscribe_url" in msg and "https" in msg
    assert "line 11, segments[0].name" in msg and "snake_case" in msg


def test_unknown_field_and_missing_field():
    with pytest.raises(StrategyError) as info:
        parse_strategy(GOOD.replace("  name: Shop\n", "  nme: Shop\n"), source="s.yaml")
    msg = str(info.value)
    assert "line 4, brand.nme" in msg and "remove it or check its spelling" in msg
    assert "brand.name: Field required" in msg


def test_invalid_yaml_names_line():
    with pytest.raises(StrategyError, match=r"s.yaml line \d+: not valid YAML"):
        parse_strategy("name: [unclosed\nbrand: x\n", source="s.yaml")


def test_duplicate_segment_names():
    dup = GOOD + "  - name: buyers\n    rule: orders_total > 1\n"
    with pytest.raises(StrategyError, match="used twice"):
        parse_strategy(dup)


def test_missing_file():
    with pytest.raises(StrategyError, match="does not exist"):
        load_strategy("nope.yaml")


def test_committed_json_schema_is_current():
    committed = json.loads((ROOT / "workbench" / "schemas" / "strategy.schema.json").read_text())
    assert committed == json.loads(json.dumps(strategy_json_schema())), (
        "refresh it: python -c 'from workbench.io import dump_json_schema as d; "
        'd("workbench/schemas/strategy.schema.json")\''
    )


def test_sample_strategy_validates_against_published_schema():
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "workbench" / "schemas" / "strategy.schema.json").read_text())
    data = yaml.safe_load((ROOT / "data" / "strategy.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
