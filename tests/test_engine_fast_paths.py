"""The engine's float pass gives exactly the general path's gradients.

``backpropagate`` takes the float pass when nothing watches the steps: each node sums
its gradient in its own slot, unary and binary ops are unrolled, and for ops the table
declares ``bilinear`` (dot) the operands' own floats are the local gradients. Passing
``on_step`` takes the general path (a dict of sums, each step's local gradients as a
tuple), so the two runs below differ only in the path taken: they must give the same
nodes and gradients equal bit for bit, for every op of the table, on random graphs,
with shared and repeated operands.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import ALL_OPS, build_checked, case_for, evaluate, reals, trees

import autograd
import nn
from autograd import Value
from autograd.engine import backpropagate
from autograd.ops import FLOAT_MATH
from threads import run_in_threads


def general_path(node: Value, *_: Any) -> None:
    """An on_step that watches nothing: it only makes backpropagate take the general path."""


def same_floats(a: float, b: float) -> bool:
    """Equal as bits: NaN equals NaN, and 0.0 differs from -0.0."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def assert_both_paths_agree(root: Value, seed: float = 1.0, inputs: list[Value] | None = None) -> None:
    fast = backpropagate(root, [seed], inputs=inputs)
    general = backpropagate(root, [seed], on_step=general_path, inputs=inputs)
    assert fast.keys() == general.keys()  # the same nodes
    for node, gradient in fast.items():
        assert same_floats(gradient, general[node]), (node, gradient, general[node])


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data(), seed=reals(-3.0, 3.0))
def test_every_op_gets_the_same_gradients_on_both_paths(name, data, seed):
    operands, arg = case_for(name).draw(data)
    leaves = [Value(x) for x in operands]
    out = build_checked(name, leaves, arg)
    assert_both_paths_agree(out, seed)
    assert_both_paths_agree(out, seed, inputs=leaves[:1])


@given(tree=trees, point=st.tuples(reals(-1.5, 1.5), reals(-1.5, 1.5), reals(-1.5, 1.5)))
def test_random_graphs_get_the_same_gradients_on_both_paths(tree, point):
    leaves = [Value(p, name) for p, name in zip(point, "xyz")]
    out = autograd.as_value(evaluate(tree, dict(zip("xyz", leaves)), with_values=True))
    assert_both_paths_agree(out)
    assert_both_paths_agree(out, inputs=[leaves[1]])


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=7),
       st.integers(-1, 3), st.lists(reals(-2.0, 2.0), min_size=4, max_size=4))
def test_a_dot_of_repeated_operands_sums_them_in_the_general_paths_order(pairs, bias, data):
    # The same Value as several weights and inputs (and the bias): float sums depend on
    # the order its contributions arrive in, so any reordering would show here.
    v = [Value(x) for x in data]
    weights, inputs = [v[i] for i, _ in pairs], [v[j] for _, j in pairs]
    out = autograd.dot(weights, inputs, bias=v[bias] if bias >= 0 else None)
    assert_both_paths_agree(out * out, seed=0.7)
    assert_both_paths_agree(out, inputs=v[:2])


def test_a_training_loss_gets_the_same_gradients_on_both_paths():
    rng = random.Random(zlib.crc32(b"fast paths"))
    model = nn.MLP(3, [5, 4, 1], activation="relu", seed=7)
    rows = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    scores = [model(row)[0] for row in rows]
    loss = nn.hinge(scores, [1.0, -1.0] * 3) + nn.l2_penalty(model, 1e-3)
    assert_both_paths_agree(loss)
    assert_both_paths_agree(loss, inputs=model.parameters())


def test_a_leaf_root_and_a_dot_without_operands_on_either_side():
    x = Value(2.0)
    assert backpropagate(x, [3.0]) == {x: 3.0}
    assert_both_paths_agree(autograd.dot([x], [x], bias=x))


