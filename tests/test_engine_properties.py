"""Property tests: every op of the table, random compositions of ops, algebraic
identities and the course's gradient-flow patterns, against central differences.

``OP_CASES`` gives each op of :data:`autograd.OPS` a way to build it through the
public API and a domain where its gradient exists (kinks and ties are kept at
least ``MARGIN`` away, far more than gradcheck's step). The tests iterate over
``OPS`` itself, so an op added to the table without a case here fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
from autograd import OPS, Value, gradcheck

MARGIN = 1e-2  # distance kept from kinks (relu at 0, max at a tie...) and poles


def reals(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    return reals(low, high).filter(lambda x: abs(x) >= MARGIN)


def distinct_pair(low: float, high: float) -> st.SearchStrategy[list[float]]:
    return st.tuples(reals(low, high), reals(low, high)).filter(
        lambda p: abs(p[0] - p[1]) >= MARGIN).map(list)


@dataclass(frozen=True)
class OpCase:
    """How to draw an op's operands (and constant argument) and build it from Values."""

    draw: Callable[[Any], tuple[list[float], Any]]  # hypothesis `data` -> (operands, arg)
    build: Callable[[list[Value], Any], Value]


def unary(domain: st.SearchStrategy[float], build: Callable[[Value], Value]) -> OpCase:
    return OpCase(lambda data: ([data.draw(domain)], None), lambda v, arg: build(v[0]))


def binary(domain: st.SearchStrategy[list[float]], build: Callable[[Value, Value], Value]) -> OpCase:
    return OpCase(lambda data: (data.draw(domain), None), lambda v, arg: build(v[0], v[1]))


def draw_powc(data: Any) -> tuple[list[float], float]:
    # A real exponent on a positive base, or an integer exponent on any nonzero base.
    if data.draw(st.booleans()):
        return [data.draw(reals(0.1, 5.0))], data.draw(reals(-3.0, 3.0))
    return [data.draw(away_from_zero(-4.0, 4.0))], float(data.draw(st.integers(-3, 4)))


def draw_dot(data: Any) -> tuple[list[float], tuple[int, bool]]:
    n = data.draw(st.integers(1, 5))
    has_bias = data.draw(st.booleans())
    operands = data.draw(st.lists(reals(-5.0, 5.0), min_size=2 * n + has_bias, max_size=2 * n + has_bias))
    return operands, (n, has_bias)


def build_dot(v: list[Value], arg: tuple[int, bool]) -> Value:
    n, has_bias = arg
    return autograd.dot(v[:n], v[n:2 * n], bias=v[2 * n] if has_bias else None)


def nary(low: float, high: float, build: Callable[[list[Value]], Value]) -> OpCase:
    return OpCase(lambda data: (data.draw(st.lists(reals(low, high), min_size=1, max_size=8)), None),
                  lambda v, arg: build(v))


SMALL = reals(-10.0, 10.0)
PAIR = st.lists(SMALL, min_size=2, max_size=2)

OP_CASES: dict[str, OpCase] = {
    "add": binary(PAIR, lambda x, y: x + y),
    "sub": binary(PAIR, lambda x, y: x - y),
    "mul": binary(PAIR, lambda x, y: x * y),
    "div": binary(st.tuples(SMALL, away_from_zero(-10.0, 10.0).filter(lambda y: abs(y) >= 0.1)).map(list),
                  lambda x, y: x / y),
    "neg": unary(SMALL, lambda x: -x),
    "pow": binary(st.tuples(reals(0.1, 5.0), reals(-3.0, 3.0)).map(list), lambda x, y: x ** y),
    "powc": OpCase(draw_powc, lambda v, k: v[0] ** k),
    "abs": unary(away_from_zero(-10.0, 10.0), abs),
    "max": binary(distinct_pair(-10.0, 10.0), autograd.maximum),
    "min": binary(distinct_pair(-10.0, 10.0), autograd.minimum),
    "sum": nary(-10.0, 10.0, autograd.sum),
    "dot": OpCase(draw_dot, build_dot),
    "logsumexp": nary(-20.0, 20.0, autograd.logsumexp),
    "exp": unary(reals(-10.0, 5.0), Value.exp),
    "log": unary(reals(0.05, 100.0), Value.log),
    "sqrt": unary(reals(0.05, 100.0), Value.sqrt),
    "sin": unary(SMALL, Value.sin),
    "cos": unary(SMALL, Value.cos),
    "tanh": unary(reals(-5.0, 5.0), Value.tanh),
    "sigmoid": unary(SMALL, Value.sigmoid),
    "relu": unary(away_from_zero(-10.0, 10.0), Value.relu),
    "leaky_relu": OpCase(lambda d: ([d.draw(away_from_zero(-10.0, 10.0))], d.draw(reals(0.0, 1.0))),
                         lambda v, slope: v[0].leaky_relu(slope)),
    "elu": OpCase(lambda d: ([d.draw(away_from_zero(-10.0, 10.0))], d.draw(reals(0.1, 3.0))),
                  lambda v, alpha: v[0].elu(alpha)),
    "selu": unary(away_from_zero(-10.0, 10.0), Value.selu),
    "softplus": unary(reals(-20.0, 20.0), Value.softplus),
    "log_sigmoid": unary(reals(-20.0, 20.0), Value.log_sigmoid),
    "softsign": unary(SMALL, Value.softsign),
    "sinc": unary(SMALL, Value.sinc),
    "step": unary(away_from_zero(-10.0, 10.0), Value.step),
    "sign": unary(away_from_zero(-10.0, 10.0), Value.sign),
}

