"""Hopfield networks: Hebbian storage, associative recall and the energy that recall lowers.

A Hopfield network of ``n`` sign units (states -1 or +1) is fully connected by
symmetric weights with no self-connections. ``store`` sets the weights by Hebb's rule,
W = sum over the patterns p of p p^T with a zero diagonal, so each stored pattern
becomes a minimum of the energy

    E(s) = -1/2 sum_ij w_ij s_i s_j.

``recall`` starts from a (noisy) state and updates units, s_i <- sign(sum_j w_ij s_j),
until nothing changes. Updated one at a time (asynchronously) a unit's flip changes
the energy by -(new s_i - old s_i) h_i <= 0, so the energy never rises and recall
always ends in a stable state; updated all at once (synchronously) it can instead
alternate between two states.

The weights are parameters like any module's (the upper triangle, ``w.k`` for the
k-th pair i < j in row order), so a network is saved and loaded with ``save`` and
``load``; they are learned by the Hebbian rule, not by gradients.
"""

from __future__ import annotations

import numbers
import random
from operator import mul
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from autograd import Parameter

from .init import Seed, make_rng
from .layers import positive_int
from .module import Module
from .registry import register_module

__all__ = ["Hopfield", "HopfieldRecall"]

_AT_ZERO = (1, -1, "keep")
MAX_UNITS = 4096  # n (n - 1) / 2 weights: 8.4 million Parameters is already too many


class HopfieldRecall(NamedTuple):
    """What :meth:`Hopfield.recall` returns.

    ``state``: the final state (a list of -1/+1); ``energies``: the energy of the
    starting state, then after each update (each unit visited asynchronously, or each
    synchronous step); ``converged``: whether recall ended in a stable state.

    Example (one flipped unit is put right; the energy falls from 0 to -6):
        >>> net = Hopfield(4); net.store([[1, -1, 1, -1]])
        >>> recall = net.recall([1, 1, 1, -1])
        >>> recall.state, recall.converged, recall.energies[0], recall.energies[-1]
        ([1, -1, 1, -1], True, -0.0, -6.0)
    """

    state: list[int]
    energies: list[float]
    converged: bool


