"""Elman and Jordan nets: BPTT against gradcheck and a hand-written NumPy BPTT, scopes, fit, errors."""

import json
import math
import re
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn

NETS = {"Elman": nn.Elman, "Jordan": nn.Jordan}


def seed_of(text):
    return zlib.crc32(text.encode())


def random_sequences(rng, count, steps, nin, nout):
    X = [[list(rng.uniform(-1, 1, nin)) for _ in range(steps)] for _ in range(count)]
    Y = [[list(rng.uniform(-1, 1, nout)) for _ in range(steps)] for _ in range(count)]
    return X, Y


# -- a hand-written BPTT in NumPy: the reference the engine must match -------------------------
def matrices(net):
    """W (nhidden x (nin + ncontext)), b, V (nout x nhidden), c as NumPy arrays."""
    W = np.array([[w.data for w in n.w] for n in net.hidden.neurons])
    b = np.array([n.b.data for n in net.hidden.neurons])
    V = np.array([[w.data for w in n.w] for n in net.output.neurons])
    c = np.array([n.b.data for n in net.output.neurons])
    return W, b, V, c


def numpy_bptt(net, X, Y, truncate=None):
    """Mean over sequences of the mean over steps of mse; tanh hidden, identity output.

    Returns the loss, the gradients (dW, db, dV, dc) and d loss / d h_t of each sequence.
    """
    W, b, V, c = matrices(net)
    nin, jordan = net.nin, isinstance(net, nn.Jordan)
    grads = [np.zeros_like(W), np.zeros_like(b), np.zeros_like(V), np.zeros_like(c)]
    total, dhs = 0.0, []
    for xs, ds in zip(X, Y):
        T = len(xs)
        context = np.zeros(net.ncontext)
        inputs, hs, ys = [], [], []
        for t in range(T):
            z = np.concatenate([xs[t], context])
            h = np.tanh(W @ z + b)
            y = V @ h + c
            inputs.append(z), hs.append(h), ys.append(y)
            context = y if jordan else h
        scale = 1.0 / (T * net.nout * len(X))
        total += sum(np.sum((y - np.array(d)) ** 2) for y, d in zip(ys, ds)) * scale
        back = np.zeros(net.ncontext)  # d loss / d context, arriving from step t + 1
        dh_seq = [None] * T
        for t in reversed(range(T)):
            dy = 2 * scale * (ys[t] - np.array(ds[t])) + (back if jordan else 0)
            dh = V.T @ dy + (0 if jordan else back)
            dh_seq[t] = dh
            da = dh * (1 - hs[t] ** 2)
            grads[0] += np.outer(da, inputs[t])
            grads[1] += da
            grads[2] += np.outer(dy, hs[t])
            grads[3] += dy
            cut = truncate is not None and t % truncate == 0
            back = np.zeros(net.ncontext) if cut else W[:, nin:].T @ da
        dhs.append(dh_seq)
    return total, grads, dhs


def engine_gradients(net, X, Y):
    losses = [nn.sequence_loss(net(x), y, "mse") for x, y in zip(X, Y)]
    loss = autograd.sum(losses) * (1.0 / len(losses))
    net.zero_grad()
    loss.backward()
    W = np.array([[w.grad for w in n.w] for n in net.hidden.neurons])
    b = np.array([n.b.grad for n in net.hidden.neurons])
    V = np.array([[w.grad for w in n.w] for n in net.output.neurons])
    c = np.array([n.b.grad for n in net.output.neurons])
    return loss.data, [W, b, V, c]


@pytest.mark.parametrize("kind", sorted(NETS))
@pytest.mark.parametrize("truncate, steps, nin, nhidden, nout",
                         [(None, 8, 2, 4, 2), (1, 8, 2, 4, 2), (3, 8, 2, 4, 2), (None, 24, 1, 5, 1)])
