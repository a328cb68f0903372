"""The compiled tape computes what the eager engine computes: every op, random graphs, batches.

"Equal" means |tape - eager| <= 1e-12 * max(1, scale) in float64, where scale is the
largest magnitude among the values compared (the tape adds in a different order than
the eager engine's exactly rounded sums, so results may differ in the last bits).
"""

from __future__ import annotations

import math
import random
import zlib

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
from autograd import OPS, Constant, Parameter, Value
from autograd.value import apply, apply_nary

TOLERANCE = 1e-12


def close(actual, expected, tolerance=TOLERANCE):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tolerance * scale)


def eager_batch(fn, batch, params, output_grad=None):
    """Run ``fn`` eagerly on each sample: outputs, summed parameter grads, per-sample input grads."""
    size = len(batch[0])
    outputs, input_grads = [], [np.zeros_like(np.asarray(b, dtype=float)) for b in batch]
    param_grads = np.zeros(len(params))
    for i in range(size):
        arguments, leaves = [], []
        for column in batch:
            row = np.asarray(column[i], dtype=float)
            made = [Value(float(v)) for v in row.ravel()]
            leaves.append(made)
            shaped = made[0] if row.shape == () else np.array(made, dtype=object).reshape(row.shape).tolist()
            arguments.append(shaped)
        result = fn(*arguments)
        flat = [autograd.as_value(v) for v in np.array(result, dtype=object).ravel()]
        outputs.append([v.data for v in flat])
        seed = [1.0] * len(flat) if output_grad is None else list(np.broadcast_to(output_grad, (len(flat),)))
        everything = list(params) + [v for made in leaves for v in made]
        grads = autograd.grad(flat, everything, grad_outputs=seed)
        param_grads += np.array(grads[:len(params)])
        offset = len(params)
        for j, made in enumerate(leaves):
            input_grads[j][i] = np.array(grads[offset:offset + len(made)]).reshape(np.shape(batch[j][i]))
            offset += len(made)
    shape = np.array(fn(*[_example(b) for b in batch]), dtype=object).shape
    return np.array(outputs).reshape((size,) + shape), param_grads, input_grads


def _example(column):
    row = np.asarray(column[0], dtype=float)
    values = [Value(float(v)) for v in row.ravel()]
    return values[0] if row.shape == () else np.array(values, dtype=object).reshape(row.shape).tolist()


def compare(fn, batch, params, output_grad=None, tolerance=TOLERANCE, expected=None):
    compiled = autograd.compile(fn, tuple(np.asarray(b)[0] for b in batch), params)
    result = compiled.value_and_grad(*[np.asarray(b, dtype=float) for b in batch],
                                     output_grad=output_grad, wrt_inputs=True)
    if expected is None:
        expected = eager_batch(fn, batch, params, output_grad)
    outputs, param_grads, input_grads = expected
    close(result.outputs, outputs, tolerance)
    close(result.param_grads, param_grads, tolerance)
    for tape_grad, eager_grad in zip(result.input_grads, input_grads):
        close(tape_grad, eager_grad, tolerance)
    return compiled


# ---------------------------------------------------------------------------
# Every op of the table, through every path of the program
# ---------------------------------------------------------------------------
# Where an op's maths is defined: (low, high) per operand position; default (-3, 3).
DOMAINS = {
    "log": [(0.1, 4.0)], "sqrt": [(0.1, 4.0)], "pow": [(0.2, 2.5), (-2.0, 2.0)],
    "powc": [(0.2, 2.5)], "div": [(-3.0, 3.0), (0.5, 3.0)],
}
# The constant arguments each op is tried with.
ARGS = {"powc": [2.0, 0.5, -1.5, 3.0], "leaky_relu": [0.01, 0.3], "elu": [1.0, 0.5],
        "dot": [True, False]}
# Values where ops branch or tie (exact zeros, equal operands), tried where the domain allows.
SPECIAL = [0.0, 1.0, -1.0]


