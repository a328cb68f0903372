"""Bad inputs, edge cases and the engine's promises: higher derivatives, clear errors,
overflow-safe activations, any depth, accumulation, no_grad, NumPy scalars, identity
semantics, backward_steps and freeing graphs without the cyclic GC."""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import threading

import numpy as np
import pytest

import autograd
from autograd import Constant, OverflowValueError, Value, no_grad


# ---------------------------------------------------------------------------
# grad() and higher derivatives
# ---------------------------------------------------------------------------
def test_second_and_third_derivative_of_x_cubed():
    x = Value(2.0)
    (first,) = autograd.grad(x ** 3, [x], create_graph=True)
    (second,) = autograd.grad(first, [x], create_graph=True)
    (third,) = autograd.grad(second, [x], create_graph=True)
    (fourth,) = autograd.grad(third, [x])
    assert (first.data, second.data, third.data, fourth) == (12.0, 12.0, 6.0, 0.0)
    assert x.grad == 0.0  # grad() never touches .grad


def test_hessian_of_a_two_variable_function():
    x0, y0 = 0.7, -1.3
    x, y = Value(x0), Value(y0)
    f = x ** 2 * y + (x * y).sin()
    fx, fy = autograd.grad(f, [x, y], create_graph=True)
    hessian = [autograd.grad(g, [x, y]) for g in (fx, fy)]
    s, c = math.sin(x0 * y0), math.cos(x0 * y0)
    assert fx.data == pytest.approx(2 * x0 * y0 + y0 * c, rel=1e-14)
    assert fy.data == pytest.approx(x0 ** 2 + x0 * c, rel=1e-14)
    expected = [[2 * y0 - y0 ** 2 * s, 2 * x0 + c - x0 * y0 * s],
                [2 * x0 + c - x0 * y0 * s, -x0 ** 2 * s]]
    for row, expected_row in zip(hessian, expected):
        assert row == pytest.approx(expected_row, rel=1e-13)
    assert hessian[0][1] == pytest.approx(hessian[1][0], rel=1e-14)  # symmetric


def test_one_newton_step_and_convergence_to_the_minimum():
    # f(x) = e^x - 2x has its minimum at ln 2; Newton: x <- x - f'(x) / f''(x).
    def newton_step(x0: float) -> float:
        x = Value(x0)
        (slope,) = autograd.grad(x.exp() - 2 * x, [x], create_graph=True)
        (curvature,) = autograd.grad(slope, [x])
        return x0 - slope.data / curvature

    assert newton_step(0.0) == pytest.approx(0.0 - (1 - 2) / 1, rel=1e-15)  # = 1.0
    x = 0.0
    for _ in range(6):
        x = newton_step(x)
    assert x == pytest.approx(math.log(2.0), rel=1e-15)


def test_grad_of_several_outputs_weights_and_unrelated_inputs():
    x, y, unrelated = Value(3.0), Value(-2.0), Value(5.0)
    assert autograd.grad([x * y, x + y], [x, y, unrelated], grad_outputs=[1.0, 10.0]) == (8.0, 13.0, 0.0)
    (zero,) = autograd.grad(x * y, [unrelated], create_graph=True)
    assert isinstance(zero, Value) and zero.data == 0.0
    with pytest.raises(ValueError, match="grad_outputs"):
        autograd.grad([x * y], [x], grad_outputs=[1.0, 2.0])
    with pytest.raises(TypeError, match="float"):
        autograd.grad(x * y, [1.5])


def test_create_graph_gradients_of_a_reused_intermediate():
    x = Value(1.5)
    h = x.tanh()
    f = h * h + h  # h used three times
    (fx,) = autograd.grad(f, [x], create_graph=True)
    t = math.tanh(1.5)
    assert fx.data == pytest.approx((2 * t + 1) * (1 - t * t), rel=1e-14)
    (fxx,) = autograd.grad(fx, [x])
    d2 = 2 * (1 - t * t) ** 2 + (2 * t + 1) * (-2 * t) * (1 - t * t)
    assert fxx == pytest.approx(d2, rel=1e-13)


