"""python -m autograd: the safe formula parser and the command line."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import OPS, Value
from autograd.__main__ import main
from autograd.expr import ExpressionError, evaluate, variable_names

backend_module = importlib.import_module("autograd.drawing.backends")


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------
def test_course_formula():
    f = evaluate("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    f.backward()
    x, y, z = (leaf for leaf in (f.parents[0].parents[0], f.parents[0].parents[1], f.parents[1]))
    assert (f.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)
    assert [x.label, y.label, z.label, f.parents[0].label] == ["x", "y", "z", "x + y"]


def test_functions_and_methods_are_the_same_op():
    a = evaluate("tanh(x) + sigmoid(x)", {"x": 0.3})
    b = evaluate("x.tanh() + x.sigmoid()", {"x": 0.3})
    c = evaluate("(x).tanh() + (+x).sigmoid()", {"x": 0.3})
    assert a.data == b.data == c.data
    assert [p.op.name for p in a.parents] == [p.op.name for p in b.parents] == ["tanh", "sigmoid"]


@pytest.mark.parametrize("name", sorted(name for name in OPS if name not in
                                        ("add", "sub", "mul", "div", "neg", "pow", "powc", "abs", "max",
                                         "min", "sum", "dot", "logsumexp")))
def test_every_unary_value_method_is_allowed(name):
    x = Value(0.7, "x")
    f = evaluate(f"{name}(x)", {"x": x})
    assert f.op.name == name and f.parents == (x,)
    assert evaluate(f"x.{name}()", {"x": x}).data == f.data


def test_operators_constants_and_extra_arguments():
    values = {"x": 2.0, "y": -3.0}
    cases = {"x ** 2": ("powc", 4.0), "2 ** x": ("pow", 4.0), "x ** y": ("pow", 0.125), "-x": ("neg", -2.0),
             "x / y": ("div", -2 / 3), "x - y": ("sub", 5.0), "abs(y)": ("abs", 3.0),
             "max(x, y)": ("max", 2.0), "min(x, 0)": ("min", 0.0), "leaky_relu(y, 0.1)": ("leaky_relu", -0.3),
             "y.elu(0.5)": ("elu", 0.5 * math.expm1(-3.0)), "x ** (1/2)": ("powc", math.sqrt(2)),
             "x * 1e-3": ("mul", 0.002)}
    for text, (op, number) in cases.items():
        f = evaluate(text, values)
        assert f.op.name == op, text
        assert math.isclose(f.data, number, rel_tol=1e-12), text


def test_the_course_sigmoid_neuron_both_ways():
    values = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
    gates = evaluate("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", values)
    single = evaluate("(w0*x0 + w1*x1 + w2).sigmoid()", values)
    for f in (gates, single):
        f.backward()
        assert round(f.data, 4) == 0.7311
    assert single.op.name == "sigmoid"


def test_variable_names_in_order_without_functions():
    assert variable_names("tanh(b) * a + b.exp() + max(c, 1)") == ["b", "a", "c"]
    assert variable_names("2 + 3") == []


def test_labels_are_the_sub_expressions_as_written():
    f = evaluate("α*β + tanh(α)", {"α": 2.0, "β": 3.0})
    assert [p.label for p in f.parents] == ["α*β", "tanh(α)"]
    g = evaluate("(a +\n b) * c", {"a": 1.0, "b": 2.0, "c": 3.0})
    assert g.parents[0].label == "a +\n b"
    assert evaluate("(a + b + a + b + a + b + a) * c", {"a": 1, "b": 2, "c": 3}).parents[0].label == ""


def test_values_can_be_given_as_values():
    x = Value(3.0, "mine")
    f = evaluate("x * x", {"x": x})
    f.backward()
    assert x.grad == 6.0 and x.label == "mine"
    with pytest.raises(TypeError, match="'x' must be a number or a Value"):
        evaluate("x", {"x": "3"})


REFUSED = {
    "x // y": "operator // is not allowed",
    "x % y": "operator % is not allowed",
    "x < y": "a comparison is not allowed",
    "x and y": "and/or is not allowed",
    "x.data": "attribute access 'x.data' is not allowed",
    "x.tanh": "attribute access 'x.tanh' is not allowed",
    "x.__class__()": "unknown function '__class__'",
    "__import__('os').system('ls')": "unknown function 'system'",
    "__import__('os')": "unknown function '__import__'",
    "eval('1')": "unknown function 'eval'",
    "(lambda: 1)()": "only named functions and methods can be called",
    "x[0]": "indexing is not allowed",
    "'text'": "'text' is not allowed",
    "True": "True is not allowed",
    "1j": "1j is not allowed",
    "[x]": "a list is not allowed",
    "x if y else 1": "if/else is not allowed",
    "(y := 2)": ":= is not allowed",
    "leaky_relu(x, slope=0.1)": "keyword arguments are not allowed",
    "tanh(x, 2)": "tanh takes one value, got 2",
    "leaky_relu(x, y)": "must be a number",
    "x.max(y)": "max is a function, not a method",
    "max(x)": "max() takes 2 argument(s), got 1",
    "x +": "syntax error",
    "": "the expression is empty",
    "w * x": "unknown name 'w' (column 1) (variables given: x, y)",
    "log(x - 10)": "log(x - 10) (column 1): log(-8.0): undefined",
    "x / (y + 3)": "x / (y + 3) (column 1): div(2.0, 0.0): undefined",
    "10.0 ** 400": "result too large for a float",
}


@pytest.mark.parametrize("text", REFUSED)
def test_refused_expressions_say_why(text):
    with pytest.raises(ExpressionError) as error:
        evaluate(text, {"x": 2.0, "y": -3.0})
    assert REFUSED[text] in str(error.value)
    assert "\n" not in str(error.value)


def test_long_and_deep_expressions_never_crash():
    assert evaluate(" + ".join(["x"] * 2000), {"x": 1.0}).data == 2000.0  # evaluated iteratively
    with pytest.raises(ExpressionError, match="characters long"):
        evaluate("x + " * 5000 + "x", {"x": 1.0})
    with pytest.raises(ExpressionError, match="nested too deeply|syntax error"):
        evaluate("(" * 500 + "x" + ")" * 500, {"x": 1.0})


@st.composite
def arithmetic(draw, depth=0):
    """A random formula in x and y over + - * / ** and unary minus."""
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "y", "2", "0.5", "3"]))
    kind = draw(st.sampled_from(["+", "-", "*", "/", "**", "neg"]))
    left = draw(arithmetic(depth + 1))
    if kind == "neg":
        return f"-({left})"
    right = draw(st.sampled_from(["2", "3", "0.5"])) if kind == "**" else draw(arithmetic(depth + 1))
    return f"({left}) {kind} ({right})"


@settings(max_examples=60, deadline=None)
@given(arithmetic(), st.floats(0.5, 3.0), st.floats(-3.0, -0.5))
def test_formulas_agree_with_python_arithmetic(text, x, y):
    try:
        expected = eval(text, {"__builtins__": {}}, {"x": x, "y": y})  # trusted: the test wrote it
    except (ArithmeticError, ValueError):
        assume(False)
    assume(isinstance(expected, float) and math.isfinite(expected))
    assert math.isclose(evaluate(text, {"x": x, "y": y}).data, expected, rel_tol=1e-9, abs_tol=1e-12)


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------
COURSE = ["(x + y) * z", "x=-2", "y=5", "z=-4"]


def test_course_example_prints_every_gradient_and_writes_the_svg(tmp_path, capsys):
    out = tmp_path / "graph.svg"
    assert main([*COURSE, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["f = (x + y) * z = -12", "df/dx = -4", "df/dy = -4", "df/dz = 3",
                                         f"wrote {out}"]
    texts = [t.text for t in ElementTree.parse(out).iter("{http://www.w3.org/2000/svg}text")]
    for expected in ("x + y", "data 3", "grad -4", "f", "data -12", "local 3", "local -4"):
        assert expected in texts


def test_sigmoid_neuron_gradients_are_the_course_numbers(tmp_path, capsys):
    argv = ["1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3",
            "-o", str(tmp_path / "neuron.dot")]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == ["f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))) = 0.731059", "df/dw0 = -0.196612",
                         "df/dx0 = 0.393224", "df/dw1 = -0.393224", "df/dx1 = -0.589836",
                         "df/dw2 = 0.196612"]
    assert "1/x" in (tmp_path / "neuron.dot").read_text(encoding="utf-8")


def test_steps_rankdir_and_no_draw(tmp_path, capsys):
    frames = tmp_path / "frames"
    assert main([*COURSE, "-o", str(tmp_path / "g.png"), "--rankdir", "TB", "--steps", str(frames)]) == 0
    assert capsys.readouterr().out.endswith(f"wrote 3 frames of the backward pass to {frames}\n")
    assert sorted(p.name for p in frames.iterdir()) == ["step_000.svg", "step_001.svg", "step_002.svg"]
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert main([*COURSE, "--no-draw", "-o", str(tmp_path / "unused.svg")]) == 0
    assert "wrote" not in capsys.readouterr().out and not (tmp_path / "unused.svg").exists()


def test_nothing_is_written_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(COURSE) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "df/dz = 3"
    assert list(tmp_path.iterdir()) == []
    assert main([*COURSE, "-o", "graph.svg"]) == 0
    assert capsys.readouterr().out.endswith("wrote graph.svg\n")
    assert (tmp_path / "graph.svg").read_bytes().startswith(b"<?xml")


ERRORS = [
    (["(x + y) * w", "x=1", "y=2"], "unknown name w in '(x + y) * w': give a value, e.g. w=1"),
    (["x // 2", "x=1"], "operator // is not allowed (column 1): use + - * / **"),
    (["x.data", "x=1"], "attribute access 'x.data' is not allowed"),
    (["__import__('os').system('echo hacked')"], "unknown function 'system'"),
    (["x +", "x=1"], "syntax error in 'x +'"),
    (["x * 2", "x=abc"], "'x=abc': 'abc' is not a number"),
    (["x * 2", "x=nan"], "NaN is not allowed"),
    (["x * 2", "x"], "'x' is not a name=value assignment"),
    (["x * 2", "x=1", "x=2"], "x is given twice"),
    (["x * 2", "x=1", "q=2"], "q is not used in 'x * 2'"),
    (["log(x)", "x=-1"], "log(x) (column 1): log(-1.0): undefined (math domain error)"),
    (["x * 2", "x=1", "-o", "graph.txt"], "-o graph.txt: name a .svg, .png, .pdf, .html or .dot file"),
    (["x * 2", "x=1", "--rankdir", "RL"], "argument --rankdir: invalid choice"),
    ([], "the following arguments are required"),
]


@pytest.mark.parametrize(("argv", "message"), ERRORS)
def test_errors_are_one_line_and_exit_code_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert message in captured.err
    assert list(tmp_path.iterdir()) == []


def test_bad_number_format_is_exit_code_2(tmp_path, capsys):
    assert main([*COURSE, "--number-format", "q", "-o", str(tmp_path / "g.svg")]) == 2
    assert capsys.readouterr().err.startswith("error: number_format 'q' is not a float format spec")


def test_without_graphviz_the_gradients_print_and_the_error_says_how_to_get_it(tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.delenv(backend_module.BACKEND_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    monkeypatch.setattr(backend_module, "_dot_program", lambda: None)
    assert main([*COURSE, "-o", str(tmp_path / "graph.svg")]) == 2
    captured = capsys.readouterr()
    assert "df/dz = 3" in captured.out
    assert captured.err.count("\n") == 1 and "pip install pygraphviz" in captured.err
    assert main([*COURSE, "-o", str(tmp_path / "graph.dot")]) == 0  # the DOT text needs no Graphviz


def test_python_dash_m_autograd(tmp_path):
    run = subprocess.run([sys.executable, "-m", "autograd", *COURSE, "-o", str(tmp_path / "g.svg")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0
    assert run.stdout.splitlines()[:4] == ["f = (x + y) * z = -12", "df/dx = -4", "df/dy = -4", "df/dz = 3"]
    bad = subprocess.run([sys.executable, "-m", "autograd", "x < 1", "x=1"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "error: a comparison is not allowed in an expression (column 1)\n"
    usage = subprocess.run([sys.executable, "-m", "autograd", "--help"], capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 0 and "tanh" in usage.stdout and "x=-2" in usage.stdout