def operand_pattern_cases(op):
    """Which operands are inputs ("x"), parameters ("p") or constants ("c")."""
    if op.arity == 1:
        return ["x", "p"]
    if op.arity == 2:
        return ["xx", "xp", "px", "xc", "cx", "same"]
    if op.name == "dot":  # weights, inputs (+ bias): the layer, the stacked and the op-table paths
        return ["ppp|xxx", "xxx|xxx", "ppp|ppp", "xpx|xxc", "ppp|xcx"]
    return ["xxxxx", "xpxcx", "ppppp", "same"]


def domain(op, position):
    ranges = DOMAINS.get(op.name)
    if ranges is None:
        return (-3.0, 3.0)
    return ranges[min(position, len(ranges) - 1)]


def draw(rng, low, high, size=None):
    return rng.uniform(low, high, size)


def build_case(op, pattern, arg, rng, batch=7):
    """A function applying ``op`` to its operands, its batch and its parameters."""
    if pattern == "same":  # one input in every operand position: the domain of them all
        low = max(domain(op, position)[0] for position in range(2))
        high = min(domain(op, position)[1] for position in range(2))
        column = draw(rng, low, high, batch)
        column[:2] = [v for v in SPECIAL if low <= v <= high][:2] or column[:2]
        count = 2 if op.arity == 2 else 4

        def same(x):
            operands = (x,) * count
            return apply(op, x, x, arg) if op.arity == 2 else apply_nary(op, operands, arg)
        return same, [column], []
    kinds = pattern.replace("|", "")
    if op.name == "dot" and arg:
        kinds += "p"
    columns, params, plan = [], [], []
    for position, kind in enumerate(kinds):
        low, high = domain(op, position)
        if kind == "x":
            column = draw(rng, low, high, batch)
            specials = [v for v in SPECIAL if low <= v <= high]
            column[:len(specials)] = specials
            columns.append(column)
            plan.append(("x", len(columns) - 1))
        elif kind == "p":
            params.append(Parameter(draw(rng, low, high)))
            plan.append(("p", len(params) - 1))
        else:
            plan.append(("c", draw(rng, low, high)))

    def fn(*xs):
        operands = []
        for kind, which in plan:
            if kind == "x":
                operands.append(xs[which])
            elif kind == "p":
                operands.append(params[which])
            else:
                operands.append(Constant(which))
        if op.arity == 1:
            return apply(op, operands[0], arg=arg)
        if op.arity == 2:
            return apply(op, operands[0], operands[1], arg)
        return apply_nary(op, tuple(operands), arg)
    return fn, columns, params


def op_cases():
    for name, op in OPS.items():
        for arg in ARGS.get(name, [None]):
            for pattern in operand_pattern_cases(op):
                yield pytest.param(name, arg, pattern, id=f"{name}-{arg}-{pattern}")


@pytest.mark.parametrize("name, arg, pattern", list(op_cases()))
def test_every_op_matches_eager_forward_and_gradients(name, arg, pattern):
    op = OPS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}-{arg}-{pattern}".encode()))
    fn, columns, params = build_case(op, pattern, arg, rng)
    if not columns:  # only parameters and constants: the output is shared by the batch
        columns = [draw(rng, -1.0, 1.0, 5)]
        inner = fn
        fn = lambda unused: inner()
    compare(fn, columns, params)


