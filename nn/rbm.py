"""Restricted Boltzmann machines: stochastic binary units that learn by sampling.

An RBM has ``nvisible`` binary visible units v and ``nhidden`` binary hidden units h,
connected by weights W (no connections inside a layer: "restricted"), with biases b
(visible) and c (hidden). A joint state has the energy

    E(v, h) = -b . v - c . h - h . W v,

and the machine gives it the probability exp(-E) / Z. Summing h out gives the *free
energy* of a visible vector, F(v) = -b . v - sum_j softplus(c_j + W_j . v), with
p(v) = exp(-F(v)) / Z: data the machine has learnt get a low free energy.

Because a layer has no inner connections, every unit of one layer is independent given
the other: p(h_j = 1 | v) = sigmoid(c_j + W_j . v) and p(v_i = 1 | h) =
sigmoid(b_i + sum_j W_ji h_j), so a *Gibbs step* samples all of h, then all of v.
**Contrastive divergence** (CD-k) trains the machine: start a chain at a data vector
v0, take k Gibbs steps to vk, and descend the gradient of F(v0) - F(vk). That gradient,
taken here by autograd from the free energy, is the classic rule
dW = <v h>_data - <v h>_model.

Example:
    >>> import nn
    >>> rbm = nn.RBM(6, 2, seed=0)
    >>> history = rbm.learn([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]] * 5, epochs=20, lr=0.5,
    ...                      batch_size=2, seed=0)
    >>> [round(p) for p in rbm.reconstruct([1, 1, 1, 0, 0, 0])]
    [1, 1, 1, 0, 0, 0]
"""

from __future__ import annotations

import math
import operator
import random
from typing import Any
from collections.abc import Mapping, Sequence

import autograd
from autograd import Parameter, Value
from autograd.ops import FLOAT_MATH

from .init import Seed, make_rng
from .layers import positive_int, as_inputs
from .module import Module
from .optim import SGD, Optimizer
from .registry import register_module
from .checks import check_inputs
from .train import History

__all__ = ["RBM"]

Vector = Sequence[float]


