"""autograd.draw: the DOT text of computational graphs (no Graphviz needed here)."""
# ruff: noqa: E501  (the exact DOT text of the course graph is the spec, line for line)

from __future__ import annotations

import importlib
import math
import re
import subprocess
import sys
import textwrap
import traceback

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Constant, Parameter, Value, draw, scope
from course_graphs import course_graph, sigmoid_neuron

draw_module = importlib.import_module("autograd.drawing")


def value_cells(source: str) -> dict[str, tuple[str, str, str]]:
    """name -> (label, data text, grad text) for every value box of a DOT text."""
    cells = {}
    for name, table in re.findall(r"^\s*(v\d+) \[label=<(.*?)> fillcolor", source, re.M):
        label = re.search(r"<b>(.*?)</b>", table)
        data = re.search(r">data (.*?)</font>", table).group(1)
        grad = re.search(r">grad (.*?)</font>", table).group(1)
        cells[name] = (label.group(1) if label else "", data, grad)
    return cells


def local_edges(source: str) -> list[tuple[str, str, str]]:
    """(value, op, local gradient text) for every labelled edge input -> op."""
    return re.findall(r'^\s*(v\d+) -> (o\d+) \[label="local (.*?)"', source, re.M)


# ---------------------------------------------------------------------------
# The course's graph, exactly
# ---------------------------------------------------------------------------
EXPECTED_COURSE_DOT = textwrap.dedent("""\
    digraph chainrule {
    \tgraph [rankdir="LR" nodesep="0.25" ranksep="0.35" fontname="Helvetica" fontsize="10" label=<<font point-size="9"><table border="0" cellspacing="0"><tr><td align="left"><table border="0" cellborder="0" cellspacing="3" cellpadding="2"><tr><td bgcolor="#cfe3f7" border="1">input</td><td bgcolor="#ffffff" border="1">intermediate</td><td bgcolor="#c9ecc9" border="1">output</td><td><font color="#6a3d9a">local</font> = d(op)/d(input): grad × local flows back</td></tr></table></td></tr></table></font>> labelloc="t" labeljust="l"]
    \tnode [shape="box" style="rounded,filled" fontname="Helvetica" fontsize="11" margin="0.08,0.04"]
    \tedge [fontname="Helvetica" fontsize="9" color="#5f5f5f" arrowsize="0.6"]
    \tv0 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td><b>x</b></td></tr><tr><td><font color="#1b6b2a">data -2</font></td></tr><tr><td><font color="#b3261e">grad -4</font></td></tr></table>> fillcolor="#cfe3f7" tooltip="input x"]
    \tv1 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td><b>y</b></td></tr><tr><td><font color="#1b6b2a">data 5</font></td></tr><tr><td><font color="#b3261e">grad -4</font></td></tr></table>> fillcolor="#cfe3f7" tooltip="input y"]
    \tv2 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td><b>q</b></td></tr><tr><td><font color="#1b6b2a">data 3</font></td></tr><tr><td><font color="#b3261e">grad -4</font></td></tr></table>> fillcolor="#ffffff" tooltip="intermediate q"]
    \to2 [label="+" ordering="in" shape="ellipse" fillcolor="#f2f2f2" width="0.3" height="0.3" margin="0.04,0.02" tooltip="add: local gradient 1, 1"]
    \tv3 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td><b>z</b></td></tr><tr><td><font color="#1b6b2a">data -4</font></td></tr><tr><td><font color="#b3261e">grad 3</font></td></tr></table>> fillcolor="#cfe3f7" tooltip="input z"]
    \tv4 [label=<<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td><b>f</b></td></tr><tr><td><font color="#1b6b2a">data -12</font></td></tr><tr><td><font color="#b3261e">grad 1</font></td></tr></table>> fillcolor="#c9ecc9" tooltip="output f"]
    \to4 [label="*" ordering="in" shape="ellipse" fillcolor="#f2f2f2" width="0.3" height="0.3" margin="0.04,0.02" tooltip="mul: local gradient y, x"]
    \tv0 -> o2 [label="local 1" fontcolor="#6a3d9a" tooltip="upstream -4 × local 1 = -4 flows back"]
    \tv1 -> o2 [label="local 1" fontcolor="#6a3d9a" tooltip="upstream -4 × local 1 = -4 flows back"]
    \to2 -> v2
    \tv2 -> o4 [label="local -4" fontcolor="#6a3d9a" tooltip="upstream 1 × local -4 = -4 flows back"]
    \tv3 -> o4 [label="local 3" fontcolor="#6a3d9a" tooltip="upstream 1 × local 3 = 3 flows back"]
    \to4 -> v4
    }
    """)


