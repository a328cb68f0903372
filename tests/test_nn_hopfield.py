"""Hopfield networks: Hebbian storage, recall of noisy patterns, the energy, files, bad input."""

import random
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn

# Three 5x5 letters, row by row: 1 = ink, -1 = paper.
LETTERS = {
    "T": ["#####", "..#..", "..#..", "..#..", "..#.."],
    "L": ["#....", "#....", "#....", "#....", "#####"],
    "X": ["#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
}


def letter(name):
    return [1 if c == "#" else -1 for row in LETTERS[name] for c in row]


def noisy(pattern, flips, rng):
    out = list(pattern)
    for i in rng.sample(range(len(out)), flips):
        out[i] = -out[i]
    return out


def random_patterns(count, n, seed):
    rng = random.Random(seed)
    return [[rng.choice((-1, 1)) for _ in range(n)] for _ in range(count)]


def test_store_is_hebbs_rule_symmetric_with_a_zero_diagonal():
    patterns = [letter(name) for name in LETTERS]
    net = nn.Hopfield(25)
    net.store(patterns)
    W = np.array(net.weight_matrix())
    P = np.array(patterns, dtype=float)
    expected = P.T @ P
    np.fill_diagonal(expected, 0.0)
    assert np.array_equal(W, expected)
    assert np.array_equal(W, W.T) and not np.any(np.diag(W))
    assert len(net.parameters()) == 25 * 24 // 2


def test_store_replaces_the_previous_memories():
    net = nn.Hopfield(25)
    net.store([letter("T")])
    net.store([letter("L")])
    other = nn.Hopfield(25)
    other.store([letter("L")])
    assert np.array_equal(net.weight_matrix(), other.weight_matrix())


def test_the_three_letters_are_stable_states():
    net = nn.Hopfield(25)
    net.store([letter(name) for name in LETTERS])
    for name in LETTERS:
        result = net.recall(letter(name), seed=0)
        assert result.state == letter(name) and result.converged
        assert result.energies == [result.energies[0]] * len(result.energies)  # nothing moves


@pytest.mark.parametrize("mode, at_least", [("async", 94), ("sync", 99)])
def test_each_letter_is_recalled_from_20_percent_noise_nearly_always(mode, at_least):
    # 5 of 25 pixels flipped at random; a few such starts lie nearer another minimum
    # (a spurious mixture of the letters), so recall succeeds in 94 to 100 of 100 tries.
    net = nn.Hopfield(25)
    net.store([letter(name) for name in LETTERS])
    rng = random.Random(zlib.crc32(b"letters"))
    for name in LETTERS:
        recalled = sum(net.recall(noisy(letter(name), 5, rng), mode, seed=rng).state == letter(name)
                       for _ in range(100))
        assert recalled >= at_least, (name, recalled)


def test_asynchronous_energy_falls_to_the_stored_letters_energy():
    net = nn.Hopfield(25)
    net.store([letter(name) for name in LETTERS])
    start = noisy(letter("X"), 5, random.Random(1))
    result = net.recall(start, seed=1)
    assert result.energies[0] == net.energy(start)
    assert result.energies[-1] == net.energy(letter("X")) < result.energies[0]
    assert all(b <= a for a, b in zip(result.energies, result.energies[1:]))
    assert len(result.energies) % 25 == 1  # the start, then one per unit visited


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), count=st.integers(1, 8), seed=st.integers(0, 2**32 - 1),
       at_zero=st.sampled_from([1, -1, "keep"]))
def test_asynchronous_energy_never_rises_and_ends_stable(n, count, seed, at_zero):
    net = nn.Hopfield(n, at_zero=at_zero)
    net.store(random_patterns(count, n, seed))
    start = random_patterns(1, n, seed + 1)[0]
    result = net.recall(start, "async", seed=seed)
    assert all(b <= a for a, b in zip(result.energies, result.energies[1:]))
    assert result.converged
    assert result.energies[-1] == pytest.approx(net.energy(result.state), abs=1e-9)
    assert net.recall(result.state, seed=seed).state == result.state  # a fixed point


