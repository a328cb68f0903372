"""The compiled tape's listing, its tracing rules, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
from autograd import OverflowValueError, Parameter, TracingError, Value
from autograd.compiler import NUMPY_MATH, CompiledFunction, TapeGradients


# ---------------------------------------------------------------------------
# The listing
# ---------------------------------------------------------------------------
def test_the_course_graph_lists_as_three_address_code():
    compiled = autograd.compile(lambda x, y, z: (x + y) * z, (-2.0, 5.0, -4.0))
    assert str(compiled.tape) == (
        "# tape: 3 inputs, 0 parameters, 0 constants -> 1 output, 2 instructions\n"
        "# inputs: x, y, z\n"
        "t0 = add x, y\n"
        "t1 = mul t0, z\n"
        "out = t1")
    result = compiled.value_and_grad(np.array([-2.0]), np.array([5.0]), np.array([-4.0]), wrt_inputs=True)
    assert result.outputs.tolist() == [-12.0]
    assert [g.tolist() for g in result.input_grads] == [[-4.0], [-4.0], [3.0]]


def test_a_neuron_lists_its_dot_with_weights_inputs_and_bias():
    w0, w1, b = Parameter(2.0), Parameter(-3.0), Parameter(-3.0)
    compiled = autograd.compile(lambda x: autograd.dot([w0, w1], x, b).sigmoid(), ([-1.0, -2.0],))
    assert str(compiled.tape).splitlines()[2:] == [
        "t0 = dot [p0, p1] . [x[0], x[1]] + p2",
        "t1 = sigmoid t0",
        "out = t1"]
    assert compiled.params == [w0, w1, b]


def test_listing_shows_constants_arguments_scopes_stop_gradients_and_vector_outputs():
    w = Parameter(0.5)

    def fn(x):
        with autograd.scope("layer 0"), autograd.scope("neuron 1"):
            h = (w * x).leaky_relu(0.1)
        return [h ** 2, (x * 2.5).detach() - 1, autograd.maximum(h, 0.5)]

    assert str(autograd.compile(fn, (1.0,)).tape) == (
        "# tape: 1 input, 1 parameter, 3 constants -> 3 outputs, 7 instructions\n"
        "# inputs: x\n"
        "t0 = mul p0, x                            # layer 0/neuron 1\n"
        "t1 = leaky_relu[0.1] t0\n"
        "t2 = powc[2] t1\n"
        "t3 = mul x, 2.5\n"
        "t4 = stop_gradient t3\n"
        "t5 = sub t4, 1.0\n"
        "t6 = max t1, 0.5\n"
        "out[0] = t2\n"
        "out[1] = t5\n"
        "out[2] = t6")


def test_long_operand_runs_are_folded_and_layers_become_matrix_products():
    import nn

    layer = nn.Layer(3, 4, activation="relu", seed=0)
    compiled = autograd.compile(lambda x: layer(x), ([0.0, 0.0, 0.0],))
    lines = str(compiled.tape).splitlines()
    assert lines[2] == "t0 = dot [p0..p2] . [x[0], x[1], x[2]] + p3  # layer/neuron 0"
    assert lines[-4:] == ["out[0] = t1", "out[1] = t3", "out[2] = t5", "out[3] = t7"]
    assert str(compiled.program).splitlines() == [
        "# program: 2 steps (1 matrix product) for 8 instructions; 11 batched rows, 16 shared slots",
        "level 1  linear         4 nodes  t0, t2, t4, t6 = W[4x3] @ x + b",
        "level 2  relu           4 nodes  t1, t3, t5, t7"]
    assert len(compiled.tape) == 8 and [i.name for i in compiled.tape][:2] == ["dot", "relu"]


def test_reprs_name_inputs_outputs_and_sizes():
    w = Parameter(1.0)
    compiled = autograd.compile(lambda x, y: [w * x[0], y], ([1.0, 2.0], 3.0))
    assert repr(compiled) == ("<CompiledFunction(x[2], y) -> [2]: 1 instruction in 1 step, "
                              "1 parameter, float64>")
    assert repr(compiled.tape) == "<Tape: 1 instruction, 3 inputs, 1 parameter, 2 outputs>"
    assert isinstance(compiled, CompiledFunction)
    assert isinstance(compiled.value_and_grad(np.ones((2, 2)), np.ones(2)), TapeGradients)


def test_numpy_math_is_exported_for_the_op_table():
    from autograd.ops import OPS

    assert OPS["tanh"].forward(NUMPY_MATH, [np.array([0.0])], None).tolist() == [0.0]


# ---------------------------------------------------------------------------
# What a trace cannot see raises
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: x if x.data > 0 else -x,
    lambda x: x if x > 0 else -x,
    lambda x: x * float(x),
    lambda x: x if x else -x,
    lambda x: max(x, 0.0),
], ids=["data", "comparison", "float", "truth", "builtin-max"])
def test_branching_on_data_while_tracing_raises(fn):
    with pytest.raises(TracingError, match="autograd.compile traced"):
        autograd.compile(fn, (1.0,))
    assert Value(2.0).data == 2.0  # the tracing state is gone afterwards


def test_no_grad_and_float_backward_while_tracing_raise():
    def with_no_grad(x):
        with autograd.no_grad():
            return x * 2

    def with_backward(x):
        y = x * x
        y.backward()
        return y

    with pytest.raises(TracingError, match="no_grad"):
        autograd.compile(with_no_grad, (1.0,))
    with pytest.raises(TracingError, match="create_graph=True"):
        autograd.compile(with_backward, (1.0,))
    with autograd.no_grad():  # still fine outside a trace
        assert (Value(1.0) * 2).is_leaf


def test_gradients_built_with_create_graph_compile():
    # d/dx x^3 = 3 x^2, itself traced and compiled: second-order graphs replay too
    compiled = autograd.compile(lambda x: autograd.grad(x ** 3, [x], create_graph=True)[0], (1.0,))
    result = compiled.value_and_grad(np.array([2.0, -1.0]), wrt_inputs=True)
    assert result.outputs.tolist() == [12.0, 3.0]
    assert result.input_grads[0].tolist() == [12.0, -6.0]


def test_a_function_traces_once():
    calls = []

    def fn(x):
        calls.append(1)
        return x * 2

    compiled = autograd.compile(fn, (1.0,))
    compiled(np.arange(3.0))
    compiled.value_and_grad(np.arange(5.0))
    assert len(calls) == 1


# ---------------------------------------------------------------------------
# Bad compilations
# ---------------------------------------------------------------------------
def test_bad_compile_arguments_are_named():
    with pytest.raises(TypeError, match="needs a function"):
        autograd.compile(3, (1.0,))
    with pytest.raises(TypeError, match="one example per argument"):
        autograd.compile(lambda x: x, 1.0)
    with pytest.raises(TypeError, match="one example per argument"):
        autograd.compile(lambda x: x, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="example for 'x'"):
        autograd.compile(lambda x: x, ("a",))
    with pytest.raises(TypeError, match="must return a Value"):
        autograd.compile(lambda x: "x", (1.0,))
    with pytest.raises(ValueError, match="empty list"):
        autograd.compile(lambda x: [], (1.0,))
    with pytest.raises(ValueError, match="ragged"):
        autograd.compile(lambda x: [x, [x, x]], (1.0,))
    with pytest.raises(TypeError, match="float64 or float32"):
        autograd.compile(lambda x: x, (1.0,), dtype="int32")


def test_bad_params_are_named():
    w = Parameter(1.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value"):
        autograd.compile(lambda x: w * x, (1.0,), params=[1.0])
    with pytest.raises(ValueError, match=r"params\[0\] is not a leaf"):
        autograd.compile(lambda x: w * x, (1.0,), params=[w * 2])
    with pytest.raises(ValueError, match="appears twice"):
        autograd.compile(lambda x: w * x, (1.0,), params=[w, w])


# ---------------------------------------------------------------------------
# Bad batches
# ---------------------------------------------------------------------------
@pytest.fixture
def compiled():
    w = Parameter(0.5)
    return autograd.compile(lambda x, y: autograd.dot([w, w], x) - y, ([1.0, 2.0], 0.0))


def test_wrong_number_of_inputs(compiled):
    with pytest.raises(TypeError, match=r"takes 2 batched inputs \(x, y\), got 1"):
        compiled(np.ones((3, 2)))


@pytest.mark.parametrize("x, y, message", [
    (np.ones((3, 3)), np.ones(3), r"input 'x' must have shape \(batch, 2\) .*got \(3, 3\)"),
    (np.ones(3), np.ones(3), r"input 'x' must have shape \(batch, 2\) .*got \(3,\)"),
    (np.ones((3, 2)), np.ones((3, 1)), r"input 'y' must have shape \(batch,\) .*got \(3, 1\)"),
    (np.ones((3, 2)), np.ones(4), "different batch sizes: 'x' has 3 rows, 'y' has 4"),
    (np.ones((0, 2)), np.ones(0), "the batch is empty"),
    ([[1.0, 2.0], [3.0]], [1.0, 2.0], "'x' is ragged"),
    (np.array([[1.0, 2.0], [np.nan, 0.0]]), np.ones(2), r"'x' contains NaN \(sample 1\)"),
])
def test_wrong_shapes_and_values_are_named(compiled, x, y, message):
    with pytest.raises(ValueError, match=message):
        compiled(x, y)


def test_wrong_types_are_named(compiled):
    with pytest.raises(TypeError, match="'x' must hold numbers"):
        compiled(np.array([["a", "b"]]), np.ones(1))
    with pytest.raises(TypeError, match="'y' must be an array of numbers"):
        compiled(np.ones((1, 2)), [None])


def test_bad_parameter_arrays_and_seeds_are_named(compiled):
    with pytest.raises(ValueError, match="params must be an array of 1 numbers"):
        compiled(np.ones((2, 2)), np.ones(2), params=[1.0, 2.0])
    with pytest.raises(ValueError, match="output_grad of shape"):
        compiled.value_and_grad(np.ones((2, 2)), np.ones(2), output_grad=np.ones(3))
    with pytest.raises(ValueError, match="params must be an array"):
        compiled.set_parameters([[1.0]])


def test_nan_parameters_and_seeds_raise_instead_of_giving_nan(compiled):
    batch = (np.ones((2, 2)), np.ones(2))
    with pytest.raises(autograd.NonFiniteError, match=r"parameter 0 \(unlabelled\) is NaN"):
        compiled(*batch, params=np.array([np.nan]))
    with pytest.raises(ValueError, match="parameter 0 .* is NaN"):
        compiled.value_and_grad(*batch, params=[float("nan")])
    compiled.params[0]._data = float("nan")  # as a careless in-place update could leave it
    with pytest.raises(ValueError, match="parameter 0 .* is NaN"):
        compiled(*batch)
    compiled.params[0]._data = 0.5
    for seed, word in [(float("nan"), "NaN"), (np.array([1.0, np.inf]), "inf")]:
        with pytest.raises(ValueError, match=f"output_grad must be finite, got {word}"):
            compiled.value_and_grad(*batch, output_grad=seed)


def test_a_nan_frozen_leaf_is_named():
    w, frozen = Parameter(1.0, "w"), Parameter(2.0, "f")
    f = autograd.compile(lambda x: w * x + frozen, (0.0,), params=[w])
    frozen._data = float("nan")
    with pytest.raises(ValueError, match=r"frozen leaf 0 \(f\) is NaN"):
        f(np.ones(2))


def test_set_parameters_checks_everything_before_changing_anything():
    w, b = Parameter(1.0), Parameter(2.0)
    f = autograd.compile(lambda x: w * x + b, (0.0,))
    for bad, error in [([5.0, float("nan")], ValueError), ([5.0], ValueError),
                       ([5.0, "a"], TypeError), ([[5.0], [6.0, 7.0]], ValueError)]:
        with pytest.raises(error):
            f.set_parameters(bad)
        assert (w.data, b.data) == (1.0, 2.0)
    f.set_parameters(np.array([5.0, 6.0]))
    assert (w.data, b.data) == (5.0, 6.0)


def test_buffers_are_kept_for_a_few_recent_batch_sizes_only():
    from autograd.compiler.run import BoundCache

    f = autograd.compile(lambda x: x * 2.0, (0.0,))
    for size in range(1, 20):
        assert f(np.ones(size)).tolist() == [2.0] * size
    assert f._bound.batch_sizes() == [16, 17, 18, 19]
    f(np.ones(17))  # used again: now the most recent
    assert f._bound.batch_sizes() == [16, 18, 19, 17]
    small = BoundCache(f.program, "float64", budget=10_000)  # about 300 rows of this program
    small.get(10), small.get(20), small.get(1000)
    assert small.batch_sizes() == [1000]  # the one in use stays, even over the budget


def test_lists_are_accepted_as_batches(compiled):
    assert compiled([[1.0, 2.0], [0.0, 0.0]], [1.0, 0.0]).tolist() == [0.5, 0.0]


# ---------------------------------------------------------------------------
# Domain errors raise, naming the op, the node and the sample
# ---------------------------------------------------------------------------
def test_log_of_a_negative_number_raises_naming_op_and_sample():
    compiled = autograd.compile(lambda x: x.log(), (1.0,))
    with pytest.raises(ValueError, match=r"forward of t0 \(sample 2\): log\(-2.0\): undefined"):
        compiled(np.array([1.0, 3.0, -2.0]))


def test_division_by_zero_and_sqrt_of_negative_raise():
    with pytest.raises(ValueError, match=r"div\(1.0, 0.0\)"):
        autograd.compile(lambda x: 1 / x, (1.0,))(np.array([2.0, 0.0]))
    with pytest.raises(ValueError, match=r"sqrt\(-1.0\)"):
        autograd.compile(lambda x: x.sqrt(), (1.0,))(np.array([-1.0]))
    with pytest.raises(ValueError, match=r"pow\(-8.0, 0.5\)"):
        autograd.compile(lambda x, y: x ** y, (1.0, 1.0))(np.array([-8.0]), np.array([0.5]))


def test_a_local_gradient_without_value_raises_in_backward():
    compiled = autograd.compile(lambda x: x.sqrt(), (1.0,))
    assert compiled(np.array([0.0])).tolist() == [0.0]
    with pytest.raises(ValueError, match=r"local gradient of t0 \(sample 0\): sqrt\(0.0\)"):
        compiled.value_and_grad(np.array([0.0]), wrt_inputs=True)


def test_overflow_raises_an_overflow_value_error():
    compiled = autograd.compile(lambda x: x.exp(), (1.0,))
    with pytest.raises(OverflowValueError, match=r"exp\(1000.0\)"):
        compiled(np.array([1.0, 1000.0]))
    in_float32 = autograd.compile(lambda x: x.exp(), (1.0,), dtype="float32")
    with pytest.raises(ValueError, match="exp"):
        in_float32(np.array([100.0], dtype=np.float32))  # fine in float64, too large in float32


def test_stable_forms_do_not_raise_at_extremes():
    compiled = autograd.compile(lambda x: [x.sigmoid(), x.softplus(), x.log_sigmoid(), x.tanh()], (0.0,))
    result = compiled.value_and_grad(np.array([-1e308, -1000.0, 1000.0, 1e308]))
    assert np.all(np.isfinite(result.outputs))


def test_errors_after_a_layer_that_reads_the_batch_in_place_name_the_sample():
    import nn

    layer = nn.Layer(3, 2, activation="identity", init=1.0)  # each output: x0 + x1 + x2 + 1
    compiled = autograd.compile(lambda x: [v.log() for v in layer(x)], ([0.0, 0.0, 0.0],))
    assert compiled.program.in_place == {0}  # the layer reads the caller's array: no copy
    batch = np.array([[1.0, 1.0, 1.0], [-3.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"\(sample 1\): log\(-1.0\)"):
        compiled(batch)


def test_huge_and_infinite_inputs_are_numbers_not_nan():
    compiled = autograd.compile(lambda x: autograd.minimum(x, 1.0), (0.0,))
    assert compiled(np.array([1e300, -np.inf, np.inf, 0.5])).tolist() == [1.0, -np.inf, 1.0, 0.5]
    in_float32 = autograd.compile(lambda x: x * 2, (0.0,), dtype="float32")
    with pytest.raises(ValueError, match="input 'x': a number too large for float32"):
        in_float32(np.array([1e300]))