def test_course_graph_dot_is_exact():
    f, _ = course_graph()
    graph = draw(f)
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == EXPECTED_COURSE_DOT


def test_course_graph_numbers_are_the_course_numbers():
    f, nodes = course_graph()
    cells = value_cells(draw(f).source)
    shown = {label: (data, grad) for label, data, grad in cells.values()}
    assert shown == {"x": ("-2", "-4"), "y": ("5", "-4"), "z": ("-4", "3"), "q": ("3", "-4"),
                     "f": ("-12", "1")}
    # upstream x local = what flows to the input: q's -4 x 1 for x and y; f's 1 x z for q.
    assert sorted(local_edges(draw(f).source)) == [("v0", "o2", "1"), ("v1", "o2", "1"),
                                                  ("v2", "o4", "-4"), ("v3", "o4", "3")]


def test_sigmoid_neuron_gates_and_gradients_match_the_slide():
    f, leaves = sigmoid_neuron()
    source = draw(f).source
    ops = re.findall(r'^\s*o\d+ \[label="(.*?)"', source, re.M)
    assert ops == ["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"]  # the slide's gates
    shown = {label: grad for label, _, grad in value_cells(source).values() if label}
    assert shown == {"w0": "-0.1966", "x0": "0.3932", "w1": "-0.3932", "x1": "-0.5898",
                     "w2": "0.1966", "f": "1"}
    assert "data 0.7311" in source


# ---------------------------------------------------------------------------
# The chain rule on the edges agrees with .grad
# ---------------------------------------------------------------------------
def assert_edges_carry_the_chain_rule(root: Value) -> None:
    """For every drawn value: the sum over its edges of upstream x local equals its grad."""
    source = draw(root, number_format=repr, fold_constants=False, legend=False).source
    grads = {name: float(grad) for name, (_, _, grad) in value_cells(source).items()}
    received = dict.fromkeys(grads, 0.0)
    for value, op, local in local_edges(source):
        result = "v" + op[1:]
        received[value] += grads[result] * float(local)
    for name, grad in grads.items():
        if any(edge[0] == name for edge in local_edges(source)):
            assert math.isclose(received[name], grad, rel_tol=1e-12, abs_tol=1e-12), name


def test_edges_carry_the_chain_rule_on_the_course_graphs():
    assert_edges_carry_the_chain_rule(course_graph()[0])
    assert_edges_carry_the_chain_rule(sigmoid_neuron()[0])


def test_a_reused_value_adds_the_gradients_of_its_uses():
    x = Value(3.0, "x")
    y = x * x + x  # dy/dx = 2x + 1 = 7, over three edges: 3, 3 and 1
    y.backward()
    source = draw(y).source
    edges_from_x = [local for value, _, local in local_edges(source) if value == "v0"]
    assert sorted(edges_from_x) == ["1", "3", "3"]
    assert value_cells(source)["v0"] == ("x", "3", "7")
    assert_edges_carry_the_chain_rule(y)


UNARY = ["exp", "tanh", "sigmoid", "sin", "cos", "softplus", "relu", "softsign", "selu", "elu"]


