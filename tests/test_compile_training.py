"""Training on the compiled tape gives what eager training gives, to 1e-9 on every parameter."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_moons

import autograd
import nn
from nn.compiled import CompiledLossAndGrad, compile_model

PARAMETER_TOLERANCE = 1e-9


def moons(count=30, seed=1):
    X, y = make_moons(n_samples=count, noise=0.1, random_state=seed)
    return X, y * 2.0 - 1.0


def parameters_of(model):
    return np.array([p.data for p in model.parameters()])


def assert_same_parameters(a, b):
    np.testing.assert_allclose(parameters_of(a), parameters_of(b), rtol=0, atol=PARAMETER_TOLERANCE)


def micrograd_demo_model(seed=0):
    return nn.MLP(2, [8, 8, 1], activation="relu", output_activation="identity", seed=seed)


def hinge_with_l2(model):
    """micrograd's demo loss for one sample: max-margin plus 1e-4 L2 over every parameter."""
    params = model.parameters()
    return lambda x, label: (1 - label * model(x)[0]).relu() + 1e-4 * autograd.dot(params, params)


def test_micrograd_demo_trained_on_the_tape_equals_eager_training():
    X, y = moons()
    steps = 25
    per_sample = hinge_with_l2

    eager = micrograd_demo_model()
    loss = per_sample(eager)
    for k in range(steps):  # the normal way: one graph for the batch's mean loss
        total = autograd.sum(loss(list(row), label) for row, label in zip(X.tolist(), y.tolist()))
        total = total * (1.0 / len(X))
        grads = autograd.grad(total, eager.parameters())
        for p, g in zip(eager.parameters(), grads):
            p.data -= (1.0 - 0.9 * k / steps) * g

    taped = micrograd_demo_model()
    step = autograd.compile(per_sample(taped), (X[0], y[0]), taped.parameters())
    theta = step.parameter_array()
    for k in range(steps):
        result = step.value_and_grad(X, y, params=theta, output_grad=1.0 / len(X))
        theta -= (1.0 - 0.9 * k / steps) * result.param_grads
    step.set_parameters(theta)
    assert_same_parameters(taped, eager)
    assert float(np.max(np.abs(parameters_of(taped) - parameters_of(micrograd_demo_model())))) > 0.01


def fit_both(make_model, X, Y, make_optimizer=None, **options):
    eager_model, taped_model = make_model(), make_model()
    optimizers = [make_optimizer(m) if make_optimizer else None for m in (eager_model, taped_model)]
    eager = nn.fit(eager_model, X, Y, progress=False, compiled=False, optimizer=optimizers[0], **options)
    taped = nn.fit(taped_model, X, Y, progress=False, compiled=True, optimizer=optimizers[1], **options)
    assert (eager.engine, taped.engine) == ("eager", "compiled")
    assert taped.updates == eager.updates and taped.epochs == eager.epochs
    np.testing.assert_allclose(taped.loss, eager.loss, rtol=1e-12, atol=1e-12)
    assert taped.accuracy == eager.accuracy
    assert_same_parameters(taped_model, eager_model)
    np.testing.assert_allclose([p.grad for p in taped_model.parameters()],  # the last batch's gradients
                               [p.grad for p in eager_model.parameters()], rtol=0, atol=PARAMETER_TOLERANCE)
    if make_optimizer:
        for name in optimizers[0].state_names:  # the optimizer's state, written back as lists
            assert isinstance(getattr(optimizers[1], name), list)
            np.testing.assert_allclose(getattr(optimizers[1], name), getattr(optimizers[0], name),
                                       rtol=0, atol=PARAMETER_TOLERANCE)
        assert optimizers[1].steps == optimizers[0].steps == eager.updates
    return eager, taped


def test_fit_compiled_full_batch_hinge_with_l2():
    X, y = moons()
    eager, _ = fit_both(micrograd_demo_model, X, y, loss="hinge", epochs=15, batch_size=None, lr=0.5, l2=1e-3)
    assert eager.accuracy[-1] > 0.7


def test_fit_compiled_cross_entropy_class_indices_in_shuffled_minibatches():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (24, 3))
    labels = (X[:, 0] > X[:, 1]).astype(int) + (X[:, 2] > 0.5).astype(int)
    fit_both(lambda: nn.MLP(3, [6, 3], activation="tanh", output_activation="identity", seed=3),
             X, labels.tolist(), loss="cross_entropy", epochs=4, batch_size=5, seed=7, lr=0.3)


class _IndexNLL(nn.Loss):
    """A user's classifier loss with its own target check and rule: class indices, as eager fit gets them."""

    def check_target(self, target, nout):
        return int(target)

    def is_correct(self, outputs, target):
        assert isinstance(target, int), target  # the target as check_target made it, never a one-hot row
        return max(range(len(outputs)), key=outputs.__getitem__) == target


def _index_nll(outputs, target):
    """Negative log-likelihood of a class index, or of a one-hot row (how the tape reads class indices)."""
    if isinstance(target, int):
        return autograd.logsumexp(outputs) - outputs[target]
    return autograd.logsumexp(outputs) - autograd.sum(t * o for t, o in zip(target, outputs))


@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_fit_compiled_counts_accuracy_with_a_custom_loss_own_rule_on_class_indices(batch_size):
    X = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.3, 0.9]]
    labels = [0, 1, 2, 1, 0, 2]
    nll = _IndexNLL("nll", _index_nll, classifier=True)
    eager, _ = fit_both(lambda: nn.MLP(2, [4, 3], seed=0), X, labels, loss=nll,
                        epochs=30, lr=0.3, seed=1, batch_size=batch_size)
    assert len(set(eager.accuracy)) > 1  # the accuracy moves: a constant would hide a wrong count


