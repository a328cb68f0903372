"""fit: training modes and update counts, batch gradients, history, data checks, gradcheck."""

import math

import numpy as np
import pytest

import autograd
import nn
from autograd import Value

X4 = [[0, 0], [0, 1], [1, 0], [1, 1]]
AND = [0, 0, 0, 1]


def line_data(m=10):
    X = [[i / m] for i in range(m)]
    return X, [[2 * x[0] - 1] for x in X]


# -- modes and update counts -----------------------------------------------------------
@pytest.mark.parametrize("batch_size, updates_per_epoch",
                         [(1, 10), (3, 4), (5, 2), (10, 1), (None, 1), (64, 1)])
def test_online_minibatch_and_full_batch_update_counts(batch_size, updates_per_epoch):
    X, Y = line_data(10)
    model = nn.Neuron(1, activation="identity", seed=0)
    optimizer = nn.SGD(model, lr=0.1)
    history = nn.fit(model, X, Y, loss="mse", optimizer=optimizer, epochs=3, batch_size=batch_size,
                     seed=0, progress=False)
    assert history.updates == optimizer.steps == 3 * updates_per_epoch
    assert history.epochs == 3 and len(history.loss) == 3


def test_a_batch_update_uses_the_mean_gradient_of_its_samples():
    X, Y = [[1.0], [3.0]], [[0.0], [1.0]]
    model = nn.Neuron(1, activation="identity", init=0.5)  # y = 0.5 x + 0.5
    errors = [0.5 * x[0] + 0.5 - y[0] for x, y in zip(X, Y)]  # squared_error: dE/dy = y - t
    grad_w = sum(e * x[0] for e, x in zip(errors, X)) / 2
    grad_b = sum(errors) / 2
    nn.fit(model, X, Y, loss="squared_error", epochs=1, batch_size=None, lr=0.1, progress=False)
    assert model.w[0].data == pytest.approx(0.5 - 0.1 * grad_w)
    assert model.b.data == pytest.approx(0.5 - 0.1 * grad_b)


def test_sum_reduction_sums_the_deltas_of_a_batch():
    X, Y = [[1.0], [3.0]], [[0.0], [1.0]]
    mean_model = nn.Neuron(1, activation="identity", init=0.5)
    sum_model = nn.Neuron(1, activation="identity", init=0.5)
    nn.fit(mean_model, X, Y, loss="squared_error", epochs=1, batch_size=None, lr=0.1, progress=False)
    nn.fit(sum_model, X, Y, loss="squared_error", epochs=1, batch_size=None, lr=0.05, reduction="sum",
           progress=False)
    assert sum_model.state_dict() == pytest.approx(mean_model.state_dict())


def test_online_mode_updates_after_every_sample_in_order_without_shuffle():
    X, Y = [[1.0], [2.0]], [[0.0], [0.0]]
    model = nn.Neuron(1, activation="identity", init=1.0)
    nn.fit(model, X, Y, loss="squared_error", epochs=1, batch_size=1, lr=0.1, shuffle=False, progress=False)
    w, b = 1.0, 1.0
    for (x,), (t,) in zip(X, Y):
        e = w * x + b - t
        w, b = w - 0.1 * e * x, b - 0.1 * e
    assert (model.w[0].data, model.b.data) == pytest.approx((w, b))


def test_seeded_shuffling_is_reproducible():
    X, Y = line_data(12)
    runs = []
    for seed in (1, 1, 2):
        model = nn.MLP(1, [4, 1], activation="tanh", output_activation="identity", seed=0)
        nn.fit(model, X, Y, loss="mse", epochs=3, batch_size=2, seed=seed, progress=False)
        runs.append(model.state_dict())
    assert runs[0] == runs[1] != runs[2]


# -- history, early stop, callbacks, progress ------------------------------------------
def test_history_has_accuracy_for_classifiers_and_none_for_regression():
    model = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
    history = nn.fit(model, X4, AND, loss="bce", epochs=300, lr=1.0, seed=0, progress=False)
    assert len(history.accuracy) == 300 and history.accuracy[-1] == 1.0
    assert history.loss[-1] < history.loss[0]
    X, Y = line_data()
    regression = nn.fit(nn.Neuron(1, activation="identity", seed=0), X, Y, epochs=2, progress=False)
    assert regression.accuracy is None
    assert "History(epochs=300, updates=1200" in repr(history)