@st.composite
def random_graphs(draw_from):
    """A random expression of 3 leaves, with reuse, binary and unary ops."""
    leaves = [Value(draw_from(st.floats(-2, 2)), f"a{i}") for i in range(3)]
    nodes = list(leaves)
    for _ in range(draw_from(st.integers(1, 12))):
        kind = draw_from(st.sampled_from(["add", "mul", "sub", "unary", "square"]))
        a = draw_from(st.sampled_from(nodes))
        b = draw_from(st.sampled_from(nodes))
        if kind == "add":
            node = a + b
        elif kind == "mul":
            node = a * b
        elif kind == "sub":
            node = a - b
        elif kind == "square":
            node = a ** 2
        else:
            node = getattr(a, draw_from(st.sampled_from(UNARY)))()
        nodes.append(node)
    return nodes[-1]


@settings(max_examples=40, deadline=None)
@given(random_graphs())
def test_edges_carry_the_chain_rule_on_random_graphs(root):
    root.backward()
    assert_edges_carry_the_chain_rule(root)


def test_local_gradients_come_from_the_op_table():
    f, _ = course_graph()
    calls = []
    mul = autograd.OPS["mul"]
    original = mul.local_grads

    def spy(m, xs, out, arg):
        calls.append((m, tuple(xs), out))
        return original(m, xs, out, arg)

    object.__setattr__(mul, "local_grads", spy)  # Op is a frozen dataclass
    try:
        draw(f)
    finally:
        object.__setattr__(mul, "local_grads", original)
    assert calls == [(autograd.ops.FLOAT_MATH, (3.0, -4.0), -12.0)]


def test_local_gradients_default_on_only_after_a_backward():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    f = x * y
    assert local_edges(draw(f).source) == []
    assert local_edges(draw(f, local_grads=True).source) == [("v0", "o2", "3"), ("v1", "o2", "2")]
    f.backward()
    assert local_edges(draw(f).source) == [("v0", "o2", "3"), ("v1", "o2", "2")]
    assert local_edges(draw(f, local_grads=False).source) == []


# ---------------------------------------------------------------------------
# Roles, colours, legend, labels, options
# ---------------------------------------------------------------------------
def fill_of(source: str, node: str) -> str:
    return re.search(rf"^\s*{node} \[.*? fillcolor=\"(#\w+)\"", source, re.M).group(1)


def test_roles_have_their_colours_and_the_legend_lists_them():
    w = Parameter(0.5, "w")
    x = Value(2.0, "x")
    h = w * x
    out = h + 1
    out.backward()
    source = draw(out, fold_constants=False).source
    colours = draw_module.ROLE_COLOURS
    order = autograd.topological_order(out)
    names = {node: f"v{i}" for i, node in enumerate(order)}
    constant = next(node for node in order if isinstance(node, Constant))
    assert fill_of(source, names[w]) == colours["parameter"]
    assert fill_of(source, names[x]) == colours["input"]
    assert fill_of(source, names[constant]) == colours["constant"]
    assert fill_of(source, names[h]) == colours["intermediate"]
    assert fill_of(source, names[out]) == colours["output"]
    legend = re.search(r"^\s*graph \[.* label=<(.*)> labelloc", source, re.M).group(1)  # the graph's label
    for role in ("input", "parameter", "constant", "intermediate", "output"):
        assert f'bgcolor="{colours[role]}" border="1">{role}<' in legend
    assert "border=\"1\">input<" not in draw(out, legend=False).source


def test_constants_fold_into_their_op_labels():
    x = Value(2.0, "x")
    folded = draw(1 - x * 3).source
    assert re.findall(r'^\s*o\d+ \[label="(.*?)"', folded, re.M) == ["*3", "1-x"]
    assert draw_module.ROLE_COLOURS["constant"] not in folded
    assert draw(autograd.maximum(x, 0)).source.count('label="max(x, 0)"') == 1
    unfolded = draw(1 - x * 3, fold_constants=False).source
    assert unfolded.count(f'fillcolor="{draw_module.ROLE_COLOURS["constant"]}"') == 2


def test_several_outputs():
    x = Value(1.0, "x")
    a, b = x * 2, x + 1
    source = draw([a, b]).source
    assert source.count(f'fillcolor="{draw_module.ROLE_COLOURS["output"]}"') == 2