def test_fit_compiled_online_mode_bce_and_momentum():
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    Y = [[0, 0], [1, 0], [1, 0], [0, 1]]  # XOR and AND, the course's exercise 1 part 3
    fit_both(lambda: nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=1), X, Y,
             loss="bce", epochs=20, batch_size=1, seed=2,
             make_optimizer=lambda m: nn.SGD(m, lr=0.25, momentum=0.9))
    fit_both(lambda: nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=1), X, Y,
             loss="bce", epochs=5, batch_size=2, seed=2, make_optimizer=lambda m: nn.Adam(m, lr=0.05))


def test_fit_compiled_regression_with_summed_losses():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (12, 2))
    Y = np.stack([np.sin(X[:, 0]), X[:, 0] * X[:, 1]], axis=1)
    fit_both(lambda: nn.MLP(2, [5, 2], activation="elu", output_activation="identity", seed=5),
             X, Y, loss="squared_error", epochs=6, batch_size=4, reduction="sum", lr=0.05, seed=1)
    fit_both(lambda: nn.MLP(2, [5, 2], activation="softplus", output_activation="identity", seed=5),
             X, Y, loss="mse", epochs=6, batch_size=None, lr=0.05, l2=0.01)


def test_the_course_exercise_trained_compiled_gives_the_eager_answer():
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    history = nn.fit(model, [[0, 1]], [[0, 1]], loss="bce", lr=0.25, epochs=100, progress=False,
                     compiled=True)
    assert [round(y.data, 2) for y in model([0, 1])] == [0.01, 0.99] and history.updates == 100


def test_compiled_step_has_the_eager_step_contract():
    model = nn.Neuron(1, activation="identity", init=1.0)
    result = CompiledLossAndGrad(model, "squared_error")([[2.0]], [[0.0]])
    assert (result.loss, [p.grad for p in model.parameters()]) == (4.5, [6.0, 3.0])
    assert result.outputs == [[3.0]]
    with pytest.raises(ValueError, match="reduction"):
        CompiledLossAndGrad(model, "mse", reduction="median")


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_step_sums_the_losses_as_the_eager_step_bit_for_bit(seed):
    # 17 per-sample losses: the same floats must give the same total, not one within 1e-9
    rng = np.random.default_rng(seed)
    model = nn.MLP(3, [4, 2], activation="tanh", output_activation="tanh", init=1.0, seed=seed)
    xs, ys = rng.normal(size=(17, 3)) * 3.0, rng.normal(size=(17, 2)) * 3.0
    step = CompiledLossAndGrad(model, "squared_error", reduction="sum")
    result = step(xs.tolist(), ys.tolist())
    losses = step.compiled.value_and_grad(xs, ys).outputs[:, 0].tolist()
    eager_total = autograd.sum([autograd.Value(loss) for loss in losses]).data
    assert result.loss == eager_total


def test_random_activations_are_refused_while_training():
    model = nn.MLP(2, [3, 1], activation="rrelu", output_activation="rrelu", seed=0)
    with pytest.raises(ValueError, match="RReLU in training mode"):
        nn.fit(model, [[0.0, 1.0]], [[1.0]], epochs=1, progress=False, compiled=True)
    outputs = compile_model(model)(np.array([[0.5, -1.0]]))  # eval mode: the mean slope
    model.eval()
    np.testing.assert_allclose(outputs[0], [v.data for v in model([0.5, -1.0])], rtol=1e-14)
    assert model.training is False


def test_tracing_a_random_activation_in_training_mode_is_refused():
    # one frozen random slope would be replayed for every sample and step: refuse, naming it
    model = nn.MLP(2, [3, 1], activation="rrelu", seed=0)
    with pytest.raises(autograd.TracingError, match="RReLU in training mode draws a new random slope"):
        autograd.compile(lambda x: model(x), ([0.0, 0.0],))
    model.eval()
    compiled = autograd.compile(lambda x: model(x), ([0.0, 0.0],))
    np.testing.assert_allclose(compiled(np.array([[0.5, -1.0]]))[0], [v.data for v in model([0.5, -1.0])],
                               rtol=1e-14)


def test_compiled_model_matches_eager_predictions_and_follows_training():
    model = nn.MLP(4, [7, 3], activation="tanh", output_activation="identity", seed=2)
    forward = compile_model(model)
    X = np.random.default_rng(1).uniform(-1, 1, (9, 4))
    np.testing.assert_allclose(forward(X), nn.predict(model, X.tolist()), rtol=0, atol=1e-12)
    nn.fit(model, X, np.zeros((9, 3)), epochs=2, progress=False, batch_size=None)
    np.testing.assert_allclose(forward(X), nn.predict(model, X.tolist()), rtol=0, atol=1e-12)
    assert forward(X).shape == (9, 3)


def test_float32_training_stays_close_to_float64():
    X, y = moons(40)
    results = {}
    for dtype in ("float32", "float64"):
        model = micrograd_demo_model()
        step = autograd.compile(hinge_with_l2(model), (X[0], y[0]), model.parameters(), dtype=dtype)
        theta = step.parameter_array()
        losses = []
        for _ in range(20):
            result = step.value_and_grad(X.astype(dtype), y.astype(dtype), params=theta,
                                         output_grad=1.0 / len(X))
            assert result.param_grads.dtype == np.dtype(dtype)
            theta -= 0.5 * result.param_grads
            losses.append(float(result.outputs.mean()))
        results[dtype] = (theta.astype(float), losses)
    assert results["float64"][1][-1] < results["float64"][1][0]
    np.testing.assert_allclose(results["float32"][0], results["float64"][0], rtol=0, atol=1e-4)