def test_bptt_matches_a_hand_written_numpy_bptt_to_1e_12(kind, truncate, steps, nin, nhidden, nout):
    rng = np.random.default_rng(seed_of(f"{kind} {truncate} {steps}"))
    net = NETS[kind](nin, nhidden, nout, seed=seed_of(kind), truncate=truncate)
    X, Y = random_sequences(rng, 3 if steps < 20 else 1, steps, nin, nout)
    loss, grads = engine_gradients(net, X, Y)
    expected_loss, expected, _ = numpy_bptt(net, X, Y, truncate)
    assert loss == pytest.approx(expected_loss, abs=1e-12)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(NETS))
def test_hidden_gradients_per_step_are_numpy_bptts_dh(kind):
    rng = np.random.default_rng(seed_of(f"dh {kind}"))
    net = NETS[kind](2, 3, 1, seed=seed_of(f"dh net {kind}"))
    X, Y = random_sequences(rng, 1, 10, 2, 1)
    run = net.unroll(X[0])
    per_step = run.hidden_gradients(nn.sequence_loss(run.outputs, Y[0], "mse"))
    assert net.hidden_gradients(X[0], Y[0], "mse") == per_step
    _, _, dhs = numpy_bptt(net, X, Y)
    assert len(per_step) == 10 and all(len(g) == 3 for g in per_step)
    np.testing.assert_allclose(np.array(per_step), np.array(dhs[0]), rtol=0, atol=1e-12)
    assert all(p.grad == 0.0 for p in net.parameters())  # hidden_gradients leaves .grad alone


@pytest.mark.parametrize("kind", sorted(NETS))
def test_bptt_passes_gradcheck(kind):
    rng = np.random.default_rng(seed_of(f"gradcheck {kind}"))
    net = NETS[kind](2, 3, 2, activation="sigmoid", output_activation="tanh", seed=seed_of(kind))
    X, Y = random_sequences(rng, 2, 6, 2, 2)
    result = nn.gradcheck(net, X, Y, loss="mse")
    assert result, str(result)
    assert len(result.analytic) == len(net.parameters()) == 3 * (2 + net.ncontext + 1) + 2 * (3 + 1)


def test_truncated_bptt_is_not_the_true_gradient():
    rng = np.random.default_rng(seed_of("truncated"))
    net = nn.Elman(1, 4, 1, seed=seed_of("truncated net"), truncate=2)
    X, Y = random_sequences(rng, 1, 8, 1, 1)
    assert not nn.gradcheck(net, X, Y, raise_on_failure=False)
    net.truncate = None
    assert nn.gradcheck(net, X, Y)


@settings(max_examples=15, deadline=None)
@given(steps=st.integers(1, 6), nhidden=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       jordan=st.booleans(), truncate=st.one_of(st.none(), st.integers(1, 4)))
def test_property_bptt_equals_numpy_for_any_small_net(steps, nhidden, seed, jordan, truncate):
    rng = np.random.default_rng(seed)
    net = (nn.Jordan if jordan else nn.Elman)(2, nhidden, 1, seed=seed, truncate=truncate)
    X, Y = random_sequences(rng, 2, steps, 2, 1)
    _, grads = engine_gradients(net, X, Y)
    _, expected, _ = numpy_bptt(net, X, Y, truncate)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# -- the unrolled graph -------------------------------------------------------------------------
def test_every_node_of_a_step_is_scoped_by_its_time_step():
    net = nn.Elman(1, 2, 1, seed=0)
    run = net.unroll([[0.1], [0.2], [0.3]])
    for t, (h, y) in enumerate(zip(run.hidden, run.outputs)):
        assert {v.scope[0] for v in h + y} == {f"step {t}"}
        assert h[1].scope == (f"step {t}", "layer 0", "neuron 1")
        assert y[0].scope == (f"step {t}", "layer 1", "neuron 0")


