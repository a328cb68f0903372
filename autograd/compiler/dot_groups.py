"""Dot groups: the op table declares dot bilinear, so dot nodes run as matrix products.

``OPS["dot"].bilinear`` says a dot node is ``sum_i w_i x_i (+ b)`` over its operands
split into weights, inputs and a bias; its local gradients are then ``d/dw_i = x_i``,
``d/dx_i = w_i``, ``d/db = 1``. The compiler trusts that declaration (a property test
checks it against the op's own ``local_grads``) and runs:

* :class:`LinearGroup`: dot nodes whose weights are shared (parameters) and whose
  inputs are the same batched vector - a layer, one ``autograd.dot(w_row, x, b)`` per
  neuron - as one matrix product: forward ``W @ X + b``, backward ``dW = G X^T``,
  ``dX = W^T G``, ``db = sum G``: the local gradients summed over the batch by the
  product;
* :class:`DotGroup`: dot nodes of any other uniform shape (an L2 penalty
  ``dot(params, params)``) as one stacked product and sum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..ops import OPS
from .groups import Group, Planner, Step
from .tape import Instruction, Ref
from .views import BATCHED, SHARED, Access

if TYPE_CHECKING:
    from .run import BoundProgram

__all__ = ["LinearGroup", "DotGroup", "LayerKey", "DotKey", "ArgumentColumns"]


class LayerKey(NamedTuple):
    """Bucket of layer dot nodes: the same batched inputs, with or without a bias."""

    has_bias: bool
    inputs: tuple[Ref, ...]

    def build(self, level: int, members: list[Instruction], space: int, start: int,
              slots: np.ndarray) -> Group:
        weights, inputs, bias = split_dot(slots.T, self.has_bias)
        return LinearGroup(level, members, start, np.ascontiguousarray(weights.T), inputs[:, 0].copy(),
                           None if bias is None else bias.copy())


class DotKey(NamedTuple):
    """Bucket of dot nodes of one width whose weights (and inputs) all live in one space."""

    has_bias: bool
    width: int
    weight_space: int
    input_space: int
    bias_space: int | None

    def build(self, level: int, members: list[Instruction], space: int, start: int,
              slots: np.ndarray) -> Group:
        weights, inputs, bias = split_dot(slots.T, self.has_bias)
        bias_role = None if bias is None or self.bias_space is None else (self.bias_space, bias.copy())
        return DotGroup(level, members, space, start, (self.weight_space, np.ascontiguousarray(weights)),
                        (self.input_space, np.ascontiguousarray(inputs)), bias_role)


def split_dot(slots: np.ndarray, has_bias: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A table of dot operands (one row per operand position) split by the op table's own rule
    into the weights', inputs' and bias's rows.

    Example:
        >>> weights, inputs, bias = split_dot(np.arange(5)[:, None], True)
        >>> weights.ravel().tolist(), inputs.ravel().tolist(), bias.ravel().tolist()
        ([0, 1], [2, 3], [4])
    """
    split = OPS["dot"].bilinear
    if split is None:
        raise TypeError("the op table no longer declares dot bilinear: layers cannot run as products")
    weights, inputs, bias = split(list(slots), has_bias)  # the rule takes a sequence: one per row
    return np.asarray(weights), np.asarray(inputs), None if bias is None else np.asarray(bias)


class ArgumentColumns(NamedTuple):
    """A run of one argument's columns, read in place from the caller's array."""

    argument: int
    first: int
    end: int


