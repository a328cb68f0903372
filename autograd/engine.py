"""The backward pass: the chain rule in reverse topological order.

:func:`backpropagate` serves ``Value.backward()``, :func:`grad` (with or without
``create_graph``) and :func:`backward_steps`. For each node, from the output back to
the leaves, it asks the op table for the node's local gradients and sends
``upstream gradient x local gradient`` to each parent, adding up what a parent
receives from all its uses. Two loops do it: the float pass (``backward()``'s case),
which sums in a slot of each node, and the general one, which sums in a dict and
serves ``create_graph`` (Values as gradients) and watched steps.
"""

from __future__ import annotations

import threading
from math import isfinite, isnan
from typing import Any, NamedTuple, Union
from collections.abc import Callable, Iterable, Iterator, Sequence

from .context import STATE, enable_grad
from .errors import TracingError, check_gradients, local_grad_error, local_grad_not_finite, stale_graph_error
from .ops import FLOAT_MATH, Bilinear, Op
from .value import Constant, Number, Operand, Value, as_value, data_clock, parents_of, to_float
from .functions import sum as value_sum

__all__ = ["topological_order", "backpropagate", "backward", "grad", "backward_steps",
           "BackwardStep", "VALUE_MATH"]

Roots = Union[Value, Sequence[Value]]


def topological_order(roots: Roots, parents: Callable[[Value], Sequence[Value]] = parents_of,
                      leaves: bool = True) -> list[Value]:
    """Every node the roots depend on, each after all of its parents.

    Iterative (an explicit stack), so a graph of any depth is fine, and
    deterministic: parents are visited in their recorded order. ``parents`` gives a
    node's operands (the compiler passes one that also links a detached leaf to its source).
    With ``leaves=False`` the nodes without parents are left out: backpropagation's
    order, where a leaf receives a gradient but sends none.

    Example:
        >>> x = Value(1.0, "x"); y = x * 2; z = y + x
        >>> [n.op.name if n.op else n.data for n in topological_order(z)]
        [1.0, 2.0, 'mul', 'add']
        >>> [n.op.name for n in topological_order(z, leaves=False)]
        ['mul', 'add']
    """
    roots = _as_roots(roots)
    order: list[Value] = []
    visited: set[Value] = set()
    # The stack holds nodes to expand. An expanded node goes back on it under a
    # _PARENTS_DONE marker, below its parents: when the marker comes off, all of
    # them are in `order`, so the node can follow. A leaf has no parents to wait
    # for and goes straight into `order` (20% off a chain of `y + 1.0`, half leaves), and
    # so does an n-ary node whose parents are all visited: in a DAG a visited node is a
    # placed one (a node still waiting for its parents is never a parent of the node
    # expanded). One C-level issuperset() instead of a Python test per parent: 35 M
    # instructions instead of 45 M on micrograd's demo graph, where most dots find their
    # 33 parents placed (measured with valgrind). Tested on every node, it cost a chain
    # 13% (5,500 instructions per link instead of 4,870); behind `len > 2`, 4%.
    # Rejected, measured on a 600,000-node chain: collecting the nodes with a plain
    # stack and sorting them by a creation counter (0.46 s against this loop's 0.36 s:
    # the sort costs more than the markers); stack.extend(parents) with the visited test
    # on pop (1.5x slower on micrograd's demo graph, where most parents are shared weights
    # already visited), or through itertools.filterfalse (1.15x slower).
    stack: list[Any] = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is _PARENTS_DONE:
            order.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            operands = parents(node)
            if not operands:
                if leaves:
                    order.append(node)
                continue
            if len(operands) > 2 and visited.issuperset(operands):
                order.append(node)
                continue
            stack.append(node)
            stack.append(_PARENTS_DONE)
            for parent in reversed(operands):
                if parent not in visited:
                    stack.append(parent)
    return order


_PARENTS_DONE = object()


def _as_roots(roots: Roots) -> list[Value]:
    if isinstance(roots, Value):
        return [roots]
    roots = list(roots)
    for root in roots:
        if not isinstance(root, Value):
            raise TypeError(f"expected Values, got {type(root).__name__}")
    return roots


