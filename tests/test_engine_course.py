"""The engine reproduces the course's first examples exactly: the (x + y) z graph, the sigmoid
neuron built from primitive gates and from one sigmoid gate, and the staged backward."""

import math

import pytest

import autograd
from autograd import Value

# The sigmoid neuron's point: w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3.
NEURON_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
NEURON_OUTPUT = 0.7311
NEURON_GRADS = {"w0": -0.1966, "x0": 0.3932, "w1": -0.3932, "x1": -0.5898, "w2": 0.1966}


def neuron_leaves():
    return {name: Value(data, name) for name, data in NEURON_POINT.items()}


# ---------------------------------------------------------------------------
# f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4
# ---------------------------------------------------------------------------
def test_x_plus_y_times_z_forward_and_every_gradient():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert f.grad == 1.0
    assert z.grad == 3.0  # df/dz = q
    assert q.grad == -4.0  # df/dq = z: the intermediate gets its gradient too
    assert x.grad == -4.0 and y.grad == -4.0  # upstream (-4) x local (1)


def test_x_plus_y_times_z_with_grad_leaves_dot_grad_untouched():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    assert autograd.grad(f, [x, y, z]) == (-4.0, -4.0, 3.0)
    assert (x.grad, y.grad, z.grad, f.grad) == (0.0, 0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------
# The sigmoid neuron f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2))
# ---------------------------------------------------------------------------
def neuron_from_primitive_gates(v):
    """The slide's gates, one by one: *, +, *-1, exp, +1, 1/x."""
    dot = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
    negated = -dot
    assert negated.op.name == "neg" and negated.op.symbol == "*-1"
    exponential = negated.exp()
    plus_one = exponential + 1
    return 1 / plus_one  # the 1/x gate


def neuron_with_sigmoid_gate(v):
    return (v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]).sigmoid()


def neuron_with_dot_and_sigmoid(v):
    return autograd.dot([v["w0"], v["w1"]], [v["x0"], v["x1"]], bias=v["w2"]).sigmoid()


NEURON_FORMS = [neuron_from_primitive_gates, neuron_with_sigmoid_gate, neuron_with_dot_and_sigmoid]


@pytest.mark.parametrize("build", NEURON_FORMS, ids=lambda f: f.__name__)
def test_sigmoid_neuron_values_and_gradients(build):
    leaves = neuron_leaves()
    f = build(leaves)
    f.backward()
    assert f.data == pytest.approx(NEURON_OUTPUT, abs=1e-4)
    assert f.data == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-15)  # w.x + b = 1
    for name, expected in NEURON_GRADS.items():
        assert leaves[name].grad == pytest.approx(expected, abs=1e-4), name


def test_the_three_neuron_forms_agree_to_rounding():
    results = []
    for build in NEURON_FORMS:
        leaves = neuron_leaves()
        f = build(leaves)
        f.backward()
        results.append((f.data, *(leaves[name].grad for name in NEURON_POINT)))
    for other in results[1:]:
        assert other == pytest.approx(results[0], rel=1e-12, abs=1e-15)


def test_sigmoid_gate_local_gradient_is_one_minus_s_times_s():
    leaves = neuron_leaves()
    z = leaves["w0"] * leaves["x0"] + leaves["w1"] * leaves["x1"] + leaves["w2"]
    f = z.sigmoid()
    f.backward()
    assert z.grad == pytest.approx(0.1966, abs=1e-4)  # dz on the slide
    assert z.grad == (1 - f.data) * f.data
    assert len(f.parents) == 1 and f.op.name == "sigmoid"


def test_primitive_gate_graph_intermediate_gradients():
    # Upstream x local at every gate of the slide (rounded as on the slide).
    v = neuron_leaves()
    dot = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
    negated = -dot
    exponential = negated.exp()
    plus_one = exponential + 1
    f = 1 / plus_one
    f.backward()
    assert plus_one.data == pytest.approx(1.37, abs=1e-2)
    assert plus_one.grad == pytest.approx(-0.53, abs=1e-2)  # -1/x^2
    assert exponential.grad == pytest.approx(-0.53, abs=1e-2)  # +1 gate passes it on
    assert negated.grad == pytest.approx(-0.20, abs=1e-2)  # times e^x = 0.37
    assert dot.grad == pytest.approx(0.20, abs=1e-2)  # times -1


# ---------------------------------------------------------------------------
# The staged backward: forward in stages, then the hand-written backward.
# ---------------------------------------------------------------------------
def test_staged_hand_written_backward_equals_backward():
    w0, x0, w1, x1, w2 = (NEURON_POINT[k] for k in ("w0", "x0", "w1", "x1", "w2"))
    # forward pass, stage by stage (plain floats)
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = 1.0 / (1.0 + math.exp(-s3))
    # backward pass, by hand, in reverse order of the stages
    grad_L = 1.0
    grad_s3 = (1 - L) * L * grad_L
    grad_w2 = grad_s3
    grad_s2 = grad_s3
    grad_s0 = grad_s2
    grad_s1 = grad_s2
    grad_w1 = x1 * grad_s1
    grad_x1 = w1 * grad_s1
    grad_w0 = x0 * grad_s0
    grad_x0 = w0 * grad_s0

    v = neuron_leaves()
    S0 = v["w0"] * v["x0"]
    S1 = v["w1"] * v["x1"]
    S2 = S0 + S1
    S3 = S2 + v["w2"]
    out = S3.sigmoid()
    out.backward()

    assert out.data == pytest.approx(L, rel=1e-15)
    stages = {S3: grad_s3, S2: grad_s2, S1: grad_s1, S0: grad_s0, v["w2"]: grad_w2,
              v["w1"]: grad_w1, v["x1"]: grad_x1, v["w0"]: grad_w0, v["x0"]: grad_x0}
    for node, by_hand in stages.items():
        assert node.grad == pytest.approx(by_hand, rel=1e-15, abs=1e-300)


def test_backward_steps_walks_the_course_graph_in_reverse():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    steps = list(autograd.backward_steps(f))
    assert [s.node for s in steps] == [f, q]
    assert steps[0].upstream == 1.0 and steps[0].local_grads == (-4.0, 3.0)  # mul swaps
    assert steps[1].upstream == -4.0 and steps[1].local_grads == (1.0, 1.0)  # add distributes
    assert steps[1].accumulated == (-4.0, -4.0)