def test_rankdir_and_number_format():
    f, _ = course_graph()
    tb = draw(f, rankdir="TB").source
    assert 'rankdir="TB"' in tb
    assert '<tr><td><b>x</b></td><td>  </td><td><font color="#1b6b2a">data -2</font>' in tb
    assert "data -2.000" in draw(f, number_format=".3f").source
    assert "data <-2.0>" not in draw(f, number_format=lambda n: f"<{n}>").source  # escaped
    assert "data &lt;-2.0&gt;" in draw(f, number_format=lambda n: f"<{n}>").source
    assert "grad 0" in draw(Value(0.0, "z") * -1.0, number_format=".1f").source.replace("grad 0.0", "grad 0")
    with pytest.raises(ValueError, match="rankdir"):
        draw(f, rankdir="RL")
    with pytest.raises(ValueError, match="number_format"):
        draw(f, number_format="q")
    with pytest.raises(TypeError, match="number_format"):
        draw(f, number_format=3)


def test_negative_zero_is_drawn_as_zero():
    zero = Value(0.0, "z") * -1.0
    assert "data -0" not in draw(zero).source


def test_labels_are_escaped():
    x = Value(1.0, 'a<b>&"c"')
    source = draw(x * 2).source
    assert "<b>a&lt;b&gt;&amp;&quot;c&quot;</b>" in source
    assert 'tooltip="input a&lt;b&gt;&amp;&quot;c&quot;"' in source


def test_a_gradient_that_is_a_value_shows_its_number():
    x = Value(2.0, "x")
    x.grad = Value(5.0)  # as inside grad(create_graph=True)
    assert "grad 5" in draw(x).source


def test_bad_arguments_name_the_problem():
    x = Value(1.0)
    with pytest.raises(TypeError, match="Value"):
        draw(3.0)
    with pytest.raises(TypeError, match="Value"):
        draw([x, 2.0])
    with pytest.raises(ValueError, match="at least one"):
        draw([])
    with pytest.raises(TypeError, match="collapse"):
        draw(x, collapse=3)
    with pytest.raises(ValueError, match="max_nodes"):
        draw(x, max_nodes=0)
    with pytest.raises(TypeError, match="local_grads"):
        draw(x, local_grads="yes")
    with pytest.raises(ValueError, match="collapse='neuron' matches no scope of this graph: it has no"):
        draw(x * 2, collapse="neuron")
    with pytest.raises(ValueError, match="scope kinds are 'neuron', 'layer'"):
        draw(scoped_mlp(), collapse="neurons")


def test_autograd_draw_and_compile_stay_functions_after_their_modules_are_imported():
    importlib.import_module("autograd.drawing")
    importlib.import_module("autograd.compiler")
    assert autograd.draw is draw_module.draw
    assert callable(autograd.compile)
    assert callable(autograd.draw) and callable(autograd.render) and callable(autograd.render_steps)
    assert autograd.draw(Value(1.0)).node_count == 1


# ---------------------------------------------------------------------------
# Deterministic and iterative
# ---------------------------------------------------------------------------
DETERMINISM_SCRIPT = """
import autograd
from autograd import Value, Parameter, scope
xs = [Value(0.5, "x0"), Value(-1.5, "x1")]
with scope("layer 0"):
    hs = []
    for j in range(3):
        with scope(f"neuron {j}"):
            hs.append(autograd.dot([Parameter(0.1 * j, f"w{j}{i}") for i in range(2)], xs,
                                   bias=Parameter(0.2, f"b{j}")).tanh())
loss = (autograd.sum(hs) - 1) ** 2
loss.backward()
print(autograd.draw(loss, collapse=None).source, end="")
print(autograd.draw(loss, collapse="neuron").source, end="")
"""


def test_dot_is_byte_identical_across_processes():
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT], capture_output=True,
                             check=True, env={"PYTHONHASHSEED": seed, "PATH": ""})
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert b"cluster_" in outputs[0] and b"neuron 2" in outputs[0]


