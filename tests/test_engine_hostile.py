"""The core under hostile and careless use: shared context managers, NaN and infinity,
powers at 0, stale graphs, gradcheck as a statement, ties."""

from __future__ import annotations

import asyncio
import gc
from contextlib import closing
import math
import threading
import weakref

import pytest

import autograd
from autograd import NonFiniteError, OverflowValueError, Value, no_grad, scope
from autograd.context import in_turn, tracing
from threads import run_in_threads


# ---------------------------------------------------------------------------
# One no_grad() / scope() object shared by threads and asyncio tasks
# ---------------------------------------------------------------------------
def test_one_no_grad_object_shared_by_two_threads_restores_each_thread():
    shared = no_grad()
    entered, release = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)

    def worker(name: str) -> tuple[bool, bool, float]:
        exit_first = name == "a"
        with shared:
            entered.wait()  # both are inside the same object now
            if not exit_first:
                release.wait()  # the other thread leaves first
            inside = autograd.is_grad_enabled()
        if exit_first:
            release.wait()
        x = Value(3.0)
        (x * x).backward()
        return inside, autograd.is_grad_enabled(), x.grad

    results = run_in_threads(worker, "ab")
    assert results == {"a": (False, True, 6.0), "b": (False, True, 6.0)}


def test_one_scope_object_shared_by_interleaved_asyncio_tasks():
    shared = scope("layer")

    async def task(name: str, first: asyncio.Event, second: asyncio.Event) -> tuple:
        with shared:
            first.set()
            await second.wait()  # the other task enters and leaves in between
            inside = Value(1.0).scope
        return name, inside, autograd.current_scope(), autograd.is_grad_enabled()

    async def main() -> list:
        a_in, b_in = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(task("a", a_in, b_in), task("b", b_in, a_in))

    assert asyncio.run(main()) == [("a", ("layer",), None, True), ("b", ("layer",), None, True)]


def test_a_reused_scope_object_follows_the_state_it_is_entered_under():
    # Entering a scope object reuses the state it made last time only under the same
    # outer state: under another one (a different layer, no_grad, nothing) it makes a new one.
    neuron = scope("neuron 0")
    seen = []
    for outer in ("layer 0", "layer 1", "layer 0"):
        with scope(outer), neuron:
            seen.append((Value(1.0).scope, autograd.current_scope()))
    with neuron:
        seen.append((Value(1.0).scope, autograd.current_scope()))
    with no_grad(), neuron:
        x = Value(2.0) * 3
        seen.append((x.scope, autograd.is_grad_enabled()))
    with neuron:
        seen.append((Value(1.0).scope, autograd.is_grad_enabled()))
    assert seen == [
        (("layer 0", "neuron 0"), ("layer 0", "neuron 0")),
        (("layer 1", "neuron 0"), ("layer 1", "neuron 0")),
        (("layer 0", "neuron 0"), ("layer 0", "neuron 0")),
        (("neuron 0",), ("neuron 0",)),
        (("neuron 0",), False),
        (("neuron 0",), True),
    ]
    assert x.is_leaf and autograd.current_scope() is None and autograd.is_grad_enabled()


def test_nested_scopes_restore_each_level_when_an_exception_leaves_them():
    layer, neuron = scope("layer"), scope("neuron")
    for _ in range(2):  # the second time through, both enter their reused states
        with pytest.raises(ValueError, match="outer"), layer:
            with pytest.raises(KeyError), neuron:
                assert autograd.current_scope() == ("layer", "neuron")
                raise KeyError("inner")
            assert autograd.current_scope() == ("layer",)
            with neuron:
                raise ValueError("outer")
        assert autograd.current_scope() is None


def test_one_reused_scope_object_under_different_outer_scopes_in_two_threads():
    shared = scope("neuron")
    inside, release = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)

    def worker(name: str) -> list[object]:
        seen = []
        for _ in range(3):  # each pass re-enters the object while the other thread is in it
            with scope(f"layer {name}"), shared:
                inside.wait()
                seen.append(Value(1.0).scope)
                release.wait()
            seen.append(autograd.current_scope())
        return seen

    results = run_in_threads(worker, "ab")
    assert results == {name: [(f"layer {name}", "neuron"), None] * 3 for name in "ab"}


def test_a_scope_entered_while_compiling_keeps_no_recorder_alive():
    class Recorder:
        def detached(self, source: Value, leaf: Value) -> None: ...

    shared, recorder = scope("neuron"), Recorder()
    alive = weakref.ref(recorder)
    with tracing(recorder), shared:
        assert autograd.current_scope() == ("neuron",)
    del recorder
    gc.collect()
    assert alive() is None
    with shared:
        assert Value(1.0).scope == ("neuron",) and autograd.current_scope() == ("neuron",)