def test_the_unrolled_graph_folds_to_one_box_per_step():
    net = nn.Jordan(1, 2, 1, seed=0)
    outputs = net([[0.1], [0.2], [0.3], [0.4]])
    loss = nn.sequence_loss(outputs, [[0.0]] * 4)
    full = autograd.draw(loss, collapse=None)
    folded = autograd.draw(loss, collapse="step")
    assert folded.node_count < full.node_count - 4 * 4  # each step's ops drawn as one box
    assert sorted(re.findall(r"<b>(step \d+)</b>", folded.source)) == [f"step {t}" for t in range(4)]


def test_the_same_parameters_serve_every_step():
    net = nn.Elman(1, 2, 1, seed=0)
    outputs = net([[0.5]] * 5)
    loss = nn.sequence_loss(outputs, [[1.0]] * 5)
    leaves = {id(v) for v in autograd.topological_order(loss) if isinstance(v, autograd.Parameter)}
    assert leaves == {id(p) for p in net.parameters()}


def test_a_sequence_continues_from_the_state_of_an_earlier_run():
    net = nn.Elman(1, 3, 1, seed=1)
    xs = [[0.3], [-0.1], [0.4], [0.2]]
    whole = [y[0].data for y in net(xs)]
    first = net.unroll(xs[:2])
    rest = net(xs[2:], state=[h.data for h in first.state])
    assert [y[0].data for y in first.outputs] + [y[0].data for y in rest] == pytest.approx(whole, abs=1e-15)


# -- training -----------------------------------------------------------------------------------
def sine_data(steps=10, count=8):
    wave = [math.sin(0.4 * t) for t in range(steps + count * 2 + 1)]
    X = [[[wave[s + t]] for t in range(steps)] for s in range(0, 2 * count, 2)]
    Y = [[[wave[s + t + 1]] for t in range(steps)] for s in range(0, 2 * count, 2)]
    return X, Y


@pytest.mark.parametrize("truncate", [None, 4])
def test_fit_learns_the_next_value_of_a_sine_wave(truncate):
    X, Y = sine_data()
    net = nn.Elman(1, 5, 1, seed=seed_of("sine"), truncate=truncate)
    before = nn.evaluate(net, X, Y).loss
    history = nn.fit(net, X, Y, loss="mse", optimizer=nn.Adam(net, lr=0.03), epochs=40, batch_size=4,
                     seed=0, progress=False)
    assert history.updates == 40 * 2
    assert history.loss[-1] < before / 10
    assert nn.evaluate(net, X, Y).loss < 0.02
    prediction = nn.predict(net, X[:1])[0]
    assert len(prediction) == 10 and len(prediction[0]) == 1


def test_fit_takes_none_for_steps_without_a_target_and_reports_step_accuracy():
    X = [[[a], [b], [0.0]] for a in (0.0, 1.0) for b in (0.0, 1.0)]  # remember the first input
    Y = [[None, None, x[0][0]] for x in X]
    net = nn.Elman(1, 3, 1, output_activation="sigmoid", seed=0)
    history = nn.fit(net, X, Y, loss="bce", optimizer=nn.Adam(net, lr=0.1), epochs=60, seed=0,
                     progress=False)
    assert history.accuracy[0] == 0.5
    assert history.accuracy[-1] == 1.0
    assert nn.evaluate(net, X, Y, loss="bce").accuracy == 1.0


def test_fit_refuses_compiled_training_of_a_recurrent_net():
    X, Y = sine_data(3, 2)
    with pytest.raises(ValueError, match="compiled=True cannot train a recurrent net"):
        nn.fit(nn.Elman(1, 2, 1, seed=0), X, Y, compiled=True, progress=False)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sequence, error, message", [
    ([[1.0, 2.0]], ValueError, "Elman step 0 takes 1 input, got 2"),
    ([[1.0], [2.0, 3.0]], ValueError, "Elman step 1 takes 1 input, got 2"),
    ([], ValueError, "empty sequence"),
    ([1.0, 2.0], TypeError, "step 0 is a single number"),
    ("abc", TypeError, "takes a sequence"),
    ([[0.5], [float("nan")]], ValueError, "Elman step 1: Value data must not be NaN"),
    ([[0.5], ["x"]], TypeError, "Elman step 1: Value data must be a real number"),
    (3.0, TypeError, "takes a sequence"),
])
def test_a_badly_shaped_sequence_is_refused_with_the_step_named(sequence, error, message):
    with pytest.raises(error, match=message):
        nn.Elman(1, 2, 1, seed=0)(sequence)


