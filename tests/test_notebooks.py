"""The committed notebooks: executed top to bottom, with their outputs, and indexed.

pytest's ``--nbmake`` (see pyproject.toml) re-runs every notebook and fails on any
failing assert cell; these tests check what nbmake cannot: that the *committed* files
carry the outputs a reader sees on GitHub, produced by one clean run in order.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IMAGE_TYPES = ("image/png", "image/svg+xml")


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_the_nine_course_topics_have_a_notebook():
    numbers = [p.name[:2] for p in PATHS]
    assert numbers[:9] == [f"{i:02d}" for i in range(1, 10)]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_after_one_clean_run_in_order(path):
    counts = [cell["execution_count"] for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name} was not saved right after a top-to-bottom run: run python notebooks/_build.py")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_with_graphs_or_plots_and_no_errors(path):
    outputs = [output for cell in code_cells(path) for output in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any(kind in output.get("data", {}) for output in outputs for kind in IMAGE_TYPES)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_notebook_checks_its_numbers_and_is_indexed(path):
    assert any("assert " in "".join(cell["source"]) for cell in code_cells(path))
    assert f"]({path.name})" in (NOTEBOOKS / "README.md").read_text()


def test_exercise_1_quotes_the_catalan_statement_next_to_its_translation():
    text = "".join("".join(cell["source"]) for cell in json.loads(
        (NOTEBOOKS / "03_exercise_1.ipynb").read_text())["cells"])
    assert "Entreneu la xarxa per que una sortida es comporti com una porta llogica XOR" in text
    assert "Train the network so that one output behaves as an XOR logic gate" in text


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_notebook_links_the_course_map_in_its_first_cell(path):
    first = json.loads(path.read_text())["cells"][0]
    assert first["cell_type"] == "markdown"
    assert "](../docs/course.md" in "".join(first["source"])