@register_module
class RBM(Module):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Args:
        nvisible: number of visible units (the size of a data vector, values in [0, 1]).
        nhidden: number of hidden units.
        weight_scale: weights start as N(0, weight_scale^2) draws, biases at 0.
        seed: an int or a ``random.Random`` for the initial weights.

    Its parameters are ``W`` (the ``nhidden x nvisible`` weights, stored row by row:
    ``W[j * nvisible + i]`` joins hidden unit j and visible unit i), ``b`` (the visible
    biases) and ``c`` (the hidden biases). Calling the machine on a
    visible vector gives p(h = 1 | v) as Values.

    Example:
        >>> rbm = RBM(3, 2, seed=0)
        >>> len(rbm.parameters()), [round(p.data, 2) for p in rbm([1, 0, 1])]
        (11, [0.5, 0.5])
    """

    _weight_names = ("W",)
    _bias_names = ("b", "c")

    def __init__(self, nvisible: int, nhidden: int, *, weight_scale: float = 0.01, seed: Seed = None) -> None:
        self.nvisible = positive_int("nvisible", nvisible)
        self.nhidden = positive_int("nhidden", nhidden)
        if not (isinstance(weight_scale, (int, float)) and math.isfinite(weight_scale) and weight_scale >= 0):
            raise ValueError(f"weight_scale must be a finite number >= 0, got {weight_scale!r}")
        rng = make_rng(seed)
        self.W = [Parameter(rng.gauss(0.0, weight_scale) if weight_scale else 0.0, f"W{j}_{i}")
                        for j in range(self.nhidden) for i in range(self.nvisible)]
        self.b = [Parameter(0.0, f"b{i}") for i in range(self.nvisible)]
        self.c = [Parameter(0.0, f"c{j}") for j in range(self.nhidden)]
        self._rows = [self.W[j * self.nvisible:(j + 1) * self.nvisible] for j in range(self.nhidden)]

    @property
    def nin(self) -> int:
        """The size of a data vector: ``nvisible``."""
        return self.nvisible

    # -- the model's probabilities (floats) --------------------------------------------
    def hidden_probabilities(self, v: Vector) -> list[float]:
        """p(h_j = 1 | v) = sigmoid(c_j + W_j . v) for every hidden unit.

        Example:
            >>> RBM(2, 1, weight_scale=0).hidden_probabilities([1, 1])
            [0.5]
        """
        return _up(self._numbers(), self._visible(v))

    def visible_probabilities(self, h: Vector) -> list[float]:
        """p(v_i = 1 | h) = sigmoid(b_i + sum_j W_ji h_j) for every visible unit.

        Example:
            >>> RBM(2, 1, weight_scale=0).visible_probabilities([1])
            [0.5, 0.5]
        """
        return _down(self._numbers(), _vector(h, self.nhidden, "a hidden vector"))

    def reconstruct(self, v: Vector) -> list[float]:
        """One deterministic pass up and down: p(v | h = p(h | v)), the machine's reconstruction.

        Example:
            >>> RBM(2, 3, weight_scale=0).reconstruct([1, 0])
            [0.5, 0.5]
        """
        return self.visible_probabilities(self.hidden_probabilities(v))

    def reconstruction_error(self, X: Sequence[Vector]) -> float:
        """Mean over the rows of X of the mean squared difference between v and its reconstruction.

        Example:
            >>> RBM(2, 3, weight_scale=0).reconstruction_error([[1, 0], [1, 1]])
            0.25
        """
        return _reconstruction_error(self._numbers(), self._rows_of(X))

    # -- sampling ---------------------------------------------------------------------------
    def gibbs(self, v: Vector, steps: int = 1, seed: Seed = None) -> list[float]:
        """``steps`` Gibbs steps from the visible vector v (h ~ p(h | v), then v ~ p(v | h)).

        Example:
            >>> RBM(4, 2, weight_scale=0).gibbs([1, 1, 1, 1], steps=3, seed=0)
            [0.0, 1.0, 0.0, 0.0]
        """
        return _chain(self._numbers(), self._visible(v), positive_int("steps", steps), make_rng(seed))

    def sample(self, count: int, steps: int = 200, seed: Seed = None,
               start: Sequence[Vector] | None = None, mean: bool = False) -> list[list[float]]:
        """``count`` visible vectors from chains of ``steps`` Gibbs steps each.

        Chains start from random binary vectors (or from the rows of ``start``). With
        ``mean=True`` the last half-step gives p(v | h) instead of a 0/1 draw: smoother
        pictures of what the machine has learnt.

        Example:
            >>> samples = RBM(5, 2, seed=0).sample(3, steps=10, seed=1)
            >>> len(samples), all(x in (0.0, 1.0) for row in samples for x in row)
            (3, True)
        """
        rng = make_rng(seed)
        count = positive_int("count", count)
        if start is None:
            chains = [[float(rng.random() < 0.5) for _ in range(self.nvisible)] for _ in range(count)]
        else:
            chains = self._rows_of(start)
            if len(chains) != count:
                raise ValueError(f"start has {len(chains)} rows but count is {count}: one start per chain")
        numbers = self._numbers()
        samples = []
        for v in chains:
            v = _chain(numbers, v, positive_int("steps", steps) - 1, rng)
            probabilities = _down(numbers, _draw(_up(numbers, v), rng))
            samples.append(probabilities if mean else _draw(probabilities, rng))
        return samples

    # -- energies (Values: they have gradients) --------------------------------------------
    def energy(self, v: Vector, h: Vector) -> Value:
        """E(v, h) = -b . v - c . h - h . W v of a joint state.

        Example:
            >>> rbm = RBM(2, 1, weight_scale=0); rbm.W[1].data = 2.0
            >>> rbm.energy([0, 1], [1]).data
            -2.0
        """
        v = self._visible(v)
        h = _vector(h, self.nhidden, "a hidden vector")
        coupling = [autograd.dot(row, v) for row in self._rows]
        return -(autograd.dot(self.b, v) + autograd.dot(self.c, h) + autograd.dot(coupling, h))

    def free_energy(self, v: Vector) -> Value:
        """F(v) = -b . v - sum_j softplus(c_j + W_j . v); p(v) is proportional to exp(-F(v)).

        Example:
            >>> round(RBM(2, 1, weight_scale=0).free_energy([1, 0]).data, 6)  # -log 2
            -0.693147
        """
        inputs = as_inputs(self._visible(v), self.nvisible, "RBM")
        hidden = [autograd.dot(row, inputs, c).softplus() for row, c in zip(self._rows, self.c)]
        return -(autograd.dot(self.b, inputs) + autograd.sum(hidden))

    def forward(self, v: Sequence[Value | float]) -> list[Value]:
        inputs = as_inputs(v, self.nvisible, "RBM")
        return [autograd.dot(row, inputs, c).sigmoid() for row, c in zip(self._rows, self.c)]

    # -- learning ---------------------------------------------------------------------------
    def contrastive_divergence(self, batch: Sequence[Vector], k: int = 1, seed: Seed = None) -> Value:
        """The CD-k objective of a batch: mean F(v0) - mean F(vk), the chains' ends held fixed.

        Its gradient (``backward()``) is the CD-k estimate of the negative log-likelihood's
        gradient: -(<v h>_data - <v h>_model) for W, and likewise for the biases.

        Example:
            >>> rbm = RBM(3, 2, seed=0)
            >>> end = rbm.gibbs([1, 0, 1], steps=1, seed=5)  # the chain the objective runs
            >>> rbm.contrastive_divergence([[1, 0, 1]], k=1, seed=5).backward()
            >>> [b.grad for b in rbm.b] == [vk - v0 for v0, vk in zip([1, 0, 1], end)]
            True
        """
        rng = make_rng(seed)
        rows = self._rows_of(batch)
        numbers = self._numbers()
        ends = [_chain(numbers, v, positive_int("k", k), rng) for v in rows]
        data = autograd.sum([self.free_energy(v) for v in rows])
        model = autograd.sum([self.free_energy(v) for v in ends])
        return (data - model) * (1.0 / len(rows))

    def learn(self, X: Sequence[Vector], epochs: int = 10, lr: float = 0.1, k: int = 1,
              batch_size: int = 10, optimizer: Optimizer | None = None, seed: Seed = None) -> History:
        """Train by CD-k on the rows of X (values in [0, 1]); return the :class:`nn.History`.

        Each epoch visits the rows in a new seeded order, in mini-batches, and takes one
        optimizer step per batch (``SGD(self, lr=lr)`` unless ``optimizer`` is given).
        ``history.loss[e]`` is the reconstruction error after epoch e.

        Example:
            >>> rbm = RBM(4, 2, seed=0)
            >>> rbm.learn([[1, 1, 0, 0], [0, 0, 1, 1]], epochs=3, batch_size=2, seed=0)
            History(epochs=3, updates=3, loss=0.2504...)
        """
        rows = self._rows_of(X)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
        batch_size = positive_int("batch_size", batch_size)
        k = positive_int("k", k)
        if optimizer is None:
            optimizer = SGD(self, lr=lr)
        rng = make_rng(seed)
        history = History()
        order = list(range(len(rows)))
        for _ in range(epochs):
            rng.shuffle(order)
            for start in range(0, len(rows), batch_size):
                batch = [rows[i] for i in order[start:start + batch_size]]
                gradients = _cd_gradients(self._numbers(), batch, k, rng)
                for parameter, gradient in zip(self.parameters(), gradients):
                    parameter.grad = gradient
                optimizer.step()
                history.updates += 1
            history.loss.append(_reconstruction_error(self._numbers(), rows))
        return history

    # -- checks and files -------------------------------------------------------------------
    def _numbers(self) -> _Numbers:
        """The parameters' current values as floats: rows of W, b and c (for fast sampling)."""
        return ([[w._data for w in row] for row in self._rows], [b._data for b in self.b],
                [c._data for c in self.c])

    def _visible(self, v: Vector) -> list[float]:
        return _vector(v, self.nvisible, "a visible vector")

    def _rows_of(self, X: Any) -> list[list[float]]:
        rows = check_inputs(self, X)
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                if not 0.0 <= x <= 1.0:
                    raise ValueError(f"X row {i}, column {j} is {x!r}: an RBM's visible units take "
                                     "values in [0, 1] (binary data or probabilities)")
        return rows

    config_fields = ("nvisible", "nhidden")

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nvisible = positive_int("nvisible", config["nvisible"])
        nhidden = positive_int("nhidden", config["nhidden"])
        return nvisible * nhidden + nvisible + nhidden

    def config(self) -> dict[str, Any]:
        return {"type": "RBM", "nvisible": self.nvisible, "nhidden": self.nhidden}

    def extra_repr(self) -> str:
        return f"nvisible={self.nvisible}, nhidden={self.nhidden}"