def test_tol_stops_early():
    X, Y = line_data()
    model = nn.Neuron(1, activation="identity", seed=0)
    history = nn.fit(model, X, Y, loss="mse", epochs=10_000, lr=0.5, tol=1e-6, seed=0, progress=False)
    assert history.stopped_early and history.epochs < 10_000 and history.loss[-1] <= 1e-6
    assert model.w[0].data == pytest.approx(2.0, abs=1e-2)


def test_callback_sees_each_epoch_and_can_stop():
    seen = []
    X, Y = line_data()
    history = nn.fit(nn.Neuron(1, seed=0), X, Y, epochs=50, progress=False,
                     callback=lambda epoch, h: seen.append((epoch, h.epochs)) or epoch == 4)
    assert seen == [(e, e + 1) for e in range(5)] and history.epochs == 5 and history.stopped_early


def test_progress_bar_can_be_switched_off(capsys):
    X, Y = line_data()
    nn.fit(nn.Neuron(1, seed=0), X, Y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""
    nn.fit(nn.Neuron(1, seed=0), X, Y, epochs=3, progress=True)
    assert "epoch" in capsys.readouterr().err


def test_zero_epochs_changes_nothing():
    model = nn.Neuron(2, seed=0)
    before = model.state_dict()
    history = nn.fit(model, X4, AND, loss="bce", epochs=0, progress=False)
    assert history.epochs == 0 and model.state_dict() == before


# -- data checks -------------------------------------------------------------------------
@pytest.mark.parametrize("X, Y, loss, message", [
    ([[0, 0], [0, 1, 1], [1, 0]], [0, 1, 1], "bce", "X row 1 has 3 values but the model takes 2 inputs"),
    ([[0, 0], [0]], [0, 1], "bce", "X row 1 has 1 value but the model takes 2 inputs"),
    ([[0, 0], [0, float("nan")]], [0, 1], "bce", "X row 1, column 1 is nan: inputs must be finite"),
    ([[0, 0], [float("-inf"), 1]], [0, 1], "bce", "X row 1, column 0 is -inf"),
    ([[0, 0], [0, "1"]], [0, 1], "bce", "X row 1, column 1 is str '1', not a number"),
    ([[0, 0], 5], [0, 1], "bce", "X row 1 is int 5, not a sequence"),
    ([], [], "bce", "X is empty"),
    ([[0, 0], [1, 1]], [0], "bce", "X has 2 rows but Y has 1"),
    ([[0, 0], [1, 1]], [0, 2], "bce", "Y row 1 does not fit the bce loss: .*between 0 and 1"),
    ([[0, 0], [1, 1]], [0, float("nan")], "bce", "Y row 1 .* must be finite"),
    ([[0, 0], [1, 1]], [[0, 1], [1, 1]], "bce", "Y row 0 .* 2 values but the model has 1 output"),
    ([[0, 0], [1, 1]], [1, 0], "hinge", "Y row 1 does not fit the hinge loss: .*-1 or \\+1"),
    ([[0, 0], [1, 1]], [1, None], "mse", "Y row 1 .* needs numbers"),
])
def test_bad_data_is_rejected_before_the_first_step_naming_the_row(X, Y, loss, message):
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        nn.fit(model, X, Y, loss=loss, epochs=1, progress=False)
    assert model.state_dict() == before


def test_ragged_rows_on_a_model_without_a_fixed_width():
    class Free(nn.Module):
        def __init__(self):
            self.k = autograd.Parameter(1.0)

        def forward(self, x):
            return self.k * autograd.sum(x)

    with pytest.raises(ValueError, match=r"X row 2 has 1 values but row 0 has 2 \(ragged rows\)"):
        nn.fit(Free(), [[1, 2], [3, 4], [5]], [1, 2, 3], epochs=1, progress=False)


def test_cross_entropy_labels_are_checked_against_the_classes():
    model = nn.MLP(2, [3], activation="identity", seed=0)
    message = "Y row 1 does not fit the cross_entropy loss: .*class index in 0..2, got 3"
    with pytest.raises(ValueError, match=message):
        nn.fit(model, [[0, 0], [1, 1]], [0, 3], loss="cross_entropy", progress=False)
    with pytest.raises(ValueError, match="Y row 0 .* integer class index"):
        nn.fit(model, [[0, 0], [1, 1]], [0.5, 1], loss="cross_entropy", progress=False)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": -1}, ValueError, "epochs must be an int >= 0"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int or None"),
    ({"tol": -1.0}, ValueError, "tol must be a number >= 0"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must be an nn.Optimizer"),
    ({"reduction": "max"}, ValueError, "reduction must be 'mean' or 'sum'"),
    ({"l2": -1}, ValueError, "l2 must be a finite number >= 0 .*, got -1"),
    ({"l2": float("nan")}, ValueError, "l2 must be a finite number >= 0 .*, got nan"),
    ({"l2": float("inf")}, ValueError, "l2 must be .*, got inf"),
    ({"l2": "abc"}, ValueError, "l2 must be .*, got 'abc'"),
    ({"l2": True}, ValueError, "l2 must be .*, got True"),
    ({"tol": float("nan")}, ValueError, "tol must be a number >= 0"),
    ({"callback": 3}, TypeError, "callback must be a function of \\(epoch, history\\), got int"),
    ({"seed": "x"}, TypeError, "seed must be an int"),
    ({"compiled": "always"}, ValueError, "compiled must be True, False or 'auto'"),
    ({"lr": float("nan")}, ValueError, "lr must be a positive finite number, got nan"),
    ({"optimizer_lr": lambda step: float("nan")}, ValueError,
     "the learning rate at step 0 must be a positive finite number, got nan"),
])
@pytest.mark.parametrize("compiled", [True, False])
def test_bad_fit_arguments_are_refused_before_any_forward_pass(kwargs, error, message, compiled, monkeypatch):
    """Each bad argument is named, and no forward pass (no model call) happens first."""
    model = nn.MLP(2, [1], seed=0)
    calls = []
    monkeypatch.setattr(type(model), "__call__", lambda self, x: calls.append(x))
    kwargs = dict(kwargs)
    if "optimizer_lr" in kwargs:
        kwargs["optimizer"] = nn.SGD(model, lr=kwargs.pop("optimizer_lr"))
    options = {"compiled": compiled, **kwargs}
    with pytest.raises(error, match=message):
        nn.fit(model, X4, AND, loss="bce", progress=False, **options)
    assert calls == []


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": -1}, ValueError, "epochs must be an int >= 0"),
    ({"l2": -1}, ValueError, "l2 must be a finite number >= 0"),
])
def test_bad_fit_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.fit(nn.MLP(2, [1], seed=0), X4, AND, loss="bce", progress=False, **kwargs)