class ValueMath:
    """The op table's primitives on ``Value`` nodes: local gradients as graphs.

    With it, ``grad(..., create_graph=True)`` builds each local gradient from the
    same formula the float backward uses, so second derivatives need no extra rules.
    """

    @staticmethod
    def exp(x: Any) -> Value:
        return as_value(x).exp()

    @staticmethod
    def log(x: Any) -> Value:
        return as_value(x).log()

    @staticmethod
    def sin(x: Any) -> Value:
        return as_value(x).sin()

    @staticmethod
    def cos(x: Any) -> Value:
        return as_value(x).cos()

    @staticmethod
    def sigmoid(x: Any) -> Value:
        return as_value(x).sigmoid()

    @staticmethod
    def pow(x: Any, exponent: Operand) -> Value:
        return as_value(x) ** exponent

    @staticmethod
    def abs(x: Any) -> Value:
        return abs(as_value(x))

    @staticmethod
    def total(xs: Sequence[Any]) -> Value:
        return value_sum(xs)

    @staticmethod
    def largest(xs: Sequence[Any]) -> Any:
        return max(xs, key=lambda x: x._data if isinstance(x, Value) else x)

    # Conditions and flat functions: their own derivative is 0, so a plain float is exact.
    where = staticmethod(FLOAT_MATH.where)

    @staticmethod
    def is_zero(x: Any) -> bool:
        return (x._data if isinstance(x, Value) else x) == 0.0

    @staticmethod
    def sign(x: Any) -> float:
        return FLOAT_MATH.sign(x._data if isinstance(x, Value) else x)


VALUE_MATH = ValueMath()

OnStep = Callable[[Value, Any, Sequence[Any], dict[Value, Any]], None]


def backpropagate(roots: Roots, seeds: Sequence[Any], create_graph: bool = False,
                  on_step: OnStep | None = None, inputs: Roots | None = None) -> dict[Value, Any]:
    """Gradients of ``sum(seed * root)`` with respect to every node of the graph.

    Returns ``{node: gradient}`` without touching ``.grad``. With ``create_graph``
    the gradients are Values with graphs of their own (seeds should be Values).
    ``on_step(node, upstream, local_grads, grads)`` is called after each node. With
    ``inputs``, only nodes on a path from a root to an input get a gradient.

    Example:
        >>> x = Value(3.0); y = x * x
        >>> backpropagate(y, [1.0])[x]
        6.0
    """
    roots = _as_roots(roots)
    _refuse_float_pass_while_tracing(create_graph)
    # In floats with nothing watching the steps (backward()'s case), each node sums its
    # gradient in its own slot; only one pass at a time can own the slots: a pass that
    # finds them taken (another thread's, or one started inside a finalizer) takes the
    # general path, which keeps its sums in a dict of its own.
    if not create_graph and on_step is None and _FLOAT_PASS.acquire(blocking=False):
        try:
            summed = _float_pass(roots, seeds, inputs)
            grads = {node: node._pass_grad for node in summed}
        finally:
            _FLOAT_PASS.release()
    else:
        grads = _general_pass(roots, seeds, create_graph, on_step, inputs)
    if not create_graph and on_step is not _check_step:
        _name_non_finite(grads.values(), roots, seeds, inputs)
    return grads


def _name_non_finite(gradients: Iterable[float], roots: list[Value], seeds: Sequence[Any],
                     inputs: Roots | None) -> None:
    """If a gradient is NaN or infinite, rerun the pass step by step to name the op that made it.

    A NaN or inf reaches a leaf from wherever it was made: checked once here, named in the
    rerun (which raises, unless a seed was infinite and the gradients are what it makes).
    """
    if not all(map(isfinite, gradients)):
        backpropagate(roots, seeds, on_step=_check_step, inputs=inputs)


_FLOAT_PASS = threading.Lock()  # held while a pass sums in the nodes' _pass_grad slots