def test_dot_is_identical_for_the_same_graph_built_twice():
    assert draw(course_graph()[0]).source == draw(course_graph()[0]).source
    assert draw(sigmoid_neuron()[0], step=3).source == draw(sigmoid_neuron()[0], step=3).source


def test_a_100000_node_chain_draws_without_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(100_000):
        y = y.sin()
    y.backward()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 60)  # no room for recursion
    try:
        graph = draw(y)
        source = graph.source
    finally:
        sys.setrecursionlimit(limit)
    assert graph.node_count == 200_001
    assert source.count(" -> ") == 200_000
    assert "\tv100000 [" in source and "\to100000 -> v100000\n" in source
    with pytest.raises(draw_module.GraphTooLargeError, match=r"200,001 nodes.*\.source.*max_nodes=None"):
        graph.check_size()


# ---------------------------------------------------------------------------
# Scopes: clusters and folding
# ---------------------------------------------------------------------------
def scoped_mlp(samples: int = 1, use_dot: bool = True) -> Value:
    """A hand-made 2-3-1 network: scopes as nn uses them ("layer i" / "neuron j")."""
    weights = [[[Parameter(0.1 * (i + j + k) - 0.2, f"w{i}{j}{k}") for k in range(2 if i == 0 else 3)]
                for j in range(3 if i == 0 else 1)] for i in range(2)]
    biases = [[Parameter(0.05 * j, f"b{i}{j}") for j in range(3 if i == 0 else 1)] for i in range(2)]
    losses = []
    for s in range(samples):
        h = [Value(0.5 + s, f"x{s}0"), Value(-1.0 - s, f"x{s}1")]
        for i in range(2):
            with scope(f"layer {i}"):
                outputs = []
                for j, (ws, b) in enumerate(zip(weights[i], biases[i])):
                    with scope(f"neuron {j}"):
                        if use_dot:
                            act = autograd.dot(ws, h, bias=b)
                        else:
                            act = b
                            for w, v in zip(ws, h):
                                act = act + w * v
                        outputs.append(act.tanh())
                h = outputs
        losses.append((h[0] - 1) ** 2)
    loss = autograd.sum(losses) if samples > 1 else losses[0]
    loss.label = "loss"
    loss.backward()
    return loss


def cluster_titles(source: str) -> list[str]:
    return re.findall(r"subgraph cluster_\d+ \{\n\s*label=<<b>(.*?)</b>>", source)


def box_titles(source: str) -> list[str]:
    return re.findall(r'^\s*s\d+ \[label=<<b>(.*?)</b>', source, re.M)


def test_unfolded_scopes_are_nested_clusters():
    source = draw(scoped_mlp(), collapse=None).source
    assert cluster_titles(source) == ["layer 0", "neuron 0", "neuron 1", "neuron 2", "layer 1", "neuron 0"]
    assert box_titles(source) == []
    assert len(value_cells(source)) == 2 + 9 + 4 + 4 * 2 + 2  # inputs, params, dot+tanh, loss ops
    # A neuron's weights sit in the neuron's cluster, the shared inputs outside every cluster.
    layer0 = source.split("subgraph cluster_")[1]
    assert "<b>w000</b>" in source.split("subgraph cluster_")[2]
    assert "<b>x00</b>" not in layer0


def test_collapse_neuron_folds_each_neuron_into_a_box_inside_its_layer():
    loss = scoped_mlp()
    source = draw(loss, collapse="neuron").source
    assert box_titles(source) == ["neuron 0", "neuron 1", "neuron 2", "neuron 0"]
    assert cluster_titles(source) == ["layer 0", "layer 1"]
    assert "w000" not in source and "b00" not in source  # weights folded with their neuron
    labels = [label for label, _, _ in value_cells(source).values()]
    assert labels.count("x00") == 1 and labels.count("loss") == 1
    assert len(value_cells(source)) == 2 + 4 + 2  # inputs, the 4 neurons' outputs, loss ops
    assert '"3 ops' not in source and "1 ops" not in source
    assert "<b>neuron 0</b><br/><font point-size=\"9\">2 ops, 3 parameters</font>" in source
    # Boundary wiring: each layer-0 neuron reads both inputs; its output feeds layer 1.
    edges = re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)
    into_first_box = sorted(a for a, b in edges if b == "s2")
    assert len(into_first_box) == 2 and all(a.startswith("v") for a in into_first_box)
    assert sum(1 for a, b in edges if b == "s5") == 3  # layer 1 reads three neuron outputs