def test_numpy_arrays_are_accepted():
    X = np.array(X4, dtype=float)
    Y = np.array(AND)
    model = nn.MLP(2, [1], output_activation="sigmoid", seed=0)
    history = nn.fit(model, X, Y, loss="bce", epochs=200, lr=1.0, seed=0, progress=False)
    assert history.accuracy[-1] == 1.0
    classes = np.array([0, 1, 1, 0], dtype=np.int64)
    nn.fit(nn.MLP(2, [4, 2], seed=0), X, classes, loss="cross_entropy", epochs=1, progress=False)


# -- a multi-class problem end to end -------------------------------------------------
def test_cross_entropy_training_separates_three_clusters():
    centres = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)]
    X, Y = [], []
    for label, (cx, cy) in enumerate(centres):
        for dx, dy in [(0.3, 0.1), (-0.2, 0.3), (0.1, -0.3), (-0.3, -0.2)]:
            X.append([cx + dx, cy + dy])
            Y.append(label)
    model = nn.MLP(2, [8, 3], activation="tanh", output_activation="identity", seed=0)
    history = nn.fit(model, X, Y, loss="cross_entropy", epochs=60, batch_size=4, lr=0.2, seed=0,
                     progress=False)
    assert nn.evaluate(model, X, Y, loss="cross_entropy").accuracy == 1.0
    assert history.loss[-1] < 0.2
    probabilities = nn.softmax(model(X[0]))
    assert max(range(3), key=lambda k: probabilities[k].data) == 0


