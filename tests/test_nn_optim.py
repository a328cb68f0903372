"""Optimizers: the course's momentum rule and L2 updates by hand, Adam, schedules, errors."""

import math
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Parameter, Value


def params(*values):
    return [Parameter(v) for v in values]


def test_plain_sgd_steps_against_the_gradient():
    w, b = params(1.0, -2.0)
    w.grad, b.grad = 0.5, -1.0
    opt = nn.SGD([w, b], lr=0.2)
    opt.step()
    assert (w.data, b.data, opt.steps) == (0.9, -1.8, 1)


def test_momentum_follows_delta_t_plus_1_equals_minus_lr_grad_plus_alpha_delta_t():
    lr, alpha = 0.1, 0.9
    (w,) = params(1.0)
    opt = nn.SGD([w], lr=lr, momentum=alpha)
    grads = [2.0, -1.0, 0.5, 0.5]
    delta, expected = 0.0, 1.0
    for g in grads:
        w.grad = g
        opt.step()
        delta = -lr * g + alpha * delta
        expected += delta
        assert w.data == pytest.approx(expected, rel=1e-15)
    # By hand: deltas -0.2, 0.1 - 0.18 = -0.08, -0.05 - 0.072 = -0.122, -0.05 - 0.1098 = -0.1598
    assert w.data == pytest.approx(1.0 - 0.2 - 0.08 - 0.122 - 0.1598)


@pytest.mark.parametrize("given", ["model", "parameters"])
def test_weight_decay_decays_every_parameter_given_as_pytorch_does(given):
    model = nn.Neuron(2, activation="identity", init=1.0)
    for p in model.parameters():
        p.grad = 0.5
    nn.SGD(model if given == "model" else model.parameters(), lr=0.1, weight_decay=0.2).step()
    # weights and bias alike: 1 - 0.1 * (0.5 + 0.2 * 1) = 0.93
    assert [p.data for p in model.parameters()] == pytest.approx([0.93, 0.93, 0.93])


def test_the_courses_weights_only_decay_is_fits_l2_or_an_optimizer_over_the_weights():
    model = nn.Neuron(2, activation="identity", init=1.0)
    for p in model.parameters():
        p.grad = 0.5
    nn.SGD(model.weights(), lr=0.1, weight_decay=0.2).step()
    assert [w.data for w in model.w] == pytest.approx([0.93, 0.93])
    assert model.b.data == 1.0  # not given, not updated


