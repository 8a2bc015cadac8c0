"""`pal diagram --format svg`: each process drawn by pal as an SVG in words people read, laid out
so that no box overlaps another and every arrow runs from the edge of one box to another's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import pytest
from helpers import Pal
from hypothesis import given, settings
from hypothesis import strategies as st

from states.process import EventSpec, Process
from states.registry import PROCESSES
from workflow.diagram_layout import Layout
from workflow.diagram_svg import process_layout, process_svg, transitions

SVG = "{http://www.w3.org/2000/svg}"
SNAKE = re.compile(r"[a-z0-9]+_[a-z0-9_]+")


def machine(name: str, moves: list[tuple[int, int | None]], states: int,
            final: frozenset[int] = frozenset()) -> Process:
    """A tiny process: stages `s0`.. (labelled "Stage 0"..), created in s0, and one event per
    move (from, to); to None records without moving."""
    keys = tuple(f"s{n}" for n in range(states))
    events = [EventSpec("make_it", "make one", dest="s0", creates=True)]
    events += [
        EventSpec(f"move_{n}", f"step number {n}", sources=(keys[a],),
                  dest=None if b is None else keys[b])
        for n, (a, b) in enumerate(moves)
    ]  # fmt: skip
    return Process(name, "a tiny process", keys, frozenset(keys[n] for n in final),
                   tuple(events), {key: f"Stage {n}" for n, key in enumerate(keys)})  # fmt: skip


TRAFFIC_LIGHT = machine("traffic_light", [(0, 1), (1, 2), (2, 0)], 3)
SELF_LOOPS = machine("self_loops", [(0, 0), (0, None), (0, 1), (1, 1), (1, 0)], 2, frozenset({1}))
FIXTURES = [TRAFFIC_LIGHT, SELF_LOOPS, *PROCESSES.values()]


def texts(svg: str) -> list[str]:
    return [part for part in ET.fromstring(svg).itertext() if part.strip()]


def assert_sound(drawn: Layout) -> None:
    """No box or label overlaps another; every arrow ends on its boxes' edges, inside the
    drawing."""
    rects = [box.rect for box in drawn.boxes]
    rects += [edge.label.rect for edge in drawn.edges if edge.label is not None]
    for a, b in combinations(rects, 2):
        assert not a.overlaps(b), (a, b)
    for edge in drawn.edges:
        assert drawn.box(edge.source).rect.on_boundary(edge.points[0]), edge
        assert drawn.box(edge.dest).rect.on_boundary(edge.points[-1]), edge
        assert all(0 <= x <= drawn.width and 0 <= y <= drawn.height for x, y in edge.points)
    for rect in rects:
        assert rect.x >= 0 and rect.x + rect.w <= drawn.width, rect
        assert rect.y >= 0 and rect.y + rect.h <= drawn.height, rect


@pytest.mark.parametrize("process", FIXTURES, ids=lambda p: p.name)
def test_every_process_is_an_svg_with_a_title_and_a_description(process: Process) -> None:
    """Each process draws as one XML <svg> element, an image with a title and a description."""
    root = ET.fromstring(process_svg(process))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("width") == "100%"
    assert len(root.get("viewBox", "").split()) == 4
    assert "max-width" in root.get("style", "")
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    assert root.find(f"{SVG}defs/{SVG}marker") is not None


@pytest.mark.parametrize("process", FIXTURES, ids=lambda p: p.name)
def test_every_stage_is_named_in_words_and_no_engine_name_shows(process: Process) -> None:
    """Every stage's label is in the picture; no snake_case name is anywhere in the SVG."""
    svg = process_svg(process)
    shown = " ".join(texts(svg))
    for label in process.state_labels.values():
        assert label in shown
    assert SNAKE.findall(svg) == []


@pytest.mark.parametrize("process", FIXTURES, ids=lambda p: p.name)
def test_boxes_and_labels_never_overlap_and_arrows_meet_their_boxes(process: Process) -> None:
    """In the layout, boxes and labels are apart, and arrows start and end on box edges."""
    drawn = process_layout(process)
    assert_sound(drawn)
    assert {box.key for box in drawn.boxes} == {None, *process.states}


def test_the_agreement_fits_a_page_and_draws_each_way_between_stages() -> None:
    """The agreement is drawn at most ~900 px wide, with an arrow per pair of stages joined."""
    agreement = PROCESSES["agreement"]
    drawn = process_layout(agreement)
    assert drawn.width <= 900
    pairs = {(edge.source, edge.dest) for edge in drawn.edges}
    for spec in agreement.events[1:]:
        for source in spec.sources:
            moves = spec.dest is not None and source not in spec.stays_in
            assert (source, spec.dest if moves else source) in pairs
    assert any(edge.back for edge in drawn.edges)  # the 24-month review goes back


def test_final_stages_have_a_double_border() -> None:
    """A final stage is drawn with a second, inner rounded rectangle."""
    root = ET.fromstring(process_svg(PROCESSES["meeting"]))
    assert len(root.findall(f"{SVG}rect")) == 3 + 2  # scheduled; held and cancelled twice


def test_the_same_process_gives_the_same_bytes_in_any_interpreter(tmp_path: Path) -> None:
    """Two interpreters with different hash seeds draw the agreement byte for byte alike."""
    code = ("from states.registry import PROCESSES; from workflow.diagram_svg import process_svg;"
            "import sys; sys.stdout.write(process_svg(PROCESSES['agreement']))")  # fmt: skip
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }  # fmt: skip
    assert outputs == {process_svg(PROCESSES["agreement"])}


def test_transitions_list_every_way_in_words() -> None:
    """One row per way an event leaves or keeps a stage, in labels, as the Mermaid lines."""
    agreement = PROCESSES["agreement"]
    rows = transitions(agreement)
    from states.diagram import mermaid

    arrows = [line for line in mermaid(agreement).splitlines()[1:] if "[*]" not in line[-4:]]
    assert len(rows) == len(arrows)
    assert rows[0] == ("(start)", "identify the district for partnership",
                       "Identified for partnership")  # fmt: skip
    assert ("Implementing the plan", "open the 24-month review", "24-month review") in rows
    assert not [cell for row in rows for cell in row if SNAKE.search(cell)]


def test_pal_diagram_format_svg_prints_the_drawing(tmp_path: Path) -> None:
    """`pal diagram funds --format svg` prints the funds drawing; no database is touched."""
    pal = Pal(f"sqlite:///{tmp_path}/never.db")
    result = pal("diagram", "funds", "--format", "svg")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == process_svg(PROCESSES["funds"])
    assert not (tmp_path / "never.db").exists()


moves = st.lists(
    st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 5))), max_size=14
)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), moves, st.frozensets(st.integers(0, 5)))
def test_any_small_machine_lays_out_soundly(states: int, raw: list[tuple[int, int | None]],
                                            final: frozenset[int]) -> None:
    """Random small machines (cycles, loops, unreachable stages) lay out with every stage, no
    overlap, and arrows on box edges."""
    fitted = [(a % states, None if b is None else b % states) for a, b in raw]
    process = machine("random", fitted, states, frozenset(n % states for n in final))
    drawn = process_layout(process)
    assert {box.key for box in drawn.boxes} == {None, *process.states}
    assert_sound(drawn)
    ET.fromstring(process_svg(process))
