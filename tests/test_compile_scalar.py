"""One sample at a time: the scalar replay gives what the program gives, and what eager gives."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import autograd
import nn
from autograd import Parameter


def course_exercise_net(seed: int = 0):
    """The course's 2-3-2 sigmoid exercise net with a squared-error loss, compiled."""
    model = nn.MLP(2, [3, 2], activation="sigmoid", seed=seed)
    compiled = autograd.compile(lambda x, y: nn.losses.squared_error(model(x), y), ([0.0, 0.0], [0.0, 0.0]))
    return model, compiled


def on_the_program(compiled, *args, **kwargs):
    replay, compiled.scalar_replay = compiled.scalar_replay, None
    try:
        return compiled.value_and_grad(*args, **kwargs)
    finally:
        compiled.scalar_replay = replay


def test_small_nets_replay_one_sample_and_large_ones_or_float32_do_not():
    assert course_exercise_net()[1].scalar_replay is not None
    wide = nn.MLP(64, [64, 32, 10], seed=0)
    assert autograd.compile(lambda x: wide(x), ([0.0] * 64,)).scalar_replay is None
    w = Parameter(2.0)
    assert autograd.compile(lambda x: w * x, (0.0,), dtype="float32").scalar_replay is None


@pytest.mark.parametrize("seed", range(10))
def test_one_sample_on_the_replay_equals_the_program_and_eager_backward(seed):
    model, compiled = course_exercise_net(seed)
    rng = np.random.default_rng(zlib.crc32(f"replay-{seed}".encode()))
    x, y = rng.normal(size=(1, 2)) * 2.0, rng.uniform(size=(1, 2))
    replayed = compiled.value_and_grad(x, y, output_grad=0.5, wrt_inputs=True)
    program = on_the_program(compiled, x, y, output_grad=0.5, wrt_inputs=True)
    np.testing.assert_allclose(replayed.outputs, program.outputs, rtol=1e-13)
    np.testing.assert_allclose(replayed.param_grads, program.param_grads, rtol=1e-12, atol=1e-15)
    for a, b in zip(replayed.input_grads, program.input_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert [a.shape for a in replayed.input_grads] == [(1, 2), (1, 2)]
    loss = nn.losses.squared_error(model(x[0].tolist()), y[0].tolist()) * 0.5
    model.zero_grad()
    loss.backward()
    assert replayed.outputs[0] == nn.losses.squared_error(model(x[0].tolist()), y[0].tolist()).data
    assert replayed.param_grads.tolist() == [p.grad for p in model.parameters()]  # eager's floats


def test_the_replay_handles_frozen_leaves_detach_constants_and_leaf_outputs():
    w, frozen = Parameter(1.5, "w"), Parameter(-2.0, "f")

    def f(x):
        y = (w * x).tanh()
        return [y * y.detach() + frozen, x, w, 3.0]

    compiled = autograd.compile(f, (0.0,), params=[w])
    assert compiled.scalar_replay is not None
    x = np.array([0.7])
    replayed = compiled.value_and_grad(x, output_grad=np.array([1.0, 2.0, 3.0, 4.0]), wrt_inputs=True)
    program = on_the_program(compiled, x, output_grad=np.array([1.0, 2.0, 3.0, 4.0]), wrt_inputs=True)
    np.testing.assert_allclose(replayed.outputs, program.outputs, rtol=1e-14)
    np.testing.assert_allclose(replayed.param_grads, program.param_grads, rtol=1e-14)
    np.testing.assert_allclose(replayed.input_grads[0], program.input_grads[0], rtol=1e-14)
    np.testing.assert_allclose(compiled(x), program.outputs, rtol=1e-14)


def test_one_sample_errors_and_infinities_are_the_programs():
    compiled = autograd.compile(lambda x: (x.log() * 2.0).exp(), (1.0,))
    assert compiled.scalar_replay is not None
    with pytest.raises(ValueError, match=r"compiled tape, forward of t0 \(sample 0\): log\(-1.0\)"):
        compiled(np.array([-1.0]))
    with pytest.raises(autograd.OverflowValueError):
        compiled(np.array([1e200]))
    assert compiled(np.array([np.inf])).tolist() == [np.inf]
    w = Parameter(1.0)
    g = autograd.compile(lambda x: w * x, (0.0,))
    with pytest.raises(autograd.NonFiniteError, match="parameter 0"):
        g.value_and_grad(np.array([1.0]), params=np.array([np.nan]))
    with pytest.raises(autograd.NonFiniteError, match="output_grad"):
        g.value_and_grad(np.array([1.0]), output_grad=np.nan)


def test_a_training_loop_keeps_the_parameters_in_one_array():
    model, compiled = course_exercise_net(3)
    theta = compiled.parameter_array()
    before = [p.data for p in model.parameters()]
    x, y = np.array([[0.5, -0.2]]), np.array([[1.0, 0.0]])
    loss_before = compiled(x, y)[0]
    for _ in range(50):
        theta -= 0.5 * compiled.value_and_grad(x, y, params=theta).param_grads
    assert [p.data for p in model.parameters()] == before  # the Values are untouched until written back
    compiled.set_parameters(theta)
    assert compiled.parameter_array(out=np.empty_like(theta)).tolist() == theta.tolist()
    assert compiled(x, y)[0] < loss_before / 4  # trained, and the Values hold the result
    with pytest.raises(ValueError, match="out must be an array of shape"):
        compiled.parameter_array(out=np.empty(3))
