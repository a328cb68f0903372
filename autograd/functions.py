"""The ops written as functions: sum, dot and logsumexp over many operands, maximum, minimum.

Each makes ONE node however many operands it has, so a neuron's ``w . x + b`` is one
node of the graph (and one box in a drawing). Like the ``Value`` methods, each names
an op of :mod:`autograd.ops` and leaves the maths to the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import ops
from .ops import documented
from .value import Constant, Operand, Value, apply, apply_nary, as_value

__all__ = ["sum", "dot", "logsumexp", "maximum", "minimum"]


@documented(ops.SUM, "The sum of many values as one node (``autograd.sum``); 0 for none.",
            "sum([Value(1.0), 2, Value(3.0)]).data", "6.0")
def sum(values: Iterable[Operand]) -> Value:  # shadows the builtin inside this module only, on purpose
    operands = tuple(as_value(v) for v in values)
    if not operands:
        return Constant(0.0)
    return apply_nary(ops.SUM, operands)


@documented(ops.DOT, "w . x (+ b) as one node (``autograd.dot``).",
            "dot([Value(2.0), Value(-3.0)], [-1.0, -2.0], bias=Value(-3.0)).data", "1.0")
def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand | None = None) -> Value:
    weights, inputs = list(weights), list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot needs as many weights as inputs, got {len(weights)} and {len(inputs)}")
    if not weights:
        raise ValueError("dot needs at least one weight and one input")
    operands = ops.DotOperands.pack([as_value(v) for v in weights], [as_value(v) for v in inputs],
                                    None if bias is None else as_value(bias))
    return apply_nary(ops.DOT, operands, bias is not None)


@documented(ops.LOGSUMEXP, "log(sum(e^x_i)) as one node, stable for any inputs.",
            "round(logsumexp([Value(1000.0), Value(1000.0)]).data, 6)", "1000.693147")
def logsumexp(values: Iterable[Operand]) -> Value:
    operands = tuple(as_value(v) for v in values)
    if not operands:
        raise ValueError("logsumexp needs at least one value")
    return apply_nary(ops.LOGSUMEXP, operands)


@documented(ops.MAX, "The larger of two values.",
            "maximum(Value(2.0), 3).data", "3.0")
def maximum(a: Operand, b: Operand) -> Value:
    return apply(ops.MAX, as_value(a), as_value(b))


@documented(ops.MIN, "The smaller of two values.",
            "minimum(Value(2.0), 3).data", "2.0")
def minimum(a: Operand, b: Operand) -> Value:
    return apply(ops.MIN, as_value(a), as_value(b))

