"""Autoencoders (the 8-3-8 encoder) and restricted Boltzmann machines (free energy, CD, sampling)."""

import itertools
import math
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from nn.rbm import _cd_gradients

ONE_HOT = [[1.0 if i == j else 0.0 for i in range(8)] for j in range(8)]


def seed_of(text):
    return zlib.crc32(text.encode())


# -- autoencoders -------------------------------------------------------------------------------
def test_the_8_3_8_encoder_reconstructs_all_eight_one_hot_inputs():
    model = nn.Autoencoder(8, 3, seed=0)
    history = nn.fit(model, ONE_HOT, ONE_HOT, loss="bce", optimizer=nn.Adam(model, lr=0.05), epochs=1000,
                     batch_size=None, progress=False, compiled=True)
    assert history.loss[-1] < history.loss[0] / 20
    reconstructions = nn.predict(model, ONE_HOT)
    assert [[round(y) for y in row] for row in reconstructions] == ONE_HOT
    assert all(row[j] > 0.9 for j, row in enumerate(reconstructions))
    codes = {tuple(round(c.data) for c in model.encode(x)) for x in ONE_HOT}
    assert len(codes) == 8  # eight different 3-bit codes: the net found a binary code


def test_encode_then_decode_is_the_forward_pass_and_is_scoped():
    model = nn.Autoencoder(4, [3, 2], activation="tanh", output_activation="sigmoid", seed=1)
    x = [0.1, 0.9, 0.4, 0.0]
    code = model.encode(x)
    assert len(code) == model.ncode == 2 and code[0].scope[0] == "encoder"
    output = model.decode(code)
    assert [y.data for y in output] == [y.data for y in model(x)]
    assert output[0].scope[0] == "decoder" and output[0].op.name == "sigmoid"
    assert model.encoder.nouts == [3, 2] and model.decoder.nouts == [3, 4] and model.nout == 4


def test_an_autoencoder_saves_and_loads(tmp_path):
    model = nn.Autoencoder(5, [4, 2], seed=2)
    path = tmp_path / "ae.json"
    model.save(path)
    other = nn.Autoencoder(5, [4, 2], seed=3)
    other.load(path)
    assert other.state_dict() == model.state_dict()
    assert model.config() == {"type": "Autoencoder", "nin": 5, "hidden": [4, 2], "activation": "sigmoid",
                              "output_activation": "sigmoid"}
    with pytest.raises(nn.ModelFileError, match="hidden"):
        nn.Autoencoder(5, [4, 3]).load(path)


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.Autoencoder(8, []), ValueError, r"hidden=\[\]: .* needs at least one layer"),
    (lambda: nn.Autoencoder(8, 0), ValueError, r"hidden=0: .*\[0\] must be a positive int, got 0"),
    (lambda: nn.Autoencoder(8, "3"), TypeError, "hidden='3': .* must be a list of layer sizes"),
    (lambda: nn.Autoencoder(0, 3), ValueError, "nin must be a positive int"),
    (lambda: nn.Autoencoder(8, 3, seed=0)([1.0] * 7), ValueError, "Autoencoder takes 8 inputs, got 7"),
    (lambda: nn.Autoencoder(8, 3, seed=0).decode([1.0] * 2), ValueError, "a code.* takes 3 inputs, got 2"),
])
def test_autoencoder_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- RBMs: energies against brute force --------------------------------------------------------
def random_rbm(nvisible=4, nhidden=3, name="rbm"):
    rbm = nn.RBM(nvisible, nhidden, weight_scale=1.0, seed=seed_of(name))
    rng = random.Random(seed_of(name + " biases"))
    for p in rbm.b + rbm.c:
        p.data = rng.uniform(-1, 1)
    return rbm


def states(n):
    return [list(map(float, bits)) for bits in itertools.product((0, 1), repeat=n)]


