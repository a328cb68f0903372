"""The backward pass: the chain rule in reverse topological order.

One loop, :func:`backpropagate`, serves ``Value.backward()``, :func:`grad` (with or
without ``create_graph``) and :func:`backward_steps`. For each node, from the output
back to the leaves, it asks the op table for the node's local gradients and sends
``upstream gradient x local gradient`` to each parent, adding up what a parent
receives from all its uses.
"""

from __future__ import annotations

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
    grads = _seeded(roots, seeds, create_graph)
    order = topological_order(roots, leaves=False)  # a leaf receives a gradient but sends none
    wanted = None if inputs is None else _depending_on(order, _as_roots(inputs))  # else: all
    plain_floats = not create_graph and on_step is None
    clock = data_clock()
    for node in reversed(order):
        if wanted is not None and node not in wanted:
            continue
        if node._version != clock:  # some .data was assigned since this node was made: was a parent's?
            _refuse_if_stale(node)
        op = node._op
        assert op is not None  # the order holds op nodes only
        upstream = grads[node]
        if plain_floats and op.arity is not None:
            # backward()'s common case unrolled, without tuples of parents or zip(): 21 ms instead
            # of 23 ms on micrograd's demo graph, 0.52 s instead of 0.84 s on a 100,000-link tanh chain.
            x, y = node._x, node._y
            data: Sequence[float] = (x._data,) if y is None else (x._data, y._data)
            try:
                local = op.local_grads(FLOAT_MATH, data, node._data, node._arg)
            except (ArithmeticError, ValueError) as error:
                raise local_grad_error(op, data, node._arg, error) from None
            # A parent's first contribution is added to -0.0, the float that adds nothing
            # (0.0 + -0.0 would give 0.0), so the sums are the general path's to the bit.
            # Rejected: get(), `is None` and a store: 1% more instructions on the demo step
            # (322 M vs 319 M), 3% more a link of a y + c chain (9,550 vs 9,280; valgrind).
            if wanted is None or x in wanted:
                grads[x] = grads.get(x, -0.0) + upstream * local[0]
            if y is not None and (wanted is None or y in wanted):  # after x's update: x * x sums both uses
                grads[y] = grads.get(y, -0.0) + upstream * local[1]
            continue
        if plain_floats and op.bilinear is not None:
            _send_bilinear(op.bilinear, node, upstream, grads, wanted)
            continue
        parents, data = _parents_and_data(node)
        local = _local_grads(op, node, parents, data, create_graph, wanted)
        _send(upstream, parents, local, grads, wanted)
        if on_step is not None:
            on_step(node, upstream, local, grads)
    if not create_graph and on_step is not _check_step and not all(map(isfinite, grads.values())):
        # A NaN or inf reaches a leaf from wherever it was made: check once, name the op in a rerun.
        backpropagate(roots, seeds, on_step=_check_step, inputs=inputs)
    return grads


def _send(upstream: Any, parents: Iterable[Value], local_grads: Iterable[Any],
          grads: dict[Value, Any], wanted: set[Value] | None) -> None:
    """Add ``upstream x local gradient`` to each (wanted) parent's gradient."""
    pairs: Iterable[tuple[Value, Any]] = zip(parents, local_grads)
    if wanted is not None:  # filtered once, up front: the loop tests nothing when nothing is
        pairs = [(parent, local_grad) for parent, local_grad in pairs if parent in wanted]
    for parent, local_grad in pairs:
        contribution = upstream * local_grad
        previous = grads.get(parent)
        grads[parent] = contribution if previous is None else previous + contribution


def _send_bilinear(split: Bilinear, node: Value, upstream: float, grads: dict[Value, Any],
                   wanted: set[Value] | None) -> None:
    """:func:`_send` for a node whose op the table declares bilinear (dot), in floats.

    The declaration says the node is ``sum_i w_i x_i (+ b)``: d/dw_i = x_i, d/dx_i = w_i,
    d/db = 1. So each operand's local gradient is its partner's float, read in place,
    and the parents receive them in operand order, as the general path sends them.
    On micrograd's demo graph (65,000 dot operands): 10.8 ms for these loops against
    14.2 ms for the general path's float list, local_grads tuple and zip (measured);
    ~1,600 instructions an operand, where a bare loop over the operands would take
    ~1,100 (valgrind). Rejected: zip(operands, map(attrgetter("_data"), partners)),
    11.8 ms; a loop over indices, the same instructions and harder to read; C-level
    chains such as grads.update(zip(parents, map(add, map(grads.get, parents, ...)))),
    18-25 ms.
    """
    weights, inputs, bias = split(node._x, node._arg)
    for receivers, partners in ((weights, inputs), (inputs, weights)):
        pairs: Iterable[tuple[Value, Value]] = zip(receivers, partners)
        if wanted is not None:
            pairs = [(parent, partner) for parent, partner in pairs if parent in wanted]
        for parent, partner in pairs:
            grads[parent] = grads.get(parent, -0.0) + upstream * partner._data  # -0.0: see backpropagate
    if bias is not None and (wanted is None or bias in wanted):
        grads[bias] = grads.get(bias, -0.0) + upstream * 1.0  # d/db = 1, as the general path sends it


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


def _seeded(roots: list[Value], seeds: Sequence[Any], create_graph: bool) -> dict[Value, Any]:
    """Each root's gradient to start from: its seed (summed when a root is given twice)."""
    if not create_graph and STATE.get().tracing:
        raise TracingError("backward()/grad() inside a function that autograd.compile is "
                           "tracing would compute float gradients of the example inputs and "
                           "freeze them into the tape; use grad(..., create_graph=True)")
    grads: dict[Value, Any] = {}
    for root, seed in zip(roots, seeds):
        grads[root] = seed if root not in grads else grads[root] + seed
    return grads


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
    for node, node_grad in backpropagate(root, [to_float(gradient)]).items():
        node.grad += node_grad


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