def test_in_turn_enters_each_sibling_and_restores_the_state_after_an_end_a_break_or_an_error():
    siblings = {name: scope(name) for name in ("n0", "n1", "n2")}
    with scope("layer"):
        seen = [(name, Value(1.0).scope) for name in in_turn(siblings, siblings.get)]
        assert autograd.current_scope() == ("layer",)  # the loop ran to its end
        with closing(in_turn(siblings, siblings.get)) as names:
            for name in names:
                if name == "n1":
                    break
        assert autograd.current_scope() == ("layer",)
        with pytest.raises(KeyError), closing(in_turn(siblings, siblings.get)) as names:
            for name in names:
                with scope("inner"):  # a block inside a turn leaves it as it found it
                    assert autograd.current_scope() == ("layer", name, "inner")
                assert autograd.current_scope() == ("layer", name)
                raise KeyError(name)
        assert autograd.current_scope() == ("layer",)
        with no_grad():
            assert [autograd.is_grad_enabled() for _ in in_turn(siblings, siblings.get)] == [False] * 3
    assert seen == [(name, ("layer", name)) for name in siblings]
    assert autograd.current_scope() is None and autograd.is_grad_enabled()


def test_a_shared_no_grad_reentered_and_used_as_a_decorator():
    shared = no_grad()
    with shared, shared:
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert shared(autograd.is_grad_enabled)() is False
    assert autograd.is_grad_enabled()


def test_exiting_without_entering_is_an_error_not_a_silent_state_change():
    with pytest.raises(RuntimeError, match="not entered"):
        no_grad().__exit__(None, None, None)
    assert autograd.is_grad_enabled()


# ---------------------------------------------------------------------------
# NaN and infinity: one check names the op, forward and backward
# ---------------------------------------------------------------------------
FORWARD_OVERFLOWS = [
    ("mul", lambda: Value(1e308) * 10, r"mul\(1e\+308, 10\.0\)"),
    ("add", lambda: Value(1e308) + Value(1e308), r"add\(1e\+308, 1e\+308\)"),
    ("div", lambda: Value(1.0) / 5e-324, r"div\(1\.0, 5e-324\)"),
    ("sum", lambda: autograd.sum([Value(1e308), Value(1e308)]), r"sum\(1e\+308, 1e\+308\)"),
    ("dot", lambda: autograd.dot([Value(1e200)], [Value(1e200)]), r"dot\(1e\+200, 1e\+200"),
    ("exp", lambda: Value(710.0).exp(), r"exp\(710\.0\)"),
    ("powc", lambda: Value(1e200) ** 2, r"powc\(1e\+200; 2\.0\)"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in FORWARD_OVERFLOWS],
                         ids=[c[0] for c in FORWARD_OVERFLOWS])
def test_an_overflowing_forward_result_is_an_error_naming_the_op(make, message):
    with pytest.raises(OverflowValueError, match=message):
        make()


def test_an_infinity_given_goes_through_exact_ops_as_in_the_compiled_tape():
    assert autograd.minimum(Value(-math.inf), 1.0).data == -math.inf
    assert (Value(math.inf) * 2).data == math.inf
    with pytest.raises(NonFiniteError, match=r"sub\(inf, inf\) is NaN"):
        Value(math.inf) - Value(math.inf)


BACKWARD_CASES = [  # (name, build the output from x, x, message)
    ("reciprocal times zero", lambda x: (1 / x) * 0, 1e-160, r"local gradient of div\(1\.0, 1e-160\)"),
    ("a huge upstream times a huge local gradient", lambda x: 1e200 * (x * 1e200), 1e-300,
     r"gradient of operand 0 of mul\(1e-300, 1e\+200\) is too large"),
    ("log near zero", lambda x: x.log() * 0, 1e-310, r"local gradient of log\(1e-310\)"),
    ("reused huge gradients", lambda x: autograd.sum([x * 1e308, x * 1e308]), 1e-300,
     r"summed at an operand of .+ too large"),
]


@pytest.mark.parametrize("build, x, message", [c[1:] for c in BACKWARD_CASES],
                         ids=[c[0] for c in BACKWARD_CASES])
def test_a_non_finite_gradient_is_an_error_naming_the_op_never_a_silent_nan(build, x, message):
    leaf = Value(x)
    out = build(leaf)
    assert math.isfinite(out.data)
    with pytest.raises(NonFiniteError, match=message):
        out.backward()
    with pytest.raises(NonFiniteError, match=message):
        autograd.grad(out, [leaf])


def test_the_check_is_public_for_the_compiled_tape():
    from autograd.errors import check_result
    from autograd.ops import OPS

    with pytest.raises(OverflowValueError, match=r"add\(1e\+308, 1e\+308\)"):
        check_result(OPS["add"], [1e308, 1e308], None, math.inf)
    check_result(OPS["add"], [1.0, 2.0], None, 3.0)


# ---------------------------------------------------------------------------
# Powers at 0, and gradients only on paths to the requested inputs
# ---------------------------------------------------------------------------
def test_zero_to_the_zero_has_gradient_zero():
    x = Value(0.0)
    (x ** 0).backward()
    assert x.grad == 0.0
    x, y = Value(0.0), Value(0.0)
    assert autograd.grad(x ** y, [x, y]) == (0.0, 0.0)