def test_collapse_layer_folds_each_layer():
    source = draw(scoped_mlp(use_dot=False), collapse="layer").source
    assert box_titles(source) == ["layer 0", "layer 1"]
    assert cluster_titles(source) == []
    assert "<b>layer 0</b><br/><font point-size=\"9\">15 ops, 9 parameters</font>" in source
    assert len(value_cells(source)) == 2 + 3 + 1 + 2


def test_a_neuron_applied_to_two_samples_is_two_boxes():
    source = draw(scoped_mlp(samples=2), collapse="neuron").source
    assert box_titles(source).count("neuron 0 (call 1)") == 2  # layer 0's and layer 1's neuron 0
    assert box_titles(source).count("neuron 2 (call 2)") == 1
    assert len(box_titles(source)) == 8


def test_weights_made_inside_a_scope_do_not_join_two_calls():
    with scope("neuron 0"):
        w, b = Parameter(0.5, "w"), Parameter(0.1, "b")

    def neuron(x):
        with scope("neuron 0"):
            return (w * x + b).tanh()

    loss = neuron(Value(1.0, "x1")) + neuron(Value(2.0, "x2"))
    loss.backward()
    source = draw(loss, collapse="neuron").source
    assert box_titles(source) == ["neuron 0 (call 1)", "neuron 0 (call 2)"]
    labels = [label for label, _, _ in value_cells(source).values()]
    assert labels.count("w") == 1 and labels.count("b") == 1  # shared: drawn once, outside both
    edges = re.findall(r"^\s*(\w+) -> (s\d+)", source, re.M)
    assert len(edges) == 6  # x, w and b into each call


def test_auto_collapse_folds_only_over_the_size_limit():
    loss = scoped_mlp(use_dot=False)
    small = draw(loss)
    assert box_titles(small.source) == [] and "label=" in small.source
    full = small.node_count
    folded = draw(loss, max_nodes=full - 1)
    assert box_titles(folded.source) == ["neuron 0", "neuron 1", "neuron 2", "neuron 0"]
    assert f"of {full:,} nodes drawn: scopes folded automatically" in folded.source
    folded.check_size()
    layers = draw(loss, max_nodes=12)
    assert box_titles(layers.source) == ["layer 0", "layer 1"]
    with pytest.raises(draw_module.GraphTooLargeError) as refused:
        draw(loss, collapse=None, max_nodes=12).check_size()
    advice = str(refused.value)  # only the folds that do fit are offered
    assert "draw(..., collapse='layer') (12 nodes)" in advice and "collapse='neuron')" not in advice
    with pytest.raises(draw_module.GraphTooLargeError,
                       match=r"folding is not enough \(collapse='neuron' leaves 14 nodes, 17 edges and a "
                             r"layout cost of 15, collapse='layer' leaves 12 nodes, 13 edges and a layout "
                             r"cost of 4\)"):
        draw(loss, collapse=None, max_nodes=10).check_size()


def test_step_highlight_moves_to_the_folded_scope():
    loss = scoped_mlp()
    steps = list(autograd.backward_steps(loss))
    dot = next(k for k, s in enumerate(steps, 1) if s.node.op.name == "dot")
    assert highlighted(draw(loss, collapse="neuron", step=dot).source) == ["s5"]
    tanh = next(k for k, s in enumerate(steps, 1) if s.node.op.name == "tanh")
    output = autograd.topological_order(loss).index(steps[tanh - 1].node)  # the neuron's output
    assert highlighted(draw(loss, collapse="neuron", step=tanh).source) == [f"v{output}", "s5"]


