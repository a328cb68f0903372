"""hold_parameters(): the parameters live in the compiled tape's own buffer while a loop trains."""

from __future__ import annotations

import numpy as np
import pytest

import autograd


def line_fit():
    w, b = autograd.Parameter(0.5, "w"), autograd.Parameter(0.0, "b")
    f = autograd.compile(lambda x, y: (w * x + b - y) ** 2, (0.0, 0.0))
    return w, b, f


def test_the_held_array_is_the_tapes_buffer_and_is_read_in_place():
    w, b, f = line_fit()
    theta = f.hold_parameters()
    assert theta.tolist() == [0.5, 0.0] and f.parameters_held
    assert np.shares_memory(theta, f._bound.shared.values)  # the very buffer the program reads
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    assert f(x, y).tolist() == [0.25, 1.0]
    theta[0] = 1.0  # no call copies the Values in: the next one sees the new number
    assert f(x, y).tolist() == [1.0, 4.0]
    assert w.data == 0.5  # and the Value is not touched until written back
    assert f.hold_parameters() is theta


def test_gradients_are_a_read_only_view_of_the_tapes_gradient_buffer():
    _, _, f = line_fit()
    f.hold_parameters()
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    grads = f.value_and_grad(x, y).param_grads
    assert grads.tolist() == [2 * 0.5 * 1 + 2 * 1.0 * 2, 2 * 0.5 + 2 * 1.0]
    assert np.shares_memory(grads, f._bound.shared.grads) and not grads.flags.writeable
    with pytest.raises(ValueError):
        grads[0] = 1.0


def test_every_batch_size_reads_the_same_held_parameters():
    _, _, f = line_fit()
    theta = f.hold_parameters()
    theta[:] = [2.0, 1.0]
    for size in (1, 3, 5):  # one sample may replay on floats: it reads the held array too
        x = np.arange(size, dtype=float)
        result = f.value_and_grad(x, 2 * x + 1)
        assert result.outputs.tolist() == [0.0] * size
        assert result.param_grads.tolist() == [0.0, 0.0]
    theta[1] = 2.0
    assert f.value_and_grad(np.array([1.0]), np.array([3.0])).param_grads.tolist() == [2.0, 2.0]


def test_a_loop_on_held_parameters_equals_the_loop_passing_params():
    w, b, f = line_fit()
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])
    passed = f.parameter_array()
    for _ in range(50):
        passed -= 0.05 * f.value_and_grad(x, y, params=passed, output_grad=1 / 3).param_grads
    held = f.hold_parameters()
    for _ in range(50):
        held -= 0.05 * f.value_and_grad(x, y, output_grad=1 / 3).param_grads
    assert held.tolist() == passed.tolist()
    f.release_parameters()
    assert [w.data, b.data] == passed.tolist() and not f.parameters_held


def test_write_back_keeps_holding_and_release_reads_the_values_again():
    w, b, f = line_fit()
    theta = f.hold_parameters()
    theta[:] = [3.0, 4.0]
    f.write_back()
    assert (w.data, b.data) == (3.0, 4.0) and f.parameters_held
    assert f.parameter_array().tolist() == [3.0, 4.0]
    f.release_parameters()
    w.data = 1.0  # the Values again: a call reads them
    assert f(np.array([1.0]), np.array([0.0])).tolist() == [25.0]


def test_set_parameters_while_held_changes_the_values_and_the_held_array():
    w, b, f = line_fit()
    theta = f.hold_parameters()
    f.set_parameters([7.0, 8.0])
    assert theta.tolist() == [7.0, 8.0] and (w.data, b.data) == (7.0, 8.0)


def test_params_are_refused_while_held():
    _, _, f = line_fit()
    theta = f.hold_parameters()
    for batch in (1, 2):  # the scalar replay and the program
        with pytest.raises(ValueError, match="held"):
            f.value_and_grad(np.zeros(batch), np.zeros(batch), params=np.array([1.0, 2.0]))
    assert theta.tolist() == [0.5, 0.0]


def test_a_nan_written_into_the_held_array_is_refused_when_written_back():
    w, b, f = line_fit()
    theta = f.hold_parameters()
    theta[:] = [2.0, float("nan")]
    for release in (f.write_back, f.release_parameters):
        with pytest.raises(autograd.NonFiniteError, match=r"parameter 1 \(b\) is NaN"):
            release()
        assert (w.data, b.data) == (0.5, 0.0) and f.parameters_held  # nothing changed


def test_float32_tapes_hold_float32_parameters():
    w = autograd.Parameter(0.5)
    f = autograd.compile(lambda x: w * x, (1.0,), dtype="float32")
    theta = f.hold_parameters()
    assert theta.dtype == np.float32
    theta *= 2
    assert f(np.array([3.0], dtype=np.float32)).tolist() == [3.0]


def test_a_checked_batch_runs_as_the_arrays_do_and_its_rows_too():
    w, b, f = line_fit()
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])
    batch = f.check_batch(x, y)
    assert batch.size == 3 and batch.shapes == ((), ())
    direct = f.value_and_grad(x, y, output_grad=0.5)
    checked = f.value_and_grad(batch, output_grad=0.5)
    assert checked.outputs.tolist() == direct.outputs.tolist() == [6.25, 16.0, 30.25]
    assert checked.param_grads.tolist() == direct.param_grads.tolist()
    picked = batch.rows(np.array([2, 0]))
    assert picked.size == 2 and f(picked).tolist() == f(x[[2, 0]], y[[2, 0]]).tolist() == [30.25, 6.25]
    one = batch.rows(np.array([1]))  # a batch of one runs on the scalar replay
    assert f.value_and_grad(one).param_grads.tolist() == f.value_and_grad(x[1:2], y[1:2]).param_grads.tolist()


def test_a_batch_checked_for_other_shapes_is_refused():
    _, _, f = line_fit()
    g = autograd.compile(lambda v: v[0] * v[1], ([1.0, 2.0],))
    with pytest.raises(ValueError, match=r"checked for inputs of shapes \[\(2,\)\]"):
        f(g.check_batch(np.ones((3, 2))))
    with pytest.raises(ValueError, match="contains NaN"):  # the check itself is the call's
        f.check_batch(np.array([1.0, np.nan]), np.zeros(2))


def test_rows_take_indices_or_a_mask_and_refuse_what_is_neither():
    _, _, f = line_fit()
    batch = f.check_batch(np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0]))
    masked = batch.rows(np.array([True, False, True]))  # a mask picks the samples where it is True
    assert masked.size == 2
    assert f(masked).tolist() == f(batch.rows(np.array([0, 2]))).tolist() == [6.25, 30.25]
    for empty in (np.array([], np.intp), np.zeros(3, bool)):
        with pytest.raises(ValueError, match="the batch is empty"):
            batch.rows(empty)
    with pytest.raises(ValueError, match=r"mask of 2 entries for 3 samples"):
        batch.rows(np.array([True, False]))
    with pytest.raises(ValueError, match="integer sample indices.*float64"):
        batch.rows(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"one index per picked sample.*\(1, 2\)"):
        batch.rows(np.array([[0, 1]]))
    with pytest.raises(IndexError, match=r"3 samples \(0\.\.2\)"):
        batch.rows(np.array([3]))


def test_a_checked_batch_comes_only_from_check_batch():
    _, _, f = line_fit()
    with pytest.raises(TypeError, match=r"check_batch\(\)"):  # a hand-made one would skip the NaN check
        f(autograd.compiler.CheckedBatch((np.array([np.nan, 1.0]), np.zeros(2)), 2, ((), ())))
