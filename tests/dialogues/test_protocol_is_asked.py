"""The protocol is asked, never restated: no step or move name is written as a string outside
the protocol's own modules (dialogues/protocol.py, and dialogues/language.py whose hint
families the steps name). Views, selectors, consumers, services, templates and scripts ask
protocol.py instead (`protocol.starts_dialogue`, `Move.phrase`, `panel.before_start`, ...)."""

import ast
import re
from pathlib import Path

from dialogues import protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = ("couples", "safety", "dialogues", "practice", "therapists", "imago_site")
PROTOCOL_MODULES = {"dialogues/protocol.py", "dialogues/language.py"}
NAMES = set(protocol.STEPS) | {m.name for step in protocol.STEPS.values() for m in step.moves}
TEMPLATE_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
QUOTED = re.compile(r"""["']([a-z_]+)["']""")


def python_literals() -> list[str]:
    found = []
    for app in APPS:
        for path in sorted((REPO_ROOT / app).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative in PROTOCOL_MODULES or "/migrations/" in relative:
                continue
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if isinstance(node, ast.Constant) and node.value in NAMES:
                    found.append(f"{relative}:{node.lineno}: {node.value!r}")
    return found


def template_and_script_literals() -> list[str]:
    found = []
    paths = [*(REPO_ROOT / "templates").rglob("*.html"), *(REPO_ROOT / "static").rglob("*.js")]
    for path in sorted(paths):
        text = path.read_text()
        # In templates only the template language compares names (HTML classes are words).
        chunks = (
            TEMPLATE_TAG.finditer(text)
            if path.suffix == ".html"
            else [re.match(".*", text, re.DOTALL)]
        )
        for chunk in chunks:
            for match in QUOTED.finditer(chunk.group(0)):
                if match.group(1) in NAMES:
                    line = text.count("\n", 0, chunk.start() + match.start()) + 1
                    found.append(f"{path.relative_to(REPO_ROOT)}:{line}: {match.group(1)!r}")
    return found


def test_no_step_or_move_name_is_written_outside_the_protocol():
    assert {"appointment", "mirror", "accept_now", "not_quite"} <= NAMES  # the scan has names
    assert python_literals() == []
    assert template_and_script_literals() == []


def test_the_scan_finds_a_restated_name(tmp_path):
    # The scan itself works: a literal step name in code and in a template tag is found.
    tree = ast.parse('if session.step == "appointment": pass')
    assert any(isinstance(n, ast.Constant) and n.value in NAMES for n in ast.walk(tree))
    tag = '{% if panel.step.name != "scheduled" %}'
    assert [m.group(1) for m in QUOTED.finditer(TEMPLATE_TAG.search(tag).group(0))] == ["scheduled"]


def test_every_move_says_what_it_did_in_a_transcript():
    for step in protocol.STEPS.values():
        for move in step.moves:
            assert move.phrase, f"{step.name}/{move.name} has no phrase"


def test_the_protocol_says_which_moves_begin_the_dialogue_and_when_a_time_out_is_allowed():
    assert {"accept_now", "begin"} == protocol.STARTING_MOVES
    appointment = protocol.start(protocol.Kind.INTENTIONAL)
    assert protocol.before_start(appointment)
    assert protocol.starts_dialogue(appointment, "accept_now")
    assert not protocol.starts_dialogue(appointment, "propose_time")
    begun = protocol.apply(appointment, "b", "accept_now")
    assert not protocol.before_start(begun) and protocol.may_pause(begun)
    assert not protocol.may_pause(protocol.State(kind=protocol.Kind.INTENTIONAL, step="finished"))


def test_a_nul_byte_is_not_plain_text_in_any_text_or_request():
    state = protocol.apply(protocol.start(protocol.Kind.INTENTIONAL), "b", "accept_now")
    for payload in ({"text": "a\x00b"},):
        try:
            protocol.apply(state, "a", "send", payload)
        except protocol.InvalidInput as error:
            assert "plain text" in error.message
        else:
            raise AssertionError("a NUL byte was taken as text")
