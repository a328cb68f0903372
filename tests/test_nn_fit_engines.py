"""fit(compiled="auto"): the tape when the model traces, eager when it cannot (saying why) or is too small."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
from nn.compiled import CompiledLossAndGrad, NotTraceableError

X4 = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_AND = [[0, 0], [1, 0], [1, 0], [0, 1]]
TOLERANCE = 1e-9


def blobs(count=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (count, 3))
    return X, ((X[:, 0] > X[:, 1]).astype(int) + (X[:, 2] > 0.5).astype(int)).tolist()


def values(model):
    return np.array([p.data for p in model.parameters()])


def test_auto_trains_a_traceable_model_on_the_tape_with_the_eager_results():
    X, labels = blobs()
    runs = {}
    for compiled in ("auto", False):
        model = nn.MLP(3, [8, 3], activation="tanh", output_activation="identity", seed=3)
        opt = nn.SGD(model, lr=0.2, momentum=0.5)
        runs[compiled] = model, nn.fit(model, X, labels, loss="cross_entropy", optimizer=opt, epochs=5,
                                       batch_size=6, seed=1, progress=False, compiled=compiled)
    (taped, auto), (eager, plain) = runs["auto"], runs[False]
    assert (auto.engine, auto.note, plain.engine) == ("compiled", None, "eager")
    np.testing.assert_allclose(auto.loss, plain.loss, rtol=0, atol=TOLERANCE)
    assert auto.accuracy == plain.accuracy and auto.updates == plain.updates == 20
    np.testing.assert_allclose(values(taped), values(eager), rtol=0, atol=TOLERANCE)


def test_auto_falls_back_to_eager_for_random_activations_and_says_why(capsys):
    model = nn.MLP(2, [3, 1], activation="rrelu", output_activation="sigmoid", seed=0)
    history = nn.fit(model, X4, [0, 1, 1, 0], loss="bce", epochs=2, progress=False, seed=0)
    assert history.engine == "eager" and "RReLU in training mode" in history.note
    assert capsys.readouterr() == ("", "")  # progress=False: nothing printed
    with pytest.raises(NotTraceableError, match="RReLU in training mode"):
        nn.fit(model, X4, [0, 1, 1, 0], loss="bce", epochs=1, progress=False, compiled=True)


def branching_loss(outputs, target):
    """A loss with Python control flow on the numbers: the tape cannot replay it."""
    error = outputs[0] - target[0]
    return error * error if error.data > 0 else -error


def test_auto_falls_back_to_eager_for_data_dependent_control_flow():
    runs = []
    for compiled in ("auto", False):
        model = nn.MLP(2, [4, 1], output_activation="identity", seed=1)
        runs.append((model, nn.fit(model, X4, [0, 1, 1, 0], loss=branching_loss, epochs=3, batch_size=2,
                                   progress=False, seed=0, compiled=compiled)))
    (auto_model, auto), (eager_model, eager) = runs
    assert auto.engine == "eager" and "cannot be compiled" in auto.note and ".data" in auto.note
    assert auto.loss == eager.loss and values(auto_model).tolist() == values(eager_model).tolist()
    with pytest.raises(autograd.TracingError):
        nn.fit(nn.MLP(2, [4, 1], seed=1), X4, [0, 1, 1, 0], loss=branching_loss, epochs=1, progress=False,
               compiled=True)


def test_the_fallback_note_is_printed_once_above_the_progress_bar(capsys):
    model = nn.MLP(2, [3, 1], activation="rrelu", output_activation="sigmoid", seed=0)
    nn.fit(model, X4, [0, 1, 1, 0], loss="bce", epochs=3, seed=0)
    out = capsys.readouterr().out
    assert out.count("fit: training eagerly") == 1 and "RReLU" in out


def test_recurrent_nets_train_eagerly_under_auto():
    X = [[[0.0], [1.0]], [[1.0], [0.0]]]
    Y = [[[0.0], [1.0]], [[1.0], [0.0]]]
    history = nn.fit(nn.Elman(1, 2, 1, seed=0), X, Y, epochs=2, progress=False)
    assert history.engine == "eager" and "recurrent net" in history.note


def test_auto_keeps_eager_only_where_the_tape_would_be_slower():
    tiny = CompiledLossAndGrad(nn.MLP(2, [3, 2], output_activation="sigmoid", seed=0), "bce", dtype="float32")
    tiny.trace([0.0, 1.0], [0.0, 1.0])  # float32: no scalar replay, one sample runs the program's groups
    demo = CompiledLossAndGrad(nn.MLP(2, [16, 16, 1], seed=0), "mse")
    demo.trace([0.0, 1.0], [1.0])
    assert not tiny.faster_than_eager(1) and tiny.faster_than_eager(4) and demo.faster_than_eager(1)
    replayed = CompiledLossAndGrad(nn.MLP(2, [3, 2], output_activation="sigmoid", seed=0), "bce")
    replayed.trace([0.0, 1.0], [0.0, 1.0])
    assert replayed.compiled.scalar_replay is not None and replayed.faster_than_eager(1)
    history = nn.fit(nn.MLP(2, [3, 2], output_activation="sigmoid", seed=0), X4, XOR_AND, loss="bce",
                     epochs=1, progress=False)  # online, one sample a step: the replay
    assert history.engine == "compiled" and history.note is None
    with pytest.raises(RuntimeError, match="trace"):
        CompiledLossAndGrad(nn.MLP(2, [3, 2], seed=0), "mse").faster_than_eager(1)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_callback_sees_the_trained_values_at_every_epoch(compiled):
    X, labels = blobs(12, seed=5)
    seen = {}
    for mode in (compiled, False):
        model = nn.MLP(3, [5, 3], activation="tanh", output_activation="identity", seed=2)
        snapshots = seen[mode] = []
        nn.fit(model, X, labels, loss="cross_entropy", epochs=4, batch_size=None, lr=0.5, progress=False,
               compiled=mode, callback=lambda epoch, history, s=snapshots, m=model: s.append(values(m)))
    assert len(seen[compiled]) == 4
    np.testing.assert_allclose(seen[compiled], seen[False], rtol=0, atol=TOLERANCE)
    assert not np.allclose(seen[compiled][0], seen[compiled][-1])


def test_an_early_stop_leaves_the_values_of_the_last_update():
    runs = []
    for compiled in (True, False):
        model = nn.MLP(2, [6, 1], activation="tanh", output_activation="identity", seed=4)
        history = nn.fit(model, X4, [0.0, 1.0, 1.0, 0.0], epochs=500, batch_size=None, lr=0.5, tol=0.2,
                         progress=False, compiled=compiled)
        runs.append((values(model), history))
    (taped, history), (eager, eager_history) = runs
    assert history.stopped_early and history.epochs == eager_history.epochs < 500
    np.testing.assert_allclose(taped, eager, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_a_diverging_compiled_fit_raises_as_eager_and_keeps_the_last_good_values(momentum):
    results = []
    for compiled in (True, False):  # the tape's update runs in place: it must be undone
        model = nn.MLP(2, [3, 1], output_activation="identity", seed=0)
        optimizer = nn.SGD(model, lr=lambda k: 1e250 if k == 2 else 1e-3, momentum=momentum)
        with pytest.raises(FloatingPointError, match="update 2 would make parameter .* training diverged") \
                as error:  # the forward stays finite; the third update overflows
            nn.fit(model, X4, [1e100, -1e100, 1e100, -1e100], batch_size=None, epochs=50,
                   optimizer=optimizer, progress=False, compiled=compiled)
        state = list(getattr(optimizer, "deltas", [])) + [optimizer.steps]
        results.append((values(model), str(error.value), state))
    assert results[0][1] == results[1][1]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-9)
    assert np.isfinite(results[0][0]).all()


def test_an_optimizer_over_some_of_the_parameters_updates_only_those():
    runs = []
    for compiled in (True, False):
        model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=6)
        biases = [p for p in model.parameters() if all(p is not w for w in model.weights())]
        before = [b.data for b in biases]
        nn.fit(model, X4, [0, 1, 1, 0], loss="bce", optimizer=nn.Adam(model.weights(), lr=0.05), epochs=5,
               batch_size=2, seed=3, progress=False, compiled=compiled)
        assert [b.data for b in biases] == before
        runs.append(values(model))
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=TOLERANCE)


def test_compiled_must_be_true_false_or_auto():
    with pytest.raises(ValueError, match="compiled must be True, False or 'auto', got 'yes'"):
        nn.fit(nn.MLP(2, [1], seed=0), X4, [0, 1, 1, 0], progress=False, compiled="yes")


@pytest.mark.parametrize("compiled", [True, False])
def test_an_optimizer_built_on_another_model_is_refused_before_any_step(compiled):
    model, other = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [3, 1], seed=1)
    before = values(model)
    with pytest.raises(ValueError, match=r"optimizer's parameter 0 \(.*\) is not a parameter of this model"):
        nn.fit(model, X4, [0, 1, 1, 0], loss="bce", optimizer=nn.SGD(other, lr=0.1), epochs=80,
               progress=False, compiled=compiled)
    assert values(model).tolist() == before.tolist()


def _numpy_buffers_of(count):
    """The NumPy data buffers alive now (allocated since tracemalloc started) of >= ``count`` float64s."""
    import tracemalloc

    numpy_only = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)
    traces = tracemalloc.take_snapshot().filter_traces([numpy_only]).traces
    return sorted(trace.size for trace in traces if trace.size >= 8 * count)


@pytest.mark.parametrize("optimizer, arrays", [
    (lambda m: nn.SGD(m, lr=1e-3), 2),  # the tape's values and gradients
    (lambda m: nn.SGD(m, lr=1e-3, momentum=0.9), 3),  # and the deltas
    (lambda m: nn.Adam(m, lr=1e-3), 2 + 2 + 3),  # and m, v, and the copies of the three
], ids=["sgd", "momentum", "adam"])
def test_a_compiled_fit_keeps_no_copy_of_the_parameters_besides_the_tapes_buffers(optimizer, arrays):
    """Issue 13's memory rule: besides the tape's arrays (the shared values, where the parameters
    live, and their gradients), at most one copy of the parameters (to put back if an update
    overflows), none while SGD's bounds prove its updates finite; with momentum also the deltas
    (and, with Adam, its two states and their copies).

    Counted, not timed: the NumPy buffers of at least one float per parameter alive at each
    callback. The model is sized so that nothing else is that large (inputs, batch buffers and
    index arrays all stay below one float per parameter). Two batch sizes (8, then 6) run, so
    each has its buffers: the parameters must still be held once."""
    import tracemalloc

    rng = np.random.default_rng(13)
    X, Y = rng.normal(size=(14, 300)), rng.normal(size=(14, 1))
    model = nn.MLP(300, [40, 40, 1], activation="tanh", output_activation="identity", seed=13)
    count = len(model.parameters())
    optimizer = optimizer(model)
    seen = []
    was_tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        history = nn.fit(model, X, Y, optimizer=optimizer, epochs=3, batch_size=8, progress=False,
                         compiled=True, callback=lambda *_: seen.append(_numpy_buffers_of(count)))
    finally:
        if not was_tracing:
            tracemalloc.stop()
    assert history.engine == "compiled" and len(seen) == 3
    for sizes in seen:
        assert len(sizes) == arrays, sizes


def test_a_callback_sees_the_gradients_and_momentum_of_the_last_batch():
    X, labels = blobs(12, seed=6)
    seen = {}
    for compiled in (True, False):
        model = nn.MLP(3, [5, 3], activation="tanh", output_activation="identity", seed=2)
        optimizer = nn.SGD(model, lr=0.3, momentum=0.5)
        snapshots = seen[compiled] = []

        def look(epoch, history, s=snapshots, m=model, o=optimizer):
            s.append([p.grad for p in m.parameters()] + list(o.deltas) + [o.steps])
        nn.fit(model, X, labels, loss="cross_entropy", optimizer=optimizer, epochs=3, batch_size=5, seed=1,
               progress=False, compiled=compiled, callback=look)
    np.testing.assert_allclose(seen[True], seen[False], rtol=0, atol=TOLERANCE)



@pytest.mark.parametrize("compiled", [True, False])
def test_a_graph_built_before_a_fit_is_stale_after_it_on_either_engine(compiled):
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="identity", seed=1)
    before = model([0.5, -1.0])[0] * 1.0
    seen = []

    def look(epoch, history):  # inside the fit: the Values written back, older graphs refused
        with pytest.raises(autograd.StaleGraphError):
            before.backward()
        seen.append(values(model))

    nn.fit(model, X4, [0.0, 1.0, 1.0, 0.0], epochs=3, batch_size=None, lr=0.5, progress=False,
           compiled=compiled, callback=look)
    assert len(seen) == 3 and not np.array_equal(seen[0], seen[-1])
    np.testing.assert_array_equal(seen[-1], values(model))  # what fit returned with: the last update
    with pytest.raises(autograd.StaleGraphError):
        before.backward()
    after = model([0.5, -1.0])[0] * 1.0
    after.backward()  # a graph of the trained Values runs


def test_the_undo_copy_is_skipped_while_sgds_bounds_hold_and_taken_for_adam():
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="identity", seed=1)
    rows, targets = nn.check_data(model, X4, [0.0, 1.0, 1.0, 0.0], nn.resolve_loss("mse"))
    for optimizer, bounded in ((nn.SGD(model, lr=0.1, momentum=0.9, weight_decay=0.01), True),
                               (nn.Adam(model, lr=0.01), False)):
        step = CompiledLossAndGrad(model, "mse")
        with step.training(rows, targets, optimizer):
            for _ in range(3):
                step.train_epoch([0, 1, 2, 3], 4)
            fit = step._fit
            assert fit.bounded is bounded and (fit.bounds is not None) is bounded
            if bounded:  # the carried bounds hold what the arrays hold
                value_bound, (delta_bound,) = fit.bounds
                assert np.abs(fit.values).max() <= value_bound and np.abs(fit.state[0]).max() <= delta_bound


def test_a_small_learning_rate_proves_sgds_updates_safe_without_reading_the_gradients(monkeypatch):
    # The tape's gradients are finite, so below the largest float: lr 1e-4 times that cannot make a
    # bounded value overflow for thousands of updates, and no pass over the gradients is needed.
    norms = []  # per norm taken: True for the gradients (the tape's read-only view), False for values
    real = nn.compiled._norm

    def norm(array):
        norms.append(not array.flags.writeable)
        return real(array)
    monkeypatch.setattr(nn.compiled, "_norm", norm)
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="identity", seed=1)
    targets = [0.0, 1.0, 1.0, 0.0]
    nn.fit(model, X4, targets, lr=1e-4, epochs=50, batch_size=None, progress=False, compiled=True)
    assert norms == [False]  # the values' own norm, once, at the start
    norms.clear()  # each update may add 0.05 x the largest float: the bounds start again every few
    nn.fit(model, X4, targets, lr=0.05, epochs=40, batch_size=None, progress=False, compiled=True)
    assert not any(norms) and 5 <= len(norms) <= 12
    norms.clear()  # too large a rate: the gradient's norm at every update
    history = nn.fit(model, X4, targets, lr=0.5, epochs=5, batch_size=None, progress=False, compiled=True)
    assert norms.count(True) == 5 and history.engine == "compiled"


class NudgedSGD(nn.SGD):
    """A user's SGD with an update rule of its own: its second update overflows in place."""

    def rule(self, math, lr, value, grad, *state):
        value -= lr * grad
        if self.steps == 1:
            value *= 1e300
            value *= 1e300
        return (value,)