ALL_OPS = sorted(OPS)

# Ops whose first derivative has a kink where the op itself is smooth: the
# second-derivative test keeps away from it (softsign'' jumps from 2 to -2 at 0).
SECOND_ORDER_CASES: dict[str, OpCase] = {
    "softsign": unary(away_from_zero(-10.0, 10.0), Value.softsign),
}


def case_for(name: str) -> OpCase:
    assert name in OP_CASES, (f"op {name!r} has no domain in OP_CASES: add how to build it and "
                              "where its gradient exists, so it is tested like every other op")
    return OP_CASES[name]


def build_checked(name: str, leaves: list[Value], arg: Any) -> Value:
    out = OP_CASES[name].build(leaves, arg)
    if autograd.is_grad_enabled():  # gradcheck's differences run under no_grad: leaves only
        assert out.op is OPS[name], f"the case for {name!r} built a {out.op!r} node"
    return out


def test_every_case_names_an_op_of_the_table():
    assert set(OP_CASES) <= set(OPS), set(OP_CASES) - set(OPS)


# ---------------------------------------------------------------------------
# Every op against central differences
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_op_gradient_matches_central_differences(name, data):
    operands, arg = case_for(name).draw(data)
    leaves = [Value(x, f"x{i}") for i, x in enumerate(operands)]
    out = build_checked(name, leaves, arg)
    assert math.isfinite(out.data)
    result = gradcheck(lambda *xs: build_checked(name, list(xs), arg), leaves)
    assert result, str(result)


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_op_backward_agrees_with_grad_and_the_op_table(name, data):
    operands, arg = case_for(name).draw(data)
    leaves = [Value(x) for x in operands]
    out = build_checked(name, leaves, arg)
    out.backward()
    from_table = OPS[name].local_grads(autograd.ops.FLOAT_MATH, operands, out.data, arg_of(out))
    expected = {}
    for leaf, local in zip(leaves, from_table):  # a leaf may appear twice: its uses add up
        expected[leaf] = expected.get(leaf, 0.0) + local
    for leaf in leaves:
        assert leaf.grad == pytest.approx(expected[leaf], rel=1e-12, abs=1e-300)
    assert autograd.grad(out, leaves) == tuple(leaf.grad for leaf in leaves)


def arg_of(node: Value) -> Any:
    return node.arg


# ---------------------------------------------------------------------------
# Second derivatives: grad(create_graph=True) of every op against central
# differences of its first derivative.
# ---------------------------------------------------------------------------
def first_derivatives(name: str, leaves: list[Value], arg: Any) -> tuple[float, ...]:
    return autograd.grad(build_checked(name, leaves, arg), leaves)


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_create_graph_second_derivatives_match_differences_of_the_first(name, data):
    operands, arg = SECOND_ORDER_CASES.get(name, case_for(name)).draw(data)
    operands = operands[:4]  # a 4x4 Hessian is plenty; keeps n-ary ops quick
    if name == "dot":
        n = len(operands) // 2
        operands, arg = operands[:2 * n], (n, False)
    leaves = [Value(x) for x in operands]
    eps = 1e-6
    for j, leaf in enumerate(leaves):
        original = leaf.data
        leaf.data = original + eps
        above = first_derivatives(name, leaves, arg)
        leaf.data = original - eps
        below = first_derivatives(name, leaves, arg)
        leaf.data = original  # a new .data: graphs built before it are stale, so build one now
        first = autograd.grad(build_checked(name, leaves, arg), leaves, create_graph=True)
        assert all(isinstance(g, Value) for g in first)
        for i, g in enumerate(first):
            analytic = autograd.grad(g, [leaf])[0]
            numeric = (above[i] - below[i]) / (2 * eps)
            assert analytic == pytest.approx(numeric, rel=1e-3, abs=1e-4), (i, j)


