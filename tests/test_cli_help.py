"""`workbench COMMAND --help` describes every option with its default (or says it is required) and gives examples."""

from __future__ import annotations

import argparse

import pytest

from workbench.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help_a_default_and_the_command_examples(name):
    command = _commands()[name]
    text = command.format_help()
    assert "examples:\n  workbench " + name in text
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{name} {action.dest}: no help"
        if action.option_strings:
            described = command._get_formatter()._get_help_string(action) % vars(action)
            assert "default" in described or "required" in described, f"{name} {action.option_strings}: {described}"
            assert described.count("(default") <= 1, f"{name} {action.option_strings}: default said twice"


def test_every_command_is_listed_with_its_help():
    parser = build_parser()
    top = parser.format_help()
    for name in ("ids", "deploy", "pipeline", "run", "lint"):
        assert f"    {name} " in top
