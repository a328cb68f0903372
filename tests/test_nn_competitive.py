"""Competitive (winner-takes-all) learning: prototypes at the clusters' centres, files, bad input."""

import random
import zlib

import pytest

import autograd
import nn

CENTRES = [(-2.0, -1.0), (2.0, -1.0), (0.0, 2.5)]


BLOBS_SEED = zlib.crc32(b"blobs")


def blobs(per_blob=60, spread=0.35, seed=BLOBS_SEED):
    rng = random.Random(seed)
    return [[cx + rng.gauss(0, spread), cy + rng.gauss(0, spread)] for cx, cy in CENTRES
            for _ in range(per_blob)]


def distance(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_prototypes_end_near_the_true_centres_of_three_blobs(seed):
    X = blobs()
    net = nn.Competitive(2, 3, seed=seed)
    net.initialize_from(X)
    history = net.learn(X, lr=lambda epoch: 0.2 / (1 + epoch), epochs=15)
    nearest = [min(range(3), key=lambda k: distance(p, CENTRES[k])) for p in net.prototypes()]
    assert sorted(nearest) == [0, 1, 2]  # one prototype per blob
    assert all(distance(p, CENTRES[k]) < 0.15 for p, k in zip(net.prototypes(), nearest))
    assert history.error[-1] < 2 * 0.35 ** 2 * 1.2  # about the blobs' variance
    assert sorted(history.wins) == [60, 60, 60]
    labels = net.predict(X)
    assert all(labels[i] == nearest.index(i // 60) for i in range(len(X)))


def test_learning_is_seeded():
    X = blobs()
    runs = []
    for _ in range(2):
        net = nn.Competitive(2, 3, seed=5)
        net.initialize_from(X)
        runs.append((net.learn(X, lr=0.1, epochs=3).error, net.prototypes()))
    assert runs[0] == runs[1]


def test_only_the_winner_moves_towards_the_input():
    net = nn.Competitive(2, 2, init=0.0)
    net.units[1].w[0].data = 4.0
    net.learn([[3.0, 1.0]], lr=0.5, epochs=1)
    assert net.prototypes() == [[0.0, 0.0], [3.5, 0.5]]
    assert net.winner([3.0, 1.0]) == 1 and net.winner([0.0, 0.0]) == 0


def test_scores_are_a_graph_with_the_derivative_2_x_minus_w():
    net = nn.Competitive(2, 2, init=0.5)
    scores = net([1.5, -0.5])
    assert [s.data for s in scores] == [-2.0, -2.0]
    scores[0].backward()
    assert [w.grad for w in net.units[0].w] == [2.0, -2.0]
    assert autograd.gradcheck(lambda a, b: net.units[0]([a, b]), [autograd.Value(0.3), autograd.Value(0.9)])


def test_save_and_load_round_trip(tmp_path):
    X = blobs()
    net = nn.Competitive(2, 3, seed=0)
    net.initialize_from(X)
    net.learn(X, lr=0.1, epochs=2)
    path = tmp_path / "clusters.json"
    net.save(path)
    again = nn.Competitive(2, 3, init=0.0)
    again.load(path)
    assert again.prototypes() == net.prototypes()
    other = nn.Competitive(2, 4, init=0.0)
    with pytest.raises(ValueError, match="Competitive"):
        other.load(path)
    assert other.prototypes() == [[0.0, 0.0]] * 4


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Competitive(0, 3), "nin must be a positive int"),
    (lambda: nn.Competitive(2, True), "nunits must be a positive int"),
    (lambda: nn.Competitive(10**4, 10**4), "limit"),
])
def test_bad_construction_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_data_and_rates_are_refused_and_change_nothing():
    net = nn.Competitive(2, 3, init=0.25)
    with pytest.raises(ValueError, match="X row 1 has 3 values but the model takes 2 inputs"):
        net.learn([[0, 0], [1, 2, 3]])
    with pytest.raises(ValueError, match="X row 0, column 1 is nan"):
        net.winner([0.0, float("nan")])
    with pytest.raises(ValueError, match="learning rate must be a number in \\(0, 1\\]"):
        net.learn([[0.0, 0.0]], lr=1.5)
    with pytest.raises(ValueError, match="at epoch 2"):
        net.learn([[1.0, 1.0]], lr=lambda epoch: 0.5 if epoch < 2 else 0.0, epochs=4)
    with pytest.raises(ValueError, match="epochs"):
        net.learn([[1.0, 1.0]], epochs=-1)
    with pytest.raises(ValueError, match="at least 3 samples"):
        net.initialize_from([[0.0, 0.0], [1.0, 1.0]])
    assert net.prototypes() == [[0.25, 0.25]] * 3