# ---------------------------------------------------------------------------
# Random compositions of ops: expression trees over three inputs
# ---------------------------------------------------------------------------
def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# name -> (build from Values, the same function on floats with the math module)
UNARY = {
    "neg": (lambda v: -v, lambda f: -f),
    "sin": (Value.sin, math.sin),
    "cos": (Value.cos, math.cos),
    "tanh": (Value.tanh, math.tanh),
    "sigmoid": (Value.sigmoid, lambda f: 0.5 * (1.0 + math.tanh(0.5 * f))),
    "softplus": (Value.softplus, _softplus),
    "log_sigmoid": (Value.log_sigmoid, lambda f: -_softplus(-f)),
    "softsign": (Value.softsign, lambda f: f / (1.0 + abs(f))),
    "sinc": (Value.sinc, lambda f: math.sin(f) / f if f else 1.0),
    "exp(tanh)": (lambda v: v.tanh().exp(), lambda f: math.exp(math.tanh(f))),
    "log(1+x^2)": (lambda v: (1 + v * v).log(), lambda f: math.log(1.0 + f * f)),
    "sqrt(1+x^2)": (lambda v: (1 + v ** 2).sqrt(), lambda f: math.sqrt(1.0 + f * f)),
}
BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1.0 + b * b)),
    "**": (lambda a, b: (a.softplus() + 0.5) ** b.tanh(),
           lambda a, b: (_softplus(a) + 0.5) ** math.tanh(b)),
}
NARY = {
    "sum": (autograd.sum, math.fsum),
    "logsumexp": (autograd.logsumexp,
                  lambda fs: max(fs) + math.log(math.fsum(math.exp(f - max(fs)) for f in fs))),
    "dot": (lambda vs: autograd.dot(vs, vs[::-1]), lambda fs: math.fsum(a * b for a, b in zip(fs, fs[::-1]))),
}

leaf_names = st.sampled_from(["x", "y", "z"])
constants = reals(-2.0, 2.0)
trees = st.recursive(
    leaf_names | constants,
    lambda children: (st.tuples(st.sampled_from(sorted(UNARY)), children)
                      | st.tuples(st.sampled_from(sorted(BINARY)), children, children)
                      | st.tuples(st.sampled_from(sorted(NARY)), st.lists(children, min_size=1, max_size=3))),
    max_leaves=8)


def evaluate(tree: Any, env: dict[str, Any], with_values: bool) -> Any:
    """The tree's value, built from Values (with_values) or computed on floats."""
    if isinstance(tree, str):
        return env[tree]
    if isinstance(tree, float):
        return tree
    name = tree[0]
    pick = 0 if with_values else 1
    if name in UNARY:
        operand = evaluate(tree[1], env, with_values)
        if with_values and not isinstance(operand, Value):
            operand = autograd.as_value(operand)
        return UNARY[name][pick](operand)
    if name in BINARY:
        a, b = (evaluate(t, env, with_values) for t in tree[1:])
        if with_values:
            a, b = autograd.as_value(a), autograd.as_value(b)
        return BINARY[name][pick](a, b)
    operands = [evaluate(t, env, with_values) for t in tree[1]]
    return NARY[name][pick](operands)


@given(tree=trees, point=st.tuples(reals(-1.5, 1.5), reals(-1.5, 1.5), reals(-1.5, 1.5)))
def test_random_compositions_match_floats_and_central_differences(tree, point):
    leaves = [Value(p, name) for p, name in zip(point, "xyz")]

    def f(x, y, z):
        return autograd.as_value(evaluate(tree, {"x": x, "y": y, "z": z}, with_values=True))

    out = f(*leaves)
    reference = evaluate(tree, dict(zip("xyz", point)), with_values=False)
    assert out.data == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assume(abs(out.data) < 1e4)  # keeps central differences' rounding far below atol
    result = gradcheck(f, leaves)
    assert result, f"{tree}\n{result}"


# ---------------------------------------------------------------------------
# Algebraic identities: the same number and the same gradients by two routes
# ---------------------------------------------------------------------------
def data_and_grads(f: Callable[..., Value], *points: float) -> tuple[float, tuple[float, ...]]:
    leaves = [Value(p) for p in points]
    out = autograd.as_value(f(*leaves))
    return out.data, autograd.grad(out, leaves)