# ---------------------------------------------------------------------------
# Bad inputs: TypeError naming the type
# ---------------------------------------------------------------------------
BAD_DATA = [("1.5", "str"), (None, "NoneType"), (1 + 2j, "complex"), ([1.0], "list"),
            ({"a": 1}, "dict"), (np.array([1.0, 2.0]), "ndarray")]


@pytest.mark.parametrize("bad, type_name", BAD_DATA, ids=[t for _, t in BAD_DATA])
def test_bad_data_raises_type_error_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(bad)
    v = Value(1.0)
    with pytest.raises(TypeError, match=type_name):
        v.data = bad


@pytest.mark.parametrize("bad, type_name", BAD_DATA, ids=[t for _, t in BAD_DATA])
def test_bad_operands_raise_type_error_naming_the_type(bad, type_name):
    v = Value(2.0)
    binary = [lambda: v + bad, lambda: v - bad, lambda: v * bad, lambda: v / bad, lambda: v ** bad,
              lambda: autograd.maximum(v, bad), lambda: autograd.sum([v, bad]),
              lambda: autograd.dot([v], [bad]), lambda: v < bad]
    if not isinstance(bad, np.ndarray):  # an array on the left broadcasts, as NumPy does
        binary += [lambda: bad + v, lambda: bad - v, lambda: bad * v, lambda: bad / v, lambda: bad ** v]
    for operation in binary:
        with pytest.raises(TypeError, match=type_name):
            operation()


def test_a_value_as_data_and_other_bad_arguments():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)
    with pytest.raises(TypeError, match="str"):
        Value(1.0).backward("1")
    with pytest.raises(TypeError, match="str"):
        Value(1.0).leaky_relu("0.1")


def test_nan_data_and_nan_operands_raise_value_error():
    for make in (lambda: Value(float("nan")), lambda: Value(np.float64("nan")),
                 lambda: Value(1.0) + float("nan"), lambda: Value(1.0) ** float("nan")):
        with pytest.raises(ValueError, match="NaN"):
            make()


def test_an_op_whose_result_is_nan_raises_value_error_naming_it():
    with pytest.raises(ValueError, match=r"sub\(inf, inf\)"):
        Value(math.inf) - Value(math.inf)
    with pytest.raises(ValueError, match=r"mul\(inf, 0\.0\)"):
        Value(math.inf) * 0


# ---------------------------------------------------------------------------
# Domain errors: ValueError naming the op and the operand
# ---------------------------------------------------------------------------
DOMAIN_ERRORS = [
    ("log of zero", lambda: Value(0.0).log(), r"log\(0\.0\)"),
    ("log of a negative", lambda: Value(-2.0).log(), r"log\(-2\.0\)"),
    ("sqrt of a negative", lambda: Value(-4.0).sqrt(), r"sqrt\(-4\.0\)"),
    ("negative base, fractional power", lambda: Value(-8.0) ** (1 / 3), r"pow\w*\(-8\.0"),
    ("negative base, fractional Value power", lambda: Value(-8.0) ** Value(0.5), r"pow\(-8\.0, 0\.5\)"),
    ("zero to a negative power", lambda: Value(0.0) ** -1, r"pow\w*\(0\.0"),
    ("zero to a negative Value power", lambda: Value(0.0) ** Value(-2.0), r"pow\(0\.0, -2\.0\)"),
    ("number to a Value power", lambda: (-8.0) ** Value(0.5), r"pow\(-8\.0, 0\.5\)"),
    ("division by zero", lambda: Value(1.0) / 0, r"div\(1\.0, 0\.0\)"),
    ("division by a zero Value", lambda: 3 / Value(0.0), r"div\(3\.0, 0\.0\)"),
    ("logsumexp of nothing", lambda: autograd.logsumexp([]), "logsumexp"),
    ("dot of unequal lengths", lambda: autograd.dot([Value(1.0)], [1.0, 2.0]), "dot"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in DOMAIN_ERRORS], ids=[c[0] for c in DOMAIN_ERRORS])
