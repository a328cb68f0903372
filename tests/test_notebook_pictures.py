"""The committed notebooks show their graphs in every viewer: a PNG beside each SVG, the
explorer's final frame as a PNG where scripts do not run, and no stderr noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def outputs(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [output for cell in cells if cell["cell_type"] == "code" for output in cell.get("outputs", [])]


def html_of(output: dict) -> str:
    html = output.get("data", {}).get("text/html", "")
    return "".join(html) if isinstance(html, list) else html


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_graph_output_has_a_picture_that_needs_no_trust(path):
    for output in outputs(path):
        data = output.get("data", {})
        if "image/svg+xml" in data:  # an untrusted JupyterLab shows no SVG: the PNG stands in
            assert "image/png" in data, f"{path.name}: an SVG output without its PNG"
        if "data-chainrule-explorer" in html_of(output):
            assert "data:image/png;base64," in html_of(output), f"{path.name}: an explorer without its PNG"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_no_notebook_output_is_stderr_noise(path):
    noise = [output["text"] for output in outputs(path) if output.get("name") == "stderr"]
    assert not noise, f"{path.name}: {noise}"


def test_notebooks_step_through_passes_with_the_explorer():
    sources = {path.name: json.loads(path.read_text(encoding="utf-8"))["cells"] for path in PATHS}
    code = {name: "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
            for name, cells in sources.items()}
    assert "autograd.explore(f)" in code["02_sigmoid_neuron.ipynb"]
    assert not any("IntSlider" in text or "interact(" in text for text in code.values())
    explorers = [name for name in sources if any("data-chainrule-explorer" in html_of(o)
                                                 for o in outputs(NOTEBOOKS / name))]
    assert {"01_chain_rule.ipynb", "02_sigmoid_neuron.ipynb"} <= set(explorers)