@given(SMALL, SMALL)
def test_add_and_mul_commute_exactly(x, y):
    assert data_and_grads(lambda a, b: a + b, x, y) == data_and_grads(lambda a, b: b + a, x, y)
    assert data_and_grads(lambda a, b: a * b, x, y) == data_and_grads(lambda a, b: b * a, x, y)


@given(SMALL, SMALL, SMALL)
def test_mul_distributes_over_add(x, y, z):
    left = data_and_grads(lambda a, b, c: a * (b + c), x, y, z)
    right = data_and_grads(lambda a, b, c: a * b + a * c, x, y, z)
    assert left[0] == pytest.approx(right[0], rel=1e-12, abs=1e-12)
    assert left[1] == pytest.approx(right[1], rel=1e-12, abs=1e-12)


@given(reals(1e-3, 1e3))
def test_exp_of_log_and_log_of_exp_are_the_identity(x):
    for f in (lambda a: a.log().exp(), lambda a: (a.sqrt()) ** 2):
        data, (grad,) = data_and_grads(f, x)
        assert data == pytest.approx(x, rel=1e-12)
        assert grad == pytest.approx(1.0, rel=1e-9)
    data, (grad,) = data_and_grads(lambda a: a.exp().log(), math.log(x))
    assert (data, grad) == (pytest.approx(math.log(x), rel=1e-12, abs=1e-12), pytest.approx(1.0, rel=1e-12))


@given(SMALL)
def test_self_cancelling_expressions_have_zero_gradient(x):
    assert data_and_grads(lambda a: a - a, x) == (0.0, (0.0,))
    if abs(x) >= MARGIN:
        data, (grad,) = data_and_grads(lambda a: a / a, x)
        assert data == 1.0 and grad == pytest.approx(0.0, abs=1e-15)


@given(reals(-30.0, 30.0))
def test_activation_identities(x):
    pairs = [
        (lambda a: a.tanh(), lambda a: 2 * (2 * a).sigmoid() - 1),
        (lambda a: a.softplus() - (-a).softplus(), lambda a: a),
        (lambda a: a.log_sigmoid(), lambda a: -(-a).softplus()),
        (lambda a: a.sigmoid() + (-a).sigmoid(), lambda a: a * 0 + 1),
        (lambda a: a.softplus(), lambda a: autograd.logsumexp([a, 0.0])),
    ]
    if abs(x) >= MARGIN:  # |x| has a kink at 0, and sqrt no derivative there
        pairs.append((lambda a: (a ** 2).sqrt(), lambda a: abs(a)))
    for left, right in pairs:
        ld, (lg,) = data_and_grads(left, x)
        rd, (rg,) = data_and_grads(right, x)
        assert ld == pytest.approx(rd, rel=1e-9, abs=1e-12)
        assert lg == pytest.approx(rg, rel=1e-9, abs=1e-12)


@given(reals(-30.0, 30.0))
def test_log_sigmoid_is_log_of_sigmoid_where_both_are_accurate(x):
    ld, (lg,) = data_and_grads(lambda a: a.log_sigmoid(), x)
    rd, (rg,) = data_and_grads(lambda a: a.sigmoid().log(), x)
    assert ld == pytest.approx(rd, rel=1e-9, abs=1e-12)
    assert lg == pytest.approx(rg, rel=1e-7, abs=1e-12)


@given(SMALL)
def test_activation_derivatives_are_the_course_formulas(x):
    s = Value(x).sigmoid()
    assert data_and_grads(Value.sigmoid, x)[1][0] == pytest.approx(s.data * (1 - s.data), rel=1e-12)
    # softsign' = 1 / (1 + |x|)^2; the notes' table misprints it as 1 - f(x)^2
    assert data_and_grads(Value.softsign, x)[1][0] == pytest.approx(1 / (1 + abs(x)) ** 2, rel=1e-12)
    assert data_and_grads(Value.softplus, x)[1][0] == pytest.approx(s.data, rel=1e-12)
    t = math.tanh(x)
    assert data_and_grads(Value.tanh, x)[1][0] == pytest.approx(1 - t * t, rel=1e-12, abs=1e-300)


@given(reals(0.1, 5.0), reals(-3.0, 3.0))
def test_value_exponent_and_constant_exponent_agree(x, k):
    with_constant = data_and_grads(lambda a: a ** k, x)
    with_value = data_and_grads(lambda a, b: a ** b, x, k)
    assert with_value[0] == with_constant[0]
    assert with_value[1][0] == pytest.approx(with_constant[1][0], rel=1e-12)
    assert with_value[1][1] == pytest.approx(with_constant[0] * math.log(x), rel=1e-12, abs=1e-300)