def test_a_pass_that_finds_the_slots_taken_takes_the_general_path():
    # Held by another thread's pass, or by a pass that a finalizer started inside this one.
    from autograd import engine

    x = Value(1.5)
    y = (x * x).tanh() + autograd.dot([x, x], [x, Value(2.0)])
    expected = backpropagate(y, [1.0])
    with engine._FLOAT_PASS:
        taken = backpropagate(y, [1.0])
    assert taken.keys() == expected.keys()
    assert all(same_floats(taken[node], expected[node]) for node in expected)


def test_threads_backpropagating_through_shared_weights_get_their_own_gradients():
    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=3)
    rows = [[0.1 * k, -0.2 * k] for k in range(8)]
    losses = [model(row)[0] ** 2 for row in rows]
    expected = [autograd.grad(loss, model.parameters()) for loss in losses]

    def worker(name: str) -> list[tuple[float, ...]]:
        # the passes overlap: 40-55 of the 240 took the general path (counted)
        return [autograd.grad(losses[int(name)], model.parameters()) for _ in range(30)]

    results = run_in_threads(worker, [str(k) for k in range(len(rows))])
    assert results == {str(k): [expected[k]] * 30 for k in range(len(rows))}


def test_a_gradient_that_sums_only_zeros_is_positive_zero_on_both_paths():
    # Sums start at 0.0, as .grad does: the sign of a zero gradient does not depend on the
    # signs of the zeros summed, so the float pass may skip sending them (a dead unit's dot).
    w, x = Value(-1.0), Value(2.0)
    dead = autograd.dot([w], [x]).relu()  # relu'(-2) = 0: the dot's upstream gradient is 0
    for path in ({}, {"on_step": general_path}):
        grads = backpropagate(dead, [1.0], **path)
        assert [math.copysign(1.0, grads[v]) for v in (w, x)] == [1.0, 1.0], path
    assert [math.copysign(1.0, g) for g in autograd.grad(x * -0.0, [x])] == [1.0]
    assert_both_paths_agree(dead)


def test_a_dot_with_a_zero_upstream_and_an_infinite_operand_still_sends_its_nan():
    # A zero upstream times an infinite local gradient is NaN: that dot is not skipped, and
    # the error names it, as when every dot sent its gradients.
    w, x = Value(math.inf), Value(-1.0)
    named = r"local gradient of dot\(inf, -1.0\) for operand 1 is inf"
    with pytest.raises(autograd.NonFiniteError, match=named):
        autograd.dot([w], [x]).relu().backward()
    assert w.grad == x.grad == 0.0  # nothing written


BOUNDED = [op for op in autograd.OPS.values() if op.bounded]
EXTREMES = [math.inf, -math.inf, 1e308, -1e308, 5e-324, -5e-324, 0.0, -0.0, 1.0, -2.5]


def test_the_table_declares_relu_and_tanh_bounded_and_dot_not():
    assert {"relu", "tanh", "sigmoid", "add"} <= {op.name for op in BOUNDED}
    assert not {"mul", "sqrt", "log", "dot", "pow"} & {op.name for op in BOUNDED}


@pytest.mark.parametrize("op", BOUNDED, ids=lambda op: op.name)
def test_a_bounded_op_has_finite_local_gradients_for_any_operands(op):
    # Op.bounded lets backward() skip the op's nodes whose upstream gradient is 0: its
    # local gradients must be finite (and the rule must not raise) whatever the operands.
    for xs in itertools.product(EXTREMES, repeat=op.arity):
        out = op.forward(FLOAT_MATH, list(xs), None)
        local = op.local_grads(FLOAT_MATH, list(xs), out, None)
        assert all(map(math.isfinite, local)), (xs, local)


def test_nodes_of_bounded_ops_with_a_zero_upstream_send_nothing_and_agree_with_the_general_path():
    x, y = Value(-1.5), Value(2.0)
    dead = (x.relu() + x.tanh() - (-x).sigmoid()) * x.relu()  # relu(-1.5) = 0: every term gets 0 upstream
    grads = backpropagate(dead + y, [1.0])
    assert grads[x] == 0.0 and math.copysign(1.0, grads[x]) == 1.0 and grads[y] == 1.0
    assert_both_paths_agree(dead + y)
