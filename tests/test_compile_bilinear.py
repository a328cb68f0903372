"""The op table's bilinear declarations, checked against the ops' own rules.

The compiled tape runs every op declared ``bilinear`` as matrix products without
looking at its ``local_grads``; these properties are what makes that trust safe.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd.ops import FLOAT_MATH, OPS, DotOperands

BILINEAR = [name for name, op in OPS.items() if op.bilinear is not None]
finite = st.floats(-1e3, 1e3, allow_nan=False)


@st.composite
def operands(draw):
    n = draw(st.integers(1, 6))
    has_bias = draw(st.booleans())
    weights = draw(st.lists(finite, min_size=n, max_size=n))
    inputs = draw(st.lists(finite, min_size=n, max_size=n))
    bias = draw(finite) if has_bias else None
    return (weights, inputs, bias), has_bias


def test_dot_is_declared_bilinear():
    assert BILINEAR == ["dot"]


@pytest.mark.parametrize("name", BILINEAR)
@given(case=operands())
def test_a_bilinear_declaration_matches_the_ops_forward_and_local_grads(name, case):
    op = OPS[name]
    (weights, inputs, bias), has_bias = case
    xs = list(DotOperands.pack(weights, inputs, bias))
    assert op.bilinear(xs, has_bias) == (weights, inputs, bias)
    out = op.forward(FLOAT_MATH, xs, has_bias)
    products = [w * x for w, x in zip(weights, inputs)] + ([bias] if has_bias else [])
    assert math.isclose(out, math.fsum(products), rel_tol=1e-12, abs_tol=1e-9)
    local = op.local_grads(FLOAT_MATH, xs, out, has_bias)
    expected = (*inputs, *weights, 1.0) if has_bias else (*inputs, *weights)
    assert tuple(local) == expected  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1, exactly


@given(case=operands())
def test_dot_operands_split_and_pack_are_inverse(case):
    (weights, inputs, bias), has_bias = case
    packed = DotOperands.pack(weights, inputs, bias)
    assert len(packed) == 2 * len(weights) + has_bias
    assert DotOperands.pack(*DotOperands.split(packed, has_bias)) == packed


def test_autograd_dot_stores_its_operands_in_the_declared_layout():
    w = [autograd.Parameter(1.0), autograd.Parameter(2.0)]
    x, b = [autograd.Value(3.0), autograd.Value(4.0)], autograd.Parameter(0.5)
    node = autograd.dot(w, x, bias=b)
    assert OPS["dot"].bilinear(node.parents, node.arg) == (tuple(w), tuple(x), b)