class LinearGroup(Group):
    """Dot nodes with shared weights and the same batched inputs: one matrix product."""

    kind = "linear"
    op = OPS["dot"]

    def __init__(self, level: int, members: list[Instruction], out_start: int, w_idx: np.ndarray,
                 x_idx: np.ndarray, b_idx: np.ndarray | None) -> None:
        super().__init__(level, members, BATCHED, out_start)
        self.w_idx, self.x_idx, self.b_idx = w_idx, x_idx, b_idx  # (k, n), (n,), (k,)
        self.arg = b_idx is not None
        # set by Program when x is a run of one argument's columns read in place
        self.x_source: ArgumentColumns | None = None

    def detail(self) -> str:
        k, n = self.w_idx.shape
        return f" = W[{k}x{n}] @ x" + (" + b" if self.b_idx is not None else "")

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        found = [(SHARED, self.w_idx), (BATCHED, np.broadcast_to(self.x_idx, self.w_idx.shape))]
        if self.b_idx is not None:
            found.append((SHARED, self.b_idx))
        return found

    def bind_forward(self, bound: BoundProgram, number: int) -> Step:
        out, saved = bound.out_view(self), bound.saved
        weights = Access(bound.shared_values, self.w_idx, False)
        bias = None if self.b_idx is None else Access(bound.shared_values, self.b_idx, True)
        if self.x_source is not None:
            arguments = bound.arguments
            argument, first, end = self.x_source

            def read_inputs() -> np.ndarray:
                columns: np.ndarray = arguments[argument][:, first:end].T
                return columns
        else:
            read_inputs = Access(bound.batched_values, self.x_idx, False).get
        # BLAS takes a strided weight matrix (a neuron's w then b, then the next
        # neuron's), but NumPy's matmul is faster on a contiguous copy of it
        flags = None if weights.view is None else weights.view.flags
        contiguous = flags is not None and not (flags.c_contiguous or flags.f_contiguous)

        def linear_forward() -> None:
            w, x = weights.get(), read_inputs()
            if contiguous:
                w = np.ascontiguousarray(w)
            saved[number] = (w, x)
            np.matmul(w, x, out=out)
            if bias is not None:
                np.add(out, bias.get(), out=out)
        return linear_forward

    def bind_backward(self, bound: BoundProgram, number: int, plan: Planner) -> Step | None:
        saved, upstream = bound.saved, bound.grad_view(self)
        # planned in the order the closure runs them: first contributions are assigned
        to_weights = plan(SHARED, self.w_idx, reduce_batch=False)  # G X^T sums the batch already
        to_bias = None if self.b_idx is None else plan(SHARED, self.b_idx)
        to_inputs = plan(BATCHED, self.x_idx)
        if to_weights is None and to_inputs is None and to_bias is None:
            return None
        weight_view = None if to_weights is None else to_weights.plan.assign_view
        input_view = None if to_inputs is None else to_inputs.plan.assign_view

        def linear_backward() -> None:
            g = upstream
            w, x = saved[number]
            if weight_view is not None:  # dW = G X^T, straight into the gradient buffer
                np.matmul(g, x.T, out=weight_view)
            elif to_weights is not None:
                to_weights.scatter(g @ x.T)
            if to_bias is not None:
                to_bias.scatter(g)  # the plan sums it over the batch
            if input_view is not None:  # dX = W^T G
                np.matmul(w.T, g, out=input_view)
            elif to_inputs is not None:
                to_inputs.scatter(w.T @ g)
        return linear_backward


class DotGroup(Group):
    """Dot nodes of any other shape: ``sum_i w_i x_i (+ b)`` over stacked operands, no Python loop.

    The op table's dot forward loops over the operands in Python, one NumPy call per
    product; over hundreds of operands (an L2 penalty ``dot(params, params)``) that
    loop would dominate a step. Each operand role is ``(space, idx)``, idx ``(n, k)``
    for weights and inputs (n products for each of k nodes), ``(k,)`` for the bias.
    """

    kind = "dot"
    op = OPS["dot"]

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 weights: tuple[int, np.ndarray], inputs: tuple[int, np.ndarray],
                 bias: tuple[int, np.ndarray] | None) -> None:
        super().__init__(level, members, out_space, out_start)
        self.weights, self.inputs, self.bias = weights, inputs, bias
        self.arg = bias is not None

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        (w_space, w_idx), (x_space, x_idx) = self.weights, self.inputs
        return [(w_space, w_idx.T), (x_space, x_idx.T)] + ([self.bias] if self.bias is not None else [])

    def _access(self, bound: BoundProgram, role: tuple[int, np.ndarray]) -> Access:
        space, idx = role
        return Access(bound.values[space], idx, self.out_space == BATCHED and space == SHARED)

    def bind_forward(self, bound: BoundProgram, number: int) -> Step:
        out, saved = bound.out_view(self), bound.saved
        weights, inputs = self._access(bound, self.weights), self._access(bound, self.inputs)
        bias = None if self.bias is None else self._access(bound, self.bias)
        # w x has the output's shape unless both are shared and only the bias is batched
        full = self.out_space == SHARED or BATCHED in (self.weights[0], self.inputs[0])

        def dot_forward() -> None:
            w, x = weights.get(), inputs.get()
            saved[number] = (w, x)
            if full:
                np.add.reduce(w * x, axis=0, out=out)
                if bias is not None:
                    np.add(out, bias.get(), out=out)
            elif bias is not None:  # only the bias is batched
                np.add(np.add.reduce(w * x, axis=0), bias.get(), out=out)
        return dot_forward

    def bind_backward(self, bound: BoundProgram, number: int, plan: Planner) -> Step | None:
        saved, upstream = bound.saved, bound.grad_view(self)
        to_weights, to_inputs = plan(*self.weights), plan(*self.inputs)
        to_bias = None if self.bias is None else plan(*self.bias)
        if to_weights is None and to_inputs is None and to_bias is None:
            return None

        def dot_backward() -> None:
            g = upstream
            w, x = saved[number]
            if to_weights is not None:  # d/dw_i = x_i
                to_weights.scatter(g, x)
            if to_inputs is not None:  # d/dx_i = w_i
                to_inputs.scatter(g, w)
            if to_bias is not None:  # d/db = 1
                to_bias.scatter(g)
        return dot_backward