@pytest.mark.parametrize("exponent", [2.0, 3.0])
def test_powers_of_zero_differentiate_to_their_limits(exponent):
    x, y = Value(0.0), Value(exponent)
    assert autograd.grad(x ** y, [x, y]) == (0.0, 0.0)
    x = Value(0.0)
    assert autograd.grad(x ** 1, [x]) == (1.0,)


def test_a_polynomial_and_its_higher_derivatives_at_zero():
    x = Value(0.0)
    derivative = 1 + 2 * x + 3 * x ** 2
    found = []
    for _ in range(4):
        (derivative,) = autograd.grad(derivative, [x], create_graph=True)
        found.append(derivative.data)
    assert found == [2.0, 6.0, 0.0, 0.0]


def test_the_exponent_rule_keeps_its_graph_away_from_zero():
    # d/dy of d/dx x^y = x^(y-1) (1 + y ln x): at y = 0, x = 2 it is 1/2, not a constant's 0.
    x, y = Value(2.0), Value(0.0)
    (dx,) = autograd.grad(x ** y, [x], create_graph=True)
    assert dx.data == 0.0
    assert autograd.grad(dx, [y])[0] == pytest.approx(0.5, rel=1e-15)


def test_grad_computes_only_the_partials_it_was_asked_for():
    x, n = Value(-3.0), Value(2.0)
    assert autograd.grad(x ** n, [x]) == (-6.0,)
    (dx,) = autograd.grad(x ** n, [x], create_graph=True)
    assert dx.data == -6.0
    with pytest.raises(NonFiniteError, match=r"pow\(-3\.0, 2\.0\) for operand 1 is nan"):
        autograd.grad(x ** n, [n])
    with pytest.raises(NonFiniteError, match=r"pow\(-3\.0, 2\.0\)"):
        (x ** n).backward()  # backward() fills every .grad, n's too
    with pytest.raises(NonFiniteError, match=r"pow\(-3\.0, 2\.0\) for operand 1 is nan"):
        autograd.grad(x ** n, [n], create_graph=True)  # the same error, not a Value refusing NaN


def test_grad_skips_the_nodes_off_the_paths_to_its_inputs():
    x, far = Value(2.0), Value(1e-200)
    out = x * x + (1 / far) * 0  # the far branch's gradient overflows, and is not asked for
    assert autograd.grad(out, [x]) == (4.0,)


# ---------------------------------------------------------------------------
# gradcheck as a statement fails loudly
# ---------------------------------------------------------------------------
def test_gradcheck_raises_by_default_with_the_report():
    with pytest.raises(autograd.GradcheckError, match=r"d/dx: backward gives 0\.0") as caught:
        autograd.gradcheck(lambda x: x.step(), [Value(0.0, "x")])
    assert not caught.value.result and isinstance(caught.value, AssertionError)
    report = autograd.gradcheck(lambda x: x.step(), [Value(0.0, "x")], raise_on_failure=False)
    assert not report and report.mismatches[0].label == "x"


def test_gradcheck_leaves_graphs_built_before_it_usable():
    x = Value(0.5, "x")
    out = x.tanh()
    assert autograd.gradcheck(lambda x: x.tanh(), [x])
    out.backward()
    assert x.grad == pytest.approx(1 - math.tanh(0.5) ** 2)


# ---------------------------------------------------------------------------
# Stale graphs: .data assigned after the graph was built
# ---------------------------------------------------------------------------
def test_assigning_data_under_a_built_graph_makes_backward_refuse():
    x = Value(2.0, "x")
    y = x.exp() * x
    x.data = 1.0
    with pytest.raises(autograd.StaleGraphError, match=r"operand 1 of mul\(7\.38905609893065, 1\.0\)"):
        y.backward()
    with pytest.raises(autograd.StaleGraphError):
        autograd.grad(y, [x])
    assert x.grad == 0.0  # nothing half-written
    y = x.exp() * x  # the forward pass again: the new value's gradient, 2e
    y.backward()
    assert x.grad == pytest.approx(2 * math.e)


def test_a_stale_intermediate_node_is_refused_too():
    x = Value(2.0)
    hidden = x * 3
    out = hidden.tanh() + hidden
    hidden.data = 0.0
    with pytest.raises(autograd.StaleGraphError, match=r"operand 1 of add\(.*had its \.data assigned"):
        out.backward()


def test_a_data_write_elsewhere_leaves_the_graph_fresh():
    x = Value(2.0)
    y = x * x + 1
    Value(0.0).data = 5.0  # the write clock moves, but no operand of this graph changed
    y.backward()
    assert x.grad == 4.0


def test_training_steps_that_rebuild_the_graph_are_not_stale():
    w = autograd.Parameter(0.5)
    for _ in range(3):
        loss = (w * 2.0 - 1.0) ** 2
        w.grad = 0.0
        loss.backward()
        w.data -= 0.1 * w.grad
    assert w.data == pytest.approx(0.5)