def _float_pass(roots: list[Value], seeds: Sequence[Any], inputs: Roots | None) -> list[Value]:
    """backpropagate() in floats: each node sums its gradient in its ``_pass_grad`` slot.

    Returns the nodes that got a gradient (all of them, or those between the roots and
    ``inputs``); the caller reads their slots while it holds ``_FLOAT_PASS``.
    A slot instead of the general path's dict: on micrograd's demo graph 18.7 ms instead
    of 20.9 ms a backward pass (an attribute add instead of dict.get() and a store, for
    each of 65,000 dot operands), 15.0 ms with dot's two loops (see _send_bilinear).
    Every sum starts at 0.0, as the general path's float sums do, so the two agree to the bit.
    """
    order = topological_order(roots)  # the leaves too: they receive a gradient (but send none)
    wanted = None if inputs is None else _depending_on(order, _as_roots(inputs))  # else: all
    for node in order:
        node._pass_grad = 0.0
    for root, seed in zip(roots, seeds):
        root._pass_grad += seed
    clock = data_clock()
    for node in reversed(order):
        op = node._op
        if op is None or (wanted is not None and node not in wanted):
            continue  # a leaf sends nothing; nor does a node no input reaches
        if node._version != clock:  # some .data was assigned since this node was made: was a parent's?
            _refuse_if_stale(node)
        upstream = node._pass_grad
        if op.bilinear is not None:
            # A dot whose result is finite has finite operands (an infinite one makes the
            # sum inf or NaN), so with a zero upstream it would send zeros, which change no
            # sum that starts at 0.0: it sends nothing. Dead ReLU units and satisfied
            # margins: on micrograd's demo, 48% of the 65,000 dot operands in the first
            # training step, 84% by step 20. backward() of the first step's graph: 85 M
            # instructions instead of 116 M (valgrind); steps 1-20: 27 ms instead of 44-51
            # (median, load 3, same run).
            if upstream != 0.0 or not isfinite(node._data):
                _send_bilinear(op.bilinear, node, upstream)
        elif op.arity is not None:
            if upstream == 0.0 and op.bounded:
                # Finite local gradients times 0 are zeros: nothing to send (see Op.bounded).
                # Dead units' relus: backward() of micrograd's demo graph after 10 training
                # steps 57 M instructions instead of 63 M; a chain link pays the float test.
                continue
            # Unrolled, without tuples of parents or zip(): 0.52 s instead of 0.84 s on a
            # 100,000-link tanh chain (measured with the dict this path used before).
            x, y = node._x, node._y
            data: Sequence[float] = (x._data,) if y is None else (x._data, y._data)
            try:  # _float_local_grads() inlined: one frame less for the commonest nodes
                local = op.local_grads(FLOAT_MATH, data, node._data, node._arg)
            except (ArithmeticError, ValueError) as error:
                raise local_grad_error(op, data, node._arg, error) from None
            x._pass_grad += upstream * local[0]
            if y is not None:  # after x's update: x * x sums both uses
                y._pass_grad += upstream * local[1]
        else:
            parents, data = _parents_and_data(node)
            for parent, local_grad in zip(parents, _float_local_grads(op, node, data)):
                parent._pass_grad += upstream * local_grad
    if wanted is None:
        return order
    wanted.update(roots)  # the roots keep their seeds in the result, as on the general path
    return [node for node in order if node in wanted]


def _send_bilinear(split: Bilinear, node: Value, upstream: float) -> None:
    """The float pass's sends for a node whose op the table declares bilinear (dot).

    The declaration says the node is ``sum_i w_i x_i (+ b)``: d/dw_i = x_i, d/dx_i = w_i,
    d/db = 1. So each operand's local gradient is its partner's float, read in place,
    and the parents receive them in operand order, as the general path sends them.
    Two loops, not one over ((weights, inputs), (inputs, weights)): Python 3.11
    specializes an attribute access for one class, and one loop would see Parameters
    (weights) and Values (inputs) at the same `+=`: 18.5 ms instead of 15.0 ms a
    backward pass of micrograd's demo graph (measured). Rejected: zip(operands,
    map(attrgetter("_data"), partners)) and a loop over indices (slower, or the same
    and harder to read).
    """
    weights, inputs, bias = split(node._x, node._arg)
    for weight, x in zip(weights, inputs):
        weight._pass_grad += upstream * x._data
    for x, weight in zip(inputs, weights):
        x._pass_grad += upstream * weight._data
    if bias is not None:
        bias._pass_grad += upstream * 1.0  # d/db = 1, as the general path sends it


def _float_local_grads(op: Op, node: Value, data: Sequence[float]) -> Sequence[float]:
    """The op table's local gradients of ``node`` in floats; an error names the op."""
    try:
        return op.local_grads(FLOAT_MATH, data, node._data, node._arg)
    except (ArithmeticError, ValueError) as error:
        raise local_grad_error(op, data, node._arg, error) from None