def test_the_op_table_is_covered():
    # A new op gets a domain (if it needs one) and joins the test above automatically.
    cases = {c.values[0] for c in op_cases()}
    assert cases == set(OPS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_op_in_float32_and_float64(dtype):
    rng = np.random.default_rng(5)
    tolerance = 1e-5 if dtype == "float32" else TOLERANCE
    for name, op in OPS.items():
        arg = ARGS.get(name, [None])[0]
        fn, columns, params = build_case(op, operand_pattern_cases(op)[0], arg, rng)
        compiled = autograd.compile(fn, tuple(c[0] for c in columns), params, dtype=dtype)
        result = compiled.value_and_grad(*[c.astype(dtype) for c in columns], wrt_inputs=True)
        assert result.outputs.dtype == np.dtype(dtype), name
        assert result.param_grads.dtype == np.dtype(dtype), name
        outputs, param_grads, input_grads = eager_batch(fn, columns, params)
        close(result.outputs, outputs, tolerance)
        close(result.param_grads, param_grads, tolerance)
        for tape_grad, eager_grad in zip(result.input_grads, input_grads):
            close(tape_grad, eager_grad, tolerance)


# ---------------------------------------------------------------------------
# Random graphs
# ---------------------------------------------------------------------------
UNARY = ["neg", "abs", "tanh", "sigmoid", "relu", "sin", "cos", "softplus", "log_sigmoid", "softsign",
         "sinc", "step", "sign", "selu", "exp_bounded", "log_safe", "sqrt_safe", "leaky_relu", "elu",
         "square", "cube_root_safe", "detach"]
BINARY = ["add", "sub", "mul", "div_safe", "max", "min", "pow_safe"]
NARY = ["sum", "dot", "dot_bias", "logsumexp"]


def unary(name, x):
    if name == "exp_bounded":
        return x.tanh().exp()
    if name == "log_safe":
        return (x * x + 0.5).log()
    if name == "sqrt_safe":
        return (x * x + 0.25).sqrt()
    if name == "square":
        return x ** 2
    if name == "cube_root_safe":
        return (x.sigmoid() + 0.1) ** (1 / 3)
    if name == "leaky_relu":
        return x.leaky_relu(0.1)
    if name == "elu":
        return x.elu(0.7)
    if name == "detach":
        return x * x.detach()
    return getattr(x, name)() if name not in ("neg", "abs") else (-x if name == "neg" else abs(x))


def binary(name, x, y):
    if name == "div_safe":
        return x / (1.0 + y * y)
    if name == "pow_safe":
        return (x.sigmoid() + 0.5) ** y.tanh()
    if name == "max":
        return autograd.maximum(x, y)
    if name == "min":
        return autograd.minimum(x, y)
    return {"add": x + y, "sub": x - y, "mul": x * y}[name]


def nary(name, operands):
    if name == "sum":
        return autograd.sum(operands)
    if name == "logsumexp":
        return autograd.logsumexp(operands)
    half = max(1, len(operands) // 2)
    weights, inputs = operands[:half], operands[half:2 * half] or operands[:half]
    return autograd.dot(weights, inputs, bias=operands[-1] if name == "dot_bias" else None)


@st.composite
def random_programs(draw_):
    n_inputs = draw_(st.integers(1, 3))
    n_params = draw_(st.integers(0, 3))
    steps = []
    for i in range(draw_(st.integers(1, 10))):
        pool = n_inputs + n_params + i
        kind = draw_(st.sampled_from(["unary", "binary", "nary", "const"]))
        if kind == "unary":
            steps.append(("unary", draw_(st.sampled_from(UNARY)), [draw_(st.integers(0, pool - 1))]))
        elif kind == "binary":
            steps.append(("binary", draw_(st.sampled_from(BINARY)),
                          [draw_(st.integers(0, pool - 1)) for _ in range(2)]))
        elif kind == "nary":
            count = draw_(st.integers(1, 5))
            steps.append(("nary", draw_(st.sampled_from(NARY)),
                          [draw_(st.integers(0, pool - 1)) for _ in range(count)]))
        else:
            steps.append(("const", draw_(st.sampled_from(["add", "mul", "rsub"])),
                          [draw_(st.integers(0, pool - 1)), draw_(st.floats(-2, 2, allow_nan=False))]))
    n_outputs = draw_(st.integers(1, 3))
    outputs = [draw_(st.integers(0, n_inputs + n_params + len(steps) - 1)) for _ in range(n_outputs)]
    seed = draw_(st.integers(0, 2**31))
    batch = draw_(st.integers(1, 6))
    return n_inputs, n_params, steps, outputs, seed, batch


def program_function(n_inputs, params, steps, outputs):
    def fn(*xs):
        nodes = list(xs) + list(params)
        for kind, name, operands in steps:
            if kind == "unary":
                nodes.append(unary(name, nodes[operands[0]]))
            elif kind == "binary":
                nodes.append(binary(name, nodes[operands[0]], nodes[operands[1]]))
            elif kind == "nary":
                nodes.append(nary(name, [nodes[i] for i in operands]))
            else:
                node, number = nodes[operands[0]], operands[1]
                nodes.append({"add": node + number, "mul": node * number, "rsub": number - node}[name])
        return [autograd.as_value(nodes[i]) for i in outputs]
    return fn


@given(random_programs())
def test_random_graphs_match_eager(program):
    n_inputs, n_params, steps, outputs, seed, batch = program
    rng = np.random.default_rng(seed)
    params = [Parameter(v) for v in rng.uniform(-1.5, 1.5, n_params)]
    fn = program_function(n_inputs, params, steps, outputs)
    columns = [rng.uniform(-1.5, 1.5, batch) for _ in range(n_inputs)]
    output_grad = rng.uniform(-1, 1, len(outputs))
    try:
        expected = eager_batch(fn, columns, params, output_grad)
    except (ValueError, OverflowError):
        assume(False)  # the eager engine itself has no value here
    assume(all(np.all(np.abs(a) < 1e8) for a in (expected[0], expected[1], *expected[2])))
    compare(fn, columns, params, output_grad, expected=expected)


def test_a_random_graph_with_everything_at_once():
    rng = random.Random(3)
    names = UNARY + BINARY + NARY
    x, y = Value(0.3), Value(-0.7)
    assert names and x is not y
    params = [Parameter(rng.uniform(-1, 1)) for _ in range(4)]

    def fn(a, b):
        nodes = [a, b, *params]
        for i, name in enumerate(names):
            pick = [nodes[(i * 7 + k * 3) % len(nodes)] for k in range(4)]
            if name in UNARY:
                nodes.append(unary(name, pick[0]).tanh())
            elif name in BINARY:
                nodes.append(binary(name, pick[0], pick[1]).tanh())
            else:
                nodes.append(nary(name, pick).tanh())
        return autograd.sum(nodes[-6:])

    batch = np.random.default_rng(0).uniform(-2, 2, (2, 9))
    compare(fn, [batch[0], batch[1]], params)


# ---------------------------------------------------------------------------
# Batch semantics
# ---------------------------------------------------------------------------
def test_parameter_gradients_are_summed_over_the_batch():
    w, b = Parameter(2.0), Parameter(-1.0)
    compiled = autograd.compile(lambda x: (w * x + b) ** 2, (0.0,))
    xs = np.array([0.5, 1.0, 2.0])
    result = compiled.value_and_grad(xs)
    residual = 2.0 * xs - 1.0
    close(result.outputs, residual ** 2)
    close(result.param_grads, [np.sum(2 * residual * xs), np.sum(2 * residual)])


def test_output_grad_weights_each_sample_and_output():
    w = Parameter(3.0)
    compiled = autograd.compile(lambda x: [w * x, w * w], (0.0,))
    xs = np.array([1.0, 2.0])
    result = compiled.value_and_grad(xs, output_grad=[[1.0, 0.0], [0.5, 1.0]])
    # d/dw: sample 0 -> 1 * x0; sample 1 -> 0.5 * x1 + 1 * 2w
    close(result.param_grads, [1.0 * 1.0 + 0.5 * 2.0 + 6.0])
    mean = compiled.value_and_grad(xs, output_grad=0.5)
    close(mean.param_grads, [0.5 * (1.0 + 2.0) + 0.5 * 2 * 6.0])


def test_mean_seed_gives_the_gradient_of_the_mean_loss():
    rng = np.random.default_rng(1)
    params = [Parameter(v) for v in rng.uniform(-1, 1, 3)]
    fn = lambda x: autograd.dot(params[:2], x, params[2]).tanh()
    batch = rng.uniform(-1, 1, (10, 2))
    compare(fn, [batch], params, output_grad=1 / 10)


def test_vector_and_nested_outputs_keep_their_shape():
    p = Parameter(1.5)
    compiled = autograd.compile(lambda x: [[x[0] * p, x[1]], [p, 2.0]], ([1.0, 2.0],))
    outputs = compiled(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert outputs.shape == (3, 2, 2)
    np.testing.assert_array_equal(outputs[2], [[7.5, 6.0], [1.5, 2.0]])


def test_inputs_parameters_and_constants_can_be_outputs():
    p = Parameter(1.5)
    compare(lambda x, y: [x, p, Constant(2.0), y[1], x * y[0]], [np.arange(3.0), np.ones((3, 2))], [p])


def test_shared_nodes_run_once_and_broadcast():
    params = [Parameter(float(i)) for i in range(1, 6)]
    compiled = compare(lambda x: x * autograd.dot(params, params), [np.arange(4.0)], params)
    shared = [g for g in compiled.program.groups if g.out_space == 1]
    assert shared and all(g.kind == "dot" for g in shared)


def test_a_parameter_used_many_times_gets_every_contribution():
    p, q = Parameter(0.7), Parameter(-1.3)
    compare(lambda x: autograd.sum([p * x, p * p, autograd.dot([p, p, q], [x, x, p]), (p - q) * x * x]),
            [np.linspace(-1, 1, 5)], [p, q])


def test_parameters_not_in_the_graph_get_zero_and_frozen_leaves_are_read_live():
    p, unused, frozen = Parameter(2.0), Parameter(9.0), Value(3.0)
    compiled = autograd.compile(lambda x: p * x + frozen, (1.0,), params=[p, unused])
    result = compiled.value_and_grad(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(result.param_grads, [3.0, 0.0])
    frozen.data = 10.0
    np.testing.assert_array_equal(compiled(np.array([1.0])), [12.0])
    assert "f0" in str(compiled.tape)


def test_parameter_values_are_read_at_each_call_or_taken_from_an_array():
    w = Parameter(2.0)
    compiled = autograd.compile(lambda x: w * x, (1.0,))
    np.testing.assert_array_equal(compiled(np.array([3.0])), [6.0])
    w.data = -1.0
    np.testing.assert_array_equal(compiled(np.array([3.0])), [-3.0])
    np.testing.assert_array_equal(compiled(np.array([3.0]), params=np.array([5.0])), [15.0])
    compiled.set_parameters([4.0])
    assert w.data == 4.0 and compiled.parameter_array().tolist() == [4.0]


def test_batch_sizes_can_change_between_calls():
    w = Parameter(0.5)
    compiled = autograd.compile(lambda x: (w * x).tanh(), (1.0,))
    for size in (1, 5, 2, 5, 17):
        xs = np.linspace(-1, 1, size)
        close(compiled(xs), np.tanh(0.5 * xs))


def test_a_function_of_no_inputs_runs_as_a_batch_of_one():
    w = Parameter(3.0)
    compiled = autograd.compile(lambda: w * w, ())
    result = compiled.value_and_grad()
    assert result.outputs.tolist() == [9.0] and result.param_grads.tolist() == [6.0]


def test_detach_is_a_stop_gradient_not_a_constant():
    w = Parameter(2.0)
    compiled = compare(lambda x: w * x * (w * x).detach(), [np.array([1.0, -3.0, 0.5])], [w])
    assert "stop_gradient" in str(compiled.tape)
    # the detached value follows the inputs: it was not baked in at the example
    np.testing.assert_array_equal(compiled(np.array([10.0])), [400.0])


def test_mlp_layers_become_matrix_products_and_match_eager():
    import nn

    model = nn.MLP(3, [5, 4, 2], activation="tanh", output_activation="identity", seed=0)
    params = model.parameters()
    compiled = compare(lambda x: model(x), [np.random.default_rng(2).uniform(-1, 1, (6, 3))], params)
    assert sum(g.kind == "linear" for g in compiled.program.groups) == 3
    assert len(compiled.program.groups) < len(compiled.tape)


def test_sigmoid_neuron_graph_from_the_course():
    # The course's sigmoid neuron: f = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)) at w = (2, -3, -3), x = (-1, -2)
    w0, w1, w2 = Parameter(2.0), Parameter(-3.0), Parameter(-3.0)
    compiled = autograd.compile(lambda x0, x1: 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp()), (0.0, 0.0))
    result = compiled.value_and_grad(np.array([-1.0]), np.array([-2.0]), wrt_inputs=True)
    assert round(float(result.outputs[0]), 4) == 0.7311
    np.testing.assert_allclose(result.param_grads, [-0.1966, -0.3932, 0.1966], atol=1e-4)
    np.testing.assert_allclose([g[0] for g in result.input_grads], [0.3932, -0.5898], atol=1e-4)
    assert math.isclose(result.param_grads[2], 0.19661193324148185, rel_tol=1e-12)