def _vector(values: Any, size: int, what: str) -> list[float]:
    if isinstance(values, (str, bytes, Value)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a sequence of {size} numbers, got {type(values).__name__}")
    if len(values) != size:
        raise ValueError(f"{what} must have {size} values, got {len(values)}")
    return [v.data if isinstance(v, Value) else float(v) for v in values]


# Sampling and learning run on plain floats, a snapshot of the parameters (_Numbers):
# an epoch of CD-1 on 300 digits (64 visible, 32 hidden units) took 4.7 s through Value
# graphs of the free energy and takes 0.6 s on floats (measured). The gradient is the same:
# tests compare it with autograd's gradient of contrastive_divergence().
_Numbers = tuple[list[list[float]], list[float], list[float]]


def _up(numbers: _Numbers, v: list[float]) -> list[float]:
    """p(h = 1 | v) for each hidden unit."""
    W, _, c = numbers
    return [FLOAT_MATH.sigmoid(cj + sum(map(operator.mul, row, v))) for row, cj in zip(W, c)]


def _down(numbers: _Numbers, h: list[float]) -> list[float]:
    """p(v = 1 | h) for each visible unit."""
    W, b, _ = numbers
    totals = list(b)
    for row, hj in zip(W, h):
        if hj:
            totals = [t + w * hj for t, w in zip(totals, row)]
    return [FLOAT_MATH.sigmoid(t) for t in totals]


def _chain(numbers: _Numbers, v: list[float], steps: int, rng: random.Random) -> list[float]:
    """``steps`` Gibbs steps from v: h ~ p(h | v), then v ~ p(v | h)."""
    for _ in range(steps):
        v = _draw(_down(numbers, _draw(_up(numbers, v), rng)), rng)
    return v


def _cd_gradients(numbers: _Numbers, batch: list[list[float]], k: int, rng: random.Random) -> list[float]:
    """The gradient of contrastive_divergence(batch, k), in parameter order (W row by row, b, c).

    d/dW_ji [F(v0) - F(vk)] = -(p(h_j | v0) v0_i - p(h_j | vk) vk_i); the biases likewise.
    """
    W, b, c = numbers
    dW = [[0.0] * len(b) for _ in c]
    db, dc = [0.0] * len(b), [0.0] * len(c)
    scale = 1.0 / len(batch)
    for v0 in batch:
        vk = _chain(numbers, v0, k, rng)
        for v, sign in ((v0, -scale), (vk, scale)):
            ph = _up(numbers, v)
            for j, pj in enumerate(ph):
                dW[j] = [g + sign * pj * x for g, x in zip(dW[j], v)]
                dc[j] += sign * pj
            db = [g + sign * x for g, x in zip(db, v)]
    return [g for row in dW for g in row] + db + dc


def _reconstruction_error(numbers: _Numbers, rows: list[list[float]]) -> float:
    errors = [math.fsum((x - r) ** 2 for x, r in zip(row, _down(numbers, _up(numbers, row)))) / len(row)
              for row in rows]
    return math.fsum(errors) / len(errors)


def _draw(probabilities: list[float], rng: random.Random) -> list[float]:
    """A 0/1 sample of independent units with the given probabilities of being 1."""
    return [1.0 if rng.random() < p else 0.0 for p in probabilities]

