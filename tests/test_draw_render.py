"""Rendering drawings with Graphviz: the backend choice, SVG/PNG/PDF files, step frames."""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import autograd
from autograd import Value, render, render_steps

import course_graphs

draw_module = importlib.import_module("autograd.drawing")
backend_module = importlib.import_module("autograd.drawing.backends")
api_module = importlib.import_module("autograd.drawing.api")

HAS_PYGRAPHVIZ = backend_module._pygraphviz_importable()
HAS_DOT = shutil.which("dot") is not None
ENV = backend_module.BACKEND_ENVIRONMENT_VARIABLE

# The dot-program tests need a system Graphviz; pip cannot install one. They are the
# only tests that may skip, and say why.
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the `dot` program is not on PATH: install the "
                                                   "system graphviz package (apt-get install graphviz) "
                                                   "to test the dot backend")
needs_pygraphviz = pytest.mark.skipif(not HAS_PYGRAPHVIZ, reason="pygraphviz does not import")
ROOT = Path(__file__).resolve().parent.parent
AVAILABLE_BACKENDS = [pytest.param("pygraphviz"), pytest.param("dot", marks=needs_dot)]


def course_graph() -> Value:
    return course_graphs.course_graph()[0]


def svg_texts(data: bytes) -> list[str]:
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return [element.text.strip() for element in root.iter("{http://www.w3.org/2000/svg}text")
            if element.text and element.text.strip()]


