"""autograd.value.assign_data: many .data assignments at once, with the setter's checks and staleness."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import Parameter, StaleGraphError, Value
from autograd.value import assign_data, data_clock


def test_the_values_take_the_numbers_as_floats_and_the_clock_ticks_once():
    values = [Parameter(0.0) for _ in range(5)]
    before = data_clock()
    assign_data(values, [1, 2.5, True, np.float64(-3.0), np.int64(7)])
    assert [v.data for v in values] == [1.0, 2.5, 1.0, -3.0, 7.0]
    assert all(type(v.data) is float for v in values)
    assert data_clock() == before + 1
    assert {v._version for v in values} == {data_clock()}


def test_a_graph_made_before_the_assignment_refuses_backward_and_one_made_after_runs():
    w, b = Parameter(2.0), Parameter(1.0)
    old = w * 3.0 + b
    assign_data([w, b], [5.0, -1.0])
    with pytest.raises(StaleGraphError, match="had its .data assigned after"):
        old.backward()
    new = w * 3.0 + b
    new.backward()
    assert (new.data, w.grad, b.grad) == (14.0, 3.0, 1.0)


def test_only_graphs_of_the_assigned_values_go_stale_as_with_the_setter():
    w, other = Parameter(2.0), Parameter(4.0)
    untouched = other * other
    assign_data([w], [3.0])
    untouched.backward()  # made before the tick but from a Value that was not assigned
    assert other.grad == 8.0


@pytest.mark.parametrize("bad, error", [(float("nan"), ValueError), ("1.0", TypeError), (None, TypeError),
                                        (Value(1.0), TypeError)])
def test_a_refused_number_changes_nothing(bad, error):
    values = [Parameter(1.0), Parameter(2.0), Parameter(3.0)]
    before = data_clock()
    with pytest.raises(error):
        assign_data(values, [4.0, bad, 6.0])
    assert [v.data for v in values] == [1.0, 2.0, 3.0] and data_clock() == before


def test_infinities_are_numbers_as_for_the_setter_even_when_their_sum_is_nan():
    values = [Parameter(0.0), Parameter(0.0)]
    assign_data(values, [float("inf"), float("-inf")])
    assert [v.data for v in values] == [float("inf"), float("-inf")]


def test_the_lengths_must_match():
    with pytest.raises(ValueError, match="2 Values and 1 numbers"):
        assign_data([Parameter(0.0), Parameter(0.0)], [1.0])


def test_a_compiled_functions_write_back_makes_older_graphs_stale():
    w = Parameter(0.5)
    f = autograd.compile(lambda x: w * x, (1.0,))
    old = w * 2.0
    f.hold_parameters()[0] = 3.0
    f.write_back()
    assert w.data == 3.0
    with pytest.raises(StaleGraphError):
        old.backward()


@pytest.mark.parametrize("not_a_value", [3.0, None, "w"])
def test_something_not_a_value_among_the_values_is_named_and_nothing_changes(not_a_value):
    w = Parameter(1.0)
    before = data_clock()
    with pytest.raises(TypeError, match=r"values\[1\] is a \w+, not a Value"):
        assign_data([w, not_a_value, Parameter(2.0)], [5.0, 6.0, 7.0])
    assert w.data == 1.0 and data_clock() == before
