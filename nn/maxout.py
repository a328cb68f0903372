"""Maxout units and layers: the largest of several linear pieces, max(w1 . x + b1, ..., wk . x + bk).

Example:
    >>> layer = Maxout(2, 3, pieces=2, seed=0)
    >>> len(layer([1.0, -1.0]))
    3
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import autograd
from autograd import Value

from .init import InitSpec, Seed, make_rng
from .layers import Neuron
from .parts import ScopedByIndex, as_inputs, positive_int, weighted_sum
from .module import Module
from .registry import register_module

__all__ = ["Maxout", "MaxoutUnit"]


class MaxoutUnit(ScopedByIndex, Module):
    """One maxout unit: max(w1 . x + b1, ..., wk . x + bk) over ``pieces`` linear pieces.

    Example:
        >>> unit = MaxoutUnit(2, pieces=2, seed=0)
        >>> unit.pieces[0].load_state_dict({"w.0": 1, "w.1": 0, "b": 0})
        >>> unit.pieces[1].load_state_dict({"w.0": -1, "w.1": 0, "b": 0})
        >>> unit([-3.0, 5.0]).data  # max(x0, -x0) = |x0|
        3.0
    """

    scope_kind = "neuron"

    def __init__(self, nin: int, pieces: int = 2, *, init: InitSpec = "uniform", seed: Seed = None,
                 fan_out: int = 1) -> None:
        self.nin = positive_int("nin", nin)
        count = positive_int("pieces", pieces)
        rng = make_rng(seed)
        self.pieces = [Neuron(self.nin, "identity", init=init, seed=rng, fan_out=fan_out)
                       for _ in range(count)]
        self.index = None

    def forward(self, x: Sequence[Value | float]) -> Value:
        inputs = as_inputs(x, self.nin, "MaxoutUnit")
        with self._scope:
            sums = [weighted_sum(piece.w, inputs, piece.b) for piece in self.pieces]
            best = sums[0]
            for z in sums[1:]:
                best = autograd.maximum(best, z)
            return best

    def extra_repr(self) -> str:
        return f"nin={self.nin}, pieces={len(self.pieces)}"

    _repr_children = False


@register_module
class Maxout(ScopedByIndex, Module):
    """A layer of ``nout`` maxout units (docs/course.md, section 5): max(w1 . x + b1, w2 . x + b2) each.

    Example:
        >>> layer = Maxout(3, 4, pieces=2, seed=0)
        >>> len(layer([1.0, 2.0, 3.0])), len(layer.parameters())  # 4 units x 2 pieces x (3 + 1)
        (4, 32)
    """

    scope_kind = "layer"

    def __init__(self, nin: int, nout: int, pieces: int = 2, *, init: InitSpec = "uniform",
                 seed: Seed = None) -> None:
        self.nin = positive_int("nin", nin)
        self.nout = positive_int("nout", nout)
        rng = make_rng(seed)
        self.units = [MaxoutUnit(self.nin, pieces, init=init, seed=rng, fan_out=self.nout)
                      for _ in range(self.nout)]
        for j, unit in enumerate(self.units):
            unit.index = j
        self.index = None

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        inputs = as_inputs(x, self.nin, "Maxout")
        with self._scope:
            return [unit(inputs) for unit in self.units]

    config_fields = ("nin", "nout", "pieces")

    def config(self) -> dict[str, Any]:
        return {"type": "Maxout", "nin": self.nin, "nout": self.nout, "pieces": len(self.units[0].pieces)}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, nout = positive_int("nin", config["nin"]), positive_int("nout", config["nout"])
        return nout * positive_int("pieces", config["pieces"]) * (nin + 1)

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, pieces={len(self.units[0].pieces)}"

    _repr_children = False
