"""tests/layers.py: every test has exactly one layer, the layers are pyproject.toml's markers,
and a run of some layers leaves out only files that can hold none of their tests."""

from __future__ import annotations

import tomllib

import pytest

from tests.layers import LAYERS, PLACES, TESTS, Misplaced, layer_of, left_out, place, selected_layers

ROOT = TESTS.parent


def test_the_layers_are_the_registered_markers_each_said_in_one_line() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = config["tool"]["pytest"]["ini_options"]["markers"]
    described = dict(line.split(": ", 1) for line in markers)
    assert set(described) == set(LAYERS)
    assert all(text.strip() and "\n" not in text for text in described.values())


def test_every_test_file_has_its_place_and_every_place_is_there() -> None:
    files = sorted(p.relative_to(TESTS).as_posix() for p in TESTS.rglob("test_*.py"))
    assert [f for f in files if place(f) is None] == []
    for entry in PLACES:
        assert (TESTS / entry).is_dir() if entry.endswith("/") else (TESTS / entry).is_file(), entry
    assert set(PLACES.values()) <= set(LAYERS)


def test_every_test_of_this_run_has_exactly_one_layer(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert items
    for item in items:
        assert len([m for m in item.iter_markers() if m.name in LAYERS]) == 1, item.nodeid


def test_a_file_gives_its_tests_its_layer_and_a_test_may_say_it_runs_a_tool() -> None:
    assert layer_of("test_properties.py", set()) == "unit"
    assert layer_of("test_properties.py", {"unit"}) == "unit"
    assert layer_of("test_template.py", {"tools"}) == "tools"
    assert layer_of("ministack/test_examples.py", set()) == "stacks"
    assert layer_of("integration/test_real_account.py", {"integration"}) == "integration"


def test_an_unplaced_file_or_another_layer_by_hand_fails() -> None:
    with pytest.raises(Misplaced, match=r"test_new\.py has no layer"):
        layer_of("test_new.py", set())
    with pytest.raises(Misplaced, match=r"test_new\.py has no layer"):
        layer_of("elsewhere/test_new.py", {"unit"})
    with pytest.raises(Misplaced, match="marked stacks: only tools may be marked by hand"):
        layer_of("test_properties.py", {"stacks"})
    with pytest.raises(Misplaced, match="marked handler"):
        layer_of("test_properties.py", {"unit", "handler"})


@pytest.mark.parametrize(
    ("markexpr", "selected"),
    [
        ("unit or handler", {"unit", "handler"}),
        ("stacks", {"stacks"}),
        ("not tools", set(LAYERS) - {"tools"}),
        ("(runtime or stacks) and not unit", {"runtime", "stacks"}),
        ("", None),  # no -m: every file
        ("slow", None),  # a marker that is no layer: no file is left out on its layer
        ("unit or slow", None),
        ("unit(x=1)", None),
    ],
)
def test_a_marker_expression_of_layers_selects_those_layers(markexpr: str, selected: set[str] | None) -> None:
    assert selected_layers(markexpr) == selected


def test_a_run_of_some_layers_leaves_out_only_what_can_hold_none_of_their_tests() -> None:
    assert left_out("runtime/", "unit or handler")
    assert left_out("cdk/", "unit or handler")
    assert left_out("test_template.py", "stacks")
    assert not left_out("test_template.py", "unit or handler")
    assert not left_out("test_template.py", "tools")  # its tools tests
    assert not left_out("runtime/", "tools")  # any file may hold a test marked tools
    assert not left_out("runtime/", "runtime")
    assert not left_out("test_new.py", "stacks")  # collected, and refused for want of a place
    assert not left_out("runtime/", "not slow")