@given(st.lists(SMALL, min_size=1, max_size=10))
def test_one_node_sum_and_dot_equal_their_binary_chains(xs):
    leaves = [Value(x) for x in xs]
    total = autograd.sum(leaves)
    assert total.data == pytest.approx(math.fsum(xs), rel=1e-12, abs=1e-12)
    assert autograd.grad(total, leaves) == (1.0,) * len(xs)
    ws = [Value(x / 2 + 1) for x in xs]
    by_node = autograd.dot(ws, leaves)
    chained = ws[0] * leaves[0]
    for w, x in zip(ws[1:], leaves[1:]):
        chained = chained + w * x
    assert by_node.data == pytest.approx(chained.data, rel=1e-9, abs=1e-9)
    by_chain = autograd.grad(chained, ws + leaves)
    assert autograd.grad(by_node, ws + leaves) == pytest.approx(by_chain, rel=1e-12)
    assert len(by_node.parents) == 2 * len(xs)


@given(st.lists(reals(-50.0, 50.0), min_size=1, max_size=8))
def test_logsumexp_gradient_is_the_softmax(xs):
    leaves = [Value(x) for x in xs]
    out = autograd.logsumexp(leaves)
    top = max(xs)
    weights = [math.exp(x - top) for x in xs]
    assert out.data == pytest.approx(top + math.log(math.fsum(weights)), rel=1e-12, abs=1e-12)
    softmax = [w / math.fsum(weights) for w in weights]
    assert autograd.grad(out, leaves) == pytest.approx(softmax, rel=1e-9, abs=1e-15)


@given(distinct_pair(-10.0, 10.0))
def test_max_plus_min_is_the_sum(pair):
    assert data_and_grads(lambda a, b: autograd.maximum(a, b) + autograd.minimum(a, b), *pair) == \
        data_and_grads(lambda a, b: a + b, *pair)


# ---------------------------------------------------------------------------
# The gradient-flow patterns of the course (add, mul, copy, max)
# ---------------------------------------------------------------------------
# Normal floats only: half of a subnormal upstream gradient can round to 0 (0.5 * 5e-324 == 0),
# in chainrule as in PyTorch, which is float arithmetic, not the gate's rule.
UPSTREAM = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@given(SMALL, SMALL, UPSTREAM)
def test_add_gate_distributes_the_upstream_gradient(x, y, upstream):
    a, b = Value(x), Value(y)
    (a + b).backward(upstream)
    assert a.grad == upstream and b.grad == upstream


@given(SMALL, SMALL, UPSTREAM)
def test_mul_gate_swaps_its_inputs(x, y, upstream):
    a, b = Value(x), Value(y)
    (a * b).backward(upstream)
    assert a.grad == upstream * y and b.grad == upstream * x


@given(SMALL, st.lists(reals(-5.0, 5.0), min_size=1, max_size=6))
def test_a_reused_value_adds_the_gradients_of_its_uses(x, coefficients):
    a = Value(x)
    uses = [a * c for c in coefficients]
    out = uses[0]
    for use in uses[1:]:
        out = out + use
    out.backward()
    assert a.grad == pytest.approx(math.fsum(coefficients), rel=1e-12, abs=1e-12)
    square = Value(x)
    (square * square).backward()
    assert square.grad == 2 * x


@given(distinct_pair(-10.0, 10.0), UPSTREAM)
def test_max_gate_routes_the_gradient_to_the_larger_input(pair, upstream):
    a, b = Value(pair[0]), Value(pair[1])
    autograd.maximum(a, b).backward(upstream)
    larger, smaller = (a, b) if pair[0] > pair[1] else (b, a)
    assert larger.grad == upstream and smaller.grad == 0.0
    c, d = Value(pair[0]), Value(pair[1])
    autograd.minimum(c, d).backward(upstream)
    smaller, larger = (c, d) if pair[0] < pair[1] else (d, c)
    assert smaller.grad == upstream and larger.grad == 0.0


@given(SMALL, UPSTREAM)
def test_max_and_min_gates_split_a_tie_half_and_half_as_pytorch(x, upstream):
    for gate in (autograd.maximum, autograd.minimum):
        a, b = Value(x), Value(x)
        gate(a, b).backward(upstream)
        assert (a.grad, b.grad) == (upstream / 2, upstream / 2)
        same = Value(x)
        gate(same, same).backward(upstream)  # max(x, x) = x: the whole gradient
        assert same.grad == upstream