def _general_pass(roots: list[Value], seeds: Sequence[Any], create_graph: bool,
                  on_step: OnStep | None, inputs: Roots | None) -> dict[Value, Any]:
    """backpropagate() with its sums in a dict: Values with ``create_graph``, each step watched."""
    # A float sum starts at 0.0 (as .grad does), so a gradient that sums only zeros is 0.0
    # whatever their signs, and adding a zero changes no sum: the float pass skips such sends.
    # A Value sum starts at its first term (0.0 + term would be one more node).
    start = None if create_graph else 0.0
    grads = _seeded(roots, seeds, start)
    order = topological_order(roots, leaves=False)  # a leaf receives a gradient but sends none
    wanted = None if inputs is None else _depending_on(order, _as_roots(inputs))  # else: all
    clock = data_clock()
    for node in reversed(order):
        if wanted is not None and node not in wanted:
            continue
        if node._version != clock:
            _refuse_if_stale(node)
        op = node._op
        assert op is not None  # the order holds op nodes only
        upstream = grads[node]
        parents, data = _parents_and_data(node)
        local = _local_grads(op, node, parents, data, create_graph, wanted)
        _send(upstream, parents, local, grads, wanted, start)
        if on_step is not None:
            on_step(node, upstream, local, grads)
    return grads


def _send(upstream: Any, parents: Iterable[Value], local_grads: Iterable[Any],
          grads: dict[Value, Any], wanted: set[Value] | None, start: float | None) -> None:
    """Add ``upstream x local gradient`` to each (wanted) parent's gradient (a sum from ``start``)."""
    pairs: Iterable[tuple[Value, Any]] = zip(parents, local_grads)
    if wanted is not None:  # filtered once, up front: the loop tests nothing when nothing is
        pairs = [(parent, local_grad) for parent, local_grad in pairs if parent in wanted]
    for parent, local_grad in pairs:
        contribution = upstream * local_grad
        previous = grads.get(parent, start)
        grads[parent] = contribution if previous is None else previous + contribution


def _local_grads(op: Op, node: Value, parents: tuple[Value, ...], data: Sequence[float],
                 create_graph: bool, wanted: set[Value] | None) -> Sequence[Any]:
    """d node / d parent for each parent: floats, or with ``create_graph`` Values.

    An op's rule may give a plain NaN where the maths has no value (pow's exponent at a
    negative base): no Value holds one, so with ``create_graph`` a wanted one is an error.
    """
    try:
        if not create_graph:
            return op.local_grads(FLOAT_MATH, data, node._data, node._arg)
        local = op.local_grads(VALUE_MATH, parents, node, node._arg)
    except (ArithmeticError, ValueError) as error:
        raise local_grad_error(op, data, node._arg, error) from None
    for index, (parent, local_grad) in enumerate(zip(parents, local)):
        if isinstance(local_grad, float) and isnan(local_grad) and (wanted is None or parent in wanted):
            raise local_grad_not_finite(op, data, node._arg, index, local_grad)
    return local


def _parents_and_data(node: Value) -> tuple[tuple[Value, ...], list[float]]:
    """``parents_of(node)`` and their floats."""
    parents = parents_of(node)
    return parents, [parent._data for parent in parents]  # a comprehension: 2x map(attrgetter)


def _seeded(roots: list[Value], seeds: Sequence[Any], start: float | None) -> dict[Value, Any]:
    """Each root's gradient: ``start`` + its seed (``start`` None: the seed; a root given twice sums both)."""
    grads: dict[Value, Any] = {}
    for root, seed in zip(roots, seeds):
        previous = grads.get(root, start)
        grads[root] = seed if previous is None else previous + seed
    return grads


def _refuse_float_pass_while_tracing(create_graph: bool) -> None:
    if not create_graph and STATE.get().tracing:
        raise TracingError("backward()/grad() inside a function that autograd.compile is "
                           "tracing would compute float gradients of the example inputs and "
                           "freeze them into the tape; use grad(..., create_graph=True)")


def _check_step(node: Value, upstream: float, local: Sequence[float], grads: dict[Value, Any]) -> None:
    """Raise if this backward step made a NaN, or an infinity from finite numbers."""
    parents, data = _parents_and_data(node)
    if not all(isfinite(grads[parent]) for parent in parents if parent in grads):
        check_gradients(node._op, data, node._arg, upstream, local)


def _refuse_if_stale(node: Value) -> None:
    """Raise ``StaleGraphError`` if a parent's ``.data`` was assigned after ``node`` was computed."""
    parents, data = _parents_and_data(node)
    for index, parent in enumerate(parents):
        if parent._version > node._version:
            raise stale_graph_error(node._op, index, data)