@pytest.mark.parametrize("state, error, message", [
    ([0.0], ValueError, "state must have 2 context values"),
    (0.0, TypeError, "state must be a list of 2"),
])
def test_a_wrong_state_is_refused(state, error, message):
    with pytest.raises(error, match=message):
        nn.Elman(1, 2, 1, seed=0)([[1.0]], state=state)


@pytest.mark.parametrize("X, Y, message", [
    ([[[1.0]], [[2.0]]], [[[1.0]]], "X has 2 sequences but Y has 1"),
    ([[[1.0], [2.0]]], [[[1.0]]], "Y sequence 0 has 1 targets but X sequence 0 has 2 steps"),
    ([[[1.0], [2.0, 3.0]]], [[[1.0], [1.0]]], "X sequence 0, step 1 has 2 values but the model takes 1"),
    ([[[1.0], [float("nan")]]], [[[1.0], [1.0]]], "X sequence 0, step 1, column 0 is nan"),
    ([[]], [[]], "X sequence 0 is empty"),
    ([], [], "X is empty"),
    ([[[1.0]]], [[None]], "Y sequence 0 has no target"),
    ([[[1.0]]], [[[1.0, 2.0]]], "Y sequence 0 does not fit the mse loss"),
])
def test_fit_names_the_bad_sequence_and_step(X, Y, message):
    with pytest.raises(ValueError, match=message):
        nn.fit(nn.Elman(1, 2, 1, seed=0), X, Y, epochs=1, progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"nhidden": 0}, "nhidden must be a positive int"),
    ({"truncate": 0}, "truncate must be a positive int"),
    ({"truncate": 1.5}, "truncate must be a positive int"),
])
def test_bad_sizes_are_refused(kwargs, message):
    arguments = {"nin": 1, "nhidden": 2, "nout": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.Elman(**arguments)


def test_sequence_loss_needs_one_target_per_step():
    outputs = nn.Elman(1, 2, 1, seed=0)([[1.0], [2.0]])
    with pytest.raises(ValueError, match="2 steps but 3 targets"):
        nn.sequence_loss(outputs, [[0.0]] * 3)


# -- files --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(NETS))
def test_a_saved_net_loads_back_into_the_same_architecture(kind, tmp_path):
    net = NETS[kind](2, 3, 1, activation="sigmoid", seed=1)
    path = tmp_path / "net.json"
    net.save(path)
    other = NETS[kind](2, 3, 1, activation="sigmoid", seed=2)
    other.load(path)
    assert other.state_dict() == net.state_dict()
    assert other.config() == {"type": kind, "nin": 2, "nhidden": 3, "nout": 1, "activation": "sigmoid",
                              "output_activation": "identity"}
    with pytest.raises(nn.ModelFileError, match="nhidden"):
        NETS[kind](2, 4, 1, activation="sigmoid").load(path)
    loaded = nn.load(path)
    assert type(loaded) is NETS[kind] and loaded.state_dict() == net.state_dict()


def test_a_file_declaring_a_huge_net_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "net.json"
    nn.Elman(1, 2, 1, seed=0).save(path)
    document = json.loads(path.read_text())
    document["architecture"]["nhidden"] = 10**9
    path.write_text(json.dumps(document))
    with pytest.raises(nn.ModelFileError, match="declares .* parameters but the file holds 11"):
        nn.load(path)