@pytest.mark.parametrize("compiled", [False, True])
def test_an_sgd_subclass_with_its_own_rule_that_overflows_changes_nothing(compiled):
    # SGD's bound is of SGD's rule: a subclass's rule has none, so the undo copy is taken.
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    optimizer = NudgedSGD(model, lr=0.1)
    seen = []
    with pytest.raises(FloatingPointError, match="update 1 would make parameter 0 .* no parameter was"):
        nn.fit(model, [[1.0, 2.0], [0.5, -1.0]], [[1.0], [0.0]], optimizer=optimizer, epochs=3,
               batch_size=None, progress=False, compiled=compiled,
               callback=lambda epoch, history: seen.append([p.data for p in model.parameters()]))
    assert optimizer.change_bound(0.1, 1.0, 1.0, []) is None
    assert [p.data for p in model.parameters()] == seen[-1] and optimizer.steps == 1


def test_a_float32_tape_takes_the_undo_copy_long_before_float32_overflows():
    # The bounds are safe below a fraction of the dtype's largest float: 3.4e38 for float32.
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    before = [p.data for p in model.parameters()]
    step = CompiledLossAndGrad(model, "mse", dtype="float32")
    with (pytest.raises(FloatingPointError, match="update 0 would make .* no parameter was changed"),
          step.training([[1.0, 2.0], [0.5, -1.0]], [[100.0], [-100.0]], nn.SGD(model, lr=1e37))):
        step.train_epoch([0, 1], 2)
    after = [p.data for p in model.parameters()]
    np.testing.assert_array_equal(np.float32(after), np.float32(before))  # as the float32 tape held them


def test_weight_decay_on_unread_gradients_is_never_proved_safe_in_float32():
    # With unread gradients the bound is the dtype's largest float: g + decay w may overflow in
    # float32 before the rule runs, though the rule's bounds (Python floats) stay below it.
    largest = float(np.finfo(np.float32).max)
    w = autograd.Parameter(1.0)
    arrays = object.__new__(nn.compiled._FitArrays)  # only what _safe_bounds reads
    arrays.optimizer = nn.SGD([w], lr=0.01, weight_decay=0.01)
    arrays.values, arrays.bounds, arrays.bounded = np.zeros(1, dtype=np.float32), (5e37, []), True
    assert arrays._safe_bounds(0.01, largest) is None
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        np.float32(largest) + np.float32(0.01) * np.float32(5e37)  # what step_arrays would compute
    arrays.optimizer = nn.SGD([w], lr=0.01)  # no decay: no sum before the rule
    assert arrays._safe_bounds(0.01, largest) is not None