@register_module
class Hopfield(Module):
    """A Hopfield network of ``n`` sign units with symmetric weights and no self-connections.

    ``at_zero`` is the sign convention when a unit's input is exactly 0: ``1`` (the
    unit becomes +1, as sign(0) = 1 in the course's notes), ``-1``, or ``"keep"`` (the
    unit keeps its state). Either way the asynchronous energy never rises.

    Example (store one pattern, recall it from a copy with one unit flipped):
        >>> net = Hopfield(4)
        >>> net.store([[1, -1, 1, -1]])
        >>> net.energy([1, -1, 1, -1])
        -6.0
        >>> result = net.recall([1, 1, 1, -1])
        >>> result.state, result.converged
        ([1, -1, 1, -1], True)
    """

    config_fields = ("n", "at_zero")

    def __init__(self, n: int, *, at_zero: int | str = 1) -> None:
        n = _unit_count(n)
        if isinstance(at_zero, bool) or at_zero not in _AT_ZERO:
            raise ValueError(f"at_zero must be 1, -1 or 'keep' (what a unit does when its input is 0), "
                             f"got {at_zero!r}")
        self.n = n
        self.at_zero = at_zero
        self._pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]  # i < j, row by row
        self.w = [Parameter(0.0, f"w{i},{j}") for i, j in self._pairs]

    # -- the architecture, for nn.save / nn.load --------------------------------------
    def config(self) -> dict[str, Any]:
        return {"type": "Hopfield", "n": self.n, "at_zero": self.at_zero}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Hopfield:
        return cls(config["n"], at_zero=config["at_zero"])

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        n = _unit_count(config["n"])
        return n * (n - 1) // 2

    @property
    def nin(self) -> int:
        """The number of units: a state has ``n`` values in and out."""
        return self.n

    @property
    def nout(self) -> int:
        return self.n

    def extra_repr(self) -> str:
        return f"n={self.n}, at_zero={self.at_zero!r}"

    # -- weights ------------------------------------------------------------------------
    def store(self, patterns: Any) -> None:
        """Set the weights by Hebb's rule: W = sum of p p^T over ``patterns``, diagonal 0.

        ``patterns`` is a list of states (each ``n`` values, -1 or +1). The previous
        weights are replaced; to add a pattern, store the old ones with it.

        Example:
            >>> net = Hopfield(3)
            >>> net.store([[1, 1, -1], [1, -1, -1]])
            >>> net.weight_matrix()
            [[0.0, 0.0, -2.0], [0.0, 0.0, 0.0], [-2.0, 0.0, 0.0]]
        """
        patterns = _as_list(patterns, "patterns", "states")
        rows = [self._checked_state(p, f"pattern {k}") for k, p in enumerate(patterns)]
        if not rows:
            raise ValueError("store needs at least one pattern")
        columns = list(zip(*rows))  # column i: unit i's value in every pattern
        for weight, (i, j) in zip(self.w, self._pairs):
            weight.data = float(sum(map(mul, columns[i], columns[j])))

    def weight_matrix(self) -> list[list[float]]:
        """The full n x n weight matrix (symmetric, zero diagonal), row by row.

        Example:
            >>> Hopfield(2).weight_matrix()
            [[0.0, 0.0], [0.0, 0.0]]
        """
        matrix = [[0.0] * self.n for _ in range(self.n)]
        # Read through _data as Module.state_dict does: the .data property's tracing check
        # made this 80% of a 100-unit recall (12 ms of 15 ms; with _data, 0.5 ms of 2 ms).
        for (i, j), weight in zip(self._pairs, self.w):
            matrix[i][j] = matrix[j][i] = weight._data
        return matrix

    # -- dynamics -------------------------------------------------------------------------
    def energy(self, state: Sequence[int]) -> float:
        """E(s) = -1/2 sum_ij w_ij s_i s_j.

        Example:
            >>> net = Hopfield(2); net.store([[1, -1]])
            >>> net.energy([1, -1]), net.energy([1, 1])
            (-1.0, 1.0)
        """
        return _energy(self.weight_matrix(), self._checked_state(state, "state"))

    def recall(self, state: Sequence[int], mode: str = "async", *, max_sweeps: int = 100,
               order: str = "random", seed: Seed = None) -> HopfieldRecall:
        """Update the units from ``state`` until it is stable (or ``max_sweeps`` sweeps).

        ``mode="async"``: one unit at a time, each sweep visiting every unit once, in a
        seeded random order (``order="random"``, ``seed`` an int or ``random.Random``)
        or in index order (``order="sequential"``); the energy is recorded after every
        unit's update. ``mode="sync"``: every unit at once from the previous state, the
        energy recorded after each step; a state that returns two steps later is a
        2-cycle and ends recall unconverged.

        Example:
            >>> net = Hopfield(3); net.store([[1, -1, 1]])
            >>> state, energies, converged = net.recall([-1, -1, 1], order="sequential")
            >>> state, energies, converged
            ([1, -1, 1], [1.0, -3.0, -3.0, -3.0, -3.0, -3.0, -3.0], True)
        """
        s = self._checked_state(state, "state")
        if isinstance(max_sweeps, bool) or not isinstance(max_sweeps, numbers.Integral) or max_sweeps < 1:
            raise ValueError(f"max_sweeps must be a whole number >= 1, got {max_sweeps!r}")
        if order not in ("random", "sequential"):
            raise ValueError(f"order must be 'random' or 'sequential', got {order!r}")
        weights = self.weight_matrix()
        if mode == "async":
            return self._recall_async(weights, s, int(max_sweeps), order, make_rng(seed))
        if mode == "sync":
            return self._recall_sync(weights, s, int(max_sweeps))
        raise ValueError(f"mode must be 'async' (one unit at a time) or 'sync' (all at once), got {mode!r}")

    def forward(self, state: Sequence[int]) -> list[int]:
        """The recalled state (asynchronous, seeded by ``0``): ``net(state)``.

        Example:
            >>> net = Hopfield(3); net.store([[1, -1, 1]])
            >>> net([1, 1, 1])
            [1, -1, 1]
        """
        return self.recall(state, seed=0).state

    def _recall_async(self, weights: list[list[float]], s: list[int], max_sweeps: int, order: str,
                      rng: random.Random) -> HopfieldRecall:
        energy = _energy(weights, s)
        energies = [energy]
        units = list(range(self.n))
        for _ in range(max_sweeps):
            if order == "random":
                rng.shuffle(units)
            changed = False
            for i in units:
                field, old = sum(map(mul, weights[i], s)), s[i]
                new = self._sign(field, old)
                if new != old:
                    energy -= (new - old) * field  # dE = -(new - old) h_i: never positive
                    s[i] = new
                    changed = True
                energies.append(energy)
            if not changed:
                return HopfieldRecall(s, energies, True)
        return HopfieldRecall(s, energies, False)

    def _recall_sync(self, weights: list[list[float]], s: list[int], max_sweeps: int) -> HopfieldRecall:
        energies = [_energy(weights, s)]
        previous = None
        for _ in range(max_sweeps):
            new = [self._sign(sum(map(mul, row, s)), old) for row, old in zip(weights, s)]
            energies.append(_energy(weights, new))
            if new == s:
                return HopfieldRecall(new, energies, True)
            if new == previous:
                return HopfieldRecall(new, energies, False)  # a 2-cycle
            previous, s = s, new
        return HopfieldRecall(s, energies, False)

    def _sign(self, field: float, old: int) -> int:
        if field > 0:
            return 1
        if field < 0:
            return -1
        return old if self.at_zero == "keep" else int(self.at_zero)

    def _checked_state(self, state: Any, what: str) -> list[int]:
        values = _as_list(state, what, "-1/+1 values")
        if len(values) != self.n:
            raise ValueError(f"{what} has {len(values)} values but the network has {self.n} units")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or v not in (-1, 1):
                raise ValueError(f"{what}[{i}] is {v!r}: Hopfield states are -1 or +1 "
                                 "(map 0/1 data with 2 x - 1)")
        return [int(v) for v in values]


def _unit_count(n: Any) -> int:
    count = positive_int("a Hopfield network's n (its number of units)", n)
    if count > MAX_UNITS:
        raise ValueError(f"a Hopfield network has at most {MAX_UNITS} units here "
                         f"({MAX_UNITS} * {MAX_UNITS - 1} / 2 weights), got {count}")
    return count


def _energy(weights: list[list[float]], s: list[int]) -> float:
    return -0.5 * sum(si * sum(w * sj for w, sj in zip(row, s)) for row, si in zip(weights, s))


def _as_list(values: Any, what: str, items: str) -> list[Any]:
    """``values`` as a list (a NumPy array too), or a TypeError naming ``what`` and its ``items``."""
    if hasattr(values, "tolist"):  # a NumPy array
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{what} must be a list of {items}, got {type(values).__name__}")
    return list(values)