def test_domain_errors_name_the_op_and_the_operand(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_undefined_local_gradients_raise_value_error_in_backward():
    for make, op in ((lambda x: x.sqrt(), "sqrt"), (lambda x: x ** 0.5, "powc"),
                     (lambda x: x ** Value(0.5), "pow")):  # d/dx = 0.5 x^-0.5: infinite at 0
        x = Value(0.0)
        out = make(x)
        with pytest.raises(ValueError, match=rf"{op}\(0\.0"):
            out.backward()


def test_exp_overflow_is_an_overflow_value_error_naming_exp():
    with pytest.raises(OverflowValueError, match=r"exp\(1000\.0\)") as caught:
        Value(1000.0).exp()
    assert isinstance(caught.value, OverflowError) and isinstance(caught.value, ValueError)
    assert Value(-1000.0).exp().data == 0.0  # underflow is fine


# ---------------------------------------------------------------------------
# Overflow-safe activations at +-1000 and +-1e308
# ---------------------------------------------------------------------------
SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
# name -> (value at -1000 and -1e308, value at +1000 and +1e308); None: grows like x
# (times the SELU scale for selu). softsign is x / (1 + |x|) exactly.
SAFE = {
    "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softplus": (0.0, None), "log_sigmoid": (None, 0.0),
    "softsign": (None, None), "elu": (-1.0, None), "selu": (-SELU_SCALE * SELU_ALPHA, None),
}


@pytest.mark.parametrize("name", sorted(SAFE))
@pytest.mark.parametrize("x", [-1e308, -1000.0, 1000.0, 1e308])
def test_activations_are_finite_with_finite_gradients_at_extremes(name, x):
    v = Value(x)
    out = getattr(v, name)()
    out.backward()
    assert math.isfinite(out.data) and math.isfinite(v.grad)
    limit = SAFE[name][x > 0]
    if name == "softsign":
        assert out.data == x / (1 + abs(x)) and v.grad == 1 / ((1 + abs(x)) * (1 + abs(x)))
    elif limit is not None:
        assert out.data == pytest.approx(limit, rel=1e-12)
    else:
        assert out.data == pytest.approx(x * (SELU_SCALE if name == "selu" else 1.0), rel=1e-12)
    assert 0.0 <= v.grad <= SELU_SCALE


def test_logsumexp_is_safe_at_extremes():
    a, b = Value(1e308), Value(1e308)
    out = autograd.logsumexp([a, b])
    out.backward()
    assert out.data == 1e308 and (a.grad, b.grad) == (0.5, 0.5)


# ---------------------------------------------------------------------------
# Any depth: a chain of 1,000,000 nodes at the default recursion limit
# ---------------------------------------------------------------------------
def test_a_million_node_chain_runs_forward_and_backward_at_the_default_recursion_limit():
    length = 1_000_000
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # CPython's default, whatever a plugin may have set
    try:
        x, c = Value(1.0, "x"), Value(1e-6, "c")
        y = x
        for _ in range(length):
            y = y + c
        assert y.data == pytest.approx(2.0, rel=1e-9)
        y.backward()
        assert x.grad == 1.0 and c.grad == float(length) and y.grad == 1.0
        del y  # freeing the chain must not recurse either
    finally:
        sys.setrecursionlimit(previous_limit)


# ---------------------------------------------------------------------------
# backward() accumulates; zero_grad() resets the whole graph
# ---------------------------------------------------------------------------
def graph_with_shared_intermediates():
    x, y = Value(0.5, "x"), Value(-1.5, "y")
    h = x * y + x
    out = (h.tanh() * y + h * h).sigmoid()
    return out, [x, y, h]


def test_a_second_backward_exactly_doubles_every_grad_leaves_and_intermediates():
    out, _ = graph_with_shared_intermediates()
    nodes = autograd.topological_order(out)
    out.backward()
    first = {node: node.grad for node in nodes}
    assert sum(1 for node in nodes if not node.is_leaf and first[node] != 0.0) >= 5
    out.backward()
    for node in nodes:
        assert node.grad == 2 * first[node]
    assert out.grad == 2.0


def test_zero_grad_resets_every_node_then_backward_starts_afresh():
    out, _ = graph_with_shared_intermediates()
    nodes = autograd.topological_order(out)
    out.backward()
    first = {node: node.grad for node in nodes}
    out.zero_grad()
    assert all(node.grad == 0.0 for node in nodes)
    out.backward()
    assert {node: node.grad for node in nodes} == first


def test_backward_with_an_upstream_gradient_scales_everything():
    x, y = Value(2.0), Value(3.0)
    (x * y).backward(-0.5)
    assert (x.grad, y.grad) == (-1.5, -1.0)


# ---------------------------------------------------------------------------
# no_grad, enable_grad, detach
# ---------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores_recording():
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
        assert not autograd.is_grad_enabled()
    assert y.is_leaf and y.parents == () and y.data == 7.0
    z = x * 3
    assert not z.is_leaf and z.parents[0] is x
    y.backward()
    assert x.grad == 0.0


def test_no_grad_restores_state_after_an_exception_and_nests():
    with pytest.raises(ZeroDivisionError), no_grad():
        raise ZeroDivisionError
    assert autograd.is_grad_enabled()
    with no_grad():
        with autograd.enable_grad():
            assert not (Value(1.0) + 1).is_leaf
        with no_grad():
            assert (Value(1.0) + 1).is_leaf
        assert (Value(1.0) + 1).is_leaf
    assert autograd.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def update(v: Value) -> Value:
        return v * 2

    out = update(Value(1.0))
    assert out.is_leaf and out.data == 2.0 and autograd.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_leak_into_another():
    inside, outside = threading.Barrier(2), threading.Barrier(2)
    seen = {}

    def worker():
        with no_grad():
            inside.wait()  # the main thread records while this one is inside no_grad
            outside.wait()
            seen["worker"] = (Value(1.0) * 2).is_leaf

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait()
    seen["main"] = (Value(1.0) * 2).is_leaf
    outside.wait()
    thread.join()
    assert seen == {"main": False, "worker": True}


def test_one_no_grad_decorator_shared_by_many_threads():
    @no_grad()
    def untracked(v: Value) -> bool:
        barrier.wait()
        return (v * 2).is_leaf

    barrier = threading.Barrier(4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(untracked(Value(1.0)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 4 and autograd.is_grad_enabled()


def test_no_grad_is_isolated_between_asyncio_tasks():
    async def untracked(started: asyncio.Event, proceed: asyncio.Event) -> bool:
        with no_grad():
            started.set()
            await proceed.wait()
            return (Value(1.0) * 2).is_leaf

    async def tracked(started: asyncio.Event, proceed: asyncio.Event) -> bool:
        await started.wait()  # runs while the other task sits inside no_grad
        recorded = not (Value(1.0) * 2).is_leaf
        proceed.set()
        return recorded

    async def main():
        started, proceed = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(untracked(started, proceed), tracked(started, proceed))

    assert asyncio.run(main()) == [True, True]


def test_detach_makes_a_leaf_with_the_same_data_that_stops_gradients():
    x = Value(3.0, "x")
    h = x * x
    d = h.detach()
    assert d.is_leaf and d.data == 9.0 and d is not h and d.label == h.label
    out = d * x
    out.backward()
    assert x.grad == 9.0 and h.grad == 0.0  # no path through the detached copy
    d.data = 1.0
    assert h.data == 9.0


# ---------------------------------------------------------------------------
# NumPy scalars
# ---------------------------------------------------------------------------
NUMPY_SCALARS = [(np.float32(1.5), 1.5), (np.int64(3), 3.0), (np.bool_(True), 1.0),
                 (np.float64(-2.25), -2.25), (np.int8(-7), -7.0)]


@pytest.mark.parametrize("scalar, expected", NUMPY_SCALARS)
def test_numpy_scalars_are_accepted_as_data_and_operands(scalar, expected):
    v = Value(scalar)
    assert type(v.data) is float and v.data == expected
    for result, value in ((Value(2.0) * scalar, 2 * expected), (scalar * Value(2.0), 2 * expected),
                          (scalar + Value(2.0), expected + 2), (scalar - Value(2.0), expected - 2),
                          (Value(2.0) ** scalar, 2.0 ** expected)):
        assert type(result) is Value and result.data == value


def test_numpy_float64_on_the_left_gives_a_value():
    out = np.float64(2) * Value(3)
    assert type(out) is Value and out.data == 6.0
    out.backward()
    assert out.parents[1].grad == 2.0


# ---------------------------------------------------------------------------
# Identity semantics, comparisons
# ---------------------------------------------------------------------------
def test_values_are_hashable_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"


def test_comparisons_compare_data_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    results = [a < b, a <= b, b > a, b >= a, a < 2, a > 0.5, a >= 1, b < 3, a > b, b <= 1.5, a < a]
    assert results == [True, True, True, True, True, True, True, True, False, False, False]
    assert all(type(r) is bool for r in results)


# ---------------------------------------------------------------------------
# backward_steps: backward() one node at a time
# ---------------------------------------------------------------------------
def test_backward_steps_follow_backward_order_and_end_at_grad():
    out, _ = graph_with_shared_intermediates()
    steps = list(autograd.backward_steps(out))
    order = [n for n in reversed(autograd.topological_order(out)) if not n.is_leaf]
    assert [s.node for s in steps] == order
    assert [s.step for s in steps] == list(range(len(steps)))
    assert all(node.grad == 0.0 for node in autograd.topological_order(out))  # untouched
    final = {out: 1.0}
    for s in steps:
        assert s.upstream == final[s.node]  # complete before the node's turn
        for parent, accumulated in zip(s.parents, s.accumulated):
            final[parent] = accumulated
    out.backward()
    for node in autograd.topological_order(out):
        assert final[node] == node.grad


# ---------------------------------------------------------------------------
# No reference cycles: reference counting alone frees a finished graph
# ---------------------------------------------------------------------------
def count_values() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), Value))  # type(): no proxy __class__


def build_and_use_graphs() -> None:
    x, y = Value(0.3, "x"), Value(-0.7, "y")
    out = autograd.sum([(x * y).tanh(), autograd.dot([x, y], [y, 2.0], bias=1.0), (x - y) ** 2, x / 3])
    out = autograd.logsumexp([out, x.sigmoid(), autograd.maximum(x, y).relu()])
    out.backward()
    out.zero_grad()
    autograd.grad(out, [x, y])
    list(autograd.backward_steps(out))
    (gx, gy) = autograd.grad(out, [x, y], create_graph=True)
    autograd.grad(gx + gy, [x, y])
    with no_grad():
        (x * y).detach()
    with pytest.raises(ValueError):  # an error's traceback must not keep nodes alive either
        Value(-1.0).log()


def test_a_finished_graph_is_freed_without_the_cyclic_gc():
    build_and_use_graphs()  # warm up: first calls may create lasting caches
    gc.collect()
    gc.disable()
    try:
        before = count_values()
        build_and_use_graphs()
        assert count_values() == before  # every node freed by reference counting
        assert gc.collect() == 0  # and nothing was left for the cyclic collector
    finally:
        gc.enable()


# ---------------------------------------------------------------------------
# gradcheck reports every disagreeing partial
# ---------------------------------------------------------------------------
def test_gradcheck_reports_each_mismatch_by_label():
    x, y = Value(0.0, "x"), Value(0.5, "y")
    result = autograd.gradcheck(lambda x, y: x.step() + y * y, [x, y], raise_on_failure=False)  # jumps at 0
    assert not result and [m.label for m in result.mismatches] == ["x"]
    assert "d/dx" in str(result)
    with pytest.raises(AssertionError, match="d/dx"):
        autograd.gradcheck(lambda x, y: x.step() + y * y, [x, y])
    assert autograd.gradcheck(lambda x, y: x * y, [Value(2.0), Value(3.0)])


def test_constants_made_from_numbers_are_leaves_of_type_constant():
    out = 2 * Value(3.0)
    assert isinstance(out.parents[0], Constant) and out.parents[0].is_leaf