def brute_energy(rbm, v, h):
    W = [[rbm.W[j * rbm.nvisible + i].data for i in range(rbm.nvisible)] for j in range(rbm.nhidden)]
    coupling = sum(h[j] * W[j][i] * v[i] for j in range(rbm.nhidden) for i in range(rbm.nvisible))
    return -(sum(b.data * x for b, x in zip(rbm.b, v)) + sum(c.data * y for c, y in zip(rbm.c, h)) + coupling)


def test_energy_is_the_rbm_energy_of_a_joint_state():
    rbm = random_rbm()
    for v in states(4):
        for h in states(3):
            assert rbm.energy(v, h).data == pytest.approx(brute_energy(rbm, v, h), abs=1e-12)


def test_free_energy_sums_the_hidden_states_out():
    rbm = random_rbm()
    for v in states(4):
        brute = -math.log(sum(math.exp(-brute_energy(rbm, v, h)) for h in states(3)))
        assert rbm.free_energy(v).data == pytest.approx(brute, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(nvisible=st.integers(1, 4), nhidden=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_property_free_energy_equals_brute_force_for_any_small_machine(nvisible, nhidden, seed):
    rbm = random_rbm(nvisible, nhidden, f"property {seed}")
    joint = [(v, h) for v in states(nvisible) for h in states(nhidden)]
    log_z = math.log(sum(math.exp(-brute_energy(rbm, v, h)) for v, h in joint))
    for v in states(nvisible):
        brute = -math.log(sum(math.exp(-brute_energy(rbm, v, h)) for h in states(nhidden)))
        assert rbm.free_energy(v).data == pytest.approx(brute, abs=1e-12)
    # and p(v) = exp(-F(v)) / Z sums to 1 over the visible states
    total = math.fsum(math.exp(-rbm.free_energy(v).data - log_z) for v in states(nvisible))
    assert total == pytest.approx(1.0, abs=1e-12)


def test_conditional_probabilities_match_brute_force_marginals():
    rbm = random_rbm()
    for v in states(4):
        weights = [(h, math.exp(-brute_energy(rbm, v, h))) for h in states(3)]
        total = sum(w for _, w in weights)
        expected = [sum(w for h, w in weights if h[j]) / total for j in range(3)]
        assert rbm.hidden_probabilities(v) == pytest.approx(expected, abs=1e-12)
        assert [p.data for p in rbm(v)] == pytest.approx(expected, abs=1e-12)
    for h in states(3):
        weights = [(v, math.exp(-brute_energy(rbm, v, h))) for v in states(4)]
        total = sum(w for _, w in weights)
        expected = [sum(w for v, w in weights if v[i]) / total for i in range(4)]
        assert rbm.visible_probabilities(h) == pytest.approx(expected, abs=1e-12)


# -- RBMs: learning by contrastive divergence --------------------------------------------------
@pytest.mark.parametrize("k", [1, 3])
def test_the_cd_update_is_autograds_gradient_of_the_free_energy_difference(k):
    rbm = random_rbm(5, 3, f"cd {k}")
    batch = [[1, 0, 1, 1, 0], [0, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    objective = rbm.contrastive_divergence(batch, k=k, seed=7)
    expected = autograd.grad(objective, rbm.parameters())
    gradients = _cd_gradients(rbm._numbers(), [list(map(float, v)) for v in batch], k, random.Random(7))
    assert gradients == pytest.approx(list(expected), abs=1e-12)


def bars(count, seed):
    """Noisy copies of two 8-pixel patterns (left half on, or right half on)."""
    rng = random.Random(seed)
    patterns = [[1.0] * 4 + [0.0] * 4, [0.0] * 4 + [1.0] * 4]
    data = []
    for n in range(count):
        row = list(patterns[n % 2])
        flip = rng.randrange(8)
        row[flip] = 1.0 - row[flip]
        data.append(row)
    return patterns, data


def test_contrastive_divergence_lowers_the_reconstruction_error():
    patterns, data = bars(40, seed_of("bars"))
    rbm = nn.RBM(8, 4, seed=seed_of("bars rbm"))
    before = rbm.reconstruction_error(data)
    history = rbm.learn(data, epochs=30, lr=0.5, batch_size=5, seed=1)
    assert history.updates == 30 * 8 and history.epochs == 30
    assert history.loss[-1] == pytest.approx(rbm.reconstruction_error(data))
    assert history.loss[-1] < before / 2  # the floor is 1/8: each row has one pixel flipped
    assert [[round(p) for p in rbm.reconstruct(x)] for x in patterns] == patterns
    assert rbm.free_energy(patterns[0]).data < rbm.free_energy([1.0, 0.0] * 4).data


def mean_distance(rows, patterns):
    return sum(min(sum(a != b for a, b in zip(row, p)) for p in patterns) for row in rows) / len(rows)


def test_samples_are_seeded_binary_and_look_like_the_data():
    patterns, data = bars(40, seed_of("bars"))
    rbm = nn.RBM(8, 4, seed=seed_of("bars rbm"))
    rbm.learn(data, epochs=30, lr=0.5, batch_size=5, seed=1)
    samples = rbm.sample(20, steps=50, seed=3)
    assert samples == rbm.sample(20, steps=50, seed=3)
    assert all(x in (0.0, 1.0) for row in samples for x in row)
    rng = random.Random(0)
    coin_flips = [[float(rng.random() < 0.5) for _ in range(8)] for _ in range(20)]
    # the data are the patterns with one pixel flipped: mean distance 1 from the nearest pattern
    assert mean_distance(samples, patterns) < 1.5 < 2.5 < mean_distance(coin_flips, patterns)
    means = rbm.sample(4, steps=50, seed=3, mean=True)
    assert all(0.0 < x < 1.0 for row in means for x in row)


def test_an_rbm_saves_and_loads(tmp_path):
    rbm = random_rbm()
    path = tmp_path / "rbm.json"
    rbm.save(path)
    other = nn.RBM(4, 3, seed=0)
    other.load(path)
    assert other.state_dict() == rbm.state_dict() and len(rbm.state_dict()) == 4 * 3 + 4 + 3
    assert rbm.config() == {"type": "RBM", "nvisible": 4, "nhidden": 3}
    assert len(rbm.weights()) == 12 and len(rbm.biases()) == 7


@pytest.mark.parametrize("call, error, message", [
    (lambda r: nn.RBM(0, 3), ValueError, "nvisible must be a positive int"),
    (lambda r: nn.RBM(4, 3, weight_scale=-1), ValueError, "weight_scale must be a finite number"),
    (lambda r: r.learn([[0, 1, 2, 0]]), ValueError, r"X row 0, column 2 is 2.0: .* values in \[0, 1\]"),
    (lambda r: r.learn([[0, 1, 1]]), ValueError, "X row 0 has 3 values but the model takes 4"),
    (lambda r: r.learn([[0, 1, 1, 0]], batch_size=0), ValueError, "batch_size must be a positive int"),
    (lambda r: r.learn([[0, 1, 1, 0]], epochs=-1), ValueError, "epochs must be an int >= 0"),
    (lambda r: r.gibbs([0, 1, 1, 0], steps=0), ValueError, "steps must be a positive int"),
    (lambda r: r.visible_probabilities([1, 0]), ValueError, "a hidden vector must have 3 values, got 2"),
    (lambda r: r.free_energy([1, 0]), ValueError, "a visible vector must have 4 values, got 2"),
    (lambda r: r.sample(2, start=[[0, 0, 0, 0]]), ValueError, "start has 1 rows but count is 2"),
    (lambda r: r.hidden_probabilities("0110"), TypeError, "a visible vector must be a sequence"),
])
def test_rbm_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call(nn.RBM(4, 3, seed=0))
