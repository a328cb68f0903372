"""Competitive learning: units that compete for each input, the winner taking all.

Each unit holds a prototype w (a point in input space). For an input x the unit whose
prototype is nearest, ||x - w||^2 smallest, wins; learning moves only the winner
towards the input, w <- w + lr (x - w). Over the epochs the prototypes settle at the
centres of the clusters in the data (simple competitive learning, or online k-means).

Example (two clusters on a line):
    >>> net = Competitive(1, 2, seed=0)
    >>> net.initialize_from([[0.0], [10.0]], seed=0)
    >>> history = net.learn([[0.1], [-0.1], [9.9], [10.1]], lr=0.5, epochs=20, seed=0)
    >>> sorted(round(w[0], 1) for w in net.prototypes())
    [0.0, 10.0]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import autograd
from autograd import Parameter, Value

from .checks import check_inputs
from .init import InitSpec, Seed, make_rng, resolve_init
from .layers import positive_int
from .module import Module
from .registry import register_module

__all__ = ["Competitive", "CompetitiveHistory", "Prototype"]

LearningRate = Union[float, Callable[[int], float]]
MAX_WEIGHTS = 10_000_000


class Prototype(Module):
    """One competitive unit: its prototype ``w`` and, called on x, the score -||x - w||^2.

    Example:
        >>> unit = Prototype(2, init=1.0)
        >>> unit([1.0, 3.0]).data
        -4.0
    """

    _weight_names = ("w",)

    def __init__(self, nin: int, *, init: InitSpec = "uniform", seed: Seed = None) -> None:
        rng, initializer = make_rng(seed), resolve_init(init)
        self.nin = nin
        self.w = [Parameter(initializer.weight(rng, nin, 1), f"w{i}") for i in range(nin)]

    def forward(self, x: Sequence[Any]) -> Value:
        """-||x - w||^2 as a graph (one node per difference, one sum)."""
        return -autograd.sum([(xi - wi) ** 2 for xi, wi in zip(x, self.w)])


@dataclass
class CompetitiveHistory:
    """What :meth:`Competitive.learn` did: per epoch, the mean squared distance of the
    samples to their winning prototype (the quantisation error), and each unit's wins
    in the last epoch (a unit that never wins is "dead").

    Example:
        >>> from nn import Competitive
        >>> history = Competitive(1, 2, init=0.0).learn([[1.0], [1.2]], lr=0.5, epochs=3, shuffle=False)
        >>> history.epochs, history.wins  # the second unit never wins: it is dead
        (3, [2, 0])
        >>> history.error[0] > history.error[-1]
        True
    """

    error: list[float] = field(default_factory=list)
    wins: list[int] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.error)


@register_module
class Competitive(Module):
    """A winner-takes-all layer of ``nunits`` units on ``nin`` inputs.

    ``init`` and ``seed`` set the starting prototypes as for any layer (uniform in
    [-0.5, 0.5] by default); :meth:`initialize_from` starts them at distinct samples
    instead, which keeps every unit in the data's range.

    Example:
        >>> net = Competitive(2, 3, init=0.0)
        >>> net.winner([1.0, 2.0])  # all tied: the first unit wins
        0
    """

    config_fields = ("nin", "nunits")

    def __init__(self, nin: int, nunits: int, *, init: InitSpec = "uniform", seed: Seed = None) -> None:
        self.nin, self.nunits = _sizes(nin, nunits)
        self._rng = make_rng(seed)
        self.units = [Prototype(self.nin, init=init, seed=self._rng) for _ in range(self.nunits)]

    # -- the architecture, for nn.save / nn.load --------------------------------------
    def config(self) -> dict[str, Any]:
        return {"type": "Competitive", "nin": self.nin, "nunits": self.nunits}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Competitive:
        return cls(config["nin"], config["nunits"], init=0.0)

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, nunits = _sizes(config["nin"], config["nunits"])
        return nin * nunits

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nunits={self.nunits}"

    # -- using it -------------------------------------------------------------------------
    def forward(self, x: Sequence[Any]) -> list[Value]:
        """Each unit's score -||x - w||^2 as a Value; the largest is the winner's.

        Example:
            >>> net = Competitive(1, 2, init=0.0)
            >>> [s.data for s in net([2.0])]
            [-4.0, -4.0]
        """
        row = self._row(x)
        return [unit(row) for unit in self.units]

    def prototypes(self) -> list[list[float]]:
        """Every unit's prototype, as floats.

        Example:
            >>> Competitive(2, 1, init=0.5).prototypes()
            [[0.5, 0.5]]
        """
        return [[w.data for w in unit.w] for unit in self.units]

    def winner(self, x: Sequence[float]) -> int:
        """The index of the unit nearest to ``x`` (the lowest index on a tie).

        Example:
            >>> net = Competitive(1, 2, init=0.0)
            >>> net.units[1].w[0].data = 5.0
            >>> net.winner([4.0]), net.winner([1.0])
            (1, 0)
        """
        return _nearest(self.prototypes(), self._row(x))[0]

    def predict(self, X: Any) -> list[int]:
        """The winner for each row of ``X``.

        Example:
            >>> net = Competitive(1, 2, init=0.0); net.units[1].w[0].data = 5.0
            >>> net.predict([[0.0], [6.0]])
            [0, 1]
        """
        prototypes = self.prototypes()
        return [_nearest(prototypes, row)[0] for row in check_inputs(self, X)]

    # -- learning -------------------------------------------------------------------------
    def initialize_from(self, X: Any, seed: Seed = None) -> None:
        """Start the prototypes at samples of ``X`` that lie far apart (seeded).

        The first is a random sample; each next one a sample drawn with probability
        proportional to its squared distance from the nearest prototype chosen so far
        (k-means++ seeding). Units started inside the same cluster would split it and
        leave another cluster without a unit; spreading them out avoids that.

        Example:
            >>> net = Competitive(1, 2)
            >>> net.initialize_from([[1.0], [1.1], [9.0]], seed=0)
            >>> sorted(w[0] for w in net.prototypes())[1]
            9.0
        """
        rows = check_inputs(self, X)
        if len(rows) < self.nunits:
            raise ValueError(f"initialize_from needs at least {self.nunits} samples (one per unit), "
                             f"got {len(rows)}")
        rng = self._rng if seed is None else make_rng(seed)
        chosen = [rng.randrange(len(rows))]
        while len(chosen) < self.nunits:
            spread = [_nearest([rows[k] for k in chosen], row)[1] for row in rows]
            if not any(spread):  # fewer distinct samples than units: any sample will do
                chosen.append(rng.randrange(len(rows)))
                continue
            chosen.append(rng.choices(range(len(rows)), weights=spread)[0])
        for unit, k in zip(self.units, chosen):
            for w, value in zip(unit.w, rows[k]):
                w.data = value

    def learn(self, X: Any, lr: LearningRate = 0.1, epochs: int = 10, *, shuffle: bool = True,
              seed: Seed = None) -> CompetitiveHistory:
        """Simple competitive learning: for each sample, w_winner <- w_winner + lr (x - w_winner).

        ``lr`` is a number in (0, 1] or a schedule ``lr(epoch)``; samples are visited in
        a seeded random order each epoch (``shuffle=False``: in order).

        Example:
            >>> net = Competitive(1, 1, init=0.0)
            >>> net.learn([[4.0]], lr=0.5, epochs=2).error, net.prototypes()
            ([4.0, 1.0], [[3.0]])
        """
        rows = check_inputs(self, X)
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        rng = self._rng if seed is None else make_rng(seed)
        prototypes = self.prototypes()
        history = CompetitiveHistory()
        order = list(range(len(rows)))
        for epoch in range(int(epochs)):
            rate = _learning_rate(lr, epoch)
            if shuffle:
                rng.shuffle(order)
            wins = [0] * self.nunits
            for k in order:
                x = rows[k]
                winner = _nearest(prototypes, x)[0]
                wins[winner] += 1
                prototypes[winner] = [w + rate * (xi - w) for w, xi in zip(prototypes[winner], x)]
            history.error.append(sum(_nearest(prototypes, x)[1] for x in rows) / len(rows))
            history.wins = wins
        for unit, prototype in zip(self.units, prototypes):
            for w, value in zip(unit.w, prototype):
                w.data = value
        return history

    def _row(self, x: Any) -> list[float]:
        return check_inputs(self, [x])[0]


def _sizes(nin: Any, nunits: Any) -> tuple[int, int]:
    nin, nunits = positive_int("nin", nin), positive_int("nunits", nunits)
    if nin * nunits > MAX_WEIGHTS:
        raise ValueError(f"Competitive({nin}, {nunits}) would have {nin * nunits} weights; "
                         f"the limit is {MAX_WEIGHTS}")
    return nin, nunits


def _nearest(prototypes: list[list[float]], x: Sequence[float]) -> tuple[int, float]:
    """(index, squared distance) of the prototype nearest to ``x``; the first on a tie."""
    best, best_distance = 0, float("inf")
    for k, prototype in enumerate(prototypes):
        distance = sum((xi - wi) ** 2 for xi, wi in zip(x, prototype))
        if distance < best_distance:
            best, best_distance = k, distance
    return best, best_distance


def _learning_rate(lr: LearningRate, epoch: int) -> float:
    rate = lr(epoch) if callable(lr) else lr
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 < rate <= 1:
        raise ValueError(f"the learning rate must be a number in (0, 1] (a step towards the input), "
                         f"got {rate!r}" + (f" at epoch {epoch}" if callable(lr) else ""))
    return float(rate)