# ---------------------------------------------------------------------------
# Backward, step by step
# ---------------------------------------------------------------------------
def highlighted(source: str) -> list[str]:
    return re.findall(r"^\s*(\w+) \[.*color=\"#e8590c\" penwidth=\"2.5\"", source, re.M)


def test_step_zero_knows_only_the_seed():
    f, _ = course_graph()
    cells = value_cells(draw(f, step=0).source)
    assert {name: grad for name, (_, _, grad) in cells.items()} == {
        "v0": "?", "v1": "?", "v2": "?", "v3": "?", "v4": "1"}
    assert highlighted(draw(f, step=0).source) == ["v4"]


def test_steps_follow_backward_and_end_at_grad():
    f, nodes = course_graph()
    frames = [draw(f, step=k).source for k in range(3)]
    assert {n: g for n, (_, _, g) in value_cells(frames[1]).items()} == {
        "v0": "?", "v1": "?", "v2": "-4", "v3": "3", "v4": "1"}
    assert highlighted(frames[1]) == ["v4", "o4"]
    assert 'v2 -> o4 [label="1 × -4 = -4"' in frames[1]  # upstream x local = what flows
    assert highlighted(frames[2]) == ["v2", "o2"]
    assert {label: g for label, _, g in value_cells(frames[2]).values()} == {
        label: f"{node.grad:.4g}" for label, node in nodes.items()}
    assert "?" not in "".join(grad for _, _, grad in value_cells(frames[2]).values())
    with pytest.raises(ValueError, match="between 0 and 2"):
        draw(f, step=3)
    with pytest.raises(TypeError, match="step"):
        draw(f, step=True)


def test_steps_show_partial_sums_and_never_touch_grad():
    x = Value(3.0, "x")
    y = x * x + x
    frames = [value_cells(draw(y, step=k).source)["v0"][2] for k in range(3)]
    assert frames == ["?", "1 + ?", "7"]  # the add's 1 first, then the mul's 3 + 3
    assert x.grad == 0.0


def test_step_frames_agree_with_backward_steps_on_the_neuron():
    f, leaves = sigmoid_neuron()
    steps = list(autograd.backward_steps(f))
    order = autograd.topological_order(f)
    for k, step in enumerate(steps, 1):
        assert highlighted(draw(f, step=k).source)[0] == f"v{order.index(step.node)}"
    last = value_cells(draw(f, step=len(steps), number_format=repr).source)
    assert len(last) == len(order) - 2  # the two constants 1 are folded into +1 and 1/x
    for name, (_, _, grad) in last.items():
        assert float(grad) == order[int(name[1:])].grad


def test_steps_need_one_output():
    x = Value(1.0)
    with pytest.raises(ValueError, match="one output"):
        draw([x * 2, x * 3], step=0)


def test_direction_follows_the_graph_shape():
    f, _ = course_graph()
    assert 'rankdir="LR"' in draw(f).source  # short and wide: left to right
    neuron, _ = sigmoid_neuron()
    assert 'rankdir="TB"' in draw(neuron).source  # a chain of nine gates: top to bottom
    assert 'rankdir="LR"' in draw(neuron, rankdir="LR").source
    with pytest.raises(ValueError, match="'LR', 'TB' or 'auto'"):
        draw(neuron, rankdir="RL")


def test_the_sigmoid_neuron_fits_a_notebook_column():
    neuron, _ = sigmoid_neuron()
    svg = draw(neuron).pipe(format="svg", encoding="utf-8")
    width_points = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width_points * 96 / 72 <= 1000


def test_a_neurons_weights_keep_their_order():
    nn = pytest.importorskip("nn")
    neuron = nn.Neuron(3, seed=0)
    out = neuron([Value(0.1 * i, f"x{i}") for i in range(3)])
    source = draw(out, rankdir="TB").source
    order = autograd.topological_order(out)
    names = {node.label: f"v{i}" for i, node in enumerate(order) if node.label}
    chain = " -> ".join(names[label] for label in ("w0", "w1", "w2", "b"))
    assert f"{{rank=same; {chain} [style=invis]}}" in source  # left to right: w0, w1, w2, b
