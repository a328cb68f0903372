"""The ops written as functions: sum, dot and logsumexp over many operands, maximum, minimum.

Each makes ONE node however many operands it has, so a neuron's ``w . x + b`` is one
node of the graph (and one box in a drawing). Like the ``Value`` methods, each names
an op of :mod:`autograd.ops` and leaves the maths to the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import ops
from .value import Constant, Operand, Value, apply, apply_nary, as_value

__all__ = ["sum", "dot", "logsumexp", "maximum", "minimum"]


def sum(values: Iterable[Operand]) -> Value:  # shadows the builtin inside this module only, on purpose
    """The sum of many values as one node (its local gradients are all 1).

    Example:
        >>> import autograd
        >>> autograd.sum([Value(1.0), 2, Value(3.0)]).data
        6.0
    """
    operands = tuple(as_value(v) for v in values)
    if not operands:
        return Constant(0.0)
    return apply_nary(ops.SUM, operands)


def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand | None = None) -> Value:
    """w . x (+ b) as one node: d/dw_i = x_i, d/dx_i = w_i, d/db = 1.

    Example:
        >>> import autograd
        >>> autograd.dot([Value(2.0), Value(-3.0)], [-1.0, -2.0], bias=Value(-3.0)).data
        1.0
    """
    weights, inputs = list(weights), list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(weights)} and {len(inputs)}")
    if not weights:
        raise ValueError("dot needs at least one weight and one input")
    operands = ops.DotOperands.pack([as_value(v) for v in weights], [as_value(v) for v in inputs],
                                    None if bias is None else as_value(bias))
    return apply_nary(ops.DOT, operands, bias is not None)


def logsumexp(values: Iterable[Operand]) -> Value:
    """log(sum(e^x_i)) as one node, stable for any inputs; its gradient is the softmax.

    Example:
        >>> import autograd
        >>> round(autograd.logsumexp([Value(1000.0), Value(1000.0)]).data, 6)
        1000.693147
    """
    operands = tuple(as_value(v) for v in values)
    if not operands:
        raise ValueError("logsumexp needs at least one value")
    return apply_nary(ops.LOGSUMEXP, operands)


def maximum(a: Operand, b: Operand) -> Value:
    """The larger of two values; the gradient goes to the larger (half to each on a tie).

    Example:
        >>> import autograd
        >>> autograd.maximum(Value(2.0), 3).data
        3.0
    """
    return apply(ops.MAX, as_value(a), as_value(b))


def minimum(a: Operand, b: Operand) -> Value:
    """The smaller of two values; the gradient goes to the smaller (half to each on a tie).

    Example:
        >>> import autograd
        >>> autograd.minimum(Value(2.0), 3).data
        2.0
    """
    return apply(ops.MIN, as_value(a), as_value(b))