# -- evaluation, prediction, gradient checking ---------------------------------------------
def test_evaluate_and_predict_record_no_graph_and_keep_the_mode():
    model = nn.MLP(2, [3, 1], activation="rrelu", output_activation="sigmoid", seed=0)
    result = nn.evaluate(model, X4, AND, loss="bce")
    assert 0 <= result.accuracy <= 1 and result.loss > 0
    assert model.training
    model.eval()
    assert nn.predict(model, X4) == nn.predict(model, X4)
    assert not model.training


@pytest.mark.parametrize("activation, loss, Y", [
    ("sigmoid", "bce", [[0, 1]] * 4),
    ("tanh", "mse", [[0.5, -0.5]] * 4),
    ("softplus", "cross_entropy", [0, 1, 1, 0]),
    ("prelu", "bce_logits", [[1, 0]] * 4),
    ("soft_exponential", "squared_error", [[1, 2]] * 4),
])
def test_gradcheck_of_a_whole_model(activation, loss, Y):
    model = nn.MLP(2, [4, 2], activation=activation, seed=1,
                   output_activation="sigmoid" if loss == "bce" else "identity")  # bce takes probabilities
    X = [[0.3, -0.7], [1.1, 0.2], [-0.4, 0.9], [0.05, 0.5]]
    result = nn.gradcheck(model, X, Y, loss=loss)
    assert result.ok and len(result.analytic) == len(model.parameters())


def test_gradcheck_names_the_parameters_a_broken_gradient_touches():
    # detach() hides the hidden layer from backward, but not from finite differences.
    model = nn.MLP(2, [2, 1], activation=lambda v: v.tanh().detach(), output_activation="identity", seed=0)
    result = nn.gradcheck(model, [[0.5, -0.5]], [[1.0]], loss="mse", raise_on_failure=False)
    assert not result.ok
    with pytest.raises(autograd.GradcheckError, match="layers.0.neurons.0.w.0"):
        nn.gradcheck(model, [[0.5, -0.5]], [[1.0]], loss="mse")
    names = {m.label for m in result.mismatches}
    assert "layers.0.neurons.0.w.0" in names and all(name.startswith("layers.0.") for name in names)
    assert "layers.0.neurons.0.w.0" in str(result)


def test_loss_and_grad_is_the_one_step_fit_uses():
    model = nn.MLP(2, [3, 1], seed=0)
    step = nn.LossAndGrad(model, "bce")
    result = step([[0, 1], [1, 1]], [[1.0], [0.0]])
    losses = [nn.binary_cross_entropy(model(x), y).data for x, y in [([0, 1], 1.0), ([1, 1], 0.0)]]
    assert result.loss == pytest.approx(sum(losses) / 2)
    assert len(result.outputs) == 2 and isinstance(result.outputs[0][0], float)
    expected = autograd.grad(autograd.sum([nn.binary_cross_entropy(model(x), y)
                                           for x, y in [([0, 1], 1.0), ([1, 1], 0.0)]]) * 0.5,
                             model.parameters())
    assert [p.grad for p in model.parameters()] == pytest.approx(list(expected))


def test_fit_accepts_a_plain_loss_function():
    def quartic(outputs, target):
        return (outputs[0] - target[0]) ** 4

    X, Y = line_data()
    history = nn.fit(nn.Neuron(1, activation="identity", seed=0), X, Y, loss=quartic, epochs=20,
                     lr=0.05, seed=0, progress=False)
    assert history.accuracy is None and history.loss[-1] < history.loss[0]
    assert math.isfinite(history.loss[-1])


def test_outputs_given_as_values_work_as_targets():
    assert nn.mse(Value(1.0), Value(3.0)).data == 4.0
