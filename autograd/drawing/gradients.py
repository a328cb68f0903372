"""The numbers a drawing shows: gradients from ``.grad``, or from the first k backward steps.

Both come from the engine (:func:`autograd.backward_steps`, ``Value.grad``) and the
local gradients from the op table, so a picture always agrees with ``backward()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..engine import BackwardStep
from ..ops import FLOAT_MATH
from ..value import Value
from .folding import Plan
from .options import UNKNOWN, Options

__all__ = ["Gradients", "BackwardProgress", "local_grads", "as_float"]


def as_float(number: Any) -> float:
    """A gradient as a float (it is a Value inside ``grad(create_graph=True)``)."""
    return number.data if isinstance(number, Value) else float(number)


class Gradients:
    """What each node's grad cell and each edge's label say."""

    def __init__(self, plan: Plan, options: Options, steps: list[BackwardStep]) -> None:
        self.fmt = options.format_number
        self.stepping = options.step is not None
        self.local: dict[int, Sequence[float]] = {}  # op node -> local gradients, per operand
        self.current: int | None = None  # the node whose step this frame shows
        self.current_op_done = False
        self.upstream: dict[int, float] = {}
        if self.stepping:
            self._from_steps(plan, options, steps)
        else:
            self._from_grads(plan, options)

    def _from_grads(self, plan: Plan, options: Options) -> None:
        order = plan.order
        self.grad_text = [self.fmt(as_float(node.grad)) for node in order]
        show = options.local_grads
        if show is None:
            show = any(as_float(node.grad) != 0.0 for node in order)
        if show:
            for i, node in enumerate(order):
                if node.op is not None and plan.group[i] is None:  # ops drawn, not folded
                    self.local[i] = local_grads(node)
                    self.upstream[i] = as_float(node.grad)

    def _from_steps(self, plan: Plan, options: Options, steps: list[BackwardStep]) -> None:
        index = plan.index
        step = options.step
        assert step is not None
        if not 0 <= step <= len(steps):
            raise ValueError(f"step must be between 0 and {len(steps)} (the number of backward steps "
                             f"of this graph), got {step}")
        progress = BackwardProgress(plan, steps, self.fmt)
        for taken in steps[:step]:
            progress.advance(taken)
            if options.local_grads is not False:
                n = index[taken.node]
                self.local[n] = tuple(as_float(g) for g in taken.local_grads)
                self.upstream[n] = as_float(taken.upstream)
        self.current = index[steps[step - 1].node] if step else progress.root
        self.current_op_done = step > 0  # frame 0 shows the seed, before any op ran
        self.grad_text = progress.texts


class BackwardProgress:
    """Every node's grad text as the backward steps arrive, one step at a time.

    ``?`` before any use of a node has sent its gradient, ``g + ?`` while some uses
    still have to, ``g`` once all of them have: the numbers are the engine's own
    partial sums (``BackwardStep.accumulated``).
    """

    def __init__(self, plan: Plan, steps: Sequence[BackwardStep], fmt: Callable[[float], str]) -> None:
        self.index = plan.index
        self.fmt = fmt
        root_node = steps[0].node if steps else plan.order[-1]
        self.root = self.index[root_node]
        self.known: dict[int, float] = {self.root: as_float(steps[0].upstream) if steps else 1.0}
        self.remaining = [len(c) for c in plan.consumers]
        self.texts = [UNKNOWN] * len(plan.order)
        self.texts[self.root] = fmt(self.known[self.root])

    def advance(self, taken: BackwardStep) -> list[int]:
        """Take one step; the nodes whose text changed."""
        changed: dict[int, None] = {}
        for parent, accumulated in zip(taken.parents, taken.accumulated):
            p = self.index[parent]
            if p not in changed:
                self.remaining[p] -= 1
            changed[p] = None
            self.known[p] = as_float(accumulated)
        for p in changed:
            waiting = self.remaining[p] > 0 and p != self.root
            self.texts[p] = f"{self.fmt(self.known[p])} + {UNKNOWN}" if waiting else self.fmt(self.known[p])
        return list(changed)


def local_grads(node: Value) -> Sequence[float]:
    """d(node)/d(operand) for each operand, from the op table (as the backward pass does)."""
    op = node.op
    assert op is not None
    inputs = [parent.data for parent in node.parents]
    try:
        return tuple(float(g) for g in op.local_grads(FLOAT_MATH, inputs, node.data, node.arg))
    except (ArithmeticError, ValueError):
        return tuple(float("nan") for _ in inputs)
