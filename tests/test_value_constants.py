"""A plain number in an expression becomes a Constant node, made as the constructor would make it.

apply() turns the number on the right of a binary op into a Constant itself, and a float
skips the constructor's checks (it would pass them): the node must still be the one
``Constant(number)`` makes, slot for slot, and everything else must still be refused
with the constructor's errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Constant, Parameter, Value, ops
from autograd.value import apply, as_value, to_float

SLOTS = ("_data", "grad", "label", "_op", "_x", "_y", "_arg", "_scope", "_version")


def slots(node: Value) -> dict[str, Any]:
    return {name: getattr(node, name) for name in SLOTS}


NUMBERS = [1.5, -0.0, float("inf"), 3, True, np.float64(2.5), np.int64(7), np.bool_(1)]


@pytest.mark.parametrize("number", NUMBERS)
def test_the_constant_of_a_number_operand_is_the_constructors_constant(number: Any) -> None:
    with autograd.scope("layer"):
        made = (Value(2.0) + number).parents[1]
        expected = Constant(number)
    assert type(made) is Constant and type(made._data) is float
    assert slots(made) == slots(expected) and made.scope == ("layer",)
    assert slots(as_value(number)) == slots(Constant(number))


def test_a_constant_made_inside_no_grad_is_the_same_leaf() -> None:
    with autograd.no_grad():
        result = Value(2.0) * 3.0
    assert result.is_leaf and result.data == 6.0


def test_apply_takes_a_number_on_the_right_of_a_binary_op() -> None:
    product = apply(ops.MUL, Value(3.0), -4)  # an AttributeError before: apply read (-4)._data
    assert product.data == -12.0 and [type(p) for p in product.parents] == [Value, Constant]
    product.backward()
    assert product.parents[0].grad == -4.0 and product.parents[1].grad == 3.0


def test_a_number_on_the_left_is_a_constant_too() -> None:
    difference = 1.0 - Value(4.0)
    assert difference.data == -3.0 and type(difference.parents[0]) is Constant


@pytest.mark.parametrize("bad, error, words", [
    (float("nan"), ValueError, "must not be NaN"),
    (np.float64("nan"), ValueError, "must not be NaN"),
    ("1", TypeError, "got str"),
    (None, TypeError, "got NoneType"),
    (1 + 2j, TypeError, "got complex"),
])
def test_a_bad_number_operand_gets_the_constructors_error(bad: Any, error: type, words: str) -> None:
    for make in (lambda: Value(1.0) + bad, lambda: Value(1.0) * bad, lambda: bad - Value(1.0)):
        with pytest.raises(error, match=words):
            make()


@pytest.mark.parametrize("node", [Value(1.0), Parameter(1.0), Constant(1.0)])
def test_a_node_given_as_data_is_told_to_detach(node: Value) -> None:
    with pytest.raises(TypeError, match=r"got a Value: use v.detach\(\)"):
        to_float(node)
    with pytest.raises(TypeError, match=r"got a Value: use v.detach\(\)"):
        Value(node)  # type: ignore[arg-type]
