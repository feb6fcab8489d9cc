"""``--help`` of every command states each option's meaning, its choices and its default, and names no
internal document."""

import argparse
import re

import pytest

from zprime_jax.cli.main import build_parser

INTERNAL = re.compile(r"design\.md|paper-notes|style\.md|shared/|\bissue\s*\d|README|docs/", re.IGNORECASE)


def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices.items())


@pytest.mark.parametrize("name,parser", _commands(), ids=[n for n, _ in _commands()])
def test_every_option_is_explained_with_its_choices_and_default(name, parser):
    text = parser.format_help()
    problems = [f"names an internal document: {m!r}" for m in INTERNAL.findall(text)]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        flag = "/".join(action.option_strings) or action.dest
        shown = (action.help or "") % {**vars(action), "prog": parser.prog, "default": action.default,
                                       "choices": ", ".join(map(str, action.choices or ()))}
        if len(shown.split()) < 2:
            problems.append(f"{flag}: no explanation")
        if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
            missing = [c for c in action.choices if str(c) not in shown]
            if missing:
                problems.append(f"{flag}: the choices {missing} are not named")
        takes_value = action.nargs != 0 and not isinstance(action, argparse._StoreConstAction
                                                           | argparse._AppendConstAction)
        if takes_value and action.default not in (None, argparse.SUPPRESS) and not action.required:
            if "default" not in shown.lower():
                problems.append(f"{flag}: the default {action.default!r} is not stated")
    assert not problems, f"zprime-jax {name} --help:\n" + "\n".join(problems)