def test_optimizers_accept_plain_values():
    x, y = Value(3.0, "x"), Value(-1.0, "y")
    opt = nn.Adam([x, y], lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        loss = (x - 1.0) ** 2 + (y - 2.0) ** 2
        loss.backward()
        opt.step()
    assert (x.data, y.data) == (pytest.approx(1.0, abs=1e-3), pytest.approx(2.0, abs=1e-3))


def test_everything_after_lr_is_keyword_only():
    w = Parameter(1.0)
    with pytest.raises(TypeError, match="positional"):
        nn.SGD([w], 0.1, 0.9)  # PyTorch's 3rd positional argument is momentum, its 4th dampening
    with pytest.raises(TypeError, match="positional"):
        nn.Adam([w], 0.1, (0.9, 0.99))


@pytest.mark.parametrize("name, build", [
    ("SGD", lambda p: nn.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("Adam", lambda p: nn.Adam(p, lr=0.05, weight_decay=0.01)),
])
def test_step_arrays_makes_the_same_updates_as_step(name, build):
    np = pytest.importorskip("numpy")
    from autograd.compiler import NUMPY_MATH

    rng = random.Random(zlib.crc32(name.encode()))
    values = [rng.uniform(-1, 1) for _ in range(7)]
    eager = build(params(*values))
    arrays = build(params(*values))
    theta, state = np.array(values), [np.zeros(7) for _ in arrays.state_names]
    for _ in range(5):
        grads = [rng.uniform(-1, 1) for _ in values]
        for p, g in zip(eager.parameters, grads):
            p.grad = g
        eager.step()
        theta, state = arrays.step_arrays(NUMPY_MATH, theta, np.array(grads), state)
        arrays.steps += 1
    assert theta.tolist() == [p.data for p in eager.parameters]  # bit for bit


def test_weight_decay_on_a_list_decays_everything():
    w, b = params(1.0, 1.0)
    w.grad = b.grad = 0.0
    nn.SGD([w, b], lr=0.5, weight_decay=0.1).step()
    assert (w.data, b.data) == (0.95, 0.95)


def test_l2_in_fit_is_the_courses_lambda_over_2m_penalty():
    # One full-batch step on m = 2 samples with lambda = 0.4: the weight's gradient
    # gains lambda / m * w (from lambda / (2m) sum w^2), the bias gains nothing.
    X, Y = [[1.0], [2.0]], [[0.0], [0.0]]
    lam, m, lr = 0.4, 2, 0.1
    model = nn.Neuron(1, activation="identity", init=1.0)  # y = x + 1
    nn.fit(model, X, Y, loss="squared_error", epochs=1, batch_size=None, lr=lr, l2=lam / (2 * m),
           progress=False)
    # data gradient (mean over samples of (y - t) * x and of (y - t)): dw = (2*1 + 3*2) / 2 = 4, db = 2.5
    assert model.w[0].data == pytest.approx(1.0 - lr * (4.0 + lam / m * 1.0))
    assert model.b.data == pytest.approx(1.0 - lr * 2.5)


def test_micrograd_schedule_and_callable_learning_rates():
    schedule = nn.LinearDecay(1.0, 0.1, 100)
    assert [schedule(k) for k in (0, 1, 99)] == pytest.approx([1.0 - 0.9 * k / 100 for k in (0, 1, 99)])
    (w,) = params(0.0)
    opt = nn.SGD([w], lr=lambda step: 1.0 / (step + 1))
    for _ in range(3):
        w.grad = 1.0
        opt.step()
    assert w.data == pytest.approx(-(1 + 1 / 2 + 1 / 3))
    assert nn.ExponentialDecay(0.8, 0.5)(2) == pytest.approx(0.2)


def test_adam_matches_its_formula_by_hand():
    (w,) = params(0.5)
    opt = nn.Adam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    m = v = 0.0
    expected = 0.5
    for t, g in enumerate([1.0, -2.0, 0.5], start=1):
        w.grad = g
        opt.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 0.1 * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        assert w.data == pytest.approx(expected, rel=1e-12)


def test_adam_trains_a_small_regression():
    model = nn.MLP(1, [8, 1], activation="tanh", output_activation="identity", seed=0)
    X = [[x / 10] for x in range(-10, 11)]
    Y = [[x[0] ** 2] for x in X]
    history = nn.fit(model, X, Y, loss="mse", optimizer=nn.Adam(model, lr=0.05), epochs=150,
                     batch_size=None, progress=False)
    assert history.loss[-1] < 0.1 * history.loss[0]


def test_a_diverging_step_raises_and_changes_nothing():
    w, b = params(1.0, 2.0)
    w.grad, b.grad = 1.0, float("inf")
    opt = nn.SGD([w, b], lr=0.1)
    with pytest.raises(FloatingPointError, match=r"parameter 1 \(unlabelled\) -inf: training diverged"):
        opt.step()
    assert (w.data, b.data, opt.steps) == (1.0, 2.0, 0)


def test_zero_grad():
    w, b = params(1.0, 2.0)
    w.grad = b.grad = 3.0
    nn.SGD([w, b]).zero_grad()
    assert (w.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize("build, error, match", [
    (lambda p: nn.SGD(p, lr=0.0), ValueError, "lr must be a positive finite number"),
    (lambda p: nn.SGD(p, lr=float("nan")), ValueError, "lr must be"),
    (lambda p: nn.SGD(p, momentum=1.0), ValueError, "momentum must be below 1"),
    (lambda p: nn.SGD(p, momentum=-0.1), ValueError, "momentum must be a finite number >= 0"),
    (lambda p: nn.SGD(p, weight_decay=-1), ValueError, "weight_decay"),
    (lambda p: nn.Adam(p, betas=(1.0, 0.9)), ValueError, r"betas\[0\]"),
    (lambda p: nn.SGD([]), ValueError, "no parameters"),
    (lambda p: nn.SGD(p[0]), TypeError, "not one Value"),
    (lambda p: nn.SGD([1.0]), TypeError, "item 0 is float"),
    (lambda p: nn.SGD(5), TypeError, "params must be a model or an iterable of Values, got int"),
    (lambda p: nn.SGD([p[0] * 2]), ValueError, "item 0 was computed by mul: .* leaf Values"),
    (lambda p: nn.SGD([p[0], p[0]]), ValueError, "item 1 appears twice"),
    (lambda p: nn.SGD(nn.Sequential()), ValueError, "no parameters"),
])
def test_bad_optimizer_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build(params(1.0))


def test_a_schedule_that_returns_a_bad_rate_is_named():
    (w,) = params(1.0)
    w.grad = 1.0
    opt = nn.SGD([w], lr=lambda step: 0.1 - 0.1 * step)
    opt.step()
    with pytest.raises(ValueError, match="learning rate at step 1 must be a positive"):
        opt.step()


_FINITE = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, **_FINITE), min_size=1, max_size=6),
       grad_scale=st.floats(0.0, 1e6, **_FINITE), lr=st.floats(1e-6, 10.0, **_FINITE),
       momentum=st.sampled_from([0.0, 0.5, 0.9]), decay=st.sampled_from([0.0, 0.01, 1.0]),
       steps=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_sgd_change_bound_bounds_every_value_and_delta_over_several_updates(values, grad_scale, lr, momentum,
                                                                           decay, steps, seed):
    import numpy as np

    from autograd.compiler import NUMPY_MATH

    rng = np.random.default_rng(seed)
    opt = nn.SGD(params(*values), lr=lr, momentum=momentum, weight_decay=decay)
    array = np.array(values)
    state = [np.zeros_like(array)] if momentum else []
    bounds = (float(np.abs(array).max()), [0.0] * len(state))
    for _ in range(steps):
        grads = rng.uniform(-grad_scale, grad_scale, array.size)
        bounds = opt.change_bound(lr, float(np.abs(grads).max()), *bounds)
        array, state = opt.step_arrays(NUMPY_MATH, array, grads, state)
        assert np.abs(array).max() <= bounds[0] * (1 + 1e-12)
        for entries, bound in zip(state, bounds[1]):
            assert np.abs(entries).max() <= bound * (1 + 1e-12)


def test_adam_declares_no_change_bound():
    assert nn.Adam(params(1.0)).change_bound(0.1, 1.0, 1.0, [0.0, 0.0]) is None