@pytest.fixture
def no_backend_forced(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


@pytest.fixture
def without_pygraphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # makes `import pygraphviz` fail


@pytest.fixture
def without_dot(monkeypatch):
    monkeypatch.setattr(backend_module, "_dot_program", lambda: None)


# ---------------------------------------------------------------------------
# Which backend
# ---------------------------------------------------------------------------
def test_pygraphviz_is_installed_with_chainrule():
    assert HAS_PYGRAPHVIZ, "pygraphviz is a dependency of chainrule: pip install pygraphviz"


def test_pygraphviz_comes_first(no_backend_forced):
    assert backend_module.choose_backend() == "pygraphviz"


@needs_dot
def test_dot_when_pygraphviz_does_not_import(no_backend_forced, without_pygraphviz):
    assert backend_module.choose_backend() == "dot"


def test_dot_is_chosen_when_pygraphviz_does_not_import_and_dot_is_on_path(
        no_backend_forced, without_pygraphviz, monkeypatch):
    monkeypatch.setattr(backend_module, "_dot_program", lambda: "/usr/bin/dot")
    assert backend_module.choose_backend() == "dot"


def test_neither_backend_names_both_ways_to_get_one(no_backend_forced, without_pygraphviz, without_dot):
    with pytest.raises(backend_module.GraphvizNotFoundError) as error:
        backend_module.choose_backend()
    message = str(error.value)
    assert "pip install pygraphviz" in message and "graphviz package" in message
    assert "draw(...).source" in message
    with pytest.raises(backend_module.GraphvizNotFoundError, match="pip install pygraphviz"):
        render(course_graph(), "never-written.svg")


def test_dot_text_needs_no_graphviz(no_backend_forced, without_pygraphviz, without_dot, tmp_path):
    f = course_graph()
    assert "digraph chainrule" in autograd.draw(f).source
    path = render(f, tmp_path / "graph.dot")
    assert path.read_text(encoding="utf-8") == autograd.draw(f).source


def test_forcing_a_backend_by_argument_or_environment(monkeypatch, without_dot):
    monkeypatch.setenv(ENV, "pygraphviz")
    assert backend_module.choose_backend() == "pygraphviz"
    monkeypatch.setenv(ENV, "dot")
    with pytest.raises(backend_module.GraphvizNotFoundError, match="dot backend was asked for.*PATH"):
        backend_module.choose_backend()
    assert backend_module.choose_backend("pygraphviz") == "pygraphviz"  # the argument wins
    monkeypatch.setenv(ENV, "neato")
    with pytest.raises(ValueError, match="unknown render backend 'neato'"):
        backend_module.choose_backend()


def test_forcing_pygraphviz_when_it_does_not_import(no_backend_forced, without_pygraphviz, monkeypatch):
    monkeypatch.setattr(backend_module, "_dot_program", lambda: "/usr/bin/dot")
    with pytest.raises(backend_module.GraphvizNotFoundError, match="pygraphviz backend was asked for"):
        backend_module.choose_backend("pygraphviz")


# ---------------------------------------------------------------------------
# Files, with each backend
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", AVAILABLE_BACKENDS)
def test_svg_parses_and_shows_values_grads_and_local_gradients(backend, tmp_path):
    path = render(course_graph(), tmp_path / "graph.svg", backend=backend)
    texts = svg_texts(path.read_bytes())
    for expected in ("x", "data -2", "grad -4", "q", "data 3", "z", "grad 3", "f", "data -12", "grad 1",
                     "+", "*", "local 1", "local -4", "local 3", "input", "output"):
        assert expected in texts, expected


@pytest.mark.parametrize("backend", AVAILABLE_BACKENDS)
def test_png_and_pdf(backend, tmp_path):
    f = course_graph()
    assert render(f, tmp_path / "graph.png", backend=backend).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(f, tmp_path / "graph.pdf", backend=backend).read_bytes()[:5] == b"%PDF-"
    assert render(f, tmp_path / "graph", format="svg", backend=backend).read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize("backend", AVAILABLE_BACKENDS)
def test_environment_variable_picks_the_backend_for_render(backend, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, backend)
    used = []
    original = {"pygraphviz": backend_module._layout_with_pygraphviz,
                "dot": backend_module._layout_with_dot_program}[backend]
    name = {"pygraphviz": "_layout_with_pygraphviz", "dot": "_layout_with_dot_program"}[backend]

    def spy(source, formats):  # pygraphviz lays out once for several formats, dot once per format
        used.append(formats)
        return original(source, formats)

    monkeypatch.setattr(backend_module, name, spy)
    render(course_graph(), tmp_path / "graph.svg")
    assert used == [("svg",) if backend == "pygraphviz" else "svg"]


@needs_dot
def test_the_dot_program_reports_its_errors():
    with pytest.raises(RuntimeError, match="dot failed"):
        backend_module.layout("digraph { a -> }", "svg", backend="dot")


def test_render_creates_missing_directories(tmp_path):
    path = render(course_graph(), tmp_path / "new" / "dir" / "graph.svg")
    assert path.exists() and path.read_bytes().startswith(b"<?xml")


def test_bad_paths_and_formats(tmp_path):
    f = course_graph()
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.html or \.dot"):
        render(f, tmp_path / "graph.txt")
    with pytest.raises(ValueError, match="format='gif'"):
        render(f, tmp_path / "graph.svg", format="gif")
    with pytest.raises(TypeError, match="draw"):
        render(autograd.draw(f), tmp_path / "graph.svg", rankdir="TB")


def test_render_takes_a_drawn_graph(tmp_path):
    graph = autograd.draw(course_graph(), step=1)
    texts = svg_texts(render(graph, tmp_path / "frame.svg").read_bytes())
    assert "grad ?" in texts and "1 × -4 = -4" in texts


def test_too_large_graphs_are_refused_with_advice(tmp_path):
    x = Value(0.5, "x")
    y = x
    for _ in range(30):
        y = y.tanh()
    with pytest.raises(draw_module.GraphTooLargeError, match=r"61 nodes, over the limit of 20.*\.source"):
        render(y, tmp_path / "chain.svg", max_nodes=20)
    assert not (tmp_path / "chain.svg").exists()
    assert render(y, tmp_path / "chain.svg", max_nodes=None).exists()
    assert 500 <= draw_module.DEFAULT_MAX_NODES <= 1000  # measured: see autograd/drawing/options.py


# ---------------------------------------------------------------------------
# Jupyter's inline display goes through the chosen backend, not the dot program
# ---------------------------------------------------------------------------
def test_jupyter_display_works_with_pygraphviz_alone(no_backend_forced, without_dot):
    graph = autograd.draw(course_graph())
    bundle = graph._repr_mimebundle_()
    assert sorted(bundle) == ["image/png", "image/svg+xml", "text/plain"]  # a PNG beside the SVG
    assert "data -12" in svg_texts(bundle["image/svg+xml"].encode("utf-8"))
    assert bundle["image/png"][:4] == b"\x89PNG"
    assert list(graph._repr_mimebundle_(include=["image/png"])) == ["image/png"]


def test_jupyter_display_of_a_too_large_graph_says_what_to_do():
    x = Value(0.5)
    graph = autograd.draw(x.exp().exp(), max_nodes=2)
    bundle = graph._repr_mimebundle_()  # the notebook shows the advice, not a traceback
    assert list(bundle) == ["text/plain"] and "max_nodes=None" in bundle["text/plain"]


# ---------------------------------------------------------------------------
# Backward, frame by frame
# ---------------------------------------------------------------------------
def test_render_steps_writes_one_svg_per_step(tmp_path):
    f = course_graph()
    paths = render_steps(f, tmp_path / "frames")
    assert [p.name for p in paths] == ["step_000.svg", "step_001.svg", "step_002.svg"]
    frames = [svg_texts(p.read_bytes()) for p in paths]
    assert frames[0].count("grad ?") == 4 and "grad 1" in frames[0]
    assert frames[1].count("grad ?") == 2 and "1 × 3 = 3" in frames[1]
    assert "grad ?" not in frames[2] and "-4 × 1 = -4" in frames[2]
    with pytest.raises(TypeError, match="every step"):
        render_steps(f, tmp_path, step=1)


def test_frame_names_sort_in_order():
    assert api_module._frame_names(3, "svg") == ["step_000.svg", "step_001.svg", "step_002.svg"]
    names = api_module._frame_names(1001, "png")
    assert names[0] == "step_0000.png" and names[-1] == "step_1000.png" and sorted(names) == names


RENDER_EVERYTHING = """
import sys
import autograd, nn
from autograd import Value
x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
f = (x + y) * z
f.backward()
folder = sys.argv[1]
for suffix in ("svg", "png", "pdf", "html"):
    autograd.render(f, f"{folder}/course.{suffix}")
graph = autograd.draw(f)
graph._repr_mimebundle_()
graph.render(f"{folder}/course_graphviz", format="png")
model = nn.MLP(2, [16, 16, 1], seed=0)
autograd.explore((model([0.5, -1.0])[0] - 1.0) ** 2, collapse="neuron").save(f"{folder}/mlp.html")
chain = Value(0.5, "x")
for _ in range(400):  # 1,600 nodes in a row: 38,000 pt wide
    chain = (chain * 0.9).tanh()
autograd.render(chain, f"{folder}/big.png", max_nodes=None, rankdir="LR")
"""


@needs_pygraphviz
def test_rendering_prints_nothing_on_stderr(tmp_path):
    """A fresh process, as a student's: no Fontconfig warning, no Graphviz or pygraphviz notice."""
    run = subprocess.run([sys.executable, "-c", RENDER_EVERYTHING, str(tmp_path)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    png = (tmp_path / "big.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert max(width, height) <= 2400  # sized as a fallback picture, well within Cairo's limits


@needs_pygraphviz
def test_graph_render_uses_chainrule_backend_without_a_dot_program(no_backend_forced, without_dot, tmp_path):
    graph = autograd.draw(course_graph())
    path = graph.render(tmp_path / "course", format="png")
    assert path == str(tmp_path / "course.png")
    assert (tmp_path / "course.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "course").read_text(encoding="utf-8") == graph.source
    assert graph.render(outfile=tmp_path / "out.svg") == str(tmp_path / "out.svg")


def test_without_any_graphviz_the_notebook_says_how_to_get_pictures(no_backend_forced, without_pygraphviz,
                                                                   without_dot):
    bundle = autograd.draw(course_graph())._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    text = bundle["text/plain"]
    assert "pip install pygraphviz" in text and "apt-get install graphviz" in text


def test_pygraphviz_is_a_dependency_only_where_pip_finds_a_wheel():
    """pip install chainrule must not try to compile pygraphviz (which needs Graphviz's headers)."""
    tomllib = pytest.importorskip("tomllib")
    requirements = pytest.importorskip("packaging.requirements")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (line,) = [line for line in project["dependencies"] if line.startswith("pygraphviz")]
    marker = requirements.Requirement(line).marker
    assert marker is not None
    assert marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})
    assert not marker.evaluate({"sys_platform": "linux", "platform_machine": "riscv64"})
    assert not marker.evaluate({"sys_platform": "darwin", "platform_machine": "x86_64"})


def test_the_typed_render_options_are_draws_keyword_parameters_with_their_types():
    # DrawOptions and FrameOptions repeat draw()'s option names for type checkers: keep them equal.
    import typing
    from autograd.drawing import DrawOptions, FrameOptions, draw

    draw_hints = typing.get_type_hints(draw)
    keywords = {name for name, parameter in inspect.signature(draw).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
    assert set(DrawOptions.__annotations__) == keywords | {"mode"}  # mode: autograd.explore's, for .html
    assert set(FrameOptions.__annotations__) == keywords - {"step"}  # render_steps draws every step
    for options in (DrawOptions, FrameOptions):
        hints = typing.get_type_hints(options)
        for name in keywords & set(hints):
            assert hints[name] == draw_hints[name], name
    assert typing.get_type_hints(DrawOptions)["mode"] == typing.get_type_hints(autograd.explore)["mode"]