def test_synchronous_updates_can_oscillate_between_two_states():
    net = nn.Hopfield(2)
    net.store([[1, -1]])
    result = net.recall([1, 1], "sync")
    assert result.state in ([1, 1], [-1, -1]) and not result.converged
    assert result.energies == [1.0, 1.0, 1.0]
    assert net.recall([1, 1], "async", order="sequential").state == [-1, 1]


@pytest.mark.parametrize("at_zero, expected", [(1, [1, 1, 1]), (-1, [-1, -1, -1]), ("keep", [1, -1, 1])])
def test_the_sign_convention_at_zero_is_the_users(at_zero, expected):
    net = nn.Hopfield(3, at_zero=at_zero)  # no memories: every unit's input is 0
    assert net.recall([1, -1, 1], order="sequential").state == expected
    assert net.recall([1, -1, 1], "sync").state == expected


def test_recall_is_seeded_and_the_module_call_recalls():
    net = nn.Hopfield(30)
    net.store(random_patterns(5, 30, 3))
    start = random_patterns(1, 30, 4)[0]
    assert net.recall(start, seed=7) == net.recall(start, seed=7)
    assert net(start) == net.recall(start, seed=0).state
    assert net.recall(np.array(start), seed=7) == net.recall(start, seed=7)


def test_capacity_random_patterns_beyond_0_14_n_stop_being_stable():
    def stable_fraction(count, n=100, seed=11):
        net = nn.Hopfield(n)
        patterns = random_patterns(count, n, seed)
        net.store(patterns)
        return np.mean([net.recall(p, seed=0).state == p for p in patterns])

    assert stable_fraction(5) == 1.0
    assert stable_fraction(40) < 0.5


def test_save_and_load_round_trip(tmp_path):
    net = nn.Hopfield(25, at_zero="keep")
    net.store([letter(name) for name in LETTERS])
    path = tmp_path / "letters.json"
    net.save(path)
    again = nn.Hopfield(25, at_zero="keep")
    again.load(path)
    assert np.array_equal(again.weight_matrix(), net.weight_matrix())
    wrong = nn.Hopfield(16)
    with pytest.raises(ValueError, match="Hopfield"):
        wrong.load(path)
    assert not np.any(wrong.weight_matrix())  # a failed load changes nothing


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Hopfield(0), "number of units\\) must be a positive int"),
    (lambda: nn.Hopfield(True), "must be a positive int, got True"),
    (lambda: nn.Hopfield(2.5), "must be a positive int, got 2.5"),
    (lambda: nn.Hopfield(10**6), "at most 4096 units"),
    (lambda: nn.Hopfield(3, at_zero=0), "at_zero must be 1, -1 or 'keep'"),
])
def test_bad_construction_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_states_and_options_are_refused_by_name():
    net = nn.Hopfield(3)
    with pytest.raises(ValueError, match=r"pattern 0\[1\] is 0: Hopfield states are -1 or \+1"):
        net.store([[1, 0, 1]])
    with pytest.raises(ValueError, match="pattern 1 has 2 values but the network has 3 units"):
        net.store([[1, 1, 1], [1, 1]])
    with pytest.raises(ValueError, match="at least one pattern"):
        net.store([])
    with pytest.raises(TypeError, match="pattern 0 must be a list"):
        net.store([1, -1, 1])  # one pattern, not wrapped in a list
    with pytest.raises(ValueError, match=r"state\[2\] is nan"):
        net.recall([1, 1, float("nan")])
    with pytest.raises(TypeError, match="state must be a list"):
        net.energy("+-+")
    with pytest.raises(ValueError, match="mode must be 'async'"):
        net.recall([1, 1, 1], mode="parallel")
    with pytest.raises(ValueError, match="max_sweeps"):
        net.recall([1, 1, 1], max_sweeps=0)
    with pytest.raises(ValueError, match="order must be"):
        net.recall([1, 1, 1], order="backwards")
    assert not np.any(net.weight_matrix())  # the refused stores left the weights alone