def _depending_on(order: list[Value], targets: list[Value]) -> set[Value]:
    """The nodes of ``order`` (parents first) that depend on a target, targets included."""
    wanted = set(targets)
    for node in order:
        if node not in wanted and not wanted.isdisjoint(parents_of(node)):
            wanted.add(node)
    return wanted


def backward(root: Value, gradient: Number = 1.0) -> None:
    """Add d(root)/d(node) to ``node.grad`` for every node; see :meth:`Value.backward`.

    Example:
        >>> x = Value(2.0); backward(x * x); x.grad
        4.0
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward needs a Value, got {type(root).__name__}")
    roots, seeds = [root], [to_float(gradient)]
    _refuse_float_pass_while_tracing(create_graph=False)
    if not _FLOAT_PASS.acquire(blocking=False):  # another pass holds the slots: a dict of our own
        for node, node_grad in backpropagate(roots, seeds).items():
            node.grad += node_grad
        return
    # Read from the slots, without backpropagate()'s dict: 85 M instructions instead of 94 M
    # for backward() on micrograd's demo graph (valgrind).
    try:
        summed = _float_pass(roots, seeds, None)
        _name_non_finite([node._pass_grad for node in summed], roots, seeds, None)
        for node in summed:
            node.grad += node._pass_grad
    finally:
        _FLOAT_PASS.release()


def grad(outputs: Roots, inputs: Roots, grad_outputs: Sequence[Number] | None = None,
         create_graph: bool = False) -> tuple[Any, ...]:
    """d(outputs)/d(inputs), returned as a tuple (one per input); ``.grad`` is untouched.

    Several outputs are summed (each weighted by ``grad_outputs``, default 1).
    An input the outputs do not depend on gets 0. With ``create_graph=True`` the
    gradients are Values with their own graph, so they can be differentiated again.

    Example:
        >>> x = Value(2.0)
        >>> (dx,) = grad(x ** 3, [x], create_graph=True)
        >>> dx.data, grad(dx, [x])[0]
        (12.0, 12.0)
    """
    roots = _as_roots(outputs)
    targets = _as_roots(inputs)
    weights = [1.0] * len(roots) if grad_outputs is None else [to_float(w) for w in grad_outputs]
    if len(weights) != len(roots):
        raise ValueError(f"grad_outputs has {len(weights)} entries for {len(roots)} outputs")
    if create_graph:
        with enable_grad():
            seeds = [Constant(w) for w in weights]
            grads = backpropagate(roots, seeds, create_graph=True, inputs=targets)
        return tuple(grads.get(x, Constant(0.0)) for x in targets)
    grads = backpropagate(roots, weights, inputs=targets)
    return tuple(grads.get(x, 0.0) for x in targets)


class BackwardStep(NamedTuple):
    """One node's turn in the backward pass (see :func:`backward_steps`).

    Example:
        >>> x, y = Value(3.0), Value(-4.0)
        >>> step = next(backward_steps(x * y))
        >>> step.upstream, step.local_grads, step.accumulated  # mul swaps its inputs
        (1.0, (-4.0, 3.0), (-4.0, 3.0))
    """

    step: int  # 0 for the output's step, counting up as backward() goes
    node: Value
    upstream: float  # d(root)/d(node), complete by now
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]  # d(node)/d(parent) for each parent
    accumulated: tuple[float, ...]  # each parent's d(root)/d(parent) so far


def backward_steps(root: Value, gradient: Number = 1.0) -> Iterator[BackwardStep]:
    """The backward pass one node at a time, in the order ``backward()`` uses.

    ``.grad`` is not touched; the last step's ``accumulated`` values, with the
    earlier ones, equal what ``backward()`` puts in ``.grad``.

    Example:
        >>> x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
        >>> steps = list(backward_steps((x + y) * z))
        >>> [s.node.op.name for s in steps], steps[1].local_grads
        (['mul', 'add'], (1.0, 1.0))
    """
    recorded: list[BackwardStep] = []

    def record(node: Value, upstream: Any, local: Sequence[Any], grads: dict[Value, Any]) -> None:
        parents = parents_of(node)
        recorded.append(BackwardStep(len(recorded), node, upstream, parents, tuple(local),
                                     tuple(grads[p] for p in parents)))

    backpropagate(root, [to_float(gradient)], on_step=record)
    yield from recorded
