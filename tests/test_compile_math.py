"""NumpyMath: the op table's primitives on arrays give the float rules' numbers, in the tape's dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd.compiler.numpy_math import NUMPY_MATH, NumpyMath, numpy_math
from autograd.ops import FLOAT_MATH

SPECIAL = [np.inf, -np.inf, -0.0, 0.0, np.nan, 1e-310, -1e-310, 5e-324]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", [9, 40_000])  # small arrays use np.where, large ones a bitwise select
def test_where_gives_np_where_bits_in_the_tape_dtype(dtype, size):
    math_ = numpy_math(dtype)
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(dtype)
    y = rng.standard_normal(size).astype(dtype)
    x[:len(SPECIAL)] = np.array(SPECIAL, dtype=dtype)
    condition = x > 0
    for if_true, if_false in [(x, 0.0), (0.0, x), (x, y), (x, -0.0), (1.5, x), (1.0, 0.0), (0.0, 1.0),
                              (2.0, -3.0), (x, 0.25 * x)]:
        got = math_.where(condition, if_true, if_false)
        expected = np.where(condition, *(np.asarray(v, dtype=dtype) for v in (if_true, if_false)))
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_stable_forms_match_the_float_rules():
    x = np.array([-1e308, -1000.0, -30.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 30.0, 1000.0, 1e308])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        sigmoid, softplus = NUMPY_MATH.sigmoid(x), NUMPY_MATH.softplus(x)
    np.testing.assert_array_equal(sigmoid, [FLOAT_MATH.sigmoid(v) for v in x])
    np.testing.assert_allclose(softplus, [FLOAT_MATH.softplus(v) for v in x], rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_gives_the_two_branch_form_bits(dtype):
    # the max(e, x >= 0) numerator selects 1 / (1 + e^-x) or e^x / (1 + e^x) by arithmetic:
    # the same bits as np.where over both branches, for every finite x and the edges
    rng = np.random.default_rng(13)
    largest = float(np.finfo(dtype).max)
    x = np.concatenate([rng.standard_normal(20_000) * 40, [-0.0, 0.0, 1e-45, -1e-45, -745.0, -744.0,
                                                          -709.5, 709.5, largest, -largest]]).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        got = numpy_math(dtype).sigmoid(x)
        small = np.exp(-np.abs(x))
        expected = np.where(x >= 0.0, 1.0 / (1.0 + small), small / (1.0 + small))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
    assert float(NUMPY_MATH.sigmoid(np.float64(-3.0))) == FLOAT_MATH.sigmoid(-3.0)  # one number too


def test_total_and_largest_take_lists_or_stacked_arrays():
    parts = [np.array([1.0, 2.0]), np.array([3.0, -4.0]), np.array([0.5, 0.25])]
    np.testing.assert_array_equal(NUMPY_MATH.total(parts), [4.5, -1.75])
    np.testing.assert_array_equal(NUMPY_MATH.total(np.stack(parts)), [4.5, -1.75])
    np.testing.assert_array_equal(NUMPY_MATH.largest(parts), [3.0, 2.0])
    np.testing.assert_array_equal(NUMPY_MATH.largest(np.stack(parts)), [3.0, 2.0])
    # a list adds left to right, exactly as the eager sum of floats does
    values = [0.1, 0.2, 0.3, 1e16, -1e16]
    assert NUMPY_MATH.total([np.array([v]) for v in values])[0] == sum(values, 0.0)


def test_elementary_functions_agree_with_math():
    x = np.linspace(0.1, 3.0, 11)
    for name in ("exp", "expm1", "log", "sqrt", "tanh", "sin", "cos"):
        np.testing.assert_allclose(getattr(NUMPY_MATH, name)(x), [getattr(math, name)(v) for v in x],
                                   rtol=1e-15)
    np.testing.assert_array_equal(NUMPY_MATH.sign(np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(NUMPY_MATH.is_zero(np.array([0.0, -0.0, 1.0])), [True, True, False])
    assert NUMPY_MATH.pow(np.array([2.0]), 10.0)[0] == 1024.0


def test_float32_stays_float32():
    math32 = numpy_math("float32")
    x = np.linspace(-2, 2, 5, dtype=np.float32)
    for result in (math32.sigmoid(x), math32.softplus(x), math32.where(x > 0, 1.0, 0.0),
                   math32.where(x > 0, x, 0.0), math32.total([x, x]), 1.0 - x * x):
        assert result.dtype == np.float32


def test_only_float64_and_float32():
    assert numpy_math(np.float64) is NUMPY_MATH
    assert repr(numpy_math("float32")) == "NumpyMath(float32)"
    with pytest.raises(TypeError, match="float64 or float32"):
        numpy_math("float16")
    with pytest.raises(TypeError, match="float64 or float32"):
        NumpyMath(np.int64)
